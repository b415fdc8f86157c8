"""The venues' public liquidation streams: where to connect, what to send, how to read a message.

One small :class:`Feed` per venue. A feed turns one decoded websocket message into
liquidation events ``(time_ms, side, price, quantity)`` where ``side`` is the side of
the **position that was liquidated** (``"long"`` or ``"short"``) and ``quantity`` is in
base units; everything else (acks, pongs, other topics, other symbols) gives no event.
Message shapes follow the venues' API documentation:

* **Binance** USD-M futures, ``<symbol>@forceOrder`` (``!forceOrder@arr`` for all
  symbols): ``{"e": "forceOrder", "E": ..., "o": {"s", "S", "q", "p", "ap", "X", "l",
  "z", "T"}}``. ``S`` is the side of the liquidation *order*: a forced ``SELL``
  closes a long. Binance pushes at most **one** liquidation per symbol per second (the
  latest), so recorded totals are a **lower bound**.
* **Bybit** v5 public linear, ``allLiquidation.<SYMBOL>``: ``{"topic", "type":
  "snapshot", "ts", "data": [{"T", "s", "S", "v", "p"}]}``. Bybit documents ``S`` as the
  **position** side: "When you receive a Buy update, this means that a long position has
  been liquidated" (reading it as the order side inverts every bar). ``v`` is in
  base units, ``p`` the bankruptcy price.
* **OKX** v5 public, ``liquidation-orders`` with ``instType`` ``SWAP``: ``{"arg",
  "data": [{"instId", "details": [{"side", "posSide", "bkPx", "sz", "ts"}]}]}``, ``sz``
  in contracts of ``ctVal`` base units (from ``GET /api/v5/public/instruments``).
  ``posSide`` is the position in hedge mode; in one-way mode (``net``) a forced
  ``sell`` closes a long. OKX says the channel is not its total liquidations and not
  necessarily in time order.
* **Hyperliquid** has no market-wide liquidation feed (its liquidations are only
  visible per user), so there is nothing to record: :func:`feed` says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from liqcore.sources.base import base_asset

__all__ = [
    "FEEDS",
    "NO_FEED",
    "Event",
    "Feed",
    "contract_size",
    "feed",
    "forget_contract_sizes",
    "parse_binance",
    "parse_bybit",
    "parse_okx",
]

#: One liquidation: (time in ms since the epoch, "long"/"short", price, base units).
Event = tuple[int, str, float, float]

#: Why an exchange cannot be recorded.
NO_FEED: dict[str, str] = {
    "hyperliquid": (
        "Hyperliquid publishes no market-wide liquidation feed (liquidations are visible "
        "only per account), so there is nothing to record."
    ),
    "all": "Record one exchange at a time: choose Binance, Bybit or OKX.",
}


def parse_binance(message: Any, symbol: str) -> list[Event]:
    """Events of one Binance ``forceOrder`` message (plain or combined-stream wrapped).

    Examples
    --------
    >>> msg = {"e": "forceOrder", "E": 1568014460893, "o": {"s": "BTCUSDT", "S": "SELL",
    ...        "o": "LIMIT", "f": "IOC", "q": "0.014", "p": "9910", "ap": "9910",
    ...        "X": "FILLED", "l": "0.014", "z": "0.014", "T": 1568014460893}}
    >>> parse_binance(msg, "BTC")
    [(1568014460893, 'long', 9910.0, 0.014)]
    >>> parse_binance(msg, "ETH")
    []
    """
    if isinstance(message, dict) and "stream" in message and "data" in message:
        message = message["data"]
    if not isinstance(message, dict) or message.get("e") != "forceOrder":
        return []
    order = message["o"]
    if order["s"] != f"{base_asset(symbol)}USDT":
        return []
    # A forced SELL closes a long position, a forced BUY a short one.
    side = "long" if order["S"] == "SELL" else "short"
    quantity = float(order.get("z") or order["q"])
    price = float(order.get("ap") or 0) or float(order["p"])
    return [(int(order["T"]), side, price, quantity)]


def parse_bybit(message: Any, symbol: str) -> list[Event]:
    """Events of one Bybit ``allLiquidation`` message.

    Examples
    --------
    >>> msg = {"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "ts": 1739502303204,
    ...        "data": [{"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000",
    ...                  "p": "0.04499"}]}
    >>> parse_bybit(msg, "ROSE")  # Bybit's own example: S "Sell", a short was liquidated
    [(1739502302929, 'short', 0.04499, 20000.0)]
    """
    if not isinstance(message, dict):
        return []
    instrument = f"{base_asset(symbol)}USDT"
    if message.get("topic") != f"allLiquidation.{instrument}":
        return []
    events = []
    for item in message.get("data") or []:
        if item.get("s", instrument) != instrument:
            continue
        # S is the position side (Bybit's docs): Buy = a long position was liquidated.
        side = "long" if item["S"] == "Buy" else "short"
        events.append((int(item["T"]), side, float(item["p"]), float(item["v"])))
    return events


def parse_okx(message: Any, symbol: str, ct_val: float) -> list[Event]:
    """Events of one OKX ``liquidation-orders`` message for ``symbol``'s USDT swap.

    Examples
    --------
    >>> msg = {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [
    ...     {"instId": "BTC-USDT-SWAP", "instType": "SWAP", "details": [
    ...         {"side": "buy", "posSide": "short", "bkPx": "60000", "sz": "13",
    ...          "ts": "1692266434010"},
    ...         {"side": "sell", "posSide": "net", "bkPx": "59000", "sz": "2",
    ...          "ts": "1692266435010"}]}]}
    >>> parse_okx(msg, "BTC", 0.01)
    [(1692266434010, 'short', 60000.0, 0.13), (1692266435010, 'long', 59000.0, 0.02)]
    """
    if not isinstance(message, dict):
        return []
    arg = message.get("arg") or {}
    if arg.get("channel") != "liquidation-orders" or "event" in message:
        return []
    instrument = f"{base_asset(symbol)}-USDT-SWAP"
    events = []
    for group in message.get("data") or []:
        if group.get("instId") != instrument:
            continue
        for item in group.get("details") or []:
            side = str(item.get("posSide", "")).lower()
            if side not in ("long", "short"):
                # One-way ("net") mode: a forced sell closes a long, a forced buy a short.
                side = "long" if str(item["side"]).lower() == "sell" else "short"
            quantity = round(float(item["sz"]) * ct_val, 12)
            events.append((int(item["ts"]), side, float(item["bkPx"]), quantity))
    return events


_CT_VAL: dict[tuple[str, str], float] = {}


def forget_contract_sizes() -> None:
    """Empty :func:`contract_size`'s per-process cache (the next call asks OKX again)."""
    _CT_VAL.clear()


