"""The liquidation model: from a market frame to estimated liquidation levels.

Nobody outside an exchange knows where its traders' liquidation prices sit. This
module *estimates* them from public data, with every assumption a field of
:class:`ModelParams` so that a reader can see it and change it.

How the estimate is built
-------------------------
1. **Positions open every bar** (``ModelParams.opening``):

   * ``"oi"`` -- new positions are the rise in open interest, ``max(ΔOI + L, 0)``,
     where ``L`` is what the model itself liquidated in the bar (a liquidation lowers
     open interest without anyone choosing to close).
   * ``"volume"`` -- traded volume opens positions. With ``volume_scale =
     "open_interest"`` (default) volume says *when*: each bar opens
     ``OI[t−1] · (notional[t] / its trailing average) / mean lifetime``, the amount a
     steady book needs to replace what closes (mean lifetime from the holding times
     and the mix below; the average has a half-life of ``volume_window_hours``). Only
     volume's ups and downs count, so volume from another venue than the open interest
     (bigger or smaller) does not change the book's size. With ``"notional"`` a fixed
     share (``volume_open_share``) of the bar's traded notional opens positions.
   * ``"mix"`` (default) -- ``volume_weight`` of the volume estimate plus the rest
     of the OI estimate.

   Open interest is counted in contracts (``OI / close``), so a price move alone
   neither opens nor closes anything. **Closes follow from open interest, net of the
   model's own liquidations** (``closes_net_of_liquidations``): the share of a side's
   book closed in bar *t* is ``c[t] = clip((opened[t] − L[t] − ΔOI[t]) / OI[t−1], 0, 1)``.
   Because ``L`` depends on the book, the estimate takes one fixed-point step: it
   estimates the liquidations, then builds the book again with them.

   **Who closes: holding times.** The closes are shared across leverage by a holding
   half-life per tier, ``holding_hours · (10 / L)**holding_exponent`` (default 48 h at
   10x: hours at 100x, days at 5x). Tier *k* keeps ``1 − c · r_k / Σ_j m_j r_j`` of its
   positions, where ``r_k`` is its closing rate and ``m_j`` the tiers' shares of the
   book (what each opened less what it lost, aged at its rate), so the book as a whole
   loses ``c``. The product of those factors is a running multiplicative weight per
   tier, so it never needs a loop over cohorts.

2. **Long/short split** (``split``): ``"even"`` -- every contract has a long and a
   short side, so a new contract adds the same USD to each; ``"taker"`` -- the share
   of taker buying ``f = taker_buy_volume / volume`` goes to longs (``2f`` of the
   notional) and the rest to shorts; ``"ratio"`` -- ``f = r / (1 + r)`` from the
   accounts' long/short ratio ``r``.

3. **Leverage, a continuous distribution** (``leverage_tiers`` with ``tier_weights``,
   ``leverage_spread``, ``leverage_range``): each tier stands for a band of leverage
   (edges at the geometric midpoints between tiers, the outer ones at
   ``leverage_range``: 1.5-7.1x, 7.1-15.8x, 15.8-35.4x, 35.4-70.7x, 70.7-125x by
   default), log-uniform inside it; the weights are the bands' shares of new notional.
   Leaving a tier out of the view drops its band. The distribution is sampled with a
   few stratified points per bar and band (:func:`strata_per_band`: up to 16 on short
   histories, 1 on a year of minutes), jittered from bar to bar with low-discrepancy
   steps, so neighbouring bars fill in each other's gaps and the book is a smooth
   spread, not five spikes.

4. **Cross margin** (``cross_share``, ``cross_buffer``): that share of new notional
   sits in cross-margin accounts, whose other funds add a buffer ``b`` of the
   position's notional, uniform over ``cross_buffer`` (default 5-50 %: real top
   accounts set 20-40x yet hold little of their USD within 5 % of price, most of it
   20-50 % away).

5. **Entry price** (``entry``): ``"path"`` (default) -- positions open along the bar's
   assumed path open → low → high → close for a bar that closes up, open → high → low
   → close for one that closes down, spread evenly over the distance travelled (where
   trading happens). Or one price per bar: the typical price ``(high + low + close) / 3``,
   ``"hl2"``, the open or the close.

6. **Liquidation price** (:func:`liquidation_price`) with maintenance margin rate
   ``mmr`` and buffer ``b`` (0 for isolated margin): long
   ``entry·(1 − 1/L − b)/(1 − mmr)``, short ``entry·(1 + 1/L + b)/(1 + mmr)``. This
   ignores fees, funding paid and margin added later.

7. **Removal**: a long level is gone at the first bar whose low reaches it, a
   short level at the first bar whose high reaches it. With
   ``liquidate_in_opening_bar`` the opening bar can liquidate too: with path entries,
   only by the part of its path after the entry (a long bought after the bar's low
   cannot be liquidated by that low); with one entry price, by the bar's whole wick.
   Without it only the opening bar's close can. The first crossing of every level is
   found at once with a sparse table of running minima/maxima and a vectorised
   binary descent (:func:`first_crossing`).

8. **Decay** (``half_life_hours``, per tier): optional exponential fading of old
   positions on top of the OI-driven closes (traders take profit, move stops).

9. **Grid**: the book is sampled at the close of the last bar of each time column
   (columns aggregate bars when the history is longer than ``time_bins``) on
   ``price_bins`` price bins. It is built from + entries at opening columns and −
   entries at removal columns, carried forward column by column with the
   multiplicative survival weight (a loop over screen columns, never candles).

:meth:`ModelParams.classic` is the model before points 3, 4, the path entries, the
holding times and the net closes: five leverage spikes, isolated margin, one close
rate, volume as a share of notional. The slow reference in the tests implements it.

What it cannot know: real leverage choices and account balances, stops, hedges, the
order of prices inside a bar, positions opened before the data starts. The result is an
**estimate**; the simulated market (:mod:`liqcore.simulate`) and the real example
(:mod:`liqcore.real`) exist to measure how good it is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import numpy as np
import pandas as pd

from liqcore.market import bar_interval, plausibility_warnings, validate_market

__all__ = [
    "ASSUMPTIONS",
    "DEFAULT_TIERS",
    "DEFAULT_WEIGHTS",
    "BarPath",
    "Cohorts",
    "Estimate",
    "Grid",
    "Heatmap",
    "ModelParams",
    "assumptions_table",
    "bin_index",
    "book_at_end",
    "book_over_time",
    "clusters_from_levels",
    "estimate",
    "first_crossing",
    "levels_frame",
    "liquidation_price",
    "make_grid",
    "realized_by_bar",
    "strata_per_band",
    "wide_price_edges",
]

DEFAULT_TIERS: tuple[float, ...] = (5.0, 10.0, 25.0, 50.0, 100.0)
# Retail-heavy mix: most notional at modest leverage, a thin tail at 50-100x.
DEFAULT_WEIGHTS: tuple[float, ...] = (0.30, 0.30, 0.20, 0.12, 0.08)


def liquidation_price(
    entry: float | np.ndarray,
    leverage: float | np.ndarray,
    side: str | np.ndarray = "long",
    mmr: float | np.ndarray = 0.004,
    buffer: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Liquidation price of an isolated-margin (or, with a buffer, cross-margin) position.

    Long: ``entry·(1 − 1/L − b)/(1 − mmr)``; short: ``entry·(1 + 1/L + b)/(1 + mmr)``.
    Derivation: the position is liquidated when equity ``margin + b·qty·entry ±
    qty·(p − entry)`` falls to the maintenance margin ``mmr·qty·p``, with ``margin =
    qty·entry/L``. ``b = 0`` is isolated margin; a cross-margin position also draws on
    the rest of the account, ``b`` of its notional (a long whose buffer covers the whole
    fall gets a price of 0: it cannot be liquidated).

    Parameters
    ----------
    entry : float or array
        Entry price (quote currency per unit).
    leverage : float or array
        Leverage ``L`` (> 1 for a long to have a positive liquidation price).
    side : {"long", "short"} or array
        Position side; an array may hold the strings or booleans (True = long).
    mmr : float or array
        Maintenance margin rate as a fraction (0.004 = 0.4%).
    buffer : float or array
        Extra margin from the rest of a cross-margin account, as a fraction of the
        position's notional (0 = isolated margin).

    Returns
    -------
    numpy.ndarray
        Liquidation prices, broadcast over the inputs.

    Examples
    --------
    >>> float(liquidation_price(100_000, 10, "long", mmr=0.004))
    90361.44578313253
    >>> liquidation_price(100.0, [10, 100], "short").round(3)
    array([109.562, 100.598])
    >>> float(liquidation_price(100.0, 20, "long", mmr=0.0, buffer=0.25).round(6))
    70.0
    """
    entry_arr = np.asarray(entry, dtype="float64")
    leverage_arr = np.asarray(leverage, dtype="float64")
    mmr_arr = np.asarray(mmr, dtype="float64")
    if np.any(leverage_arr <= 0):
        msg = f"leverage must be positive, got {leverage}"
        raise ValueError(msg)
    if np.any((mmr_arr < 0) | (mmr_arr >= 1)):
        msg = f"mmr must be a fraction in [0, 1), got {mmr}"
        raise ValueError(msg)
    is_long = _side_mask(side)
    reach = 1.0 / leverage_arr + np.asarray(buffer, dtype="float64")
    if is_long.ndim == 0:  # one side: compute only its formula (hot path of the engine)
        sign = 1.0 if is_long else -1.0
        price = entry_arr * (1.0 - sign * reach) / (1.0 - sign * mmr_arr)
        return np.maximum(price, 0.0) if is_long else price
    long_price = np.maximum(entry_arr * (1.0 - reach) / (1.0 - mmr_arr), 0.0)
    short_price = entry_arr * (1.0 + reach) / (1.0 + mmr_arr)
    return np.where(is_long, long_price, short_price)


