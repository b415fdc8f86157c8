"""Accuracy: how good the estimate is, against the simulated truth and reported liquidations.

Scores, calibration, readings and figures come from :mod:`liqcore.analysis` and
:mod:`liqcore.figures`; this page chooses the data, caches at the UI boundary and lays
the results out.
"""

from dataclasses import replace

import pandas as pd
import streamlit as st

from liqcore.analysis import readings, scores
from liqcore.analysis.calibration import Calibration, calibrate, correct_params
from liqcore.analysis.real_scores import daily_scores
from liqcore.analysis.realized import realized_source_label
from liqcore.controls import CONTROLS, OPENINGS, TIMEFRAMES
from liqcore.figures.accuracy import book_comparison_figure, mix_figure
from liqcore.model import DEFAULT_TIERS, DEFAULT_WEIGHTS, Estimate, ModelParams, estimate
from liqcore.real import PROVENANCE, WARM_UP_DAYS
from liqcore.simulate import CROWDS, SimulatedMarket
from ui import cache, data, state
from ui.frame import ensure_app_frame
from ui.magnets import magnet_section
from ui.state import default

ensure_app_frame()

#: Days simulated for scoring (at most): 60 days take ~1 s, a year ~3-5 s.
SIM_DAYS = 60
#: The last days of that simulation are scored (the days before warm the book up).
SCORE_DAYS = 14
GRID = ModelParams(time_bins=300, price_bins=240)
CHART = {"displaylogo": False}
MIXES = ("True mix", *CROWDS, "Model default")  # the model default = the Heatmap page's
SCORE_FORMAT = st.column_config.NumberColumn(format="%.2f")
CHANGE_FORMAT = st.column_config.NumberColumn(format="%+.2f")

SimKey = tuple[int, int, float, str, float, str]
REFERENCES = (
    "Two references know nothing of positions: the naive baseline (the wick in the "
    "liquidation direction times the bar's traded notional) and the distance-only map (USD "
    "at risk falling off with distance from price); the margin is over the better of the two."
)

st.title("Accuracy", anchor=False)
st.caption(
    "How good is the map? No liquidation-heatmap vendor says; we measure ours. Every score is "
    "a **rank correlation**: 1 = the estimate puts things in the same order as the truth, "
    "0 = no better than chance. Ranks, because a map is read for *where* the big levels are, "
    "and the estimate's dollar scale is itself an assumption."
)


# --------------------------------------------------------------------------- cached data


def sim_key(choice: state.DataChoice) -> SimKey:
    """The sidebar's simulation settings, with the history cut to :data:`SIM_DAYS`."""
    days = min(choice.days, SIM_DAYS)
    return choice.seed, days, choice.volatility, choice.crowd, choice.bias, choice.regime


def score_start(sim: SimulatedMarket) -> pd.Timestamp:
    return sim.market.index[-1] - pd.Timedelta(days=SCORE_DAYS)


@st.cache_data(max_entries=8, show_spinner="Estimating…")
def sim_estimate(key: SimKey, params: ModelParams) -> Estimate:
    """The estimate of the scored window under some assumptions."""
    sim = data.simulated(*key)
    return estimate(sim.market, params, start=score_start(sim))


@st.cache_data(max_entries=2, show_spinner="Computing the truth…")
def sim_truth(key: SimKey) -> scores.Truth:
    """The truth on the scored window's grid (every estimate here shares it: same bins, start)."""
    sim = data.simulated(*key)
    grid = sim_estimate(key, correct_params(sim, GRID)).heatmap.grid
    return scores.truth_on(sim, grid)


@st.cache_data(max_entries=2, show_spinner="Measuring how much of the truth is luck…")
def sim_ceiling(key: SimKey) -> dict[str, float]:
    """The split-half ceiling of the true book on the scored window's grid."""
    return scores.book_ceiling(data.simulated(*key), sim_truth(key).heatmap.grid)


@st.cache_data(max_entries=4, show_spinner="Calibrating the leverage mix…")
def calibration(history: pd.DataFrame, params: ModelParams) -> Calibration:
    """Fitted tier weights (``st.cache_data`` hashes the frame itself: a few ms here)."""
    return calibrate(history, params)


def heatmap_params() -> ModelParams:
    """The Heatmap page's assumptions: the model as the user reads it there."""
    try:
        return state.model_params_from_state(GRID.time_bins, GRID.price_bins)
    except ValueError as exc:
        st.error(f"The Heatmap page's assumptions cannot be used: {exc}. Using the defaults.")
        return GRID


