"""Tests of the liquidation model: the fast engine against a slow reference, its mechanisms."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liqcore import model
from liqcore.model import (
    ASSUMPTIONS,
    DEFAULT_TIERS,
    BarPath,
    Estimate,
    ModelParams,
    assumptions_table,
    bin_index,
    clusters_from_levels,
    estimate,
    first_crossing,
    levels_frame,
    liquidation_price,
)
from tests.reference import ReferenceResult, reference_estimate
from tests.strategies import market_frames, markets_and_params, random_walk_market

# No "explain" phase: it traces pandas line by line and turns a failure report into minutes.
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)


QUICK_PROPERTY = settings(PROPERTY, max_examples=40)


FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def _by_tier(frame: pd.DataFrame, side: str, params: ModelParams) -> np.ndarray:
    """Per-tier columns ``<side>_usd_<L>x`` of a levels or realized frame as a (K, rows) array."""
    return np.array([frame[f"{side}_usd_{label}"].to_numpy() for label in params.tier_labels()])


def _assert_matches_reference(est: Estimate, ref: ReferenceResult, params: ModelParams) -> None:
    # Absolute slack for what the engine cannot represent exactly: a book "closed" by a
    # falling OI keeps 1e-12 of its value (log weights must stay finite).
    slack = 1e-9 * ref.opened_usd + FLOAT32_TINY
    np.testing.assert_array_equal(est.heatmap.grid.column_end, ref.column_end)
    np.testing.assert_array_equal(est.heatmap.grid.price_edges, ref.price_edges)
    peak = max(np.abs(ref.heatmap_long).max(), np.abs(ref.heatmap_short).max())
    heatmap = est.heatmap
    for fast, slow in ((heatmap.long, ref.heatmap_long), (heatmap.short, ref.heatmap_short)):
        assert fast.dtype == np.float32
        assert fast.shape == slow.shape
        # float32 storage: compare relative to the largest value on the map.
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-5 * peak + slack)
    for side, slow in (("long", ref.levels_long), ("short", ref.levels_short)):
        np.testing.assert_allclose(_by_tier(est.levels, side, params), slow, rtol=1e-7, atol=slack)
        np.testing.assert_allclose(
            est.levels[f"{side}_usd"], slow.sum(axis=0), rtol=1e-7, atol=slack
        )
    for side, slow in (("long", ref.realized_long), ("short", ref.realized_short)):
        np.testing.assert_allclose(
            _by_tier(est.realized, side, params), slow, rtol=1e-7, atol=slack
        )
        np.testing.assert_allclose(
            est.realized[f"{side}_usd"], slow.sum(axis=0), rtol=1e-7, atol=slack
        )


@PROPERTY
@given(markets_and_params(), st.data())
def test_estimate_matches_slow_reference(
    market_params: tuple[pd.DataFrame, ModelParams], data: st.DataObject
) -> None:
    market, params = market_params
    start_bar = data.draw(st.integers(0, len(market) - 1), label="start_bar")
    start = market.index[start_bar] if start_bar else None
    est = estimate(market, params, start=start)
    ref = reference_estimate(market, params, start_bar=start_bar)
    _assert_matches_reference(est, ref, params)


def test_reference_matches_on_a_long_default_run() -> None:
    # Defaults (600 x 300 grid, five tiers, mix opening) on 300 bars: columns are single bars.
    market = random_walk_market(300, seed=3)
    params = ModelParams.classic(half_life_hours=(None, 48.0, None, 12.0, 6.0))
    _assert_matches_reference(estimate(market, params), reference_estimate(market, params), params)


def test_reference_matches_with_columns_that_aggregate_bars() -> None:
    market = random_walk_market(500, seed=4, volatility=0.02)
    params = ModelParams.classic(time_bins=37, price_bins=50, liquidate_in_opening_bar=False)
    _assert_matches_reference(estimate(market, params), reference_estimate(market, params), params)


@pytest.mark.parametrize("in_opening_bar", [True, False])
def test_a_level_exactly_at_the_price_is_reached(in_opening_bar: bool) -> None:
    # Entry at the open (100); 2x without maintenance margin: long level 50, short level 150,
    # exactly. Bar 0 closes exactly on the long level, bar 2 wicks exactly to the short level.
    index = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    market = pd.DataFrame(
        {
            "open": [100.0, 55.0, 60.0, 60.0],
            "high": [100.0, 60.0, 150.0, 60.0],
            "low": [50.0, 50.5, 60.0, 60.0],
            "close": [50.0, 60.0, 60.0, 60.0],
            "volume": [1.0, 0.0, 0.0, 0.0],
            "open_interest": 0.0,
        },
        index=index,
    )
    params = ModelParams.classic(
        opening="volume",
        volume_open_share=1.0,
        leverage_tiers=(2.0,),
        tier_weights=(1.0,),
        mmr=0.0,
        entry="open",
        liquidate_in_opening_bar=in_opening_bar,
        price_range=(1.0, 200.0),
    )
    assert float(liquidation_price(100.0, 2.0, "long", 0.0)) == 50.0
    assert float(liquidation_price(100.0, 2.0, "short", 0.0)) == 150.0
    est = estimate(market, params)
    # Longs opened 100 USD in bar 0 and die in it: by the wick or by the close, both at 50.
    assert est.realized["long_usd"].tolist() == pytest.approx([100.0, 0.0, 0.0, 0.0])
    # Shorts die when bar 2's high touches 150 (bar 0's high of 100 is far from it).
    assert est.realized["short_usd"].tolist() == pytest.approx([0.0, 0.0, 100.0, 0.0])
    assert est.levels[["long_usd", "short_usd"]].to_numpy().sum() == 0
    _assert_matches_reference(est, reference_estimate(market, params), params)


@settings(PROPERTY, max_examples=100)
@given(markets_and_params())
def test_no_level_survives_on_the_wrong_side_of_price(
    market_params: tuple[pd.DataFrame, ModelParams],
) -> None:
    market, params = market_params
    built: list[model.Cohorts] = []

    class RecordedCohorts(model.Cohorts):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    with mock.patch.object(model, "Cohorts", RecordedCohorts):
        est = estimate(market, params)
    price = est.price
    assert price == market["close"].iloc[-1]

    # Bin level: a bin entirely at/above price holds no long USD, entirely at/below no short USD.
    levels = est.levels
    assert (levels.loc[levels["price_low"] >= price, "long_usd"] == 0).all()
    assert (levels.loc[levels["price_high"] <= price, "short_usd"] == 0).all()

    # Cohort level: every cohort the engine built that is still open after the last bar.
    assert built, "estimate no longer builds Cohorts: update this check"
    for cohorts in built:
        alive = cohorts.removal_bar >= len(market)
        assert (cohorts.liq_price[alive & cohorts.is_long] < price).all()
        assert (cohorts.liq_price[alive & ~cohorts.is_long] > price).all()

    # The same holds at the close of every heatmap column (up to float cancellation residues).
    heatmap, grid = est.heatmap, est.heatmap.grid
    close = market["close"].to_numpy()[grid.column_end]
    residue = 1e-6 * max(float(heatmap.total.max()), 1.0)
    wrong_long = grid.price_edges[None, :-1] >= close[:, None]
    wrong_short = grid.price_edges[None, 1:] <= close[:, None]
    assert (heatmap.long[wrong_long] <= residue).all()
    assert (heatmap.short[wrong_short] <= residue).all()


@PROPERTY
@given(
    entry=st.floats(1e-6, 1e7),
    leverage=st.floats(1.0001, 1_000.0),
    mmr=st.floats(0.0, 0.99),
)
def test_liquidation_price_is_the_isolated_margin_formula(
    entry: float, leverage: float, mmr: float
) -> None:
    long = float(liquidation_price(entry, leverage, "long", mmr))
    short = float(liquidation_price(entry, leverage, "short", mmr))
    assert long == pytest.approx(entry * (1 - 1 / leverage) / (1 - mmr), rel=1e-12)
    assert short == pytest.approx(entry * (1 + 1 / leverage) / (1 + mmr), rel=1e-12)
    # At that price the equity (margin ± P&L, per unit) equals the maintenance margin.
    margin = entry / leverage
    assert margin + (long - entry) == pytest.approx(mmr * long, abs=1e-9 * entry)
    assert margin - (short - entry) == pytest.approx(mmr * short, abs=1e-9 * entry)
    if mmr < 1 / leverage:
        assert long < entry < short


def test_liquidation_price_known_values() -> None:
    assert float(liquidation_price(100_000, 10, "long", mmr=0.004)) == 90361.44578313253
    np.testing.assert_array_equal(
        liquidation_price(100.0, [10, 100], "short").round(3), [109.562, 100.598]
    )
    # Without maintenance margin a 10x long dies after a 10% fall, a 2x short after +50%.
    assert float(liquidation_price(100.0, 10, "long", mmr=0.0)) == pytest.approx(90.0)
    assert float(liquidation_price(100.0, 2, "short", mmr=0.0)) == pytest.approx(150.0)


def test_liquidation_price_sides_as_arrays() -> None:
    expected = [
        float(liquidation_price(100.0, 20, "long")),
        float(liquidation_price(100.0, 20, "short")),
    ]
    np.testing.assert_array_equal(
        liquidation_price(100.0, 20, np.array(["long", "short"])), expected
    )
    np.testing.assert_array_equal(liquidation_price(100.0, 20, np.array([True, False])), expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"side": "buy"}, "side must be 'long' or 'short', got 'buy'"),
        ({"side": np.array(["long", "sell"])}, "side must be 'long' or 'short', got 'sell'"),
        ({"leverage": 0}, "leverage must be positive, got 0"),
        ({"leverage": [10, -5]}, r"leverage must be positive, got \[10, -5\]"),
        ({"mmr": -0.01}, r"mmr must be a fraction in \[0, 1\), got -0.01"),
        ({"mmr": 1.0}, r"mmr must be a fraction in \[0, 1\), got 1.0"),
    ],
)
def test_liquidation_price_rejects_bad_input(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"entry": 100.0, "leverage": 10, "side": "long", "mmr": 0.004} | kwargs
    with pytest.raises(ValueError, match=message):
        liquidation_price(**arguments)


def _first_crossing_brute_force(
    low: np.ndarray, high: np.ndarray, start: int, price: float, is_long: bool
) -> int:
    for bar in range(max(start, 0), len(low)):
        if (low[bar] <= price) if is_long else (high[bar] >= price):
            return bar
    return len(low)


@st.composite
def _crossing_problems(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(0, 70))
    base = draw(st.sampled_from([1.0, 100.0, 60_000.123456]))
    low = base * (1 + draw(hnp.arrays("float64", n, elements=st.floats(-0.1, 0.1))))
    high = low * (1 + draw(hnp.arrays("float64", n, elements=st.floats(0.0, 0.05))))
    m = draw(st.integers(1, 30))
    is_long = draw(hnp.arrays(bool, m))
    start = draw(hnp.arrays("int64", m, elements=st.integers(0, n + 2)))
    price = np.empty(m)
    for j in range(m):
        if n and draw(st.booleans()):
            # Exactly at, or a hair (one ulp, or below float32 resolution) off, a bar's extreme.
            bar = draw(st.integers(0, n - 1))
            anchor = low[bar] if is_long[j] else high[bar]
            nudge = draw(st.sampled_from([0.0, 1e-9, -1e-9, 1e-12, -1e-12]))
            price[j] = anchor * (1 + nudge)
            price[j] = np.nextafter(price[j], draw(st.sampled_from([-np.inf, np.inf, price[j]])))
        else:
            price[j] = base * (1 + draw(st.floats(-0.2, 0.2)))
    return low, high, start, price, is_long


@PROPERTY
@given(_crossing_problems())
def test_first_crossing_matches_brute_force(problem: tuple[np.ndarray, ...]) -> None:
    low, high, start, price, is_long = problem
    expected = [
        _first_crossing_brute_force(low, high, int(s), float(p), bool(side))
        for s, p, side in zip(start, price, is_long, strict=True)
    ]
    assert first_crossing(low, high, start, price, is_long).tolist() == expected


def test_first_crossing_on_a_long_history() -> None:
    rng = np.random.default_rng(7)
    low = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.002, 5_000)))
    high = low * 1.001
    start = rng.integers(0, 5_000, 400)
    # Levels exactly at, and one ulp either side of, some lows and highs.
    bars = rng.integers(0, 5_000, 400)
    is_long = rng.random(400) < 0.5
    price = np.where(is_long, low[bars], high[bars])
    price = np.nextafter(price, np.where(rng.random(400) < 0.5, -np.inf, np.inf))
    expected = [
        _first_crossing_brute_force(low, high, int(s), float(p), bool(side))
        for s, p, side in zip(start, price, is_long, strict=True)
    ]
    assert first_crossing(low, high, start, price, is_long).tolist() == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"opening": "turnover"}, "opening must be 'oi', 'volume' or 'mix', got 'turnover'"),
        ({"split": "coin"}, "split must be 'even', 'taker' or 'ratio', got 'coin'"),
        ({"entry": "vwap"}, "entry must be 'path', 'typical', 'close', 'open' or 'hl2', got 'vw"),
        ({"leverage_tiers": (), "tier_weights": ()}, "choose at least one leverage tier"),
        ({"leverage_tiers": (10.0, 20.0), "tier_weights": (1.0,)}, "2 leverage tiers but 1"),
        ({"leverage_tiers": (1.0, 10.0), "tier_weights": (1, 1)}, "must be above 1x"),
        ({"leverage_tiers": (0.5,), "tier_weights": (1,)}, "must be above 1x"),
        ({"leverage_tiers": (10.0, 10.0), "tier_weights": (1, 1)}, "must be distinct"),
        ({"leverage_tiers": (10.0, 10.0000001), "tier_weights": (1, 1)}, r"\['10x', '10x'\]"),
        ({"leverage_tiers": (10.0,), "tier_weights": (-1,)}, "non-negative with a positive"),
        ({"leverage_tiers": (10.0, 20.0), "tier_weights": (0, 0)}, "positive sum"),
        ({"leverage_tiers": (10.0,), "tier_weights": (float("nan"),)}, "tier weights must"),
        ({"leverage_tiers": (10.0,), "tier_weights": (float("inf"),)}, "tier weights must"),
        ({"mmr": -0.001}, r"mmr must be a fraction in \[0, 0.5\), got -0.001"),
        ({"mmr": 0.5}, r"mmr must be a fraction in \[0, 0.5\), got 0.5"),
        ({"volume_weight": 1.5}, r"volume_weight must be in \[0, 1\], got 1.5"),
        ({"volume_weight": -0.1}, r"volume_weight must be in \[0, 1\]"),
        ({"volume_open_share": 2.0}, r"volume_open_share must be in \[0, 1\], got 2.0"),
        ({"half_life_hours": (24.0,)}, "one entry \\(or None\\) per leverage tier"),
        ({"half_life_hours": (24.0, None, 0.0, None, None)}, "half lives must be positive"),
        ({"half_life_hours": (24.0, None, -1.0, None, None)}, "half lives must be positive"),
        ({"time_bins": 1}, "grid of 1 x 300 is out of range"),
        ({"time_bins": 20_001}, "grid of 20001 x 300 is out of range"),
        ({"price_bins": 1}, "grid of 600 x 1 is out of range"),
        ({"price_bins": 5_001}, "grid of 600 x 5001 is out of range"),
        ({"price_range": (0.0, 100.0)}, "0 < low < high"),
        ({"price_range": (100.0, 100.0)}, "0 < low < high"),
        ({"price_range": (120.0, 100.0)}, r"got \(120.0, 100.0\)"),
    ],
)
def test_model_params_reject_each_bad_value(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelParams(**changes)


def test_model_params_defaults_and_weights() -> None:
    params = ModelParams()
    assert params.leverage_tiers == (5.0, 10.0, 25.0, 50.0, 100.0)
    assert params.normalized_weights().sum() == pytest.approx(1.0)
    assert params.tier_labels() == ["5x", "10x", "25x", "50x", "100x"]
    two = ModelParams(leverage_tiers=(10, 100), tier_weights=(3, 1))
    np.testing.assert_allclose(two.normalized_weights(), [0.75, 0.25])
    with pytest.raises(ValueError, match="mmr"):
        model.with_params(params, mmr=0.7)


@pytest.fixture(scope="module")
def walk() -> pd.DataFrame:
    return random_walk_market(400, seed=11)


def test_estimate_shapes_and_units(walk: pd.DataFrame) -> None:
    params = ModelParams(time_bins=100, price_bins=80)
    est = estimate(walk, params)
    heatmap = est.heatmap
    assert heatmap.long.dtype == heatmap.short.dtype == np.float32
    assert heatmap.long.shape == heatmap.short.shape == (100, 80)
    assert len(heatmap.times) == 100 and heatmap.times[0] == walk.index[0]
    assert len(heatmap.prices) == 80 and (np.diff(heatmap.prices) > 0).all()
    assert heatmap.grid.column_end[-1] == len(walk) - 1
    assert est.price == walk["close"].iloc[-1]
    assert len(est.levels) == 80
    assert est.realized.index.equals(walk.index)
    labels = params.tier_labels()
    assert list(est.realized.columns) == ["long_usd", "short_usd"] + [
        f"{side}_usd_{label}" for label in labels for side in ("long", "short")
    ]
    # The last heatmap column is the book at the last bar, the same as the levels.
    last = heatmap.long[-1].astype("float64")
    np.testing.assert_allclose(last, est.levels["long_usd"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(heatmap.short[-1], est.levels["short_usd"], rtol=1e-5, atol=1e-3)
    assert est.levels["long_usd"].sum() > 0 and est.levels["short_usd"].sum() > 0
    assert est.warnings == []


@QUICK_PROPERTY
@given(markets_and_params())
def test_levels_cumulate_away_from_price(market_params: tuple[pd.DataFrame, ModelParams]) -> None:
    market, params = market_params
    est = estimate(market, params)
    levels, price = est.levels, est.price
    # A bin is on a side if any of its prices is (the straddling bin is on both).
    below = levels["price_low"].to_numpy() < price
    above = levels["price_high"].to_numpy() > price
    long_usd, short_usd = levels["long_usd"].to_numpy(), levels["short_usd"].to_numpy()
    # Every long still open lies below the price, every short above: the curves reach them all.
    assert levels["cum_long_usd"].max() == pytest.approx(long_usd.sum(), rel=1e-9, abs=1e-9)
    assert levels["cum_short_usd"].max() == pytest.approx(short_usd.sum(), rel=1e-9, abs=1e-9)
    assert (levels["cum_long_usd"].to_numpy()[~below] == 0).all()
    assert (levels["cum_short_usd"].to_numpy()[~above] == 0).all()
    assert (np.diff(levels["cum_long_usd"].to_numpy()[below]) <= 1e-9 * long_usd.sum()).all()
    assert (np.diff(levels["cum_short_usd"].to_numpy()[above]) >= -1e-9 * short_usd.sum()).all()
    for column in ("long_usd", "short_usd", "cum_long_usd", "cum_short_usd"):
        assert levels[column].dtype == np.float64


def test_levels_frame_example() -> None:
    edges = np.array([90.0, 95, 100, 105, 110])
    lv = levels_frame(np.array([[1.0, 2, 0, 0]]), np.array([[0.0, 0, 3, 4]]), edges, 100.0, ["10x"])
    assert lv["price"].tolist() == [92.5, 97.5, 102.5, 107.5]
    assert lv["cum_long_usd"].tolist() == [3.0, 2.0, 0.0, 0.0]
    assert lv["cum_short_usd"].tolist() == [0.0, 0.0, 3.0, 7.0]
    assert lv["long_usd_10x"].tolist() == [1.0, 2.0, 0.0, 0.0]


@QUICK_PROPERTY
@given(markets_and_params(min_bars=3), st.data())
def test_start_only_changes_the_window(
    market_params: tuple[pd.DataFrame, ModelParams], data: st.DataObject
) -> None:
    market, params = market_params
    # One bar per column and a fixed price axis, so both runs share the grid's bins.
    price_range = (float(market["low"].min()) * 0.5, float(market["high"].max()) * 1.5)
    params = replace(params, time_bins=100, price_range=price_range)
    start_bar = data.draw(st.integers(1, len(market) - 1), label="start_bar")
    full = estimate(market, params)
    window = estimate(market, params, start=market.index[start_bar])
    assert window.heatmap.times[0] == market.index[start_bar]
    assert len(window.heatmap.times) == len(market) - start_bar
    pd.testing.assert_frame_equal(window.levels, full.levels)
    pd.testing.assert_frame_equal(window.realized, full.realized)
    peak = max(float(full.heatmap.total.max()), FLOAT32_TINY)
    np.testing.assert_allclose(
        window.heatmap.long, full.heatmap.long[start_bar:], rtol=0, atol=1e-6 * peak
    )
    np.testing.assert_allclose(
        window.heatmap.short, full.heatmap.short[start_bar:], rtol=0, atol=1e-6 * peak
    )


def test_start_accepts_naive_and_string_times(walk: pd.DataFrame) -> None:
    params = ModelParams(time_bins=50, price_bins=40, price_range=(40_000.0, 80_000.0))
    aware = estimate(walk, params, start=walk.index[100])
    naive = estimate(walk, params, start=walk.index[100].tz_localize(None))
    text = estimate(walk, params, start=str(walk.index[100].tz_localize(None)))
    for other in (naive, text):
        assert other.heatmap.times.equals(aware.heatmap.times)
        np.testing.assert_array_equal(other.heatmap.long, aware.heatmap.long)
    late = estimate(walk, params, start="2100-01-01")  # after the data: the last bar only
    assert len(late.heatmap.times) == 1


def _mean_distance(est: Estimate) -> float:
    """USD-weighted mean distance of all levels from the current price, in percent."""
    levels = est.levels
    usd = levels["long_usd"] + levels["short_usd"]
    distance = (levels["price"] - est.price).abs() / est.price * 100
    return float((usd * distance).sum() / usd.sum())


def test_dropping_the_100x_tier_moves_levels_away_from_price(walk: pd.DataFrame) -> None:
    with_100x = estimate(walk, ModelParams())
    without = estimate(
        walk,
        ModelParams(leverage_tiers=(5.0, 10.0, 25.0, 50.0), tier_weights=(0.3, 0.3, 0.2, 0.12)),
    )
    assert _mean_distance(without) > _mean_distance(with_100x)
    assert "long_usd_100x" not in without.levels.columns


@QUICK_PROPERTY
@given(market_frames(), st.floats(0.5, 20.0))
def test_book_scales_with_open_interest(market: pd.DataFrame, factor: float) -> None:
    params = ModelParams(opening="oi", time_bins=20, price_bins=20, price_range=(1e-3, 1e6))
    bigger = market.assign(open_interest=market["open_interest"] * factor)
    base, scaled = estimate(market, params), estimate(bigger, params)
    slack = 1e-9 * factor * float(market["open_interest"].max()) + FLOAT32_TINY
    for column in ("long_usd", "short_usd"):
        np.testing.assert_allclose(
            scaled.levels[column], factor * base.levels[column], rtol=1e-9, atol=slack
        )
        np.testing.assert_allclose(
            scaled.realized[column], factor * base.realized[column], rtol=1e-9, atol=slack
        )


def test_more_open_interest_means_more_usd_at_risk(walk: pd.DataFrame) -> None:
    grown = walk.assign(open_interest=walk["open_interest"] * np.linspace(1.0, 3.0, len(walk)))
    usd = [
        estimate(frame).levels[["long_usd", "short_usd"]].to_numpy().sum()
        for frame in (walk, grown)
    ]
    assert usd[1] > usd[0]


@pytest.mark.parametrize("classic", [False, True])
def test_flat_open_interest_opens_nothing_with_oi_opening(
    walk: pd.DataFrame, classic: bool
) -> None:
    # Open interest counts contracts (a price move alone opens nothing); the classic model
    # counts its USD.
    flat = walk.assign(open_interest=1e9 if classic else 2e4 * walk["close"])
    params = (ModelParams.classic if classic else ModelParams)(
        opening="oi", time_bins=50, price_bins=40
    )
    est = estimate(flat, params)
    assert not est.heatmap.total.any()
    assert not est.levels[["long_usd", "short_usd", "cum_long_usd", "cum_short_usd"]].any().any()
    assert not est.realized.any().any()
    assert est.clusters().empty
    assert est.warnings == []
    # An empty book still has float USD columns.
    assert (est.levels.drop(columns=["price", "price_low", "price_high"]).dtypes == "float64").all()
    assert (est.realized.dtypes == "float64").all()


def test_zero_open_interest_warns_instead_of_failing(walk: pd.DataFrame) -> None:
    zero = walk.assign(open_interest=0.0)
    est = estimate(zero, ModelParams(time_bins=50, price_bins=40))
    assert any("open interest is zero" in warning for warning in est.warnings)
    # Volume still opens positions; they only leave the book when liquidated.
    assert est.levels["long_usd"].sum() > 0
    assert est.realized["long_usd"].sum() > 0
    only_oi = estimate(zero, ModelParams(opening="oi", time_bins=50, price_bins=40))
    assert not only_oi.heatmap.total.any()
    assert any("open interest is zero" in warning for warning in only_oi.warnings)


@pytest.mark.parametrize(
    ("split", "column"), [("taker", "taker_buy_volume"), ("ratio", "long_short_ratio")]
)
def test_missing_split_column_falls_back_to_even_with_a_warning(
    walk: pd.DataFrame, split: str, column: str
) -> None:
    params = ModelParams(split=split, time_bins=50, price_bins=40)
    est = estimate(walk.drop(columns=column), params)
    even = estimate(walk, replace(params, split="even"))
    assert any(column in warning and "50/50" in warning for warning in est.warnings)
    pd.testing.assert_frame_equal(est.levels, even.levels)


def test_taker_buying_tilts_the_book_to_longs(walk: pd.DataFrame) -> None:
    params = ModelParams(split="taker", time_bins=50, price_bins=40)
    buyers = estimate(walk.assign(taker_buy_volume=walk["volume"] * 0.9), params)
    sellers = estimate(walk.assign(taker_buy_volume=walk["volume"] * 0.1), params)
    # Every opened long is either still on the map or was realized.
    opened_long = [
        e.levels["long_usd"].sum() + e.realized["long_usd"].sum() for e in (buyers, sellers)
    ]
    assert opened_long[0] > opened_long[1]


def test_half_life_fades_old_levels(walk: pd.DataFrame) -> None:
    params = ModelParams(time_bins=50, price_bins=40)
    kept = estimate(walk, params).levels["long_usd"].sum()
    faded = estimate(walk, replace(params, half_life_hours=(6.0,) * 5)).levels["long_usd"].sum()
    assert 0 < faded < kept


def test_estimate_rejects_a_bad_market(walk: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="missing column 'open_interest'"):
        estimate(walk.drop(columns="open_interest"))


def _check_clusters(est: Estimate, n: int) -> pd.DataFrame:
    clusters = est.clusters(n=n)
    levels = est.levels
    below = levels["price"] <= est.price  # a bin belongs to the side of price its centre is on
    if clusters.empty:
        assert levels.loc[below, "long_usd"].sum() == levels.loc[~below, "short_usd"].sum() == 0
        return clusters
    assert list(clusters.columns) == [
        "side",
        "price_low",
        "price_high",
        "price",
        "usd",
        "distance_pct",
    ]
    for side, group in clusters.groupby("side"):
        assert len(group) <= n
        assert (np.diff(group["usd"].to_numpy()) <= 0).all(), "largest zone first"
        for zone in group.itertuples():
            assert zone.price_low < zone.price_high
            assert zone.price_low <= zone.price <= zone.price_high
            inside = (levels["price_low"] >= zone.price_low) & (
                levels["price_high"] <= zone.price_high
            )
            assert zone.usd == pytest.approx(levels.loc[inside, f"{side}_usd"].sum())
            assert zone.usd > 0
    longs, shorts = clusters[clusters["side"] == "long"], clusters[clusters["side"] == "short"]
    assert (longs["price"] <= est.price).all() and (longs["distance_pct"] <= 0).all()
    assert (shorts["price"] > est.price).all() and (shorts["distance_pct"] > 0).all()
    np.testing.assert_allclose(
        clusters["distance_pct"], (clusters["price"] - est.price) / est.price * 100
    )
    return clusters


def test_clusters_on_a_random_walk(walk: pd.DataFrame) -> None:
    est = estimate(walk, ModelParams(time_bins=50, price_bins=120))
    clusters = _check_clusters(est, n=3)
    assert set(clusters["side"]) == {"long", "short"}
    big = clusters["usd"].min()
    kept = est.clusters(n=3, min_usd=big * 1.0001)
    assert len(kept) == len(clusters) - (clusters["usd"] == big).sum()


@QUICK_PROPERTY
@given(markets_and_params(), st.integers(1, 4))
def test_clusters_sorted_and_on_the_right_side(
    market_params: tuple[pd.DataFrame, ModelParams], n: int
) -> None:
    market, params = market_params
    _check_clusters(estimate(market, params), n=n)


def test_clusters_example() -> None:
    edges = np.arange(90.0, 111.0, 1.0)
    longs = np.zeros(20)
    longs[[2, 3, 7]] = [5.0, 6.0, 1.0]
    shorts = np.zeros(20)
    shorts[15] = 9.0
    levels = levels_frame(longs[None], shorts[None], edges, 100.0, ["10x"])
    clusters = clusters_from_levels(levels, 100.0, n=1)
    assert clusters[["side", "price_low", "price_high", "usd"]].to_dict("records") == [
        {"side": "short", "price_low": 105.0, "price_high": 106.0, "usd": 9.0},
        {"side": "long", "price_low": 92.0, "price_high": 94.0, "usd": 11.0},
    ]
    assert clusters_from_levels(levels, 100.0, n=1, min_usd=10.0)["side"].tolist() == ["long"]


def _market(rows: list[tuple[float, float, float, float]], oi: list[float] | float = 1e9):
    index = pd.date_range("2024-01-01", periods=len(rows), freq="1h", tz="UTC")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    return frame.assign(volume=1_000.0, open_interest=oi)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=4, max_size=30),
    st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=4, max_size=30),
    st.floats(0.01, 0.99),
)
def test_cumulative_curves_reach_every_level_on_their_side(
    longs: list[float], shorts: list[float], where: float
) -> None:
    # Price anywhere inside a bin, also above its centre: longs sit below the price, shorts
    # above, so the far ends of the curves hold every long and every short. Counting bins by
    # their centre dropped the straddling bin's longs when the price was below its centre.
    bins = min(len(longs), len(shorts))
    edges = np.linspace(90.0, 110.0, bins + 1)
    straddling = bins // 2
    price = edges[straddling] + where * (edges[straddling + 1] - edges[straddling])
    long_usd = np.where(edges[:-1] < price, np.asarray(longs[:bins]), 0.0)
    short_usd = np.where(edges[1:] > price, np.asarray(shorts[:bins]), 0.0)
    levels = levels_frame(long_usd[None], short_usd[None], edges, price, ["10x"])
    assert levels["cum_long_usd"].iloc[0] == pytest.approx(long_usd.sum(), rel=1e-12, abs=1e-9)
    assert levels["cum_short_usd"].iloc[-1] == pytest.approx(short_usd.sum(), rel=1e-12, abs=1e-9)
    # The straddling bin's own levels are the first the price reaches on each side.
    assert levels["cum_long_usd"].iloc[straddling] == pytest.approx(long_usd[straddling])
    assert levels["cum_short_usd"].iloc[straddling] == pytest.approx(short_usd[straddling])


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(DEFAULT_TIERS), min_size=1))
def test_dropping_tiers_keeps_the_other_bands(kept: set[float]) -> None:
    every = ModelParams()
    tiers = tuple(sorted(kept))
    some = ModelParams(leverage_tiers=tiers, tier_weights=(1.0,) * len(tiers))
    low_all, high_all = every.leverage_bands()
    low, high = some.leverage_bands()
    for k, tier in enumerate(tiers):
        j = DEFAULT_TIERS.index(tier)
        assert (low[k], high[k]) == (low_all[j], high_all[j])
        assert low[k] <= tier <= high[k]
    # All five bands tile the leverage range without gaps.
    assert low_all[0] == every.leverage_range[0] and high_all[-1] == every.leverage_range[1]
    np.testing.assert_allclose(low_all[1:], high_all[:-1])


def test_continuous_leverage_spreads_a_bar_over_its_bands() -> None:
    # One bar opens positions, then price stays inside that bar's range: the book is what
    # the bar opened. Five spikes in the classic model, a spread with continuous leverage.
    rows = [(100.0, 100.5, 99.5, 100.0)] + [(100.0, 100.01, 99.99, 100.0)] * 5
    market = _market(rows)
    grid = {"price_bins": 400, "price_range": (50.0, 150.0), "time_bins": 6}
    spikes = estimate(market, ModelParams.classic(opening="volume", **grid)).levels
    spread = estimate(
        market, ModelParams(opening="volume", cross_share=0.0, entry="typical", **grid)
    ).levels
    assert (spikes["long_usd"] > 0).sum() <= 5
    assert (spread["long_usd"] > 0).sum() >= 40
    # Every level still lies inside the leverage range's liquidation prices.
    low = ModelParams().leverage_range[0]
    entry = (100.5 + 99.5 + 100.0) / 3
    deepest = liquidation_price(entry, low, "long")
    assert spread.loc[spread["long_usd"] > 0, "price_low"].min() >= deepest - 0.25


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 1.0), st.floats(0.05, 0.3))
def test_cross_margin_moves_usd_away_from_price(share: float, buffer: float) -> None:
    market = random_walk_market(200, seed=5)
    price = float(market["close"].iloc[-1])
    base = ModelParams(price_bins=200, price_range=(price * 0.3, price * 1.7))

    def distance(params: ModelParams) -> float:
        levels = estimate(market, params).levels
        usd = levels["long_usd"] + levels["short_usd"]
        return float(np.average(np.abs(levels["price"] - price), weights=usd))

    isolated = distance(replace(base, cross_share=0.0))
    cross = distance(replace(base, cross_share=share, cross_buffer=(buffer, buffer + 0.1)))
    assert cross > isolated


def test_a_cross_margin_buffer_is_extra_distance() -> None:
    iso = liquidation_price(100.0, 20.0, "long", 0.004)
    cross = liquidation_price(100.0, 20.0, "long", 0.004, buffer=0.3)
    assert float(iso - cross) == pytest.approx(30.0 / (1 - 0.004))
    # A buffer that covers the whole fall cannot be liquidated (price 0, never reached).
    assert float(liquidation_price(100.0, 2.0, "long", 0.0, buffer=0.6)) == 0.0


def test_closes_fall_on_short_holding_high_leverage_first() -> None:
    # Quiet prices (no liquidation), OI rises for a day then falls: the closes are shared
    # by holding time, so 100x keeps a smaller share of what it opened than 5x does.
    n = 48
    rows = [(100.0, 100.05, 99.95, 100.0)] * n
    oi = np.concatenate([np.linspace(1e8, 2e8, 24), np.linspace(2e8, 1.2e8, 24)])
    market = _market(rows, oi=oi)
    grid = {"price_range": (10.0, 200.0)}
    params = ModelParams(opening="oi", cross_share=0.0, entry="typical", **grid)
    levels = estimate(market, params).levels
    weights = params.normalized_weights()
    kept = [
        levels[f"long_usd_{label}"].sum() / w
        for label, w in zip(params.tier_labels(), weights, strict=True)
    ]
    assert kept[-1] < kept[0]
    flat = estimate(market, ModelParams.classic(opening="oi", **grid)).levels
    kept_flat = [
        flat[f"long_usd_{label}"].sum() / w
        for label, w in zip(params.tier_labels(), weights, strict=True)
    ]
    np.testing.assert_allclose(kept_flat, kept_flat[0], rtol=1e-9)


def test_holding_half_life_follows_leverage() -> None:
    params = ModelParams(holding_hours=30.0, holding_exponent=0.5)
    np.testing.assert_allclose(
        params.holding_half_life(), 30.0 * np.sqrt(10.0 / np.asarray(DEFAULT_TIERS))
    )
    assert ModelParams(holding_hours=None).holding_half_life() is None


def test_liquidations_are_not_also_counted_as_closes() -> None:
    # A crash liquidates the high-leverage longs and open interest falls by about that much:
    # with closes net of liquidations the survivors are not also closed.
    rows = (
        [(100.0, 100.2, 99.8, 100.0)] * 6
        + [(100.0, 100.0, 96.0, 97.0)]
        + [(97.0, 97.2, 96.8, 97.0)] * 4
    )
    oi = [1e8] * 6 + [0.97e8] * 5
    market = _market(rows, oi=oi)
    base = ModelParams(opening="volume", cross_share=0.0, entry="typical", holding_hours=48.0)
    net = estimate(market, base)
    gross = estimate(market, replace(base, closes_net_of_liquidations=False))
    assert net.realized["long_usd"].iloc[6] > 0
    assert net.levels["long_usd"].sum() > gross.levels["long_usd"].sum()


@settings(max_examples=100, deadline=None)
@given(
    st.floats(50.0, 150.0),
    st.floats(0.0, 10.0),
    st.floats(0.0, 10.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_path_entries_lie_in_the_bar_and_see_only_later_extremes(
    open_: float, up: float, down: float, close_at: float, where: float
) -> None:
    high, low = open_ + up, open_ - down
    close = low + close_at * (high - low)
    market = _market([(open_, high, low, close)])
    path = BarPath.of(market)
    bar = np.array([0])
    entry, leg = path.entry(bar, np.array([where]))
    assert low - 1e-9 <= entry[0] <= high + 1e-9
    after_low = path.extreme_after(bar, leg, True)[0]
    after_high = path.extreme_after(bar, leg, False)[0]
    # What follows the entry ends at the close (the entry itself is above its longs' levels).
    assert low - 1e-9 <= after_low <= close + 1e-9
    assert close - 1e-9 <= after_high <= high + 1e-9
    if close >= open_ and leg[0] == 2:  # up bar, last leg: after the low, only the close
        assert after_low == close


def test_a_long_bought_after_the_low_survives_its_bar() -> None:
    # Same range, opposite order: a bar that falls last liquidates longs bought on its way
    # up; a bar that rises last cannot liquidate those bought after its low.
    down_last = _market([(100.0, 105.0, 95.0, 96.0)] + [(96.0, 96.1, 95.9, 96.0)] * 2)
    up_last = _market([(100.0, 105.0, 95.0, 104.0)] + [(104.0, 104.1, 103.9, 104.0)] * 2)
    params = ModelParams(opening="volume", cross_share=0.0)
    falls = estimate(down_last, params).realized["long_usd"].iloc[0]
    rises = estimate(up_last, params).realized["long_usd"].iloc[0]
    assert falls > 2 * rises
    classic = ModelParams.classic(opening="volume")
    same = [estimate(m, classic).realized["long_usd"].iloc[0] for m in (down_last, up_last)]
    assert same[0] == pytest.approx(same[1], rel=0.05)


def test_every_assumption_is_listed_with_its_meaning() -> None:
    names = [item.name for item in fields(ModelParams)]
    assert sorted(ASSUMPTIONS) == sorted(names)
    table = assumptions_table(ModelParams(cross_share=0.3))
    assert list(table.index) == names
    assert table.loc["cross_share", "value"] == "0.3"
    assert (table["meaning"] != "").all()


def test_open_interest_in_coins_is_a_warning_of_the_estimate() -> None:
    market = random_walk_market(100, seed=2)
    coins = market.assign(open_interest=market["open_interest"] / market["close"])
    warnings = estimate(coins).warnings
    assert any("base units" in warning for warning in warnings)
    assert not any("base units" in warning for warning in estimate(market).warnings)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(1e-3, 1e5),
    st.floats(1.0001, 10.0),
    st.integers(2, 600),
    st.lists(st.floats(-1.0, 2.0), min_size=1, max_size=50),
)
def test_price_bins_are_exactly_searchsorteds(low: float, ratio: float, bins: int, where) -> None:
    edges = np.linspace(low, low * ratio, bins + 1)
    prices = np.concatenate(
        [low + np.asarray(where) * (edges[-1] - low), edges, np.nextafter(edges, 0)]
    )
    expected = np.searchsorted(edges, prices, side="right") - 1
    np.testing.assert_array_equal(bin_index(edges, prices), expected)
