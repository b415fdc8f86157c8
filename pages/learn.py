"""Learn: six short steps from "what is a liquidation" to reading the heatmap wisely.

Every figure is computed by :mod:`liqcore.figures.lessons` on a small simulated market that follows
the sidebar's simulation settings. Each step renders in a fragment, so touching one step
reruns only that step.
"""

import streamlit as st

from liqcore.analysis import lessons
from liqcore.analysis.realized import TRUE_LABEL
from liqcore.controls import LAYOUTS, LEVERAGE_LABELS
from liqcore.figures.lessons import (
    annotated_heatmap_figure,
    calculator_figure,
    cascade_figure,
    leverage_risk_figure,
    opening_figure,
)
from liqcore.figures.liquidations import liquidations_figure
from liqcore.figures.theme import format_usd
from liqcore.model import Estimate
from liqcore.orderbook import DEFAULT_STRENGTH, cascade, market_liquidity
from liqcore.simulate import SimulatedMarket
from ui import data, state
from ui.frame import ensure_app_frame
from ui.widgets import bound, fact

#: Days of the lessons' own simulated market: short, so the first page of the app is quick.
LESSON_DAYS = 14
OPENING_BARS = 12
STEPS = (
    "1 · Liquidation",
    "2 · Clusters",
    "3 · The heatmap",
    "4 · Magnets & cascades",
    "5 · Liquidation charts",
    "6 · Use it wisely",
)
CHART = {"displaylogo": False}


@st.cache_data(max_entries=4, show_spinner=False)
def lesson_estimate(
    seed: int, days: int, volatility: float, crowd: str, bias: float, regime: str = "Typical"
) -> Estimate:
    """The estimate steps 3 and 4 share."""
    return lessons.lesson_estimate(
        data.simulated(seed, days, volatility, crowd, bias, regime).market
    )


def sim_key() -> tuple[int, int, float, str, float, str]:
    """The sidebar's simulation settings on :data:`LESSON_DAYS`: the lessons' market."""
    choice = state.data_choice()
    return choice.seed, LESSON_DAYS, choice.volatility, choice.crowd, choice.bias, choice.regime


def check_yourself(key: str, question: str, options: list[str], answer: int, why: str) -> None:
    """A one-question quiz with feedback."""
    with st.container(border=True):
        pick = st.radio(f"**Check yourself.** {question}", options, index=None, key=key)
        if pick is None:
            return
        if pick == options[answer]:
            st.success(f"Right. {why}", icon=":material/check_circle:")
        else:
            st.warning("Not quite: have another look at the figure, then try again.", icon="🤔")


def go_to(step: str) -> None:
    st.session_state["learn_step"] = step


def step_nav(index: int) -> None:
    """Back / Next buttons under a step (outside its fragment: switching reruns the page)."""
    left, right = st.columns(2)
    if index > 0:
        left.button(
            f"Back: {STEPS[index - 1][4:]}",
            icon=":material/arrow_back:",
            key=f"learn_back_{index}",
            on_click=go_to,
            args=(STEPS[index - 1],),
        )
    if index < len(STEPS) - 1:
        right.button(
            f"Next: {STEPS[index + 1][4:]}",
            icon=":material/arrow_forward:",
            key=f"learn_next_{index}",
            type="primary",
            on_click=go_to,
            args=(STEPS[index + 1],),
        )
    else:
        right.page_link(
            "pages/heatmap.py",
            label="Now open the full heatmap",
            icon=":material/local_fire_department:",
        )


