"""OKX v5 USDT perpetual swaps (https://www.okx.com) as a market frame, plus liquidations.

Endpoints (public, no key):

* ``GET /api/v5/market/candles`` (the latest 1,440 bars, at most 300 per call) and
  ``GET /api/v5/market/history-candles`` (older bars, at most 100 per call):
  ``data: [[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]]``, **newest first**;
  for swaps ``vol`` is in contracts, ``volCcy`` in the base asset, ``volCcyQuote`` in USDT.
  Pages run backwards: ``after`` = older than, ``before`` = newer than (exclusive).
* ``GET /api/v5/rubik/stat/contracts/open-interest-history``: ``[[ts, oi, oiCcy, oiUsd]]``,
  newest first, at most 100 per call and **only the latest 1,440 periods**; rubik
  endpoints allow a few requests per 2 s, so calls are spaced.
* ``GET /api/v5/public/funding-rate-history``: ``{fundingRate, fundingTime}``, about
  three months back.
* ``GET /api/v5/public/liquidation-orders?instType=SWAP&instFamily=BTC-USDT&state=filled``:
  realized liquidations (``details: [{side, posSide, bkPx, sz, ts}]``, ``sz`` in
  contracts); only the most recent orders are published. One contract is ``ctVal``
  base units, from ``GET /api/v5/public/instruments``.

Daily and 12-hour bars use OKX's UTC-aligned ``1Dutc``/``12Hutc`` (the plain ``1D``
opens at 00:00 Hong Kong time). Answers are ``{"code": "0", "msg": "", "data": [...]}``;
code ``51001`` is an unknown instrument, ``50011`` a rate limit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import _http
from liqcore.sources._http import Extra, Trace, Window, fail, parsing, to_ms

__all__ = [
    "BASE_URL",
    "EXCHANGE",
    "fetch_liquidations",
    "fetch_market",
    "instrument",
    "parse_candles",
    "parse_liquidations",
]

EXCHANGE = "okx"
BASE_URL = "https://www.okx.com"

_RECENT_BARS = 1440  # what /market/candles and the rubik series keep
_CANDLES_PER_REQUEST = 300
_HISTORY_PER_REQUEST = 100
_OI_PER_REQUEST = 100
_FUNDING_PER_PAGE = 100
_FUNDING_MAX_PAGES = 4
_LIQUIDATIONS_LIMIT = 100

_BAR = {
    "1m": "1m",
    "3m": "3m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1h": "1H",
    "2h": "2H",
    "4h": "4H",
    "12h": "12Hutc",
    "1d": "1Dutc",
}
# Open interest periods: (OKX name, our interval); 1m/3m bars read the 5m series.
_OI_PERIOD = {
    "1m": ("5m", "5m"),
    "3m": ("5m", "5m"),
    **{k: (v, k) for k, v in _BAR.items() if k not in ("1m", "3m")},
}

_UNKNOWN_CODES = {"51001", "51014", "51052"}
_RATE_LIMIT_CODES = {"50011", "50061"}
_SERVER_CODES = {"50001", "50004", "50013", "50026"}

# OKX asks for a few requests per 2 s on rubik; keep to about two a second there.
_SPACING = {"/api/v5/rubik/": 0.45, "/api/v5/market/history-candles": 0.11}


def instrument(symbol: str) -> str:
    """The OKX USDT perpetual swap for a base asset.

    Examples
    --------
    >>> instrument("btc"), instrument("XRP-USDT-SWAP")
    ('BTC-USDT-SWAP', 'XRP-USDT-SWAP')
    """
    return f"{_http.base_asset(symbol)}-USDT-SWAP"


def _unwrap(payload: Any) -> Any:
    if not isinstance(payload, dict) or "code" not in payload:
        fail(EXCHANGE, "malformed response", "OKX answer has no code")
    code = str(payload["code"])
    message = str(payload.get("msg", "")) or f"code {code}"
    if code == "0":
        data = payload.get("data")
        if not isinstance(data, list):
            fail(EXCHANGE, "malformed response", "OKX answer has no data list")
        return data
    if code in _UNKNOWN_CODES:
        fail(EXCHANGE, "unknown symbol", message)
    if code in _RATE_LIMIT_CODES:
        fail(EXCHANGE, "rate-limited", f"OKX says too many requests ({message})")
    if code in _SERVER_CODES:
        fail(EXCHANGE, "server error", f"OKX is busy ({message})")
    fail(EXCHANGE, "rejected", f"OKX refused the request: {message} (code {code})")


def _client(base_url: str | None) -> _http.Client:
    return _http.client(EXCHANGE, base_url or BASE_URL, unwrap=_unwrap, spacing=_SPACING)


def parse_candles(data: Any) -> pd.DataFrame:
    """Candles from a candles ``data`` list (newest first, strings), oldest first.

    ``volume`` is ``volCcy`` (base asset) and ``quote_volume`` is ``volCcyQuote``.

    Examples
    --------
    >>> data = [["1706637600000", "43398.6", "43493.9", "43279.9", "43373.9",
    ...          "5070.796", "50.70796", "2200579.2", "1"]]
    >>> parse_candles(data).iloc[0].tolist()
    [43398.6, 43493.9, 43279.9, 43373.9, 50.70796, 2200579.2]
    """
    with parsing(EXCHANGE, "candles"):
        rows = [
            (
                to_ms(r[0]),
                float(r[1]),
                float(r[2]),
                float(r[3]),
                float(r[4]),
                float(r[6]),
                float(r[7]),
            )
            for r in data
        ]
    return _http.candles_from(rows, ("open", "high", "low", "close", "volume", "quote_volume"))


def _candles(client: _http.Client, inst: str, window: Window, trace: Trace) -> pd.DataFrame:
    # /market/candles keeps the latest 1,440 bars; older ones come from /history-candles.
    cutoff = max(window.start_ms, window.end_ms - _RECENT_BARS * window.step_ms)
    plan = [
        ("/api/v5/market/history-candles", lo, hi, _HISTORY_PER_REQUEST)
        for lo, hi in _http.chunks(window.start_ms, cutoff, window.step_ms, _HISTORY_PER_REQUEST)
    ] + [
        ("/api/v5/market/candles", lo, hi, _CANDLES_PER_REQUEST)
        for lo, hi in _http.chunks(cutoff, window.end_ms, window.step_ms, _CANDLES_PER_REQUEST)
    ]
    frames = []
    for path, lo, hi, limit in plan:
        params = {
            "instId": inst,
            "bar": _BAR[window.interval],
            "after": hi,
            "before": lo - 1,
            "limit": limit,
        }
        frames.append(parse_candles(client.get(path, params, ttl=window.ttl, trace=trace)))
    merged = pd.concat(frames)
    return merged[~merged.index.duplicated(keep="last")].sort_index()


def _open_interest(
    client: _http.Client, inst: str, window: Window, trace: Trace
) -> tuple[pd.Series, str]:
    period, ours = _OI_PERIOD[window.interval]
    step = int(_http.INTERVALS[ours].total_seconds() * 1000)
    end = window.end_ms
    start = max(window.start_ms - step, end - _RECENT_BARS * step)
    raw: list[Any] = []
    for lo, hi in reversed(_http.chunks(start, end, step, _OI_PER_REQUEST)):
        params = {
            "instId": inst,
            "period": period,
            "begin": lo - 1,
            "end": hi,
            "limit": _OI_PER_REQUEST,
        }
        page = client.get(
            "/api/v5/rubik/stat/contracts/open-interest-history",
            params,
            ttl=window.ttl,
            trace=trace,
        )
        if not page:
            break  # older than OKX keeps: build_frame's coverage note tells the user
        raw.extend(page)
    with parsing(EXCHANGE, "open interest history"):
        if all(len(r) > 3 and r[3] not in (None, "") for r in raw):
            rows = [(to_ms(r[0]), float(r[3])) for r in raw]
            return _http.series_from(rows, "open_interest"), "usd"
        # Without oiUsd on every row, use the coin amount (oiCcy) times the bar's close.
        rows = [(to_ms(r[0]), float(r[2])) for r in raw]
        return _http.series_from(rows, "open_interest"), "base"


def _funding(client: _http.Client, inst: str, window: Window, trace: Trace) -> pd.Series:
    start = window.start_ms - 8 * 3_600_000
    rows: list[tuple[int, float]] = []
    after = window.end_ms
    for _ in range(_FUNDING_MAX_PAGES):
        params = {"instId": inst, "after": after, "limit": _FUNDING_PER_PAGE}
        page = client.get(
            "/api/v5/public/funding-rate-history", params, ttl=window.ttl, trace=trace
        )
        with parsing(EXCHANGE, "funding history"):
            found = [(to_ms(item["fundingTime"]), float(item["fundingRate"])) for item in page]
        rows.extend(found)
        if len(found) < _FUNDING_PER_PAGE:
            break
        after = min(t for t, _ in found)
        if after <= start:
            break
    return _http.series_from(rows, "funding_rate")


def fetch_market(
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | None = None,
) -> pd.DataFrame:
    """OKX swap candles and open interest for ``symbol`` over ``timeframe``.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``) or OKX instrument (``"BTC-USDT-SWAP"``).
    timeframe : str or Timedelta
        How far back from now, e.g. ``"3d"``, ``"1mo"``.
    interval : str, optional
        Candle interval; :func:`liqcore.sources.choose_interval` when omitted.
    base_url : str, optional
        A mirror or test server instead of ``https://www.okx.com``.

    Returns
    -------
    DataFrame
        Market frame with ``funding_rate``; ``open_interest`` is ``oiUsd`` at each bar's
        close. OKX keeps 1,440 periods of open interest (5 days at 5m, 60 days at 1h):
        earlier bars hold the first known value and ``attrs["notes"]`` says so.

    Examples
    --------
    >>> fetch_market("BTC", "forever")
    Traceback (most recent call last):
    ...
    ValueError: cannot read timeframe 'forever': use e.g. 1d, 3d, 1w, 1mo, 1y
    """
    window = _http.make_window(timeframe, interval or _http.choose_interval(timeframe))
    inst = instrument(symbol)
    client = _client(base_url)
    trace = Trace()
    notes: list[str] = []
    with _http.naming(EXCHANGE, inst):
        candles = _candles(client, inst, window, trace)
    oi, unit = _open_interest(client, inst, window, trace)
    funding = _http.optional(
        EXCHANGE, notes, "funding rate", lambda: _funding(client, inst, window, trace)
    )
    return _http.build_frame(
        exchange=EXCHANGE,
        symbol=_http.base_asset(symbol),
        instrument=inst,
        window=window,
        candles=candles,
        open_interest=oi,
        open_interest_unit=unit,
        oi_limit="OKX keeps the latest 1,440 periods; Bybit has the full history",
        extras=(Extra("funding_rate", funding, "OKX funding rate (about 3 months kept)"),),
        notes=notes,
        trace=trace,
    )


def parse_liquidations(data: Any, instrument_id: str, contract_size: float) -> pd.DataFrame:
    """Realized liquidations from a ``liquidation-orders`` ``data`` list.

    Parameters
    ----------
    data : list
        ``[{instId, details: [{side, posSide, bkPx, sz, ts}, ...]}, ...]``.
    instrument_id : str
        Keep only this swap (a family also lists its dated futures under other types).
    contract_size : float
        ``ctVal``: base units per contract.

    Returns
    -------
    DataFrame
        Indexed by UTC time, oldest first: ``side`` (``"long"`` or ``"short"``, the
        position that was liquidated), ``price`` (bankruptcy price), ``size`` (base
        units), ``usd`` (size times price).

    Examples
    --------
    >>> data = [{"instId": "BTC-USDT-SWAP", "details": [
    ...     {"side": "sell", "posSide": "long", "bkPx": "60000", "sz": "5", "ts": "1717000000000"},
    ...     {"side": "buy", "posSide": "net", "bkPx": "61000", "sz": "2", "ts": "1717000060000"}]}]
    >>> parse_liquidations(data, "BTC-USDT-SWAP", 0.01)[["side", "usd"]].to_dict("list")
    {'side': ['long', 'short'], 'usd': [3000.0, 1220.0]}
    """
    rows: list[tuple[int, str, float, float]] = []
    with parsing(EXCHANGE, "liquidation orders"):
        for group in data:
            if group.get("instId", instrument_id) != instrument_id:
                continue
            for item in group.get("details", []):
                side = str(item.get("posSide", "")).lower()
                if side not in ("long", "short"):
                    # One-way ("net") mode: a forced sell closes a long, a forced buy a short.
                    side = "long" if str(item["side"]).lower() == "sell" else "short"
                size = float(item["sz"]) * contract_size
                rows.append((to_ms(item["ts"]), side, float(item["bkPx"]), size))
    frame = pd.DataFrame(rows, columns=["time", "side", "price", "size"])
    frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ms", utc=True)
    frame = frame.set_index("time").sort_index()
    frame["usd"] = frame["size"] * frame["price"]
    return frame


def fetch_liquidations(
    symbol: str,
    timeframe: str | pd.Timedelta = "1d",
    *,
    base_url: str | None = None,
) -> pd.DataFrame:
    """OKX's published realized liquidations of ``symbol``'s USDT swap within ``timeframe``.

    OKX publishes only its most recent filled liquidation orders (about a hundred), so
    the events usually cover hours, not the whole timeframe; ``attrs["covered_from"]``
    is the earliest time the list is complete from and a note says so.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``) or OKX instrument.
    timeframe : str or Timedelta
        Drop events older than this.
    base_url : str, optional
        A mirror or test server instead of ``https://www.okx.com``.

    Returns
    -------
    DataFrame
        See :func:`parse_liquidations`; ``attrs`` as for market frames plus
        ``covered_from``.

    Examples
    --------
    >>> fetch_liquidations("BTC", "1m")
    Traceback (most recent call last):
    ...
    ValueError: timeframe '1m' is ambiguous: write '1mo' for a month (units: h, d, w, mo, y)
    """
    span = _http.parse_timeframe(timeframe)
    inst = instrument(symbol)
    family = inst.removesuffix("-SWAP")
    client = _client(base_url)
    trace = Trace()
    ttl = _http.SETTINGS.min_ttl
    with _http.naming(EXCHANGE, inst):
        spec = client.get(
            "/api/v5/public/instruments",
            {"instType": "SWAP", "instId": inst},
            ttl=_http.SETTINGS.max_ttl,
            trace=trace,
        )
        with parsing(EXCHANGE, "instrument"):
            contract_size = float(spec[0]["ctVal"])
        data = client.get(
            "/api/v5/public/liquidation-orders",
            {
                "instType": "SWAP",
                "instFamily": family,
                "state": "filled",
                "limit": _LIQUIDATIONS_LIMIT,
            },
            ttl=ttl,
            trace=trace,
        )
    events = parse_liquidations(data, inst, contract_size)
    now = pd.Timestamp(_http.now_ms(), unit="ms", tz="UTC")
    start = now - span
    notes: list[str] = []
    if events.empty:
        covered_from = now
        notes.append("OKX published no filled liquidation orders for this swap just now")
    else:
        covered_from = max(events.index[0], start)
        if events.index[0] > start:
            notes.append(
                f"OKX publishes only its latest {len(events)} liquidation orders: they cover "
                f"{events.index[0]:%Y-%m-%d %H:%M} UTC onwards, not the whole {timeframe}"
            )
    events = events[events.index >= start]
    fetched = trace.fetched_at if trace.fetched_at is not None else now.timestamp()
    events.attrs.update(
        {
            "source": EXCHANGE,
            "exchange": EXCHANGE,
            "contributors": [EXCHANGE],
            "symbol": _http.base_asset(symbol),
            "instrument": inst,
            "timeframe": str(timeframe),
            "fetched_at": pd.Timestamp(fetched, unit="s", tz="UTC").floor("s"),
            "from_cache": trace.from_cache,
            "requests": trace.requests,
            "notes": notes,
            "covered_from": covered_from,
        }
    )
    return events
