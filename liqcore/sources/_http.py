"""Plumbing shared by the exchange sources.

Four things every source needs, kept in one place:

* :class:`SourceUnavailable`, the one error a caller catches, with a short ``reason``
  from :data:`REASONS` and a sentence for the user;
* bar intervals, timeframes and the :class:`Window` of bars a fetch covers;
* :class:`Client`: one :class:`requests.Session` per source with connect/read timeouts,
  urllib3's ``Retry`` on 429/5xx honouring ``Retry-After``, a TTL cache per request,
  polite spacing between requests, and the mapping of every failure onto a reason;
* :func:`build_frame`: candles + open interest (+ optional series) aligned on bar
  times, gaps filled, validated, with the ``attrs`` the UI's status line reads.

Tests make everything fast by replacing :data:`SETTINGS` (timeouts, retries, backoff)
and calling :func:`reset_clients`.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import requests
from cachetools import TTLCache
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from liqcore.market import fill_gaps, validate_market

__all__ = [
    "INTERVALS",
    "MAX_BARS",
    "REASONS",
    "SETTINGS",
    "TIMEFRAMES",
    "Client",
    "Extra",
    "HttpSettings",
    "SourceUnavailable",
    "Trace",
    "Window",
    "at_bar_close",
    "base_asset",
    "build_frame",
    "candles_from",
    "check_interval",
    "choose_interval",
    "chunks",
    "client",
    "fail",
    "make_window",
    "naming",
    "now_ms",
    "optional",
    "parse_timeframe",
    "parsing",
    "reset_clients",
    "series_from",
    "title",
    "to_ms",
]

# --------------------------------------------------------------------------- errors

#: Every ``SourceUnavailable.reason`` and what it tells the user.
REASONS: dict[str, str] = {
    "geo-blocked": "the exchange refuses requests from this location (HTTP 451 or 403)",
    "rate-limited": "the exchange asked us to slow down (HTTP 429) and retries did not help",
    "banned": "the exchange has banned this IP address for a while (HTTP 418)",
    "unknown symbol": "the exchange does not list this symbol",
    "timeout": "the exchange did not answer in time",
    "unreachable": "no connection to the exchange (DNS, refused, reset)",
    "server error": "the exchange answered with a server error (HTTP 5xx) after retries",
    "rejected": "the exchange refused the request with an error code",
    "malformed response": "the answer was not in the documented shape (cut off, HTML, bad values)",
    "no data": "the exchange answered but had no data for this request",
    "coverage": "the exchange cannot cover the requested timeframe at this interval",
    "unsupported": "the exchange offers no public endpoint for this data",
}


class SourceUnavailable(RuntimeError):
    """An exchange could not deliver the data; ``reason`` says why in one word or two.

    Parameters
    ----------
    exchange : str
        The source that failed (``"binance"``, ``"all"``...).
    reason : str
        One of the keys of :data:`REASONS`.
    message : str
        A sentence for the user, saying what to try instead where there is something.
    retry_after : float, optional
        Seconds the exchange asked us to wait (from ``Retry-After``), when it said so.

    Examples
    --------
    >>> err = SourceUnavailable("bybit", "geo-blocked", "Bybit refuses requests from here")
    >>> err.reason, str(err)
    ('geo-blocked', 'bybit: Bybit refuses requests from here')
    """

    def __init__(
        self, exchange: str, reason: str, message: str, *, retry_after: float | None = None
    ) -> None:
        if reason not in REASONS:
            msg = f"unknown reason {reason!r} (choose from {', '.join(REASONS)})"
            raise ValueError(msg)
        super().__init__(f"{exchange}: {message}")
        self.exchange = exchange
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only state is not in self.args; keep the error picklable (caches, workers).
        return (_rebuild_error, (self.exchange, self.reason, self.message, self.retry_after))


def _rebuild_error(
    exchange: str, reason: str, message: str, retry_after: float | None
) -> SourceUnavailable:
    return SourceUnavailable(exchange, reason, message, retry_after=retry_after)


_TITLES = {"okx": "OKX", "all": "All exchanges"}


def title(exchange: str) -> str:
    """How an exchange is written in messages: ``okx`` → ``OKX``, ``bybit`` → ``Bybit``."""
    return _TITLES.get(exchange, exchange.capitalize())


def fail(exchange: str, reason: str, message: str, *, retry_after: float | None = None) -> NoReturn:
    """Raise :class:`SourceUnavailable` (a helper so call sites stay one line)."""
    raise SourceUnavailable(exchange, reason, message, retry_after=retry_after)


@contextmanager
def parsing(exchange: str, what: str) -> Iterator[None]:
    """Turn a parsing slip (missing key, bad number...) into a ``malformed response``."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        fail(exchange, "malformed response", f"could not read {what}: {exc!r}")


