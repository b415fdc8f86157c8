"""Do magnets pull price? The largest cluster's hit rate against a same-distance base rate.

Traders say price is drawn to big liquidation clusters. This tests it on the data in
view: at each time column of an estimate, take the largest estimated cluster on each side
of price (the USD-heaviest price bin between :data:`MIN_DISTANCE_PCT` and
:data:`MAX_DISTANCE_PCT` away) and ask whether price reached it within ``H`` hours; the
base rate is how often price reached the level **at the same distance on the other side**
(the mirror level), which a magnet-free market reaches about as often. The difference
gets a bootstrap confidence interval over days (days are resampled whole, since the
windows of one day overlap). After a touch, the move over the next ``H`` hours in the
direction of the approach tells whether the cluster's liquidations carried price on (a
cascade) or it turned (a "liquidity grab"), against the same after touching the mirror.
The move is measured from the touched level to the close ``H`` hours later; a wick that
just touches a level usually closes back inside, so both moves lean towards "turned
back" by the same amount. Cluster and mirror share that bias, which is why only their
comparison is read, and only with at least :data:`MIN_TOUCHES` touches on each side.

Published work finds the effect small and often within noise; the verdict says whichever
way it falls. Limits: the clusters are estimates; the columns overlap in time, so the
events are not independent beyond what the day-block bootstrap allows for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from liqcore.market import bar_interval
from liqcore.model import Estimate

__all__ = [
    "MAX_DISTANCE_PCT",
    "MIN_DISTANCE_PCT",
    "MIN_TOUCHES",
    "MagnetTest",
    "magnet_study",
    "magnet_test",
]

#: A cluster nearer than this (percent of price) is touched by noise alone: left out.
MIN_DISTANCE_PCT = 0.25


#: A cluster further than this is not what a trader watches over hours or days.
MAX_DISTANCE_PCT = 15.0


#: Fewer touches than this on either side (cluster or mirror): no claim about the move after.
MIN_TOUCHES = 10


@dataclass(frozen=True)
class MagnetTest:
    """How often price reached the largest clusters, against the mirror levels.

    Attributes
    ----------
    horizon_hours : float
    events : int
        Cluster/mirror pairs tested (up to two per time column: one per side).
    days : int
        Days the events come from (the bootstrap's blocks).
    cluster_rate, mirror_rate : float
        Share of events in which price reached the cluster / the mirror level.
    difference, difference_low, difference_high : float
        ``cluster_rate - mirror_rate`` and its 95 % bootstrap interval (fractions).
    cluster_touches, mirror_touches : int
        Touches with a full horizon after them.
    move_after_cluster, move_after_mirror : float
        Mean move (percent) over the horizon after a touch, in the direction price was
        going (positive = it carried on, negative = it turned back). NaN without touches.
    move_difference_low, move_difference_high : float
        95 % bootstrap interval of ``move_after_cluster - move_after_mirror``.
    """

    horizon_hours: float
    events: int
    days: int
    cluster_rate: float
    mirror_rate: float
    difference: float
    difference_low: float
    difference_high: float
    cluster_touches: int
    mirror_touches: int
    move_after_cluster: float
    move_after_mirror: float
    move_difference_low: float
    move_difference_high: float

    @property
    def verdict(self) -> str:
        """The finding in words, whichever way it falls."""
        if self.events == 0:
            return "Not enough history with clusters to test anything here."
        rates = (
            f"price reached the largest cluster within {self.horizon_hours:g} h in "
            f"{self.cluster_rate:.0%} of {self.events:,} cases, a level as far away on the other "
            f"side in {self.mirror_rate:.0%} (difference {100 * self.difference:+.1f} points, "
            f"95% interval {100 * self.difference_low:+.1f} to {100 * self.difference_high:+.1f}, "
            f"over {self.days} days)"
        )
        if self.difference_low > 0:
            head = f"Here, clusters did attract price: {rates}."
        elif self.difference_high < 0:
            head = f"Here, price reached clusters *less* often than the base rate: {rates}."
        else:
            head = f"No evidence here that clusters attract price: {rates}, within the noise."
        touches_c, touches_m = self.cluster_touches, self.mirror_touches
        if touches_c == 0 or touches_m == 0:
            which = (
                "neither a cluster nor an empty level"
                if touches_c == touches_m == 0
                else "no cluster"
                if touches_c == 0
                else "no empty (mirror) level"
            )
            return (
                f"{head} Price touched {which} within {self.horizon_hours:g} h: no touches, so "
                "there is no move after a touch to compare."
            )
        moves = (
            f"{self.move_after_cluster:+.2f}% after {_touches(touches_c, 'cluster ')} vs "
            f"{self.move_after_mirror:+.2f}% after {_touches(touches_m, 'empty-level ')} over "
            f"the next {self.horizon_hours:g} h, in the direction of the approach"
        )
        if min(touches_c, touches_m) < MIN_TOUCHES:
            return (
                f"{head} Too few touches to tell whether price carried on or turned back after "
                f"a cluster ({moves}; at least {MIN_TOUCHES} of each are needed)."
            )
        if self.move_difference_low > 0:
            after = "after touching a cluster price carried on further than after an empty level"
        elif self.move_difference_high < 0:
            after = "after touching a cluster price turned back more than after an empty level"
        else:
            after = "the move after touching a cluster was no different from after an empty level"
        return f"{head} {after[0].upper()}{after[1:]} ({moves})."

    def touches_label(self, *, cluster: bool = True) -> str:
        """How many touches the move after the clusters (or the mirrors) rests on, in words.

        Examples
        --------
        >>> nan = float("nan")
        >>> MagnetTest(8.0, 9, 1, 0.1, 0.1, 0, 0, 0, 1, 12, 0.2, 0.1, nan, nan).touches_label()
        '1 touch'
        """
        return _touches(self.cluster_touches if cluster else self.mirror_touches)

    def move_label(self, *, cluster: bool = True, count: bool = True) -> str:
        """The mean move after touching the clusters (or the mirrors), with its touch count.

        Parameters
        ----------
        cluster : bool
            The clusters' figure; ``False`` for the mirror levels'.
        count : bool
            Add the number of touches behind the figure.

        Returns
        -------
        str
            ``"+0.42% (57 touches)"``, or ``"no touches"`` when there were none.

        Examples
        --------
        >>> nan = float("nan")
        >>> empty = MagnetTest(72.0, 10, 2, 0.0, 0.1, -0.1, -0.3, 0.1, 0, 1, nan, 0.5, nan, nan)
        >>> empty.move_label(), empty.move_label(cluster=False)
        ('no touches', '+0.50% (1 touch)')
        >>> empty.move_label(cluster=False, count=False)
        '+0.50%'
        """
        move, touches = (
            (self.move_after_cluster, self.cluster_touches)
            if cluster
            else (self.move_after_mirror, self.mirror_touches)
        )
        if touches == 0 or not np.isfinite(move):
            return "no touches"
        if not count:
            return f"{move:+.2f}%"
        return f"{move:+.2f}% ({self.touches_label(cluster=cluster)})"


def _touches(count: int, kind: str = "") -> str:
    """``"1 cluster touch"``, ``"57 cluster touches"``."""
    return f"{count:,} {kind}touch{'' if count == 1 else 'es'}"


def _largest_cluster(
    book: np.ndarray, prices: np.ndarray, price: np.ndarray, below: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the price of the USD-heaviest bin on one side within the distance band."""
    distance = (prices[None, :] - price[:, None]) / price[:, None] * 100.0
    side = -distance if below else distance
    allowed = (side >= MIN_DISTANCE_PCT) & (side <= MAX_DISTANCE_PCT) & (book > 0)
    masked = np.where(allowed, book, -1.0)
    best = masked.argmax(axis=1)
    found = masked[np.arange(len(best)), best] > 0
    return prices[best], found


def _first_true(hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether any is True, and the index of the first True."""
    return hit.any(axis=1), hit.argmax(axis=1)


def magnet_test(
    long_book: np.ndarray,
    short_book: np.ndarray,
    prices: np.ndarray,
    column_end: np.ndarray,
    bars: pd.DataFrame,
    horizon_bars: int,
    *,
    horizon_hours: float | None = None,
    boot: int = 2000,
    seed: int = 0,
) -> MagnetTest:
    """The magnet test on arrays: books per time column and the bars after them.

    Parameters
    ----------
    long_book, short_book : ndarray, shape (C, P)
        USD of long / short levels per time column and price bin.
    prices : ndarray, shape (P,)
        Price bin centres.
    column_end : ndarray of int, shape (C,)
        Bar index (into ``bars``) at which each column's book is read.
    bars : DataFrame
        ``high``, ``low``, ``close`` per bar, indexed by time.
    horizon_bars : int
        Bars after the column in which a level counts as reached (and after a touch,
        over which the move is measured).
    horizon_hours : float, optional
        The horizon in hours, for the verdict (default: from the bar interval).
    boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    MagnetTest

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = pd.date_range("2026-01-01", periods=2000, freq="1h", tz="UTC")
    >>> close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, 2000)))
    >>> bars = pd.DataFrame({"high": close * 1.001, "low": close * 0.999, "close": close}, t)
    >>> prices = np.linspace(80, 130, 251)
    >>> ends = np.arange(0, 1900, 6)
    >>> book = rng.random((len(ends), 251))  # clusters anywhere: nothing to find
    >>> result = magnet_test(book, book, prices, ends, bars, horizon_bars=24)
    >>> result.difference_low < 0 < result.difference_high
    True
    """
    if horizon_bars < 1:
        msg = f"the horizon must be at least one bar, got {horizon_bars}"
        raise ValueError(msg)
    high = bars["high"].to_numpy(dtype="float64")
    low = bars["low"].to_numpy(dtype="float64")
    close = bars["close"].to_numpy(dtype="float64")
    n, h = len(close), int(horizon_bars)
    if horizon_hours is None:
        horizon_hours = h * bar_interval(bars).total_seconds() / 3600.0
    column_end = np.asarray(column_end, dtype="int64")
    # A full horizon after the column, and a second one after any touch inside it.
    keep = column_end + 2 * h < n
    column_end = column_end[keep]
    level, mirror, direction, column = _cluster_events(
        np.asarray(long_book)[keep], np.asarray(short_book)[keep], prices, close[column_end]
    )
    read_at = column_end[column]  # the bar at which each event's book is read
    start = read_at + 1
    pad = np.full(2 * h, np.nan)
    lows = sliding_window_view(np.concatenate([low, pad]), h)[start]
    highs = sliding_window_view(np.concatenate([high, pad]), h)[start]
    falls = direction < 0
    cluster_hit, cluster_at = _first_true(
        np.where(falls[:, None], lows <= level[:, None], highs >= level[:, None])
    )
    mirror_hit, mirror_at = _first_true(
        np.where(falls[:, None], highs >= mirror[:, None], lows <= mirror[:, None])
    )
    after_cluster = close[np.minimum(start + cluster_at + h, n - 1)]
    after_mirror = close[np.minimum(start + mirror_at + h, n - 1)]
    cluster_move = _move_on(after_cluster, level, direction)
    mirror_move = _move_on(after_mirror, mirror, -direction)  # the mirror lies the other way
    return _day_bootstrap(
        horizon_hours,
        bars.index[read_at],
        (cluster_hit, cluster_move),
        (mirror_hit, mirror_move),
        boot=boot,
        seed=seed,
    )


def _cluster_events(
    long_book: np.ndarray, short_book: np.ndarray, prices: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each column's largest long and short cluster as events, with their mirror levels.

    Returns the events' ``level``, ``mirror`` (as far from price on the other side),
    ``direction`` (-1: price has to fall to the level) and ``column`` (the column each
    comes from); the long side's events first, columns without a cluster left out.
    """
    long_level, long_found = _largest_cluster(long_book, prices, price, below=True)
    short_level, short_found = _largest_cluster(short_book, prices, price, below=False)
    found = np.concatenate([long_found, short_found])
    level = np.concatenate([long_level, short_level])[found]
    mirror = 2 * np.concatenate([price, price])[found] - level
    direction = np.concatenate([-np.ones(len(price)), np.ones(len(price))])[found]
    columns = np.arange(len(price))
    return level, mirror, direction, np.concatenate([columns, columns])[found]