def _side_mask(side: str | np.ndarray) -> np.ndarray:
    if isinstance(side, str):
        if side not in ("long", "short"):
            msg = f"side must be 'long' or 'short', got {side!r}"
            raise ValueError(msg)
        return np.asarray(side == "long")
    arr = np.asarray(side)
    if arr.dtype == bool:
        return arr
    bad = ~np.isin(arr, ["long", "short"])
    if bad.any():
        msg = f"side must be 'long' or 'short', got {arr[bad].tolist()[0]!r}"
        raise ValueError(msg)
    return arr == "long"


@dataclass(frozen=True)
class ModelParams:
    """Every assumption of the estimate. See the module docstring for the model.

    Examples
    --------
    >>> ModelParams().leverage_tiers
    (5.0, 10.0, 25.0, 50.0, 100.0)
    >>> ModelParams(leverage_tiers=(10, 100), tier_weights=(3, 1)).normalized_weights()
    array([0.75, 0.25])
    """

    opening: Literal["oi", "volume", "mix"] = "mix"
    volume_weight: float = 0.5
    volume_open_share: float = 0.5
    split: Literal["even", "taker", "ratio"] = "even"
    leverage_tiers: tuple[float, ...] = DEFAULT_TIERS
    tier_weights: tuple[float, ...] = DEFAULT_WEIGHTS
    mmr: float = 0.004
    entry: Literal["path", "typical", "close", "open", "hl2"] = "path"
    liquidate_in_opening_bar: bool = True
    half_life_hours: tuple[float | None, ...] | None = None
    leverage_spread: bool = True
    leverage_range: tuple[float, float] = (1.5, 125.0)
    cross_share: float = 0.5
    cross_buffer: tuple[float, float] = (0.05, 0.5)
    holding_hours: float | None = 48.0
    holding_exponent: float = 1.0
    closes_net_of_liquidations: bool = True
    volume_scale: Literal["open_interest", "notional"] = "open_interest"
    volume_window_hours: float = 168.0
    strata: int | None = None
    time_bins: int = 600
    price_bins: int = 300
    price_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.opening not in ("oi", "volume", "mix"):
            msg = f"opening must be 'oi', 'volume' or 'mix', got {self.opening!r}"
            raise ValueError(msg)
        if self.split not in ("even", "taker", "ratio"):
            msg = f"split must be 'even', 'taker' or 'ratio', got {self.split!r}"
            raise ValueError(msg)
        if self.entry not in ("path", "typical", "close", "open", "hl2"):
            msg = f"entry must be 'path', 'typical', 'close', 'open' or 'hl2', got {self.entry!r}"
            raise ValueError(msg)
        if self.volume_scale not in ("open_interest", "notional"):
            msg = f"volume_scale must be 'open_interest' or 'notional', got {self.volume_scale!r}"
            raise ValueError(msg)
        low_lev, high_lev = self.leverage_range
        if not 1 < low_lev < high_lev:
            msg = f"leverage_range must be (low, high), 1 < low < high, got {self.leverage_range}"
            raise ValueError(msg)
        if not 0 <= self.cross_share <= 1:
            msg = f"cross_share must be in [0, 1], got {self.cross_share}"
            raise ValueError(msg)
        low_buf, high_buf = self.cross_buffer
        if not 0 <= low_buf <= high_buf < 1:
            msg = f"cross_buffer must be (low, high), 0 <= low <= high < 1, got {self.cross_buffer}"
            raise ValueError(msg)
        if self.holding_hours is not None and not self.holding_hours > 0:
            msg = f"holding_hours must be positive hours or None, got {self.holding_hours}"
            raise ValueError(msg)
        if not 0 <= self.holding_exponent <= 3:
            msg = f"holding_exponent must be in [0, 3], got {self.holding_exponent}"
            raise ValueError(msg)
        if self.strata is not None and not 1 <= self.strata <= 64:
            msg = f"strata must be 1-64 cohorts per bar and band, or None, got {self.strata}"
            raise ValueError(msg)
        if not self.volume_window_hours > 0:
            msg = f"volume_window_hours must be positive, got {self.volume_window_hours}"
            raise ValueError(msg)
        if not self.leverage_tiers:
            msg = "choose at least one leverage tier"
            raise ValueError(msg)
        if len(self.tier_weights) != len(self.leverage_tiers):
            msg = (
                f"{len(self.leverage_tiers)} leverage tiers but {len(self.tier_weights)} weights; "
                "give one weight per tier"
            )
            raise ValueError(msg)
        if any(lev <= 1 for lev in self.leverage_tiers):
            msg = f"leverage tiers must be above 1x, got {self.leverage_tiers}"
            raise ValueError(msg)
        if len(set(self.tier_labels())) < len(self.leverage_tiers):
            # Per-tier result columns are named by label; a repeated label would overwrite one.
            msg = f"leverage tiers must be distinct, got {self.tier_labels()}"
            raise ValueError(msg)
        weights = np.asarray(self.tier_weights, dtype="float64")
        if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
            msg = f"tier weights must be non-negative with a positive sum, got {self.tier_weights}"
            raise ValueError(msg)
        if not 0 <= self.mmr < 0.5:
            msg = f"mmr must be a fraction in [0, 0.5), got {self.mmr}"
            raise ValueError(msg)
        if not 0 <= self.volume_weight <= 1:
            msg = f"volume_weight must be in [0, 1], got {self.volume_weight}"
            raise ValueError(msg)
        if not 0 <= self.volume_open_share <= 1:
            msg = f"volume_open_share must be in [0, 1], got {self.volume_open_share}"
            raise ValueError(msg)
        if self.half_life_hours is not None:
            if len(self.half_life_hours) != len(self.leverage_tiers):
                msg = "half_life_hours needs one entry (or None) per leverage tier"
                raise ValueError(msg)
            if any(h is not None and not h > 0 for h in self.half_life_hours):
                msg = f"half lives must be positive hours or None, got {self.half_life_hours}"
                raise ValueError(msg)
        if not 2 <= self.time_bins <= 20_000 or not 2 <= self.price_bins <= 5_000:
            msg = (
                f"grid of {self.time_bins} x {self.price_bins} is out of range "
                "(time_bins 2-20000, price_bins 2-5000)"
            )
            raise ValueError(msg)
        if self.price_range is not None:
            low, high = self.price_range
            if not 0 < low < high:
                msg = f"price_range must be (low, high) with 0 < low < high, got {self.price_range}"
                raise ValueError(msg)

    @classmethod
    def classic(cls, **changes: object) -> ModelParams:
        """The model before continuous leverage, cross margin and holding times.

        Discrete tier spikes, isolated margin only, entries at the typical price, every
        leverage closed at the open-interest rate, volume opening as a share of traded
        notional. The slow reference of the tests implements exactly this model.

        Examples
        --------
        >>> ModelParams.classic().cross_share, ModelParams.classic(mmr=0.01).mmr
        (0.0, 0.01)
        """
        settings: dict[str, object] = {
            "leverage_spread": False,
            "cross_share": 0.0,
            "holding_hours": None,
            "closes_net_of_liquidations": False,
            "volume_scale": "notional",
            "entry": "typical",
        }
        return cls(**(settings | changes))

    def leverage_bands(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest leverage of each tier's band.

        A tier stands for a band of leverage: the edges are the geometric midpoints
        between neighbouring tiers of the union of these tiers and the default ones
        (so leaving a tier out of the view drops its band, it does not widen the others),
        and ``leverage_range`` closes the outer bands.

        Examples
        --------
        >>> low, high = ModelParams().leverage_bands()
        >>> low.round(1).tolist(), high.round(1).tolist()
        ([1.5, 7.1, 15.8, 35.4, 70.7], [7.1, 15.8, 35.4, 70.7, 125.0])
        """
        tiers = np.asarray(self.leverage_tiers, dtype="float64")
        every = np.unique(np.concatenate([tiers, DEFAULT_TIERS]))
        mids = np.sqrt(every[:-1] * every[1:])
        low_edge = min(self.leverage_range[0], float(every[0]))
        high_edge = max(self.leverage_range[1], float(every[-1]))
        position = np.searchsorted(every, tiers)
        lows = np.concatenate([[low_edge], mids])[position]
        highs = np.concatenate([mids, [high_edge]])[position]
        return lows, highs

    def holding_half_life(self) -> np.ndarray | None:
        """Holding half-life in hours per tier: ``holding_hours · (10 / L)**holding_exponent``.

        Examples
        --------
        >>> ModelParams().holding_half_life().round(1).tolist()
        [96.0, 48.0, 19.2, 9.6, 4.8]
        """
        if self.holding_hours is None:
            return None
        tiers = np.asarray(self.leverage_tiers, dtype="float64")
        return self.holding_hours * (10.0 / tiers) ** self.holding_exponent

    def normalized_weights(self) -> np.ndarray:
        """Tier weights scaled to sum to one."""
        weights = np.asarray(self.tier_weights, dtype="float64")
        return weights / weights.sum()

    def tier_labels(self) -> list[str]:
        """Labels such as ``'25x'`` for each tier."""
        return [f"{lev:g}x" for lev in self.leverage_tiers]


@dataclass(frozen=True)
class Cohorts:
    """Groups of positions that share opening bar, side, leverage tier and liquidation price.

    Attributes
    ----------
    open_bar : int64 array
        Bar index in which the cohort opened.
    tier : int64 array
        Index into the leverage tiers.
    is_long : bool array
        True for longs.
    liq_price : float64 array
        Liquidation price.
    usd : float64 array
        Notional at opening, USD.
    removal_bar : int64 array
        Bar in which the level was liquidated; ``n_bars`` if it is still open at the end.
    """

    open_bar: np.ndarray
    tier: np.ndarray
    is_long: np.ndarray
    liq_price: np.ndarray
    usd: np.ndarray
    removal_bar: np.ndarray


@dataclass(frozen=True)
class Grid:
    """Where the book is sampled: time columns (groups of bars) and price bins.

    Attributes
    ----------
    column_end : int64 array, shape (C,)
        Index of the last bar of each column; the book is sampled at that bar's close.
    times : DatetimeIndex, shape (C,)
        Open time of the first bar of each column.
    time_edges : DatetimeIndex, shape (C + 1,)
        Column boundaries (the last edge is the close time of the last bar).
    price_edges : float64 array, shape (P + 1,)
        Price bin edges, increasing.
    start_bar : int
        First bar covered by the first column.
    """

    column_end: np.ndarray
    times: pd.DatetimeIndex
    time_edges: pd.DatetimeIndex
    price_edges: np.ndarray
    start_bar: int = 0

    @property
    def prices(self) -> np.ndarray:
        """Price bin centres."""
        return 0.5 * (self.price_edges[:-1] + self.price_edges[1:])


@dataclass(frozen=True)
class Heatmap:
    """USD still at risk over time on a time x price grid (estimate or truth).

    ``long[i, j]`` is the USD of long positions whose liquidation price is in price
    bin ``j`` and that are still open at the close of column ``i``.
    """

    grid: Grid
    long: np.ndarray
    short: np.ndarray

    @property
    def times(self) -> pd.DatetimeIndex:
        """Open time of each column."""
        return self.grid.times

    @property
    def prices(self) -> np.ndarray:
        """Price bin centres."""
        return self.grid.prices

    @property
    def total(self) -> np.ndarray:
        """Longs plus shorts, float32 ``[time, price]``."""
        return self.long + self.short


@dataclass(frozen=True)
class Estimate:
    """Result of :func:`estimate`.

    Attributes
    ----------
    heatmap : Heatmap
        Estimated USD at risk over time.
    levels : DataFrame
        The book at the last bar, one row per price bin (see :func:`levels_frame`).
    wide_levels : DataFrame
        The same book on wider price bins (:func:`wide_price_edges`): at least
        ±:data:`WIDE_BOOK_PCT` % around price, beyond the chart's price range, for the
        "what if price moves" questions.
    realized : DataFrame
        Estimated USD liquidated per bar: ``long_usd``, ``short_usd`` and per tier
        ``long_usd_<L>x`` / ``short_usd_<L>x``.
    price : float
        Close of the last bar ("current price").
    params : ModelParams
        The assumptions used.
    warnings : list of str
        Things the user should know (e.g. a missing column replaced by a default).
    """

    heatmap: Heatmap
    levels: pd.DataFrame
    wide_levels: pd.DataFrame
    realized: pd.DataFrame
    price: float
    params: ModelParams
    warnings: list[str] = field(default_factory=list)

    def clusters(self, n: int = 5, min_usd: float = 0.0) -> pd.DataFrame:
        """The ``n`` largest contiguous zones of levels above and below price.

        See :func:`clusters_from_levels`.
        """
        return clusters_from_levels(self.levels, self.price, n=n, min_usd=min_usd)


# ---------------------------------------------------------------------------
# First crossings
# ---------------------------------------------------------------------------


def _sparse_table(values: np.ndarray, dtype: str) -> np.ndarray:
    """Row k holds ``min(values[i : i + 2**k])`` (windows truncated at the end), +inf padded."""
    n = len(values)
    levels = int(np.ceil(np.log2(max(n, 2)))) + 1
    table = np.full((levels, n + 1), np.inf, dtype=dtype)
    table[0, :n] = values
    for k in range(1, levels):
        half = 1 << (k - 1)
        row, prev = table[k], table[k - 1]
        row[:n] = prev[:n]
        if half < n:
            np.minimum(prev[: n - half], prev[half:n], out=row[: n - half])
    return table


def _descend(table: np.ndarray, level: np.ndarray, position: np.ndarray, top: int) -> np.ndarray:
    """Binary descent from window ``2**top``: skip each window that stays above the level.

    Finds the first crossing at or after ``position`` provided it lies within
    ``2**(top + 1) - 1`` bars (beyond that the answer is only a lower bound).
    """
    n = table.shape[1] - 1
    probe = np.empty_like(position)
    clear = np.empty(position.shape, dtype=bool)
    for k in range(top, -1, -1):
        np.minimum(position, n, out=probe)
        np.greater(table[k].take(probe), level, out=clear)
        position += clear.astype(position.dtype) << k
    np.minimum(position, n, out=position)
    return position


def _first_reach(
    table: np.ndarray, suffix_min: np.ndarray, level: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """First index ``j >= start`` with ``reach[j] <= level`` (``n`` if none), on one table."""
    n = table.shape[1] - 1
    level = level.astype(table.dtype)
    position = np.minimum(start, n)
    out = np.full(position.shape, n, dtype=position.dtype)
    # Levels never reached again are answered by the suffix minimum; the rest are bucketed by
    # how far ahead their crossing lies, so a near crossing needs only a short descent.
    pending = np.flatnonzero(suffix_min.take(position) <= level)
    top = table.shape[0] - 1
    for k in (0, 4, 8, 12, 16, top):
        if pending.size == 0:
            break
        k = min(k, top)
        pos = position[pending]
        # Window [pos, pos + 2**(k+1) - 1) is covered by two row-k windows.
        first = table[k].take(pos)
        second = table[k].take(np.minimum(pos + (1 << k), n))
        near = (np.minimum(first, second) <= level[pending]) | (k == top)
        batch = pending[near]
        out[batch] = _descend(table, level[batch], pos[near].copy(), k)
        pending = pending[~near]
    return out


class _Reach:
    """First crossings of many levels on one side, sharing one sparse table.

    ``reach`` is the bar lows for long levels and the negated highs for short
    levels, so that in both cases a level is crossed where ``reach <= level``.

    The descent runs in float32 to halve memory traffic. Rounding to float32 is
    monotone, so a window that is clear in float32 is clear in float64; a float32
    answer can only be early (a tie at float32 resolution). Those few levels are
    checked in float64 and resumed; a second tie falls back to a float64 table.
    """

    def __init__(self, reach: np.ndarray) -> None:
        self.reach = np.asarray(reach, dtype="float64")
        self.n = len(self.reach)
        self.table = _sparse_table(self.reach, "float32")
        self.suffix_min = self._suffix_min("float32")
        self._exact: tuple[np.ndarray, np.ndarray] | None = None

    def _suffix_min(self, dtype: str) -> np.ndarray:
        return np.append(np.minimum.accumulate(self.reach[::-1])[::-1], np.inf).astype(dtype)

    def first(self, level: np.ndarray, start: np.ndarray) -> np.ndarray:
        """First bar ``j >= start`` with ``reach[j] <= level``; ``n`` if none."""
        n = self.n
        index_type = np.int32 if 2 * n < np.iinfo(np.int32).max else np.int64
        start = np.minimum(start, n).astype(index_type)
        position = _first_reach(self.table, self.suffix_min, level, start)
        for attempt in range(2):
            early = np.flatnonzero(position < n)
            early = early[self.reach[position[early]] > level[early]]
            if early.size == 0:
                break
            if attempt == 0:
                table, suffix = self.table, self.suffix_min
            else:
                if self._exact is None:
                    self._exact = (
                        _sparse_table(self.reach, "float64"),
                        self._suffix_min("float64"),
                    )
                table, suffix = self._exact
            position[early] = _first_reach(table, suffix, level[early], position[early] + 1)
        return position.astype("int64")


def first_crossing(
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray,
    price: np.ndarray,
    is_long: np.ndarray,
) -> np.ndarray:
    """First bar at or after ``start`` whose range reaches each level.

    For a long level that is the first bar with ``low <= price``; for a short
    level the first with ``high >= price``. All levels are answered at once: a
    sparse table of running minima (of lows, or of negated highs) over
    power-of-two windows, then a binary descent that skips every window that
    stays clear of the level.

    The descent runs in float32 to halve memory traffic. Rounding to float32 is
    monotone, so a window that is clear in float32 is clear in float64; the
    float32 answer can only be early (a tie at float32 resolution), and those few
    levels are checked in float64 and resumed from there.

    Parameters
    ----------
    low, high : float arrays, shape (N,)
        Bar lows and highs.
    start : int array, shape (M,)
        First bar each level may be reached in (``N`` or more = never).
    price : float array, shape (M,)
        Level prices.
    is_long : bool array, shape (M,)
        Side of each level.

    Returns
    -------
    int64 array, shape (M,)
        The crossing bar, or ``N`` when price never reaches the level.

    Examples
    --------
    >>> low = np.array([10.0, 9.0, 8.0, 9.5]); high = low + 1
    >>> first_crossing(low, high, np.array([0, 2, 0]), np.array([8.5, 9.2, 12.0]),
    ...                np.array([True, True, False])).tolist()
    [2, 2, 4]
    """
    low = np.asarray(low, dtype="float64")
    high = np.asarray(high, dtype="float64")
    start = np.asarray(start, dtype="int64")
    price = np.asarray(price, dtype="float64")
    is_long = np.asarray(is_long, dtype=bool)
    n = len(low)
    out = np.full(len(price), n, dtype="int64")
    if n == 0:
        return out
    for side_long in (True, False):
        idx = np.flatnonzero(is_long == side_long)
        if idx.size == 0:
            continue
        reach = _Reach(low if side_long else -high)
        out[idx] = reach.first(price[idx] if side_long else -price[idx], start[idx])
    return out


# ---------------------------------------------------------------------------
# Grid and book
# ---------------------------------------------------------------------------


def make_grid(
    times: pd.DatetimeIndex,
    low: np.ndarray,
    high: np.ndarray,
    *,
    time_bins: int = 600,
    price_bins: int = 300,
    start: int = 0,
    price_range: tuple[float, float] | None = None,
) -> Grid:
    """Build the time x price grid for bars ``start ..`` of a history.

    Columns group consecutive bars (at most ``time_bins`` columns). The price axis
    spans the window's candles plus a margin of a quarter of their range (at least
    1% of price) on each side, unless ``price_range`` is given.

    Examples
    --------
    >>> t = pd.date_range("2024-01-01", periods=10, freq="1h", tz="UTC")
    >>> g = make_grid(t, np.full(10, 99.0), np.full(10, 101.0), time_bins=4, price_bins=5)
    >>> g.column_end.tolist(), len(g.price_edges)
    ([1, 4, 7, 9], 6)
    """
    n = len(times)
    if not 0 <= start < n:
        msg = f"start bar {start} is outside the history of {n} bars"
        raise ValueError(msg)
    count = n - start
    columns = min(time_bins, count)
    bounds = np.unique(np.round(np.linspace(start, n, columns + 1)).astype("int64"))
    column_end = bounds[1:] - 1
    step = bar_interval(times) if n > 1 else pd.Timedelta(0)
    edges = [*times[bounds[:-1]], times[-1] + step]
    if price_range is None:
        lo = float(np.min(low[start:]))
        hi = float(np.max(high[start:]))
        pad = max(0.25 * (hi - lo), 0.01 * hi)
        lo, hi = max(lo - pad, lo * 0.05), hi + pad
    else:
        lo, hi = (float(v) for v in price_range)
    return Grid(
        column_end=column_end,
        times=pd.DatetimeIndex(times[bounds[:-1]], name="time"),
        time_edges=pd.DatetimeIndex(edges, name="time"),
        price_edges=np.linspace(lo, hi, price_bins + 1),
        start_bar=int(start),
    )


#: How far either side of price :attr:`Estimate.wide_levels` reaches at least, in percent:
#: the Heatmap page's ±20 % "what if" moves plus room for the cascade after them.
WIDE_BOOK_PCT = 50.0


def wide_price_edges(
    price_edges: np.ndarray,
    price: float,
    reach_pct: float = WIDE_BOOK_PCT,
    max_bins: int = 2000,
) -> np.ndarray:
    """Even price edges spanning the grid's range and at least ``±reach_pct`` % around price.

    The grid's own bins are kept (extended outward by the same step) when that takes at
    most ``max_bins`` bins; otherwise the range is split into ``max_bins`` even bins.

    Examples
    --------
    >>> edges = wide_price_edges(np.linspace(95.0, 105.0, 11), 100.0, reach_pct=20.0)
    >>> float(edges[0]), float(edges[-1]), len(edges) - 1, bool(np.isin(95.0, edges))
    (80.0, 120.0, 40, True)
    >>> len(wide_price_edges(np.linspace(99.0, 101.0, 201), 100.0, 50.0, max_bins=100)) - 1
    100
    """
    grid_lo, grid_hi = float(price_edges[0]), float(price_edges[-1])
    lo = max(min(grid_lo, price * (1.0 - reach_pct / 100.0)), 0.0)
    hi = max(grid_hi, price * (1.0 + reach_pct / 100.0))
    step = (grid_hi - grid_lo) / max(len(price_edges) - 1, 1)
    if step > 0:
        lo_aligned = grid_lo - np.ceil((grid_lo - lo) / step - 1e-9) * step
        hi_aligned = grid_hi + np.ceil((hi - grid_hi) / step - 1e-9) * step
        bins = round(float((hi_aligned - lo_aligned) / step))
        if bins <= max_bins and lo_aligned >= 0:
            return np.linspace(lo_aligned, hi_aligned, bins + 1)
    return np.linspace(lo, hi, max_bins + 1)


class _Valuer:
    """Values cohorts at any bar: ``usd · exp(w[k, bar] − w[k, open_bar])`` with 1-D gathers."""

    def __init__(self, cohorts: Cohorts, log_weight: np.ndarray) -> None:
        self.n = log_weight.shape[1]
        self.flat = np.ascontiguousarray(log_weight, dtype="float64").ravel()
        self.row = cohorts.tier * self.n
        with np.errstate(divide="ignore"):
            self.base = np.log(cohorts.usd) - self.flat.take(self.row + cohorts.open_bar)

    def at(self, bar: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """USD of cohorts ``idx`` (all if None) at the close of ``bar`` (>= their opening bar)."""
        if idx is None:
            return np.exp(self.base + self.flat.take(self.row + bar))
        return np.exp(self.base[idx] + self.flat.take(self.row[idx] + bar))


def _subset(cohorts: Cohorts, idx: np.ndarray) -> Cohorts:
    return Cohorts(
        cohorts.open_bar[idx],
        cohorts.tier[idx],
        cohorts.is_long[idx],
        cohorts.liq_price[idx],
        cohorts.usd[idx],
        cohorts.removal_bar[idx],
    )


def _by_side(cohorts: Cohorts) -> list[Cohorts]:
    """Longs then shorts."""
    return [_subset(cohorts, np.flatnonzero(cohorts.is_long == side)) for side in (True, False)]


def bin_index(price_edges: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Bin ``b`` with ``edges[b] <= price < edges[b + 1]``; -1 or P outside.

    Examples
    --------
    >>> bin_index(np.linspace(0.0, 1.0, 11), np.array([-1.0, 0.0, 0.35, 0.999, 1.0])).tolist()
    [-1, 0, 3, 9, 10]
    """
    bins = len(price_edges) - 1
    step = np.diff(price_edges)
    if bins < 2 or np.ptp(step) > 1e-9 * step.mean():
        return np.searchsorted(price_edges, price, side="right") - 1
    # Evenly spaced edges (the grid's): divide, then settle rounding against the edges
    # themselves, so the answer is exactly searchsorted's, several times faster.
    guess = np.floor((price - price_edges[0]) / step.mean())
    guess = np.clip(np.nan_to_num(guess, nan=-1.0), -1, bins).astype("int64")
    guess -= (guess >= 0) & (price < price_edges.take(np.clip(guess, 0, bins)))
    guess += (guess < bins) & (price >= price_edges.take(np.clip(guess + 1, 0, bins)))
    return guess


