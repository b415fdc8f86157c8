"""How good is the map? Scores against the simulated truth and against reported liquidations.

Every score here is a **rank** correlation (Spearman): a liquidation map is read for
*where* the big levels are relative to each other, not for its absolute dollars, and
the model's dollar scale depends on assumptions (how much of the volume opens
positions) that ranks do not care about.

* :func:`truth_scores` -- on the simulated market: the current book over price levels
  of about 1 %, the book over time (every cell of the heatmap grid), realized liquidations per bar,
  and the share of the true USD at risk that sits in the estimate's top-decile cells.
* :func:`reported_scores` -- on any market frame with ``realized_long_usd`` /
  ``realized_short_usd``: the model's estimated realized liquidations against the
  reported ones per side, next to two maps that know nothing of positions:
  :func:`naive_baseline` (wick × traded notional) and :func:`distance_reference`
  (USD at risk falling off with distance from price). Skill is the model's score
  less the better of the two.
* :func:`reference_scores` -- what the distance-only map scores against the simulated
  truth: the "no skill" line of the truth scores.
* :func:`calibrate` -- fits the holding time, the cross-margin share (a small grid,
  chosen by rank correlation) and the leverage-tier weights (non-negative least
  squares on the per-tier estimated series) on the first part of the history and
  scores the fit on the rest, which it never saw.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.model import Estimate, Grid, Heatmap, ModelParams, estimate
from liqcore.simulate import LIQUIDATED as _LIQUIDATED
from liqcore.simulate import SimulatedMarket
from liqcore.views import (
    DARK_TEMPLATE,
    ESTIMATE_NOTE,
    HEAT_COLORSCALE,
    colour_ticks,
    format_usd,
)

__all__ = [
    "CALIBRATION_DAYS",
    "NO_SKILL",
    "SCORES",
    "Calibration",
    "Truth",
    "baseline_verdict",
    "book_by_level",
    "book_ceiling",
    "book_comparison_figure",
    "calibrate",
    "calibration_table",
    "ceiling_sentence",
    "correct_params",
    "describe_params",
    "distance_reference",
    "distance_reference_book",
    "mix_figure",
    "naive_baseline",
    "nonnegative_least_squares",
    "overfitting_sentence",
    "rank_correlation",
    "recent_history",
    "reference_scores",
    "reported_scores",
    "reported_table",
    "scenario_table",
    "score_against_truth",
    "score_table",
    "sensitivity_sentence",
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


def nonnegative_least_squares(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least squares with non-negative coefficients, exact for a handful of columns.

    Tries every subset of columns (at most 2**K − 1, K <= 8 here: the leverage tiers)
    and keeps the best unconstrained fit whose coefficients are all non-negative; the
    optimum of a non-negative least-squares problem is such a fit on its active set.

    Examples
    --------
    >>> X = np.array([[1.0, 0], [0, 1], [1, 1]])
    >>> nonnegative_least_squares(X, np.array([2.0, -1, 1])).round(6).tolist()
    [1.5, 0.0]
    """
    design = np.asarray(design, dtype="float64")
    target = np.asarray(target, dtype="float64")
    columns = design.shape[1]
    if columns > 8:
        msg = f"exhaustive NNLS is meant for a few leverage tiers, got {columns} columns"
        raise ValueError(msg)
    best = np.zeros(columns)
    best_error = float(np.sum(target**2))
    for size in range(1, columns + 1):
        for subset in itertools.combinations(range(columns), size):
            cols = list(subset)
            coef, *_ = np.linalg.lstsq(design[:, cols], target, rcond=None)
            if np.any(coef < 0):
                continue
            error = float(np.sum((design[:, cols] @ coef - target) ** 2))
            if error < best_error - 1e-12 * max(best_error, 1.0):
                best_error = error
                best = np.zeros(columns)
                best[cols] = coef
    return best


@dataclass(frozen=True)
class Calibration:
    """Fitted assumptions and their scores before and after, in and out of sample.

    ``scores`` has rows ``fit (first part)`` and ``test (rest)`` and columns
    ``default mix`` (the assumptions given) and ``calibrated mix`` (the fitted ones:
    leverage mix, and, when fitted, holding time and cross-margin share): rank
    correlations of the estimated realized liquidations (longs and shorts together)
    with the reported ones. Both columns are scored by running the model again.
    """

    weights: tuple[float, ...]
    tiers: tuple[float, ...]
    split_time: pd.Timestamp
    scores: pd.DataFrame
    holding_hours: float | None = None
    cross_share: float | None = None

    def params(self, base: ModelParams) -> ModelParams:
        """``base`` with the calibrated tier weights (and holding time, cross share)."""
        changes: dict[str, object] = {"leverage_tiers": self.tiers, "tier_weights": self.weights}
        if self.holding_hours is not None:
            changes["holding_hours"] = self.holding_hours
        if self.cross_share is not None:
            changes["cross_share"] = self.cross_share
        return replace(base, **changes)


