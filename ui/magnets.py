"""The Accuracy page's "Do magnets actually pull price here?" section (not a page itself).

Kept apart from ``pages/accuracy.py`` so that page's scoring sections and this one change
independently; the page calls :func:`magnet_section` once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from liqcore.analysis.magnets import (
    MAX_DISTANCE_PCT,
    MIN_DISTANCE_PCT,
    MIN_TOUCHES,
    MagnetTest,
    magnet_study,
)
from liqcore.model import ModelParams
from ui import cache, data, state
from ui.state import default
from ui.widgets import fact

#: How far back the test looks, and one book per this many hours in it.
LOOK_BACK = "3mo"
COLUMN_HOURS = 2


@st.cache_data(max_entries=8, ttl=600, show_spinner="Testing the magnets…")
def _magnet_test(
    fingerprint: str,
    params: ModelParams,
    horizon_hours: float,
    _choice: state.DataChoice,
    _market: pd.DataFrame,
) -> MagnetTest:
    # ``fingerprint`` stands for the market (left out of the key with the underscores).
    est = cache.cached_estimate(_choice, params, LOOK_BACK, _market)
    return magnet_study(est, _market, horizon_hours)


@st.fragment
def magnet_section() -> None:
    """How often price reached the largest cluster vs the base rate, on the data in view."""
    st.header("Do magnets actually pull price here?", anchor=False)
    choice = state.data_choice()
    loaded = data.load_for(choice, LOOK_BACK)
    history, start, short = cache.window(loaded.frame, LOOK_BACK)
    hours = (history.index[-1] - start).total_seconds() / 3600
    span = f"all {hours / 24:.0f} days it has" if short else f"its last {hours / 24:.0f} days"
    st.caption(
        "Traders say price is drawn to big liquidation clusters. Tested on the data chosen in "
        f"the sidebar, over {span}: every {COLUMN_HOURS} hours, take the largest "
        f"estimated cluster on each side of price ({MIN_DISTANCE_PCT:g}% to "
        f"{MAX_DISTANCE_PCT:g}% away) and ask whether price reached it within the horizon; "
        "the base rate is how often price reached the level **as far away on the other "
        "side**. Cases in the last two horizons are left out (no full horizon after a touch "
        "yet). "
        "Days are resampled whole for the 95% interval. Published work finds the "
        "effect small and often within noise: here are the numbers, whichever way they fall."
    )
    horizon = st.segmented_control(
        "Horizon (hours)",
        ["8", "24", "72"],
        default=default("mh"),
        key="mh",
        bind="query-params",
        required=True,
    )
    if loaded.error:
        st.warning(f"Could not load {choice.label}: {loaded.error}. Testing the simulated market.")
    params = state.model_params_from_state(
        time_bins=max(int(hours // COLUMN_HOURS), 10), price_bins=240
    )
    result = _magnet_test(
        cache.data_fingerprint(history), params, float(horizon), choice, loaded.frame
    )
    st.markdown(result.verdict)
    if result.events == 0:
        return
    cols = st.columns(4)
    fact(
        cols[0],
        f"Reached the largest cluster within {horizon} h",
        f"{result.cluster_rate:.0%}",
        f"{result.events:,} cases over {result.days} days",
    )
    fact(
        cols[1],
        "Reached the mirror level (base rate)",
        f"{result.mirror_rate:.0%}",
        "as far away, other side",
    )
    fact(
        cols[2],
        "Difference (95% interval)",
        f"{100 * result.difference:+.1f} pts",
        f"{100 * result.difference_low:+.1f} to {100 * result.difference_high:+.1f}",
    )
    mirror = result.move_label(cluster=False, count=False)  # short: the pill is narrow
    if result.mirror_touches:
        mirror += f" ({result.mirror_touches:,})"
    cols[3].metric(
        f"Move {horizon} h after a cluster touch",
        result.move_label(count=False),
        f"{result.touches_label()} · empty: {mirror}",
        delta_color="off",
        delta_arrow="off",
        help="Mean percent move from the touched level to the close one horizon later, in "
        "the direction price was going: positive = it carried on (a cascade), negative = it "
        "turned back. Under it: the touches behind it, then the same after touching the "
        "empty (mirror) levels, with their touches in brackets. A wick that touches a level "
        "often closes back inside, which pulls both "
        f"figures the same way: compare them, and only with at least {MIN_TOUCHES} touches "
        "of each.",
    )
    st.caption(
        "The clusters are estimates, and the windows overlap, so the cases are not "
        "independent beyond what resampling whole days allows for. Code: `liqcore/magnets.py`."
    )
