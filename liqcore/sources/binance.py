"""Binance USD-M perpetuals (https://fapi.binance.com) as a market frame.

Endpoints (public, no key):

* ``GET /fapi/v1/klines``: ``[openTime, "o", "h", "l", "c", "volume", closeTime,
  "quoteVolume", trades, "takerBuyBase", "takerBuyQuote", "ignore"]``, at most 1500
  per call; request weight grows with ``limit``.
* ``GET /futures/data/openInterestHist``: ``[{symbol, sumOpenInterest,
  sumOpenInterestValue, timestamp}]``, at most 500 per call and **only the last
  30 days**; live answers carry a numeric ``timestamp`` (the docs show a string) and
  extra keys, both accepted.
* ``GET /futures/data/globalLongShortAccountRatio``: same shape and limits, gives
  ``long_short_ratio``.
* ``GET /fapi/v1/fundingRate``: ``[{symbol, fundingRate, fundingTime}]``, at most 1000.

Beyond 30 days the open interest column starts where Binance's history starts and a
note in ``frame.attrs["notes"]`` says so (Bybit keeps the full history). Binance has no
public REST history of liquidations (``allForceOrders`` is retired).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import _http
from liqcore.sources._http import Extra, Trace, Window, fail, parsing, to_ms

__all__ = ["BASE_URL", "EXCHANGE", "fetch_market", "instrument", "parse_klines"]

EXCHANGE = "binance"
BASE_URL = "https://fapi.binance.com"

_KLINES_PER_REQUEST = 1500
_STATS_PER_REQUEST = 500
_FUNDING_PER_REQUEST = 1000
_STATS_RETENTION_MS = 30 * 86_400_000
# Ask a little inside the 30 days so clock skew never makes Binance refuse the start time.
_STATS_MARGIN_MS = 3_600_000
_FUNDING_STEP_MS = 8 * 3_600_000

# Open interest periods Binance offers; 1m/3m bars read the 5m series at each close.
_STATS_PERIOD = {
    "1m": "5m",
    "3m": "5m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1h": "1h",
    "2h": "2h",
    "4h": "4h",
    "12h": "12h",
    "1d": "1d",
}

_ERRORS = {
    -1121: ("unknown symbol", "{msg}"),
    -1003: ("rate-limited", "Binance says too many requests; wait a minute ({msg})"),
    -1001: ("server error", "Binance is having internal trouble ({msg})"),
    -1007: ("timeout", "Binance timed out waiting for its backend ({msg})"),
}


def instrument(symbol: str) -> str:
    """The Binance USD-M perpetual for a base asset.

    Examples
    --------
    >>> instrument("btc"), instrument("ETHUSDT")
    ('BTCUSDT', 'ETHUSDT')
    """
    return f"{_http.base_asset(symbol)}USDT"


def _unwrap(payload: Any) -> Any:
    # Errors come as {"code": -1121, "msg": "Invalid symbol."}; data as a list.
    if isinstance(payload, dict) and "code" in payload and "msg" in payload:
        code = payload.get("code")
        reason, text = _ERRORS.get(code, ("rejected", "Binance refused the request: {msg}"))
        fail(EXCHANGE, reason, text.format(msg=payload.get("msg")))
    return payload


# Binance answers 403 when its web application firewall limit is hit, not for location.
_FORBIDDEN = ("rate-limited", "{who}'s firewall refused the request (HTTP 403); wait a few minutes")


def _client(base_url: str | None) -> _http.Client:
    return _http.client(EXCHANGE, base_url or BASE_URL, unwrap=_unwrap, forbidden=_FORBIDDEN)


def parse_klines(payload: Any) -> pd.DataFrame:
    """Candles from a ``/fapi/v1/klines`` answer (any order, times as numbers or strings).

    Examples
    --------
    >>> row = [1712738460000, "71481.9", "71490", "71470", "71480", "0.002", 1712738519999,
    ...        "142.96", 1, "0.001", "71.48", "0"]
    >>> parse_klines([row]).iloc[0].tolist()
    [71481.9, 71490.0, 71470.0, 71480.0, 0.002, 142.96, 0.001]
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
                float(r[7]),
                float(r[9]),
            )
            for r in payload
        ]
    columns = ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume")
    return _http.candles_from(rows, columns)


def _parse_stats(payload: Any, key: str, what: str) -> list[tuple[int, float]]:
    with parsing(EXCHANGE, what):
        if not isinstance(payload, list):
            raise TypeError(f"expected a list, got {type(payload).__name__}")
        return [(to_ms(item["timestamp"]), float(item[key])) for item in payload]