def _unit_tier_series(est: Estimate, params: ModelParams) -> np.ndarray:
    """Realized USD per bar for each tier at weight 1 (longs and shorts summed): (N, K).

    A tier's realized series is proportional to its normalised weight, so dividing by
    the weight gives what that tier alone would liquidate.
    """
    weights = params.normalized_weights()
    columns = []
    for k, label in enumerate(params.tier_labels()):
        series = est.realized[f"long_usd_{label}"] + est.realized[f"short_usd_{label}"]
        columns.append(series.to_numpy() / weights[k] if weights[k] > 0 else series * 0.0)
    return np.column_stack(columns)


def _fit_mix(
    market: pd.DataFrame, params: ModelParams, reported: np.ndarray, cut: int, rounds: int = 3
) -> tuple[ModelParams, np.ndarray]:
    """Tier weights by non-negative least squares on the first ``cut`` bars, refined.

    The book depends on its own liquidations (closes are net of them) and on the mix
    (holding times), so a tier's series is only nearly linear in its weight: the fit is
    repeated around the last answer. Returns the fitted params and the realized total.
    """
    current = replace(params, tier_weights=tuple(1.0 for _ in params.leverage_tiers))
    for _ in range(rounds):
        unit = _unit_tier_series(estimate(market, current), current)
        # Scale columns so the fit is not dominated by the tiers with the largest dollars.
        scale = unit[:cut].std(axis=0)
        scale[scale == 0] = 1.0
        coef = nonnegative_least_squares(unit[:cut] / scale, reported[:cut]) / scale
        if coef.sum() <= 0:
            coef = np.ones_like(coef)
        current = replace(current, tier_weights=tuple(float(w) for w in coef / coef.sum()))
    est = estimate(market, current)
    return current, (est.realized["long_usd"] + est.realized["short_usd"]).to_numpy()


#: The calibration on the Heatmap page fits the last this many days of the data.
CALIBRATION_DAYS = 30


def recent_history(market: pd.DataFrame, days: float = CALIBRATION_DAYS) -> pd.DataFrame:
    """The last ``days`` of a market frame: what the Heatmap page calibrates on.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=24 * 40, freq="1h", tz="UTC")
    >>> len(recent_history(pd.DataFrame({"close": 1.0}, index=idx))) // 24
    30
    """
    return market.loc[market.index[-1] - pd.Timedelta(days=days) :]


def calibrate(
    market: pd.DataFrame,
    params: ModelParams | None = None,
    fit_share: float = 0.6,
    *,
    fit_holding: bool = True,
    fit_cross: bool = True,
) -> Calibration:
    """Fit the assumptions to reported liquidations, scored on the part it did not see.

    On the first ``fit_share`` of the history: the holding time (half, once or twice the
    given one), then the cross-margin share (0.25, 0.5, 0.75) -- small grids, so the fit
    cannot chase noise -- each with the leverage mix fitted by non-negative least
    squares, keeping the candidate whose estimate ranks the fitted bars best. The rest
    of the history only scores it.

    Parameters
    ----------
    market : DataFrame
        Market frame with ``realized_long_usd`` and ``realized_short_usd``.
    params : ModelParams, optional
        The other assumptions (tiers, mmr, opening...).
    fit_share : float
        Share of the history (from its start) used to fit; the rest only scores.
    fit_holding, fit_cross : bool
        Also fit the holding time and the cross-margin share (when the model has them).

    Returns
    -------
    Calibration
    """
    for column in ("realized_long_usd", "realized_short_usd"):
        if column not in market.columns:
            msg = f"calibration needs reported liquidations: the data has no {column!r}"
            raise ValueError(msg)
    if not 0.2 <= fit_share <= 0.9:
        msg = f"fit_share must be between 0.2 and 0.9, got {fit_share}"
        raise ValueError(msg)
    params = params or ModelParams()
    reported = (market["realized_long_usd"] + market["realized_short_usd"]).to_numpy()
    cut = int(len(market) * fit_share)
    if cut < 10 or len(market) - cut < 10:
        msg = f"too little history to fit and test ({len(market)} bars)"
        raise ValueError(msg)
    holdings: list[float | None] = [params.holding_hours]
    if fit_holding and params.holding_hours is not None:
        holdings = [params.holding_hours * f for f in (0.5, 1.0, 2.0)]
    crosses = [params.cross_share]
    if fit_cross and params.cross_share > 0:
        crosses = [0.25, 0.5, 0.75]
    # Fitting samples the leverage distribution coarsely (4 points per bar and band); the
    # chosen assumptions are scored at the estimate's own resolution.
    coarse = replace(params, strata=params.strata or 4)
    tried: dict[tuple[float | None, float], tuple[float, ModelParams]] = {}

    def fit(holding: float | None, cross: float) -> tuple[float, ModelParams]:
        if (holding, cross) not in tried:
            candidate = replace(coarse, holding_hours=holding, cross_share=cross)
            fitted, series = _fit_mix(market, candidate, reported, cut, rounds=2)
            score = rank_correlation(series[:cut], reported[:cut])
            tried[holding, cross] = (score if np.isfinite(score) else -np.inf, fitted)
        return tried[holding, cross]

    # One assumption at a time (holding time, then cross share): five fits, not nine.
    holding = max(holdings, key=lambda h: fit(h, params.cross_share)[0])
    cross = max(crosses, key=lambda c: fit(holding, c)[0])
    fitted = replace(fit(holding, cross)[1], strata=params.strata)
    given = estimate(market, params)
    tuned = estimate(market, fitted)
    calibrated = (tuned.realized["long_usd"] + tuned.realized["short_usd"]).to_numpy()
    default = (given.realized["long_usd"] + given.realized["short_usd"]).to_numpy()
    rows = {}
    for name, part in (("fit (first part)", slice(0, cut)), ("test (rest)", slice(cut, None))):
        rows[name] = {
            "default mix": rank_correlation(default[part], reported[part]),
            "calibrated mix": rank_correlation(calibrated[part], reported[part]),
        }
    return Calibration(
        weights=tuple(float(w) for w in fitted.normalized_weights()),
        tiers=tuple(params.leverage_tiers),
        split_time=market.index[cut],
        scores=pd.DataFrame(rows).T,
        holding_hours=fitted.holding_hours if len(holdings) > 1 else None,
        cross_share=fitted.cross_share if len(crosses) > 1 else None,
    )


