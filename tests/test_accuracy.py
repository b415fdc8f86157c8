"""Scores of the map: perfect -> 1, shuffled -> ~0, baseline as defined, calibration honest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.analysis.calibration import calibrate, correct_params, nonnegative_least_squares
from liqcore.analysis.scores import (
    LEVEL_WIDTH,
    book_by_level,
    book_ceiling,
    distance_reference,
    naive_baseline,
    rank_correlation,
    reference_scores,
    reported_scores,
    score_table,
    top_decile_capture,
    truth_on,
    truth_scores,
)
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate


@pytest.fixture(scope="module")
def sim():
    return simulate(days=12, interval="15min", seed=11)


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


def test_nnls_matches_a_known_nonnegative_solution() -> None:
    rng = np.random.default_rng(3)
    design = rng.uniform(0, 1, (200, 5))
    truth = np.array([0.5, 0.0, 0.2, 0.3, 0.0])
    coef = nonnegative_least_squares(design, design @ truth)
    np.testing.assert_allclose(coef, truth, atol=1e-9)
    assert (nonnegative_least_squares(design, -design @ truth) == 0).all()


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


def test_calibration_fits_on_the_first_part_and_scores_the_rest(sim) -> None:
    result = calibrate(sim.market, fit_share=0.6)
    assert len(result.weights) == 5
    assert sum(result.weights) == pytest.approx(1.0)
    assert min(result.weights) >= 0
    assert list(result.scores.index) == ["fit (first part)", "test (rest)"]
    assert result.split_time == sim.market.index[int(len(sim.market) * 0.6)]
    params = result.params(ModelParams())
    assert params.tier_weights == result.weights
    # The calibrated mix is not worse than the default where it was fitted.
    fit = result.scores.loc["fit (first part)"]
    assert fit["calibrated mix"] >= fit["default mix"] - 0.05


def test_calibration_recovers_a_planted_mix_on_its_own_model() -> None:
    """Reported liquidations made by the model itself with a known mix: calibration finds it.

    At 150 % volatility twenty days move price far enough to liquidate every tier, so each
    tier's weight is identifiable (at BTC-like volatility the 5x levels are never reached
    in ten days, and no method could recover their weight). The fit samples leverage more
    coarsely than the planted estimate (``strata=4``), hence a tolerance of 0.04."""
    market = simulate(days=20, interval="15min", seed=8, volatility=1.5).market
    planted = (0.1, 0.1, 0.2, 0.3, 0.3)
    made = estimate(market, replace(ModelParams(), tier_weights=planted)).realized
    market = market.assign(
        realized_long_usd=made["long_usd"].to_numpy(),
        realized_short_usd=made["short_usd"].to_numpy(),
    )
    result = calibrate(market, fit_share=0.6, fit_holding=False, fit_cross=False)
    np.testing.assert_allclose(result.weights, planted, atol=0.04)
    assert result.scores.loc["test (rest)", "calibrated mix"] > 0.99
    assert result.holding_hours is None and result.cross_share is None


def test_calibration_of_holding_time_and_cross_share_is_scored_on_unseen_bars() -> None:
    # Planted with a shorter holding time and fewer cross-margin accounts than the defaults.
    market = simulate(days=10, interval="15min", seed=8).market
    truth = ModelParams(holding_hours=24.0, cross_share=0.25)
    made = estimate(market, truth).realized
    market = market.assign(
        realized_long_usd=made["long_usd"].to_numpy(),
        realized_short_usd=made["short_usd"].to_numpy(),
    )
    result = calibrate(market, fit_share=0.6)
    assert result.holding_hours in (24.0, 48.0, 96.0)
    assert result.cross_share in (0.25, 0.5, 0.75)
    fitted = result.params(ModelParams())
    assert (fitted.holding_hours, fitted.cross_share) == (result.holding_hours, result.cross_share)
    # The score on the part the fit never saw comes from running the model again.
    rerun = estimate(market, fitted).realized
    cut = int(len(market) * 0.6)
    reported = made["long_usd"] + made["short_usd"]
    expected = rank_correlation(
        (rerun["long_usd"] + rerun["short_usd"]).iloc[cut:], reported.iloc[cut:]
    )
    assert result.scores.loc["test (rest)", "calibrated mix"] == pytest.approx(expected)
    assert expected > 0.95


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