# --------------------------------------------------------------------------- sections


def mix_weights(option: str, correct: ModelParams) -> tuple[float, ...]:
    """The tier weights of an option of :data:`MIXES`."""
    named = {"True mix": correct.tier_weights, "Model default": DEFAULT_WEIGHTS}
    return tuple(named.get(option, CROWDS.get(option, DEFAULT_WEIGHTS)))


def misspecification_controls(correct: ModelParams, crowd: str) -> ModelParams:
    """Four assumptions the user can get wrong on purpose; they start at the correct ones."""

    def mix_label(option: str) -> str:
        weights = mix_weights(option, correct)
        shares = "/".join(f"{w / sum(weights) * 100:.0f}" for w in weights)
        name = f"True mix ({crowd})" if option == "True mix" else option
        return f"{name} · {shares}%"

    cols = st.columns([3, 2, 3, 2.2], vertical_alignment="bottom")
    mix = cols[0].selectbox(
        "Assumed leverage mix",
        MIXES,
        format_func=mix_label,
        key="acc_mix",
        help="Share of new notional at 5x/10x/25x/50x/100x the model assumes.",
    )
    mmr = cols[1].number_input(
        "Assumed maintenance margin (%)",
        0.0,
        5.0,
        value=correct.mmr * 100,
        step=0.1,
        format="%.2f",
        key="acc_mmr",
        help=f"The simulation uses {correct.mmr * 100:.2f}%.",
    )
    opening = cols[2].segmented_control(
        "New positions from",
        CONTROLS["opening"].options,
        default=CONTROLS["opening"].default,
        key="acc_opening",
        required=True,
        help="Rising open interest, traded volume, or both (the model's default).",
    )
    same_bar = cols[3].toggle(
        "Same-bar liquidation",
        value=correct.liquidate_in_opening_bar,
        key="acc_same_bar",
        help="May the opening bar's own wick liquidate a new position?",
    )
    return replace(
        correct,
        tier_weights=mix_weights(mix, correct),
        mmr=mmr / 100,
        opening=OPENINGS[opening],
        liquidate_in_opening_bar=same_bar,
    )


@st.fragment
def truth_section(choice: state.DataChoice) -> None:
    """Scores against the simulated truth; the controls rerun only this section."""
    key = sim_key(choice)
    sim = data.simulated(*key)
    st.header("Against the simulated truth", anchor=False, divider="orange")
    shorter = (
        f" (shorter than the {choice.days}-day history of the other pages, so it is another "
        "path from the same seed, and this page stays quick)"
        if choice.days > SIM_DAYS
        else ""
    )
    st.caption(
        f"A {key[1]}-day simulation with the sidebar's settings{shorter}. Only the **last "
        f"{SCORE_DAYS} days** are scored; the days before let positions build up. The truth is "
        "every simulated position; the estimate sees only candles, volume and open interest."
    )
    correct = correct_params(sim, GRID)
    st.info(
        "The simulated crowd does not follow the model's rules: leverage is any whole number "
        "from 1x to 125x, about a third of positions are on cross margin (further from "
        "liquidation than their leverage says), and positions close on stop-losses, "
        "take-profits and after hours (high leverage) to days (low leverage). *Correctly "
        "specified* here means the model told every true value it has an assumption for: the "
        "leverage settings binned into its five bands, the cross-margin share and its spare "
        "equity, the holding times by leverage and the maintenance margin. The book now is "
        "scored over price levels of about 1 % (the grid's fine bins hold a handful of "
        "positions each, whose order is luck).",
        icon=":material/science:",
    )
    st.markdown("**Mis-specify the model on purpose** to see what the estimate is sensitive to:")
    yours = misspecification_controls(correct, choice.crowd)
    truth = sim_truth(key)
    correct_scores = scores.score_against_truth(sim_estimate(key, correct), truth)
    yours_est = sim_estimate(key, yours)
    yours_scores = scores.score_against_truth(yours_est, truth)

    no_skill = scores.reference_scores(truth, sim.market)
    st.info(readings.ceiling_sentence(correct_scores, sim_ceiling(key)), icon=":material/casino:")
    st.dataframe(
        readings.scenario_table(correct_scores, yours_scores, no_skill),
        width="stretch",
        column_config={
            "Correctly specified": SCORE_FORMAT,
            "Your assumptions": SCORE_FORMAT,
            "Change": CHANGE_FORMAT,
            "No skill": SCORE_FORMAT,
        },
        key="acc_scenarios",
    )
    st.caption(
        f"Correctly specified: {readings.describe_params(correct)}.  \n"
        f"Your assumptions: {readings.describe_params(yours)}."
    )
    st.caption(
        "No skill: what a map that knows only where the price is scores (USD at risk falling "
        "off with distance from price, scaled by open interest). Skill is the margin over it."
    )
    if yours == correct:
        st.info(
            "These are the correct assumptions. Change one above to see how the scores fall.",
            icon=":material/tune:",
        )
    else:
        st.info(readings.sensitivity_sentence(correct_scores, yours_scores), icon=":material/tune:")

    fig = book_comparison_figure(
        truth.heatmap,
        yours_est.heatmap,
        sim.market,
        title=f"True vs estimated book<br><sup>last {SCORE_DAYS} days, your assumptions</sup>",
        uirevision=str(key),
    )
    st.plotly_chart(fig, key="acc_books", config=CHART)
    st.caption(
        "Same grid, same colour scale. The estimate's dollars depend on how much of the volume "
        "it assumes opens positions; the scores compare ranks, which do not."
    )