# ---------------------------------------------------------------------------
# What the Accuracy page shows: scenarios, figures, verdicts in plain words
# ---------------------------------------------------------------------------

_OPENING_WORDS = {"mix": "OI + volume", "oi": "rising OI", "volume": "volume"}
_MIX_COLOURS = ("#9aa0a6", "#f58518", "#54a24b", "#4c78a8", "#e45756")


def correct_params(sim: SimulatedMarket, base: ModelParams | None = None) -> ModelParams:
    """The model told the truth wherever it has an assumption with a true value.

    Every field of ``base`` with a counterpart in the simulated crowd is set to it,
    measured on the positions that can be liquidated (those without a stop-loss):

    * ``tier_weights`` -- the leverage distribution binned into the model's tiers. When
      the model applies its own cross-margin buffer (``cross_share > 0``) the binning is
      by the **nominal** leverage setting (:meth:`~SimulatedMarket.tier_mix`,
      ``nominal=True``); binning by effective leverage there would widen cross
      positions twice. An isolated-only model gets the effective-leverage mix.
    * ``cross_share`` -- the share of that notional on cross margin (kept at 0 if
      ``base`` models isolated margin only); ``cross_buffer`` -- the 10th-90th percentile
      of the true spare equity of cross positions (the model's buffer is uniform over
      its range, the simulator's log-normal).
    * ``holding_hours`` / ``holding_exponent`` -- the half-life at 10x and its slope in
      leverage of the closes by time, stop-loss and take-profit (a power law fitted to
      each leverage's closing rate); left alone if ``base`` has no holding times.
    * ``mmr`` -- the simulation's maintenance margin rate.

    Everything else (how positions open, the long/short split, the grid) stays as in
    ``base``: the simulated crowd follows none of the model's rules for those, so they
    have no single true value. What the model cannot be told at all (stop-losses, the
    makers' side) is measured by :func:`book_ceiling`.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=1, interval="15min", seed=1, mmr=0.005)
    >>> params = correct_params(sim, ModelParams(mmr=0.02, price_bins=50))
    >>> params.tier_weights == sim.tier_mix(params.leverage_tiers, nominal=True)
    True
    >>> params.mmr, params.price_bins, 0.2 < params.cross_share < 0.5
    (0.005, 50, True)
    >>> isolated = correct_params(sim, ModelParams.classic())
    >>> isolated.tier_weights == sim.tier_mix(isolated.leverage_tiers), isolated.cross_share
    (True, 0.0)
    """
    base = base or ModelParams()
    tiers = tuple(sim.leverage_tiers)
    p = sim.positions
    book = p.in_book
    changes: dict[str, object] = {"leverage_tiers": tiers, "mmr": sim.mmr}
    if base.cross_share > 0:
        cross = book & (p.buffer > 0)
        low, high = np.quantile(p.buffer[cross], [0.1, 0.9]) if cross.any() else (0.0, 0.0)
        changes |= {
            "tier_weights": sim.tier_mix(tiers, nominal=True),
            "cross_share": float(p.usd[cross].sum() / max(p.usd[book].sum(), 1e-300)),
            "cross_buffer": (float(low), float(high)),
        }
    else:
        changes["tier_weights"] = sim.tier_mix(tiers)
    if base.holding_hours is not None:
        changes |= _true_holding(sim)
    return replace(base, **changes)


