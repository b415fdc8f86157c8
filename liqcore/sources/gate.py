"""Gate USDT perpetual futures (https://api.gateio.ws/api/v4) through ccxt.

ccxt reads ``/futures/usdt/contracts`` (markets; ``quanto_multiplier`` is the coins
per contract), ``/futures/usdt/candlesticks`` (volume in contracts, at most 1,999 a
call) and ``/futures/usdt/contract_stats`` (open interest in contracts and in USD, at
most 100 a call; how far back it goes is not documented). Gate publishes liquidations
(``/futures/usdt/liq_orders``); they are not read here yet.
"""

from __future__ import annotations

from liqcore.sources.venue import STAT_PERIODS, History, Venue

__all__ = ["VENUE"]

VENUE = Venue(
    "gate",
    1000,
    options={"swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}}},
    volume_in_contracts=True,
    oi=History(STAT_PERIODS, 100, "undocumented depth", limit="Gate's history stops there"),
    liquidations="public liquidation orders (not read yet)",
)
