"""Bybit v5 linear perpetuals (https://api.bybit.com) through ccxt.

ccxt reads ``/v5/market/instruments-info?category=linear`` (markets),
``/v5/market/kline`` (at most 1000 a call), ``/v5/market/open-interest`` (base units,
at most 200 a call, history back to the listing), ``/v5/market/account-ratio``
(``buyRatio / sellRatio``) and funding. Blocked regions get HTTP 403 with an HTML page
(``geo-blocked``); "access too frequent" 403s are ``rate-limited``. Bybit publishes
liquidations only on its websocket, not over REST.
"""

from __future__ import annotations

from liqcore.sources.venue import STAT_PERIODS, History, Venue

__all__ = ["VENUE"]

_RATIO_PERIOD = {"5m": "5min", "15m": "15min", "30m": "30min"}

VENUE = Venue(
    "bybit",
    1000,
    markets="linear",
    oi=History(STAT_PERIODS, 200, "since listing", limit="Bybit's history starts at the listing"),
    ratio=History(STAT_PERIODS, 500, "since listing"),
    funding_per_request=200,
    liquidations="websocket only, not over REST",
    # ccxt passes neither since nor until to /v5/market/account-ratio, and its period
    # as written (5m), where Bybit documents 5min.
    range_params={
        "fetch_long_short_ratio_history": lambda lo, hi, period: {
            "startTime": lo,
            "endTime": hi - 1,
            "period": _RATIO_PERIOD.get(period, period),
        }
    },
)
