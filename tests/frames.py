"""Small hand-built frames and markets that several test modules share (one place each)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from liqcore.simulate import SimulatedMarket, simulate


@cache
def small_sim() -> SimulatedMarket:
    return simulate(days=4, interval="15m", seed=11)


def zones(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["side", "price_low", "price_high", "price", "usd"])


def realized_frame(long_usd, short_usd, *, freq: str = "15min", start: str = "2024-01-01 00:00"):
    index = pd.date_range(start, periods=len(long_usd), freq=freq, tz="UTC", name="time")
    return pd.DataFrame({"long_usd": long_usd, "short_usd": short_usd}, index=index)


def per_period_frame(long_usd, short_usd, price, *, freq: str = "1h") -> pd.DataFrame:
    """A per-period frame as liquidations_by_period returns it, from per-period arrays."""
    frame = realized_frame(np.asarray(long_usd, float), np.asarray(short_usd, float), freq=freq)
    frame["total_usd"] = frame["long_usd"] + frame["short_usd"]
    frame["price"] = np.asarray(price, float)
    frame["bars"] = 4
    return frame