def _move_on(later: np.ndarray, touched_level: np.ndarray, approach: np.ndarray) -> np.ndarray:
    """Percent move from the touched level to a later close; positive if price carried on.

    ``approach`` is the way price went to reach the level (-1: down to it).
    """
    return approach * (later - touched_level) / touched_level * 100.0


def _day_bootstrap(
    horizon_hours: float,
    times: pd.DatetimeIndex,
    cluster: tuple[np.ndarray, np.ndarray],
    mirror: tuple[np.ndarray, np.ndarray],
    *,
    boot: int,
    seed: int,
) -> MagnetTest:
    """Hit rates and moves after a touch, with 95 % intervals from resampling whole days.

    ``cluster`` and ``mirror`` are (touched within the horizon, move after the touch)
    per event; ``times`` says when each event's book was read.
    """
    cluster_hit, cluster_move = cluster
    mirror_hit, mirror_move = mirror
    day_codes, day_index = np.unique(np.asarray(times.floor("D").asi8), return_inverse=True)
    days = len(day_codes)

    def per_day(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        weights = values if mask is None else np.where(mask, values, 0.0)
        return np.bincount(day_index, weights=weights, minlength=days)

    count = per_day(np.ones(len(cluster_hit)))
    hits_c, hits_m = per_day(cluster_hit.astype(float)), per_day(mirror_hit.astype(float))
    move_c, move_m = per_day(cluster_move, cluster_hit), per_day(mirror_move, mirror_hit)
    events = int(count.sum())
    nan = float("nan")
    if events == 0:
        return MagnetTest(horizon_hours, 0, 0, nan, nan, nan, nan, nan, 0, 0, nan, nan, nan, nan)
    rng = np.random.default_rng(seed)
    sample = rng.integers(0, days, size=(boot, days))
    n_boot = count[sample].sum(axis=1)
    diff_boot = (hits_c[sample].sum(axis=1) - hits_m[sample].sum(axis=1)) / n_boot
    lo, hi = np.percentile(diff_boot, [2.5, 97.5])
    touches_c, touches_m = int(cluster_hit.sum()), int(mirror_hit.sum())
    mean_c = float(move_c.sum() / touches_c) if touches_c else nan
    mean_m = float(move_m.sum() / touches_m) if touches_m else nan
    move_lo = move_hi = nan
    if touches_c and touches_m:
        with np.errstate(invalid="ignore", divide="ignore"):
            boot_c = move_c[sample].sum(axis=1) / hits_c[sample].sum(axis=1)
            boot_m = move_m[sample].sum(axis=1) / hits_m[sample].sum(axis=1)
        move_lo, move_hi = np.nanpercentile(boot_c - boot_m, [2.5, 97.5])
    return MagnetTest(
        horizon_hours=float(horizon_hours),
        events=events,
        days=days,
        cluster_rate=float(hits_c.sum() / events),
        mirror_rate=float(hits_m.sum() / events),
        difference=float((hits_c.sum() - hits_m.sum()) / events),
        difference_low=float(lo),
        difference_high=float(hi),
        cluster_touches=touches_c,
        mirror_touches=touches_m,
        move_after_cluster=mean_c,
        move_after_mirror=mean_m,
        move_difference_low=float(move_lo),
        move_difference_high=float(move_hi),
    )


def magnet_study(estimate: Estimate, market: pd.DataFrame, horizon_hours: float) -> MagnetTest:
    """:func:`magnet_test` on an estimate's heatmap columns and the market it was made from.

    Parameters
    ----------
    estimate : Estimate
        An estimate whose heatmap covers the period to test (one book per column).
    market : DataFrame
        The market frame the estimate was made from, or any longer frame holding its bars
        (the columns are matched to it by time).
    horizon_hours : float
        How long price has to reach a level.

    Returns
    -------
    MagnetTest

    Raises
    ------
    ValueError
        When ``market`` lacks bars the estimate was made from.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> from liqcore.model import estimate as run, ModelParams
    >>> market = simulate(days=20, interval="1h", seed=4).market
    >>> est = run(market, ModelParams(time_bins=120, price_bins=120), start=market.index[72])
    >>> result = magnet_study(est, market, horizon_hours=24)
    >>> result.events > 0, 0 <= result.mirror_rate <= 1
    (True, True)
    """
    heat = estimate.heatmap
    # The grid's bar indices count from the first bar the estimate was given (often a
    # window with a warm-up, not the whole frame): find those bars in ``market`` by time.
    column_times = estimate.realized.index[heat.grid.column_end]
    column_end = market.index.get_indexer(column_times)
    if (column_end < 0).any():
        msg = "the market does not contain the bars the estimate was made from"
        raise ValueError(msg)
    step_hours = bar_interval(market).total_seconds() / 3600.0
    horizon_bars = max(round(horizon_hours / step_hours), 1)
    return magnet_test(
        heat.long,
        heat.short,
        heat.prices,
        column_end,
        market,
        horizon_bars,
        horizon_hours=horizon_hours,
    )
