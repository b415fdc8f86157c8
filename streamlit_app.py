"""Liquidation Heatmap Studio: the router. Page config, navigation, the shared sidebar, footer."""

from pathlib import Path

import streamlit as st

from liqcore.view_state import CONTROLS, SOURCES
from pages import common
from pages.common import default

st.set_page_config(
    page_title="Liquidation Heatmap Studio",
    # A local file: an emoji or material icon would be fetched from a CDN, which fails offline.
    page_icon=str(Path(__file__).parent / ".streamlit" / "icon.png"),
    layout="wide",
)


def sidebar() -> None:
    """The data choice and its settings; every value is bound to the URL."""
    with st.sidebar:
        st.header("Data", divider="orange")
        source = st.selectbox(
            "Market data",
            list(SOURCES),
            index=list(SOURCES).index(default("src")),
            key="src",
            bind="query-params",
            help="The simulated market runs offline and knows the true positions.",
        )
        if SOURCES[source] == "csv":
            st.file_uploader(
                "Your market data (CSV or Parquet)",
                type=["csv", "parquet", "txt"],
                key="upload",
                help="Columns: time, open, high, low, close, volume, open_interest (USD); "
                "optional taker_buy_volume, long_short_ratio, funding_rate, "
                "realized_long_usd, realized_short_usd. See the README.",
            )
        if SOURCES[source] == "real":
            st.selectbox(
                "Coin",
                CONTROLS["coin"].options,
                index=0,
                key="coin",
                bind="query-params",
                help="Real hourly data shipped with the app (offline), with reported liquidations.",
            )
        elif SOURCES[source] not in ("sim", "csv"):
            st.selectbox("Symbol", CONTROLS["sym"].options, index=0, key="sym", bind="query-params")
        if SOURCES[source] == "sim":
            with st.expander("Simulation settings", expanded=False):
                st.number_input(
                    "Seed",
                    min_value=0,
                    max_value=9999,
                    value=default("seed"),
                    step=1,
                    key="seed",
                    bind="query-params",
                    help="Same seed, same market.",
                )
                st.select_slider(
                    "History (days)",
                    CONTROLS["days"].options,
                    value=default("days"),
                    key="days",
                    bind="query-params",
                )
                st.slider(
                    "Volatility (annualised, realised)",
                    0.2,
                    1.5,
                    value=default("vol"),
                    step=0.05,
                    key="vol",
                    bind="query-params",
                    format="%.2f",
                )
                st.segmented_control(
                    "Leverage mix of the crowd",
                    list(common.CROWDS),
                    default=default("crowd"),
                    key="crowd",
                    bind="query-params",
                    required=True,
                    help="Cautious: mostly 5-10x. Degen: half of the notional at 50-100x.",
                )
                st.slider(
                    "Crowd bias (short … long)",
                    -0.5,
                    0.5,
                    value=default("bias"),
                    step=0.05,
                    key="bias",
                    bind="query-params",
                )
                st.segmented_control(
                    "Market regime",
                    CONTROLS["regime"].options,
                    default=default("regime"),
                    key="regime",
                    bind="query-params",
                    required=True,
                    help="Typical: like BTC on an ordinary year. Calm: less leverage, quieter "
                    "volatility. Stress: leverage piles up, then a cascade.",
                )
        st.caption(common.data_choice().label)


def main() -> None:
    common.show_url_notices()
    pages = [
        st.Page("pages/learn.py", title="Learn", icon=":material/school:", default=True),
        st.Page("pages/heatmap.py", title="Heatmap", icon=":material/local_fire_department:"),
        st.Page("pages/liquidations.py", title="Liquidations", icon=":material/bar_chart:"),
        st.Page("pages/accuracy.py", title="Accuracy", icon=":material/verified:"),
    ]
    page = st.navigation(pages)
    # The Heatmap page as the first page of a session (a shared link) opens with the sidebar
    # folded, so the chart is as wide as the window; later visits never take the sidebar
    # away (Streamlit re-applies the initial state when a page sets it on each visit).
    first_heatmap = common.first_page_view(page.url_path) and page.url_path == "heatmap"
    st.set_page_config(initial_sidebar_state="collapsed" if first_heatmap else "auto")
    sidebar()
    page.run()
    common.footer()


main()
