"""Every fault an exchange can throw ends as a frame or as SourceUnavailable with its reason."""

from __future__ import annotations

import json
import socket
import time

import pytest

from liqcore.sources import SourceUnavailable, base, fetch_market, venue
from tests.sources.fake_exchange import FakeExchange

SINGLE = ("binance", "bybit", "okx", "hyperliquid", "bitget", "gate", "kucoin", "deribit")

#: The market list ccxt loads first, once per venue and address.
MARKETS = {
    "binance": "/fapi/v1/exchangeInfo",
    "bybit": "/v5/market/instruments-info",
    "okx": "/api/v5/public/instruments",
    "hyperliquid": "/info:metaAndAssetCtxs",
    "bitget": "/api/v2/mix/market/contracts",
    "gate": "/api/v4/futures/usdt/contracts",
    "kucoin": "/api/v1/contracts/active",
    "deribit": "/api/v2/public/get_instruments",
}
#: The first data request of each source.
CANDLES = {
    "binance": "/fapi/v1/klines",
    "bybit": "/v5/market/kline",
    "okx": "/api/v5/market/candles",
    "hyperliquid": "/info:candleSnapshot",
    "bitget": "/api/v2/mix/market/candles",
    "gate": "/api/v4/futures/usdt/candlesticks",
    "kucoin": "/api/v1/kline/query",
    "deribit": "/api/v2/public/get_tradingview_chart_data",
}
OPEN_INTEREST = {
    "binance": "/futures/data/openInterestHist",
    "bybit": "/v5/market/open-interest",
    "okx": "/api/v5/rubik/stat/contracts/open-interest-history",
    "hyperliquid": "/info:metaAndAssetCtxs",
    "bitget": "/api/v2/mix/market/open-interest",
    "gate": "/api/v4/futures/usdt/contract_stats",
    "kucoin": "/api/ua/v1/market/open-interest",
    "deribit": "/api/v2/public/get_book_summary_by_instrument",
}

FAULTS = [
    ("429", "rate-limited"),
    ("403-frequent", "rate-limited"),
    ("418", "banned"),
    ("451", "geo-blocked"),
    ("403", "geo-blocked"),
    ("timeout", "timeout"),
    ("truncated", "malformed response"),
    ("html", "malformed response"),
    ("empty", "no data"),
    ("500", "server error"),
    ("unknown-symbol", "unknown symbol"),
]


def reason_of(fake: FakeExchange, exchange: str, timeframe: str = "1d") -> SourceUnavailable:
    with pytest.raises(SourceUnavailable) as info:
        fetch_market(exchange, "BTC", timeframe, base_url=fake.url)
    assert info.value.exchange == exchange
    return info.value


@pytest.mark.parametrize(
    ("exchange", "fault", "reason"),
    [
        (exchange, fault, reason)
        for fault, reason in FAULTS
        for exchange in SINGLE
        # Hyperliquid checks symbols against its coin list first (tested below).
        if (exchange, fault) != ("hyperliquid", "unknown-symbol")
    ],
)
def test_fault_on_candles(fake: FakeExchange, exchange: str, fault: str, reason: str) -> None:
    fake.fail(CANDLES[exchange], fault)
    assert reason_of(fake, exchange).reason == reason


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx", "gate", "kucoin"])
@pytest.mark.parametrize(
    ("fault", "reason"),
    [("451", "geo-blocked"), ("truncated", "malformed response"), ("empty", "no data")],
)
def test_fault_on_open_interest(fake: FakeExchange, exchange: str, fault: str, reason: str) -> None:
    fake.fail(OPEN_INTEREST[exchange], fault)
    assert reason_of(fake, exchange).reason == reason


@pytest.mark.parametrize("exchange", SINGLE)
@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("418", "banned"),
        ("451", "geo-blocked"),
        ("403", "geo-blocked"),
        ("500", "server error"),
        ("truncated", "malformed response"),
        ("empty", "malformed response"),
    ],
)
def test_fault_on_the_market_list(
    fake: FakeExchange, exchange: str, fault: str, reason: str
) -> None:
    fake.fail(MARKETS[exchange], fault)
    assert reason_of(fake, exchange).reason == reason


