"""Deribit USDC-margined linear perpetuals (https://www.deribit.com/api/v2) through ccxt.

ccxt reads ``public/get_instruments`` (markets), ``public/get_tradingview_chart_data``
(candles) and ``public/get_book_summary_by_instrument`` (the **current** open interest;
Deribit publishes no history of it). For linear instruments Deribit states open
interest in the base coin, which ccxt passes on as a value: it is valued here at the
current price. Deribit's main BTC and ETH perpetuals are inverse (settled in the coin)
and are not loaded; only the linear ``*_USDC-PERPETUAL`` swaps are.
"""

from __future__ import annotations

from liqcore.sources.venue import Venue

__all__ = ["VENUE"]

VENUE = Venue(
    "deribit",
    1000,
    quote="USDC",
    current_oi_in_coins=True,
    liquidations="not read (private settlement history)",
    unknown_symbol=('"param":"instrument_name"',),  # "Invalid params" naming that parameter
)
