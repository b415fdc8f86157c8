"""Hyperliquid perpetuals (POST https://api.hyperliquid.xyz/info) as a market frame.

Requests (JSON bodies, public):

* ``{"type": "candleSnapshot", "req": {coin, interval, startTime, endTime}}`` →
  ``[{t, T, s, i, o, c, h, l, v, n}]``, oldest first; only the **5,000 most recent**
  candles of an interval exist (times are numbers live, strings in some recordings).
* ``{"type": "metaAndAssetCtxs"}`` → ``[{"universe": [{name, ...}]}, [{openInterest,
  markPx, funding, ...}]]``: the listed coins and their **current** open interest (in
  coins), mark price and hourly funding rate.

Hyperliquid publishes **no open interest history**. Rather than invent one, every bar
holds the current open interest in USD (coins times mark price), the frame's
``attrs["open_interest_coverage"]`` is 0 and ``attrs["notes"]`` says so; with a flat
open interest the model seeds positions from volume. Coin names are matched without
regard to case (Hyperliquid lists e.g. ``kPEPE``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import _http
from liqcore.sources._http import Trace, Window, fail, parsing, to_ms

__all__ = ["BASE_URL", "EXCHANGE", "fetch_market", "parse_candles", "parse_contexts"]

EXCHANGE = "hyperliquid"
BASE_URL = "https://api.hyperliquid.xyz"

_CANDLES_KEPT = 5000


def _client(base_url: str | None) -> _http.Client:
    return _http.client(EXCHANGE, base_url or BASE_URL)


def parse_candles(payload: Any) -> pd.DataFrame:
    """Candles from a ``candleSnapshot`` answer, oldest first (``null`` means none).

    Examples
    --------
    >>> rows = [{"t": "1710552360000", "T": "1710552419999", "s": "BTC", "i": "1m",
    ...          "o": "69584.0", "c": "69483.0", "h": "69610.0", "l": "69474.0",
    ...          "v": "6.83271", "n": "67"}]
    >>> parse_candles(rows).iloc[0].tolist()
    [69584.0, 69610.0, 69474.0, 69483.0, 6.83271]
    """
    if payload is None:
        payload = []
    with parsing(EXCHANGE, "candles"):
        if not isinstance(payload, list):
            raise TypeError(f"expected a list, got {type(payload).__name__}")
        rows = [
            (
                to_ms(c["t"]),
                float(c["o"]),
                float(c["h"]),
                float(c["l"]),
                float(c["c"]),
                float(c["v"]),
            )
            for c in payload
        ]
    return _http.candles_from(rows, ("open", "high", "low", "close", "volume"))


def parse_contexts(payload: Any) -> dict[str, dict[str, Any]]:
    """Coin name → asset context (``openInterest``, ``markPx``...) from ``metaAndAssetCtxs``.

    Examples
    --------
    >>> payload = [{"universe": [{"name": "BTC"}, {"name": "kPEPE"}]},
    ...            [{"openInterest": "10", "markPx": "60000"},
    ...             {"openInterest": "5", "markPx": "0.01"}]]
    >>> sorted(parse_contexts(payload)), parse_contexts(payload)["BTC"]["markPx"]
    (['BTC', 'kPEPE'], '60000')
    """
    with parsing(EXCHANGE, "asset contexts"):
        meta, contexts = payload
        names = [asset["name"] for asset in meta["universe"]]
        if len(names) != len(contexts):
            raise ValueError(f"{len(names)} coins but {len(contexts)} contexts")
        return dict(zip(names, contexts, strict=True))


def _coin(contexts: dict[str, dict[str, Any]], symbol: str) -> str:
    wanted = _http.base_asset(symbol)
    for name in contexts:
        if name.upper() == wanted:
            return name
    fail(EXCHANGE, "unknown symbol", f"Hyperliquid does not list {wanted}")


def _candles(client: _http.Client, coin: str, window: Window, trace: Trace) -> pd.DataFrame:
    frames = []
    for start, end in _http.chunks(window.start_ms, window.end_ms, window.step_ms, _CANDLES_KEPT):
        body = {
            "type": "candleSnapshot",
            "req": {
                "coin": coin,
                "interval": window.interval,
                "startTime": start,
                "endTime": end - 1,
            },
        }
        frames.append(parse_candles(client.post("/info", body, ttl=window.ttl, trace=trace)))
    merged = pd.concat(frames)
    return merged[~merged.index.duplicated(keep="last")].sort_index()


def fetch_market(
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Hyperliquid candles for ``symbol`` over ``timeframe``, with the current open interest.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``); matched against Hyperliquid's coin list.
    timeframe : str or Timedelta
        How far back from now, e.g. ``"3d"``, ``"1mo"``.
    interval : str, optional
        Candle interval; :func:`liqcore.sources.choose_interval` when omitted.
    base_url : str, optional
        A mirror or test server instead of ``https://api.hyperliquid.xyz``.

    Returns
    -------
    DataFrame
        Market frame whose ``open_interest`` is the current open interest on every bar
        (no history exists; see the module notes), ``quote_volume_usd`` in ``attrs``
        estimated as volume times close.

    Raises
    ------
    SourceUnavailable
        ``coverage`` when the window reaches past the 5,000 candles Hyperliquid keeps;
        ``unknown symbol`` when the coin is not listed.

    Examples
    --------
    >>> fetch_market("BTC", "1y", interval="1h")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 1y at 1h is ... bars; at most 5,000 are fetched at once: choose ...
    """
    window = _http.make_window(timeframe, interval or _http.choose_interval(timeframe))
    client = _client(base_url)
    trace = Trace()
    contexts = parse_contexts(
        client.post("/info", {"type": "metaAndAssetCtxs"}, ttl=window.ttl, trace=trace)
    )
    coin = _coin(contexts, symbol)
    kept_from = window.end_ms - _CANDLES_KEPT * window.step_ms
    if window.start_ms < kept_from:
        fail(
            EXCHANGE,
            "coverage",
            f"Hyperliquid keeps only the latest {_CANDLES_KEPT:,} {window.interval} candles, "
            f"less than {window.timeframe}: choose a coarser interval or another exchange",
        )
    candles = _candles(client, coin, window, trace)
    with parsing(EXCHANGE, "asset context"):
        context = contexts[coin]
        usd = float(context["openInterest"]) * float(context["markPx"])
    # Third-party docs describe this figure as counting both sides; that is unverified,
    # so it is used as reported. Stamped at the window's start so every bar holds it.
    first = pd.Timestamp(window.start_ms, unit="ms", tz="UTC")
    open_interest = pd.Series([usd], index=pd.DatetimeIndex([first]), name="open_interest")
    return _http.build_frame(
        exchange=EXCHANGE,
        symbol=_http.base_asset(symbol),
        instrument=coin,
        window=window,
        candles=candles,
        open_interest=open_interest,
        oi_history=False,
        trace=trace,
    )
