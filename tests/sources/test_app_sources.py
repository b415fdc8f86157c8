"""Exchange data in the app: each source drawn from the fake exchange, each fault explained.

The app reads the exchange address from ``LIQSTUDIO_EXCHANGE_URL``; here it points at the
fake exchange on 127.0.0.1 (``fake``), with no other network (``no_network``) and fast
HTTP with a frozen clock (``fast_http``), all from ``conftest.py`` beside this file.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.sources.fake_exchange import FakeExchange

HEATMAP = "pages/heatmap.py"
EXCHANGE_URL_ENV = "LIQSTUDIO_EXCHANGE_URL"  # where the app connects to the exchanges
Spec = Callable[[AppTest], dict[str, Any]]

#: The sidebar's label of each exchange, and the first data request the app makes to it.
EXCHANGES = {
    "Binance": ("binance", "/fapi/v1/klines"),
    "Bybit": ("bybit", "/v5/market/kline"),
    "OKX": ("okx", "/api/v5/market/candles"),
    "Hyperliquid": ("hyperliquid", "/info:candleSnapshot"),
    "Bitget": ("bitget", "/api/v2/mix/market/candles"),
    "Gate": ("gate", "/api/v4/futures/usdt/candlesticks"),
    "KuCoin Futures": ("kucoin", "/api/v1/kline/query"),
    "Deribit": ("deribit", "/api/v2/public/get_tradingview_chart_data"),
}


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """No cached success may hide a fault, and no fault may leak into the next test."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def exchange(fake: FakeExchange, monkeypatch: pytest.MonkeyPatch) -> FakeExchange:
    """The fake exchange, as the app's exchange address."""
    monkeypatch.setenv(EXCHANGE_URL_ENV, fake.url)
    return fake


def choose_source(open_app: Callable[..., AppTest], label: str) -> AppTest:
    """Open the Heatmap on a month of simulated market, then pick ``label`` in the sidebar."""
    at = open_app(HEATMAP, days="30")
    assert not at.exception
    at.sidebar.selectbox(key="src").set_value(label).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def status_line(at: AppTest) -> str:
    captions = [caption.value for caption in at.caption]
    return next(text for text in captions if text.startswith(":material/database:"))


