"""Calibration: assumptions fitted to reported liquidations, scored on data the fit did not see.

Also :func:`correct_params`, the assumptions a simulated market was really made with.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from liqcore.analysis.scores import rank_correlation
from liqcore.model import Estimate, ModelParams, estimate
from liqcore.simulate import LIQUIDATED, SimulatedMarket

__all__ = [
    "CALIBRATION_DAYS",
    "Calibration",
    "calibrate",
    "correct_params",
    "nonnegative_least_squares",
    "recent_history",
]


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
    closed = (p.exit_bar < n) & (p.exit_reason >= 0) & (p.exit_reason != LIQUIDATED)
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
