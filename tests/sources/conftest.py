"""Fixtures for the exchange-source tests: no network, a frozen clock, a fake exchange.

* ``no_network`` (autouse) refuses any socket connection or name lookup that is not
  loopback, so nothing here can reach a real exchange.
* ``fast_http`` (autouse) swaps in tiny timeouts, one retry, no backoff or spacing,
  freezes the sources' clock at :data:`NOW_MS` and drops every cached client.
* ``fake`` is the fake exchange (``fake_exchange.py`` beside this file), one server per
  session, reset before each test.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fake_exchange import NOW_MS, FakeExchange

from liqcore.sources import _http

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
    settings = _http.HttpSettings(
        connect_timeout=0.5,
        read_timeout=0.3,
        retries=1,
        backoff_factor=0.0,
        max_retry_after=0.01,
        spacing_scale=0.0,
    )
    monkeypatch.setattr(_http, "SETTINGS", settings)
    monkeypatch.setattr(_http, "now_ms", lambda: NOW_MS)
    _http.reset_clients()
    yield
    _http.reset_clients()


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