@contextmanager
def naming(exchange: str, instrument: str) -> Iterator[None]:
    """Put the instrument's name into an ``unknown symbol`` error raised inside."""
    try:
        yield
    except SourceUnavailable as exc:
        if exc.reason != "unknown symbol" or instrument in exc.message:
            raise
        who = title(exchange)
        fail(exchange, "unknown symbol", f"{who} does not list {instrument} ({exc.message})")


def optional(
    exchange: str, notes: list[str], label: str, fetch: Callable[[], pd.Series]
) -> pd.Series:
    """Run ``fetch`` for an optional column; on failure note why and return an empty series."""
    try:
        return fetch()
    except SourceUnavailable as exc:
        notes.append(f"{title(exchange)} {label} left out ({exc.reason}: {exc.message})")
        return pd.Series(dtype="float64")


# ------------------------------------------------------------------ intervals & windows

#: Bar intervals every source supports (6h is missing on Hyperliquid, so it is left out).
INTERVALS: dict[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1),
    "3m": pd.Timedelta(minutes=3),
    "5m": pd.Timedelta(minutes=5),
    "15m": pd.Timedelta(minutes=15),
    "30m": pd.Timedelta(minutes=30),
    "1h": pd.Timedelta(hours=1),
    "2h": pd.Timedelta(hours=2),
    "4h": pd.Timedelta(hours=4),
    "12h": pd.Timedelta(hours=12),
    "1d": pd.Timedelta(days=1),
}

#: Timeframes offered in the UI, shortest first.
TIMEFRAMES: tuple[str, ...] = ("1d", "3d", "1w", "2w", "1mo", "3mo", "6mo", "1y")

#: The most bars one fetch may ask for; beyond it a coarser interval is needed.
MAX_BARS = 5000

_TIMEFRAME_UNITS = {
    "h": pd.Timedelta(hours=1),
    "d": pd.Timedelta(days=1),
    "w": pd.Timedelta(weeks=1),
    "mo": pd.Timedelta(days=30),
    "M": pd.Timedelta(days=30),
    "y": pd.Timedelta(days=365),
}
_TIMEFRAME_RE = re.compile(r"^\s*(\d+)\s*(h|d|w|mo|M|y)\s*$")

# Finest interval for each timeframe: a few hundred to ~1,100 bars, enough detail for the
# heatmap while every exchange answers in a handful of requests.
_AUTO_INTERVAL: tuple[tuple[pd.Timedelta, str], ...] = (
    (pd.Timedelta(days=3), "5m"),
    (pd.Timedelta(days=7), "15m"),
    (pd.Timedelta(days=14), "30m"),
    (pd.Timedelta(days=31), "1h"),
    (pd.Timedelta(days=183), "4h"),
)


