"""liqcore.analysis.magnets: whether price is drawn to the levels it has not yet reached."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqcore.analysis.magnets import MIN_TOUCHES, MagnetTest, magnet_study, magnet_test
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate


def hourly_walk(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    t = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    return pd.DataFrame({"high": close * 1.001, "low": close * 0.999, "close": close}, index=t)


PRICES = np.linspace(50, 200, 1501)  # 0.1-wide bins


def book_at(levels: np.ndarray, usd: float = 1e6) -> np.ndarray:
    """A book per column with one cluster at each column's level."""
    book = np.zeros((len(levels), len(PRICES)))
    book[np.arange(len(levels)), np.searchsorted(PRICES, levels).clip(0, len(PRICES) - 1)] = usd
    return book


def test_a_planted_magnet_shows_and_a_random_walk_shows_none() -> None:
    bars = hourly_walk(3)
    h = 24
    ends = np.arange(0, len(bars) - 2 * h - 1, 4)
    close, low, high = (bars[c].to_numpy() for c in ("close", "low", "high"))
    future_low = np.array([low[e + 1 : e + 1 + h].min() for e in ends])
    future_high = np.array([high[e + 1 : e + 1 + h].max() for e in ends])
    # Planted: the clusters sit exactly where price is going to trade within the horizon.
    planted = magnet_test(
        book_at(future_low * 1.0005), book_at(future_high * 0.9995), PRICES, ends, bars, h
    )
    assert planted.difference_low > 0.2
    assert planted.verdict.startswith("Here, clusters did attract price")
    # Random: clusters at random distances, the same on both sides in law.
    rng = np.random.default_rng(5)
    dist = rng.uniform(0.005, 0.05, (2, len(ends)))
    random = magnet_test(
        book_at(close[ends] * (1 - dist[0])),
        book_at(close[ends] * (1 + dist[1])),
        PRICES,
        ends,
        bars,
        h,
    )
    assert random.difference_low < 0 < random.difference_high
    assert random.verdict.startswith("No evidence here that clusters attract price")
    assert random.events == 2 * len(ends)


def test_a_level_is_reached_more_often_the_longer_price_has() -> None:
    # Fixed clusters 2% either side of price on a random walk: over the same cases, a level
    # reached within 8 h is reached within 24 h and 72 h, and more are reached later.
    bars = hourly_walk(11, n=4000)
    close = bars["close"].to_numpy()
    ends = np.arange(0, len(bars) - 2 * 72 - 1, 4)
    longs, shorts = book_at(close[ends] * 0.98), book_at(close[ends] * 1.02)
    tests = [magnet_test(longs, shorts, PRICES, ends, bars, h) for h in (8, 24, 72)]
    assert len({t.events for t in tests}) == 1
    assert tests[0].cluster_rate < tests[1].cluster_rate < tests[2].cluster_rate
    assert tests[0].mirror_rate < tests[1].mirror_rate < tests[2].mirror_rate
    assert [t.horizon_hours for t in tests] == [8.0, 24.0, 72.0]


def test_the_study_reads_the_bars_the_estimate_was_made_from() -> None:
    # The page estimates a window (the last days plus a warm-up) but holds the whole
    # frame: the columns' bar numbers count from the window's first bar, not the frame's.
    market = simulate(days=60, interval="1h", seed=4).market
    window = market.iloc[24 * 20 :]
    est = estimate(window, ModelParams(time_bins=240, price_bins=120), start=window.index[240])
    whole, own = magnet_study(est, market, 24), magnet_study(est, window, 24)
    assert whole == own
    # Every 2 h over the 30 tested days, less the last two horizons: the whole span.
    assert whole.days >= 28 and whole.events > 240
    with pytest.raises(ValueError, match="does not contain the bars"):
        magnet_study(est, market.iloc[: 24 * 30], 24)


def test_no_touches_are_said_in_words_never_nan() -> None:
    # A quiet walk and clusters 10% away: price never gets there within 8 h.
    bars = hourly_walk(2, n=600)
    close = bars["close"].to_numpy()
    ends = np.arange(0, 500, 4)
    result = magnet_test(
        book_at(close[ends] * 0.9), book_at(close[ends] * 1.1), PRICES, ends, bars, 8
    )
    assert result.events > 0 and result.cluster_touches == result.mirror_touches == 0
    assert result.move_label() == result.move_label(cluster=False) == "no touches"
    assert "no touches" in result.verdict and "nan" not in result.verdict.lower()


def magnet_result(touches_c: int, touches_m: int) -> MagnetTest:
    """A test whose move after a cluster is clearly larger, with the given touch counts."""
    return MagnetTest(24.0, 400, 30, 0.2, 0.1, 0.1, 0.05, 0.15, touches_c, touches_m,
                      1.5, -0.5, 1.0, 3.0)  # fmt: skip


def test_a_direction_after_a_touch_needs_enough_touches_on_both_sides() -> None:
    few = magnet_result(MIN_TOUCHES - 1, 40).verdict
    assert "Too few touches" in few and "carried on" not in few.replace("carried on or", "")
    assert f"after {MIN_TOUCHES - 1} cluster touches" in few and "after 40 empty-level" in few
    assert "Too few touches" in magnet_result(40, MIN_TOUCHES - 1).verdict
    enough = magnet_result(MIN_TOUCHES, 40).verdict
    assert "price carried on further" in enough and f"after {MIN_TOUCHES} cluster" in enough
