"""One exchange as a small declarative :class:`Venue`, and the ccxt fetch every venue shares.

A venue's module only says what differs: its ccxt id, which markets to load, page
limits, how far back open interest goes and what else it publishes. The code here
turns that into a market frame through ccxt's unified methods (``fetch_ohlcv``,
``fetch_open_interest_history``, ``fetch_funding_rate_history``,
``fetch_long_short_ratio_history``), and keeps what ccxt does not do:

* one ccxt instance per venue and address, created on first use (``import ccxt`` costs
  about a second, so it happens then, not at ``import liqcore``), its market list
  loaded once for the process; only linear swaps are loaded;
* a TTL cache per request of about one bar, shared by reruns and viewers; calls to
  one venue are made one at a time (ccxt's sync instances are not meant to be shared
  by threads, and it keeps us polite), different venues in parallel;
* retries of what may pass (HTTP 429, 5xx, timeouts, lost connections), waiting what
  ``Retry-After`` asks up to :data:`~liqcore.sources.base.SETTINGS`' cap; ccxt's own
  throttle (``enableRateLimit``, its per-venue ``rateLimit``) spaces the requests;
* every failure mapped onto a :class:`~liqcore.sources.base.SourceUnavailable`
  reason, from the HTTP status and body ccxt saw and from ccxt's exception classes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from cachetools import TTLCache

from liqcore.sources import base
from liqcore.sources.base import (
    INTERVALS,
    Extra,
    SourceUnavailable,
    Trace,
    Window,
    fail,
    parsing,
    snippet,
    title,
)

__all__ = [
    "STAT_PERIODS",
    "Connection",
    "History",
    "Venue",
    "connection",
    "fetch_market",
    "history",
    "reset_connections",
]

_DAY_MS = 86_400_000

#: The statistics periods (open interest, ratios) most venues offer.
STAT_PERIODS: tuple[str, ...] = ("5m", "15m", "30m", "1h", "4h", "1d")
_FUNDING_STEP_MS = 8 * 3_600_000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_GEO_WORDS = ("country", "location", "region", "restricted")
_RATE_WORDS = ("too frequent", "rate limit", "too many")

#: A venue's own way to fetch candles (e.g. Binance's raw klines, for taker volume).
CandleFetch = Callable[["Connection", dict[str, Any], Window, Trace], pd.DataFrame]


@dataclass(frozen=True)
class History:
    """A statistics series a venue keeps (open interest, long/short ratio), in ccxt's terms.

    Parameters
    ----------
    periods : tuple of str
        Periods ccxt accepts for the series (keys of :data:`~liqcore.sources.INTERVALS`).
    per_request : int
        Most rows one call may return.
    depth : str
        How far back the series goes, in words, for users (``"30 days"``...).
    kept_periods, kept_days : int, optional
        The venue keeps only the latest ``kept_periods`` periods (OKX) or the last
        ``kept_days`` days (Binance); nothing older is asked for.
    limit : str
        Why the series may stop short and what covers more, for the coverage note.

    Examples
    --------
    >>> History(("5m", "1h"), 100, "1,440 periods", kept_periods=1440).kept_periods
    1440
    """

    periods: tuple[str, ...]
    per_request: int
    depth: str = ""
    kept_periods: int | None = None
    kept_days: int | None = None
    limit: str = ""


@dataclass(frozen=True)
class Venue:
    """What one exchange offers and how to ask it, in ccxt's terms.

    Parameters
    ----------
    name : str
        Our name, accepted as ``fetch_market``'s ``exchange``; also the ccxt class
        (``ccxt.<name>``) unless ``ccxt_id`` says otherwise.
    candles_per_request : int
        Most candles one ``fetch_ohlcv`` call may ask for.
    markets : str
        The one market type ccxt loads (``options['fetchMarkets']['types']``): the
        venue's name for linear perpetual swaps. ``options`` adds venue-specific ones.
    oi : History, optional
        Open interest history; without it the venue publishes only the current open
        interest, which every bar holds (with a note).
    ratio : History, optional
        Long/short account ratio history, where the venue has one.

    Examples
    --------
    >>> venue = Venue("binance", 1500, markets="linear")
    >>> venue.ccxt_options["fetchMarkets"], venue.open_interest
    ({'types': ['linear']}, 'none (current only)')
    """

    name: str
    candles_per_request: int
    markets: str = "swap"
    ccxt_id: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    quote: str = "USDT"
    oi: History | None = None
    ratio: History | None = None
    funding_per_request: int = 0  # 0: funding history is not fetched
    candles_kept: int | None = None  # only the latest N candles of an interval (Hyperliquid)
    volume_in_contracts: bool = False  # ccxt's OHLCV volume is in contracts (Gate)
    current_oi_in_coins: bool = False  # ccxt's current open interest is coins (Deribit)
    taker_volume: bool = False
    liquidations: str = ""  # where the venue publishes realized liquidations, if anywhere
    forbidden: tuple[str, str] = (
        "geo-blocked",
        "{who} refuses requests from this location (HTTP 403); try another exchange or a mirror",
    )
    candles: CandleFetch | None = None
    #: Raw parameters, by ccxt method, for a page ccxt would not ask right by itself:
    #: ``(start ms, end ms, period) -> params``, sent instead of ``until``.
    range_params: Mapping[str, Callable[[int, int, str], dict[str, Any]]] = field(
        default_factory=dict
    )
    instrument_key: str = "id"  # the market field users know the instrument by
    #: Bits of an error body (spaces removed) that mean "no such instrument" on this
    #: venue, where ccxt raises a generic error.
    unknown_symbol: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """How the venue is written for users: ``Binance``, ``OKX``, ``KuCoin Futures``."""
        return title(self.name)

    @property
    def open_interest(self) -> str:
        """How far back open interest history goes, in words."""
        return self.oi.depth if self.oi is not None else "none (current only)"

    @property
    def ccxt_options(self) -> dict[str, Any]:
        """ccxt options: load only the linear swaps, use them by default."""
        types = {"fetchMarkets": {"types": [self.markets]}, "defaultType": "swap"}
        return {**types, **self.options}


# ------------------------------------------------------------------ the connection


@dataclass
class _Seen:
    """The last HTTP answer ccxt received on this thread, and the fetch counting them."""

    status: int | None = None
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    trace: Trace | None = None


class Connection:
    """One ccxt exchange for a venue at an address: markets, cache, retries, error mapping."""

    def __init__(self, venue: Venue, base_url: str | None) -> None:
        import ccxt  # lazily: about a second, paid only by users of live data

        self.venue = venue
        self.base_url = base_url
        settings = base.SETTINGS
        exchange = getattr(ccxt, venue.ccxt_id or venue.name)(
            {
                "timeout": int(settings.timeout * 1000),
                "enableRateLimit": settings.rate_limit_scale > 0,
                "options": venue.ccxt_options,
            }
        )
        exchange.rateLimit = exchange.rateLimit * max(settings.rate_limit_scale, 0.0)
        # Currencies need keys or extra requests on most venues; markets are enough here.
        exchange.has = {**exchange.has, "fetchCurrencies": False}
        if base_url:
            exchange.urls = {**exchange.urls, "api": _pointed(exchange.urls["api"], base_url)}
        # ccxt's clock is ours, so "recent" means the same to both (tests freeze it).
        exchange.milliseconds = lambda: base.now_ms()
        exchange.seconds = lambda: base.now_ms() // 1000
        exchange.on_rest_response = self._seen_response
        self.exchange = exchange
        self.lock = threading.RLock()
        self.caches: dict[float, TTLCache] = {}
        self._local = threading.local()

    # ccxt calls this with every HTTP answer before decoding it.
    def _seen_response(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Mapping[str, str],
        body: str,
        request_headers: Any,
        request_body: Any,
    ) -> str:
        seen = self._seen()
        seen.status, seen.body, seen.headers = int(code), body or "", headers or {}
        if seen.trace is not None:
            seen.trace.requests += 1
        if int(code) < 400:
            try:
                json.loads(body)
            except ValueError:
                shape = "an HTML page" if body.lstrip()[:1] == "<" else "cut-off or invalid JSON"
                fail(self.venue.name, "malformed response", f"{self.venue.title} sent {shape}")
        return body

    def _seen(self) -> _Seen:
        seen = getattr(self._local, "seen", None)
        if seen is None:
            seen = self._local.seen = _Seen()
        return seen

    def markets(self, trace: Trace) -> dict[str, Any]:
        """The venue's linear swaps, loaded once per process (with retries)."""
        with self.lock:
            if not self.exchange.markets:
                self._attempts(trace, self.exchange.load_markets)
                if not self.exchange.markets:
                    fail(self.venue.name, "malformed response", "the market list is empty")
            return self.exchange.markets

    def market(self, symbol: str, trace: Trace) -> dict[str, Any]:
        """The linear perpetual swap of ``symbol``'s base asset settled in the venue's quote."""
        wanted = base.base_asset(symbol)
        for market in self.markets(trace).values():
            if not (market.get("swap") and market.get("linear")):
                continue
            if market.get("settle") != self.venue.quote or market.get("active") is False:
                continue
            names = (market.get("base"), market.get("baseId"), market.get("baseName"))
            if wanted in {str(name).upper() for name in names if name}:
                return market
        fail(
            self.venue.name,
            "unknown symbol",
            f"{self.venue.title} does not list a {wanted}/{self.venue.quote} perpetual swap",
        )

    def call(self, trace: Trace, ttl: float, method: str, *args: Any) -> Any:
        """``exchange.<method>(*args)``, from the cache when fresh, else with retries."""
        key = (method, json.dumps(args, sort_keys=True, default=str))
        with self.lock:
            cache = self.caches.get(ttl)
            if cache is None:
                cache = self.caches[ttl] = TTLCache(maxsize=base.SETTINGS.cache_maxsize, ttl=ttl)
            cached = cache.get(key)
            if cached is not None:
                data, fetched_at = cached
                trace.record(fetched_at, hit=True)
                return data
            data = self._attempts(trace, getattr(self.exchange, method), *args)
            fetched_at = time.time()
            cache[key] = (data, fetched_at)
        trace.record(fetched_at, hit=False)
        return data

    def _attempts(self, trace: Trace, function: Callable[..., Any], *args: Any) -> Any:
        settings = base.SETTINGS
        for attempt in range(settings.retries + 1):
            seen = self._seen()
            seen.status, seen.body, seen.headers, seen.trace = None, "", {}, trace
            try:
                return function(*args)
            except SourceUnavailable:
                raise
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                fail(self.venue.name, "malformed response", f"could not read the answer: {exc!r}")
            except Exception as exc:  # ccxt's errors; anything else is re-raised below
                if seen.status is None:
                    trace.requests += 1  # asked, but no answer came back
                error = self._reason(exc, seen)
                if error is None:
                    raise
                # A refused connection is tried once more, not ``retries`` times: the
                # page should say "unreachable" within seconds, not after a minute.
                tries = 1 if error.reason == "unreachable" else settings.retries
                if attempt >= tries or not self._passing(exc, seen):
                    raise error from exc
                wait = error.retry_after
                if wait is None:
                    wait = settings.backoff_factor * 2**attempt
                time.sleep(min(wait, settings.max_retry_after))
            finally:
                seen.trace = None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _passing(exc: Exception, seen: _Seen) -> bool:
        import ccxt

        if seen.status is not None:
            return seen.status in _RETRY_STATUSES
        return isinstance(exc, ccxt.NetworkError)

    def _reason(self, exc: Exception, seen: _Seen) -> SourceUnavailable | None:
        """The reason for a ccxt error, from the HTTP answer first, then ccxt's class."""
        import ccxt

        if not isinstance(exc, ccxt.BaseError):
            return None
        name, who, status = self.venue.name, self.venue.title, seen.status
        retry_after = _retry_after(seen.headers)

        def error(reason: str, message: str) -> SourceUnavailable:
            return SourceUnavailable(name, reason, message, retry_after=retry_after)

        lowered = seen.body.lower()
        if status == 418:
            return error("banned", f"{who} has banned this IP address for a while (HTTP 418)")
        if status == 451:
            said = ": restricted location" if "restricted location" in lowered else ""
            return error(
                "geo-blocked", f"{who} refuses requests from this location (HTTP 451{said})"
            )
        if status == 403:
            if any(word in lowered for word in _RATE_WORDS):
                return error(
                    "rate-limited", f"{who} says requests are too frequent (HTTP 403); wait a bit"
                )
            if any(word in lowered for word in _GEO_WORDS):
                return error(
                    "geo-blocked",
                    f"{who} says access is blocked in this region (HTTP 403); "
                    "try another exchange or a mirror",
                )
            reason, message = self.venue.forbidden
            return error(reason, message.format(who=who))
        if status == 429:
            wait = f"; try again in {retry_after:g} s" if retry_after else ""
            return error("rate-limited", f"{who} is rate-limiting us (HTTP 429){wait}")
        if status is not None and status >= 500:
            return error("server error", f"{who} answered HTTP {status}: {snippet(seen.body)}")
        return _by_class(exc, self.venue, status, seen.body)


