"""Heatmap: estimated liquidation levels over time, under candles, with the liquidation map."""

import pandas as pd
import streamlit as st

from liqcore.analysis.book import book_summary, magnet_cells, magnet_table
from liqcore.analysis.indicators import RSI_PERIOD, available_indicators
from liqcore.controls import LEVERAGE_LABELS
from liqcore.figures.heatmap import HEAT_COLUMNS
from liqcore.figures.theme import format_usd
from liqcore.market import has_realized
from liqcore.model import Estimate, ModelParams, assumptions_table
from ui import cache, data, frame, state, widgets
from ui.frame import ensure_app_frame
from ui.widgets import bound, fact

ensure_app_frame()
# A first visit folds the sidebar away (the router: streamlit_app.py), not every visit.
st.title("Liquidation heatmap", anchor=False)
st.caption(
    "Where leveraged positions would be force-closed, **estimated** from price, volume and open "
    "interest. Bright = more USD at risk. Levels below price are longs, above are shorts."
)
# A session's first run draws what is above the chart and the chart, the rest once the
# browser has drawn it (ui.frame.first_paint_done): every element mounted meanwhile delays
# the chart, and nothing above it may arrive later (the chart would jump down).
WHOLE = frame.first_paint_done()


def controls(assumptions: st.delta_generator.DeltaGenerator) -> None:
    """The view's controls (all bound to the URL), drawn after the chart so it comes first.

    The page reads their values before they are drawn (:func:`ui.state.state_value`:
    the session's value, else the link's, else the default), which is what they show.
    """
    top = st.columns([3, 3, 2], vertical_alignment="bottom")
    bound(top[0].select_slider, "Timeframe", "tf")
    tiers = bound(
        top[1].pills,
        "Leverage tiers",
        "tiers",
        selection_mode="multi",
        help="Positions at these leverages are drawn. Weights are under Model assumptions.",
    )
    bound(top[2].segmented_control, "Side", "side", required=True)
    if not tiers:
        st.warning("No leverage tier selected: choose at least one. Showing all tiers meanwhile.")
    bound(
        st.pills,
        "Indicators under the candles",
        "ind",
        selection_mode="multi",
        help=f"RSI({RSI_PERIOD}) of the data's bars, funding (percent per funding period), "
        "open interest (USD) and the long/short account ratio, each when the data has it.",
    )
    row = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    bound(
        row[0].slider,
        "Colour cap (percentile)",
        "cap",
        step=0.5,
        help="Colours saturate at this percentile, so one huge cluster does not hide the rest.",
    )
    bound(row[1].segmented_control, "Colour scale", "scale", required=True)
    bound(
        row[2].number_input,
        "Min cluster size ($M)",
        "minc",
        step=1.0,
        help="Clusters smaller than this are left out of the magnet-zone table.",
    )
    with row[3]:
        widgets.share_view()
    with assumptions:
        assumption_controls()


def assumption_controls() -> None:
    """The model's assumptions: tier weights, maintenance margin, split, opening, calibration."""
    st.caption(
        "Every assumption of the estimate. The model's full description is in "
        "`liqcore/model.py`; the Learn page explains the ideas."
    )
    cols = st.columns(len(LEVERAGE_LABELS))
    for col, label in zip(cols, LEVERAGE_LABELS, strict=True):
        bound(col.slider, f"Weight {label}", f"w{label[:-1]}", step=0.01)
    cols = st.columns(3)
    bound(cols[0].number_input, "Maintenance margin (%)", "mmr", step=0.05)
    bound(
        cols[1].selectbox,
        "Long/short split",
        "split",
        help="50/50: every contract has a long and a short side.",
    )
    bound(
        cols[2].selectbox,
        "New positions from",
        "opening",
        help="Rising open interest, traded volume, or both (default).",
    )
    bound(
        st.toggle,
        "Use calibrated mix",
        "calib",
        help="Fit the leverage-tier weights to the liquidations the data reports (on the "
        "simulated market: the true ones), on the first 60% of the last 30 days, and "
        "score the fit on the rest. Needs realized_long_usd / realized_short_usd.",
    )
    with st.expander("Every assumption", icon=":material/list:"):  # popovers do not nest
        try:
            st.dataframe(assumptions_table(state.model_params_from_state()))
        except ValueError as exc:
            st.caption(f"The assumptions above cannot be used: {exc}")


