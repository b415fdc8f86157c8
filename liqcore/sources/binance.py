"""Binance USD-M perpetuals (https://fapi.binance.com) through ccxt.

ccxt's unified methods read ``/fapi/v1/exchangeInfo`` (markets), open interest
(``/futures/data/openInterestHist``, **only the last 30 days**, at most 500 rows a
call), the account long/short ratio (same limits) and funding. Candles come from the
implicit ``fapiPublicGetKlines`` endpoint, because ccxt's unified candle drops column
9 of Binance's klines, the taker buy volume. Binance answers 403 when its firewall's
request limit is hit, not for location. It has no public REST history of liquidations
(``allForceOrders`` was retired).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import base
from liqcore.sources.base import Trace, Window, parsing
from liqcore.sources.venue import Connection, History, Venue

__all__ = ["VENUE", "klines"]

_KLINES_PER_REQUEST = 1500
_STATS_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d")


def klines(conn: Connection, market: dict[str, Any], window: Window, trace: Trace) -> pd.DataFrame:
    """Candles with ``taker_buy_volume`` from raw klines, parsed by ccxt but for column 9.

    Examples
    --------
    >>> VENUE.candles is klines, VENUE.taker_volume
    (True, True)
    """
    rows: list[list[Any]] = []
    for lo, hi in base.chunks(window.start_ms, window.end_ms, window.step_ms, _KLINES_PER_REQUEST):
        request = {
            "symbol": market["id"],
            "interval": window.interval,
            "startTime": lo,
            "endTime": hi - 1,
            "limit": (hi - lo) // window.step_ms,
        }
        page = conn.call(trace, window.ttl, "fapiPublicGetKlines", request)
        with parsing(VENUE.name, "klines"):
            rows.extend([*conn.exchange.parse_ohlcv(raw, market), float(raw[9])] for raw in page)
    columns = ("open", "high", "low", "close", "volume", "taker_buy_volume")
    return base.candles_from(rows, columns)


VENUE = Venue(
    "binance",
    _KLINES_PER_REQUEST,
    markets="linear",
    candles=klines,
    taker_volume=True,
    oi=History(
        _STATS_PERIODS,
        500,
        "30 days",
        kept_days=30,
        limit="Binance keeps 30 days of open interest; Bybit has the full history",
    ),
    ratio=History(_STATS_PERIODS, 500, "30 days", kept_days=30),
    funding_per_request=1000,
    liquidations="none over REST (allForceOrders was retired)",
    forbidden=("rate-limited", "{who}'s firewall refused the request (HTTP 403); wait a bit"),
)
