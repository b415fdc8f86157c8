"""liqcore.analysis.calibration: least squares, the fitted mix, and the correct params."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from liqcore.analysis import calibration
from liqcore.analysis.calibration import calibrate, nonnegative_least_squares
from liqcore.analysis.scores import rank_correlation
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate
from tests.conftest import SMALL


def test_nnls_matches_a_known_nonnegative_solution() -> None:
    rng = np.random.default_rng(3)
    design = rng.uniform(0, 1, (200, 5))
    truth = np.array([0.5, 0.0, 0.2, 0.3, 0.0])
    coef = nonnegative_least_squares(design, design @ truth)
    np.testing.assert_allclose(coef, truth, atol=1e-9)
    assert (nonnegative_least_squares(design, -design @ truth) == 0).all()


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


def test_correct_params_tell_the_model_the_simulated_truth(sim_6d) -> None:
    params = calibration.correct_params(sim_6d, SMALL)
    p = sim_6d.positions
    book = p.in_book
    # The model adds its own cross buffer: the mix is by the leverage setting, not 1/(1/L + b).
    cuts = np.sqrt(np.array(sim_6d.leverage_tiers[1:]) * np.array(sim_6d.leverage_tiers[:-1]))
    usd = np.bincount(np.searchsorted(cuts, p.leverage[book]), p.usd[book], minlength=5)
    np.testing.assert_allclose(params.tier_weights, usd / usd.sum())
    assert params.tier_weights != sim_6d.leverage_mix  # the effective-leverage mix double-counts
    cross = book & (p.buffer > 0)
    assert params.cross_share == pytest.approx(p.usd[cross].sum() / p.usd[book].sum())
    low, high = params.cross_buffer
    assert p.buffer[cross].min() <= low < np.median(p.buffer[cross]) < high <= p.buffer.max()
    # Holding: the simulator's time closes (exponent 0.6) plus P&L closes that come sooner
    # at high leverage; a half-life at 10x of hours to a day or two.
    assert 0.5 <= params.holding_exponent <= 1.0
    assert 5 <= params.holding_hours <= 48
    isolated = calibration.correct_params(sim_6d, replace(SMALL, cross_share=0.0))
    assert isolated.tier_weights == sim_6d.leverage_mix and isolated.cross_share == 0.0
    assert params.leverage_tiers == sim_6d.leverage_tiers
    assert params.mmr == sim_6d.mmr
    assert (
        calibration.correct_params(simulate(days=2, interval="15min", seed=1, mmr=0.01)).mmr == 0.01
    )
    assert (params.time_bins, params.price_bins) == (SMALL.time_bins, SMALL.price_bins)