def _klines(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.DataFrame:
    rows: list[Any] = []
    for start, end in _http.chunks(
        window.start_ms, window.end_ms, window.step_ms, _KLINES_PER_REQUEST
    ):
        params = {
            "symbol": symbol,
            "interval": window.interval,
            "startTime": start,
            "endTime": end - 1,
            "limit": min((end - start) // window.step_ms, _KLINES_PER_REQUEST),
        }
        page = client.get("/fapi/v1/klines", params, ttl=window.ttl, trace=trace)
        if not isinstance(page, list):
            fail(EXCHANGE, "malformed response", "Binance klines answer is not a list")
        rows.extend(page)
    return parse_klines(rows)


def _stats(
    client: _http.Client,
    path: str,
    key: str,
    symbol: str,
    window: Window,
    trace: Trace,
) -> pd.Series:
    period = _STATS_PERIOD[window.interval]
    step = int(_http.INTERVALS[period].total_seconds() * 1000)
    oldest = _http.now_ms() - _STATS_RETENTION_MS + _STATS_MARGIN_MS
    start = max(window.start_ms, -(-oldest // step) * step)
    rows: list[tuple[int, float]] = []
    for lo, hi in _http.chunks(start, window.end_ms, step, _STATS_PER_REQUEST):
        params = {
            "symbol": symbol,
            "period": period,
            "startTime": lo,
            "endTime": hi - 1,
            "limit": _STATS_PER_REQUEST,
        }
        page = client.get(path, params, ttl=window.ttl, trace=trace)
        rows.extend(_parse_stats(page, key, path))
    return _http.series_from(rows, key)


def _funding(client: _http.Client, symbol: str, window: Window, trace: Trace) -> pd.Series:
    rows: list[tuple[int, float]] = []
    # Start one funding period early so the first bar knows the rate in force.
    start = window.start_ms - _FUNDING_STEP_MS
    for lo, hi in _http.chunks(start, window.end_ms, _FUNDING_STEP_MS, _FUNDING_PER_REQUEST):
        params = {"symbol": symbol, "startTime": lo, "endTime": hi - 1, "limit": 1000}
        page = client.get("/fapi/v1/fundingRate", params, ttl=window.ttl, trace=trace)
        with parsing(EXCHANGE, "funding rates"):
            rows.extend((to_ms(item["fundingTime"]), float(item["fundingRate"])) for item in page)
    return _http.series_from(rows, "funding_rate")


def fetch_market(
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Binance USD-M candles and open interest for ``symbol`` over ``timeframe``.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``) or Binance symbol (``"BTCUSDT"``).
    timeframe : str or Timedelta
        How far back from now, e.g. ``"3d"``, ``"1mo"``.
    interval : str, optional
        Candle interval; :func:`liqcore.sources.choose_interval` when omitted.
    base_url : str, optional
        A mirror or test server instead of ``https://fapi.binance.com``.

    Returns
    -------
    DataFrame
        Market frame with ``taker_buy_volume``, ``long_short_ratio`` and
        ``funding_rate``; ``open_interest`` is ``sumOpenInterestValue`` (USD) at each
        bar's close. See :func:`liqcore.sources.fetch_market` for ``attrs``.

    Raises
    ------
    SourceUnavailable
        With the reason (geo-blocked on HTTP 451, banned on 418, rate-limited...).

    Examples
    --------
    >>> fetch_market("BTC", "1y", interval="1m")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 1y at 1m is ... bars; at most 5,000 are fetched at once: choose ...
    """
    window = _http.make_window(timeframe, interval or _http.choose_interval(timeframe))
    name = instrument(symbol)
    client = _client(base_url)
    trace = Trace()
    notes: list[str] = []
    with _http.naming(EXCHANGE, name):
        candles = _klines(client, name, window, trace)
    oi = _stats(
        client, "/futures/data/openInterestHist", "sumOpenInterestValue", name, window, trace
    )
    ratio = _http.optional(
        EXCHANGE,
        notes,
        "long/short ratio",
        lambda: _stats(
            client,
            "/futures/data/globalLongShortAccountRatio",
            "longShortRatio",
            name,
            window,
            trace,
        ),
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
        oi_limit="Binance keeps 30 days of open interest; Bybit has the full history",
        extras=(
            Extra("long_short_ratio", ratio, "Binance long/short ratio (30-day history)"),
            Extra("funding_rate", funding, "Binance funding rate"),
        ),
        notes=notes,
        trace=trace,
    )
