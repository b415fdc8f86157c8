"""Fixtures for the exchange-source tests: no network, a frozen clock, a fake exchange.

* ``no_network`` (autouse) refuses any socket connection or name lookup that is not
  loopback, so nothing here can reach a real exchange.
* ``fast_http`` (autouse) swaps in tiny timeouts, one retry, no backoff or throttle,
  freezes the sources' (and so ccxt's) clock at :data:`NOW_MS` and drops every
  connection with its market list and cache.
* ``fake`` is the fake exchange (``fake_exchange.py`` beside this file), one server per
  session, reset before each test.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from liqcore.sources import base, venue
from tests.sources.fake_exchange import NOW_MS, FakeExchange

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections and DNS lookups beyond loopback for the whole test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            msg = f"test tried to reach {address!r}: only loopback is allowed"
            raise ConnectionRefusedError(msg)

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host if isinstance(host, str) else str(host)):
            msg = f"test tried to resolve {host!r}: only loopback is allowed"
            raise socket.gaierror(socket.EAI_NONAME, msg)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


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
