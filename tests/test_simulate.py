"""The simulated market: its invariants, its liquidation rule, its regimes and its realism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqcore.analysis.realism import stylized_facts
from liqcore.model import first_crossing, make_grid
from liqcore.simulate import (
    LIQUIDATED,
    REGIMES,
    STOP,
    TAKE_PROFIT,
    TIME,
    SimulatedMarket,
    cascades,
    simulate,
)


@pytest.fixture(scope="module")
def sim() -> SimulatedMarket:
    return simulate(days=20, interval="15m", seed=4)


def open_units(sim: SimulatedMarket) -> tuple[np.ndarray, np.ndarray]:
    """Units held long and short at each bar's close, from the positions alone."""
    p, n = sim.positions, len(sim.market)
    out = []
    for side in (True, False):
        pick = p.is_long == side
        delta = np.bincount(p.open_bar[pick], p.qty[pick], minlength=n + 1)
        delta -= np.bincount(p.exit_bar[pick], p.qty[pick], minlength=n + 1)
        out.append(np.cumsum(delta)[:n])
    return out[0], out[1]


def test_the_same_seed_gives_the_same_market() -> None:
    a = simulate(days=3, interval="15m", seed=9)
    b = simulate(days=3, interval="15m", seed=9)
    c = simulate(days=3, interval="15m", seed=10)
    pd.testing.assert_frame_equal(a.market, b.market)
    np.testing.assert_array_equal(a.positions.exit_bar, b.positions.exit_bar)
    assert not a.market["close"].equals(c.market["close"])


def test_long_units_equal_short_units_at_every_bar(sim) -> None:
    long, short = open_units(sim)
    assert (long > 0).all()
    np.testing.assert_allclose(long, short, rtol=1e-9)


def test_open_interest_is_the_notional_of_the_open_positions(sim) -> None:
    long, _ = open_units(sim)
    oi = sim.market["open_interest"].to_numpy()
    np.testing.assert_allclose(oi, long * sim.market["close"].to_numpy(), rtol=1e-9)


def test_each_position_is_liquidated_exactly_when_price_crosses_its_liquidation_price(
    sim,
) -> None:
    """The first bar after opening whose low (high, for a short) reaches the liquidation price,
    funding paid since opening included, is the bar of the liquidation, unless the position
    closed earlier (time, stop-loss, take-profit) or a stop closed it in that bar first."""
    p, m, mmr, phi = sim.positions, sim.market, sim.mmr, sim.funding_index
    # In "units of liquidation key": long low·(1 − mmr) − Φ, short −(high·(1 + mmr) − Φ).
    long_key = m["low"].to_numpy() * (1 - mmr) - phi
    short_key = m["high"].to_numpy() * (1 + mmr) - phi
    later = p.exit_bar > p.open_bar  # survived its opening bar
    idx = np.flatnonzero(later & np.isfinite(p.liq_key))
    price = np.where(p.is_long[idx], p.liq_key[idx], -p.liq_key[idx])
    cross = first_crossing(long_key, short_key, p.open_bar[idx] + 1, price, p.is_long[idx])
    reason, exit_bar = p.exit_reason[idx], p.exit_bar[idx]
    liquidated = reason == LIQUIDATED
    assert liquidated.sum() > 50
    np.testing.assert_array_equal(cross[liquidated], exit_bar[liquidated])
    # Nobody else saw their liquidation price before they closed ...
    assert (cross[~liquidated] >= exit_bar[~liquidated]).all()
    # ... and in the bar they closed, only a time close (at the open) or a stop comes first.
    same = ~liquidated & (cross == exit_bar) & (reason >= 0)
    assert np.isin(reason[same], [TIME, STOP]).all()
    assert not (reason[same] == TAKE_PROFIT).any()
    # A position with a stop-loss is never liquidated: its stop sits before the level.
    assert not (p.has_stop & (p.exit_reason == LIQUIDATED)).any()


def test_positions_liquidated_in_their_opening_bar_were_reached_by_its_wick(sim) -> None:
    p, m = sim.positions, sim.market
    idx = np.flatnonzero((p.exit_bar == p.open_bar) & (p.exit_reason == LIQUIDATED))
    assert idx.size > 0
    price = sim.liquidation_price(p.open_bar[idx], idx)
    low = m["low"].to_numpy()[p.open_bar[idx]]
    high = m["high"].to_numpy()[p.open_bar[idx]]
    reached = np.where(p.is_long[idx], low <= price * (1 + 1e-12), high >= price * (1 - 1e-12))
    assert reached.all()


def test_the_market_reports_the_true_liquidations(sim) -> None:
    real = sim.true_realized()
    np.testing.assert_allclose(real["long_usd"], sim.market["realized_long_usd"], rtol=1e-9)
    np.testing.assert_allclose(real["short_usd"], sim.market["realized_short_usd"], rtol=1e-9)
    tiers = [c for c in real.columns if c.startswith("long_usd_")]
    np.testing.assert_allclose(real[tiers].sum(axis=1), real["long_usd"], rtol=1e-9)


def test_true_heatmap_last_column_is_the_true_book_now(sim) -> None:
    m = sim.market
    grid = make_grid(m.index, m["low"].to_numpy(), m["high"].to_numpy(), time_bins=40)
    heat = sim.true_heatmap(grid)
    levels = sim.true_levels(grid.price_edges)
    np.testing.assert_allclose(heat.long[-1], levels["long_usd"], rtol=1e-5)
    np.testing.assert_allclose(heat.short[-1], levels["short_usd"], rtol=1e-5)
    assert heat.long[-1].sum() > 0 and heat.short[-1].sum() > 0


