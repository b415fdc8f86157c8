"""KuCoin Futures USDT-margined perpetuals (https://api-futures.kucoin.com) through ccxt.

ccxt reads ``/api/v1/contracts/active`` (markets; KuCoin writes BTC as ``XBT`` and
``multiplier`` is the coins per lot), ``/api/v1/kline/query`` (volume in lots, at most
200 a call here) and the open interest history at ``https://api.kucoin.com``
``/api/ua/v1/market/open-interest`` (lots; a mirror serves both hosts). No public REST
history of liquidations.
"""

from __future__ import annotations

from liqcore.sources.venue import STAT_PERIODS, History, Venue

__all__ = ["VENUE"]

VENUE = Venue(
    "kucoin",
    200,
    ccxt_id="kucoinfutures",
    volume_in_contracts=True,
    oi=History(STAT_PERIODS, 200, "undocumented depth", limit="KuCoin's history stops there"),
    liquidations="none over REST",
)