def _by_class(exc: Exception, venue: Venue, status: int | None, body: str) -> SourceUnavailable:
    import ccxt

    name, who, text = venue.name, venue.title, str(exc)
    said, compact = snippet(text, 160), "".join(body.split())
    if (
        isinstance(exc, ccxt.BadSymbol)
        or (isinstance(exc, ccxt.BadRequest) and "symbol" in text.lower())
        or (status is not None and any(part in compact for part in venue.unknown_symbol))
    ):
        return SourceUnavailable(name, "unknown symbol", f"{who} does not know the instrument")
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return SourceUnavailable(name, "rate-limited", f"{who} says too many requests ({said})")
    if isinstance(exc, ccxt.RequestTimeout):
        timeout = base.SETTINGS.timeout
        return SourceUnavailable(name, "timeout", f"no answer from {who} within {timeout:g} s")
    if isinstance(exc, ccxt.ExchangeNotAvailable) and status is None:
        return SourceUnavailable(name, "server error", f"{who} is not available ({said})")
    if isinstance(exc, ccxt.NetworkError) and status is None:
        return SourceUnavailable(name, "unreachable", f"cannot connect to {who} ({said})")
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return SourceUnavailable(name, "rejected", f"{who} wants an API key for this ({said})")
    if isinstance(exc, ccxt.BadResponse | ccxt.NullResponse):
        return SourceUnavailable(name, "malformed response", f"{who} sent an unreadable answer")
    shown = f"HTTP {status}: {snippet(body)}" if status else said
    return SourceUnavailable(name, "rejected", f"{who} refused the request ({shown})")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return None if value is None else max(float(value), 0.0)
    except ValueError:
        return None


