"""A slow, obviously-correct reference of the liquidation model (for tests only).

Written from the model description in :mod:`liqcore.model`, not from its fast code:
one Python loop over bars that keeps an explicit list of open positions. For each
bar ``t``, in this order:

a. every position opened before ``t`` whose level the bar reaches (``low ≤ level``
   for a long, ``high ≥ level`` for a short) is liquidated; the USD realized is what
   it was worth at the close of bar ``t − 1``;
b. the survivors are scaled by the bar's open-interest survival share and by the
   per-tier decay for one bar;
c. new positions open at the bar's entry price, one per side and leverage tier; the
   opening bar liquidates them if its wick reaches the level
   (``liquidate_in_opening_bar``) or else only if its close does (they are then
   realized at their opening notional);
d. if ``t`` closes a grid column, the book is recorded in the heatmap.

Only :func:`liqcore.model.liquidation_price` and :func:`liqcore.model.make_grid` are
reused: both are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqcore.model import ModelParams, liquidation_price, make_grid

__all__ = ["Position", "ReferenceResult", "reference_estimate"]


@dataclass
class Position:
    """One open position: a side and leverage tier opened in one bar."""

    open_bar: int
    is_long: bool
    tier: int
    liq_price: float
    usd: float  # current value, USD notional


@dataclass(frozen=True)
class ReferenceResult:
    """What the reference computes, in plain arrays.

    Attributes
    ----------
    price_edges : float64 (P + 1,)
    column_end : int64 (C,)
    heatmap_long, heatmap_short : float64 (C, P)
        Book at the close of each column's last bar.
    levels_long, levels_short : float64 (K, P)
        Book per tier at the close of the last bar.
    realized_long, realized_short : float64 (K, N)
        USD liquidated per tier and bar.
    book : list of Position
        Positions still open after the last bar.
    opened_usd : float
        Total USD of all positions ever opened (both sides): the scale of the example.
    """

    price_edges: np.ndarray
    column_end: np.ndarray
    heatmap_long: np.ndarray
    heatmap_short: np.ndarray
    levels_long: np.ndarray
    levels_short: np.ndarray
    realized_long: np.ndarray
    realized_short: np.ndarray
    book: list[Position]
    opened_usd: float


def _entry(bar: dict[str, float], how: str) -> float:
    if how == "typical":
        return (bar["high"] + bar["low"] + bar["close"]) / 3.0
    if how == "hl2":
        return (bar["high"] + bar["low"]) / 2.0
    return bar[how]  # "open" or "close"


def _long_share(bar: dict[str, float], split: str) -> float:
    """Fraction of a bar's new notional that is long (0.5 when the data is missing)."""
    if split == "taker" and "taker_buy_volume" in bar:
        if bar["volume"] <= 0:
            return 0.5
        return min(max(bar["taker_buy_volume"] / bar["volume"], 0.0), 1.0)
    if split == "ratio" and "long_short_ratio" in bar:
        ratio = bar["long_short_ratio"]
        return ratio / (1.0 + ratio)
    return 0.5


def _opened_usd(bar: dict[str, float], oi_before: float | None, params: ModelParams) -> float:
    """New notional in a bar (before the long/short split); ``oi_before`` is None in bar 0."""
    oi_growth = 0.0 if oi_before is None else max(bar["open_interest"] - oi_before, 0.0)
    turnover = bar["volume"] * _entry(bar, params.entry) * params.volume_open_share
    if params.opening == "oi":
        return oi_growth
    if params.opening == "volume":
        return turnover
    return params.volume_weight * turnover + (1.0 - params.volume_weight) * oi_growth


def _survival(bar: dict[str, float], oi_before: float | None, opened: float) -> float:
    """Share of the book present at the start of a bar that is not closed in it."""
    if oi_before is None:
        return 1.0
    before, after = oi_before, bar["open_interest"]
    if before <= 0:
        return 1.0  # nothing to measure closes against
    closed = (before + opened - after) / before
    return 1.0 - min(max(closed, 0.0), 1.0)


def _reached(position: Position, low: float, high: float) -> bool:
    return low <= position.liq_price if position.is_long else high >= position.liq_price


