"""Liquidations: USD liquidated per period, longs and shorts, with price and a momentum reading."""

import pandas as pd
import streamlit as st

from liqcore.analysis import readings, realized
from liqcore.figures.liquidations import comparison_figure
from liqcore.figures.theme import format_usd
from liqcore.market import bar_interval
from liqcore.model import ModelParams
from liqcore.real import PROVENANCE
from ui import cache, data, recorded, state, widgets
from ui.frame import ensure_app_frame
from ui.state import default
from ui.widgets import bound

#: Source label of the real example's liquidations.
REAL_LABEL = "Reported by Hyperliquid (daily)"

ensure_app_frame()
st.title("Liquidations", anchor=False)
st.caption(
    "Positions force-closed per period: **longs** (red, forced sells) and **shorts** (green, "
    "forced buys), with the price over them. Every chart and number names its source."
)


def controls() -> tuple[str, str, str]:
    """Period, bar layout and how far to look back, all bound to the URL."""
    cols = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
    if state.data_choice().source == "real":
        # Hyperliquid's reported liquidations are daily totals: the control shows the days
        # drawn; the linked period stays in session state for the other sources.
        cols[0].segmented_control(
            "Period",
            ["1d"],
            default="1d",
            key="period_real",
            disabled=True,
            help="The real example's liquidations are daily totals, so the bars are days (UTC).",
        )
        period = str(st.session_state.get("period", default("period")))
    else:
        period = bound(
            cols[0].segmented_control,
            "Period",
            "period",
            required=True,
            help="Each bar sums the liquidations of one period (UTC).",
        )
    layout = bound(
        cols[1].segmented_control,
        "Bars",
        "bars",
        required=True,
        help="Mirrored: longs below zero, shorts above. Side by side: both upwards.",
    )
    lookback = bound(cols[2].selectbox, "Look back", "back")
    with cols[3]:
        widgets.share_view()
    return period, layout, lookback


def source_frames(
    market: pd.DataFrame, realized_estimate: pd.DataFrame, chosen: str
) -> dict[str, pd.DataFrame]:
    """Realized frames to show, by source label: the data's own (if any) first, then the model's."""
    frames = {}
    own = realized.realized_from_market(market)
    if chosen == "real" and market.attrs.get("source") == "real":
        # The real example's liquidations are Hyperliquid's daily totals, beside the bars.
        coin = state.data_choice().symbol
        daily = data.real_example_reported(coin).loc[market.index[0] :]
        frames[REAL_LABEL] = daily
        st.caption(f":material/public: {PROVENANCE}")
    covered = market.attrs.get("covered_from")
    if own is not None and covered is not None:
        # Exchange lists are short (OKX: its latest orders): show only what they cover.
        own = own.loc[pd.Timestamp(covered) :]
        st.caption(
            f":material/schedule: {realized.realized_source_label(market, chosen)} covers only "
            f"since {pd.Timestamp(covered):%Y-%m-%d %H:%M} UTC: the exchange publishes its "
            "latest liquidation orders, not a history."
        )
        if len(own) < 2:
            own = None
    if own is not None:
        frames[realized.realized_source_label(market, chosen)] = own
    elif not frames:
        st.info(
            "This data has no realized liquidations of its own, so only the model's estimate is "
            "shown.",
            icon=":material/info:",
        )
    frames[realized.ESTIMATE_LABEL] = realized_estimate
    return frames


def show_totals(per_period: dict[str, pd.DataFrame]) -> None:
    for label, frame in per_period.items():
        summary = realized.totals(frame)
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"Source:  \n**{label}**", width=180)
            metrics = st.columns(3)
            metrics[0].metric("Longs liquidated", format_usd(summary["long_usd"]))
            metrics[1].metric("Shorts liquidated", format_usd(summary["short_usd"]))
            ratio = summary["long_short_ratio"]
            metrics[2].metric(
                "Long/short ratio",
                "n/a" if ratio is None else f"{ratio:.2f}",
                help="USD of longs liquidated per USD of shorts liquidated in the window.",
            )


