"""Timeframes, intervals, bar windows and the small readers every source shares."""

from __future__ import annotations

import pickle
from itertools import pairwise

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqcore.controls import TIMEFRAMES
from liqcore.sources.base import (
    INTERVALS,
    MAX_BARS,
    REASONS,
    SourceUnavailable,
    base_asset,
    choose_interval,
    chunks,
    make_window,
    parse_timeframe,
    to_ms,
)


@pytest.mark.parametrize(
    ("timeframe", "interval"),
    [
        ("1d", "5m"),
        ("3d", "5m"),
        ("1w", "15m"),
        ("2w", "30m"),
        ("1mo", "1h"),
        ("3mo", "4h"),
        ("6mo", "4h"),
        ("1y", "1d"),
    ],
)
def test_interval_follows_the_timeframe(timeframe: str, interval: str) -> None:
    assert choose_interval(timeframe) == interval


@given(hours=st.integers(min_value=1, max_value=3 * 365 * 24))
def test_chosen_interval_gives_a_workable_number_of_bars(hours: int) -> None:
    span = pd.Timedelta(hours=hours)
    window = make_window(span, choose_interval(span), at_ms=1_736_944_496_000)
    assert 1 <= window.bars <= 1100
    assert window.start_ms <= 1_736_944_496_000 - span / pd.Timedelta(milliseconds=1)


def test_every_offered_timeframe_reads() -> None:
    # The app's timeframes (liqcore.controls) are the parser's reading of their labels.
    hours = {"12h": 12, "24h": 24, "3d": 72, "1w": 168, "2w": 336}
    days = {"1mo": 30, "3mo": 90, "6mo": 180, "1y": 365}
    assert hours | {label: 24 * n for label, n in days.items()} == TIMEFRAMES
    assert all(parse_timeframe(label).days == n for label, n in days.items())


@pytest.mark.parametrize("text", ["1m", "5 m", "soon", "0d", "-1d", ""])
def test_unreadable_timeframes_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match="timeframe"):
        parse_timeframe(text)


def test_window_ends_with_the_bar_in_progress() -> None:
    now = pd.Timestamp("2025-01-15 12:34:56", tz="UTC")
    window = make_window("1d", "1h", at_ms=int(now.value // 1_000_000))
    assert window.index[-1] == pd.Timestamp("2025-01-15 12:00", tz="UTC")
    assert window.index[0] == pd.Timestamp("2025-01-14 12:00", tz="UTC")
    assert window.bars == 25
    assert window.ttl == 3600


def test_too_many_bars_is_refused_with_a_coarser_suggestion() -> None:
    with pytest.raises(ValueError, match=r"at most 5,000 .*\(1d is the default"):
        make_window("1y", "1m", at_ms=0)
    assert MAX_BARS == 5000


def test_unknown_interval_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="1m, 3m, 5m"):
        make_window("1d", "6h", at_ms=0)
    assert "6h" not in INTERVALS  # Hyperliquid has no 6h candles


@given(
    start=st.integers(0, 10**6),
    bars=st.integers(0, 5000),
    step=st.sampled_from([1, 60_000, 300_000]),
    per=st.integers(1, 1500),
)
def test_chunks_cover_the_range_exactly_within_the_page_limit(
    start: int, bars: int, step: int, per: int
) -> None:
    end = start + bars * step
    ranges = chunks(start, end, step, per)
    assert sum((hi - lo) // step for lo, hi in ranges) == bars
    assert all(lo < hi and (hi - lo) // step <= per for lo, hi in ranges)
    assert all(a[1] == b[0] for a, b in pairwise(ranges))


@pytest.mark.parametrize("value", [1706637600000, "1706637600000", 1.7066376e12, " 1706637600000 "])
def test_timestamps_as_numbers_or_strings(value: object) -> None:
    assert to_ms(value) == 1706637600000


@pytest.mark.parametrize("value", [None, True, "soon", ""])
def test_bad_timestamps_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        to_ms(value)


@pytest.mark.parametrize(
    ("symbol", "base"),
    [
        ("btc", "BTC"),
        ("BTCUSDT", "BTC"),
        ("ETH-USDT-SWAP", "ETH"),
        ("kPEPE", "KPEPE"),
        ("XRP", "XRP"),
    ],
)
def test_symbols_map_to_their_base_asset(symbol: str, base: str) -> None:
    assert base_asset(symbol) == base


def test_symbols_with_odd_characters_are_refused() -> None:
    with pytest.raises(ValueError, match="symbol"):
        base_asset("BTC&limit=1")


def test_source_unavailable_carries_its_reason_and_survives_pickling() -> None:
    err = SourceUnavailable("okx", "rate-limited", "slow down", retry_after=2.0)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.exchange, copy.reason, copy.message, copy.retry_after) == (
        "okx",
        "rate-limited",
        "slow down",
        2.0,
    )
    assert str(copy) == "okx: slow down"
    with pytest.raises(ValueError, match="unknown reason"):
        SourceUnavailable("okx", "bad luck", "?")
    assert {"geo-blocked", "rate-limited", "banned", "timeout", "coverage"} <= set(REASONS)
