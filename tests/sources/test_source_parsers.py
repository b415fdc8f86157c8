"""The parsers read recorded real responses (tests/fixtures/exchanges, see SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from liqcore.sources import SourceUnavailable, binance, bybit, hyperliquid, okx

FIXTURES = Path(__file__).parents[1] / "fixtures" / "exchanges"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def test_binance_recorded_klines() -> None:
    frame = binance.parse_klines(load("binance_fapi_v1_klines.json"))
    assert list(frame.index) == [utc(1712738460000), utc(1712738520000), utc(1712738580000)]
    assert frame.iloc[1].to_dict() == {
        "open": 71471.0,
        "high": 71471.0,
        "low": 70459.4,
        "close": 70459.4,
        "volume": 0.12,
        "quote_volume": 8518.176,
        "taker_buy_volume": 0.061,
    }


def test_bybit_recorded_klines_newest_first_with_string_retcode() -> None:
    result = bybit._unwrap(load("bybit_v5_market_kline.json"))  # retCode is "0" here
    frame = bybit.parse_klines(result)
    assert frame.index.is_monotonic_increasing
    assert frame.index[0] == utc(1706630400000)
    assert frame["close"].tolist() == [43488.0, 43376.1, 43352.8]
    assert frame["quote_volume"].iloc[-1] == pytest.approx(68345898.1407)


def test_bybit_recorded_open_interest_is_in_base_units() -> None:
    result = bybit._unwrap(load("bybit_v5_market_open-interest.json"))
    (row,) = result["list"]
    assert float(row["openInterest"]) == pytest.approx(62129.455)
    assert result["nextPageCursor"]  # a cursor to the next page comes with a full page


def test_okx_recorded_candles_newest_first() -> None:
    frame = okx.parse_candles(okx._unwrap(load("okx_api_v5_market_candles.json")))
    assert frame.index.is_monotonic_increasing
    assert frame["open"].tolist() == [43377.1, 43495.9, 43398.6]
    # Columns 6 and 7 are read: volCcy (base units for a swap; this recording is spot, where
    # it is the quote amount) and volCcyQuote (USDT).
    assert frame["quote_volume"].iloc[-1] == pytest.approx(220057933.233687634)


def test_okx_recorded_open_interest_snapshot_shape() -> None:
    (row,) = okx._unwrap(load("okx_api_v5_public_open-interest.json"))
    assert float(row["oiUsd"]) == pytest.approx(float(row["oiCcy"]) * 62950, rel=0.01)


def test_hyperliquid_recorded_candles_with_string_times() -> None:
    frame = hyperliquid.parse_candles(load("hyperliquid_info_candleSnapshot.json"))
    assert list(frame.index) == [utc(1710552360000), utc(1710552420000)]
    assert frame["close"].tolist() == [69483.0, 69497.0]


def test_hyperliquid_recorded_candles_with_numeric_times() -> None:
    frame = hyperliquid.parse_candles(load("hyperliquid_info_candleSnapshot_kPEPE_1h.json"))
    assert len(frame) == 24
    assert (frame.index[1:] - frame.index[:-1] == pd.Timedelta("1h")).all()


def test_hyperliquid_null_answer_means_no_candles() -> None:
    assert hyperliquid.parse_candles(None).empty


def test_hyperliquid_recorded_universe_matches_coins_without_case() -> None:
    meta = load("hyperliquid_info_meta.json")
    contexts = hyperliquid.parse_contexts([meta, [{} for _ in meta["universe"]]])
    assert hyperliquid._coin(contexts, "kpepe") == "kPEPE"
    with pytest.raises(SourceUnavailable) as info:
        hyperliquid._coin(contexts, "NOTACOIN")
    assert info.value.reason == "unknown symbol"


def test_okx_liquidations_in_usd_by_liquidated_side() -> None:
    data = okx._unwrap(load("okx_api_v5_public_liquidation-orders.json"))
    events = okx.parse_liquidations(data, "BTC-USDT-SWAP", 0.01)
    assert events["side"].tolist() == ["short", "long", "short", "long"]  # oldest first
    assert events["usd"].iloc[-1] == pytest.approx(12 * 0.01 * 97012.3)
    assert okx.parse_liquidations(data, "ETH-USDT-SWAP", 0.1).empty


@pytest.mark.parametrize(
    ("parse", "payload"),
    [
        (binance.parse_klines, [[1712738460000, "71481.90"]]),
        (binance.parse_klines, [[1712738460000, "n/a", "1", "1", "1", "1", 0, "1", 1, "1"]]),
        (bybit.parse_klines, {"list": "not a list"}),
        (okx.parse_candles, [["1706637600000", "1"]]),
        (hyperliquid.parse_candles, {"error": "bad request"}),
        (hyperliquid.parse_contexts, [{"universe": []}]),
    ],
)
def test_unexpected_shapes_are_malformed_responses(parse: Any, payload: Any) -> None:
    with pytest.raises(SourceUnavailable) as info:
        parse(payload)
    assert info.value.reason == "malformed response"


@pytest.mark.parametrize(
    ("unwrap", "payload", "reason"),
    [
        (binance._unwrap, load("binance_error_invalid_symbol.json"), "unknown symbol"),
        (binance._unwrap, {"code": -1003, "msg": "Too many requests"}, "rate-limited"),
        (bybit._unwrap, {"retCode": 10006, "retMsg": "Too many visits!"}, "rate-limited"),
        (
            bybit._unwrap,
            {"retCode": 10001, "retMsg": "params error: symbol invalid"},
            "unknown symbol",
        ),
        (bybit._unwrap, {"retCode": 10001, "retMsg": "params error: interval"}, "rejected"),
        (bybit._unwrap, {"ret_code": 0}, "malformed response"),
        (
            okx._unwrap,
            {"code": "51001", "msg": "Instrument ID does not exist", "data": []},
            "unknown symbol",
        ),
        (okx._unwrap, {"code": "50011", "msg": "Too Many Requests", "data": []}, "rate-limited"),
        (okx._unwrap, {"code": "0", "msg": "", "data": None}, "malformed response"),
    ],
)
def test_exchange_error_codes_map_to_reasons(unwrap: Any, payload: Any, reason: str) -> None:
    with pytest.raises(SourceUnavailable) as info:
        unwrap(payload)
    assert info.value.reason == reason
