"""The real example's scores: model vs the naive baseline and the distance-only map.

Per coin, side and bar interval, over the days Hyperliquid reported (``make realcheck``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqcore.analysis.scores import distance_reference, naive_baseline, score_table
from liqcore.controls import REAL_COINS
from liqcore.model import ModelParams, estimate
from liqcore.real import WARM_UP_DAYS, real_market, reported_daily, resample_market

__all__ = ["daily_scores", "pooled", "realcheck"]


def daily_scores(
    realized: pd.DataFrame,
    market: pd.DataFrame,
    reported: pd.DataFrame,
    warm_up_days: int = WARM_UP_DAYS,
) -> pd.DataFrame:
    """Model, naive baseline and distance-only map summed per day, scored against the days
    reported (from the ``warm_up_days + 1``-th on); see :func:`liqcore.analysis.scores.score_table`.

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