def test_leverage_is_a_whole_number_setting_from_1_to_125x(sim) -> None:
    lev = sim.positions.leverage
    assert lev.min() >= 1 and lev.max() <= 125
    np.testing.assert_array_equal(lev, np.round(lev))
    # A continuous spread, not the estimator's five tiers.
    assert len(np.unique(lev)) > 60


def test_cross_margin_widens_the_distance_to_liquidation(sim) -> None:
    p = sim.positions
    cross = p.buffer > 0
    assert 0.2 < cross.mean() < 0.5
    assert (p.effective_leverage[cross] < p.leverage[cross]).all()
    np.testing.assert_allclose(p.effective_leverage[~cross], p.leverage[~cross], rtol=1e-12)


def test_high_leverage_is_held_for_shorter(sim) -> None:
    p = sim.positions
    held = (p.exit_bar - p.open_bar)[p.exit_reason == TIME]
    lev = p.leverage[p.exit_reason == TIME]
    assert np.median(held[lev >= 50]) < 0.5 * np.median(held[lev <= 5])


def test_funding_follows_the_lean_and_moves_liquidation_prices(sim) -> None:
    m = sim.market
    lean = np.log(m["long_short_ratio"])
    assert np.corrcoef(lean, m["funding_rate"])[0, 1] > 0.8
    p = sim.positions
    i = np.flatnonzero(p.in_book & p.is_long & (p.exit_bar > p.open_bar + 20))[:50]
    before = sim.liquidation_price(p.open_bar[i], i)
    after = sim.liquidation_price(p.open_bar[i] + 20, i)
    assert (after > before).all()  # longs paid funding from their margin


def test_tier_mix_bins_the_true_book_into_the_estimators_tiers(sim) -> None:
    mix = sim.tier_mix()
    assert len(mix) == len(sim.leverage_tiers)
    assert sum(mix) == pytest.approx(1.0)
    assert mix == sim.leverage_mix
    # With only 5x and 100x, everything nearer 50x or 100x than 25x counts as 100x.
    coarse = sim.tier_mix((5.0, 100.0))
    assert sum(coarse) == pytest.approx(1.0)
    assert coarse[1] >= mix[3] + mix[4] - 1e-12


def test_a_stress_run_contains_a_cascade_and_a_typical_one_almost_never() -> None:
    stress = [len(cascades(simulate(60, "15m", seed, regime="stress"))) for seed in (0, 1)]
    typical = [len(cascades(simulate(60, "15m", seed))) for seed in (0, 1)]
    assert min(stress) >= 1
    assert max(typical) <= 1
    one = cascades(simulate(60, "15m", 1, regime="stress")).iloc[0]
    assert one["bars"] >= 3 and one["share_of_oi"] >= 0.05


def test_the_volatility_setting_is_the_realised_volatility() -> None:
    for target in (0.3, 1.0):
        runs = [simulate(180, "1h", seed, volatility=target).market for seed in (0, 1, 2)]
        realised = np.median([stylized_facts(run)["volatility"] for run in runs])
        assert abs(realised / target - 1) < 0.25, (target, realised)


def test_a_shorter_typical_run_has_the_real_markets_stylized_facts() -> None:
    runs = [stylized_facts(simulate(90, "15m", seed).market) for seed in (0, 1, 2)]
    facts = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
    bands = {
        "volatility": (0.3, 0.75),
        "kurtosis": (2.0, 40.0),
        "big_hours_pct": (0.0, 1.5),
        "big_days_pct": (0.0, 6.0),
        "range_median_bp": (25.0, 100.0),
        "range_p99_bp": (100.0, 600.0),
        "wick_share": (0.40, 0.60),
        "abs_acf1": (0.08, 0.5),
        "liq_long_median_pct": (0.02, 3.0),
        "liq_short_median_pct": (0.005, 3.0),
        "liq_p90_pct": (0.2, 10.0),
        "baseline_long": (0.5, 0.95),
        "baseline_short": (0.45, 0.95),
    }
    outside = {k: round(facts[k], 3) for k, (lo, hi) in bands.items() if not lo <= facts[k] <= hi}
    assert not outside, outside
    # Longs lean: more longs than shorts are liquidated, as on real BTC.
    assert facts["liq_long_median_pct"] > facts["liq_short_median_pct"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"regime": "panic"}, "regime"),
        ({"crowd_mix": (1.0, 2.0)}, "crowd_mix"),
        ({"volatility": -1.0}, "volatility"),
        ({"days": 0.01}, "days"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        simulate(**({"days": 2, "interval": "15m"} | kwargs))


def test_stress_builds_up_over_weeks_then_cascades_whatever_the_history_length() -> None:
    # Leverage piles up over the last 45 days only: on half a year most cascades come at
    # the end (a whole-history ramp spread 23-49 cascades over the half year instead).
    for seed in (0, 1):
        sim = simulate(180, "15m", seed, regime="stress")
        found = cascades(sim)
        build_up = sim.market.index[-1] - pd.Timedelta(days=REGIMES["stress"].ramp_days)
        assert len(found) >= 1
        assert (found["start"] >= build_up).mean() >= 0.75
