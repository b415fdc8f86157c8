"""The real example: three coins of real market data shipped with the package, and its scores.

Hourly bars of BTC, ETH and SOL (Dec 2025 – Jan 2026) with the daily liquidations
Hyperliquid reported, from ``liqcore/data/real`` (public domain; provenance and caveats
in :data:`PROVENANCE` and ``liqcore/data/real/SOURCES.md``). It works offline, and it is
where the estimate is judged against real liquidations rather than simulated ones.

Caveat that shapes every use: prices and volume are Binance's, open interest and
liquidations Hyperliquid's. The default model takes only the ups and downs of volume
(``ModelParams.volume_scale = "open_interest"``), so the scale mismatch does not
inflate the book; the rank correlations scored here do not depend on scale. There is
no intraday liquidation truth: scores are over days.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from liqcore.controls import REAL_COINS
from liqcore.market import load_market

__all__ = ["PROVENANCE", "WARM_UP_DAYS", "real_market", "reported_daily", "resample_market"]

#: The first days are not scored: the model's book starts empty and needs them to build up.
WARM_UP_DAYS = 3


PROVENANCE = (
    "Real example, offline: hourly bars with **prices and volume from Binance** (USD-M "
    "perpetual) and **open interest, funding and daily liquidations from Hyperliquid**, "
    "7 Dec 2025 – late Jan 2026 (50 reported days per coin). Compiled by the authors of "
    "the public repository 0xknxwledge/group-m-finm33150-final (public domain, Unlicense). "
    "Two venues: volumes "
    "and open interest differ in scale, so the model takes only the ups and downs of volume "
    "and the amount from Hyperliquid's open interest; the scores are rank correlations, which "
    "scale does not change. Liquidations are **daily totals**: there is no intraday truth."
)


def _data_file(name: str):
    return resources.files("liqcore").joinpath("data", "real", name)


def reported_daily(coin: str) -> pd.DataFrame:
    """USD of longs and shorts Hyperliquid reported liquidated per UTC day.

    Examples
    --------
    >>> daily = reported_daily("BTC")
    >>> list(daily.columns), len(daily), str(daily.index.tz)
    (['long_usd', 'short_usd'], 50, 'UTC')
    """
    _check(coin)
    with _data_file(f"{coin}_liquidations_1d.csv").open("rb") as handle:
        frame = pd.read_csv(handle)
    index = pd.DatetimeIndex(pd.to_datetime(frame["day"], utc=True), name="time")
    return frame[["long_usd", "short_usd"]].astype("float64").set_axis(index)


def real_market(coin: str) -> pd.DataFrame:
    """The coin's hourly market frame, up to the end of the reported liquidations.

    The frame's ``attrs["source"]`` is ``"real"``.

    Examples
    --------
    >>> market = real_market("ETH")
    >>> market.attrs["source"], str(market.index[0])
    ('real', '2025-12-07 11:00:00+00:00')
    >>> bool(market.index[-1].normalize() == reported_daily("ETH").index[-1])
    True
    """
    _check(coin)
    with _data_file(f"{coin}_1h.csv").open("rb") as handle:
        market = load_market(handle)
    end = reported_daily(coin).index[-1] + pd.Timedelta(days=1)
    market = market.loc[market.index < end].copy()
    market.attrs["source"] = "real"
    return market


def _check(coin: str) -> None:
    if coin not in REAL_COINS:
        msg = f"the real example has {', '.join(REAL_COINS)}, not {coin!r}"
        raise ValueError(msg)


def resample_market(market: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Bars aggregated to a coarser interval (``"4h"``): OHLC, summed volume, last OI.

    Examples
    --------
    >>> four = resample_market(real_market("BTC"), "4h")
    >>> str(four.index[1] - four.index[0]), bool((four["high"] >= four["low"]).all())
    ('0 days 04:00:00', True)
    """
    grouped = market.resample(rule)
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
            "open_interest": grouped["open_interest"].last(),
        }
    )
    for column in ("funding_rate", "long_short_ratio"):
        if column in market.columns:
            out[column] = grouped[column].mean()
    for column in ("taker_buy_volume", "realized_long_usd", "realized_short_usd"):
        if column in market.columns:
            out[column] = grouped[column].sum()
    return out.dropna(subset=["open", "close"])