def _true_holding(sim: SimulatedMarket) -> dict[str, float]:
    """``holding_hours`` (half-life at 10x) and ``holding_exponent`` of the simulated crowd.

    Per whole-number leverage, the closing rate of the exponential life that explains
    the closes by time, stop-loss or take-profit: closes divided by the hours positions
    were watched open (positions still open at the end, or liquidated, count their hours
    and no close, so a short history does not bias it to short lives); the half-life is
    ``ln 2 / rate``, fitted as ``h10 · (10 / L)**k`` by least squares in logs weighted
    by the number of closes.
    """
    p = sim.positions
    n = len(sim.market)
    bar_hours = (sim.market.index[1] - sim.market.index[0]) / pd.Timedelta(hours=1)
    watched = (np.minimum(p.exit_bar, n - 1) - p.open_bar + 0.5).clip(min=0.5) * bar_hours
    closed = (p.exit_bar < n) & (p.exit_reason >= 0) & (p.exit_reason != _LIQUIDATED)
    setting = p.leverage.astype("int64")
    hours = np.bincount(setting, watched)
    closes = np.bincount(setting, closed.astype("float64"))
    used = np.flatnonzero(closes >= 20)
    if used.size < 2:
        return {}
    half_life = np.log(2.0) * hours[used] / closes[used]
    slope, intercept = np.polyfit(
        np.log(10.0 / used), np.log(half_life), 1, w=np.sqrt(closes[used])
    )
    return {
        "holding_hours": float(np.exp(intercept)),
        "holding_exponent": float(np.clip(slope, 0.0, 3.0)),
    }


def describe_params(params: ModelParams) -> str:
    """The assumptions the Accuracy page lets a user change, in one line.

    Examples
    --------
    >>> for part in describe_params(ModelParams()).split(" · "):
    ...     print(part)
    mix 30/30/20/12/8% (5x/10x/25x/50x/100x)
    mmr 0.40%
    new positions from OI + volume
    same-bar liquidation on
    """
    mix = "/".join(f"{w * 100:.0f}" for w in params.normalized_weights())
    tiers = "/".join(params.tier_labels())
    same_bar = "on" if params.liquidate_in_opening_bar else "off"
    return (
        f"mix {mix}% ({tiers}) · mmr {params.mmr * 100:.2f}% · new positions from "
        f"{_OPENING_WORDS[params.opening]} · same-bar liquidation {same_bar}"
    )


def _shown_change(change: float | np.ndarray) -> float | np.ndarray:
    """A change as a table shows it: one that rounds to 0.00 is 0, so it never reads ``-0.00``.

    Examples
    --------
    >>> _shown_change(-0.004), _shown_change(-0.02)
    (0.0, -0.02)
    """
    cleaned = np.where(np.abs(change) < 0.005, 0.0, change)
    return float(cleaned) if cleaned.ndim == 0 else cleaned


def _signed(value: float) -> str:
    """``+0.12`` / ``-0.12``; ``±0.00`` for a change that rounds to nothing (never ``-0.00``).

    Examples
    --------
    >>> _signed(0.123), _signed(-0.004), _signed(-0.02)
    ('+0.12', '±0.00', '-0.02')
    """
    text = f"{value:+.2f}"
    return "±0.00" if text in ("+0.00", "-0.00") else text


