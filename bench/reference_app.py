"""The speed reference: a Streamlit app that draws one plain plotly heatmap of 240 × 300 cells.

``bench/app.py`` loads it side by side with the Heatmap page; the ratio of the two first
paints is what the speed goal is stated in (it cancels out how busy the machine is).
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

z = np.random.default_rng(0).random((240, 300))
st.plotly_chart(go.Figure(go.Heatmap(z=z)), key="reference")