def contract_size(symbol: str, base_url: str = "https://www.okx.com", timeout: float = 10) -> float:
    """``ctVal`` of ``symbol``'s OKX USDT swap (base units per contract), cached per process.

    Read from the public ``GET /api/v5/public/instruments?instType=SWAP&instId=...``.

    Raises
    ------
    ValueError
        OKX does not list the swap, or the answer has no usable ``ctVal``.
    requests.RequestException
        The endpoint cannot be reached.
    """
    instrument = f"{base_asset(symbol)}-USDT-SWAP"
    key = (base_url, instrument)
    if key not in _CT_VAL:
        response = requests.get(
            f"{base_url.rstrip('/')}/api/v5/public/instruments",
            params={"instType": "SWAP", "instId": instrument},
            timeout=timeout,
        )
        response.raise_for_status()
        body = response.json()
        rows = [row for row in body.get("data") or [] if row.get("instId") == instrument]
        try:
            value = float(rows[0]["ctVal"])
        except (IndexError, KeyError, TypeError, ValueError):
            msg = f"OKX lists no USDT swap {instrument} (answer code {body.get('code')!r})"
            raise ValueError(msg) from None
        if not value > 0:
            msg = f"OKX gives {instrument} a contract size of {value}"
            raise ValueError(msg)
        _CT_VAL[key] = value
    return _CT_VAL[key]


@dataclass(frozen=True)
class Feed:
    """How to record one venue's liquidation stream.

    Attributes
    ----------
    exchange : str
        ``"binance"``, ``"bybit"`` or ``"okx"``.
    url : str
        Public websocket address.
    subscribe : callable
        ``subscribe(symbol) -> list[str]``: text messages to send after each connect.
    parse : callable
        ``parse(message, symbol, **context) -> list[Event]``.
    heartbeat : str or None
        Application-level ping text the venue expects from its clients.
    heartbeat_every : float
        Seconds between two of them.
    lower_bound : str or None
        Why the venue's totals are a lower bound, shown wherever they are.
    """

    exchange: str
    url: str
    subscribe: Callable[[str], list[str]]
    parse: Callable[..., list[Event]]
    heartbeat: str | None = None
    heartbeat_every: float = 20.0
    lower_bound: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


def _binance_subscribe(symbol: str) -> list[str]:
    stream = f"{base_asset(symbol).lower()}usdt@forceOrder"
    return [json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 1})]


def _bybit_subscribe(symbol: str) -> list[str]:
    return [json.dumps({"op": "subscribe", "args": [f"allLiquidation.{base_asset(symbol)}USDT"]})]


def _okx_subscribe(symbol: str) -> list[str]:
    args = [{"channel": "liquidation-orders", "instType": "SWAP"}]
    return [json.dumps({"op": "subscribe", "args": args})]


FEEDS: dict[str, Feed] = {
    "binance": Feed(
        "binance",
        "wss://fstream.binance.com/ws",
        _binance_subscribe,
        parse_binance,
        # Binance pings at the protocol level; websockets answers those by itself.
        lower_bound=(
            "Binance publishes at most one liquidation per symbol per second, so these "
            "totals are a lower bound."
        ),
    ),
    "bybit": Feed(
        "bybit",
        "wss://stream.bybit.com/v5/public/linear",
        _bybit_subscribe,
        parse_bybit,
        heartbeat=json.dumps({"op": "ping"}),  # Bybit asks for one every 20 s
    ),
    "okx": Feed(
        "okx",
        "wss://ws.okx.com:8443/ws/v5/public",
        _okx_subscribe,
        parse_okx,
        heartbeat="ping",  # OKX drops a connection silent for 30 s; it answers "pong"
        lower_bound=(
            "OKX says its liquidation-orders channel does not carry all of its liquidations, "
            "so these totals are a lower bound."
        ),
    ),
}


def feed(exchange: str) -> Feed:
    """The feed of ``exchange``, or a ValueError saying why it has none.

    Examples
    --------
    >>> feed("Bybit").url
    'wss://stream.bybit.com/v5/public/linear'
    >>> feed("hyperliquid")
    Traceback (most recent call last):
    ...
    ValueError: Hyperliquid publishes no market-wide liquidation feed (liquidations are \
visible only per account), so there is nothing to record.
    """
    name = exchange.strip().lower()
    if name in NO_FEED:
        raise ValueError(NO_FEED[name])
    if name not in FEEDS:
        msg = f"exchange must be one of {', '.join(FEEDS)}, got {exchange!r}"
        raise ValueError(msg)
    return FEEDS[name]
