"""Hyperliquid perpetuals (POST https://api.hyperliquid.xyz/info) through ccxt.

ccxt reads ``{"type": "metaAndAssetCtxs"}`` for the markets and their **current**
open interest, and ``candleSnapshot`` for candles; only the **5,000 most recent**
candles of an interval exist. Hyperliquid publishes **no open interest history**:
rather than invent one, every bar holds the current open interest in USD, the frame's
``attrs["open_interest_coverage"]`` is 0 and ``attrs["notes"]`` says so; with a flat
open interest the model seeds positions from volume. Coins are matched without regard
to case (Hyperliquid lists e.g. ``kPEPE``).
"""

from __future__ import annotations

from liqcore.sources.venue import Venue

__all__ = ["VENUE"]

VENUE = Venue(
    "hyperliquid",
    5000,
    candles_kept=5000,
    quote="USDC",
    instrument_key="baseName",
    liquidations="none published",
)