def _pointed(api: Any, base_url: str) -> Any:
    """ccxt's ``urls['api']`` with every address's scheme and host replaced by ``base_url``."""
    if isinstance(api, str):
        return re.sub(r"^https?://[^/]+", base_url.rstrip("/"), api)
    if isinstance(api, Mapping):
        return {key: _pointed(value, base_url) for key, value in api.items()}
    return api


_CONNECTIONS: dict[tuple[str, str], Connection] = {}
_CONNECTIONS_LOCK = threading.Lock()


def connection(venue: Venue, base_url: str | None = None) -> Connection:
    """The shared :class:`Connection` of ``venue`` at ``base_url`` (created on first use)."""
    key = (venue.name, (base_url or "").rstrip("/"))
    with _CONNECTIONS_LOCK:
        found = _CONNECTIONS.get(key)
        if found is None:
            found = _CONNECTIONS[key] = Connection(venue, key[1] or None)
        return found


def reset_connections() -> None:
    """Forget every connection with its markets and cache (tests; after changing SETTINGS)."""
    with _CONNECTIONS_LOCK:
        _CONNECTIONS.clear()


# ---------------------------------------------------------------------- the fetch


def _period(choices: tuple[str, ...], window: Window, kept: int | None) -> str:
    """The period of a statistics series for ``window``'s bars.

    The coarsest offered period no longer than a bar; when the venue keeps only
    ``kept`` periods and those do not reach back over the window, the finest coarser
    period that does (hourly open interest over a week beats five-minute over 5 days).
    """
    ordered = sorted(choices, key=lambda p: INTERVALS[p])
    step = INTERVALS[window.interval]
    fitting = [p for p in ordered if INTERVALS[p] <= step] or ordered[:1]
    chosen = fitting[-1]
    if kept is not None:
        span = pd.Timedelta(milliseconds=window.end_ms - window.start_ms)
        for period in ordered[ordered.index(chosen) :]:
            chosen = period
            if INTERVALS[period] * kept >= span:
                break
    return chosen