def scenario_table(
    correct: Mapping[str, float],
    yours: Mapping[str, float],
    no_skill: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Scenario → scores: the correctly specified model, the user's assumptions, the change.

    Parameters
    ----------
    correct, yours : mapping
        Scores as :func:`truth_scores` returns them.
    no_skill : mapping, optional
        What a map without skill scores: pass :func:`reference_scores` (the distance-only
        map); without it, chance (:data:`NO_SKILL`).

    Returns
    -------
    DataFrame
        One row per score (named as in :data:`SCORES`); columns ``What it measures``,
        ``Correctly specified``, ``Your assumptions``, ``Change`` (yours − correct) and
        ``No skill`` (what a map that knows only the price, or nothing, scores).

    Examples
    --------
    >>> right = dict.fromkeys(SCORES, 0.8)
    >>> wrong = right | {"book_now": 0.5}
    >>> table = scenario_table(right, wrong)
    >>> table.loc["Book now", ["Correctly specified", "Your assumptions", "Change"]].tolist()
    [0.8, 0.5, -0.30000000000000004]
    >>> table.loc["Top-decile capture", "No skill"]
    np.float64(0.1)
    """
    rows = {
        label: {
            "What it measures": meaning,
            "Correctly specified": float(correct[key]),
            "Your assumptions": float(yours[key]),
            "Change": _shown_change(float(yours[key]) - float(correct[key])),
            "No skill": float((no_skill or NO_SKILL)[key]),
        }
        for key, (label, meaning) in SCORES.items()
    }
    table = pd.DataFrame(rows).T
    for column in ("Correctly specified", "Your assumptions", "Change", "No skill"):
        table[column] = table[column].astype("float64")
    table.index.name = "Score"
    return table


def ceiling_sentence(correct: Mapping[str, float], ceiling: Mapping[str, float]) -> str:
    """What share of the recoverable book the correctly specified estimate reaches, in words.

    ``ceiling`` is :func:`book_ceiling`: the best score any estimate can expect against
    this one simulated book.

    Examples
    --------
    >>> print(ceiling_sentence({"book_now": 0.6, "book_over_time": 0.3},
    ...                        {"book_now": 0.8, "book_over_time": 0.45}))  # doctest: +ELLIPSIS
    Part of the true book is luck no map built from candles, volume and open interest can know: ...
    at most about 0.80 (book now) and 0.45 (book over time); ... 0.60 and 0.30, 75% and 67% of it.
    """

    def share(key: str) -> str:
        top, got = float(ceiling[key]), float(correct[key])
        return f"{got / top:.0%}" if top > 0 and np.isfinite(got) else "n/a"

    return (
        "Part of the true book is luck no map built from candles, volume and open interest can "
        "know: the simulated book is a finite set of position groups, some with stop-losses "
        "(never liquidated, so not in it), on a maker side and a taker side that lean "
        "differently. Two random halves of it agree only so far, which caps what any estimate "
        f"can score here at most about {ceiling['book_now']:.2f} (book now) and "
        f"{ceiling['book_over_time']:.2f} (book over time); the correctly specified estimate "
        f"scores {correct['book_now']:.2f} and {correct['book_over_time']:.2f}, "
        f"{share('book_now')} and {share('book_over_time')} of it."
    )


def sensitivity_sentence(
    correct: Mapping[str, float], yours: Mapping[str, float], tolerance: float = 0.01
) -> str:
    """What the change of assumptions did to the scores, in plain words.

    Examples
    --------
    >>> right = dict.fromkeys(SCORES, 0.8)
    >>> sensitivity_sentence(right, right | {"book_now": 0.5})
    'Your assumptions lower 1 of the 5 scores, the book now most: 0.80 → 0.50 (-0.30).'
    >>> sensitivity_sentence(right, right | {"book_now": 0.805})  # doctest: +ELLIPSIS
    'Your assumptions score the same as the correct ones (within ±0.01)...'
    """
    changes = {
        key: float(yours[key]) - float(correct[key])
        for key in SCORES
        if np.isfinite(yours[key]) and np.isfinite(correct[key])
    }
    if not changes:
        return "The scores cannot be computed on this window (nothing to rank)."
    drops = {key: change for key, change in changes.items() if change < -tolerance}
    rises = {key: change for key, change in changes.items() if change > tolerance}
    if not drops and not rises:
        return (
            f"Your assumptions score the same as the correct ones (within ±{tolerance:g}): "
            "the estimate is not sensitive to this change here."
        )
    parts = []
    if drops:
        key = min(drops, key=drops.__getitem__)
        parts.append(
            f"Your assumptions lower {len(drops)} of the {len(changes)} scores, the "
            f"{SCORES[key][0].lower()} most: {correct[key]:.2f} → {yours[key]:.2f} "
            f"({_signed(drops[key])})."
        )
    if rises:
        key = max(rises, key=rises.__getitem__)
        subject = "They raise" if drops else "Your assumptions raise"
        parts.append(
            f"{subject} the {SCORES[key][0].lower()} ({correct[key]:.2f} → {yours[key]:.2f}): "
            "the correctly specified model is not always the best-scoring one, because the "
            "simulated crowd differs from the model in more than these assumptions (how "
            "positions open and close, at which prices), and one wrong assumption can make up "
            "for another."
        )
    return " ".join(parts)


def _same_grid(a: Grid, b: Grid) -> bool:
    return (
        a.start_bar == b.start_bar
        and np.array_equal(a.column_end, b.column_end)
        and np.array_equal(a.price_edges, b.price_edges)
    )


def book_comparison_figure(
    truth: Heatmap,
    estimated: Heatmap,
    market: pd.DataFrame,
    *,
    cap_percentile: float = 99.0,
    title: str = "The true book and the estimated book",
    uirevision: str = "accuracy",
) -> go.Figure:
    """The true and the estimated book over time side by side, on one grid and colour scale.

    Parameters
    ----------
    truth, estimated : Heatmap
        On the same grid (``truth_on(sim, est.heatmap.grid).heatmap`` and ``est.heatmap``).
    market : DataFrame
        The market frame both were computed on (its closes draw the price line).
    cap_percentile : float
        Colours saturate at this percentile of the non-empty cells of both maps.
    title, uirevision : str
        The chart's heading, and the key under which plotly keeps the user's zoom.

    Returns
    -------
    plotly.graph_objects.Figure
        The true book on the left (axes ``x``/``y``), the estimate on the right
        (``x2``/``y2``, zoomed together with the left), the closes over both.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=2, interval="15min", seed=4)
    >>> est = estimate(sim.market, ModelParams(time_bins=40, price_bins=30))
    >>> fig = book_comparison_figure(sim.true_heatmap(est.heatmap.grid), est.heatmap, sim.market)
    >>> [t.type for t in fig.data], fig.layout.xaxis2.matches
    (['heatmap', 'heatmap', 'scatter', 'scatter'], 'x')
    """
    grid = estimated.grid
    if not _same_grid(truth.grid, grid):
        msg = "the true and the estimated book must be on the same grid to share a colour scale"
        raise ValueError(msg)
    if grid.column_end[-1] >= len(market):
        msg = f"the market frame has {len(market)} bars; the grid reaches bar {grid.column_end[-1]}"
        raise ValueError(msg)
    true_usd = np.asarray(truth.total, dtype="float32")
    est_usd = np.asarray(estimated.total, dtype="float32")
    positive = np.concatenate([true_usd[true_usd > 0], est_usd[est_usd > 0]])
    zmax = max(float(np.percentile(positive, cap_percentile)) if positive.size else 1.0, 1.0)
    centres = grid.times + (grid.time_edges[1:] - grid.time_edges[:-1]) / 2
    prices = grid.prices.astype("float32")
    close = market["close"].to_numpy("float32")[grid.column_end]
    traces = [
        _book_heat(centres, prices, true_usd, what="true", axis=""),
        _book_heat(centres, prices, est_usd, what="estimated", axis="2"),
        *(_book_price_line(centres, close, axis) for axis in ("", "2")),
    ]
    now_true, now_est = float(true_usd[-1].sum()), float(est_usd[-1].sum())
    headings = (
        (0.0, f"<b>True book</b> (simulated) · {format_usd(now_true)} at risk now"),
        (0.515, f"<b>Estimated book</b> (estimate) · {format_usd(now_est)} at risk now"),
    )
    layout = _book_comparison_layout(grid, zmax, headings, title=title, uirevision=uirevision)
    return go.Figure(data=traces, layout=layout)


def _book_heat(
    centres: pd.DatetimeIndex, prices: np.ndarray, usd: np.ndarray, *, what: str, axis: str
) -> dict[str, object]:
    """One book's USD at risk (time x price) as cells on the shared colour axis."""
    return {
        "type": "heatmap",
        "x": centres,
        "y": prices,
        "z": usd.T,
        "coloraxis": "coloraxis",
        "zsmooth": False,
        "name": f"{what} USD at risk",
        "hovertemplate": (
            f"%{{x|%b %d %H:%M}}<br>price %{{y:,.2f}}<br>{what} USD at risk "
            "%{z:$,.0f}<extra></extra>"
        ),
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
    }


