"""The recording loop: connect, subscribe, read, store in batches, reconnect with backoff.

Built on the ``websockets`` asyncio client (``websockets.asyncio.client.connect``): it
does the framing, answers the server's protocol pings and pings the server itself
(``ping_interval``), so a dead link is noticed. On top of it the recorder

* sends each venue's application-level heartbeat every 20 s (OKX ``"ping"``, Bybit
  ``{"op": "ping"}``) and answers a venue's ``ping`` with ``pong``;
* resubscribes after every reconnect, waiting a capped exponential backoff with full
  jitter between attempts (reset once a connection has carried data);
* writes at least every :attr:`Recorder.flush_every` seconds (≤ 1 s), events and the
  coverage span's end in one transaction, so a killed recorder loses at most the last
  second and the coverage never claims time that was not recorded;
* skips what it cannot read (malformed JSON, unknown events) and counts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from liqcore.record.feeds import Event, Feed
from liqcore.record.store import LiquidationStore
from liqcore.sources.base import base_asset

__all__ = ["Backoff", "RecordStats", "Recorder", "connection_problem"]

log = logging.getLogger(__name__)


def connection_problem(exc: BaseException, url: str) -> str:
    """Why a feed could not be reached, in plain words rather than the exception's text.

    Parameters
    ----------
    exc : BaseException
        What connecting or reading raised.
    url : str
        The feed's address.

    Examples
    --------
    >>> connection_problem(socket.gaierror(-2, "Name or service not known"), "wss://x.com/ws")
    'cannot reach wss://x.com/ws (no network, or the venue is blocked here)'
    >>> connection_problem(ConnectionRefusedError(111, "refused"), "ws://127.0.0.1:9/ws")
    'ws://127.0.0.1:9/ws refused the connection'
    """
    if isinstance(exc, socket.gaierror):
        return f"cannot reach {url} (no network, or the venue is blocked here)"
    if isinstance(exc, ConnectionRefusedError):
        return f"{url} refused the connection"
    if isinstance(exc, TimeoutError):
        return f"{url} did not answer in time (a slow network, or the venue is blocked here)"
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        return f"{url} turned the connection down (HTTP {code}; the venue may block this region)"
    if isinstance(exc, InvalidURI):
        return f"{url} is not a websocket address"
    if isinstance(exc, ConnectionClosed):
        return f"the connection to {url} was closed"
    if isinstance(exc, (OSError, InvalidHandshake)):
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return f"cannot reach {url} ({reason})"
    return f"{url}: {type(exc).__name__}"


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter: attempt ``n`` waits U(0, min(cap, base·2ⁿ)).

    Examples
    --------
    >>> b = Backoff(base=1.0, cap=30.0)
    >>> [b.ceiling(n) for n in range(7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    >>> 0.0 <= b.delay(3, random.Random(1)) <= 8.0
    True
    """

    base: float = 1.0
    cap: float = 60.0

    def ceiling(self, attempt: int) -> float:
        """The longest wait before attempt ``attempt`` (0 = first retry)."""
        return min(self.cap, self.base * 2.0 ** min(attempt, 30))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A jittered wait (full jitter spreads many clients' reconnects apart)."""
        return (rng or random).uniform(0.0, self.ceiling(attempt))


@dataclass
class RecordStats:
    """What a recorder did, for its log line and the app's status."""

    connections: int = 0
    events: int = 0
    skipped: int = 0
    last_error: str | None = None
    started: float | None = None
    span_start: float | None = None
    connected: bool = False
    errors: list[str] = field(default_factory=list)


class Recorder:
    """Records one market of one venue into a :class:`LiquidationStore` until stopped.

    Parameters
    ----------
    feed : Feed
        The venue (:func:`liqcore.record.feeds.feed`).
    symbol : str
        Base asset, e.g. ``"BTC"``.
    store : LiquidationStore
    url : str, optional
        A mirror or test server instead of the venue's address.
    context : dict, optional
        Extra arguments of the feed's parser (OKX: ``ct_val``).
    backoff : Backoff
    flush_every : float
        Most seconds between writes (≤ 1).
    clock : callable
        Seconds since the epoch (the coverage spans' clock).
    ping_interval : float or None
        Seconds between protocol pings (websockets closes the link if a pong takes longer).
    open_timeout : float
        Seconds to wait for the connection to open.
    heartbeat_every : float, optional
        Seconds between the venue's app-level pings (default: the feed's).

    Examples
    --------
    >>> from liqcore.record import feed
    >>> recorder = Recorder(feed("bybit"), "btcusdt", LiquidationStore(":memory:"),
    ...                     url="ws://127.0.0.1:9/ws", backoff=Backoff(0.05, 0.1))
    >>> stats = asyncio.run(recorder.run(seconds=0.3))  # nobody listens on port 9
    >>> recorder.symbol, stats.connections, stats.last_error is not None
    ('BTC', 0, True)
    """

    def __init__(
        self,
        feed: Feed,
        symbol: str,
        store: LiquidationStore,
        *,
        url: str | None = None,
        context: dict[str, Any] | None = None,
        backoff: Backoff | None = None,
        flush_every: float = 0.5,
        clock: Callable[[], float] = time.time,
        ping_interval: float | None = 20.0,
        open_timeout: float = 10.0,
        heartbeat_every: float | None = None,
    ) -> None:
        if not 0 < flush_every <= 1.0:
            msg = f"flush_every must be in (0, 1] seconds, got {flush_every}"
            raise ValueError(msg)
        self.feed = feed
        self.symbol = base_asset(symbol)  # stored as the base asset: BTC, whatever was typed
        self.store = store
        self.url = url or feed.url
        self.context = context or {}
        self.backoff = backoff or Backoff()
        self.flush_every = flush_every
        self.clock = clock
        self.ping_interval = ping_interval
        self.open_timeout = open_timeout
        self.heartbeat_every = heartbeat_every or feed.heartbeat_every
        self.stats = RecordStats()
        self._pending: list[Event] = []
        self._span: float | None = None
        self._rng = random.Random()

    def _flush(self, *, end: float | None = None) -> None:
        span = None if self._span is None else (self._span, end or self.clock())
        if self._pending or span is not None:
            self.store.write(self.feed.exchange, self.symbol, self._pending, span=span)
            self.stats.events += len(self._pending)
            self._pending = []

    def _handle(self, text: str | bytes) -> str | None:
        """Queue the events of one message; returns a reply to send, if any."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if text == "pong":
            return None
        if text == "ping":
            return "pong"
        try:
            message = json.loads(text)
        except ValueError:
            self.stats.skipped += 1
            return None
        if isinstance(message, dict) and message.get("op") == "ping" and "ret_msg" not in message:
            return json.dumps({"op": "pong"})
        try:
            events = self.feed.parse(message, self.symbol, **self.context)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.stats.skipped += 1
            return None
        self._pending.extend(events)
        return None

    async def _session(self, stop: asyncio.Event, deadline: float | None) -> bool:
        """One connection; returns True if it carried data (the backoff starts over)."""
        carried = False
        async with connect(
            self.url,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            open_timeout=self.open_timeout,
            close_timeout=2,
            max_size=2**22,
        ) as ws:
            for message in self.feed.subscribe(self.symbol):
                await ws.send(message)
            self.stats.connections += 1
            self.stats.connected = True
            self._span = self.store.open_span(self.feed.exchange, self.symbol, self.clock())
            self.stats.span_start = self._span
            log.info("%s %s: connected to %s", self.feed.exchange, self.symbol, self.url)
            next_flush = time.monotonic() + self.flush_every
            last_beat = time.monotonic()
            try:
                while not stop.is_set():
                    now = time.monotonic()
                    if deadline is not None and now >= deadline:
                        stop.set()
                        break
                    wait = next_flush - now
                    if deadline is not None:
                        wait = min(wait, deadline - now)
                    text = None
                    try:
                        async with asyncio.timeout(max(wait, 0.0)):
                            text = await ws.recv()
                    except TimeoutError:
                        pass
                    now = time.monotonic()
                    if text is not None:
                        carried = True
                        reply = self._handle(text)
                        if reply is not None:
                            await ws.send(reply)
                    if now >= next_flush:
                        self._flush()
                        next_flush = now + self.flush_every
                    heartbeat = self.feed.heartbeat
                    # Bybit wants one every 20 s whatever the traffic; OKX only minds silence,
                    # and answers an extra "ping" with "pong", so one rule serves both.
                    if heartbeat and now - last_beat >= self.heartbeat_every:
                        await ws.send(heartbeat)
                        last_beat = now
            finally:
                self._flush()
                self._span = None
                self.stats.connected = False
        return carried

    async def run(
        self, stop: asyncio.Event | None = None, seconds: float | None = None
    ) -> RecordStats:
        """Record until ``stop`` is set or ``seconds`` have passed; returns the statistics."""
        stop = stop or asyncio.Event()
        deadline = None if seconds is None else time.monotonic() + seconds
        self.stats.started = self.stats.started or self.clock()
        attempt = 0
        while not stop.is_set():
            try:
                if await self._session(stop, deadline):
                    attempt = 0
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                self._note(exc, retrying=True)
            except InvalidURI as exc:
                self._note(exc)
                break
            if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                break
            wait = self.backoff.delay(attempt, self._rng)
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0.0))
            attempt += 1
            log.info("%s %s: reconnecting in %.1f s", self.feed.exchange, self.symbol, wait)
            try:
                async with asyncio.timeout(wait):
                    await stop.wait()
            except TimeoutError:
                pass
        return self.stats

    def _note(self, exc: BaseException, *, retrying: bool = False) -> None:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        plain = connection_problem(exc, self.url)
        if retrying:
            plain += f"; retrying, at most {self.backoff.cap:g} s apart"
        self.stats.last_error = plain
        self.stats.errors = [*self.stats.errors[-9:], text]
        log.warning("%s %s: %s", self.feed.exchange, self.symbol, text)