def history(
    conn: Connection,
    method: str,
    market: dict[str, Any],
    window: Window,
    trace: Trace,
    series: History,
) -> list[dict[str, Any]]:
    """Every row of a ccxt statistics history (open interest, long/short ratio) over ``window``.

    Asks page-sized ranges, oldest first, within what the venue keeps.
    """
    period = _period(series.periods, window, series.kept_periods)
    step = int(INTERVALS[period].total_seconds() * 1000)
    start = window.start_ms - step  # the first bar's close needs the value before it
    if series.kept_periods:
        start = max(start, window.end_ms - series.kept_periods * step)
    if series.kept_days:
        # Ask an hour inside the limit so clock skew never makes the venue refuse it.
        oldest = base.now_ms() - series.kept_days * _DAY_MS + 3_600_000
        start = max(start, -(-oldest // step) * step)
    rows: list[dict[str, Any]] = []
    for lo, hi in base.chunks(start, window.end_ms, step, series.per_request):
        limit = (hi - lo) // step
        params = _range(conn.venue, method, lo, hi, period)
        rows.extend(
            conn.call(trace, window.ttl, method, market["symbol"], period, lo, limit, params)
        )
    return rows


def _range(venue: Venue, method: str, lo: int, hi: int, period: str) -> dict[str, Any]:
    make = venue.range_params.get(method)
    return {"until": hi - 1} if make is None else make(lo, hi, period)


def _series(venue: Venue, rows: list[dict[str, Any]], key: str, name: str) -> pd.Series:
    with parsing(venue.name, name.replace("_", " ")):
        pairs = [
            (int(row["timestamp"]), float(row[key])) for row in rows if row.get(key) is not None
        ]
    return base.series_from(pairs, name)


def _candles(
    conn: Connection, market: dict[str, Any], window: Window, trace: Trace
) -> pd.DataFrame:
    rows: list[list[Any]] = []
    per = conn.venue.candles_per_request
    for lo, hi in base.chunks(window.start_ms, window.end_ms, window.step_ms, per):
        limit = (hi - lo) // window.step_ms
        args = (market["symbol"], window.interval, lo, limit, {"until": hi - 1})
        rows.extend(conn.call(trace, window.ttl, "fetch_ohlcv", *args))
    frame = base.candles_from(rows, ("open", "high", "low", "close", "volume"))
    if conn.venue.volume_in_contracts:
        frame["volume"] = frame["volume"] * float(market.get("contractSize") or 1.0)
    return frame


def _open_interest(
    conn: Connection, market: dict[str, Any], window: Window, trace: Trace, last_close: float
) -> tuple[pd.Series, str]:
    venue = conn.venue
    size = float(market.get("contractSize") or 1.0)
    if venue.oi is None:
        now = conn.call(trace, window.ttl, "fetch_open_interest", market["symbol"])
        value, amount = now.get("openInterestValue"), now.get("openInterestAmount")
        if venue.current_oi_in_coins:  # ccxt passes the coins on as a value
            value, amount, size = None, value if value is not None else amount, 1.0
        with parsing(venue.name, "open interest"):
            # No USD figure: the amount (contracts or coins) at the current price.
            usd = float(value) if value is not None else float(amount) * size * last_close
        first = pd.Timestamp(window.start_ms, unit="ms", tz="UTC")
        return pd.Series([usd], index=pd.DatetimeIndex([first]), name="open_interest"), "usd"
    rows = history(conn, "fetch_open_interest_history", market, window, trace, venue.oi)
    if rows and all(row.get("openInterestValue") is not None for row in rows):
        return _series(venue, rows, "openInterestValue", "open_interest"), "usd"
    coins = _series(venue, rows, "openInterestAmount", "open_interest")
    return coins * size, "base"


def _ratio(conn: Connection, market: dict[str, Any], window: Window, trace: Trace) -> pd.Series:
    venue = conn.venue
    assert venue.ratio is not None
    rows = history(conn, "fetch_long_short_ratio_history", market, window, trace, venue.ratio)
    return _series(venue, rows, "longShortRatio", "long_short_ratio")


def _funding(conn: Connection, market: dict[str, Any], window: Window, trace: Trace) -> pd.Series:
    per = conn.venue.funding_per_request
    rows: list[dict[str, Any]] = []
    # Start one funding period early so the first bar knows the rate in force.
    for lo, hi in base.chunks(
        window.start_ms - _FUNDING_STEP_MS, window.end_ms, _FUNDING_STEP_MS, per
    ):
        params = _range(conn.venue, "fetch_funding_rate_history", lo, hi, "8h")
        args = (market["symbol"], lo, per, params)
        rows.extend(conn.call(trace, window.ttl, "fetch_funding_rate_history", *args))
    return _series(conn.venue, rows, "fundingRate", "funding_rate")


def fetch_market(
    venue: Venue,
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | None = None,
) -> pd.DataFrame:
    """``venue``'s candles and open interest for ``symbol`` over ``timeframe``.

    See :func:`liqcore.sources.fetch_market` for the parameters, the frame and its
    ``attrs``; this is that function for one venue.
    """
    window = base.make_window(timeframe, interval or base.choose_interval(timeframe))
    conn = connection(venue, base_url)
    trace = Trace()
    market = conn.market(symbol, trace)
    instrument = str(market.get(venue.instrument_key) or market["id"])
    if venue.candles_kept and window.start_ms < window.end_ms - venue.candles_kept * window.step_ms:
        fail(
            venue.name,
            "coverage",
            f"{venue.title} keeps only the latest {venue.candles_kept:,} {window.interval} "
            f"candles, less than {window.timeframe}: choose a coarser interval or another exchange",
        )
    notes: list[str] = []
    with base.naming(venue.name, instrument):
        candles = (venue.candles or _candles)(conn, market, window, trace)
    with base.naming(venue.name, instrument):
        last_close = float(candles["close"].iloc[-1]) if len(candles) else float("nan")
        open_interest, unit = _open_interest(conn, market, window, trace, last_close)
    extras: list[Extra] = []
    if venue.ratio is not None:
        ratio = base.optional(
            venue.name, notes, "long/short ratio", lambda: _ratio(conn, market, window, trace)
        )
        extras.append(Extra("long_short_ratio", ratio, f"{venue.title} long/short ratio"))
    if venue.funding_per_request:
        funding = base.optional(
            venue.name, notes, "funding rate", lambda: _funding(conn, market, window, trace)
        )
        extras.append(Extra("funding_rate", funding, f"{venue.title} funding rate"))
    return base.build_frame(
        exchange=venue.name,
        symbol=base.base_asset(symbol),
        instrument=instrument,
        window=window,
        candles=candles,
        open_interest=open_interest,
        open_interest_unit=unit,
        oi_history=venue.oi is not None,
        oi_limit=venue.oi.limit if venue.oi is not None else "",
        extras=tuple(extras),
        notes=notes,
        trace=trace,
    )