def _book_price_line(centres: pd.DatetimeIndex, close: np.ndarray, axis: str) -> dict[str, object]:
    """The close of each column over one of the two books."""
    return {
        "type": "scatter",
        "x": centres,
        "y": close,
        "mode": "lines",
        "line": {"color": "#e6e6e6", "width": 1},
        "name": "price",
        "showlegend": False,
        "hovertemplate": "price %{y:,.2f}<extra></extra>",
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
    }


def _book_comparison_layout(
    grid: Grid,
    zmax: float,
    headings: Sequence[tuple[float, str]],
    *,
    title: str,
    uirevision: str,
) -> dict[str, object]:
    """The two books' frame: matched axes side by side, one colour bar up to ``zmax`` USD.

    ``headings`` are (left edge in paper units, text), one above each book.
    """
    tickvals, ticktext = colour_ticks(zmax, log_scale=False)
    price_range = [float(grid.price_edges[0]), float(grid.price_edges[-1])]
    return {
        "template": DARK_TEMPLATE,
        "title": {"text": f"{title}<br><sup>{ESTIMATE_NOTE}</sup>", "x": 0.01},
        "height": 500,
        "margin": {"l": 60, "r": 20, "t": 100, "b": 40},
        "uirevision": uirevision,
        "showlegend": False,
        "coloraxis": {
            "colorscale": HEAT_COLORSCALE,
            "cmin": 0.0,
            "cmax": zmax,
            "colorbar": {
                "title": {"text": "USD at risk", "side": "top"},
                "tickvals": tickvals,
                "ticktext": ticktext,
                "thickness": 12,
                "len": 0.9,
            },
        },
        "xaxis": {"domain": [0.0, 0.485], "anchor": "y"},
        "xaxis2": {"domain": [0.515, 1.0], "anchor": "y2", "matches": "x"},
        "yaxis": {"anchor": "x", "range": price_range, "title": {"text": "price"}},
        "yaxis2": {"anchor": "x2", "matches": "y", "showticklabels": False},
        "annotations": [
            {
                "xref": "paper",
                "yref": "paper",
                "x": x,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "bottom",
                "text": text,
                "showarrow": False,
                "font": {"size": 12},
            }
            for x, text in headings
        ],
    }


