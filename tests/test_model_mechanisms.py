"""The model's newer mechanisms: continuous leverage, cross margin, holding times, closes net of
liquidations, path entries, the cumulative curves, and the assumptions they add."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_walk_market

from liqcore.model import (
    ASSUMPTIONS,
    DEFAULT_TIERS,
    ModelParams,
    _BarPath,
    _price_bin,
    assumptions_table,
    estimate,
    levels_frame,
    liquidation_price,
)


def _market(rows: list[tuple[float, float, float, float]], oi: list[float] | float = 1e9):
    index = pd.date_range("2024-01-01", periods=len(rows), freq="1h", tz="UTC")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    return frame.assign(volume=1_000.0, open_interest=oi)


# --------------------------------------------------------------------------- cumulative curves


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


# --------------------------------------------------------------------------- leverage bands


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


# --------------------------------------------------------------------------- cross margin


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


# --------------------------------------------------------------------------- holding times


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


# --------------------------------------------------------------------------- net closes


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


# --------------------------------------------------------------------------- path entries


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
    path = _BarPath.of(market)
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


# --------------------------------------------------------------------------- assumptions


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
    np.testing.assert_array_equal(_price_bin(edges, prices), expected)