@st.fragment
def step_liquidation() -> None:
    st.markdown(
        "You put up **margin** and the exchange lends you the rest: at **10x leverage**, "
        "$1,000 of margin holds a $10,000 position. Losses come out of the margin. Before it "
        "runs out, the exchange closes the position for you: a **liquidation**. It happens when "
        "what is left falls to the **maintenance margin**, a small share of the position "
        "(often 0.4-1%)."
    )
    cols = st.columns([3, 3, 2, 2, 2], vertical_alignment="bottom")
    entry = bound(cols[0].number_input, "Entry price", "entry", step=100.0)
    leverage = bound(cols[1].slider, "Leverage", "lev", step=0.5, format="%gx")
    side = bound(cols[2].segmented_control, "Side", "pos", required=True)
    mmr_pct = cols[3].number_input(
        "Maint. margin (%)",
        min_value=0.0,
        max_value=5.0,
        value=0.4,
        step=0.1,
        key="learn_mmr",
        help="The share of the position that must stay as margin. Exchanges raise it for "
        "big positions.",
    )
    margin = cols[4].number_input(
        "Margin (USD)", min_value=1.0, value=1_000.0, step=100.0, key="learn_margin"
    )
    try:
        result = lessons.calculator(entry, leverage, side, mmr_pct / 100.0, margin_usd=margin)
    except ValueError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    out = st.columns(4)
    out[0].metric("Liquidation price", f"{result['liq_price']:,.2f}")
    fact(
        out[1],
        "Price move that liquidates",
        f"{result['distance_pct']:+.2f}%",
        "a fall" if result["side"] == "long" else "a rise",
    )
    out[2].metric("Position size", format_usd(result["position_usd"]))
    fact(
        out[3],
        "Lost if liquidated",
        format_usd(result["margin_lost_usd"]),
        f"{format_usd(result['loss_at_liq_usd'])} by the move + the rest as fee",
    )
    st.plotly_chart(calculator_figure(result), key="learn_calc_chart", config=CHART)
    with st.expander("The formula", icon=":material/function:"):
        st.markdown(
            "Isolated margin, fees and funding ignored: a long is liquidated at "
            "`entry × (1 − 1/L) / (1 − mmr)`, a short at `entry × (1 + 1/L) / (1 + mmr)`. "
            "That is where the margin left equals the maintenance margin."
        )
    check_yourself(
        "learn_q1",
        "You go from 10x to 20x. The liquidation price…",
        [
            "moves about twice as close to your entry",
            "stays where it was",
            "moves further away",
        ],
        0,
        "Half the margin for the same position: half the move wipes it out.",
    )


@st.fragment
def step_clusters(sim: SimulatedMarket) -> None:
    st.markdown(
        "Every bar, traders open positions at the price of the moment, at many leverages. Each "
        "one drops a liquidation level at a fixed distance: about **1% away at 100x**, 4% at "
        "25x, 10% at 10x. Longs' levels sit **below** their entry, shorts' **above**. When "
        "price stays in a range, levels from many entries pile up at similar prices: a "
        "**cluster**."
    )
    cols = st.columns([3, 2], vertical_alignment="bottom")
    upto = cols[0].slider(
        "Play the bars",
        1,
        OPENING_BARS,
        value=OPENING_BARS // 2,
        key="learn_bar",
        help="Slide to open more bars; each adds new levels.",
    )
    tiers = cols[1].pills(
        "Leverages shown",
        LEVERAGE_LABELS,
        selection_mode="multi",
        default=["25x", "50x", "100x"],
        key="learn_tiers",
        help="5x and 10x levels sit much further away: add them to see how far.",
    )
    if not tiers:
        st.info("Pick at least one leverage to draw its levels.", icon=":material/info:")
        return
    levels = lessons.opening_levels(sim, n_bars=OPENING_BARS)
    window = sim.market.iloc[-OPENING_BARS:]
    fig = opening_figure(levels, window, upto - 1, tiers=tiers)
    st.plotly_chart(fig, key="learn_open_chart", config=CHART)
    st.caption(
        "Lines: liquidation levels of positions opened in that bar (colour = leverage). "
        "✕: the price reached the level and the positions were liquidated. Right: what is "
        "still open, stacked by leverage; the tall bars are the clusters."
    )
    check_yourself(
        "learn_q2",
        "Price sits near 60,000 for hours and many 100x longs open. Where do their levels pile up?",
        ["Near 54,000, about 10% below", "Just under 60,000, about 1% below", "Above 60,000"],
        1,
        "A 100x long is liquidated by a move of about 1% against it, and a long loses on a fall.",
    )