def baseline_section(
    realized: pd.DataFrame, market: pd.DataFrame, bars: pd.Index, against: str
) -> None:
    """The model's realized liquidations and the naive baseline, against the data's own."""
    st.header("Model vs a naive baseline", anchor=False, divider="orange")
    st.caption(
        f"Rank correlation, bar by bar, of the liquidations the model **estimates** (with the "
        f"Heatmap page's assumptions) with {against}, over {len(bars):,} bars. {REFERENCES}"
    )
    show_verdict(scores.reported_scores(realized, market, bars), against, key="acc_baseline")


def show_verdict(table: pd.DataFrame, against: str, key: str) -> None:
    """The model-vs-references verdict in words, then its table of scores."""
    sentence, verdict = readings.baseline_verdict(table, against)
    show = {"beats": st.success, "loses": st.error}.get(verdict, st.warning)
    show(sentence, icon=":material/verified:" if verdict == "beats" else ":material/info:")
    shown = readings.reported_table(table)
    formats = {"Margin": CHANGE_FORMAT}
    st.dataframe(
        shown,
        column_config={
            c: formats.get(c, SCORE_FORMAT) for c in shown.columns if shown[c].dtype.kind == "f"
        },
        key=key,
    )


def calibration_section(
    history: pd.DataFrame, params: ModelParams, true_mix: tuple[float, ...] | None
) -> None:
    """Fit the tier weights on the first part of the history, score on the rest."""
    st.header("Calibration", anchor=False, divider="orange")
    # Calibrate over all five tiers, so the stored weights always mean 5x..100x.
    if tuple(params.leverage_tiers) != DEFAULT_TIERS:
        params = replace(params, leverage_tiers=DEFAULT_TIERS, tier_weights=DEFAULT_WEIGHTS)
    try:
        cal = calibration(history, params)
    except ValueError as exc:
        st.info(f"No calibration on this data: {exc}.", icon=":material/info:")
        return
    st.session_state["calibrated_weights"] = tuple(float(w) for w in cal.weights)
    st.caption(
        "Non-negative least squares finds the leverage mix whose **estimated** liquidations "
        f"best match the data's, on the history before {cal.split_time:%b %d %H:%M} UTC; it is "
        "then scored on the rest, which it never saw."
    )
    mixes = {"Assumed (Heatmap page)": params.tier_weights, "Calibrated (fitted)": cal.weights}
    if true_mix is not None:
        mixes["True (simulated crowd)"] = true_mix
    left, right = st.columns(2)
    left.plotly_chart(
        mix_figure(mixes, cal.tiers), key="acc_mix_chart", config=CHART, width="stretch"
    )
    with right:
        st.dataframe(
            readings.calibration_table(cal, "Assumed mix"),
            column_config={
                "Assumed mix": SCORE_FORMAT,
                "Calibrated mix": SCORE_FORMAT,
                "Change": CHANGE_FORMAT,
            },
            key="acc_calibration",
        )
        st.markdown(readings.overfitting_sentence(cal))
        if true_mix is not None:
            st.caption(
                "The fitted mix is the one that makes *this model's* liquidations match best, "
                "not the crowd's real mix: the model is simpler than the crowd."
            )
        st.caption(
            ":material/save: Stored for this session: the Heatmap page can use the calibrated mix."
        )