@pytest.mark.parametrize("exchange", SINGLE)
def test_the_market_list_is_loaded_once(fake: FakeExchange, exchange: str) -> None:
    fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    first = len(fake.requests_to(MARKETS[exchange]))
    fetch_market(exchange, "ETH", "3d", base_url=fake.url)
    # Hyperliquid's market list is also where its current open interest is read.
    assert len(fake.requests_to(MARKETS[exchange])) - first == (exchange == "hyperliquid")


@pytest.mark.parametrize("exchange", SINGLE)
def test_unlisted_symbol_names_the_instrument(fake: FakeExchange, exchange: str) -> None:
    with pytest.raises(SourceUnavailable) as info:
        fetch_market(exchange, "DOGE", "1d", base_url=fake.url)
    assert info.value.reason == "unknown symbol"
    assert "DOGE" in info.value.message


@pytest.mark.parametrize("exchange", SINGLE)
@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_one_passing_fault_is_retried_away(fake: FakeExchange, exchange: str, fault: str) -> None:
    fake.fail(CANDLES[exchange], fault, times=1)
    frame = fetch_market(exchange, "BTC", "1d", base_url=fake.url)
    assert len(frame) > 200
    asked = fake.requests_to(CANDLES[exchange])
    pages = {json.dumps(params, sort_keys=True) for params in asked}
    assert len(asked) == len(pages) + 1  # every page once, and the failed try again


@pytest.mark.parametrize(
    ("exchange", "reason"), [("binance", "rate-limited"), ("okx", "geo-blocked")]
)
def test_a_bare_403_follows_what_the_exchange_uses_it_for(
    fake: FakeExchange, exchange: str, reason: str
) -> None:
    fake.fail(CANDLES[exchange], "403-bare")
    assert reason_of(fake, exchange).reason == reason


def test_rate_limit_reports_the_wait_the_exchange_asked_for(fake: FakeExchange) -> None:
    fake.fail(CANDLES["binance"], "429")
    error = reason_of(fake, "binance")
    assert error.retry_after == 1.0
    assert "try again in 1 s" in error.message
    assert len(fake.requests_to(CANDLES["binance"])) == 1 + base.SETTINGS.retries


def test_retry_after_is_honoured_up_to_the_cap(
    fake: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake asks for Retry-After: 1; the cap lets the retry wait 0.25 s of it.
    settings = base.Settings(
        timeout=1.0, retries=1, backoff_factor=0.0, max_retry_after=0.25, rate_limit_scale=0
    )
    monkeypatch.setattr(base, "SETTINGS", settings)
    venue.reset_connections()
    fake.fail(CANDLES["bybit"], "429", times=1)
    started = time.monotonic()
    fetch_market("bybit", "BTC", "1d", base_url=fake.url)
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize("exchange", [*SINGLE, "all"])
def test_no_server_listening_is_unreachable_within_5_s(
    exchange: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real settings (timeouts, retries with backoff, ccxt's throttle), not the fast ones.
    monkeypatch.setattr(base, "SETTINGS", base.Settings())
    venue.reset_connections()
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as info:
        fetch_market(exchange, "BTC", "1w", base_url=f"http://127.0.0.1:{port}")
    assert info.value.reason == "unreachable"
    assert time.monotonic() - started < 5


def test_the_real_exchange_address_is_never_reached_from_tests() -> None:
    with pytest.raises(SourceUnavailable) as info:
        fetch_market("binance", "BTC", "1d")  # https://fapi.binance.com: refused by the guard
    assert info.value.reason == "unreachable"


def test_the_guard_refuses_other_hosts() -> None:
    with pytest.raises(OSError, match="only loopback"):
        socket.create_connection(("203.0.113.7", 443), timeout=0.1)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("api.bybit.com", 443)