@st.fragment
def step_heatmap(sim: SimulatedMarket, est: Estimate) -> None:
    st.markdown(
        "The heatmap draws all those levels over time, **estimated** from public data. "
        "**Below the price line: longs. Above: shorts.** A bright band that lasts means many "
        "positions still open there; a band that stops where the candles touched it was "
        "liquidated."
    )
    cols = st.columns([4, 2], vertical_alignment="bottom")
    labels = cols[0].pills(
        "Explain",
        ["axes", "colours", "candles", "longs", "shorts"],
        selection_mode="multi",
        default=["axes", "colours", "candles", "longs", "shorts"],
        key="learn_labels",
        format_func={
            "axes": "Axes",
            "colours": "Colour legend",
            "candles": "Candles",
            "longs": "A long cluster",
            "shorts": "A short cluster",
        }.get,
    )
    side = cols[1].segmented_control(
        "Positions",
        ["Both", "Longs", "Shorts"],
        default="Both",
        key="learn_side",
        required=True,
    )
    fig = annotated_heatmap_figure(est, sim.market, labels=labels, side=side)
    st.plotly_chart(fig, key="learn_heat_chart", config=CHART)
    st.caption(
        "The bars on the right are the map right now, by leverage; the curves add them up "
        "from the price outwards. The bottom panel is open interest (and funding)."
    )
    check_yourself(
        "learn_q3",
        "A bright band sits 4% below the price. Whose positions would be liquidated there?",
        ["Shorts", "Longs", "Both, equally"],
        1,
        "Below price are the longs: they lose when price falls.",
    )


@st.fragment
def step_cascade(sim: SimulatedMarket, est: Estimate) -> None:
    st.markdown(
        "A liquidation is a **forced market order**: liquidated longs sell, liquidated shorts "
        "buy. So a big cluster near price acts like a **magnet**: if price gets there, the "
        "forced orders push it further, sometimes into the next cluster, which pushes again: "
        "a **cascade**. Move the price and see what it would set off."
    )
    cols = st.columns(2)
    move = cols[0].slider(
        "Price moves (%)",
        -15.0,
        15.0,
        value=-5.0,
        step=0.5,
        format="%+.1f%%",
        key="learn_move",
    )
    strength = cols[1].slider(
        "How hard forced orders push",
        0.0,
        1.5,
        value=DEFAULT_STRENGTH,
        step=0.05,
        key="learn_impact",
        help="The constant of the square-root impact law: a forced order of 1% of a day's "
        "traded volume moves price by this times a tenth of a day's volatility. Measured "
        "values lie between about 0.5 and 1; 0 = a deep market that absorbs everything.",
    )
    liquidity = market_liquidity(sim.market)
    rounds = cascade(est.levels, est.price, move, liquidity, strength)
    first, last = rounds.iloc[0], rounds.iloc[-1]
    out = st.columns(3)
    fact(
        out[0],
        f"Liquidated by the {move:+.1f}% move (est.)",
        format_usd(float(first["usd"])),
        "longs" if move < 0 else "shorts" if move > 0 else None,
    )
    fact(
        out[1],
        "Cascade adds (illustration)",
        format_usd(float(last["cum_usd"] - first["usd"])),
        f"{len(rounds) - 1} round(s)" if len(rounds) > 1 else "no further push",
    )
    fact(
        out[2],
        "Price could end at",
        f"{float(last['price_to']):,.0f}",
        f"{float(last['move_pct']):+.1f}%",
    )
    st.plotly_chart(
        cascade_figure(est.levels, est.price, rounds), key="learn_cascade_chart", config=CHART
    )
    st.caption(
        "The cascade is an illustration: each round, the USD liquidated so far pushes price by "
        "the square-root impact law, strength × daily volatility × √(USD / daily volume), "
        f"with this market's daily volume {format_usd(liquidity.daily_volume_usd)} and daily "
        f"volatility {liquidity.daily_volatility:.1%} (the same model the simulated market's "
        "forced orders follow). Real order books absorb forced orders unevenly."
    )
    check_yourself(
        "learn_q4",
        "Why can one cluster's liquidations reach the next cluster?",
        [
            "Exchanges move the price to the next cluster on purpose",
            "Liquidated traders open new positions the other way",
            "Forced orders push price further in the direction it was already going",
        ],
        2,
        "Longs liquidated are sold at market, which pushes price down towards the next longs.",
    )