def real_section(choice: state.DataChoice) -> None:
    """The real example: the model and both references against Hyperliquid's daily totals."""
    market, _ = data.market_for(choice, "3mo")
    st.header("Model vs baselines on real reported liquidations", anchor=False, divider="orange")
    st.caption(f":material/public: {PROVENANCE}")
    params = heatmap_params()
    est = cache.cached_estimate(choice, params, "3mo", market)
    reported = data.real_example_reported(choice.symbol)
    against = f"Hyperliquid's reported daily liquidations of {choice.symbol}"
    show_verdict(daily_scores(est.realized, market, reported), against, key="acc_real")
    st.caption(
        f"Rank correlation over {len(reported) - WARM_UP_DAYS} days (the first "
        f"{WARM_UP_DAYS} warm the book up) of the liquidations the model **estimates** from "
        f"hourly bars, summed per UTC day, with the reported ones. {REFERENCES} Days are "
        "forgiving: they hide the timing within the day that a map is read for, and there is "
        "no intraday truth in this set."
    )


# --------------------------------------------------------------------------- the page

choice = state.data_choice()
if choice.source == "sim":
    # The simulated market here is this page's own shorter simulation (with its truth);
    # loading the sidebar's full year through market_for as well would cost seconds for
    # a frame this page does not use.
    st.caption(
        ":material/database: Simulated market · 15m bars · offline · "
        f"{min(choice.days, SIM_DAYS)} days simulated for scoring"
    )
    key = sim_key(choice)
    sim = data.simulated(*key)
    truth_section(choice)
    params = heatmap_params()
    est = sim_estimate(key, params)
    bars = est.realized.index[est.heatmap.grid.start_bar :]
    baseline_section(est.realized, sim.market, bars, "the true simulated liquidations")
    # The true mix as this model would be told it (by the leverage setting if it adds cross margin).
    calibration_section(sim.market, params, correct_params(sim, params).tier_weights)
elif choice.source == "real":
    real_section(choice)
else:
    timeframes = list(TIMEFRAMES)
    initial = st.session_state.get("tf", default("tf"))
    timeframe = st.selectbox(
        "Look back",
        timeframes,
        index=timeframes.index(initial) if initial in timeframes else timeframes.index("1w"),
        key="acc_tf",
        help="The bars scored (the model also sees a warm-up before them).",
    )
    market, notes = data.market_for(choice, timeframe)
    for note in notes:
        st.info(note, icon=":material/info:")
    if market.attrs.get("label"):  # the simulated stand-in for data that failed to load
        st.info(
            f"Scored below: the simulated market standing in for {choice.label}, against its "
            "true liquidations over this look-back. The full test against every true position "
            "(on this page's own simulation, so the numbers differ) is under *Simulated "
            "market* in the sidebar.",
            icon=":material/science:",
        )
    else:
        st.info(
            "The truth is known only on the simulated market: choose *Simulated market* in "
            "the sidebar to see the map scored against every true position.",
            icon=":material/science:",
        )
    if not {"realized_long_usd", "realized_short_usd"} <= set(market.columns):
        st.warning(
            "This data carries no reported liquidations (`realized_long_usd`, "
            "`realized_short_usd`), so there is nothing to score the estimate against. Upload "
            "a CSV with those columns, or use the simulated market.",
            icon=":material/block:",
        )
    else:
        history, start, coverage = cache.window(market, timeframe)
        if coverage:
            st.info(coverage, icon=":material/history:")
        # A source that publishes only recent liquidations says from when its list is
        # complete; earlier bars would count as "nothing liquidated".
        covered = market.attrs.get("covered_from")
        if covered is not None:
            start = max(start, pd.Timestamp(covered))
        params = heatmap_params()
        est = cache.cached_estimate(choice, params, timeframe, market)
        bars = est.realized.loc[start:].index
        if market.attrs.get("label"):  # the simulated stand-in for data that failed to load
            against = "the true simulated liquidations"
        else:
            against = (
                f"the liquidations in the data ({realized_source_label(market, choice.source)})"
            )
        if len(bars) < 10:
            st.warning(f"Only {len(bars)} bars to score: look further back.")
        else:
            baseline_section(est.realized, history, bars, against)
            calibration_section(history, params, None)

magnet_section()
