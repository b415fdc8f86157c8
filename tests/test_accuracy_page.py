"""The Accuracy page: its liqcore helpers (tables, figures, verdicts) and the page a user sees."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from liqcore.analysis import calibration, readings
from liqcore.analysis.scores import SCORES, score_against_truth, truth_on, truth_scores
from liqcore.figures.accuracy import book_comparison_figure, mix_figure
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate

ROOT = Path(__file__).parents[1]
SMALL = ModelParams(time_bins=60, price_bins=50)


@pytest.fixture(scope="module")
def sim():
    return simulate(days=6, interval="15min", seed=21)


@pytest.fixture(scope="module")
def est(sim):
    return estimate(sim.market, SMALL, start=sim.market.index[-1] - pd.Timedelta(days=2))


def cal_with(before: tuple[float, float], after: tuple[float, float]) -> calibration.Calibration:
    scores = pd.DataFrame(
        {"default mix": before, "calibrated mix": after},
        index=["fit (first part)", "test (rest)"],
    )
    return calibration.Calibration(
        (0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores
    )


# --------------------------------------------------------------------------- scores


def test_truth_computed_once_scores_like_truth_scores(sim, est) -> None:
    truth = truth_on(sim, est.heatmap.grid)
    assert score_against_truth(est, truth) == truth_scores(est, sim)


def test_a_truth_on_another_grid_is_refused(sim, est) -> None:
    other = estimate(sim.market, replace(SMALL, price_bins=40), start=est.heatmap.times[0])
    truth = truth_on(sim, other.heatmap.grid)
    with pytest.raises(ValueError, match="another grid"):
        score_against_truth(est, truth)
    with pytest.raises(ValueError, match="same grid"):
        book_comparison_figure(truth.heatmap, est.heatmap, sim.market)


def test_correct_params_tell_the_model_the_simulated_truth(sim) -> None:
    params = calibration.correct_params(sim, SMALL)
    p = sim.positions
    book = p.in_book
    # The model adds its own cross buffer: the mix is by the leverage setting, not 1/(1/L + b).
    cuts = np.sqrt(np.array(sim.leverage_tiers[1:]) * np.array(sim.leverage_tiers[:-1]))
    usd = np.bincount(np.searchsorted(cuts, p.leverage[book]), p.usd[book], minlength=5)
    np.testing.assert_allclose(params.tier_weights, usd / usd.sum())
    assert params.tier_weights != sim.leverage_mix  # the effective-leverage mix double-counts
    cross = book & (p.buffer > 0)
    assert params.cross_share == pytest.approx(p.usd[cross].sum() / p.usd[book].sum())
    low, high = params.cross_buffer
    assert p.buffer[cross].min() <= low < np.median(p.buffer[cross]) < high <= p.buffer.max()
    # Holding: the simulator's time closes (exponent 0.6) plus P&L closes that come sooner
    # at high leverage; a half-life at 10x of hours to a day or two.
    assert 0.5 <= params.holding_exponent <= 1.0
    assert 5 <= params.holding_hours <= 48
    isolated = calibration.correct_params(sim, replace(SMALL, cross_share=0.0))
    assert isolated.tier_weights == sim.leverage_mix and isolated.cross_share == 0.0
    assert params.leverage_tiers == sim.leverage_tiers
    assert params.mmr == sim.mmr
    assert (
        calibration.correct_params(simulate(days=2, interval="15min", seed=1, mmr=0.01)).mmr == 0.01
    )
    assert (params.time_bins, params.price_bins) == (SMALL.time_bins, SMALL.price_bins)


# --------------------------------------------------------------------------- tables, sentences


def test_scenario_table_puts_the_correct_model_first_with_deltas() -> None:
    right = {key: 0.1 * i for i, key in enumerate(SCORES)}
    wrong = {key: value - 0.05 for key, value in right.items()}
    table = readings.scenario_table(right, wrong)
    assert list(table.index) == [label for label, _ in SCORES.values()]
    assert list(table.columns)[1:3] == ["Correctly specified", "Your assumptions"]
    np.testing.assert_allclose(table["Change"], -0.05)
    assert table.loc["Top-decile capture", "No skill"] == 0.1
    assert (table.drop(index="Top-decile capture")["No skill"] == 0).all()


def test_sensitivity_sentence_names_the_biggest_drop_and_admits_rises() -> None:
    right = dict.fromkeys(SCORES, 0.8)
    sentence = readings.sensitivity_sentence(
        right, right | {"book_now": 0.7, "book_over_time": 0.4}
    )
    assert "lower 2 of the 5 scores" in sentence
    assert "book over time most: 0.80 → 0.40" in sentence
    rise = readings.sensitivity_sentence(right, right | {"book_now": 0.9})
    assert "raise the book now" in rise
    assert "not always the best-scoring" in rise
    assert "not sensitive" in readings.sensitivity_sentence(right, right)
    nothing = dict.fromkeys(SCORES, float("nan"))
    assert "cannot be computed" in readings.sensitivity_sentence(nothing, nothing)


@given(
    st.tuples(*(st.floats(-1, 1) for _ in range(4))),
)
@settings(max_examples=60, deadline=None)
def test_baseline_verdict_agrees_with_the_numbers(values: tuple[float, ...]) -> None:
    model_long, base_long, model_short, base_short = values
    table = pd.DataFrame(
        {
            "model": [model_long, model_short],
            "baseline": [base_long, base_short],
            "model_beats_baseline": [model_long > base_long, model_short > base_short],
        },
        index=["long", "short"],
    )
    sentence, verdict = readings.baseline_verdict(table, "the data")
    wins = int(model_long > base_long) + int(model_short > base_short)
    assert verdict == {2: "beats", 1: "mixed", 0: "loses"}[wins]
    assert ("does not beat" in sentence) == (wins == 0)
    shown = readings.reported_table(table)
    assert list(shown.index) == ["Longs", "Shorts"]
    # Shown to two decimals: a margin that rounds to nothing is 0 (never "-0.00").
    margins = np.array([model_long - base_long, model_short - base_short])
    np.testing.assert_allclose(shown["Margin"], margins, atol=0.005)
    assert not np.signbit(shown["Margin"][np.abs(margins) < 0.005]).any()


def test_baseline_verdict_says_when_nothing_can_be_ranked() -> None:
    table = pd.DataFrame(
        {"model": [float("nan"), 0.5], "baseline": [0.2, 0.1], "model_beats_baseline": [0, 1]},
        index=["long", "short"],
    )
    sentence, verdict = readings.baseline_verdict(table, "the reported liquidations")
    assert verdict == "unscored"
    assert "longs" in sentence and "shorts" not in sentence


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        ((0.5, 0.5), (0.7, 0.45), "Overfitting"),
        ((0.5, 0.5), (0.7, 0.65), "carries over"),
        ((0.5, 0.5), (0.7, 0.55), "some of the in-sample gain is noise"),
        ((0.5, 0.5), (0.5, 0.5), "changes little"),
        ((0.5, 0.5), (0.5, 0.6), "luck"),
    ],
)
def test_overfitting_sentence_compares_fit_and_test(before, after, words) -> None:
    cal = cal_with(before, after)
    assert words in readings.overfitting_sentence(cal)
    table = readings.calibration_table(cal, "Assumed mix")
    np.testing.assert_allclose(table["Change"], np.subtract(after, before))


@pytest.mark.parametrize(
    ("after", "words"),
    [
        ((0.512, 0.508), "changes little (in sample +0.01, out of sample +0.01)"),
        ((0.524, 0.508), "(+0.02) but hardly on the unseen rest (+0.01)"),
        ((0.524, 0.496), "(+0.02) but not on the unseen rest (±0.00)"),
    ],
)
def test_overfitting_sentence_agrees_with_the_numbers_it_shows(after, words) -> None:
    # Calm regime: +0.012 in sample and +0.008 out of sample both show as +0.01; the
    # sentence must not call one a gain and the other none.
    sentence = readings.overfitting_sentence(cal_with((0.5, 0.5), after))
    assert words in sentence
    if "+0.01" in sentence:
        assert "but not on the unseen rest (+0.01)" not in sentence


def test_describe_params_names_every_assumption_the_page_changes() -> None:
    text = readings.describe_params(
        ModelParams(tier_weights=(1, 1, 1, 1, 0), mmr=0.01, opening="oi"),
    )
    assert text.startswith("mix 25/25/25/25/0%")
    assert "mmr 1.00%" in text and "Rising OI" in text and "same-bar liquidation on" in text


# --------------------------------------------------------------------------- figures


def test_book_comparison_draws_both_books_on_one_scale(sim, est) -> None:
    truth = truth_on(sim, est.heatmap.grid)
    fig = book_comparison_figure(truth.heatmap, est.heatmap, sim.market)
    true_map, est_map = (t for t in fig.data if t.type == "heatmap")
    assert true_map.coloraxis == est_map.coloraxis == "coloraxis"
    np.testing.assert_array_equal(true_map.y, est_map.y)
    np.testing.assert_array_equal(true_map.z, truth.heatmap.total.T)
    both = np.concatenate([truth.heatmap.total.ravel(), est.heatmap.total.ravel()])
    assert fig.layout.coloraxis.cmax == pytest.approx(np.percentile(both[both > 0], 99), rel=1e-5)
    assert "Estimate" in fig.layout.title.text
    headings = [a.text for a in fig.layout.annotations]
    assert "True book" in headings[0] and "(estimate)" in headings[1]


def test_mix_figure_normalises_and_checks_each_mix() -> None:
    fig = mix_figure({"a": (2, 2, 4, 1, 1), "b": (1, 1, 1, 1, 1)}, (5, 10, 25, 50, 100))
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(1.0)
        assert list(trace.x) == ["5x", "10x", "25x", "50x", "100x"]
    with pytest.raises(ValueError, match="needs 5"):
        mix_figure({"a": (1, 1)}, (5, 10, 25, 50, 100))


# --------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.switch_page("pages/accuracy.py")
    return at.run()


def scenarios(at: AppTest) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "Correctly specified" in df.value.columns)


def test_page_runs_and_shows_the_scores(page: AppTest) -> None:
    assert not page.exception, [e.message for e in page.exception]
    assert page.title[0].value == "Accuracy"
    table = scenarios(page)
    # The simulated crowd does not follow the model (the page says so); the liquidations
    # it sets off are still ranked well, and the book better than chance.
    assert table.loc["Realized longs", "Correctly specified"] > 0.3
    assert table.loc["Book now", "Correctly specified"] > 0.0
    assert any("does not follow the model's rules" in info.value for info in page.info)
    # What cannot be recovered is said in words, with the ceiling's numbers.
    assert any("Part of the true book is luck" in info.value for info in page.info)
    # Untouched controls are the correct assumptions: no change at all.
    assert (table["Change"] == 0).all()
    verdicts = [x.value for x in [*page.success, *page.warning, *page.error]]
    assert any("the naive baseline" in text for text in verdicts)
    specs = [json.loads(chart.proto.spec) for chart in page.get("plotly_chart")]
    assert any(sum(t["type"] == "heatmap" for t in spec["data"]) == 2 for spec in specs)
    weights = page.session_state["calibrated_weights"]
    assert len(weights) == 5
    assert sum(weights) == pytest.approx(1.0)


def test_a_wrong_leverage_mix_lowers_the_book_score(page: AppTest) -> None:
    page.selectbox(key="acc_mix").set_value("Degen").run()
    assert not page.exception, [e.message for e in page.exception]
    table = scenarios(page)
    assert table.loc["Book now", "Your assumptions"] < table.loc["Book now", "Correctly specified"]
    assert table.loc["Book now", "Change"] < 0
    assert any("Your assumptions lower" in info.value for info in page.info)


def test_without_the_truth_the_page_scores_the_data_against_the_baseline() -> None:
    """CSV chosen but no file yet: the simulated stand-in, scored as data with liquidations."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.query_params["src"] = "CSV upload"
    at.switch_page("pages/accuracy.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # The stand-in is named for what it is, not "choose the simulated market" while showing it.
    infos = " ".join(info.value for info in at.info)
    assert "the simulated market standing in for Your CSV" in infos
    assert "known only on the simulated market: choose" not in infos
    assert not any("Correctly specified" in df.value.columns for df in at.dataframe)
    verdicts = [x.value for x in [*at.success, *at.warning, *at.error]]
    assert any("against the true simulated liquidations" in text for text in verdicts)
    assert len(at.session_state["calibrated_weights"]) == 5

    # A broken file: the error says the simulated market is shown, and the rest agrees.
    at.sidebar.file_uploader[0].set_value(("bad.csv", b"time,open\n2024-01-01,1\n", "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Showing the simulated market instead" in at.error[0].value
    infos = " ".join(info.value for info in at.info)
    assert "the simulated market standing in for Your CSV" in infos
    assert "known only on the simulated market: choose" not in infos
