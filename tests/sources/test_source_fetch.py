"""Each exchange, against the fake server: valid frames, units, coverage, cache, odd shapes."""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import pytest

from liqcore.market import validate_market
from liqcore.sources import ATTRS, SourceUnavailable, base, bybit, fetch_market, hyperliquid, venue
from liqcore.sources.base import make_window
from tests.sources.fake_exchange import (
    DAY,
    NOW_MS,
    OKX_CONTRACT,
    FakeExchange,
    open_interest,
    price,
)

SINGLE = ("binance", "bybit", "okx", "hyperliquid", "bitget", "gate", "kucoin", "deribit")
OPEN_INTEREST_OKX = "/api/v5/rubik/stat/contracts/open-interest-history"
ALL_ONLY = {"candles_from", "failed", "open_interest_by_exchange"}


def ms(when: pd.Timestamp) -> int:
    return int(when.value // 1_000_000)


@pytest.mark.parametrize("exchange", SINGLE)
def test_every_bar_of_the_timeframe_in_a_valid_frame(fake: FakeExchange, exchange: str) -> None:
    frame = fetch_market(exchange, "BTC", "3d", base_url=fake.url)
    pd.testing.assert_frame_equal(validate_market(frame), frame)
    assert frame.index.equals(make_window("3d", "5m", at_ms=NOW_MS).index)
    assert (frame["open_interest"] > 0).all()
    assert set(ATTRS) - ALL_ONLY <= set(frame.attrs)
    assert frame.attrs["source"] == exchange
    assert frame.attrs["contributors"] == [exchange]
    assert (frame.attrs["symbol"], frame.attrs["interval"], frame.attrs["timeframe"]) == (
        "BTC",
        "5m",
        "3d",
    )
    assert frame.attrs["from_cache"] is False
    assert frame.attrs["requests"] == len(fake.log)
    assert isinstance(frame.attrs["fetched_at"], pd.Timestamp)
    assert str(frame.attrs["fetched_at"].tz) == "UTC"


def closes(frame: pd.DataFrame) -> pd.Series:
    """Bar close times in ms, for every bar but the live one (its close is in the future)."""
    step = frame.index[1] - frame.index[0]
    return pd.Series([ms(t + step) for t in frame.index[:-1]], index=frame.index[:-1])


def test_binance_open_interest_is_sum_open_interest_value_at_bar_close(fake: FakeExchange) -> None:
    frame = fetch_market("binance", "BTC", "1d", interval="15m", base_url=fake.url)
    expected = closes(frame).map(lambda t: open_interest(t) * price(t))
    assert frame["open_interest"].iloc[:-1].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert frame["taker_buy_volume"].to_numpy() == pytest.approx(0.52 * frame["volume"], rel=1e-3)
    assert {"long_short_ratio", "funding_rate"} <= set(frame.columns)


def test_bybit_open_interest_is_base_units_times_close(fake: FakeExchange) -> None:
    frame = fetch_market("bybit", "BTC", "1d", interval="15m", base_url=fake.url)
    coins = closes(frame).map(lambda t: open_interest(t) * 0.6)
    expected = coins * frame["close"].iloc[:-1]
    assert frame["open_interest"].iloc[:-1].to_numpy() == pytest.approx(expected, rel=1e-9)


def test_okx_open_interest_is_oi_usd_at_bar_close(fake: FakeExchange) -> None:
    frame = fetch_market("okx", "BTC", "1d", interval="15m", base_url=fake.url)
    expected = closes(frame).map(lambda t: open_interest(t) * 0.4 * price(t))
    assert frame["open_interest"].iloc[:-1].to_numpy() == pytest.approx(expected, rel=1e-6)
    # volume is volCcy (coins), not contracts
    assert frame["volume"].max() < 1000 < frame["volume"].max() / OKX_CONTRACT


def test_gate_open_interest_is_open_interest_usd_and_volume_in_coins(fake: FakeExchange) -> None:
    frame = fetch_market("gate", "BTC", "1d", interval="15m", base_url=fake.url)
    expected = closes(frame).map(lambda t: open_interest(t) * 0.3 * price(t))
    assert frame["open_interest"].iloc[:-1].to_numpy() == pytest.approx(expected, rel=1e-6)
    binance = fetch_market("binance", "BTC", "1d", interval="15m", base_url=fake.url)
    # Gate sends contracts of 0.0001 BTC; the frame holds coins (Gate's fake trades 1/3 of Binance).
    ratio = frame["volume"] / binance["volume"]
    assert ratio.to_numpy() == pytest.approx(1 / 3, rel=1e-3)


def test_kucoin_open_interest_is_lots_times_multiplier_times_close(fake: FakeExchange) -> None:
    frame = fetch_market("kucoin", "BTC", "1d", interval="15m", base_url=fake.url)
    assert frame.attrs["instrument"] == "XBTUSDTM"  # KuCoin writes BTC as XBT
    coins = closes(frame).map(lambda t: open_interest(t) * 0.2)
    expected = coins * frame["close"].iloc[:-1]
    assert frame["open_interest"].iloc[:-1].to_numpy() == pytest.approx(expected, rel=1e-4)


def test_missing_candles_are_filled_and_noted(fake: FakeExchange) -> None:
    fake.options.missing_bars = True
    frame = fetch_market("binance", "BTC", "3d", base_url=fake.url)
    assert frame.index.equals(make_window("3d", "5m", at_ms=NOW_MS).index)
    filled = frame["volume"] == 0
    assert filled.sum() >= 8
    assert (frame.loc[filled, "open"] == frame.loc[filled, "close"]).all()
    assert any("missing 5m bars were filled" in note for note in frame.attrs["notes"])


def test_hyperliquid_holds_the_current_open_interest_and_says_so(fake: FakeExchange) -> None:
    frame = fetch_market("hyperliquid", "btc", "1d", base_url=fake.url)
    assert (frame["open_interest"] == frame["open_interest"].iloc[0]).all()
    # ccxt gives Hyperliquid's open interest in coins: valued at the current price.
    assert frame["open_interest"].iloc[0] == pytest.approx(20_000 * frame["close"].iloc[-1])
    assert frame["close"].iloc[-1] == pytest.approx(price(NOW_MS), rel=1e-6)
    assert frame.attrs["open_interest_coverage"] == 0.0
    assert any("no open interest history" in note for note in frame.attrs["notes"])


def test_binance_beyond_30_days_keeps_the_timeframe_and_notes_the_gap(fake: FakeExchange) -> None:
    frame = fetch_market("binance", "BTC", "3mo", base_url=fake.url)
    assert frame.attrs["interval"] == "4h"
    assert frame.index[0] <= pd.Timestamp(NOW_MS - 90 * DAY, unit="ms", tz="UTC")
    assert 0.3 < frame.attrs["open_interest_coverage"] < 0.35
    note = " ".join(frame.attrs["notes"])
    assert "30 days" in note and "Bybit" in note
    first_known = frame["open_interest"].iloc[0]
    assert (frame["open_interest"].iloc[: int(len(frame) * 0.6)] == first_known).all()
    asked = fake.requests_to("/futures/data/openInterestHist")
    assert asked and min(int(p["startTime"]) for p in asked) >= NOW_MS - 30 * DAY


def test_okx_older_bars_come_from_history_candles_and_hourly_open_interest(
    fake: FakeExchange,
) -> None:
    # 1,440 five-minute periods are 5 days: for a week the hourly series covers every bar.
    frame = fetch_market("okx", "BTC", "1w", interval="5m", base_url=fake.url)
    assert len(frame) == 2017
    assert fake.requests_to("/api/v5/market/history-candles")
    periods = {p["period"] for p in fake.requests_to(OPEN_INTEREST_OKX)}
    assert periods == {"1H"}
    assert frame.attrs["open_interest_coverage"] == 1.0


def test_okx_open_interest_beyond_what_it_keeps_is_noted(fake: FakeExchange) -> None:
    # A year of daily bars: OKX's 1,440 daily periods reach back further, but 3 years do not.
    frame = fetch_market("okx", "BTC", "5y", interval="1d", base_url=fake.url)
    assert {p["period"] for p in fake.requests_to(OPEN_INTEREST_OKX)} == {"1D"}
    assert frame.attrs["open_interest_coverage"] == pytest.approx(1440 / len(frame), abs=0.01)
    assert any("1,440" in note for note in frame.attrs["notes"])


def test_hyperliquid_refuses_a_window_beyond_the_candles_it_keeps(fake: FakeExchange) -> None:
    keeps_less = replace(hyperliquid.VENUE, candles_kept=1000)
    with pytest.raises(SourceUnavailable) as info:
        venue.fetch_market(keeps_less, "BTC", "1w", interval="5m", base_url=fake.url)
    assert info.value.reason == "coverage"
    assert "coarser interval" in info.value.message


def test_one_minute_bars_read_the_five_minute_open_interest(fake: FakeExchange) -> None:
    frame = fetch_market("binance", "ETH", "1d", interval="1m", base_url=fake.url)
    assert len(frame) == 1441
    assert {p["period"] for p in fake.requests_to("/futures/data/openInterestHist")} == {"5m"}


@pytest.mark.parametrize("exchange", SINGLE)
def test_a_rerun_is_served_from_the_cache(fake: FakeExchange, exchange: str) -> None:
    first = fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    asked = len(fake.log)
    time.sleep(0.01)
    second = fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    assert len(fake.log) == asked
    assert second.attrs["from_cache"] is True
    assert second.attrs["requests"] == 0
    assert second.attrs["fetched_at"] == first.attrs["fetched_at"]
    pd.testing.assert_frame_equal(first, second)


def test_the_cache_is_bounded_and_lives_about_one_bar(fake: FakeExchange) -> None:
    fetch_market("bybit", "BTC", "1d", base_url=fake.url)
    (cache,) = venue.connection(bybit.VENUE, fake.url).caches.values()
    assert cache.ttl == 300  # one 5m bar
    assert cache.maxsize == base.SETTINGS.cache_maxsize


@pytest.mark.parametrize("exchange", SINGLE)
@pytest.mark.parametrize("option", ["string_timestamps", "reverse", "extra_keys", "overlap"])
def test_odd_but_valid_shapes_give_the_same_frame(
    fake: FakeExchange, exchange: str, option: str
) -> None:
    # 1 week of 5m bars spans several pages on every endpoint but Hyperliquid's.
    baseline = fetch_market(exchange, "BTC", "1w", interval="5m", base_url=fake.url)
    venue.reset_connections()
    setattr(fake.options, option, True)
    varied = fetch_market(exchange, "BTC", "1w", interval="5m", base_url=fake.url)
    pd.testing.assert_frame_equal(varied, baseline)


def test_a_missing_optional_series_is_left_out_with_a_note(fake: FakeExchange) -> None:
    fake.fail("/futures/data/globalLongShortAccountRatio", "500")
    frame = fetch_market("binance", "BTC", "1d", base_url=fake.url)
    assert "long_short_ratio" not in frame.columns
    assert any("long/short ratio left out (server error" in n for n in frame.attrs["notes"])