def apply_calibration(market, params: ModelParams, box=None) -> ModelParams:
    """The calibrated leverage mix, shown with its fit and test scores in ``box``, when asked for.

    Without a ``box`` (a first paint: the assumptions are not drawn yet) nothing is shown;
    the chart uses the same mix either way.
    """
    if not state.state_value("calib"):
        return params
    if not has_realized(market):
        if box is not None:
            box.info(
                "This data has no reported liquidations (realized_long_usd / "
                "realized_short_usd), so there is nothing to calibrate against: using the "
                "weights above."
            )
        return params
    try:
        result = cache.calibration_for(market, params)
    except ValueError as exc:
        if box is not None:
            box.warning(f"Calibration is not possible here: {exc}. Using the weights above.")
        return params
    if box is not None:
        mix = " · ".join(
            f"{lev:g}x {w:.0%}" for lev, w in zip(result.tiers, result.weights, strict=True)
        )
        box.markdown(
            f"**Calibrated mix:** {mix} (fitted up to {result.split_time:%Y-%m-%d %H:%M} UTC)"
        )
        box.dataframe(
            result.scores.rename_axis("rank correlation with reported liquidations"),
            column_config={c: st.column_config.NumberColumn(format="%.3f") for c in result.scores},
        )
        box.caption(
            "The test row was not used for fitting: if the calibrated mix wins only in the fit "
            "row, it is overfitting."
        )
    return result.params(params)


