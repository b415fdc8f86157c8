"""Recorded real responses (tests/fixtures/exchanges, see SOURCES.md) read through ccxt.

Each recording is served by the fake exchange in place of the live answer, then read
by ccxt's own parser (and, for Binance's taker volume and OKX's liquidations, by ours),
so these tests pin the field meanings the frames rely on.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from liqcore.sources import SourceUnavailable, binance, bybit, fetch_market, hyperliquid, okx
from liqcore.sources.base import Trace, make_window
from liqcore.sources.venue import Connection, Venue, connection
from tests.sources.fake_exchange import FakeExchange

FIXTURES = Path(__file__).parents[1] / "fixtures" / "exchanges"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def connect(fake: FakeExchange, venue: Venue) -> tuple[Connection, dict[str, Any]]:
    conn = connection(venue, fake.url)
    return conn, conn.market("BTC", Trace())


def candles(fake: FakeExchange, venue: Venue, route: str, name: str, interval: str) -> list[Any]:
    conn, market = connect(fake, venue)
    fake.fail(route, "answer", body=load(name))
    return conn.call(Trace(), 1.0, "fetch_ohlcv", market["symbol"], interval, 0, 100, {})


def test_binance_recorded_klines_with_taker_buy_volume(fake: FakeExchange) -> None:
    conn, market = connect(fake, binance.VENUE)
    fake.fail("/fapi/v1/klines", "answer", body=load("binance_fapi_v1_klines.json"))
    window = make_window("1h", "1m", at_ms=1712738580000 + 30_000)
    frame = binance.klines(conn, market, window, Trace())
    assert list(frame.index) == [utc(1712738460000), utc(1712738520000), utc(1712738580000)]
    assert frame.iloc[1].to_dict() == {
        "open": 71471.0,
        "high": 71471.0,
        "low": 70459.4,
        "close": 70459.4,
        "volume": 0.12,
        "taker_buy_volume": 0.061,
    }


def test_bybit_recorded_klines_newest_first_with_string_retcode(fake: FakeExchange) -> None:
    rows = candles(fake, bybit.VENUE, "/v5/market/kline", "bybit_v5_market_kline.json", "1h")
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)  # ccxt sorts them
    assert rows[0][0] == 1706630400000
    assert [row[4] for row in rows] == [43488.0, 43376.1, 43352.8]


def test_bybit_recorded_open_interest_is_in_base_units(fake: FakeExchange) -> None:
    conn, market = connect(fake, bybit.VENUE)
    body = load("bybit_v5_market_open-interest.json")
    fake.fail("/v5/market/open-interest", "answer", body=body)
    args = (market["symbol"], "1h", 0, 1, {"until": 1})
    (row,) = conn.call(Trace(), 1.0, "fetch_open_interest_history", *args)
    assert row["openInterestAmount"] == pytest.approx(62129.455)  # coins, for a linear swap
    assert body["result"]["nextPageCursor"]  # a cursor to the next page comes with a full page


def test_okx_recorded_candles_newest_first(fake: FakeExchange) -> None:
    # ccxt asks /history-candles for bars older than the latest 1,440 (since=0 here).
    route = "/api/v5/market/history-candles"
    rows = candles(fake, okx.VENUE, route, "okx_api_v5_market_candles.json", "1h")
    assert [row[1] for row in rows] == [43377.1, 43495.9, 43398.6]
    # For a swap ccxt reads column 6 (volCcy, base units), not 5 (contracts).
    raw = load("okx_api_v5_market_candles.json")["data"]
    assert rows[-1][5] == pytest.approx(float(raw[0][6]))


def test_hyperliquid_recorded_candles_with_string_and_numeric_times(fake: FakeExchange) -> None:
    route = "/info:candleSnapshot"
    rows = candles(fake, hyperliquid.VENUE, route, "hyperliquid_info_candleSnapshot.json", "1m")
    assert [row[0] for row in rows] == [1710552360000, 1710552420000]
    assert [row[4] for row in rows] == [69483.0, 69497.0]
    name = "hyperliquid_info_candleSnapshot_kPEPE_1h.json"
    rows = candles(fake, hyperliquid.VENUE, route, name, "1h")
    assert len(rows) == 24
    assert {b[0] - a[0] for a, b in itertools.pairwise(rows)} == {3_600_000}


def test_hyperliquid_coins_match_without_case(fake: FakeExchange) -> None:
    conn = connection(hyperliquid.VENUE, fake.url)
    assert conn.market("kpepe", Trace())["baseName"] == "kPEPE"
    with pytest.raises(SourceUnavailable) as info:
        conn.market("NOTACOIN", Trace())
    assert info.value.reason == "unknown symbol"


def test_okx_liquidations_in_usd_by_liquidated_side() -> None:
    data = load("okx_api_v5_public_liquidation-orders.json")["data"]
    events = okx.parse_liquidations(data, "BTC-USDT-SWAP", 0.01)
    assert events["side"].tolist() == ["short", "long", "short", "long"]  # oldest first
    assert events["usd"].iloc[-1] == pytest.approx(12 * 0.01 * 97012.3)
    assert okx.parse_liquidations(data, "ETH-USDT-SWAP", 0.1).empty


@pytest.mark.parametrize(
    ("exchange", "route", "body"),
    [
        ("binance", "/fapi/v1/klines", [[1712738460000, "71481.90"]]),
        ("binance", "/fapi/v1/klines", {"unexpected": "shape"}),
        ("bybit", "/v5/market/kline", {"retCode": 0, "result": {"list": "not a list"}}),
        ("okx", "/api/v5/market/candles", {"code": "0", "data": [["1706637600000", "1"]]}),
    ],
)
def test_unexpected_shapes_are_malformed_or_no_data(
    fake: FakeExchange, exchange: str, route: str, body: Any
) -> None:
    fake.fail(route, "answer", body=body)
    with pytest.raises(SourceUnavailable) as info:
        fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    assert info.value.reason in ("malformed response", "no data")


def test_an_error_object_instead_of_candles_is_a_refusal(fake: FakeExchange) -> None:
    fake.fail("/info:candleSnapshot", "answer", body={"error": "bad request"})
    with pytest.raises(SourceUnavailable) as info:
        fetch_market("hyperliquid", "BTC", "1d", base_url=fake.url)
    assert info.value.reason == "rejected"
    assert "bad request" in info.value.message


@pytest.mark.parametrize(
    ("exchange", "route", "status", "body", "reason"),
    [
        (
            "binance",
            "/fapi/v1/klines",
            400,
            load("binance_error_invalid_symbol.json"),
            "unknown symbol",
        ),
        (
            "binance",
            "/fapi/v1/klines",
            400,
            {"code": -1003, "msg": "Too many requests"},
            "rate-limited",
        ),
        (
            "bybit",
            "/v5/market/kline",
            200,
            {"retCode": 10006, "retMsg": "Too many visits!"},
            "rate-limited",
        ),
        (
            "bybit",
            "/v5/market/kline",
            200,
            {"retCode": 10001, "retMsg": "params error: symbol invalid"},
            "unknown symbol",
        ),
        (
            "bybit",
            "/v5/market/kline",
            200,
            {"retCode": 10001, "retMsg": "params error: interval"},
            "rejected",
        ),
        (
            "okx",
            "/api/v5/market/candles",
            200,
            {"code": "51001", "msg": "Instrument ID does not exist", "data": []},
            "unknown symbol",
        ),
        (
            "okx",
            "/api/v5/market/candles",
            200,
            {"code": "50011", "msg": "Too Many Requests", "data": []},
            "rate-limited",
        ),
    ],
)
def test_exchange_error_codes_map_to_reasons(
    fake: FakeExchange, exchange: str, route: str, status: int, body: Any, reason: str
) -> None:
    fake.fail(route, "answer", body=body, status=status)
    with pytest.raises(SourceUnavailable) as info:
        fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    assert info.value.reason == reason
