"""Recorders running in a server's background: one per exchange and symbol, shared by all viewers.

:class:`BackgroundRecorders` owns one daemon thread with one asyncio loop; each
recorder is a task on it. Starting a market that is already recording does nothing,
so every viewer of the app sees and controls the same recorders. :meth:`stop_all`
runs at interpreter exit (``atexit``): each recorder writes its last batch and closes
its coverage span before the process ends.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import time
from dataclasses import dataclass

from liqcore.record import recorder_for
from liqcore.record.recorder import Recorder
from liqcore.record.store import LiquidationStore
from liqcore.sources.base import base_asset

__all__ = ["BackgroundRecorders", "RecorderStatus"]


@dataclass(frozen=True)
class RecorderStatus:
    """What the page shows about one market's recorder."""

    running: bool
    connected: bool = False
    since: float | None = None
    events: int = 0
    last_error: str | None = None


class BackgroundRecorders:
    """A process-wide set of recorders on one background event loop.

    Parameters
    ----------
    store : LiquidationStore
        Where every recorder writes (the process's one connection).
    urls : dict, optional
        Exchange -> websocket address (a mirror or test server).
    rest_url : str, optional
        OKX's REST address for contract sizes.
    """

    def __init__(
        self,
        store: LiquidationStore,
        *,
        urls: dict[str, str] | None = None,
        rest_url: str | None = None,
    ) -> None:
        self.store = store
        self.urls = urls or {}
        self.rest_url = rest_url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="liquidation-recorders", daemon=True
        )
        self._thread.start()
        self._lock = threading.Lock()
        self._running: dict[
            tuple[str, str], tuple[Recorder, asyncio.Event, concurrent.futures.Future]
        ] = {}
        atexit.register(self.stop_all)

    def start(self, exchange: str, symbol: str) -> RecorderStatus:
        """Start recording a market (no-op if it already is).

        Raises
        ------
        ValueError, requests.RequestException
            As :func:`liqcore.record.recorder_for`.
        """
        key = (exchange, base_asset(symbol))
        with self._lock:
            if key in self._running and not self._running[key][2].done():
                return self.status(*key)
            recorder = recorder_for(
                exchange, symbol, self.store, url=self.urls.get(exchange), rest_url=self.rest_url
            )
            stop = asyncio.Event()
            recorder.stats.started = time.time()  # "since", before the loop picks it up
            future = asyncio.run_coroutine_threadsafe(recorder.run(stop), self._loop)
            self._running[key] = (recorder, stop, future)
        return self.status(*key)

    def stop(self, exchange: str, symbol: str, timeout: float = 10.0) -> None:
        """Stop a market's recorder, waiting for its last write."""
        with self._lock:
            entry = self._running.pop((exchange, base_asset(symbol)), None)
        if entry is None:
            return
        _, stop, future = entry
        self._loop.call_soon_threadsafe(stop.set)
        try:
            future.result(timeout)
        except (concurrent.futures.TimeoutError, asyncio.CancelledError):
            future.cancel()

    def stop_all(self) -> None:
        """Stop every recorder (at exit too), each writing its last batch."""
        for exchange, symbol in list(self._running):
            self.stop(exchange, symbol)

    def status(self, exchange: str, symbol: str) -> RecorderStatus:
        """Whether a market is recording, since when (this run's first span) and how much."""
        entry = self._running.get((exchange, base_asset(symbol)))
        if entry is None:
            return RecorderStatus(running=False)
        recorder, _, future = entry
        stats = recorder.stats
        return RecorderStatus(
            running=not future.done(),
            connected=stats.connected,
            since=stats.started,
            events=stats.events,
            last_error=stats.last_error,
        )