def parse_timeframe(timeframe: str | pd.Timedelta | timedelta) -> pd.Timedelta:
    """Read a timeframe (how far back to look) such as ``"3d"``, ``"1mo"`` or ``"1y"``.

    Units: ``h``, ``d``, ``w``, ``mo`` (or ``M``, 30 days), ``y`` (365 days). A lone
    ``m`` is refused because it reads as both minutes and months.

    Parameters
    ----------
    timeframe : str or Timedelta
        The span ending now.

    Returns
    -------
    pandas.Timedelta

    Examples
    --------
    >>> parse_timeframe("3d"), parse_timeframe("1mo")
    (Timedelta('3 days 00:00:00'), Timedelta('30 days 00:00:00'))
    >>> parse_timeframe("1m")
    Traceback (most recent call last):
    ...
    ValueError: timeframe '1m' is ambiguous: write '1mo' for a month (units: h, d, w, mo, y)
    """
    if isinstance(timeframe, timedelta | pd.Timedelta):
        span = pd.Timedelta(timeframe)
    else:
        text = str(timeframe)
        match = _TIMEFRAME_RE.match(text)
        if match is None:
            if re.match(r"^\s*\d+\s*m\s*$", text):
                msg = (
                    f"timeframe {text!r} is ambiguous: write '1mo' for a month "
                    "(units: h, d, w, mo, y)"
                )
            else:
                msg = f"cannot read timeframe {text!r}: use e.g. 1d, 3d, 1w, 1mo, 1y"
            raise ValueError(msg)
        span = int(match.group(1)) * _TIMEFRAME_UNITS[match.group(2)]
    if span <= pd.Timedelta(0):
        msg = f"timeframe must be positive, got {timeframe!r}"
        raise ValueError(msg)
    return span


def choose_interval(timeframe: str | pd.Timedelta | timedelta) -> str:
    """Pick the candle interval for a timeframe.

    5m up to 3 days, 15m up to a week, 30m up to two weeks, 1h up to a month,
    4h up to six months, 1d beyond: always between ~300 and ~1,100 bars.

    Parameters
    ----------
    timeframe : str or Timedelta
        See :func:`parse_timeframe`.

    Returns
    -------
    str
        A key of :data:`INTERVALS`.

    Examples
    --------
    >>> [choose_interval(t) for t in ("1d", "3d", "1w", "1mo", "3mo", "1y")]
    ['5m', '5m', '15m', '1h', '4h', '1d']
    """
    span = parse_timeframe(timeframe)
    for limit, interval in _AUTO_INTERVAL:
        if span <= limit:
            return interval
    return "1d"


def check_interval(interval: str) -> str:
    """Return ``interval`` if supported, else raise :class:`ValueError` listing the choices."""
    if interval not in INTERVALS:
        msg = f"unsupported interval {interval!r} (choose from {', '.join(INTERVALS)})"
        raise ValueError(msg)
    return interval