@st.fragment
def step_realized(sim: SimulatedMarket) -> None:
    st.markdown(
        "The heatmap shows what **could** be liquidated. A liquidation chart shows what "
        "**was**: <span style='color:#ef5350'>**red bars: longs liquidated**</span> (forced "
        "sells, on drops), <span style='color:#26a69a'>**green bars: shorts liquidated**</span> "
        "(forced buys, on rises).",
        unsafe_allow_html=True,
    )
    cols = st.columns([2, 2, 3], vertical_alignment="bottom")
    period = cols[0].segmented_control(
        "One bar per", ["1h", "4h"], default="1h", key="learn_period", required=True
    )
    layout = cols[1].segmented_control(
        "Layout", LAYOUTS, default=LAYOUTS[0], key="learn_layout", required=True
    )
    days = cols[2].slider("Days shown", 1, LESSON_DAYS, value=3, key="learn_days")
    per_period = lessons.recent_liquidations(sim.market, period, days=days)
    out = st.columns(2)
    out[0].metric("Longs liquidated", format_usd(float(per_period["long_usd"].sum())))
    out[1].metric("Shorts liquidated", format_usd(float(per_period["short_usd"].sum())))
    fig = liquidations_figure(
        per_period,
        source_label=TRUE_LABEL,
        layout=layout,
        title=f"Liquidations that already happened, last {days} day(s)",
        uirevision="learn-liquidations",
    )
    st.plotly_chart(fig, key="learn_realized_chart", config=CHART)
    st.caption(
        "These are the simulated market's own liquidations, known exactly. Exchanges publish "
        "only part of theirs, so real liquidation charts undercount."
    )
    check_yourself(
        "learn_q5",
        "A tall red bar appears while price drops 3% in an hour. What happened?",
        ["Many shorts were force-closed", "Many longs were force-closed", "New longs opened"],
        1,
        "Red = longs liquidated; a drop is what liquidates longs.",
    )


@st.fragment
def step_wisely(sim: SimulatedMarket) -> None:
    st.markdown(
        "- **Look at several timeframes.** A 12-hour view shows what is near; a week or a "
        "month shows the big clusters that have built up.\n"
        "- **Combine it** with funding, open interest and RSI: they tell you whether one side "
        "is crowded. Rising open interest with high funding means many new longs, whose levels "
        "will appear below price.\n"
        "- **It is not a prediction.** The levels are estimates: nobody outside an exchange "
        "sees real leverage, stops or added margin. Price can turn before a cluster or run "
        "through it.\n"
        "- **High leverage rarely survives.** See how often a position opened at a random "
        "moment of this market was liquidated:"
    )
    horizon = st.segmented_control(
        "Within",
        ["1h", "8h", "24h", "3d"],
        default="24h",
        key="learn_horizon",
        required=True,
    )
    hours = {"1h": 1, "8h": 8, "24h": 24, "3d": 72}[horizon]
    risk = lessons.leverage_risk(sim.market, hours=hours)
    st.plotly_chart(leverage_risk_figure(risk, hours), key="learn_risk_chart", config=CHART)
    check_yourself(
        "learn_q6",
        "The heatmap shows a big short cluster 3% above price. What does it tell you?",
        [
            "Price will go there next",
            "The shorts are wrong",
            "If price gets there, forced buying could speed the move up",
        ],
        2,
        "It is where fuel sits, not a forecast: price may never get there.",
    )


def main() -> None:
    st.title("Learn: liquidation heatmaps in six steps", anchor=False)
    choice = state.data_choice()
    note = (
        ""
        if choice.source == "sim"
        else " (the lessons always use a simulated market, whatever the data choice)"
    )
    st.caption(
        f"Short steps, each with something to try. Every figure comes from a {LESSON_DAYS}-day "
        f"simulated market with the sidebar's simulation settings{note}, where every position "
        "is known; the heatmap numbers are **estimates**, as they are on real data."
    )
    current = st.session_state.get("learn_step", STEPS[0])
    index = STEPS.index(current) if current in STEPS else 0
    st.progress((index + 1) / len(STEPS), text=f"Step {index + 1} of {len(STEPS)}")
    sim = data.simulated(*sim_key())
    est = lesson_estimate(*sim_key())
    tabs = st.tabs(STEPS, key="learn_step", on_change="rerun")
    steps = (
        step_liquidation,
        lambda: step_clusters(sim),
        lambda: step_heatmap(sim, est),
        lambda: step_cascade(sim, est),
        lambda: step_realized(sim),
        lambda: step_wisely(sim),
    )
    for i, (tab, show) in enumerate(zip(tabs, steps, strict=True)):
        with tab:
            show()
            step_nav(i)


ensure_app_frame()
main()