def _column_of_bar(grid: Grid, n: int) -> np.ndarray:
    """Grid column of every bar 0..n (bars before the grid: 0; bar n, "never": C)."""
    columns = len(grid.column_end)
    widths = np.diff(np.concatenate([[grid.start_bar - 1], grid.column_end]))
    column_of = np.concatenate(
        [np.zeros(grid.start_bar, dtype="int64"), np.repeat(np.arange(columns), widths)]
    )
    return np.concatenate([column_of, np.full(n + 1 - len(column_of), columns)])


def _side_deltas(
    cohorts: Cohorts,
    log_weight: np.ndarray,
    grid: Grid,
    valuer: _Valuer,
    price_bin: np.ndarray,
    column_of: np.ndarray,
) -> np.ndarray:
    """+/- entries (K, C, P) of cohorts of one side: value added at the close of the opening
    column, value removed at the close of the removal column."""
    column_end = grid.column_end
    columns, bins = len(column_end), len(grid.price_edges) - 1
    tiers = log_weight.shape[0]
    opened_col = column_of.take(cohorts.open_bar)
    removed_col = column_of.take(cohorts.removal_bar)
    # Visible if in the price range and still alive at the close of its opening column.
    visible = (price_bin >= 0) & (price_bin < bins) & (removed_col > opened_col)
    visible &= opened_col < columns
    i = np.flatnonzero(visible)
    c0, c1 = opened_col[i], removed_col[i]
    cell = cohorts.tier[i] * (columns * bins) + price_bin[i]
    gone = np.flatnonzero(c1 < columns)
    # One bincount for both: + value at the opening column's close, - at the removal column's.
    index = np.concatenate([cell + c0 * bins, cell[gone] + c1[gone] * bins])
    values = np.concatenate(
        [valuer.at(column_end[c0], i), -valuer.at(column_end[c1[gone]], i[gone])]
    )
    delta = np.bincount(index, values, minlength=tiers * columns * bins)
    return delta.astype("float64", copy=False).reshape(tiers, columns, bins)  # empty -> int


