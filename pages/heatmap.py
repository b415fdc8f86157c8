"""Heatmap: estimated liquidation levels over time, under candles, with the liquidation map."""

import pandas as pd
import streamlit as st

from liqcore.indicators import RSI_PERIOD, available_indicators
from liqcore.learn import cascade_figure
from liqcore.model import Estimate, ModelParams, assumptions_table
from liqcore.view_state import CONTROLS, INDICATOR_NAMES, LEVERAGE_LABELS, TIMEFRAMES
from liqcore.views import (
    HEAT_COLUMNS,
    book_summary,
    format_usd,
    magnet_cells,
    magnet_table,
)
from liqcore.whatif import what_if
from pages import common
from pages.common import default

common.ensure_app_frame()
# A first visit folds the sidebar away (the router: streamlit_app.py), not every visit.
st.title("Liquidation heatmap", anchor=False)
st.caption(
    "Where leveraged positions would be force-closed, **estimated** from price, volume and open "
    "interest. Bright = more USD at risk. Levels below price are longs, above are shorts."
)


def controls(assumptions: st.delta_generator.DeltaGenerator) -> None:
    """The view's controls (all bound to the URL), drawn after the chart so it comes first.

    The page reads their values before they are drawn (:func:`pages.common.state_value`:
    the session's value, else the link's, else the default), which is what they show.
    """
    top = st.columns([3, 3, 2], vertical_alignment="bottom")
    top[0].select_slider(
        "Timeframe", list(TIMEFRAMES), value=default("tf"), key="tf", bind="query-params"
    )
    tiers = top[1].pills(
        "Leverage tiers",
        LEVERAGE_LABELS,
        selection_mode="multi",
        default=list(default("tiers")),
        key="tiers",
        bind="query-params",
        help="Positions at these leverages are drawn. Weights are under Model assumptions.",
    )
    top[2].segmented_control(
        "Side",
        CONTROLS["side"].options,
        default=default("side"),
        key="side",
        bind="query-params",
        required=True,
    )
    if not tiers:
        st.warning("No leverage tier selected: choose at least one. Showing all tiers meanwhile.")
    st.pills(
        "Indicators under the candles",
        INDICATOR_NAMES,
        selection_mode="multi",
        default=list(default("ind")),
        key="ind",
        bind="query-params",
        help=f"RSI({RSI_PERIOD}) of the data's bars, funding (percent per funding period), "
        "open interest (USD) and the long/short account ratio, each when the data has it.",
    )
    row = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    row[0].slider(
        "Colour cap (percentile)",
        80.0,
        100.0,
        value=default("cap"),
        step=0.5,
        key="cap",
        bind="query-params",
        help="Colours saturate at this percentile, so one huge cluster does not hide the rest.",
    )
    row[1].segmented_control(
        "Colour scale",
        CONTROLS["scale"].options,
        default=default("scale"),
        key="scale",
        bind="query-params",
        required=True,
    )
    row[2].number_input(
        "Min cluster size ($M)",
        min_value=0.0,
        max_value=10_000.0,
        value=default("minc"),
        step=1.0,
        key="minc",
        bind="query-params",
        help="Clusters smaller than this are left out of the magnet-zone table.",
    )
    with row[3]:
        common.share_view()
    with assumptions:
        st.caption(
            "Every assumption of the estimate. The model's full description is in "
            "`liqcore/model.py`; the Learn page explains the ideas."
        )
        cols = st.columns(len(LEVERAGE_LABELS))
        for col, label in zip(cols, LEVERAGE_LABELS, strict=True):
            key = f"w{label[:-1]}"
            col.slider(
                f"Weight {label}",
                0.0,
                1.0,
                value=default(key),
                step=0.01,
                key=key,
                bind="query-params",
            )
        cols = st.columns(3)
        cols[0].number_input(
            "Maintenance margin (%)",
            0.0,
            5.0,
            value=default("mmr"),
            step=0.05,
            key="mmr",
            bind="query-params",
        )
        cols[1].selectbox(
            "Long/short split",
            CONTROLS["split"].options,
            index=0,
            key="split",
            bind="query-params",
            help="50/50: every contract has a long and a short side.",
        )
        cols[2].selectbox(
            "New positions from",
            CONTROLS["opening"].options,
            index=0,
            key="opening",
            bind="query-params",
            help="Rising open interest, traded volume, or both (default).",
        )
        st.toggle(
            "Use calibrated mix",
            value=default("calib"),
            key="calib",
            bind="query-params",
            help="Fit the leverage-tier weights to the liquidations the data reports (on the "
            "simulated market: the true ones), on the first 60% of the last 30 days, and "
            "score the fit on the rest. Needs realized_long_usd / realized_short_usd.",
        )
        with st.popover("Every assumption", icon=":material/list:"):
            try:
                st.dataframe(assumptions_table(common.model_params_from_state()))
            except ValueError as exc:
                st.caption(f"The assumptions above cannot be used: {exc}")


