"""Clusters that line up across timeframes: a magnet zone seen in the books of several windows.

Traders read a cluster that shows on the 12h, 24h and 1w maps at once as a stronger
magnet. Each timeframe's book is estimated from its own window and price grid
(:func:`liqcore.model.estimate`), so the same crowd of positions shows as zones of
slightly different edges; two zones line up when they are on the same side of price
and their price ranges overlap (within a small tolerance).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from liqcore.controls import TIMEFRAMES

__all__ = ["CONFLUENCE_TIMEFRAMES", "TOLERANCE_PCT", "books_to_compare", "confluence"]

#: The timeframes whose books are compared (labels of :data:`liqcore.controls.TIMEFRAMES`).
CONFLUENCE_TIMEFRAMES: tuple[str, ...] = ("12h", "24h", "1w")


#: Two zones closer than this (percent of price) count as overlapping.
TOLERANCE_PCT = 0.1


def books_to_compare(timeframe: str, span: pd.Timedelta) -> list[str]:
    """The timeframes whose books are compared with the viewed one, shortest first.

    :data:`CONFLUENCE_TIMEFRAMES` and the viewed ``timeframe``; one longer than the data
    (``span``) is left out rather than estimated on less history.

    Examples
    --------
    >>> books_to_compare("3d", pd.Timedelta(days=5))
    ['12h', '24h', '3d']
    """
    wanted = {*CONFLUENCE_TIMEFRAMES, timeframe}
    return [
        label
        for label, hours in TIMEFRAMES.items()
        if label in wanted and (label == timeframe or pd.Timedelta(hours=hours) <= span)
    ]


def confluence(
    clusters: pd.DataFrame,
    others: Mapping[str, pd.DataFrame],
    price: float,
    tolerance_pct: float = TOLERANCE_PCT,
) -> pd.DataFrame:
    """The clusters of one book, each with the timeframes whose books have it too.

    Parameters
    ----------
    clusters : DataFrame
        The clusters of the book being viewed (:meth:`liqcore.model.Estimate.clusters`:
        ``side``, ``price_low``, ``price_high``, ...).
    others : mapping of str to DataFrame
        Timeframe label -> that timeframe's clusters, in the order to list them. The
        viewed timeframe may be among them (it then matches itself).
    price : float
        The current price (for the tolerance).
    tolerance_pct : float
        Zones closer than this percent of price count as overlapping.

    Returns
    -------
    DataFrame
        ``clusters`` with two more columns: ``timeframes`` (e.g. ``"12h · 1w"``, the
        labels of ``others`` with an overlapping same-side zone) and ``timeframe_count``.

    Examples
    --------
    >>> def zones(*rows):
    ...     return pd.DataFrame(rows, columns=["side", "price_low", "price_high", "price", "usd"])
    >>> week = zones(("long", 95.0, 96.0, 95.5, 9e6), ("short", 104.0, 105.0, 104.5, 5e6))
    >>> day = zones(("long", 95.8, 95.9, 95.85, 2e6), ("short", 95.0, 96.0, 95.5, 1e6))
    >>> out = confluence(week, {"24h": day, "1w": week}, price=100.0)
    >>> out[["side", "timeframes", "timeframe_count"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'side': 'long', 'timeframes': '24h · 1w', 'timeframe_count': 2},
     {'side': 'short', 'timeframes': '1w', 'timeframe_count': 1}]
    """
    out = clusters.copy()
    if out.empty:
        out["timeframes"] = pd.Series(dtype="object")
        out["timeframe_count"] = pd.Series(dtype="int64")
        return out
    tol = abs(price) * tolerance_pct / 100.0
    low = out["price_low"].to_numpy(dtype="float64")[:, None] - tol
    high = out["price_high"].to_numpy(dtype="float64")[:, None] + tol
    side = out["side"].to_numpy()[:, None]
    labels = list(others)
    seen = np.zeros((len(out), len(labels)), dtype=bool)
    for k, label in enumerate(labels):
        other = others[label]
        if other.empty:
            continue
        overlap = (
            (other["price_low"].to_numpy(dtype="float64")[None, :] <= high)
            & (other["price_high"].to_numpy(dtype="float64")[None, :] >= low)
            & (other["side"].to_numpy()[None, :] == side)
        )
        seen[:, k] = overlap.any(axis=1)
    names = np.array(labels, dtype=object)
    out["timeframes"] = [" · ".join(names[row]) for row in seen]
    out["timeframe_count"] = seen.sum(axis=1).astype("int64")
    return out
