"""Scores of the map: perfect -> 1, shuffled -> ~0, baseline as defined, calibration honest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.accuracy import (
    calibrate,
    correct_params,
    naive_baseline,
    nonnegative_least_squares,
    rank_correlation,
    reported_scores,
    top_decile_capture,
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
    market = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": open_, "volume": volume}, index=idx
    )
    baseline = naive_baseline(market)
    np.testing.assert_allclose(baseline["long_usd"], (open_ - low) / open_ * volume)
    np.testing.assert_allclose(baseline["short_usd"], (high - open_) / open_ * volume)


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
    assert set(table.columns) == {"model", "baseline", "model_beats_baseline"}
    for side in ("long", "short"):
        assert table.loc[side, "model_beats_baseline"] == (
            table.loc[side, "model"] > table.loc[side, "baseline"]
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

    At 150 % volatility ten days move price far enough to liquidate every tier, so each
    tier's weight is identifiable (at BTC-like volatility the 5x levels are never reached
    in ten days, and no method could recover their weight)."""
    market = simulate(days=10, interval="15min", seed=8, volatility=1.5).market
    planted = (0.1, 0.1, 0.2, 0.3, 0.3)
    made = estimate(market, replace(ModelParams(), tier_weights=planted)).realized
    market = market.assign(
        realized_long_usd=made["long_usd"].to_numpy(),
        realized_short_usd=made["short_usd"].to_numpy(),
    )
    result = calibrate(market, fit_share=0.6)
    np.testing.assert_allclose(result.weights, planted, atol=0.02)
    assert result.scores.loc["test (rest)", "calibrated mix"] > 0.99
