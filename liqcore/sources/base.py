"""What every exchange source shares, apart from talking to the exchange (that is ccxt's job).

* :class:`SourceUnavailable`, the one error a caller catches, with a short ``reason``
  from :data:`REASONS` and a sentence for the user;
* bar intervals, timeframes and the :class:`Window` of bars a fetch covers;
* :data:`SETTINGS`: timeouts, retries, cache lifetimes (tests swap in tiny values);
* :func:`build_frame`: candles + open interest (+ optional series) aligned on bar
  times, gaps filled, validated, with the ``attrs`` the UI's status line reads.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from liqcore.market import fill_gaps, validate_market

__all__ = [
    "INTERVALS",
    "MAX_BARS",
    "REASONS",
    "SETTINGS",
    "Extra",
    "Settings",
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
    "fail",
    "make_window",
    "naming",
    "now_ms",
    "optional",
    "parse_timeframe",
    "parsing",
    "series_from",
    "snippet",
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


_TITLES = {"okx": "OKX", "all": "All exchanges", "kucoin": "KuCoin Futures"}


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
    name: pd.Timedelta(name.replace("m", "min").replace("d", "D"))
    for name in ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d")
}

#: The most bars one fetch may ask for; beyond it a coarser interval is needed.
MAX_BARS = 5000

# A month is 30 days, a year 365; a lone "m" is refused (minutes or months?).
_TIMEFRAME_UNITS = {"h": "1h", "d": "1D", "w": "7D", "mo": "30D", "M": "30D", "y": "365D"}
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
        span = int(match.group(1)) * pd.Timedelta(_TIMEFRAME_UNITS[match.group(2)])
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


# ------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Knobs of every exchange connection; tests swap :data:`SETTINGS` for tiny values.

    ``timeout`` is ccxt's per-request timeout (connect and read, seconds). A failed
    request that may pass (HTTP 429, 5xx, timeout, connection lost) is tried again up
    to ``retries`` times, waiting what the exchange's ``Retry-After`` asks, at most
    ``max_retry_after``, else ``backoff_factor * 2**attempt``; if the exchange still
    refuses, the fetch ends as ``rate-limited`` carrying the exchange's ``retry_after``.
    ``rate_limit_scale`` multiplies ccxt's own spacing between requests (its
    ``rateLimit``; 0 turns ccxt's throttle off).
    """

    timeout: float = 10.0
    retries: int = 3
    backoff_factor: float = 0.5
    max_retry_after: float = 10.0
    cache_maxsize: int = 512
    min_ttl: float = 30.0
    max_ttl: float = 3600.0
    rate_limit_scale: float = 1.0


SETTINGS = Settings()


@dataclass
class Trace:
    """What one fetch cost: network requests, cache hits and when its data was fetched."""

    requests: int = 0
    cache_hits: int = 0
    fetched_at: float | None = None  # epoch seconds of the oldest response used

    def record(self, fetched_at: float, *, hit: bool) -> None:
        """Note one answer (from the cache when ``hit``) and when it was fetched."""
        if hit:
            self.cache_hits += 1
        self.fetched_at = (
            fetched_at if self.fetched_at is None else min(self.fetched_at, fetched_at)
        )

    @property
    def from_cache(self) -> bool:
        return self.requests == 0 and self.cache_hits > 0


def snippet(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters (for error messages)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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
    coverage = _coverage(oi, who, oi_history=oi_history, oi_limit=oi_limit, notes=notes)
    filled["open_interest"] = oi.bfill().ffill()

    for extra in extras:
        aligned = _extra(extra, index, step, notes)
        if aligned is not None:
            filled[extra.column] = aligned

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


def _coverage(
    oi: pd.Series, who: str, *, oi_history: bool, oi_limit: str, notes: list[str]
) -> float:
    """Share of bars with a real open interest value; a note on what is not covered."""
    covered = oi.notna()
    if not oi_history:
        notes.append(
            f"{who} publishes no open interest history: all {len(oi)} bars hold the "
            f"current open interest (${oi.dropna().iloc[-1]:,.0f}), so the model seeds "
            "positions from volume"
        )
        return 0.0
    if not covered.all():
        missing = int((~covered).sum())
        why = f" ({oi_limit})" if oi_limit else ""
        notes.append(
            f"{who} open interest history starts at {_stamp(oi.first_valid_index())}{why}: "
            f"the {missing} earlier bars hold that first value, so the model seeds positions "
            "there from volume"
        )
    return float(covered.mean())


def _extra(
    extra: Extra, index: pd.DatetimeIndex, step: pd.Timedelta, notes: list[str]
) -> pd.Series | None:
    """An optional series at each bar's close, earlier bars back-filled (with a note)."""
    if extra.values.empty:
        return None
    aligned = at_bar_close(extra.values, index, step)
    if aligned.isna().all():
        return None
    if aligned.isna().any():
        notes.append(
            f"{extra.label} before {_stamp(aligned.first_valid_index())} repeats the "
            "first known value"
        )
    return aligned.bfill()


def _stamp(when: Any) -> str:
    return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M UTC")