def mix_figure(
    mixes: Mapping[str, Sequence[float]],
    tiers: Sequence[float],
    *,
    title: str = "Leverage mix: share of new notional per tier",
) -> go.Figure:
    """Leverage mixes side by side as grouped bars (each mix normalised to sum to one).

    Examples
    --------
    >>> fig = mix_figure({"assumed": (3, 1), "calibrated": (1, 1)}, (10, 100))
    >>> [t.name for t in fig.data], fig.data[0].y.tolist()
    (['assumed', 'calibrated'], [0.75, 0.25])
    """
    labels = [f"{lev:g}x" for lev in tiers]
    traces: list[dict[str, object]] = []
    for k, (name, weights) in enumerate(mixes.items()):
        shares = np.asarray(weights, dtype="float64")
        if len(shares) != len(labels) or shares.sum() <= 0:
            msg = f"mix {name!r} needs {len(labels)} non-negative weights, got {tuple(weights)}"
            raise ValueError(msg)
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": shares / shares.sum(),
                "name": name,
                "marker": {"color": _MIX_COLOURS[k % len(_MIX_COLOURS)]},
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            }
        )
    return go.Figure(
        data=traces,
        layout={
            "template": DARK_TEMPLATE,
            "title": {"text": title, "x": 0.01},
            "height": 380,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 70},
            "barmode": "group",
            "legend": {"orientation": "h", "y": -0.1, "yanchor": "top", "x": 0.0},
            "yaxis": {"tickformat": ".0%", "title": {"text": "share of new notional"}},
        },
    )