def values(array: Any) -> np.ndarray:
    """A plotly spec array: a list, or a typed array as ``{"dtype", "bdata"}``."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def trace(spec: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(t for t in spec["data"] if t["type"] == kind)


def chart_title(spec: dict[str, Any]) -> str:
    return spec["layout"]["title"]["text"]


FAKE_PRICES = (45_000, 55_000)  # the fake exchange's price path stays within ±5% of 50,000


@pytest.mark.parametrize("label", [*EXCHANGES, "All exchanges"])
def test_each_exchange_is_drawn_from_its_data(
    open_app: Callable[..., AppTest], heatmap_spec: Spec, exchange: FakeExchange, label: str
) -> None:
    at = choose_source(open_app, label)
    assert not at.error, [e.value for e in at.error]
    status = status_line(at)
    # "Binance BTC · 30m bars · from binance · fetched 2025-01-15 12:34 UTC"
    names = [name for name, _ in EXCHANGES.values()] if label == "All exchanges" else None
    fetched = r"fetched \d{4}-\d\d-\d\d \d\d:\d\d UTC"
    match = re.search(rf"{label} BTC · (\d+[mhd]) bars · from ([a-z, ]+) · {fetched}", status)
    assert match, status
    contributors = match.group(2).split(", ")
    if names is None:
        assert contributors == [EXCHANGES[label][0]]
    else:
        assert sorted(contributors) == sorted(names)
    routes = [EXCHANGES[label][1]] if names is None else [route for _, route in EXCHANGES.values()]
    for route in routes:
        assert exchange.requests_to(route), f"nothing asked of {route}"
    spec = heatmap_spec(at)
    assert f"{label} BTC · 1w" in chart_title(spec)
    close = values(trace(spec, "ohlc")["close"])
    assert FAKE_PRICES[0] < close.min() and close.max() < FAKE_PRICES[1]
    assert trace(spec, "heatmap")["zmax"] > 1


#: (sidebar label, route, fault, reason the user reads, more words of the message).
FAULTS = [
    ("Binance", "/fapi/v1/klines", "429", "rate-limited", "try again in 1 s"),
    ("Binance", "/fapi/v1/klines", "451", "geo-blocked", "restricted location"),
    ("Bybit", "/v5/market/kline", "403", "geo-blocked", "blocked in this region"),
    ("OKX", "/api/v5/market/candles", "timeout", "timeout", ""),
    ("Hyperliquid", "/info:candleSnapshot", "truncated", "malformed response", ""),
    ("Gate", "/api/v4/futures/usdt/contracts", "418", "banned", "HTTP 418"),
]


@pytest.mark.parametrize(
    ("label", "route", "fault", "reason", "detail"),
    FAULTS,
    ids=[f"{label}-{fault}" for label, _, fault, *_ in FAULTS],
)
def test_a_fault_is_explained_and_the_simulated_market_drawn(
    open_app: Callable[..., AppTest],
    heatmap_spec: Spec,
    exchange: FakeExchange,
    label: str,
    route: str,
    fault: str,
    reason: str,
    detail: str,
) -> None:
    exchange.fail(route, fault)
    at = choose_source(open_app, label)
    errors = [error.value for error in at.error]
    assert len(errors) == 1, errors
    name = EXCHANGES[label][0]
    assert errors[0].startswith(f"Could not load {label} BTC: {name}: {reason} — ")
    assert detail in errors[0]
    assert "Showing the simulated market instead" in errors[0]
    assert "Simulated market (live data unavailable)" in status_line(at)
    # The rest of the page works, on the simulated market, and says so.
    spec = heatmap_spec(at)
    assert "Simulated market (seed 7, 30 days, Retail crowd)" in chart_title(spec)
    assert label not in chart_title(spec)
    assert len(at.metric) >= 5  # the headline numbers (and the what-if below them)
    assert at.select_slider(key="tf").value == "1w", "the settings are kept"


def test_after_a_fault_the_exchange_and_the_simulated_market_both_come_back(
    open_app: Callable[..., AppTest], heatmap_spec: Spec, exchange: FakeExchange
) -> None:
    exchange.fail(EXCHANGES["Binance"][1], "451")
    at = choose_source(open_app, "Binance")
    assert at.error
    # The exchange answers again: the next run draws its data, not the fallback's estimate.
    exchange.reset()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    assert "Binance BTC · " in status_line(at)
    close = values(trace(heatmap_spec(at), "ohlc")["close"])
    assert FAKE_PRICES[0] < close.min() and close.max() < FAKE_PRICES[1]
    # And back to the simulated market.
    at.sidebar.selectbox(key="src").set_value("Simulated market").run()
    assert not at.exception
    assert not at.error
    assert "Simulated market · 15m bars · offline" in status_line(at)


def test_all_exchanges_leaves_out_the_one_that_fails(
    open_app: Callable[..., AppTest], heatmap_spec: Spec, exchange: FakeExchange
) -> None:
    exchange.fail(EXCHANGES["Bybit"][1], "403")
    at = choose_source(open_app, "All exchanges")
    assert not at.error, [e.value for e in at.error]
    status = status_line(at)
    assert "All exchanges BTC · " in status
    assert "bybit" not in status.split(" · from ")[1].split(" · ")[0]
    said = " ".join(info.value for info in at.info)
    assert "Bybit" in said or "bybit" in said, said
    assert "All exchanges BTC" in chart_title(heatmap_spec(at))


def test_okx_reported_liquidations_are_shown_with_their_coverage(
    exchange: FakeExchange, open_app: Callable[..., AppTest]
) -> None:
    """OKX publishes its latest liquidation orders: the Liquidations page shows them, labelled
    with the exchange and with how far back they reach, next to the model's estimate."""
    at = open_app("pages/liquidations.py", days="30")
    assert not at.exception
    at.sidebar.selectbox(key="src").set_value("OKX").run()
    assert not at.exception, [e.message for e in at.exception]
    assert exchange.requests_to("/api/v5/public/liquidation-orders"), "OKX was not asked"
    captions = " ".join(caption.value for caption in at.caption)
    assert "Reported by OKX covers only since" in captions
    spec = at.get("plotly_chart")[0].proto.spec
    assert "Reported by OKX" in spec
    assert "Estimate (model)" in spec


def test_the_sidebar_offers_every_venue_and_each_is_tested_here() -> None:
    import liqcore
    from liqcore.controls import SOURCES

    assert [venue.title for venue in liqcore.EXCHANGES] == list(EXCHANGES)
    assert all(SOURCES[venue.title] == venue.name for venue in liqcore.EXCHANGES)
    assert SOURCES["All exchanges"] == "all"


def test_the_liquidations_page_on_a_fault_titles_the_simulated_market(
    open_app: Callable[..., AppTest], exchange: FakeExchange
) -> None:
    exchange.fail(EXCHANGES["Binance"][1], "451")
    at = open_app("pages/liquidations.py", days="30")
    at.sidebar.selectbox(key="src").set_value("Binance").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Showing the simulated market instead" in at.error[0].value
    titles = [chart_title(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]
    liquidations = [title for title in titles if title.startswith("Liquidations per")]
    assert len(liquidations) == 1
    assert "Simulated market (seed 7, 30 days, Retail crowd)" in liquidations[0]
    assert "Binance" not in liquidations[0]