def now_ms() -> int:
    """Current time in epoch milliseconds (tests replace this to freeze the clock)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Window:
    """The bars one fetch covers: open times ``start_ms``, ``start_ms + step``... ``< end_ms``.

    ``end_ms`` is the close of the bar in progress, so the last bar is the live one.
    Both ends sit on the interval grid, which keeps request parameters identical
    between reruns inside one bar and lets the cache answer them.
    """

    interval: str
    timeframe: str
    start_ms: int
    end_ms: int

    @property
    def step_ms(self) -> int:
        return int(INTERVALS[self.interval].total_seconds() * 1000)

    @property
    def bars(self) -> int:
        return (self.end_ms - self.start_ms) // self.step_ms

    @property
    def ttl(self) -> float:
        """Cache lifetime in seconds: about one bar, clamped by :data:`SETTINGS`."""
        seconds = self.step_ms / 1000
        return float(min(max(seconds, SETTINGS.min_ttl), SETTINGS.max_ttl))

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(
            pd.to_datetime(
                np.arange(self.start_ms, self.end_ms, self.step_ms), unit="ms", utc=True
            ),
            name="time",
        )


def make_window(
    timeframe: str | pd.Timedelta | timedelta, interval: str, *, at_ms: int | None = None
) -> Window:
    """The ``interval`` bars covering ``timeframe`` back from now (or ``at_ms``).

    The first bar is the one holding ``now - timeframe``; the last is the bar in progress.

    Examples
    --------
    >>> w = make_window("1d", "1h", at_ms=1_704_069_000_000)   # 2024-01-01 00:30 UTC
    >>> w.bars, str(w.index[0]), str(w.index[-1])
    (25, '2023-12-31 00:00:00+00:00', '2024-01-01 00:00:00+00:00')
    """
    span = parse_timeframe(timeframe)
    step = INTERVALS[check_interval(interval)]
    step_ms = int(step.total_seconds() * 1000)
    span_ms = int(span.total_seconds() * 1000)
    now = now_ms() if at_ms is None else at_ms
    end = (now // step_ms + 1) * step_ms
    start = ((now - span_ms) // step_ms) * step_ms
    bars = (end - start) // step_ms
    if bars > MAX_BARS:
        coarser = choose_interval(span)
        msg = (
            f"{timeframe} at {interval} is {bars:,} bars; at most {MAX_BARS:,} are fetched "
            f"at once: choose a coarser interval ({coarser} is the default for {timeframe})"
        )
        raise ValueError(msg)
    label = timeframe if isinstance(timeframe, str) else str(span)
    return Window(interval=interval, timeframe=label, start_ms=start, end_ms=end)


def chunks(start_ms: int, end_ms: int, step_ms: int, per_request: int) -> list[tuple[int, int]]:
    """Split ``[start_ms, end_ms)`` into ranges of at most ``per_request`` steps, oldest first.

    Asking for ranges that hold no more than an endpoint's page limit leaves no doubt
    about which end of an over-full range the exchange would have kept.

    Examples
    --------
    >>> chunks(0, 10, 1, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    span = per_request * step_ms
    return [(start, min(start + span, end_ms)) for start in range(start_ms, end_ms, span)]


def to_ms(value: Any) -> int:
    """Epoch milliseconds from a JSON number or numeric string (exchanges send both).

    Examples
    --------
    >>> to_ms("1706637600000"), to_ms(1706637600000), to_ms(1.7066376e12)
    (1706637600000, 1706637600000, 1706637600000)
    """
    if isinstance(value, bool) or value is None:
        msg = f"not a timestamp: {value!r}"
        raise ValueError(msg)
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() else int(float(value))
    return int(value)


_QUOTE_SUFFIXES = ("-USDT-SWAP", "/USDT:USDT", "USDT", "-USDT", "/USDT", "USDC", "-PERP")


def base_asset(symbol: str) -> str:
    """The base asset of a symbol as users and exchanges write it (``btc``, ``BTCUSDT``...).

    Examples
    --------
    >>> [base_asset(s) for s in ("btc", "BTCUSDT", "ETH-USDT-SWAP", "SOL/USDT:USDT", "1000PEPE")]
    ['BTC', 'BTC', 'ETH', 'SOL', '1000PEPE']
    """
    text = str(symbol).strip().upper()
    for suffix in _QUOTE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if not re.fullmatch(r"[A-Z0-9]{1,20}", text):
        msg = f"cannot read symbol {symbol!r}: use a base asset such as BTC, ETH, SOL"
        raise ValueError(msg)
    return text


# ------------------------------------------------------------------------------ HTTP


@dataclass(frozen=True)
class HttpSettings:
    """Knobs of every :class:`Client`; tests swap :data:`SETTINGS` for tiny values.

    ``max_retry_after`` caps how long one retry waits on a ``Retry-After`` header, so a
    page never freezes for minutes; if the exchange still refuses, the fetch ends as
    ``rate-limited`` carrying the exchange's ``retry_after``. ``spacing_scale``
    multiplies each source's minimum spacing between requests (0 turns it off).
    """

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retries: int = 3
    backoff_factor: float = 0.5
    max_retry_after: float = 10.0
    cache_maxsize: int = 512
    min_ttl: float = 30.0
    max_ttl: float = 3600.0
    spacing_scale: float = 1.0


SETTINGS = HttpSettings()

_RETRY_STATUSES = (429, 500, 502, 503, 504)


class _Retry(Retry):
    """urllib3's Retry, waiting at most ``SETTINGS.max_retry_after`` on a Retry-After header."""

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, SETTINGS.max_retry_after)


