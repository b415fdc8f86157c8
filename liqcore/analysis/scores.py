"""Scores: how well an estimate ranks like the truth, against references that know no positions.

Every score is a rank correlation (Spearman) or a top-decile capture. The references are
the naive baseline (the wick in the liquidation direction times traded notional) and the
distance-only map (USD falling off with distance from price); skill is the margin over
the better of the two. On the simulated market the truth is known position by position
(:class:`Truth`); :func:`book_ceiling` measures how much of it any map could recover.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from liqcore.model import Estimate, Grid, Heatmap
from liqcore.simulate import SimulatedMarket

__all__ = [
    "LEVEL_WIDTH",
    "NO_SKILL",
    "REFERENCE_SCALE",
    "SCORES",
    "Truth",
    "book_by_level",
    "book_ceiling",
    "distance_reference",
    "distance_reference_book",
    "naive_baseline",
    "rank_correlation",
    "reference_scores",
    "reported_scores",
    "score_against_truth",
    "score_table",
    "top_decile_capture",
    "truth_on",
    "truth_scores",
]

#: Every truth score: its name on the page and what it measures, in the page's order.
SCORES: dict[str, tuple[str, str]] = {
    "book_now": ("Book now", "rank correlation over ~1% price levels of the current book"),
    "book_over_time": ("Book over time", "rank correlation over every cell of the heatmap"),
    "realized_long": ("Realized longs", "rank correlation of longs liquidated per bar"),
    "realized_short": ("Realized shorts", "rank correlation of shorts liquidated per bar"),
    "top_decile_capture": (
        "Top-decile capture",
        "share of the true USD at risk inside the estimate's brightest 10% of cells",
    ),
}


#: What a map with no skill scores: rank correlation 0; its top decile holds a tenth of the USD.
NO_SKILL: dict[str, float] = {key: 0.0 for key in SCORES} | {"top_decile_capture": 0.1}


def rank_correlation(a: np.ndarray | pd.Series, b: np.ndarray | pd.Series) -> float:
    """Spearman rank correlation (ties get their average rank); NaN if a side is constant.

    Examples
    --------
    >>> rank_correlation([1, 2, 3, 4], [10, 20, 30, 45])
    1.0
    >>> rank_correlation([1, 2, 3, 4], [4, 3, 2, 1])
    -1.0
    >>> rank_correlation([1, 1, 1], [1, 2, 3])
    nan
    """
    x = pd.Series(np.asarray(a, dtype="float64").ravel()).rank().to_numpy()
    y = pd.Series(np.asarray(b, dtype="float64").ravel()).rank().to_numpy()
    if len(x) != len(y):
        msg = f"series of different lengths: {len(x)} and {len(y)}"
        raise ValueError(msg)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def top_decile_capture(estimated: np.ndarray, true: np.ndarray) -> float:
    """Share of the true USD that sits in the estimate's top 10% of cells.

    A map with no skill scores about 0.1 (the top decile holds a tenth of the cells);
    a perfect one scores the true top decile's share.

    Examples
    --------
    >>> true = np.array([0.0, 0, 0, 0, 0, 0, 0, 0, 1, 9])
    >>> top_decile_capture(true, true), top_decile_capture(true[::-1], true)
    (0.9, 0.0)
    """
    est = np.asarray(estimated, dtype="float64").ravel()
    tru = np.asarray(true, dtype="float64").ravel()
    total = tru.sum()
    if total <= 0 or est.size == 0:
        return float("nan")
    count = max(int(np.ceil(0.1 * est.size)), 1)
    top = np.argpartition(-est, count - 1)[:count]
    return float(tru[top].sum() / total)


def naive_baseline(market: pd.DataFrame) -> pd.DataFrame:
    """A baseline that knows nothing of positions: the wick in the liquidation direction times
    the bar's traded notional.

    Longs: ``(open − low) / open · volume · close``; shorts: ``(high − open) / open · volume
    · close``.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"open": [100.0, 100], "high": [110.0, 101], "low": [90.0, 99],
    ...                   "close": [100.0, 100], "volume": [10.0, 20]}, index=idx)
    >>> naive_baseline(m).round(3).to_dict("list")
    {'long_usd': [100.0, 20.0], 'short_usd': [100.0, 20.0]}
    """
    open_ = market["open"].to_numpy()
    volume = market["volume"].to_numpy() * market["close"].to_numpy()
    return pd.DataFrame(
        {
            "long_usd": (open_ - market["low"].to_numpy()) / open_ * volume,
            "short_usd": (market["high"].to_numpy() - open_) / open_ * volume,
        },
        index=market.index,
    )


#: The distance-only map: USD at risk per unit of relative distance from price falls off as
#: ``exp(−distance / REFERENCE_SCALE)``, on each side, scaled by open interest. Ranks over
#: price bins do not depend on the scale; realized ranks depend on it only weakly.
REFERENCE_SCALE: float = 0.05


#: The current book is scored per price *level* of this width (in log price, about 1 %),
#: not per grid bin: see :func:`book_by_level`.
LEVEL_WIDTH: float = 0.01


def book_by_level(
    price_edges: np.ndarray, usd: np.ndarray, width: float = LEVEL_WIDTH
) -> np.ndarray:
    """USD per price level: the grid's bins summed in blocks of ``width`` of log price.

    Why the book-now score uses levels and not bins: the page's grid has bins of under
    0.1 % of price, and the simulated book is a finite sample of position groups, a
    handful per bin, so the true book's bin-to-bin ranks are mostly the luck of the
    draw (its split-half ceiling, :func:`book_ceiling`, is 0-0.4 on the page's grid;
    empty and one-position bins tie by the dozen). Levels of about 1 % are what a trader
    reads off a map ("the longs around 62k") and hold enough positions for the ranks to
    mean something. The blocks are fixed in log price (not centred on the close), the
    same for the truth, every estimate and the distance-only map.

    Examples
    --------
    >>> edges = np.array([100.0, 100.4, 100.8, 101.2, 101.6, 102.0])
    >>> book_by_level(edges, np.array([1.0, 2, 3, 4, 5])).tolist()  # levels split at 100.5, 101.5
    [1.0, 9.0, 5.0]
    """
    centres = 0.5 * (price_edges[:-1] + price_edges[1:])
    block = np.floor(np.log(centres) / width).astype("int64")
    _, level = np.unique(block, return_inverse=True)
    return np.bincount(level.ravel(), np.asarray(usd, dtype="float64"))


def distance_reference_book(price_edges: np.ndarray, price: float | np.ndarray) -> np.ndarray:
    """USD at risk per price bin of a map that knows only where price is (longs + shorts).

    ``price`` may be one price (one book, shape ``(P,)``) or one per time column (``(C, P)``).

    Examples
    --------
    >>> distance_reference_book(np.array([90.0, 95, 100, 105, 110]), 100.0).round(3).tolist()
    [0.223, 0.607, 0.607, 0.223]
    """
    centres = 0.5 * (price_edges[:-1] + price_edges[1:])
    now = np.asarray(price, dtype="float64")[..., None]
    distance = np.abs(centres - now) / now
    return np.exp(-distance / REFERENCE_SCALE)


def distance_reference(market: pd.DataFrame) -> pd.DataFrame:
    """Realized liquidations per bar of the distance-only map.

    The map holds open interest ``OI`` spread as ``exp(−d / REFERENCE_SCALE)`` over the
    relative distance ``d`` from the last close on each side; a bar that trades down
    to ``low`` liquidates the longs between the previous close and it:
    ``OI[t−1] · (1 − exp(−(close[t−1] − low[t]) / close[t−1] / REFERENCE_SCALE))``,
    and likewise shorts up to the bar's high.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"high": [101.0, 101, 110], "low": [99.0, 95, 100],
    ...                   "close": [100.0, 100, 105], "open_interest": 1e6}, index=idx)
    >>> distance_reference(m).round(0).to_dict("list")
    {'long_usd': [0.0, 632121.0, 0.0], 'short_usd': [0.0, 181269.0, 864665.0]}
    """
    close = market["close"].to_numpy()
    prev = np.concatenate([[market["open"].iloc[0] if "open" in market else close[0]], close[:-1]])
    oi = market["open_interest"].to_numpy()
    oi_prev = np.concatenate([[oi[0]], oi[:-1]])
    down = np.maximum(prev - market["low"].to_numpy(), 0.0) / prev
    up = np.maximum(market["high"].to_numpy() - prev, 0.0) / prev
    frame = pd.DataFrame(
        {
            "long_usd": oi_prev * -np.expm1(-down / REFERENCE_SCALE),
            "short_usd": oi_prev * -np.expm1(-up / REFERENCE_SCALE),
        },
        index=market.index,
    )
    frame.iloc[0] = 0.0  # no close before the first bar: nothing known to cross
    return frame


def score_table(
    model: pd.DataFrame,
    reported: pd.DataFrame,
    baseline: pd.DataFrame,
    reference: pd.DataFrame,
) -> pd.DataFrame:
    """Rank correlations with the reported liquidations of the model and the two references.

    All four frames hold ``long_usd`` / ``short_usd`` on the same index (bars or days).

    Returns
    -------
    DataFrame
        Rows ``long``, ``short``; columns ``model``, ``baseline`` (naive), ``reference``
        (distance-only), ``skill`` (model less the better reference) and
        ``model_beats_baseline`` (the model beats the better of the two).

    Examples
    --------
    >>> idx = pd.RangeIndex(5)
    >>> up = pd.DataFrame({"long_usd": [1.0, 2, 3, 4, 5], "short_usd": [5.0, 4, 3, 2, 1]}, idx)
    >>> score_table(up, up, up[::-1].set_axis(idx), up)["skill"].tolist()
    [0.0, 0.0]
    """
    rows = {}
    for side in ("long", "short"):
        truth = reported[f"{side}_usd"]
        scores = {
            name: rank_correlation(frame[f"{side}_usd"], truth)
            for name, frame in (("model", model), ("baseline", baseline), ("reference", reference))
        }
        best = np.nanmax([scores["baseline"], scores["reference"], -np.inf])
        rows[side] = scores | {
            "skill": float(scores["model"] - best) if np.isfinite(best) else float("nan"),
            "model_beats_baseline": bool(scores["model"] > best),
        }
    return pd.DataFrame(rows).T


@dataclass(frozen=True)
class Truth:
    """The simulated truth on one grid, computed once and scored against many estimates.

    Attributes
    ----------
    heatmap : Heatmap
        True USD at risk over time on the grid.
    levels : DataFrame
        True book at the last bar on the grid's price bins (columns as ``Estimate.levels``).
    realized : DataFrame
        True USD liquidated per bar over the grid's window: ``long_usd``, ``short_usd``.
    """

    heatmap: Heatmap
    levels: pd.DataFrame
    realized: pd.DataFrame


def truth_on(sim: SimulatedMarket, grid: Grid) -> Truth:
    """The simulated truth on a grid (pass ``estimate.heatmap.grid``).

    Examples
    --------
    >>> from liqcore.model import ModelParams, estimate
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=2, interval="15min", seed=1)
    >>> est = estimate(sim.market, ModelParams(time_bins=20, price_bins=30))
    >>> truth = truth_on(sim, est.heatmap.grid)
    >>> truth.heatmap.total.shape, len(truth.levels), len(truth.realized) == len(sim.market)
    ((20, 30), 30, True)
    """
    realized = sim.true_realized()
    return Truth(
        heatmap=sim.true_heatmap(grid),
        levels=sim.true_levels(grid.price_edges),
        realized=realized.iloc[grid.start_bar :][["long_usd", "short_usd"]],
    )


def score_against_truth(est: Estimate, truth: Truth) -> dict[str, float]:
    """Scores of an estimate against a truth computed on the same grid (see :func:`truth_scores`).

    Raises
    ------
    ValueError
        If the truth was computed on another grid: cells would be compared with the wrong ones.
    """
    grid, true_grid = est.heatmap.grid, truth.heatmap.grid
    if (
        grid.start_bar != true_grid.start_bar
        or not np.array_equal(grid.column_end, true_grid.column_end)
        or not np.array_equal(grid.price_edges, true_grid.price_edges)
    ):
        msg = (
            f"the truth is on another grid ({len(true_grid.column_end)} x "
            f"{len(true_grid.price_edges) - 1} from bar {true_grid.start_bar}) than the estimate "
            f"({len(grid.column_end)} x {len(grid.price_edges) - 1} from bar {grid.start_bar})"
        )
        raise ValueError(msg)
    edges = grid.price_edges
    book_est = book_by_level(edges, est.levels["long_usd"] + est.levels["short_usd"])
    book_true = book_by_level(edges, truth.levels["long_usd"] + truth.levels["short_usd"])
    shown = truth.realized.index
    est_realized = est.realized.loc[shown]
    return {
        "book_now": rank_correlation(book_est, book_true),
        "book_over_time": rank_correlation(est.heatmap.total, truth.heatmap.total),
        "realized_long": rank_correlation(est_realized["long_usd"], truth.realized["long_usd"]),
        "realized_short": rank_correlation(est_realized["short_usd"], truth.realized["short_usd"]),
        "top_decile_capture": top_decile_capture(est.heatmap.total, truth.heatmap.total),
    }


def book_ceiling(sim: SimulatedMarket, grid: Grid, splits: int = 4) -> dict[str, float]:
    """The best book scores any estimate can expect against this one simulated book.

    The true book is a finite sample of position groups: on a fine grid most price bins
    hold a handful of them, so much of its bin-to-bin rank order is luck that no map
    built from public data can know. This measures it: the liquidable positions are
    split at random into two halves, the halves' books are rank-correlated (``r``),
    the Spearman-Brown formula gives the reliability of the whole book
    ``R = 2r / (1 + r)``, and the ceiling is ``sqrt(R)``: the rank correlation with
    this book of an estimate that knew the crowd's every rule and only missed the luck
    of the draw (the split-half "noise ceiling"; mean of ``splits`` random splits).

    Returns
    -------
    dict
        ``book_now`` and ``book_over_time`` ceilings (0 where the halves do not agree at all).

    Examples
    --------
    >>> from liqcore.model import ModelParams, estimate
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=3, interval="15min", seed=2)
    >>> grid = estimate(sim.market, ModelParams(time_bins=20, price_bins=30)).heatmap.grid
    >>> ceiling = book_ceiling(sim, grid, splits=2)
    >>> sorted(ceiling), all(0 <= v <= 1 for v in ceiling.values())
    (['book_now', 'book_over_time'], True)
    """
    p = sim.positions
    rng = np.random.default_rng(0)
    now, over_time = [], []
    for _ in range(splits):
        half = rng.random(p.usd.size) < 0.5
        books = []
        for pick in (half, ~half):
            part = replace(sim, positions=replace(p, has_stop=p.has_stop | ~pick))
            levels = part.true_levels(grid.price_edges)
            now_usd = book_by_level(grid.price_edges, levels["long_usd"] + levels["short_usd"])
            books.append((now_usd, part.true_heatmap(grid).total))
        now.append(rank_correlation(books[0][0], books[1][0]))
        over_time.append(rank_correlation(books[0][1], books[1][1]))

    def ceiling(values: list[float]) -> float:
        r = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
        return float(np.sqrt(max(2 * r / (1 + r), 0.0))) if r > 0 else 0.0

    return {"book_now": ceiling(now), "book_over_time": ceiling(over_time)}


def reference_scores(truth: Truth, market: pd.DataFrame) -> dict[str, float]:
    """Scores of the distance-only map against a truth: what knowing only the price earns.

    The map is :func:`distance_reference_book` around the close of every grid column
    (and of the last bar), scaled by open interest; its realized liquidations are
    :func:`distance_reference`. This is the "no skill" line of :func:`scenario_table`.

    Examples
    --------
    >>> from liqcore.model import ModelParams, estimate
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=3, interval="15min", seed=2)
    >>> est = estimate(sim.market, ModelParams(time_bins=30, price_bins=40))
    >>> ref = reference_scores(truth_on(sim, est.heatmap.grid), sim.market)
    >>> sorted(ref) == sorted(SCORES), -1 <= ref["book_now"] <= 1
    (True, True)
    """
    grid = truth.heatmap.grid
    close = market["close"].to_numpy()
    oi = market["open_interest"].to_numpy()
    over_time = distance_reference_book(grid.price_edges, close[grid.column_end])
    over_time *= oi[grid.column_end][:, None]
    edges = grid.price_edges
    book_now = book_by_level(edges, distance_reference_book(edges, float(close[-1])))
    book_true = book_by_level(edges, truth.levels["long_usd"] + truth.levels["short_usd"])
    realized = distance_reference(market).loc[truth.realized.index]
    return {
        "book_now": rank_correlation(book_now, book_true),
        "book_over_time": rank_correlation(over_time, truth.heatmap.total),
        "realized_long": rank_correlation(realized["long_usd"], truth.realized["long_usd"]),
        "realized_short": rank_correlation(realized["short_usd"], truth.realized["short_usd"]),
        "top_decile_capture": top_decile_capture(over_time, truth.heatmap.total),
    }


def truth_scores(est: Estimate, sim: SimulatedMarket) -> dict[str, float]:
    """Scores of an estimate against the simulated truth on the estimate's own grid.

    Returns
    -------
    dict
        ``book_now`` (rank correlation over ~1 % price levels of the current book,
        :func:`book_by_level`, longs and shorts together), ``book_over_time`` (over every
        heatmap cell), ``realized_long``
        and ``realized_short`` (per bar, over the heatmap's window), and
        ``top_decile_capture`` (of the true book over time).

    Notes
    -----
    To score several estimates on one grid, compute the truth once with
    :func:`truth_on` and call :func:`score_against_truth` for each.
    """
    return score_against_truth(est, truth_on(sim, est.heatmap.grid))


def reported_scores(
    realized: pd.DataFrame, market: pd.DataFrame, index: pd.Index | None = None
) -> pd.DataFrame:
    """The model's and the naive baseline's rank correlation with reported liquidations.

    Parameters
    ----------
    realized : DataFrame
        Estimated ``long_usd`` / ``short_usd`` per bar (``Estimate.realized``).
    market : DataFrame
        Market frame with ``realized_long_usd`` and ``realized_short_usd``.
    index : Index, optional
        Bars to score (default: all bars of ``realized``).

    Returns
    -------
    DataFrame
        As :func:`score_table`: rows ``long`` and ``short``; columns ``model``,
        ``baseline``, ``reference``, ``skill``, ``model_beats_baseline`` (beats the better
        of the naive baseline and the distance-only map).
    """
    for column in ("realized_long_usd", "realized_short_usd"):
        if column not in market.columns:
            msg = f"the market frame has no {column!r}: no reported liquidations to score against"
            raise ValueError(msg)
    bars = realized.index if index is None else index
    reported = market.loc[bars, ["realized_long_usd", "realized_short_usd"]].set_axis(
        ["long_usd", "short_usd"], axis=1
    )
    return score_table(
        realized.loc[bars],
        reported,
        naive_baseline(market).loc[bars],
        distance_reference(market).loc[bars],
    )
