"""Bybit v5 linear perpetuals (https://api.bybit.com) as a market frame.

Endpoints (public, no key; 600 requests per 5 s per IP):

* ``GET /v5/market/kline?category=linear``: ``result.list`` of string arrays
  ``[start, open, high, low, close, volume, turnover]``, **newest first**, at most 1000.
* ``GET /v5/market/open-interest``: ``result.list`` of ``{openInterest, timestamp}``
  in **base units** (multiplied by the bar's close to get USD), at most 200 per page,
  further pages through ``nextPageCursor``; history back to listing.
* ``GET /v5/market/account-ratio``: ``{buyRatio, sellRatio, timestamp}``; their
  quotient is ``long_short_ratio``.
* ``GET /v5/market/funding/history``: ``{fundingRate, fundingRateTimestamp}``, newest
  first, at most 200.

Every answer is wrapped as ``{"retCode": 0, "retMsg": "OK", "result": {...}}`` (some
recordings carry ``retCode`` as the string ``"0"``). Blocked regions get HTTP 403 with
an HTML page (``geo-blocked``); "access too frequent" 403s are ``rate-limited``.
Bybit has no public REST history of liquidations.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import _http
from liqcore.sources._http import Extra, Trace, Window, fail, parsing, to_ms

__all__ = ["BASE_URL", "EXCHANGE", "fetch_market", "instrument", "parse_klines"]

EXCHANGE = "bybit"
BASE_URL = "https://api.bybit.com"

_KLINES_PER_REQUEST = 1000
_OI_PER_PAGE = 200
_RATIO_PER_PAGE = 500
_FUNDING_PER_PAGE = 200
_MAX_PAGES = 50

_KLINE_INTERVAL = {
    "1m": "1",
    "3m": "3",
    "5m": "5",
    "15m": "15",
    "30m": "30",
    "1h": "60",
    "2h": "120",
    "4h": "240",
    "12h": "720",
    "1d": "D",
}
# Periods of the open interest and account-ratio series: (Bybit name, our interval).
_STATS_PERIOD = {
    "1m": ("5min", "5m"),
    "3m": ("5min", "5m"),
    "5m": ("5min", "5m"),
    "15m": ("15min", "15m"),
    "30m": ("30min", "30m"),
    "1h": ("1h", "1h"),
    "2h": ("1h", "1h"),
    "4h": ("4h", "4h"),
    "12h": ("4h", "4h"),
    "1d": ("1d", "1d"),
}
_RATE_LIMIT_CODES = {10006, 10018}
_SERVER_CODES = {10000, 10016}


def instrument(symbol: str) -> str:
    """The Bybit linear perpetual for a base asset.

    Examples
    --------
    >>> instrument("sol")
    'SOLUSDT'
    """
    return f"{_http.base_asset(symbol)}USDT"


def _unwrap(payload: Any) -> Any:
    if not isinstance(payload, dict) or "retCode" not in payload:
        fail(EXCHANGE, "malformed response", "Bybit answer has no retCode")
    try:
        code = int(payload["retCode"])
    except (TypeError, ValueError):
        fail(EXCHANGE, "malformed response", f"Bybit retCode {payload['retCode']!r}")
    message = str(payload.get("retMsg", ""))
    if code == 0:
        result = payload.get("result")
        if not isinstance(result, dict):
            fail(EXCHANGE, "malformed response", "Bybit answer has no result object")
        return result
    if code in _RATE_LIMIT_CODES:
        fail(EXCHANGE, "rate-limited", f"Bybit says too many requests ({message})")
    if code in _SERVER_CODES:
        fail(EXCHANGE, "server error", f"Bybit had an internal error ({message})")
    if "symbol" in message.lower():
        fail(EXCHANGE, "unknown symbol", message)
    fail(EXCHANGE, "rejected", f"Bybit refused the request: {message} (retCode {code})")


def _client(base_url: str | None) -> _http.Client:
    return _http.client(EXCHANGE, base_url or BASE_URL, unwrap=_unwrap)


def _rows(result: Any) -> list[Any]:
    rows = result.get("list") if isinstance(result, dict) else None
    if not isinstance(rows, list):
        fail(EXCHANGE, "malformed response", "Bybit result has no list")
    return rows


def parse_klines(result: Any) -> pd.DataFrame:
    """Candles from a kline ``result`` (newest first, all strings), oldest first.

    Examples
    --------
    >>> result = {"list": [["1706637600000", "43376.1", "43474.1", "43264.8", "43352.8",
    ...                     "1575.305", "68345898.1407"]]}
    >>> parse_klines(result).iloc[0].tolist()
    [43376.1, 43474.1, 43264.8, 43352.8, 1575.305, 68345898.1407]
    """
    with parsing(EXCHANGE, "klines"):
        rows = [
            (
                to_ms(r[0]),
                float(r[1]),
                float(r[2]),
                float(r[3]),
                float(r[4]),
                float(r[5]),
                float(r[6]),
            )
            for r in _rows(result)
        ]
    return _http.candles_from(rows, ("open", "high", "low", "close", "volume", "quote_volume"))


def _klines(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.DataFrame:
    frames = []
    for start, end in _http.chunks(
        window.start_ms, window.end_ms, window.step_ms, _KLINES_PER_REQUEST
    ):
        params = {
            "category": "linear",
            "symbol": symbol,
            "interval": _KLINE_INTERVAL[window.interval],
            "start": start,
            "end": end - 1,
            "limit": _KLINES_PER_REQUEST,
        }
        frames.append(
            parse_klines(client.get("/v5/market/kline", params, ttl=window.ttl, trace=trace))
        )
    merged = pd.concat(frames)
    return merged[~merged.index.duplicated(keep="last")].sort_index()


def _paged(
    client: _http.Client,
    path: str,
    params: dict[str, Any],
    start: int,
    window: Window,
    trace: Trace,
) -> list[Any]:
    """All rows of one time range, following ``nextPageCursor`` while pages come back full."""
    rows: list[Any] = []
    query = dict(params)
    for _ in range(_MAX_PAGES):
        result = client.get(path, query, ttl=window.ttl, trace=trace)
        page = _rows(result)
        rows.extend(page)
        cursor = result.get("nextPageCursor")
        with parsing(EXCHANGE, path):
            oldest = min((to_ms(item["timestamp"]) for item in page), default=start)
        # A cursor can come with the last page too; stop once the range start is reached.
        if not cursor or not page or oldest <= start:
            return rows
        query["cursor"] = cursor
    return rows


def _open_interest(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.Series:
    period, ours = _STATS_PERIOD[window.interval]
    step = int(_http.INTERVALS[ours].total_seconds() * 1000)
    rows: list[tuple[int, float]] = []
    for lo, hi in _http.chunks(window.start_ms, window.end_ms, step, _OI_PER_PAGE):
        params = {
            "category": "linear",
            "symbol": symbol,
            "intervalTime": period,
            "startTime": lo,
            "endTime": hi - 1,
            "limit": _OI_PER_PAGE,
        }
        page = _paged(client, "/v5/market/open-interest", params, lo, window, trace)
        with parsing(EXCHANGE, "open interest"):
            rows.extend((to_ms(item["timestamp"]), float(item["openInterest"])) for item in page)
    return _http.series_from(rows, "open_interest")


def _account_ratio(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.Series:
    period, ours = _STATS_PERIOD[window.interval]
    step = int(_http.INTERVALS[ours].total_seconds() * 1000)
    rows: list[tuple[int, float]] = []
    for lo, hi in _http.chunks(window.start_ms, window.end_ms, step, _RATIO_PER_PAGE):
        params = {
            "category": "linear",
            "symbol": symbol,
            "period": period,
            "startTime": lo,
            "endTime": hi - 1,
            "limit": _RATIO_PER_PAGE,
        }
        page = _paged(client, "/v5/market/account-ratio", params, lo, window, trace)
        with parsing(EXCHANGE, "account ratio"):
            for item in page:
                sell = float(item["sellRatio"])
                if sell > 0:
                    rows.append((to_ms(item["timestamp"]), float(item["buyRatio"]) / sell))
    return _http.series_from(rows, "long_short_ratio")


def _funding(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.Series:
    # Newest first, at most 200: walk back from the window's end until its start is covered
    # (one funding period earlier, so the first bar knows the rate in force).
    start = window.start_ms - 8 * 3_600_000
    end = window.end_ms - 1
    rows: list[tuple[int, float]] = []
    for _ in range(_MAX_PAGES):
        params = {
            "category": "linear",
            "symbol": symbol,
            "startTime": start,
            "endTime": end,
            "limit": _FUNDING_PER_PAGE,
        }
        page = _rows(client.get("/v5/market/funding/history", params, ttl=window.ttl, trace=trace))
        with parsing(EXCHANGE, "funding history"):
            found = [(to_ms(i["fundingRateTimestamp"]), float(i["fundingRate"])) for i in page]
        rows.extend(found)
        if len(found) < _FUNDING_PER_PAGE:
            break
        oldest = min(t for t, _ in found)
        if oldest <= start:
            break
        end = oldest - 1
    return _http.series_from(rows, "funding_rate")


def fetch_market(
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Bybit linear-perpetual candles and open interest for ``symbol`` over ``timeframe``.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``) or Bybit symbol (``"BTCUSDT"``).
    timeframe : str or Timedelta
        How far back from now, e.g. ``"3d"``, ``"1mo"``.
    interval : str, optional
        Candle interval; :func:`liqcore.sources.choose_interval` when omitted.
    base_url : str, optional
        A mirror or test server instead of ``https://api.bybit.com``.

    Returns
    -------
    DataFrame
        Market frame with ``long_short_ratio`` and ``funding_rate``; ``open_interest``
        is Bybit's base-unit open interest at each bar's close times that close (USD).

    Raises
    ------
    SourceUnavailable
        With the reason (geo-blocked on an HTTP 403 page, unknown symbol...).

    Examples
    --------
    >>> fetch_market("BTC", "3d", interval="7m")
    Traceback (most recent call last):
    ...
    ValueError: unsupported interval '7m' (choose from 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 12h, 1d)
    """
    window = _http.make_window(timeframe, interval or _http.choose_interval(timeframe))
    name = instrument(symbol)
    client = _client(base_url)
    trace = Trace()
    notes: list[str] = []
    with _http.naming(EXCHANGE, name):
        candles = _klines(client, name, window, trace)
    oi = _open_interest(client, name, window, trace)
    ratio = _http.optional(
        EXCHANGE, notes, "long/short ratio", lambda: _account_ratio(client, name, window, trace)
    )
    funding = _http.optional(
        EXCHANGE, notes, "funding rate", lambda: _funding(client, name, window, trace)
    )
    return _http.build_frame(
        exchange=EXCHANGE,
        symbol=_http.base_asset(symbol),
        instrument=name,
        window=window,
        candles=candles,
        open_interest=oi,
        open_interest_unit="base",
        oi_limit="Bybit's history starts at the listing",
        extras=(
            Extra("long_short_ratio", ratio, "Bybit long/short ratio"),
            Extra("funding_rate", funding, "Bybit funding rate"),
        ),
        notes=notes,
        trace=trace,
    )