def _session() -> requests.Session:
    retry = _Retry(
        total=SETTINGS.retries,
        connect=SETTINGS.retries,
        read=SETTINGS.retries,
        status=SETTINGS.retries,
        # The Hyperliquid info POST is a read; retrying it is as safe as a GET.
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=_RETRY_STATUSES,
        backoff_factor=SETTINGS.backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last 429/5xx so we can name the reason
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"Accept": "application/json", "User-Agent": "liqcore/0.1"})
    return session


@dataclass
class Trace:
    """What one fetch cost: network requests, cache hits and when its data was fetched."""

    requests: int = 0
    cache_hits: int = 0
    fetched_at: float | None = None  # epoch seconds of the oldest response used

    def record(self, fetched_at: float, *, hit: bool) -> None:
        if hit:
            self.cache_hits += 1
        else:
            self.requests += 1
        self.fetched_at = (
            fetched_at if self.fetched_at is None else min(self.fetched_at, fetched_at)
        )

    @property
    def from_cache(self) -> bool:
        return self.requests == 0 and self.cache_hits > 0


Unwrap = Callable[[Any], Any]


def _identity(payload: Any) -> Any:
    return payload


@dataclass
class Client:
    """HTTP access to one exchange: session, retries, cache, spacing, error mapping.

    ``unwrap`` receives the decoded JSON and returns the useful part, raising
    :class:`SourceUnavailable` for the exchange's own error codes. ``spacing`` maps a
    path prefix to the minimum seconds between two network requests on that prefix.
    ``forbidden`` is the reason and message for an HTTP 403 whose body names neither a
    rate limit nor a location (Binance uses 403 for its firewall limit).
    """

    exchange: str
    base_url: str
    unwrap: Unwrap = _identity
    spacing: Mapping[str, float] = field(default_factory=dict)
    forbidden: tuple[str, str] = (
        "geo-blocked",
        "{who} refuses requests from this location (HTTP 403); try another exchange or a mirror",
    )
    session: requests.Session = field(default_factory=_session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._caches: dict[float, TTLCache] = {}
        self._lock = threading.Lock()
        self._spacing_lock = threading.Lock()
        self._last_request: dict[str, float] = {}

    def get(self, path: str, params: Mapping[str, Any], *, ttl: float, trace: Trace) -> Any:
        """GET ``path`` with ``params``; the unwrapped JSON, from cache when fresh."""
        return self._fetch("GET", path, dict(params), None, ttl, trace)

    def post(self, path: str, body: Mapping[str, Any], *, ttl: float, trace: Trace) -> Any:
        """POST a JSON ``body`` to ``path``; the unwrapped JSON, from cache when fresh."""
        return self._fetch("POST", path, None, dict(body), ttl, trace)

    def _fetch(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        ttl: float,
        trace: Trace,
    ) -> Any:
        key = (method, path, json.dumps(params, sort_keys=True), json.dumps(body, sort_keys=True))
        with self._lock:
            cache = self._caches.get(ttl)
            if cache is None:
                cache = self._caches[ttl] = TTLCache(maxsize=SETTINGS.cache_maxsize, ttl=ttl)
            cached = cache.get(key)
        if cached is not None:
            data, fetched_at = cached
            trace.record(fetched_at, hit=True)
            return data
        self._wait_turn(path)
        data = self._request(method, path, params, body)
        fetched_at = time.time()
        with self._lock:
            cache[key] = (data, fetched_at)
        trace.record(fetched_at, hit=False)
        return data

    def _wait_turn(self, path: str) -> None:
        prefix = next((p for p in self.spacing if path.startswith(p)), None)
        if prefix is None or SETTINGS.spacing_scale <= 0:
            return
        gap = self.spacing[prefix] * SETTINGS.spacing_scale
        with self._spacing_lock:
            wait = self._last_request.get(prefix, -math.inf) + gap - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request[prefix] = time.monotonic()

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> Any:
        name = self.exchange
        url = self.base_url + path
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                timeout=(SETTINGS.connect_timeout, SETTINGS.read_timeout),
            )
        except requests.exceptions.Timeout:
            fail(name, "timeout", f"no answer from {url} within {SETTINGS.read_timeout:g} s")
        except requests.exceptions.ChunkedEncodingError as exc:
            fail(name, "malformed response", f"the answer from {url} was cut off ({exc})")
        except requests.exceptions.ConnectionError as exc:
            if _caused_by_read_timeout(exc):
                fail(name, "timeout", f"no answer from {url} within {SETTINGS.read_timeout:g} s")
            fail(name, "unreachable", f"cannot connect to {self.base_url} ({_short(exc)})")
        except requests.exceptions.RequestException as exc:
            fail(name, "unreachable", f"request to {url} failed ({_short(exc)})")
        return self._decode(response)

    def _decode(self, response: requests.Response) -> Any:
        name, status, text = self.exchange, response.status_code, response.text
        retry_after = _retry_after(response)
        who = title(name)
        if status == 418:
            fail(name, "banned", f"{who} has banned this IP address for a while (HTTP 418)")
        if status == 451:
            fail(name, "geo-blocked", f"{who} refuses requests from this location (HTTP 451)")
        if status == 403:
            lowered = text.lower()
            if "too frequent" in lowered or "rate limit" in lowered:
                fail(
                    name,
                    "rate-limited",
                    f"{who} says requests are too frequent (HTTP 403); wait a few minutes",
                    retry_after=retry_after,
                )
            if any(word in lowered for word in ("country", "location", "region")):
                fail(
                    name,
                    "geo-blocked",
                    f"{who} refuses requests from this location (HTTP 403); "
                    "try another exchange or a mirror",
                )
            reason, message = self.forbidden
            fail(name, reason, message.format(who=who), retry_after=retry_after)
        if status == 429:
            wait = f"; try again in {retry_after:g} s" if retry_after else ""
            fail(
                name,
                "rate-limited",
                f"{who} is rate-limiting us (HTTP 429){wait}",
                retry_after=retry_after,
            )
        if status >= 500:
            fail(name, "server error", f"{who} answered HTTP {status}: {_snippet(text)}")
        try:
            payload = json.loads(text)
        except ValueError:
            if status >= 400:
                fail(name, "rejected", f"{who} answered HTTP {status}: {_snippet(text)}")
            shape = "an HTML page" if text.lstrip()[:1] == "<" else "cut-off or invalid JSON"
            fail(name, "malformed response", f"{who} sent {shape} instead of JSON")
        data = self.unwrap(payload)
        if status >= 400:
            fail(name, "rejected", f"{who} answered HTTP {status}: {_snippet(text)}")
        return data


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _caused_by_read_timeout(exc: BaseException) -> bool:
    # After urllib3 spends its read retries, requests wraps the ReadTimeoutError inside a
    # MaxRetryError inside a ConnectionError; walk the chain to find it.
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ReadTimeoutError | requests.exceptions.Timeout):
            return True
        linked = [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
        stack.extend(x for x in linked if isinstance(x, BaseException))
    return False


def _short(exc: BaseException) -> str:
    return _snippet(str(exc), 160)


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_CLIENTS: dict[tuple[str, str], Client] = {}
_CLIENTS_LOCK = threading.Lock()


def client(
    exchange: str,
    base_url: str,
    *,
    unwrap: Unwrap = _identity,
    spacing: Mapping[str, float] | None = None,
    forbidden: tuple[str, str] | None = None,
) -> Client:
    """The shared :class:`Client` for ``exchange`` at ``base_url`` (created on first use).

    One client, hence one session and one cache, per source and address: reruns and
    several viewers of the app share them.
    """
    key = (exchange, base_url.rstrip("/"))
    with _CLIENTS_LOCK:
        found = _CLIENTS.get(key)
        if found is None:
            extra = {} if forbidden is None else {"forbidden": forbidden}
            found = Client(exchange, key[1], unwrap, dict(spacing or {}), **extra)
            _CLIENTS[key] = found
        return found


def reset_clients() -> None:
    """Forget every client with its session and cache (tests; after changing SETTINGS)."""
    with _CLIENTS_LOCK:
        for found in _CLIENTS.values():
            found.session.close()
        _CLIENTS.clear()


# ------------------------------------------------------------------------ the frame


def series_from(rows: list[tuple[int, float]], name: str) -> pd.Series:
    """A float series indexed by UTC time from ``(epoch ms, value)`` rows, sorted, deduplicated."""
    if not rows:
        return pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype="float64", name=name)
    times, values = zip(*rows, strict=True)
    index = pd.to_datetime(np.asarray(times, dtype="int64"), unit="ms", utc=True)
    out = pd.Series(np.asarray(values, dtype="float64"), index=index, name=name)
    out = out[~out.index.duplicated(keep="last")]
    return out.sort_index()


