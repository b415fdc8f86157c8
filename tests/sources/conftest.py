"""Fixtures for the exchange-source tests: no network, a frozen clock, a fake exchange.

* ``no_network`` (autouse, from ``tests/conftest.py`` for the whole suite) refuses any
  socket connection or name lookup that is not loopback.
* ``fast_http`` (autouse) swaps in tiny timeouts, one retry, no backoff or throttle,
  freezes the sources' (and so ccxt's) clock at :data:`NOW_MS` and drops every
  connection with its market list and cache.
* ``fake`` is the fake exchange (``fake_exchange.py`` beside this file), one server per
  session, reset before each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from liqcore.sources import base, venue
from tests.sources.fake_exchange import NOW_MS, FakeExchange


@pytest.fixture(autouse=True)
def fast_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tiny timeouts, one retry, no waiting; a frozen clock; fresh clients and caches."""
    settings = base.Settings(
        timeout=1.5, retries=1, backoff_factor=0.0, max_retry_after=0.01, rate_limit_scale=0.0
    )
    monkeypatch.setattr(base, "SETTINGS", settings)
    monkeypatch.setattr(base, "now_ms", lambda: NOW_MS)
    venue.reset_connections()
    yield
    venue.reset_connections()


@pytest.fixture(scope="session")
def exchange_server() -> Iterator[FakeExchange]:
    server = FakeExchange(now_ms=NOW_MS).start()
    yield server
    server.stop()


@pytest.fixture
def fake(exchange_server: FakeExchange) -> FakeExchange:
    """The fake exchange with default shapes, no faults and an empty request log."""
    exchange_server.reset()
    return exchange_server