def reported_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`reported_scores` ready to show: sides in words, the margin over the better
    reference (naive baseline or distance-only map, when the table has it).

    Examples
    --------
    >>> raw = pd.DataFrame({"model": [0.8, 0.4], "baseline": [0.6, 0.5],
    ...                     "model_beats_baseline": [True, False]}, index=["long", "short"])
    >>> reported_table(raw)["Margin"].round(2).tolist()
    [0.2, -0.1]
    """
    model = table["model"].astype("float64")
    baseline = table["baseline"].astype("float64")
    columns = {"Model (estimate)": model.to_numpy(), "Naive baseline": baseline.to_numpy()}
    best = baseline
    if "reference" in table.columns:
        reference = table["reference"].astype("float64")
        columns["Distance-only map"] = reference.to_numpy()
        best = pd.concat([baseline, reference], axis=1).max(axis=1)
    return pd.DataFrame(
        columns
        | {
            "Margin": _shown_change((model - best).to_numpy()),
            "Model beats baseline": table["model_beats_baseline"].astype(bool).to_numpy(),
        },
        index=pd.Index(
            [{"long": "Longs", "short": "Shorts"}.get(s, str(s)) for s in table.index], name="Side"
        ),
    )


def baseline_verdict(table: pd.DataFrame, against: str) -> tuple[str, str]:
    """Whether the model beats the naive baseline, in one plain sentence.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`reported_scores`.
    against : str
        What the liquidations are, for the sentence ("the true simulated liquidations").

    Returns
    -------
    sentence : str
    verdict : {"beats", "mixed", "loses", "unscored"}

    Examples
    --------
    >>> raw = pd.DataFrame({"model": [0.8, 0.4], "baseline": [0.6, 0.5],
    ...                     "model_beats_baseline": [True, False]}, index=["long", "short"])
    >>> sentence, verdict = baseline_verdict(raw, "the reported liquidations")
    >>> verdict
    'mixed'
    >>> print(sentence)  # doctest: +NORMALIZE_WHITESPACE
    The model beats the naive baseline on longs (0.80 vs 0.60) but not on shorts
    (0.40 vs 0.50), against the reported liquidations.
    """

    def best(side: str) -> float:
        base = float(table.loc[side, "baseline"])
        if "reference" in table.columns:
            return float(np.nanmax([base, float(table.loc[side, "reference"])]))
        return base

    scored = {side: (float(table.loc[side, "model"]), best(side)) for side in ("long", "short")}
    if "reference" in table.columns:
        against = f"{against} (the better of the naive baseline and the distance-only map)"
    unscored = [side for side, pair in scored.items() if not np.all(np.isfinite(pair))]
    if unscored:
        sides = " and ".join(f"{side}s" for side in unscored)
        return (
            f"Cannot tell whether the model beats the naive baseline: {against} hold no "
            f"variation to rank for {sides} (nothing liquidated, or a constant series).",
            "unscored",
        )
    wins = [side for side, (model, base) in scored.items() if model > base]
    pairs = {side: f"{model:.2f} vs {base:.2f}" for side, (model, base) in scored.items()}
    if len(wins) == 2:
        return (
            f"The model beats the naive baseline on both sides, against {against}: longs "
            f"{pairs['long']}, shorts {pairs['short']}.",
            "beats",
        )
    if not wins:
        return (
            f"The model does not beat the naive baseline, against {against}: longs "
            f"{pairs['long']}, shorts {pairs['short']}. Here a rule that knows nothing of "
            "positions ranks the liquidations as well or better.",
            "loses",
        )
    win, lose = wins[0], "short" if wins[0] == "long" else "long"
    return (
        f"The model beats the naive baseline on {win}s ({pairs[win]}) but not on {lose}s "
        f"({pairs[lose]}), against {against}.",
        "mixed",
    )


def calibration_table(cal: Calibration, before: str = "Assumed mix") -> pd.DataFrame:
    """Before/after scores of a calibration, in and out of sample, with the change.

    Examples
    --------
    >>> scores = pd.DataFrame({"default mix": [0.5, 0.5], "calibrated mix": [0.7, 0.45]},
    ...                       index=["fit (first part)", "test (rest)"])
    >>> cal = Calibration((0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores)
    >>> calibration_table(cal).round(2).to_dict("index")["Out of sample (the unseen rest)"]
    {'Assumed mix': 0.5, 'Calibrated mix': 0.45, 'Change': -0.05}
    """
    scores = cal.scores
    return pd.DataFrame(
        {
            before: scores["default mix"].to_numpy("float64"),
            "Calibrated mix": scores["calibrated mix"].to_numpy("float64"),
            "Change": _shown_change(
                (scores["calibrated mix"] - scores["default mix"]).to_numpy("float64")
            ),
        },
        index=pd.Index(
            ["In sample (the fitted part)", "Out of sample (the unseen rest)"], name="Scored on"
        ),
    )


def overfitting_sentence(cal: Calibration, tolerance: float = 0.01) -> str:
    """What the calibration's in- and out-of-sample change says, in plain words.

    Examples
    --------
    >>> scores = pd.DataFrame({"default mix": [0.5, 0.5], "calibrated mix": [0.7, 0.45]},
    ...                       index=["fit (first part)", "test (rest)"])
    >>> cal = Calibration((0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores)
    >>> overfitting_sentence(cal).split(":")[0]
    'Overfitting'
    """
    fit, test = (cal.scores["calibrated mix"] - cal.scores["default mix"]).to_numpy("float64")
    if not (np.isfinite(fit) and np.isfinite(test)):
        return "The calibration cannot be scored: a part of the history holds nothing to rank."
    # Judge the changes as shown (two decimals): a sentence must not call two equal shown
    # numbers one a gain and the other none.
    fit, test = round(float(fit), 2), round(float(test), 2)
    in_sample, out_of_sample = _signed(fit), _signed(test)
    if fit > tolerance and test > tolerance:
        note = (
            " It helps less on the unseen part, so some of the in-sample gain is noise."
            if test < fit / 2
            else ""
        )
        return (
            f"The calibrated mix helps on the part it was fitted on ({in_sample}) and on the "
            f"unseen rest ({out_of_sample}), so it carries over.{note}"
        )
    if fit > tolerance:
        rest = "hardly" if test > 0 else "not"
        return (
            f"Overfitting: the calibrated mix scores better on the part it was fitted on "
            f"({in_sample}) but {rest} on the unseen rest ({out_of_sample}); don't trust it "
            "beyond the history it was fitted to."
        )
    if test > tolerance:
        return (
            f"The calibrated mix does not help where it was fitted ({in_sample}) but does on the "
            f"unseen rest ({out_of_sample}): likely luck of this window; don't read much into it."
        )
    return (
        f"Calibration changes little (in sample {in_sample}, out of sample {out_of_sample}): it "
        "fits dollars, the scores rank bars, and the assumed mix already ranks the bars about "
        "as well as any mix. The leverage mix is not what limits the estimate here."
    )
