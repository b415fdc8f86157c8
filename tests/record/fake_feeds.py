"""A fake Binance / Bybit / OKX liquidation feed on 127.0.0.1, built on the ``websockets`` server.

:class:`FakeFeeds` is one websocket server in a background thread. Every connection
waits for the client's subscription, then plays the next *script* of
:meth:`FakeFeeds.play`: a list of actions

* ``("send", message)``: a text frame (a dict is sent as JSON, str and bytes as they are);
* ``("sleep", seconds)``;
* ``("ping",)``: a protocol ping; waits for the pong (counted in :attr:`FakeFeeds.pongs`);
* ``("expect", text, seconds)``: wait for the client to send ``text`` (an app-level ping);
* ``("stream", messages, per_second)``: send at a steady rate, logging each send time;
* ``("drop",)``: cut the TCP connection without a closing handshake (a network failure).

After its script a connection stays open until the client leaves. The message builders
(:func:`binance`, :func:`bybit`, :func:`okx`) write the venues' documented shapes (see
``tests/fixtures/feeds/SOURCES.md``). :class:`FakeInstruments` serves OKX's
``/api/v5/public/instruments`` for the contract size; :func:`record` runs a recorder
against the fake server for a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from liqcore.record import LiquidationStore, Recorder, feed
from liqcore.record.recorder import Backoff

FIXTURES = Path(__file__).parents[1] / "fixtures"
FEED_FIXTURES = FIXTURES / "feeds"
OKX_INSTRUMENTS = FIXTURES / "exchanges" / "okx_api_v5_public_instruments.json"
OKX_CT_VAL = 0.01  # BTC per contract in the instruments fixture


def binance(
    ts: int, order_side: str, price: float, quantity: float, symbol: str = "BTCUSDT"
) -> dict:
    """A Binance ``forceOrder`` event (the order's side: SELL closes a long)."""
    qty = f"{quantity:g}"
    return {
        "e": "forceOrder",
        "E": ts + 3,
        "o": {
            "s": symbol,
            "S": order_side,
            "o": "LIMIT",
            "f": "IOC",
            "q": qty,
            "p": f"{price * (0.99 if order_side == 'SELL' else 1.01):.2f}",
            "ap": f"{price:g}",
            "X": "FILLED",
            "l": qty,
            "z": qty,
            "T": ts,
        },
    }


def bybit(events: list[tuple[int, str, float, float]], symbol: str = "BTCUSDT") -> dict:
    """A Bybit ``allLiquidation`` snapshot; events are (T, S position side, price, size)."""
    return {
        "topic": f"allLiquidation.{symbol}",
        "type": "snapshot",
        "ts": max(e[0] for e in events) + 200,
        "data": [
            {"T": t, "s": symbol, "S": side, "v": f"{size:g}", "p": f"{price:g}"}
            for t, side, price, size in events
        ],
    }


def okx(events: list[tuple[int, str, str, float, float]], inst_id: str = "BTC-USDT-SWAP") -> dict:
    """An OKX ``liquidation-orders`` push; events are (ts, side, posSide, bkPx, sz contracts)."""
    family = inst_id.removesuffix("-SWAP")
    return {
        "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
        "data": [
            {
                "details": [
                    {
                        "bkLoss": "0",
                        "bkPx": f"{price:g}",
                        "ccy": "",
                        "posSide": pos_side,
                        "side": side,
                        "sz": f"{size:g}",
                        "ts": str(t),
                    }
                    for t, side, pos_side, price, size in events
                ],
                "instFamily": family,
                "instId": inst_id,
                "instType": "SWAP",
                "uly": family,
            }
        ],
    }


class FakeFeeds:
    """The fake feed server (see the module docstring); ``with FakeFeeds() as feeds: ...``."""

    def __init__(self) -> None:
        self.scripts: list[list[tuple[Any, ...]]] = []
        self.subscriptions: list[str] = []
        self.received: list[str] = []
        self.sent_at: list[float] = []
        self.pongs = 0
        self.close_codes: list[int | None] = []
        self.connections = 0
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Future | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def play(self, *scripts: list[tuple[Any, ...]]) -> FakeFeeds:
        """The scripts of the next connections, in order (later connections get none)."""
        self.scripts = [list(s) for s in scripts]
        return self

    def __enter__(self) -> FakeFeeds:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0, ping_interval=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    async def _handler(self, conn: ServerConnection) -> None:
        index = self.connections
        self.connections += 1
        inbox: asyncio.Queue[str] = asyncio.Queue()

        async def read() -> None:
            try:
                async for message in conn:
                    text = message if isinstance(message, str) else message.decode()
                    self.received.append(text)
                    inbox.put_nowait(text)
            except ConnectionClosed:
                pass

        reader = asyncio.create_task(read())
        try:
            self.subscriptions.append(await asyncio.wait_for(inbox.get(), 10))
            script = self.scripts[index] if index < len(self.scripts) else []
            for action in script:
                await self._act(conn, action, inbox)
            await conn.wait_closed()
            self.close_codes.append(conn.close_code)
        except (ConnectionClosed, TimeoutError) as exc:
            self.errors.append(f"connection {index}: {type(exc).__name__}")
        finally:
            reader.cancel()

    async def _act(
        self, conn: ServerConnection, action: tuple[Any, ...], inbox: asyncio.Queue
    ) -> None:
        kind = action[0]
        if kind == "send":
            message = action[1]
            await conn.send(message if isinstance(message, str | bytes) else json.dumps(message))
        elif kind == "sleep":
            await asyncio.sleep(action[1])
        elif kind == "ping":
            waiter = await conn.ping()
            await asyncio.wait_for(waiter, 5)
            self.pongs += 1
        elif kind == "expect":
            deadline = time.monotonic() + action[2]
            while True:
                text = await asyncio.wait_for(inbox.get(), max(deadline - time.monotonic(), 0.01))
                if text == action[1]:
                    break
        elif kind == "stream":
            messages, rate = action[1], action[2]
            start = time.monotonic()
            for i, message in enumerate(messages):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await conn.send(json.dumps(message))
                self.sent_at.append(time.time())
        elif kind == "drop":
            conn.transport.abort()
            await asyncio.sleep(0)
        else:  # pragma: no cover - a typo in a test
            msg = f"unknown action {kind!r}"
            raise ValueError(msg)


class FakeInstruments:
    """OKX's public instruments endpoint on 127.0.0.1 (the recorded fixture, ``ctVal`` 0.01)."""

    def __init__(self) -> None:
        body = OKX_INSTRUMENTS.read_bytes()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if (
                    self.path.startswith("/api/v5/public/instruments")
                    and "BTC-USDT-SWAP" in self.path
                ):
                    payload = body
                else:
                    payload = b'{"code":"51001","msg":"Instrument ID does not exist","data":[]}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeInstruments:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


#: Reconnect at once in tests (the backoff itself is tested on its own).
FAST = Backoff(base=0.05, cap=0.2)


def record(
    server: FakeFeeds,
    exchange: str,
    store: LiquidationStore,
    seconds: float,
    symbol: str = "BTC",
    **options: Any,
) -> Recorder:
    """Record ``seconds`` from the fake server into ``store``; returns the recorder."""
    context = {"ct_val": 0.01} if exchange == "okx" else {}
    options.setdefault("backoff", FAST)
    recorder = Recorder(feed(exchange), symbol, store, url=server.url, context=context, **options)
    asyncio.run(recorder.run(seconds=seconds))
    return recorder
