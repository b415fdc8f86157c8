"""liqcore.analysis.scores: perfect -> 1, shuffled -> ~0, the baseline as defined."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.analysis.calibration import correct_params
from liqcore.analysis.scores import (
    LEVEL_WIDTH,
    book_by_level,
    book_ceiling,
    distance_reference,
    naive_baseline,
    rank_correlation,
    reference_scores,
    reported_scores,
    score_against_truth,
    score_table,
    top_decile_capture,
    truth_on,
    truth_scores,
)
from liqcore.figures.accuracy import book_comparison_figure
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate
from tests.conftest import SMALL


def test_perfect_estimate_scores_one() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=500)
    assert rank_correlation(values, values) == pytest.approx(1.0)
    assert rank_correlation(values, values * 3 + 7) == pytest.approx(1.0)


def test_shuffled_estimate_scores_near_zero() -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=20_000)
    shuffled = rng.permutation(values)
    assert abs(rank_correlation(values, shuffled)) < 0.03
    # A shuffled map captures about a tenth of the true USD in its top decile.
    assert top_decile_capture(shuffled, values) == pytest.approx(0.1, abs=0.03)


@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=3, max_size=60))
@settings(max_examples=80, deadline=None)
def test_rank_correlation_is_bounded_and_symmetric(values: list[float]) -> None:
    a = np.array(values)
    b = a[::-1].copy()
    score = rank_correlation(a, b)
    if np.isnan(score):
        assert np.ptp(a) == 0
    else:
        assert -1.0 - 1e-12 <= score <= 1.0 + 1e-12
        assert score == pytest.approx(rank_correlation(b, a))


def test_baseline_is_exactly_the_documented_formula() -> None:
    rng = np.random.default_rng(2)
    n = 50
    open_ = rng.uniform(90, 110, n)
    high = open_ + rng.uniform(0, 5, n)
    low = open_ - rng.uniform(0, 5, n)
    volume = rng.uniform(1, 100, n)
    idx = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC")
    close = np.clip(open_ + rng.normal(0, 2, n), low, high)
    market = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )
    baseline = naive_baseline(market)
    # Wick times traded notional (volume in base units times the close).
    np.testing.assert_allclose(baseline["long_usd"], (open_ - low) / open_ * volume * close)
    np.testing.assert_allclose(baseline["short_usd"], (high - open_) / open_ * volume * close)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 0.2), min_size=3, max_size=40), st.floats(0.001, 0.2))
def test_distance_reference_grows_with_the_move_from_the_last_close(
    moves: list[float], extra: float
) -> None:
    # A bar that trades further below the previous close liquidates more of the distance-only
    # map's longs, never more than the open interest.
    n = len(moves)
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    close = np.full(n, 100.0)
    low = close * (1 - np.asarray(moves))
    market = pd.DataFrame(
        {"open": close, "high": close, "low": low, "close": close, "open_interest": 5e6},
        index=idx,
    )
    deeper = market.assign(low=low * (1 - extra))
    base, more = distance_reference(market), distance_reference(deeper)
    assert (more["long_usd"].iloc[1:] > base["long_usd"].iloc[1:] - 1e-9).all()
    assert (more["long_usd"] <= 5e6).all()
    assert (base["short_usd"] == 0).all()


def test_skill_is_against_the_better_reference() -> None:
    idx = pd.RangeIndex(6)
    truth = pd.DataFrame({"long_usd": [1.0, 2, 3, 4, 5, 6], "short_usd": [6.0, 5, 4, 3, 2, 1]})
    noisy = truth.assign(long_usd=[2.0, 1, 3, 4, 6, 5], short_usd=[6.0, 4, 5, 3, 2, 1])
    worse = truth.assign(long_usd=[3.0, 1, 2, 6, 4, 5], short_usd=[1.0, 2, 3, 4, 5, 6])
    table = score_table(noisy.set_axis(idx), truth, worse, truth)  # reference is perfect
    assert (table["reference"] == 1.0).all()
    assert (table["skill"] < 0).all()
    assert not table["model_beats_baseline"].any()
    table = score_table(truth, truth, worse, noisy)
    assert (table["skill"] > 0).all() and table["model_beats_baseline"].all()


def test_truth_scores_on_the_simulation_are_meaningful(sim) -> None:
    market = sim.market
    est = estimate(market, start=market.index[-1] - pd.Timedelta(days=4))
    scores = truth_scores(est, sim)
    assert set(scores) == {
        "book_now",
        "book_over_time",
        "realized_long",
        "realized_short",
        "top_decile_capture",
    }
    # The simulated crowd does not follow the model's rules (continuous leverage, cross
    # margin, stops, holding times), yet the map is still better than chance.
    assert scores["book_over_time"] > 0.05
    assert scores["realized_long"] > 0.3
    assert scores["realized_short"] > 0.3


def test_a_wrong_leverage_mix_scores_worse_than_the_true_one() -> None:
    degen = (0.02, 0.03, 0.15, 0.3, 0.5)
    sim = simulate(days=12, interval="15min", seed=5, crowd_mix=degen)
    start = sim.market.index[-1] - pd.Timedelta(days=4)
    right = estimate(sim.market, correct_params(sim), start=start)
    wrong = estimate(
        sim.market, ModelParams(tier_weights=(0.9, 0.07, 0.02, 0.005, 0.005)), start=start
    )
    assert truth_scores(right, sim)["book_now"] > truth_scores(wrong, sim)["book_now"]


def test_reported_scores_compare_model_and_baseline(sim) -> None:
    market = sim.market
    est = estimate(market)
    table = reported_scores(est.realized, market)
    assert list(table.index) == ["long", "short"]
    assert set(table.columns) == {"model", "baseline", "reference", "skill", "model_beats_baseline"}
    for side in ("long", "short"):
        assert table.loc[side, "model_beats_baseline"] == (
            table.loc[side, "model"]
            > max(table.loc[side, "baseline"], table.loc[side, "reference"])
        )
    with pytest.raises(ValueError, match="realized_long_usd"):
        reported_scores(est.realized, market.drop(columns=["realized_long_usd"]))


def test_book_by_level_sums_bins_into_levels_fixed_in_log_price() -> None:
    edges = np.geomspace(50.0, 200.0, 401)
    usd = np.random.default_rng(3).random(400)
    levels = book_by_level(edges, usd)
    assert levels.sum() == pytest.approx(usd.sum())
    assert len(levels) == pytest.approx(np.log(4.0) / LEVEL_WIDTH, abs=2)
    np.testing.assert_allclose(book_by_level(edges, usd, width=1e-6), usd)  # finer: the bins


def test_the_book_ceiling_is_above_what_a_map_that_knows_only_the_price_scores() -> None:
    sim = simulate(days=20, interval="15min", seed=4)
    est = estimate(sim.market, correct_params(sim, ModelParams(time_bins=60, price_bins=240)))
    ceiling = book_ceiling(sim, est.heatmap.grid, splits=2)
    assert 0 < ceiling["book_now"] <= 1 and 0 < ceiling["book_over_time"] <= 1
    # Halves of one book agree better than a map that knows only the price does with it.
    reference = reference_scores(truth_on(sim, est.heatmap.grid), sim.market)
    assert ceiling["book_now"] > reference["book_now"]


def test_truth_computed_once_scores_like_truth_scores(sim_6d, est_6d) -> None:
    truth = truth_on(sim_6d, est_6d.heatmap.grid)
    assert score_against_truth(est_6d, truth) == truth_scores(est_6d, sim_6d)


def test_a_truth_on_another_grid_is_refused(sim_6d, est_6d) -> None:
    other = estimate(sim_6d.market, replace(SMALL, price_bins=40), start=est_6d.heatmap.times[0])
    truth = truth_on(sim_6d, other.heatmap.grid)
    with pytest.raises(ValueError, match="another grid"):
        score_against_truth(est_6d, truth)
    with pytest.raises(ValueError, match="same grid"):
        book_comparison_figure(truth.heatmap, est_6d.heatmap, sim_6d.market)