def _carry(delta: np.ndarray, log_weight: np.ndarray, grid: Grid) -> np.ndarray:
    """Book (C, P) from +/- entries: carried column to column, survivors scaled by the weight
    ratio. A loop over screen columns, never bars; every exponent stays non-positive."""
    _, columns, bins = delta.shape
    step = np.exp(np.diff(log_weight[:, grid.column_end], axis=1))  # (K, C-1)
    book = np.empty((columns, bins), dtype="float32")
    state = delta[:, 0, :].copy()
    book[0] = state.sum(axis=0)
    for col in range(1, columns):
        state *= step[:, col - 1, None]
        state += delta[:, col, :]
        book[col] = state.sum(axis=0)
    np.maximum(book, 0.0, out=book)  # cancellation leaves ~1e-9 relative residues
    return book


def _side_at_end(
    cohorts: Cohorts, log_weight: np.ndarray, bins: int, valuer: _Valuer, price_bin: np.ndarray
) -> np.ndarray:
    """Book per tier and price bin (K, P) at the last close for cohorts of one side."""
    tiers, n = log_weight.shape
    i = np.flatnonzero((cohorts.removal_bar >= n) & (price_bin >= 0) & (price_bin < bins))
    values = valuer.at(np.full(i.size, n - 1), i)
    return _binned(cohorts.tier[i], price_bin[i], values, tiers, bins)


