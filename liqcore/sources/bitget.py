"""Bitget USDT-M perpetual futures (https://api.bitget.com, v2 "mix" API) through ccxt.

ccxt reads ``/api/v2/mix/market/contracts`` (markets, once per product type),
``/api/v2/mix/market/candles`` (recent bars) or ``/history-candles`` (older bars, at
most 200 a call, so every page here is that size) and ``/api/v2/mix/market/open-interest``.
ccxt has no open interest history for Bitget: like Hyperliquid, every bar holds the
current open interest and a note says so. No public REST history of liquidations.
"""

from __future__ import annotations

from liqcore.sources.venue import Venue

__all__ = ["VENUE"]

VENUE = Venue(
    "bitget",
    200,
    liquidations="none over REST",
    unknown_symbol=('"code":"40034"',),  # "Parameter BTCUSDT does not exist", left generic by ccxt
)
