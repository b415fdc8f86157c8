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

import numpy as np
import pandas as pd

from liqcore.accuracy import distance_reference, naive_baseline, score_table
from liqcore.controls import REAL_COINS
from liqcore.market import load_market
from liqcore.model import ModelParams, estimate

__all__ = [
    "PROVENANCE",
    "REAL_COINS",
    "WARM_UP_DAYS",
    "daily_scores",
    "pooled",
    "real_market",
    "realcheck",
    "reported_daily",
    "resample_market",
]

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


def daily_scores(
    realized: pd.DataFrame,
    market: pd.DataFrame,
    reported: pd.DataFrame,
    warm_up_days: int = WARM_UP_DAYS,
) -> pd.DataFrame:
    """Model, naive baseline and distance-only map summed per day, scored against the days
    reported (from the ``warm_up_days + 1``-th on); see :func:`liqcore.accuracy.score_table`.

    Examples
    --------
    >>> market = real_market("SOL")
    >>> table = daily_scores(estimate(market).realized, market, reported_daily("SOL"))
    >>> list(table.index), bool(table.loc["long", "model"] > 0.5)
    (['long', 'short'], True)
    """
    days = reported.index[warm_up_days:]

    def per_day(frame: pd.DataFrame) -> pd.DataFrame:
        summed = frame[["long_usd", "short_usd"]].resample("1D").sum()
        return summed.reindex(days, fill_value=0.0)

    return score_table(
        per_day(realized),
        reported.loc[days],
        per_day(naive_baseline(market)),
        per_day(distance_reference(market)),
    )


def realcheck(
    params: ModelParams | None = None, bars: tuple[str, ...] = ("1h", "4h")
) -> pd.DataFrame:
    """Model vs the naive baseline and the distance-only map on the real example.

    Per coin, bar interval (the model run on hourly bars and on 4-hour bars built from
    them) and side: rank correlation over days of the summed estimates with the
    reported daily liquidations, and, for bars coarser than the data's, how the model's
    per-bar liquidations rank against the naive baseline's (``bar_rank_vs_baseline``: a
    sanity signal, not a score -- there is no intraday truth).

    Returns
    -------
    DataFrame
        Index ``(coin, bars, side)``; columns ``model``, ``baseline``, ``reference``,
        ``skill``, ``model_beats_baseline``, ``bar_rank_vs_baseline``.
    """
    rows = []
    for coin in REAL_COINS:
        hourly = real_market(coin)
        reported = reported_daily(coin)
        for rule in bars:
            market = hourly if rule == "1h" else resample_market(hourly, rule)
            est = estimate(market, params)
            table = daily_scores(est.realized, market, reported)
            naive = naive_baseline(market)
            for side in ("long", "short"):
                agreement = float("nan")
                if rule != "1h":
                    agreement = float(
                        pd.Series(est.realized[f"{side}_usd"].to_numpy())
                        .rank()
                        .corr(pd.Series(naive[f"{side}_usd"].to_numpy()).rank())
                    )
                rows.append(
                    {"coin": coin, "bars": rule, "side": side}
                    | table.loc[side].to_dict()
                    | {"bar_rank_vs_baseline": agreement}
                )
    frame = pd.DataFrame(rows).set_index(["coin", "bars", "side"])
    for column in ("model", "baseline", "reference", "skill", "bar_rank_vs_baseline"):
        frame[column] = frame[column].astype("float64")
    return frame


def pooled(table: pd.DataFrame, bars: str = "1h") -> dict[str, float]:
    """Mean score of each column over coins and sides at one bar interval (the pooled check).

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("BTC", "1h", "long"), ("BTC", "1h", "short")])
    >>> t = pd.DataFrame({"model": [0.8, 0.6], "baseline": [0.5, 0.7], "reference": [0.1, 0.2]},
    ...                  index=idx)
    >>> pooled(t)
    {'model': 0.7, 'baseline': 0.6, 'reference': 0.15}
    """
    part = table.xs(bars, level=1)
    return {
        column: round(float(np.nanmean(part[column])), 12)
        for column in ("model", "baseline", "reference")
    }