def _bin(price: float, edges: np.ndarray) -> int | None:
    """Index of the half-open bin ``[edges[j], edges[j + 1])`` holding ``price``, if any."""
    j = int(np.searchsorted(edges, price, side="right")) - 1
    return j if 0 <= j < len(edges) - 1 else None


def _book_grid(
    book: list[Position], edges: np.ndarray, tiers: int
) -> tuple[np.ndarray, np.ndarray]:
    long, short = np.zeros((tiers, len(edges) - 1)), np.zeros((tiers, len(edges) - 1))
    for position in book:
        j = _bin(position.liq_price, edges)
        if j is not None:
            (long if position.is_long else short)[position.tier, j] += position.usd
    return long, short


def reference_estimate(
    market: pd.DataFrame, params: ModelParams, start_bar: int = 0
) -> ReferenceResult:
    """Run the model bar by bar on a *validated* market frame.

    ``start_bar`` is the first bar shown on the heatmap (earlier bars still open positions).
    """
    n = len(market)
    tiers = len(params.leverage_tiers)
    weights = np.asarray(params.tier_weights, dtype="float64")
    weights = weights / weights.sum()
    bar_hours = (market.index[1] - market.index[0]).total_seconds() / 3600.0
    decay = np.ones(tiers)
    for k, half_life in enumerate(params.half_life_hours or [None] * tiers):
        if half_life is not None:
            decay[k] = 0.5 ** (bar_hours / half_life)
    grid = make_grid(
        market.index,
        market["low"].to_numpy(),
        market["high"].to_numpy(),
        time_bins=params.time_bins,
        price_bins=params.price_bins,
        start=start_bar,
        price_range=params.price_range,
    )
    edges = grid.price_edges
    column_of_bar = {int(end): c for c, end in enumerate(grid.column_end)}
    heatmap_long = np.zeros((len(grid.column_end), len(edges) - 1))
    heatmap_short = np.zeros_like(heatmap_long)
    realized_long, realized_short = np.zeros((tiers, n)), np.zeros((tiers, n))
    opened_total = 0.0

    columns = {name: market[name].to_numpy().tolist() for name in market.columns}
    book: list[Position] = []
    for t in range(n):
        bar = {name: values[t] for name, values in columns.items()}
        oi_before = columns["open_interest"][t - 1] if t > 0 else None
        low, high, close = bar["low"], bar["high"], bar["close"]
        # (a) liquidations of positions opened in earlier bars, at their value before this bar
        survivors = []
        for position in book:
            if _reached(position, low, high):
                realized = realized_long if position.is_long else realized_short
                realized[position.tier, t] += position.usd
            else:
                survivors.append(position)
        # (b) closes implied by open interest, and decay
        entry = _entry(bar, params.entry)
        opened = _opened_usd(bar, oi_before, params)
        survival = _survival(bar, oi_before, opened)
        for position in survivors:
            position.usd *= survival * decay[position.tier]
        book = survivors
        # (c) new positions
        long_share = _long_share(bar, params.split)
        for is_long, side_share in ((True, long_share), (False, 1.0 - long_share)):
            side = "long" if is_long else "short"
            for k, leverage in enumerate(params.leverage_tiers):
                # "even" means every new contract adds its notional to both sides.
                usd = opened * 2.0 * side_share * weights[k]
                if usd <= 0:
                    continue
                opened_total += usd
                level = float(liquidation_price(entry, leverage, side, params.mmr))
                position = Position(t, is_long, k, level, usd)
                if params.liquidate_in_opening_bar:
                    dies = _reached(position, low, high)
                else:
                    dies = _reached(position, close, close)
                if dies:
                    (realized_long if is_long else realized_short)[k, t] += usd
                else:
                    book.append(position)
        # (d) the heatmap samples the book at the close of each column's last bar
        if t in column_of_bar:
            long, short = _book_grid(book, edges, tiers)
            heatmap_long[column_of_bar[t]] = long.sum(axis=0)
            heatmap_short[column_of_bar[t]] = short.sum(axis=0)

    levels_long, levels_short = _book_grid(book, edges, tiers)
    return ReferenceResult(
        price_edges=edges,
        column_end=grid.column_end,
        heatmap_long=heatmap_long,
        heatmap_short=heatmap_short,
        levels_long=levels_long,
        levels_short=levels_short,
        realized_long=realized_long,
        realized_short=realized_short,
        book=book,
        opened_usd=opened_total,
    )
