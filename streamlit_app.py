"""Liquidation Heatmap Studio: the app's router (pages come with the app issue)."""

import streamlit as st

st.set_page_config(page_title="Liquidation Heatmap Studio", page_icon="🔥", layout="wide")
st.title("Liquidation Heatmap Studio")
st.write("The app is being built; the engine lives in `liqcore`.")