def show_largest(per_period: dict[str, pd.DataFrame]) -> None:
    st.subheader("Largest bars", anchor=False)
    cols = st.columns(len(per_period))
    for col, (label, frame) in zip(cols, per_period.items(), strict=True):
        col.caption(f"Source: **{label}**")
        table = realized.largest_bars(frame, n=5)
        if table.empty:
            col.info("Nothing was liquidated in this window.")
            continue
        col.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "time": st.column_config.DatetimeColumn("Start (UTC)", format="MMM D, HH:mm"),
                "side": st.column_config.TextColumn("Side"),
                "usd": st.column_config.NumberColumn("USD", format="compact"),
                "price": st.column_config.NumberColumn("Close", format="%,.2f"),
                "share_pct": st.column_config.NumberColumn(
                    "Share", format="%.1f%%", help="Share of all liquidations in the window"
                ),
            },
        )


@st.fragment
def liquidations_view() -> None:
    """Controls, chart and numbers rerun together, without rerunning the rest of the page."""
    period, layout, lookback = controls()
    choice = state.data_choice()
    market, notes = data.market_for(choice, lookback)
    for note in notes:
        st.info(note, icon=":material/info:")
    _, start, coverage = cache.window(market, lookback)
    if coverage:
        st.info(coverage, icon=":material/history:")
    shown = market.loc[start:]
    if len(shown) < 2:
        st.warning(
            f"The last {lookback} holds fewer than two bars of data: look further back.",
            icon=":material/warning:",
        )
        return
    try:
        params = state.model_params_from_state()
    except ValueError as exc:
        st.error(f"These model assumptions cannot be used: {exc}. Showing the defaults.")
        params = ModelParams(time_bins=300, price_bins=240)
    est = cache.cached_estimate(choice, params, lookback, market)
    for warning in est.warnings:
        st.warning(warning)

    interval = bar_interval(market)
    drawn, period_note = realized.choose_period(
        period, interval, shown.index[-1] - shown.index[0] + interval
    )
    if choice.source == "real" and market.attrs.get("source") == "real":
        drawn, period_note = (
            "1d",
            (
                "Hyperliquid reports liquidations as daily totals, so the bars are days (UTC) and "
                "the estimate is summed per day beside them."
            ),
        )
    if period_note:
        st.info(period_note, icon=":material/bar_chart:")
    # Live exchanges: what the recorder caught from the exchange's feed (pages/recorded.py).
    recorded.recorded_section(choice, shown, est.realized, drawn, layout, lookback)
    try:
        per_period = {
            label: realized.liquidations_by_period(
                frame.loc[start:], shown["close"], drawn, drop_partial_first=True
            )
            for label, frame in source_frames(shown, est.realized, choice.source).items()
        }
    except ValueError as exc:
        st.error(f"The liquidation data cannot be shown: {exc}")
        return
    if any(frame.empty for frame in per_period.values()):
        st.warning(
            f"No whole {drawn} period in the last {lookback}: choose a shorter period or look "
            "further back.",
            icon=":material/warning:",
        )
        return
    if all(realized.totals(frame)["total_usd"] <= 0 for frame in per_period.values()):
        st.info(
            f"Nothing was liquidated in the last {lookback} ({', '.join(per_period)}).",
            icon=":material/info:",
        )
        return

    # Two lines: a plotly title does not wrap, and a phone is ~360 px wide.
    title = (
        f"Liquidations per {drawn} · last {lookback}"
        f"<br><sup>{data.shown_label(choice, market)}</sup>"
    )
    fig = comparison_figure(
        per_period, layout=layout, title=title, uirevision=f"{choice}-{lookback}-{drawn}"
    )
    st.plotly_chart(fig, key="liquidations_chart", config={"displaylogo": False})
    primary, primary_frame = next(iter(per_period.items()))
    if realized.ESTIMATE_LABEL in per_period and primary != realized.ESTIMATE_LABEL:
        fit = realized.agreement(primary_frame, per_period[realized.ESTIMATE_LABEL])
        parts = [
            f"{fit[f'{side}_ratio']:.0%} of the {side}s"
            for side in ("long", "short")
            if fit[f"{side}_ratio"] is not None
        ]
        if fit["correlation"] is not None:
            parts.append(f"per-bar correlation {fit['correlation']:.2f}")
        if parts:
            st.caption(f"How close the estimate came to {primary}: {', '.join(parts)}.")

    st.info(
        readings.momentum_hint(primary_frame, source_label=primary),
        icon=":material/speed:",
    )
    show_totals(per_period)
    show_largest(per_period)


liquidations_view()
