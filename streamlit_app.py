"""Liquidation Heatmap Studio: the router. Page config, navigation, the shared sidebar, footer."""

from pathlib import Path

import streamlit as st

from liqcore.controls import SOURCES
from ui import state, widgets
from ui.frame import first_page_view, first_paint_done, first_paint_sensor, plotly_extras
from ui.widgets import bound

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
        source = bound(
            st.selectbox,
            "Market data",
            "src",
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
            bound(
                st.selectbox,
                "Coin",
                "coin",
                help="Real hourly data shipped with the app (offline), with reported liquidations.",
            )
        elif SOURCES[source] not in ("sim", "csv"):
            bound(st.selectbox, "Symbol", "sym")
        if SOURCES[source] == "sim":
            # A popover: closed, it mounts none of its six widgets in the browser (a
            # closed expander mounts them all), which the first paint would wait on.
            with st.popover("Simulation settings", icon=":material/tune:", width="stretch"):
                simulation_settings()
        st.caption(state.data_choice().label)


def simulation_settings() -> None:
    """The simulated market's seed, history, volatility, crowd and regime."""
    bound(st.number_input, "Seed", "seed", step=1, help="Same seed, same market.")
    bound(st.select_slider, "History (days)", "days")
    bound(st.slider, "Volatility (annualised, realised)", "vol", step=0.05, format="%.2f")
    bound(
        st.segmented_control,
        "Leverage mix of the crowd",
        "crowd",
        required=True,
        help="Cautious: mostly 5-10x. Degen: half of the notional at 50-100x.",
    )
    bound(st.slider, "Crowd bias (short … long)", "bias", step=0.05)
    bound(
        st.segmented_control,
        "Market regime",
        "regime",
        required=True,
        help="Typical: like BTC on an ordinary year. Calm: less leverage, quieter "
        "volatility. Stress: leverage piles up, then a cascade.",
    )


def main() -> None:
    widgets.show_url_notices()
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
    first_heatmap = first_page_view(page.url_path) and page.url_path == "heatmap"
    st.set_page_config(initial_sidebar_state="collapsed" if first_heatmap else "auto")
    complete = first_paint_done()
    try:
        page.run()
    finally:
        if complete:
            # After the page, not before: the chart's message then leaves first, and the
            # browser fetches plotly.js before the sidebar widgets' code. The page reads
            # the data choice through ui.state.state_value, so it needs no widget drawn
            # first; ``finally`` keeps the data choice on screen when a page fails, so
            # the user can pick other data.
            sidebar()
        else:
            # The session's first page: the page drew what comes first (the Heatmap page
            # its chart); once the browser has drawn it, it asks for the rest, sidebar
            # included (ui.frame.first_paint_done).
            first_paint_sensor()
    if complete:
        widgets.footer()
        # Not on the first run: its chart is drawn first, the extras catch up with it.
        plotly_extras()


main()