def _binned(
    tier: np.ndarray, price_bin: np.ndarray, values: np.ndarray, tiers: int, bins: int
) -> np.ndarray:
    """USD per tier and price bin (K, P); bins outside ``0 .. bins - 1`` are left out."""
    inside = (price_bin >= 0) & (price_bin < bins)
    cell = tier[inside] * bins + price_bin[inside]
    grid = np.bincount(cell, weights=values[inside], minlength=tiers * bins)
    return grid.astype("float64", copy=False).reshape(tiers, bins)


def _side_realized(
    cohorts: Cohorts, log_weight: np.ndarray, valuer: _Valuer, first_bar: int = 0
) -> np.ndarray:
    """USD liquidated per tier and bar (K, N - first_bar) for cohorts of one side opened at or
    after ``first_bar``."""
    tiers, n = log_weight.shape
    span = n - first_bar
    i = np.flatnonzero(cohorts.removal_bar < n)
    removed = cohorts.removal_bar[i]
    # A cohort dies with what it was worth at the previous close (or at birth in its own bar).
    before = np.maximum(removed - 1, cohorts.open_bar[i])
    values = valuer.at(before, i)
    series = np.bincount(
        cohorts.tier[i] * span + (removed - first_bar), weights=values, minlength=tiers * span
    )
    return series.astype("float64", copy=False).reshape(tiers, span)