@st.fragment
def heatmap_view() -> None:
    """Chart, controls and tables rerun together, without rerunning the rest of the page.

    The chart is drawn before the controls: the browser starts on it (and on plotly.js)
    while the controls' code is still on its way.
    """
    value = state.state_value
    chart_box = st.container()
    if WHOLE:
        controls_box = st.container()
        # A popover, not an expander: a closed expander still mounts its ten widgets in the
        # browser (measured: they are in the page), a closed popover mounts nothing, so
        # first paint and every redraw skip them until the user opens the assumptions.
        assumptions = st.popover("Model assumptions", icon=":material/tune:")
        assumptions_box, calibration_box = assumptions.container(), assumptions.container()
    else:
        assumptions_box = calibration_box = None
    timeframe, side, cap = value("tf"), value("side"), float(value("cap"))
    log_scale, min_usd = value("scale") == "Log", float(value("minc")) * 1e6
    choice = state.data_choice()
    with chart_box:
        market, notes = data.market_for(choice, timeframe)
        for note in notes:
            st.info(note, icon=":material/info:")
    try:
        params = state.model_params_from_state(time_bins=HEAT_COLUMNS)
    except ValueError as exc:
        chart_box.error(f"These model assumptions cannot be used: {exc}. Showing the defaults.")
        params = ModelParams(time_bins=HEAT_COLUMNS, price_bins=240)
    params = apply_calibration(market, params, calibration_box)
    history, _, coverage = cache.window(market, timeframe)
    if coverage:
        chart_box.info(coverage, icon=":material/history:")
    est = cache.cached_estimate(choice, params, timeframe, market)
    for warning in est.warnings:
        chart_box.warning(warning)
    others = cache.clusters_by_timeframe(choice, params, market, timeframe, min_usd)
    wanted = list(value("ind"))
    missing = [name for name in wanted if name not in available_indicators(history)]
    if missing:
        chart_box.caption(
            f":material/info: This data has no {', '.join(missing)}: "
            f"{'that panel is' if len(missing) == 1 else 'those panels are'} left out."
        )
    fig = cache.cached_heatmap_figure(
        est,
        history,
        params,
        side=side,
        cap_percentile=cap,
        log_scale=log_scale,
        title=f"{data.shown_label(choice, market)} · {timeframe}",
        uirevision=f"{choice}-{timeframe}",
        indicators=tuple(wanted),
        confluence=others.confluence,
    )
    chart_box.plotly_chart(fig, key="heatmap_chart", config={"displaylogo": False})
    if not WHOLE:
        frame.drawn_first("heatmap_chart")
        return  # the rest once the browser has drawn the chart
    with controls_box:
        controls(assumptions_box)

    book_metrics(est)

    st.subheader("Magnet zones", anchor=False)
    st.caption(
        "The largest contiguous clusters of estimated liquidation levels on each side of price. "
        "Price often gets pulled towards big clusters, but nothing here is a prediction "
        "(the Accuracy page measures whether it happened on this data). **Timeframes** lists "
        f"the books ({', '.join(others.clusters)}) that have the zone too: traders read a zone "
        "seen on several timeframes as a stronger magnet."
    )
    table = magnet_table(est, n=5, min_usd=min_usd, others=others.clusters)
    if table.empty:
        st.info("No cluster is larger than the minimum cluster size.")
    else:
        st.table(magnet_cells(table), hide_index=True, border="horizontal")
    st.download_button(
        "Download the levels (CSV)",
        lambda: est.levels.to_csv(index=False).encode(),  # built only when clicked
        file_name=f"liquidation_levels_{choice.source}_{timeframe}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    what_if_view(est, history)


def book_metrics(est: Estimate) -> None:
    """Price, the nearest cluster on each side, and the USD a ±2 % and ±5 % move liquidates."""
    summary = book_summary(est)
    cols = st.columns(5)
    cols[0].metric("Price", f"{summary['price']:,.2f}")
    for col, side_name, word in (
        (cols[1], "long", "Nearest long cluster"),
        (cols[2], "short", "Nearest short cluster"),
    ):
        level = summary[f"nearest_{side_name}_price"]
        if level is None:
            col.metric(word, "none")
        else:
            col.metric(
                word,
                f"{level:,.2f}",
                f"{summary[f'nearest_{side_name}_pct']:+.2f}%",
                delta_color="off",
            )
    for col, pct in ((cols[3], 2), (cols[4], 5)):
        longs, shorts = summary[f"long_usd_{pct}pct"], summary[f"short_usd_{pct}pct"]
        fact(
            col,
            f"At risk within ±{pct}% (est.)",
            format_usd(longs + shorts),
            f"L {format_usd(longs)} · S {format_usd(shorts)}",
            help=f"USD of longs (L) a {pct}% fall and of shorts (S) a {pct}% rise would liquidate.",
        )


@st.fragment
def what_if_view(est: Estimate, history: pd.DataFrame) -> None:
    """ "What if price moves X %?" (its own fragment: the slider reruns only this part)."""
    st.subheader("What if price moves?", anchor=False)
    move = bound(
        st.slider,
        "Price moves (%)",
        "move",
        step=0.5,
        format="%+.1f%%",
        help="A fall reaches the longs below price, a rise the shorts above.",
    )
    result, figure = cache.cached_what_if(est, history, est.params, move)
    cols = st.columns(4)
    fact(
        cols[0],
        f"A {abs(move):g}% fall liquidates (est.)",
        format_usd(result.fall_usd),
        "longs",
    )
    fact(
        cols[1],
        f"A {abs(move):g}% rise liquidates (est.)",
        format_usd(result.rise_usd),
        "shorts",
    )
    last = result.rounds.iloc[-1]
    fact(
        cols[2],
        "The cascade could add (illustration)",
        format_usd(result.cascade_usd),
        f"{len(result.rounds) - 1} round(s)" if len(result.rounds) > 1 else "no further push",
    )
    fact(
        cols[3],
        "Price could end at (illustration)",
        f"{float(last['price_to']):,.2f}",
        f"{float(last['move_pct']):+.2f}%",
    )
    st.plotly_chart(figure, key="what_if_chart", config={"displaylogo": False})
    liquidity = result.liquidity
    low, high = result.book_reach_pct
    st.caption(
        "**An illustration, not a forecast.** The move liquidates the estimated levels it "
        "crosses; those forced orders push price further by the square-root impact law "
        "(`liqcore/orderbook.py`, the depth model of the simulated market): push = strength × "
        "daily volatility × √(USD liquidated / daily volume), round after round until nothing "
        f"new is reached. Assumed here: strength {result.strength:g}, daily volume "
        f"{format_usd(liquidity.daily_volume_usd)} and daily volatility "
        f"{liquidity.daily_volatility:.2%} (both from the last 7 days of this data). A real "
        "book can be far thinner or thicker than that average. The book read here reaches "
        f"{low:+.0f}% to {high:+.0f}% of price, beyond the chart's price range"
        + (
            f": **this move goes past it, so levels beyond {low:+.0f}% / {high:+.0f}% are not "
            "counted.**"
            if result.beyond_book
            else "."
        )
    )


heatmap_view()