def apply_calibration(market, params: ModelParams, box) -> ModelParams:
    """The calibrated leverage mix, shown with its fit and test scores, when asked for."""
    if not common.state_value("calib"):
        return params
    if not common.has_reported_liquidations(market):
        box.info(
            "This data has no reported liquidations (realized_long_usd / realized_short_usd), "
            "so there is nothing to calibrate against: using the weights above."
        )
        return params
    try:
        result = common.calibration_for(market, params)
    except ValueError as exc:
        box.warning(f"Calibration is not possible here: {exc}. Using the weights above.")
        return params
    mix = " · ".join(
        f"{lev:g}x {w:.0%}" for lev, w in zip(result.tiers, result.weights, strict=True)
    )
    box.markdown(f"**Calibrated mix:** {mix} (fitted up to {result.split_time:%Y-%m-%d %H:%M} UTC)")
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
    value = common.state_value
    chart_box = st.container()
    controls_box = st.container()
    assumptions = st.expander("Model assumptions", icon=":material/tune:")
    assumptions_box, calibration_box = assumptions.container(), assumptions.container()
    timeframe, side, cap = value("tf"), value("side"), float(value("cap"))
    log_scale, min_usd = value("scale") == "Log", float(value("minc")) * 1e6
    choice = common.data_choice()
    with chart_box:
        market, notes = common.market_for(choice, timeframe)
        for note in notes:
            st.info(note, icon=":material/info:")
    try:
        params = common.model_params_from_state(time_bins=HEAT_COLUMNS)
    except ValueError as exc:
        chart_box.error(f"These model assumptions cannot be used: {exc}. Showing the defaults.")
        params = ModelParams(time_bins=HEAT_COLUMNS, price_bins=240)
    params = apply_calibration(market, params, calibration_box)
    history, _, coverage = common.window(market, timeframe)
    if coverage:
        chart_box.info(coverage, icon=":material/history:")
    est = common.cached_estimate(choice, params, timeframe, market)
    for warning in est.warnings:
        chart_box.warning(warning)
    others = common.clusters_by_timeframe(choice, params, market, timeframe, min_usd)
    wanted = list(value("ind"))
    missing = [name for name in wanted if name not in available_indicators(history)]
    if missing:
        chart_box.caption(
            f":material/info: This data has no {', '.join(missing)}: "
            f"{'that panel is' if len(missing) == 1 else 'those panels are'} left out."
        )
    fig = common.cached_heatmap_figure(
        est,
        history,
        params,
        side=side,
        cap_percentile=cap,
        log_scale=log_scale,
        title=f"{common.shown_label(choice, market)} · {timeframe}",
        uirevision=f"{choice}-{timeframe}",
        indicators=tuple(wanted),
        confluence=others.confluence,
    )
    chart_box.plotly_chart(fig, key="heatmap_chart", config={"displaylogo": False})
    with controls_box:
        controls(assumptions_box)

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
    cols[3].metric(
        "At risk within ±2% (est.)",
        format_usd(summary["long_usd_2pct"] + summary["short_usd_2pct"]),
        f"L {format_usd(summary['long_usd_2pct'])} · S {format_usd(summary['short_usd_2pct'])}",
        delta_color="off",
        delta_arrow="off",
        help="USD of longs (L) a 2% fall and of shorts (S) a 2% rise would liquidate.",
    )
    cols[4].metric(
        "At risk within ±5% (est.)",
        format_usd(summary["long_usd_5pct"] + summary["short_usd_5pct"]),
        f"L {format_usd(summary['long_usd_5pct'])} · S {format_usd(summary['short_usd_5pct'])}",
        delta_color="off",
        delta_arrow="off",
        help="USD of longs (L) a 5% fall and of shorts (S) a 5% rise would liquidate.",
    )

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


@st.fragment
def what_if_view(est: Estimate, history: pd.DataFrame) -> None:
    """ "What if price moves X %?" (its own fragment: the slider reruns only this part)."""
    st.subheader("What if price moves?", anchor=False)
    move = st.slider(
        "Price moves (%)",
        -20.0,
        20.0,
        value=default("move"),
        step=0.5,
        format="%+.1f%%",
        key="move",
        bind="query-params",
        help="A fall reaches the longs below price, a rise the shorts above.",
    )
    result = what_if(est, history, move)
    cols = st.columns(4)
    cols[0].metric(
        f"A {abs(move):g}% fall liquidates (est.)",
        format_usd(result.fall_usd),
        "longs",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric(
        f"A {abs(move):g}% rise liquidates (est.)",
        format_usd(result.rise_usd),
        "shorts",
        delta_color="off",
        delta_arrow="off",
    )
    last = result.rounds.iloc[-1]
    cols[2].metric(
        "The cascade could add (illustration)",
        format_usd(result.cascade_usd),
        f"{len(result.rounds) - 1} round(s)" if len(result.rounds) > 1 else "no further push",
        delta_color="off",
        delta_arrow="off",
    )
    cols[3].metric(
        "Price could end at (illustration)",
        f"{float(last['price_to']):,.2f}",
        f"{float(last['move_pct']):+.2f}%",
        delta_color="off",
        delta_arrow="off",
    )
    st.plotly_chart(
        cascade_figure(est.wide_levels, est.price, result.rounds),
        key="what_if_chart",
        config={"displaylogo": False},
    )
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