def book_over_time(
    cohorts: Cohorts, log_weight: np.ndarray, grid: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """USD at risk at the close of each grid column, longs and shorts.

    A cohort opened at bar ``t0`` is worth ``usd · exp(w[k, t] − w[k, t0])`` at the
    close of bar ``t`` until its removal bar, where ``w = log_weight`` is the
    cumulative log survival of tier ``k``.

    Each cohort adds its value at the close of its opening column and subtracts
    its value at the close of its removal column; the book is then carried from
    column to column, survivors scaled by the weight ratio. That carry is a loop
    over the grid's columns (a few hundred), never over bars, and it keeps every
    exponent non-positive so nothing overflows however long the history.

    Parameters
    ----------
    cohorts : Cohorts
    log_weight : float array, shape (K, N)
        Non-increasing in time for each tier.
    grid : Grid

    Returns
    -------
    long, short : float32 arrays, shape (C, P)

    Examples
    --------
    >>> t = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    >>> g = make_grid(t, np.full(4, 99.0), np.full(4, 101.0), time_bins=4, price_bins=2,
    ...               price_range=(90.0, 110.0))
    >>> c = Cohorts(np.array([0]), np.array([0]), np.array([True]), np.array([95.0]),
    ...             np.array([100.0]), np.array([2]))
    >>> long, short = book_over_time(c, np.zeros((1, 4)), g)
    >>> long[:, 0].tolist()
    [100.0, 100.0, 0.0, 0.0]
    """
    column_of = _column_of_bar(grid, log_weight.shape[1])
    long, short = (
        _carry(
            _side_deltas(
                side,
                log_weight,
                grid,
                _Valuer(side, log_weight),
                bin_index(grid.price_edges, side.liq_price),
                column_of,
            ),
            log_weight,
            grid,
        )
        for side in _by_side(cohorts)
    )
    return long, short


def book_at_end(
    cohorts: Cohorts, log_weight: np.ndarray, price_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """USD at risk per tier and price bin at the close of the last bar.

    Returns
    -------
    long, short : float64 arrays, shape (K, P)
    """
    bins = len(price_edges) - 1
    long, short = (
        _side_at_end(
            side,
            log_weight,
            bins,
            _Valuer(side, log_weight),
            bin_index(price_edges, side.liq_price),
        )
        for side in _by_side(cohorts)
    )
    return long, short


def realized_by_bar(cohorts: Cohorts, log_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """USD liquidated in each bar per tier, longs and shorts.

    A cohort liquidated in bar ``j`` loses what it was worth at the close of bar
    ``j − 1`` (or its opening notional if it dies in its opening bar).

    Returns
    -------
    long, short : float64 arrays, shape (K, N)
    """
    long, short = (
        _side_realized(side, log_weight, _Valuer(side, log_weight)) for side in _by_side(cohorts)
    )
    return long, short


def levels_frame(
    long_by_tier: np.ndarray,
    short_by_tier: np.ndarray,
    price_edges: np.ndarray,
    price: float,
    tier_labels: list[str],
) -> pd.DataFrame:
    """The liquidation map at one moment: one row per price bin.

    Columns: ``price`` (bin centre), ``price_low``, ``price_high``, ``long_usd``,
    ``short_usd``, ``long_usd_<tier>`` and ``short_usd_<tier>`` per tier,
    ``cum_long_usd`` (longs liquidated if price falls to this bin: summed from the
    current price downwards) and ``cum_short_usd`` (summed from price upwards). The bin
    that straddles the price counts on both sides.

    Examples
    --------
    >>> edges = np.array([90.0, 95, 100, 105, 110])
    >>> lv = levels_frame(np.array([[1.0, 2, 0, 0]]), np.array([[0.0, 0, 3, 4]]), edges,
    ...                   100.0, ["10x"])
    >>> lv["cum_long_usd"].tolist(), lv["cum_short_usd"].tolist()
    ([3.0, 2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 7.0])
    >>> straddling = levels_frame(np.array([[1.0, 2, 0, 0]]), np.array([[0.0, 0, 3, 4]]),
    ...                           edges, 96.0, ["10x"])
    >>> straddling["cum_long_usd"].tolist(), straddling["cum_short_usd"].tolist()
    ([3.0, 2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 7.0])
    """
    centres = 0.5 * (price_edges[:-1] + price_edges[1:])
    long_usd = long_by_tier.sum(axis=0)
    short_usd = short_by_tier.sum(axis=0)
    frame = pd.DataFrame(
        {
            "price": centres,
            "price_low": price_edges[:-1],
            "price_high": price_edges[1:],
            "long_usd": long_usd,
            "short_usd": short_usd,
        }
    )
    for k, label in enumerate(tier_labels):
        frame[f"long_usd_{label}"] = long_by_tier[k]
    for k, label in enumerate(tier_labels):
        frame[f"short_usd_{label}"] = short_by_tier[k]
    # A bin belongs to a side if any of its prices does: the bin that straddles the price
    # holds longs (just below it) and shorts (just above it), and both count.
    below = price_edges[:-1] < price
    above = price_edges[1:] > price
    # Longs are liquidated as price falls: sum from the current price down to each bin.
    longs_below = np.where(below, long_usd, 0.0)
    frame["cum_long_usd"] = np.where(below, np.cumsum(longs_below[::-1])[::-1], 0.0)
    shorts_above = np.where(above, short_usd, 0.0)
    frame["cum_short_usd"] = np.where(above, np.cumsum(shorts_above), 0.0)
    return frame


def clusters_from_levels(
    levels: pd.DataFrame, price: float, n: int = 5, min_usd: float = 0.0
) -> pd.DataFrame:
    """The ``n`` largest contiguous zones of levels on each side of price.

    A zone is a run of adjacent price bins each holding at least the side's 60th
    percentile of non-empty bins, so that a zone is denser than its surroundings.
    Zones are ranked by total USD; zones below ``min_usd`` are dropped.

    Returns
    -------
    DataFrame
        Columns ``side`` ("long" below price, "short" above), ``price_low``,
        ``price_high``, ``price`` (USD-weighted centre), ``usd``, ``distance_pct``
        (centre relative to the current price, negative below). Largest first per side.

    Examples
    --------
    >>> edges = np.arange(90.0, 111.0, 1.0)
    >>> longs = np.zeros(20); longs[[2, 3, 7]] = [5.0, 6.0, 1.0]
    >>> shorts = np.zeros(20); shorts[15] = 9.0
    >>> lv = levels_frame(longs[None], shorts[None], edges, 100.0, ["10x"])
    >>> clusters_from_levels(lv, 100.0, n=1)[["side", "price_low", "price_high", "usd"]]
        side  price_low  price_high   usd
    0  short      105.0       106.0   9.0
    1   long       92.0        94.0  11.0
    """
    rows = []
    for side, column, mask in (
        ("short", "short_usd", levels["price"].to_numpy() > price),
        ("long", "long_usd", levels["price"].to_numpy() <= price),
    ):
        usd = np.where(mask, levels[column].to_numpy(), 0.0)
        nonzero = usd[usd > 0]
        if nonzero.size == 0:
            continue
        threshold = np.percentile(nonzero, 60) if nonzero.size > 4 else nonzero.min()
        dense = usd >= threshold
        # Runs of dense bins: starts where dense switches on, ends where it switches off.
        change = np.diff(np.concatenate([[0], dense.astype("int8"), [0]]))
        starts, ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
        sums = np.array([usd[s:e].sum() for s, e in zip(starts, ends, strict=True)])
        order = np.argsort(-sums, kind="stable")
        kept = [j for j in order if sums[j] >= min_usd][:n]
        for j in kept:
            s, e = starts[j], ends[j]
            centre = float(np.average(levels["price"].to_numpy()[s:e], weights=usd[s:e]))
            rows.append(
                {
                    "side": side,
                    "price_low": float(levels["price_low"].iloc[s]),
                    "price_high": float(levels["price_high"].iloc[e - 1]),
                    "price": centre,
                    "usd": float(sums[j]),
                    "distance_pct": (centre - price) / price * 100.0,
                }
            )
    columns = ["side", "price_low", "price_high", "price", "usd", "distance_pct"]
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------------
# The estimate
# ---------------------------------------------------------------------------


def _entry_price(market: pd.DataFrame, how: str) -> np.ndarray:
    high, low, close = (market[c].to_numpy() for c in ("high", "low", "close"))
    if how in ("typical", "path"):
        return (high + low + close) / 3.0
    if how == "hl2":
        return (high + low) / 2.0
    return market[how].to_numpy()


def _long_fraction(market: pd.DataFrame, split: str, warnings: list[str]) -> np.ndarray:
    n = len(market)
    if split == "taker":
        if "taker_buy_volume" not in market.columns:
            warnings.append("no taker_buy_volume in the data: longs and shorts split 50/50")
            return np.full(n, 0.5)
        volume = market["volume"].to_numpy()
        buys = market["taker_buy_volume"].to_numpy()
        share = np.divide(buys, volume, out=np.full(n, 0.5), where=volume > 0)
        return np.clip(share, 0.0, 1.0)
    if split == "ratio":
        if "long_short_ratio" not in market.columns:
            warnings.append("no long_short_ratio in the data: longs and shorts split 50/50")
            return np.full(n, 0.5)
        ratio = market["long_short_ratio"].to_numpy()
        return ratio / (1.0 + ratio)
    return np.full(n, 0.5)


def _hazard_per_bar(params: ModelParams, bar_hours: float) -> np.ndarray:
    """Share of each tier's positions that would close per bar by holding time alone (rate)."""
    half_life = params.holding_half_life()
    if half_life is None:  # one closing rate for every leverage (the classic model)
        half_life = np.full(len(params.leverage_tiers), _FLAT_HOLDING_HOURS)
    return np.log(2.0) * bar_hours / half_life


@dataclass(frozen=True)
class _Flows:
    """What a side's book is built from: bar arrays shared by both sides."""

    oi: np.ndarray
    oi_base: np.ndarray  # the previous bar's contracts valued at this bar's close (USD)
    oi_change: np.ndarray  # change of open interest to explain by opens, closes, liquidations
    from_volume: np.ndarray  # USD opened per bar from traded volume (before the side's share)


def _flows(
    market: pd.DataFrame, params: ModelParams, bar_hours: float, warnings: list[str]
) -> _Flows:
    """Open interest bookkeeping and the volume-based opening, per bar."""
    oi = market["open_interest"].to_numpy()
    close = market["close"].to_numpy()
    prev = np.concatenate([[oi[0]], oi[:-1]])
    no_oi = not np.any(oi > 0)
    if no_oi:
        warnings.append(
            "open interest is zero throughout: closes cannot be inferred, positions only "
            "leave the book when liquidated, and a share of the traded notional "
            "(volume_open_share) opens them"
        )
    if params.closes_net_of_liquidations:
        # Count contracts, not dollars: a price move alone neither opens nor closes anything.
        prev_close = np.concatenate([[close[0]], close[:-1]])
        base = prev * close / prev_close
    else:
        base = prev
    change = oi - base
    change[np.abs(change) <= 1e-9 * np.abs(base)] = 0.0  # rounding of the price rescaling
    entry = _entry_price(market, params.entry)
    volume = market["volume"].to_numpy()
    if params.volume_scale == "notional" or no_oi:
        from_volume = volume * entry * params.volume_open_share
    else:
        # Volume says *when* positions open, open interest and holding times say *how much*:
        # in a steady book what opens per bar replaces what closes, OI / mean lifetime. Volume
        # and open interest may come from different venues; only volume's ups and downs count.
        notional = volume * close
        bars = max(params.volume_window_hours / bar_hours, 1.0)
        average = pd.Series(notional).ewm(halflife=bars, adjust=True).mean().to_numpy()
        relative = np.divide(notional, average, out=np.zeros_like(notional), where=average > 0)
        rate = _hazard_per_bar(params, bar_hours)
        lifetime_bars = float(np.sum(params.normalized_weights() / rate))
        from_volume = prev * relative / lifetime_bars
    return _Flows(oi=oi, oi_base=base, oi_change=change, from_volume=from_volume)


def _side_opened(
    flows: _Flows, params: ModelParams, share: np.ndarray, liquidated: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """USD opened per bar on one side and the share of its book closed in each bar.

    Closes are what open interest implies once this bar's openings and (when
    ``closes_net_of_liquidations``) the model's own liquidations are accounted for.
    """
    if params.closes_net_of_liquidations:
        from_oi = np.maximum(flows.oi_change + liquidated, 0.0)
    else:
        from_oi = np.maximum(flows.oi_change, 0.0)
        liquidated = np.zeros_like(liquidated)
    from_oi[0] = 0.0
    if params.opening == "oi":
        opened = from_oi
    elif params.opening == "volume":
        opened = flows.from_volume
    else:
        opened = params.volume_weight * flows.from_volume + (1 - params.volume_weight) * from_oi
    # Classic: both sides share one close rate, from everything that opened.
    basis = opened * share if params.closes_net_of_liquidations else opened
    opened = opened * share
    base = flows.oi_base
    closed = np.divide(
        basis - liquidated - flows.oi_change, base, out=np.zeros_like(base), where=base > 0
    )
    closed = np.clip(closed, 0.0, 1.0)
    closed[0] = 0.0
    return opened, closed


def _book_mix(
    params: ModelParams,
    rate: np.ndarray,
    opened: np.ndarray,
    liquidated_by_tier: np.ndarray | None,
) -> np.ndarray:
    """Share of each tier in the book at the close of the previous bar, (K, N) or (K, 1).

    Without liquidations: the steady mix, weight / closing rate. With them: what each tier
    opened less what it lost, aged at its own closing rate (an exponential moving sum).
    """
    weights = params.normalized_weights()
    steady = weights / rate
    n = len(opened)
    if liquidated_by_tier is None:  # the same in every bar: (K, 1) broadcasts
        return (steady / steady.sum())[:, None]
    mix = np.empty((len(weights), n))
    for k in range(len(weights)):
        alpha = 1.0 - np.exp(-rate[k])
        net = opened * weights[k] - liquidated_by_tier[k]
        mix[k] = pd.Series(net).ewm(alpha=alpha, adjust=False).mean().to_numpy() / alpha
    np.maximum(mix, 0.0, out=mix)
    mix[:, 1:] = mix[:, :-1]  # the mix a bar starts with: the previous close's
    mix[:, 0] = steady
    total = mix.sum(axis=0)
    empty = total <= 0
    mix /= np.where(empty, 1.0, total)
    if empty.any():
        mix[:, empty] = (steady / steady.sum())[:, None]
    return mix


def _log_weight(
    closed: np.ndarray, mix: np.ndarray, params: ModelParams, rate: np.ndarray, bar_hours: float
) -> np.ndarray:
    """Cumulative log share of each tier's positions still open, (K, N).

    The bar's closes are shared across tiers by their closing rate: tier ``k`` keeps
    ``1 − closed · r_k / Σ_j mix_j r_j`` so that the book as a whole loses ``closed``.
    """
    tiers = len(params.leverage_tiers)
    if params.holding_hours is None:
        weight = np.repeat(closed[None, :], tiers, axis=0)
    else:
        mean_rate = rate @ mix  # (N,), or (1,) for a steady mix
        weight = np.multiply.outer(rate, closed / mean_rate)
    # The survival 1 - closes, in place: these (K, N) arrays are the engine's largest.
    np.subtract(1.0, weight, out=weight)
    # A survival of exactly 0 would make log weights -inf; 1e-12 is "all closed" in USD terms.
    np.clip(weight, 1e-12, 1.0, out=weight)
    weight[:, 0] = 1.0
    np.log(weight, out=weight)
    np.cumsum(weight, axis=1, out=weight)
    if params.half_life_hours is not None:
        bars = np.arange(len(closed), dtype="float64")
        for k, half_life in enumerate(params.half_life_hours):
            if half_life is not None:
                weight[k] -= np.log(2.0) * bars * bar_hours / half_life
    return weight


#: Half-life of every position when the model has no holding times (only to scale volume).
_FLAT_HOLDING_HOURS = 48.0
#: Low-discrepancy steps (golden ratio, silver ratio, plastic number) for the sampled leverage,
#: margin buffer and entry point: neighbouring bars fill in each other's gaps.
_STEPS = (0.6180339887498949, 0.41421356237309515, 0.7548776662466927)
#: Cohorts per side the engine aims at: sets how finely each band is sampled (1 to 16 strata).
_COHORT_BUDGET = 1 << 19
_MAX_STRATA = 16


def strata_per_band(params: ModelParams, bars: int) -> int:
    """How many cohorts each bar opens per leverage band and side.

    The continuous leverage, the cross-margin buffer and the entry point along the bar
    are sampled with this many stratified points per bar, jittered from bar to bar, so
    that a long history costs no more than :data:`_COHORT_BUDGET` cohorts per side and
    a short one is sampled finely.

    Examples
    --------
    >>> strata_per_band(ModelParams(), 1_000), strata_per_band(ModelParams(), 525_600)
    (16, 1)
    >>> strata_per_band(ModelParams.classic(), 1_000), strata_per_band(ModelParams(strata=4), 9)
    (1, 4)
    """
    sampled = params.leverage_spread or params.cross_share > 0 or params.entry == "path"
    if not sampled:
        return 1
    if params.strata is not None:
        return params.strata
    per_bar = _COHORT_BUDGET // max(len(params.leverage_tiers) * bars, 1)
    return int(np.clip(per_bar, 1, _MAX_STRATA))


@dataclass(frozen=True)
class BarPath:
    """Each bar's assumed path open → first extreme → second extreme → close.

    A bar that closes up most likely fell first (open → low → high → close), one that
    closes down rose first; new positions enter along it (``ModelParams.entry = "path"``).

    Examples
    --------
    >>> bars = pd.DataFrame({"open": [100.0], "high": [104.0], "low": [98.0], "close": [103.0]})
    >>> BarPath.of(bars).start[:, 0].tolist()
    [100.0, 98.0, 104.0, 103.0]
    """

    start: np.ndarray  # (4, N): the four vertices
    length: np.ndarray  # (3, N): leg lengths
    low_after: np.ndarray  # (3, N): lowest vertex after each leg's start
    high_after: np.ndarray  # (3, N): highest vertex after each leg's start

    @classmethod
    def of(cls, market: pd.DataFrame) -> BarPath:
        o, h, lo, c = (market[col].to_numpy() for col in ("open", "high", "low", "close"))
        # A bar that closes up most likely fell first (open → low → high → close); one that
        # closes down rose first (open → high → low → close).
        up = c >= o
        first, second = np.where(up, lo, h), np.where(up, h, lo)
        vertices = np.stack([o, first, second, c])
        low_after = np.empty((3, len(o)))
        high_after = np.empty((3, len(o)))
        for tail, pick in ((low_after, np.minimum), (high_after, np.maximum)):
            tail[2] = c
            pick(second, c, out=tail[1])
            pick(first, tail[1], out=tail[0])
        return cls(vertices, np.abs(np.diff(vertices, axis=0)), low_after, high_after)

    def entry(self, bar: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Price at ``where`` (0-1 of the path's length) and the leg (0, 1, 2) it lies on."""
        n = self.start.shape[1]
        first, second = self.length[0].take(bar), self.length[1].take(bar)
        both = first + second
        travelled = where * (both + self.length[2].take(bar))
        leg = (travelled >= first).astype("int64") + (travelled >= both)
        done = np.where(leg == 0, 0.0, np.where(leg == 1, first, both))
        flat = self.start.ravel()
        at = leg * n + bar
        start, end = flat.take(at), flat.take(at + n)
        span = end - start
        step = np.minimum(travelled - done, np.abs(span))
        return start + np.copysign(step, span), leg

    def extreme_after(self, bar: np.ndarray, leg: np.ndarray, is_long: bool) -> np.ndarray:
        """Lowest (longs) or highest (shorts) price of the bar after a point on ``leg``."""
        tail = self.low_after if is_long else self.high_after
        return tail.ravel().take(leg * tail.shape[1] + bar)


def _model_cohorts(
    bars: slice,
    params: ModelParams,
    entry: np.ndarray,
    is_long: bool,
    reach: _Reach,
    close: np.ndarray,
    path: BarPath | None,
    strata: int,
) -> Cohorts:
    """Cohorts opened in ``bars`` for one side, per tier band and stratum, with removal bars.

    ``usd`` holds each cohort's share of its bar's opened USD (the weight of its band over
    the strata); the caller scales it by what the bar opened.
    """
    tiers = np.asarray(params.leverage_tiers, dtype="float64")
    k_count = len(tiers)
    first, last = bars.start, bars.stop
    per_bar = k_count * strata
    open_bar = np.repeat(np.arange(first, last, dtype="int64"), per_bar)
    tier = np.tile(np.repeat(np.arange(k_count, dtype="int64"), strata), last - first)
    usd = (params.normalized_weights() / strata)[tier]
    keep = np.flatnonzero(usd > 0)
    if keep.size < usd.size:
        open_bar, tier, usd = open_bar[keep], tier[keep], usd[keep]
    if strata == 1 and not params.leverage_spread and params.cross_share == 0:
        leverage = tiers[tier]
        buffer = 0.0
    else:
        t = open_bar.astype("float64")
        band_step = (np.arange(k_count) * _STEPS[2]).take(tier)
        if strata == 1:
            stratum = 0.0
            u = np.modf(t * _STEPS[0] + band_step)[0]
        else:
            stratum = np.tile(np.arange(strata, dtype="float64"), (last - first) * k_count)
            if keep.size < stratum.size:
                stratum = stratum[keep]
            # Stratified over the strata of a bar, jittered from bar to bar and band to band.
            u = (stratum + np.modf(t * _STEPS[0] + band_step)[0]) / strata
        share = params.cross_share
        cross = u < share
        q = np.where(cross, np.modf(t * _STEPS[1] + stratum * _STEPS[0])[0], 0.0)
        if share < 1:
            q = np.where(cross, q, (u - share) / (1.0 - share))
        if params.leverage_spread:
            low, high = params.leverage_bands()
            log_low, log_span = np.log(low), np.log(high / low)
            leverage = np.exp(log_low.take(tier) + q * log_span.take(tier))
        else:
            leverage = tiers[tier]
        lo_buf, hi_buf = params.cross_buffer
        spread = np.divide(u, share if share > 0 else 1.0) * (hi_buf - lo_buf)
        buffer = np.where(cross, lo_buf + spread, 0.0)
    if path is not None:
        if strata == 1:
            where = np.modf(open_bar * _STEPS[2] + (np.arange(k_count) * _STEPS[1]).take(tier))[0]
        else:
            where = np.modf(stratum * _STEPS[0] + open_bar * _STEPS[2] + 0.5 / strata)[0]
        entry_price, leg = path.entry(open_bar, where)
    else:
        entry_price = entry[open_bar]
    side = "long" if is_long else "short"
    liq = liquidation_price(entry_price, leverage, side, params.mmr, buffer)
    level = liq if is_long else -liq
    if not params.liquidate_in_opening_bar:
        # Only the opening bar's close surely came after the entry.
        dies = close[open_bar] <= liq if is_long else close[open_bar] >= liq
    elif path is not None:
        # Only the part of the bar's path after the entry can liquidate it.
        after = path.extreme_after(open_bar, leg, is_long)
        dies = after <= liq if is_long else after >= liq
    else:
        removal = reach.first(level, open_bar)
        return Cohorts(open_bar, tier, np.full(usd.size, is_long), liq, usd, removal)
    removal = np.array(open_bar)
    alive = np.flatnonzero(~dies)
    removal[alive] = reach.first(level[alive], open_bar[alive] + 1)
    return Cohorts(open_bar, tier, np.full(usd.size, is_long), liq, usd, removal)


#: Bars per chunk of cohorts: keeps the working set in cache and memory flat for long histories.
_CHUNK_BARS = 1 << 15


@dataclass(frozen=True)
class _Stored:
    """Cohorts of one chunk kept between passes, compactly (the share is the tier's)."""

    open_bar: np.ndarray  # int32
    tier: np.ndarray  # int8
    liq_price: np.ndarray  # float64
    removal_bar: np.ndarray  # int32
    is_long: bool

    @classmethod
    def of(cls, cohorts: Cohorts, is_long: bool) -> _Stored:
        return cls(
            cohorts.open_bar.astype("int32"),
            cohorts.tier.astype("int8"),
            cohorts.liq_price,
            cohorts.removal_bar.astype("int32"),
            is_long,
        )

    def valued(self, share: np.ndarray, opened: np.ndarray) -> Cohorts:
        """Cohorts in USD: the tier's share of the bar (``share[k]``) times what it opened."""
        open_bar = self.open_bar.astype("int64")
        tier = self.tier.astype("int64")
        usd = share.take(tier) * opened.take(open_bar)
        flags = np.full(open_bar.size, self.is_long)
        return Cohorts(open_bar, tier, flags, self.liq_price, usd, self.removal_bar.astype("int64"))


def estimate(
    market: pd.DataFrame,
    params: ModelParams | None = None,
    *,
    start: pd.Timestamp | str | None = None,
) -> Estimate:
    """Estimate liquidation levels from a market frame.

    Parameters
    ----------
    market : DataFrame
        A market frame (see :mod:`liqcore.market`).
    params : ModelParams, optional
        The assumptions; defaults to ``ModelParams()``.
    start : Timestamp or str, optional
        First time shown on the heatmap. Positions opened earlier still count (a
        warm-up), so a short view is not empty at its left edge.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> market = simulate(days=2, interval="15m", seed=1).market
    >>> est = estimate(market)
    >>> est.heatmap.long.dtype, est.heatmap.long.shape[1] == ModelParams().price_bins
    (dtype('float32'), True)
    >>> bool((est.levels.loc[est.levels.price_low >= est.price, "long_usd"] == 0).all())
    True
    """
    params = params or ModelParams()
    market = validate_market(market)
    warnings: list[str] = plausibility_warnings(market)
    n = len(market)
    low = market["low"].to_numpy()
    high = market["high"].to_numpy()
    close = market["close"].to_numpy()
    entry = _entry_price(market, params.entry)
    bar_hours = bar_interval(market).total_seconds() / 3600.0
    flows = _flows(market, params, bar_hours, warnings)
    long_fraction = _long_fraction(market, params.split, warnings)
    rate = _hazard_per_bar(params, bar_hours)
    path = BarPath.of(market) if params.entry == "path" else None
    strata = strata_per_band(params, n)
    grid = make_grid(
        market.index,
        low,
        high,
        time_bins=params.time_bins,
        price_bins=params.price_bins,
        start=_first_shown_bar(market.index, start),
        price_range=params.price_range,
    )
    column_of = _column_of_bar(grid, n)
    price = float(close[-1])
    wide_edges = wide_price_edges(grid.price_edges, price)

    def one_side(side_long: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        share = 2.0 * long_fraction if side_long else 2.0 * (1.0 - long_fraction)
        chunks = _side_chunks(side_long, low, high, close, entry, path, params, strata)
        return _side_book(
            chunks, share, params, flows, rate, bar_hours, strata, grid, column_of, wide_edges
        )

    # Longs and shorts are independent; numpy releases the GIL, so both cores work.
    with ThreadPoolExecutor(max_workers=2) as pool:
        longs, shorts = pool.map(one_side, (True, False))
    (long_grid, long_end, realized_long, long_wide) = longs
    (short_grid, short_end, realized_short, short_wide) = shorts
    labels = params.tier_labels()
    return Estimate(
        heatmap=Heatmap(grid=grid, long=long_grid, short=short_grid),
        levels=levels_frame(long_end, short_end, grid.price_edges, price, labels),
        wide_levels=levels_frame(long_wide, short_wide, wide_edges, price, labels),
        realized=_realized_frame(realized_long, realized_short, labels, market.index),
        price=price,
        params=params,
        warnings=warnings,
    )


def _first_shown_bar(index: pd.DatetimeIndex, start: pd.Timestamp | str | None) -> int:
    """The bar the heatmap starts at: the first at or after ``start`` (naive times are UTC)."""
    if start is None:
        return 0
    start_ts = pd.Timestamp(start)
    start_ts = start_ts.tz_localize("UTC") if start_ts.tz is None else start_ts
    return int(min(index.searchsorted(start_ts), len(index) - 1))


def _side_chunks(
    is_long: bool,
    low: np.ndarray,
    high: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    path: BarPath | None,
    params: ModelParams,
    strata: int,
) -> list[_Stored]:
    """One side's cohorts with their first crossings, chunk by chunk, stored compactly.

    The crossing tables (the largest arrays of an estimate) are freed on return: the
    passes over the book need only the stored liquidation prices and removal bars.
    """
    n = len(close)
    reach = _Reach(low if is_long else -high)
    return [
        _Stored.of(
            _model_cohorts(
                slice(first, min(first + _CHUNK_BARS, n)),
                params,
                entry,
                is_long,
                reach,
                close,
                path,
                strata,
            ),
            is_long,
        )
        for first in range(0, n, _CHUNK_BARS)
    ]


def _side_book(
    chunks: list[_Stored],
    share: np.ndarray,
    params: ModelParams,
    flows: _Flows,
    rate: np.ndarray,
    bar_hours: float,
    strata: int,
    grid: Grid,
    column_of: np.ndarray,
    wide_edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One side's heatmap, book at the last close (grid bins, wide bins) and realized USD.

    ``share`` is twice the side's fraction of new notional per bar. With closes net of
    the model's own liquidations, the book depends on what it liquidates: one
    fixed-point step (estimate the liquidations, then the book again).
    """
    n = len(flows.oi)
    tiers = len(params.leverage_tiers)
    bins = len(grid.price_edges) - 1
    wide_bins = len(wide_edges) - 1
    passes = 2 if params.closes_net_of_liquidations or params.holding_hours is not None else 1
    tier_share = params.normalized_weights() / strata
    realized = None
    for step in range(passes):
        liquidated = np.zeros(n) if realized is None else realized.sum(axis=0)
        opened, closed = _side_opened(flows, params, share, liquidated)
        mix = _book_mix(params, rate, opened, realized)
        log_weight = _log_weight(closed, mix, params, rate, bar_hours)
        del mix
        last = step == passes - 1
        realized = np.zeros((tiers, n))
        if last:
            delta = np.zeros((tiers, len(grid.column_end), bins))
            at_end = np.zeros((tiers, bins))
            at_wide = np.zeros((tiers, wide_bins))
        for chunk in chunks:
            cohorts = chunk.valued(tier_share, opened)
            first = int(chunk.open_bar[0]) if chunk.open_bar.size else n
            valuer = _Valuer(cohorts, log_weight)
            if cohorts.open_bar.size:
                realized[:, first:] += _side_realized(cohorts, log_weight, valuer, first)
            if last:
                price_bin = bin_index(grid.price_edges, cohorts.liq_price)
                delta += _side_deltas(cohorts, log_weight, grid, valuer, price_bin, column_of)
                # The book at the last close, on the grid's bins and on the wide ones.
                alive = np.flatnonzero(cohorts.removal_bar >= n)
                values = valuer.at(np.full(alive.size, n - 1), alive)
                tier = cohorts.tier[alive]
                at_end += _binned(tier, price_bin[alive], values, tiers, bins)
                wide_bin = bin_index(wide_edges, cohorts.liq_price[alive])
                at_wide += _binned(tier, wide_bin, values, tiers, wide_bins)
    return _carry(delta, log_weight, grid), at_end, realized, at_wide


def _realized_frame(
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    labels: list[str],
    index: pd.DatetimeIndex,
) -> pd.DataFrame:
    """USD liquidated per bar, both sides in total and per tier (``long_usd_<L>x``)."""
    realized = pd.DataFrame(
        {"long_usd": realized_long.sum(axis=0), "short_usd": realized_short.sum(axis=0)},
        index=index,
    )
    for k, label in enumerate(labels):
        realized[f"long_usd_{label}"] = realized_long[k]
        realized[f"short_usd_{label}"] = realized_short[k]
    return realized


#: What each field of :class:`ModelParams` assumes, in words (the "Model assumptions" table).
ASSUMPTIONS: dict[str, str] = {
    "opening": "where new positions come from: rising open interest, traded volume, or a mix",
    "volume_weight": "share of the volume estimate in the mix (the rest from rising OI)",
    "volume_open_share": "share of traded notional that opens positions (volume_scale notional)",
    "split": "how new notional splits into longs and shorts",
    "leverage_tiers": "leverage tiers; each stands for a band of leverage around it",
    "tier_weights": "share of new notional in each tier's band",
    "mmr": "maintenance margin rate",
    "entry": "entry price: along the bar's path (open, extremes, close) or one price per bar",
    "liquidate_in_opening_bar": "the opening bar may liquidate (after the entry, on its path)",
    "half_life_hours": "extra fading per tier, on top of the closes open interest implies",
    "leverage_spread": "leverage spread continuously (log-uniform) over each tier's band",
    "leverage_range": "lowest and highest leverage traders use (outer band edges)",
    "cross_share": "share of new notional in cross-margin accounts",
    "cross_buffer": "a cross-margin position's extra margin, uniform in this range of notional",
    "holding_hours": "holding half-life at 10x, hours (None: one close rate for all leverage)",
    "holding_exponent": "half-life scales as (10 / leverage) to this power",
    "closes_net_of_liquidations": "closes = what OI implies after the model's own liquidations",
    "volume_scale": "volume says when; open interest and holding times (or notional) how much",
    "volume_window_hours": "half-life of the volume average that volume is compared with",
    "strata": "sampled points per bar and band (None: as many as the history allows, 1-16)",
    "time_bins": "heatmap time columns (at most)",
    "price_bins": "heatmap price bins",
    "price_range": "price axis (None: the candles plus a margin)",
}


def assumptions_table(params: ModelParams) -> pd.DataFrame:
    """Every assumption of an estimate with its value and meaning, one row per field.

    Examples
    --------
    >>> table = assumptions_table(ModelParams())
    >>> table.loc["cross_share", "value"], table.loc["holding_hours", "value"]
    ('0.5', '48')
    >>> len(table) == len(ASSUMPTIONS)
    True
    """
    rows = {}
    for item in fields(params):
        value = getattr(params, item.name)
        if isinstance(value, tuple):
            shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = str(value)
        rows[item.name] = {"value": shown, "meaning": ASSUMPTIONS.get(item.name, "")}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("assumption")


def with_params(params: ModelParams, **changes: object) -> ModelParams:
    """Return a copy of ``params`` with some fields changed (validated again).

    Examples
    --------
    >>> with_params(ModelParams(), mmr=0.005).mmr
    0.005
    """
    return replace(params, **changes)
