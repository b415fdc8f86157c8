"""The all-exchange view and realized liquidations."""

from __future__ import annotations

import pandas as pd
import pytest

from liqcore.controls import SYMBOLS
from liqcore.market import validate_market
from liqcore.sources import (
    ATTRS,
    EXCHANGES,
    SourceUnavailable,
    fetch_liquidations,
    fetch_market,
)
from tests.sources.fake_exchange import NOW_MS, FakeExchange

SINGLE = ("binance", "bybit", "okx", "hyperliquid", "bitget", "gate", "kucoin", "deribit")
GATE_CANDLES = "/api/v4/futures/usdt/candlesticks"


def test_open_interest_is_summed_and_candles_come_from_the_most_liquid(
    fake: FakeExchange,
) -> None:
    merged = fetch_market("all", "BTC", "3d", base_url=fake.url)
    parts = {name: fetch_market(name, "BTC", "3d", base_url=fake.url) for name in SINGLE}
    pd.testing.assert_frame_equal(validate_market(merged), merged)
    assert merged.attrs["contributors"] == list(SINGLE)
    assert merged.attrs["candles_from"] == "binance"  # the fake's Binance trades the most
    assert merged.attrs["failed"] == {}
    assert set(ATTRS) <= set(merged.attrs)
    expected = sum(part["open_interest"] for part in parts.values())
    assert merged["open_interest"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert (merged["close"] == parts["binance"]["close"]).all()
    by_exchange = merged.attrs["open_interest_by_exchange"]
    assert by_exchange["okx"] == pytest.approx(parts["okx"]["open_interest"].iloc[-1])
    # Hyperliquid's flat open interest weighs its zero coverage in
    assert 0.7 < merged.attrs["open_interest_coverage"] < 1.0
    assert any(note.startswith("Hyperliquid publishes no") for note in merged.attrs["notes"])


def test_an_exchange_that_fails_is_left_out_and_named(fake: FakeExchange) -> None:
    fake.fail("/v5/market/kline", "403")
    merged = fetch_market("all", "ETH", "1d", base_url=fake.url)
    assert merged.attrs["contributors"] == [name for name in SINGLE if name != "bybit"]
    assert merged.attrs["failed"] == {"bybit": "geo-blocked"}
    assert any(note.startswith("Bybit left out (geo-blocked)") for note in merged.attrs["notes"])


def test_all_failing_alike_gives_that_reason(fake: FakeExchange) -> None:
    for route in ("/fapi/v1/klines", "/v5/market/kline", "/api/v5/market/candles", GATE_CANDLES):
        fake.fail(route, "451")
    fake.fail("/api/v2/mix/market/candles", "451")
    fake.fail("/api/v2/public/get_tradingview_chart_data", "451")
    fake.fail("/api/v1/kline/query", "451")
    fake.fail("/info:metaAndAssetCtxs", "451")
    with pytest.raises(SourceUnavailable) as info:
        fetch_market("all", "BTC", "1d", base_url=fake.url)
    assert (info.value.exchange, info.value.reason) == ("all", "geo-blocked")


def test_all_failing_differently_lists_every_reason(fake: FakeExchange) -> None:
    fake.fail("/fapi/v1/klines", "451")
    fake.fail("/v5/market/kline", "403")
    fake.fail("/api/v5/market/candles", "500")
    fake.fail("/info:metaAndAssetCtxs", "418")
    fake.fail(GATE_CANDLES, "timeout")
    fake.fail("/api/v2/mix/market/candles", "html")
    fake.fail("/api/v2/public/get_instruments", "unknown-symbol")
    fake.fail("/api/v1/contracts/active", "403-frequent")
    with pytest.raises(SourceUnavailable) as info:
        fetch_market("all", "BTC", "1d", base_url=fake.url)
    assert info.value.reason == "no data"
    parts = (
        "binance geo-blocked",
        "bybit geo-blocked",
        "okx server error",
        "banned",
        "gate timeout",
    )
    for part in parts:
        assert part in info.value.message


def test_a_symbol_only_some_exchanges_list(fake: FakeExchange) -> None:
    merged = fetch_market("all", "kPEPE", "1d", base_url=fake.url)  # only Hyperliquid lists it
    assert merged.attrs["contributors"] == ["hyperliquid"]
    assert set(merged.attrs["failed"].values()) == {"unknown symbol"}


def test_okx_liquidations_with_their_coverage(fake: FakeExchange) -> None:
    events = fetch_liquidations("okx", "BTC", "1d", base_url=fake.url)
    assert list(events.columns) == ["side", "price", "size", "usd"]
    assert events.index.is_monotonic_increasing
    assert set(events["side"]) == {"long", "short"}
    assert (events["usd"] == events["size"] * events["price"]).all()
    assert events["size"].iloc[-1] == pytest.approx(12 * 0.01)  # contracts × ctVal
    assert events.attrs["covered_from"] == events.index[0]
    assert events.attrs["covered_from"] > pd.Timestamp(NOW_MS, unit="ms", tz="UTC") - pd.Timedelta(
        days=1
    )
    assert any("latest 4 liquidation orders" in note for note in events.attrs["notes"])


def test_all_liquidations_are_okx_with_a_note(fake: FakeExchange) -> None:
    events = fetch_liquidations("all", "BTC", base_url=fake.url)
    assert events.attrs["source"] == "all"
    assert events.attrs["contributors"] == ["okx"]
    assert any("only OKX" in note for note in events.attrs["notes"])


@pytest.mark.parametrize("exchange", [name for name in SINGLE if name != "okx"])
def test_no_liquidation_history_elsewhere(fake: FakeExchange, exchange: str) -> None:
    with pytest.raises(SourceUnavailable) as info:
        fetch_liquidations(exchange, "BTC", base_url=fake.url)
    assert info.value.reason == "unsupported"
    assert not fake.log


def test_liquidations_of_an_unlisted_swap(fake: FakeExchange) -> None:
    with pytest.raises(SourceUnavailable) as info:
        fetch_liquidations("okx", "DOGE", base_url=fake.url)
    assert info.value.reason == "unknown symbol"


def test_the_offered_choices() -> None:
    assert [v.name for v in EXCHANGES[:4]] == ["binance", "bybit", "okx", "hyperliquid"]
    for venue in EXCHANGES:  # each is usable by itself or by its name
        assert fetch_market.__name__ and venue.title and venue.open_interest
    assert SYMBOLS == ("BTC", "ETH", "SOL", "XRP")
    with pytest.raises(ValueError, match="unknown exchange"):
        fetch_market("kraken", "BTC", "1d")
