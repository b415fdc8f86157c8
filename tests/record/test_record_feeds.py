"""Each venue's side convention, checked on the documented example message whose answer is known."""

from __future__ import annotations

import json

import pytest
import requests

from liqcore.record import contract_size, feed, recorder_for
from liqcore.record.feeds import parse_binance, parse_bybit, parse_okx
from liqcore.record.store import LiquidationStore
from tests.record.fake_feeds import FEED_FIXTURES, FakeInstruments, binance, bybit, okx


def fixture(name: str) -> dict:
    return json.loads((FEED_FIXTURES / name).read_text())


def test_binance_forced_sell_is_a_long_liquidated() -> None:
    """Binance's documented example: a forced SELL of 0.014 BTC at 9,910 closes a long."""
    [(time, side, price, quantity)] = parse_binance(fixture("binance_forceOrder.json"), "BTC")
    assert (time, side, price, quantity) == (1568014460893, "long", 9910.0, 0.014)
    [event] = parse_binance(binance(1, "BUY", 100.0, 2.0), "BTC")
    assert event[1] == "short"
    # The combined-stream wrapper of !forceOrder@arr carries the same event.
    wrapped = {"stream": "!forceOrder@arr", "data": fixture("binance_forceOrder.json")}
    assert parse_binance(wrapped, "BTC")[0][1] == "long"


def test_bybit_s_is_the_position_side() -> None:
    """Bybit: "When you receive a Buy update, this means that a long position has been liquidated";
    its example's Sell is a short. Reading S as the order side would invert both."""
    [(_, side, price, size)] = parse_bybit(fixture("bybit_allLiquidation.json"), "ROSE")
    assert (side, price, size) == ("short", 0.04499, 20000.0)
    events = parse_bybit(bybit([(1, "Buy", 100.0, 0.5), (2, "Sell", 101.0, 0.25)]), "BTC")
    assert [e[1] for e in events] == ["long", "short"]


def test_okx_position_side_and_contracts() -> None:
    """OKX's example: posSide short / side buy is a short; sz is in contracts of ctVal."""
    [(time, side, price, quantity)] = parse_okx(
        fixture("okx_liquidation-orders.json"), "IOST", 10.0
    )
    assert (time, side, price, quantity) == (1692266434010, "short", 0.007831, 130.0)
    net = okx(
        [(1, "sell", "net", 100.0, 3), (2, "buy", "net", 100.0, 3), (3, "sell", "long", 1, 1)]
    )
    assert [e[1] for e in parse_okx(net, "BTC", 0.01)] == ["long", "short", "long"]
    assert parse_okx(net, "BTC", 0.01)[0][3] == pytest.approx(0.03)


def test_other_symbols_topics_and_acks_give_no_event() -> None:
    assert parse_binance(binance(1, "SELL", 1.0, 1.0, symbol="ETHUSDT"), "BTC") == []
    assert parse_binance({"result": None, "id": 1}, "BTC") == []
    assert parse_bybit(bybit([(1, "Buy", 1.0, 1.0)], symbol="ETHUSDT"), "BTC") == []
    assert parse_bybit({"success": True, "ret_msg": "", "op": "subscribe"}, "BTC") == []
    assert parse_okx(okx([(1, "sell", "long", 1.0, 1.0)], inst_id="ETH-USDT-SWAP"), "BTC", 1) == []
    assert (
        parse_okx({"event": "subscribe", "arg": {"channel": "liquidation-orders"}}, "BTC", 1) == []
    )


def test_okx_contract_size_comes_from_the_instruments_endpoint(
    instruments: FakeInstruments,
) -> None:
    assert contract_size("BTC", instruments.url) == 0.01
    asked = len(instruments.requests)
    assert contract_size("btc", instruments.url) == 0.01
    assert len(instruments.requests) == asked, "the contract size is cached"
    with pytest.raises(ValueError, match="lists no USDT swap DOGE-USDT-SWAP"):
        contract_size("DOGE", instruments.url)
    with pytest.raises(requests.RequestException):
        contract_size("BTC", "http://127.0.0.1:9")
    recorder = recorder_for("okx", "BTC", LiquidationStore(":memory:"), rest_url=instruments.url)
    assert recorder.context == {"ct_val": 0.01}


def test_hyperliquid_has_no_feed_and_says_so() -> None:
    with pytest.raises(ValueError, match="no market-wide liquidation feed"):
        feed("hyperliquid")
    with pytest.raises(ValueError, match="must be one of binance, bybit, okx"):
        feed("kraken")
