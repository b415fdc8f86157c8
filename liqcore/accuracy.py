"""How good is the map? Scores against the simulated truth and against reported liquidations.

Every score here is a **rank** correlation (Spearman): a liquidation map is read for
*where* the big levels are relative to each other, not for its absolute dollars, and
the model's dollar scale depends on assumptions (how much of the volume opens
positions) that ranks do not care about.

* :func:`truth_scores` -- on the simulated market: the current book over price bins,
  the book over time (every cell of the heatmap grid), realized liquidations per bar,
  and the share of the true USD at risk that sits in the estimate's top-decile cells.
* :func:`reported_scores` -- on any market frame with ``realized_long_usd`` /
  ``realized_short_usd``: the model's estimated realized liquidations against the
  reported ones per side, next to :func:`naive_baseline`, which knows nothing of
  positions.
* :func:`calibrate` -- fits the leverage-tier weights to reported liquidations
  (non-negative least squares on the per-tier estimated series, normalised to sum to
  one) on the first part of the history and scores the fit on the rest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from liqcore.model import Estimate, ModelParams, estimate
from liqcore.simulate import SimulatedMarket

__all__ = [
    "Calibration",
    "calibrate",
    "naive_baseline",
    "nonnegative_least_squares",
    "rank_correlation",
    "reported_scores",
    "top_decile_capture",
    "truth_scores",
]


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
    the bar's volume.

    Longs: ``(open − low) / open · volume``; shorts: ``(high − open) / open · volume``.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"open": [100.0, 100], "high": [110.0, 101], "low": [90.0, 99],
    ...                   "close": [100.0, 100], "volume": [10.0, 20]}, index=idx)
    >>> naive_baseline(m).round(3).to_dict("list")
    {'long_usd': [1.0, 0.2], 'short_usd': [1.0, 0.2]}
    """
    open_ = market["open"].to_numpy()
    volume = market["volume"].to_numpy()
    return pd.DataFrame(
        {
            "long_usd": (open_ - market["low"].to_numpy()) / open_ * volume,
            "short_usd": (market["high"].to_numpy() - open_) / open_ * volume,
        },
        index=market.index,
    )


def truth_scores(est: Estimate, sim: SimulatedMarket) -> dict[str, float]:
    """Scores of an estimate against the simulated truth on the estimate's own grid.

    Returns
    -------
    dict
        ``book_now`` (rank correlation over price bins of the current book, longs and
        shorts together), ``book_over_time`` (over every heatmap cell), ``realized_long``
        and ``realized_short`` (per bar, over the heatmap's window), and
        ``top_decile_capture`` (of the true book over time).
    """
    grid = est.heatmap.grid
    truth = sim.true_heatmap(grid)
    true_levels = sim.true_levels(grid.price_edges)
    book_est = est.levels["long_usd"].to_numpy() + est.levels["short_usd"].to_numpy()
    book_true = true_levels["long_usd"].to_numpy() + true_levels["short_usd"].to_numpy()
    shown = est.realized.index[grid.start_bar :]
    true_realized = sim.true_realized().reindex(shown)
    est_realized = est.realized.loc[shown]
    return {
        "book_now": rank_correlation(book_est, book_true),
        "book_over_time": rank_correlation(est.heatmap.total, truth.total),
        "realized_long": rank_correlation(est_realized["long_usd"], true_realized["long_usd"]),
        "realized_short": rank_correlation(est_realized["short_usd"], true_realized["short_usd"]),
        "top_decile_capture": top_decile_capture(est.heatmap.total, truth.total),
    }


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
        Rows ``long`` and ``short``; columns ``model``, ``baseline``, ``model_beats_baseline``.
    """
    for column in ("realized_long_usd", "realized_short_usd"):
        if column not in market.columns:
            msg = f"the market frame has no {column!r}: no reported liquidations to score against"
            raise ValueError(msg)
    bars = realized.index if index is None else index
    baseline = naive_baseline(market).loc[bars]
    rows = {}
    for side in ("long", "short"):
        reported = market.loc[bars, f"realized_{side}_usd"]
        model = rank_correlation(realized.loc[bars, f"{side}_usd"], reported)
        base = rank_correlation(baseline[f"{side}_usd"], reported)
        rows[side] = {
            "model": model,
            "baseline": base,
            "model_beats_baseline": bool(model > base),
        }
    return pd.DataFrame(rows).T


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
    """Fitted leverage mix and its scores before and after, in and out of sample.

    ``scores`` has rows ``fit (first part)`` and ``test (rest)`` and columns
    ``default mix`` and ``calibrated mix``: rank correlations of the estimated realized
    liquidations (longs and shorts together) with the reported ones.
    """

    weights: tuple[float, ...]
    tiers: tuple[float, ...]
    split_time: pd.Timestamp
    scores: pd.DataFrame

    def params(self, base: ModelParams) -> ModelParams:
        """``base`` with the calibrated tier weights."""
        return replace(base, leverage_tiers=self.tiers, tier_weights=self.weights)


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


def calibrate(
    market: pd.DataFrame, params: ModelParams | None = None, fit_share: float = 0.6
) -> Calibration:
    """Fit the leverage-tier weights to reported liquidations, scored out of sample.

    Parameters
    ----------
    market : DataFrame
        Market frame with ``realized_long_usd`` and ``realized_short_usd``.
    params : ModelParams, optional
        The other assumptions (tiers, mmr, opening...); every tier gets an equal weight
        while fitting so each has a series to fit.
    fit_share : float
        Share of the history (from its start) used to fit; the rest only scores.

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
    equal = replace(params, tier_weights=tuple(1.0 for _ in params.leverage_tiers))
    est = estimate(market, equal)
    unit = _unit_tier_series(est, equal)
    reported = (market["realized_long_usd"] + market["realized_short_usd"]).to_numpy()
    cut = int(len(market) * fit_share)
    if cut < 10 or len(market) - cut < 10:
        msg = f"too little history to fit and test ({len(market)} bars)"
        raise ValueError(msg)
    # Scale columns so the fit is not dominated by the tiers with the largest dollars.
    scale = unit[:cut].std(axis=0)
    scale[scale == 0] = 1.0
    coef = nonnegative_least_squares(unit[:cut] / scale, reported[:cut]) / scale
    if coef.sum() <= 0:
        coef = np.ones_like(coef)
    weights = coef / coef.sum()
    default = params.normalized_weights()
    rows = {}
    for name, part in (("fit (first part)", slice(0, cut)), ("test (rest)", slice(cut, None))):
        rows[name] = {
            "default mix": rank_correlation(unit[part] @ default, reported[part]),
            "calibrated mix": rank_correlation(unit[part] @ weights, reported[part]),
        }
    return Calibration(
        weights=tuple(float(w) for w in weights),
        tiers=tuple(params.leverage_tiers),
        split_time=market.index[cut],
        scores=pd.DataFrame(rows).T,
    )