def candles_from(rows: list[tuple[float, ...]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A candle frame from rows ``(open ms, *values)``: sorted oldest first, duplicates dropped.

    Exchanges send newest-first lists and repeat a candle on both sides of a page
    boundary; the last copy of a bar wins (it is the freshest for the live bar).

    Examples
    --------
    >>> rows = [(120_000, 2.0, 2.0, 2.0, 2.0, 1.0), (60_000, 1.0, 1.0, 1.0, 1.0, 1.0),
    ...         (120_000, 2.0, 3.0, 2.0, 3.0, 2.0)]
    >>> candles_from(rows, ("open", "high", "low", "close", "volume"))["close"].tolist()
    [1.0, 3.0]
    """
    if not rows:
        return pd.DataFrame(columns=list(columns), index=pd.DatetimeIndex([], tz="UTC"))
    array = np.asarray(rows, dtype="float64")
    index = pd.to_datetime(array[:, 0].astype("int64"), unit="ms", utc=True)
    frame = pd.DataFrame(array[:, 1:], index=index, columns=list(columns))
    frame = frame[~frame.index.duplicated(keep="last")]
    return frame.sort_index().rename_axis("time")


def at_bar_close(series: pd.Series, index: pd.DatetimeIndex, step: pd.Timedelta) -> pd.Series:
    """The latest value of ``series`` at or before each bar's close; NaN before its first value.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC")
    >>> oi = pd.Series([5.0, 7.0], index=idx[[1, 2]])
    >>> at_bar_close(oi, idx, pd.Timedelta("1h")).tolist()
    [5.0, 7.0, 7.0]
    """
    clean = series[~series.index.duplicated(keep="last")].sort_index().dropna()
    closes = (index + step).as_unit("ms")
    times = pd.DatetimeIndex(clean.index).as_unit("ms")
    position = times.searchsorted(closes, side="right") - 1
    values = clean.to_numpy(dtype="float64")
    if not len(values):
        return pd.Series(np.nan, index=index, dtype="float64")
    picked = np.where(position >= 0, values[np.clip(position, 0, None)], np.nan)
    return pd.Series(picked, index=index, dtype="float64")


@dataclass(frozen=True)
class Extra:
    """An optional per-bar series (funding, long/short ratio) to align at bar close."""

    column: str
    values: pd.Series
    label: str


def build_frame(
    *,
    exchange: str,
    symbol: str,
    instrument: str,
    window: Window,
    candles: pd.DataFrame,
    open_interest: pd.Series,
    open_interest_unit: str = "usd",
    oi_history: bool = True,
    oi_limit: str = "",
    extras: tuple[Extra, ...] = (),
    notes: list[str] | None = None,
    trace: Trace,
) -> pd.DataFrame:
    """Align candles, open interest and optional series on bar times; validate; add attrs.

    Parameters
    ----------
    candles : DataFrame
        Indexed by bar open (UTC); ``open high low close volume`` plus optional
        ``quote_volume`` (USD, for the all-exchange view) and ``taker_buy_volume``.
    open_interest : Series
        Snapshots indexed by their time; each bar takes the latest snapshot at or
        before its close. In USD, or in base units with ``open_interest_unit="base"``
        (then multiplied by the bar's close).
    oi_history : bool
        False when ``open_interest`` is a single current snapshot (no history exists):
        every bar holds it and a note says so.
    oi_limit : str
        Why the history may stop short and what covers more, for the note
        (e.g. "Binance keeps 30 days; Bybit has full history").

    Returns
    -------
    DataFrame
        A frame that passed :func:`liqcore.market.validate_market`, with ``attrs``.
    """
    notes = list(notes or [])
    who = title(exchange)
    step = INTERVALS[window.interval]
    lo = pd.Timestamp(window.start_ms, unit="ms", tz="UTC")
    hi = pd.Timestamp(window.end_ms, unit="ms", tz="UTC")
    candles = candles[(candles.index >= lo) & (candles.index < hi)]
    if len(candles) < 2:
        fail(
            exchange,
            "no data",
            f"{who} returned {len(candles)} {window.interval} candles for {instrument} "
            f"in the last {window.timeframe}",
        )
    if candles.index[0] > lo:
        notes.append(
            f"{who} candles for {instrument} start at {_stamp(candles.index[0])}, later than "
            f"the {window.timeframe} asked for (listing date or the exchange's history limit)"
        )
    filled = fill_gaps(candles.astype("float64"), step)
    added = len(filled) - len(candles)
    if added:
        notes.append(
            f"{added} missing {window.interval} bars were filled flat at the previous close "
            "with zero volume"
        )
    index = pd.DatetimeIndex(filled.index).rename("time")

    oi = at_bar_close(open_interest, index, step)
    if oi.isna().all():
        fail(exchange, "no data", f"{who} returned no open interest for {instrument}")
    if open_interest_unit == "base":
        oi = oi * filled["close"]
    covered = oi.notna()
    if not oi_history:
        coverage = 0.0
        notes.append(
            f"{who} publishes no open interest history: all {len(index)} bars hold the "
            f"current open interest (${oi.dropna().iloc[-1]:,.0f}), so the model seeds "
            "positions from volume"
        )
    else:
        coverage = float(covered.mean())
        if not covered.all():
            first = oi.first_valid_index()
            missing = int((~covered).sum())
            why = f" ({oi_limit})" if oi_limit else ""
            notes.append(
                f"{who} open interest history starts at {_stamp(first)}{why}: the {missing} "
                "earlier bars hold that first value, so the model seeds positions there from "
                "volume"
            )
    filled["open_interest"] = oi.bfill().ffill()

    for extra in extras:
        if extra.values.empty:
            continue
        aligned = at_bar_close(extra.values, index, step)
        if aligned.isna().all():
            continue
        if aligned.isna().any():
            notes.append(
                f"{extra.label} before {_stamp(aligned.first_valid_index())} repeats the "
                "first known value"
            )
        filled[extra.column] = aligned.bfill()

    quote_volume = filled.pop("quote_volume") if "quote_volume" in filled else None
    try:
        frame = validate_market(filled)
    except ValueError as exc:
        fail(exchange, "malformed response", f"{who} data for {instrument} is not usable: {exc}")
    if quote_volume is None:
        quote_usd = float((frame["volume"] * frame["close"]).sum())
    else:
        quote_usd = float(quote_volume.sum())
    fetched = trace.fetched_at if trace.fetched_at is not None else time.time()
    frame.attrs.update(
        {
            "source": exchange,
            "exchange": exchange,
            "contributors": [exchange],
            "symbol": symbol,
            "instrument": instrument,
            "interval": window.interval,
            "timeframe": window.timeframe,
            "fetched_at": pd.Timestamp(fetched, unit="s", tz="UTC").floor("s"),
            "from_cache": trace.from_cache,
            "requests": trace.requests,
            "notes": notes,
            "open_interest_coverage": coverage,
            "quote_volume_usd": quote_usd,
        }
    )
    return frame


def _stamp(when: Any) -> str:
    return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M UTC")
