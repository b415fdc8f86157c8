"""The simulated market: the app's default data and the ground truth behind the estimate.

An agent-style market that knows every position:

* **Traders** open positions every bar at a few random moments inside the bar,
  at the price of that moment, with a leverage drawn from a known mix
  (``leverage_mix`` over ``leverage_tiers``). More open after big moves, and the
  crowd leans long after rises (``crowd_bias`` shifts the lean for good).
* **Closes**: every position closes at random; the share that closes per bar
  follows a half-life per tier (high-leverage traders hold for hours, low-leverage
  ones for days). In aggregate a cohort of identical positions shrinks
  exponentially, which is how the truth is stored.
* **Price** moves on ``substeps`` sub-bar steps, so candles have real wicks, with
  slowly changing volatility regimes. Liquidations are forced market orders: the
  USD liquidated in a bar pushes the next bar's price further in the same
  direction (``impact``), so one cluster's liquidations can reach the next
  (cascades) and dense zones get swept ("magnets").
* **Liquidation** of a position happens exactly when the path reaches its
  isolated-margin liquidation price (:func:`liqcore.model.liquidation_price`).

The sequential part (price feedback) is one loop over bars with small numpy
operations on a fine price histogram; the truth (book over time, realized
liquidations) is computed afterwards from the cohort table with the same
vectorised functions the estimate uses, which are themselves checked against a
slow reference in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqcore.model import (
    DEFAULT_TIERS,
    Cohorts,
    Grid,
    Heatmap,
    book_at_end,
    book_over_time,
    first_crossing,
    levels_frame,
    liquidation_price,
    realized_by_bar,
)

__all__ = ["DEFAULT_MIX", "SimulatedMarket", "simulate"]

#: The true leverage mix of the simulated crowd (different from the model's default on purpose).
DEFAULT_MIX: tuple[float, ...] = (0.25, 0.30, 0.22, 0.13, 0.10)
#: Hours after which half of a tier's positions have closed (5x ... 100x).
DEFAULT_HALF_LIVES: tuple[float, ...] = (96.0, 60.0, 30.0, 14.0, 6.0)
#: The simulated history ends here, whatever today's date, so a seed always gives the same data.
END_TIME = pd.Timestamp("2026-01-01", tz="UTC")

_ENTRIES_PER_BAR = 4
_LOG_BIN = 0.0005  # fine histogram used only for the price feedback inside the loop
_IMPACT_MEMORY = 0.85  # share of the forced-order push still in the price one bar later


@dataclass(frozen=True)
class SimulatedMarket:
    """A simulated market and the truth behind it.

    Attributes
    ----------
    market : DataFrame
        The market frame, with ``taker_buy_volume``, ``long_short_ratio``,
        ``funding_rate`` and the **true** ``realized_long_usd`` / ``realized_short_usd``.
    cohorts : Cohorts
        Every group of positions: opening bar, side, tier, liquidation price, USD, and
        the bar it was liquidated in.
    log_weight : ndarray, shape (K, N)
        Cumulative log share of each tier's positions still open (random closes).
    leverage_tiers, leverage_mix : tuple of float
        The true leverage tiers and their share of new notional.
    half_life_hours : tuple of float
        The true holding half-life per tier.
    """

    market: pd.DataFrame
    cohorts: Cohorts
    log_weight: np.ndarray
    leverage_tiers: tuple[float, ...]
    leverage_mix: tuple[float, ...]
    half_life_hours: tuple[float, ...]

    def true_heatmap(self, grid: Grid) -> Heatmap:
        """The true USD at risk on a grid (pass ``estimate.heatmap.grid`` to compare).

        Examples
        --------
        >>> from liqcore.model import estimate
        >>> sim = simulate(days=1, interval="15m", seed=3)
        >>> est = estimate(sim.market)
        >>> truth = sim.true_heatmap(est.heatmap.grid)
        >>> truth.long.shape == est.heatmap.long.shape
        True
        """
        long, short = book_over_time(self.cohorts, self.log_weight, grid)
        return Heatmap(grid=grid, long=long, short=short)

    def true_levels(self, price_edges: np.ndarray) -> pd.DataFrame:
        """The true book at the last bar on these price bins (columns as ``Estimate.levels``)."""
        long, short = book_at_end(self.cohorts, self.log_weight, price_edges)
        price = float(self.market["close"].iloc[-1])
        labels = [f"{lev:g}x" for lev in self.leverage_tiers]
        return levels_frame(long, short, price_edges, price, labels)

    def true_realized(self) -> pd.DataFrame:
        """True USD liquidated per bar, total and per tier."""
        long, short = realized_by_bar(self.cohorts, self.log_weight)
        frame = pd.DataFrame(
            {"long_usd": long.sum(axis=0), "short_usd": short.sum(axis=0)},
            index=self.market.index,
        )
        for k, lev in enumerate(self.leverage_tiers):
            frame[f"long_usd_{lev:g}x"] = long[k]
            frame[f"short_usd_{lev:g}x"] = short[k]
        return frame


def _check(name: str, ok: bool, value: object, rule: str) -> None:
    if not ok:
        msg = f"{name} {rule}, got {value!r}"
        raise ValueError(msg)


def simulate(
    days: float = 30,
    interval: str = "5m",
    seed: int = 0,
    *,
    volatility: float = 0.6,
    leverage_tiers: tuple[float, ...] = DEFAULT_TIERS,
    leverage_mix: tuple[float, ...] = DEFAULT_MIX,
    half_life_hours: tuple[float, ...] = DEFAULT_HALF_LIVES,
    crowd_bias: float = 0.0,
    start_price: float = 60_000.0,
    open_interest_usd: float = 2e9,
    impact: float = 0.5,
    mmr: float = 0.004,
    substeps: int = 12,
) -> SimulatedMarket:
    """Simulate a leveraged market whose every position is known.

    Parameters
    ----------
    days : float
        Length of the history.
    interval : str
        Bar interval, pandas style or exchange style (``"5m"``, ``"15min"``, ``"1h"``).
    seed : int
        Random seed; the same seed gives the same market.
    volatility : float
        Annualised volatility of the price before liquidation feedback (0.6 = 60%).
    leverage_tiers, leverage_mix : tuple of float
        Leverage choices and the share of new notional at each (normalised).
    half_life_hours : tuple of float
        Holding half-life per tier.
    crowd_bias : float
        From -1 (everyone shorts) to 1 (everyone longs); 0 = balanced on average.
    start_price : float
        First price.
    open_interest_usd : float
        Typical open interest the crowd settles around.
    impact : float
        Price impact of liquidations: a bar that liquidates 1% of open interest moves
        the next bar's log price by ``impact`` percent.
    mmr : float
        Maintenance margin rate.
    substeps : int
        Price steps per bar (wicks come from these).

    Returns
    -------
    SimulatedMarket

    Examples
    --------
    >>> sim = simulate(days=2, interval="15m", seed=7)
    >>> len(sim.market), sim.market.index.freqstr is None or True
    (192, True)
    >>> bool(sim.market["realized_long_usd"].sum() > 0)
    True
    """
    step = pd.Timedelta(_pandas_interval(interval))
    _check("days", days > 0, days, "must be positive")
    _check("interval", step >= pd.Timedelta("1min"), interval, "must be at least 1 minute")
    n = round(pd.Timedelta(days=days) / step)
    _check("days", 8 <= n <= 600_000, days, f"at interval {interval} must give 8-600000 bars")
    _check("volatility", 0 < volatility <= 5, volatility, "must be in (0, 5]")
    _check("crowd_bias", -1 <= crowd_bias <= 1, crowd_bias, "must be in [-1, 1]")
    _check("substeps", 2 <= substeps <= 100, substeps, "must be in 2-100")
    _check(
        "leverage_mix",
        len(leverage_mix) == len(leverage_tiers),
        leverage_mix,
        "needs one weight per tier",
    )
    _check(
        "half_life_hours",
        len(half_life_hours) == len(leverage_tiers),
        half_life_hours,
        "needs one value per tier",
    )
    mix = np.asarray(leverage_mix, dtype="float64")
    _check(
        "leverage_mix",
        bool((mix >= 0).all() and mix.sum() > 0),
        leverage_mix,
        "must be non-negative, not all zero",
    )
    mix = mix / mix.sum()
    tiers = np.asarray(leverage_tiers, dtype="float64")
    _check("leverage_tiers", bool((tiers > 1).all()), leverage_tiers, "must all be above 1x")

    rng = np.random.default_rng(seed)
    bar_hours = step.total_seconds() / 3600.0
    close_share = 1.0 - 0.5 ** (bar_hours / np.asarray(half_life_hours, dtype="float64"))
    plan = _plan_bars(rng, n, bar_hours, volatility, substeps, tiers, mix, mmr)
    record = _run_market(
        plan, n, tiers, mix, close_share, start_price, open_interest_usd, impact, crowd_bias
    )
    return _assemble(plan, record, step, tiers, mix, close_share, half_life_hours, mmr, rng)


@dataclass(frozen=True)
class _BarPlan:
    """Everything about each bar that does not depend on the price level (drawn up front).

    Impact from forced orders enters a bar as a jump at its first step, so the shape of
    the path inside a bar, relative to where it starts, is known in advance; so are the
    entries and which new positions die inside their opening bar.
    """

    rel_low: np.ndarray  # (n,) path minimum relative to the bar's starting level (log)
    rel_high: np.ndarray
    rel_close: np.ndarray
    entry_rel: np.ndarray  # (n, 2, E) entry relative to the starting level (log)
    dies: np.ndarray  # (n, 2, E, K) liquidated later inside the opening bar
    level_rel: np.ndarray  # (n, 2, E, K) log liquidation level relative to the start
    bar_sigma: float
    open_noise: np.ndarray
    lean_noise: np.ndarray


def _plan_bars(
    rng: np.random.Generator,
    n: int,
    bar_hours: float,
    volatility: float,
    substeps: int,
    tiers: np.ndarray,
    mix: np.ndarray,
    mmr: float,
) -> _BarPlan:
    sigma_step = volatility * np.sqrt(bar_hours / (24 * 365) / substeps)
    # Volatility regimes: a slow AR(1) in log volatility, so calm weeks and wild days alternate.
    regime = _ou(rng, n, theta=bar_hours / 72.0, scale=0.35)
    shocks = rng.standard_normal((n, substeps)) * (sigma_step * np.exp(regime))[:, None]
    path = np.cumsum(shocks, axis=1)  # relative to the level the bar starts from
    entry_steps = rng.integers(0, substeps - 1, size=(n, 2, _ENTRIES_PER_BAR))
    rows = np.arange(n)[:, None, None]
    entry_rel = path[rows, entry_steps]
    after_min = np.minimum.accumulate(path[:, ::-1], axis=1)[:, ::-1]
    after_max = np.maximum.accumulate(path[:, ::-1], axis=1)[:, ::-1]
    log_factor = np.log(
        np.stack([(1.0 - 1.0 / tiers) / (1.0 - mmr), (1.0 + 1.0 / tiers) / (1.0 + mmr)])
    )  # (2, K): long, short
    level_rel = entry_rel[..., None] + log_factor[None, :, None, :]
    later_low = after_min[rows, entry_steps + 1]  # (n, 2, E)
    later_high = after_max[rows, entry_steps + 1]
    dies = np.empty(level_rel.shape, dtype=bool)
    dies[:, 0] = later_low[:, 0, :, None] <= level_rel[:, 0]
    dies[:, 1] = later_high[:, 1, :, None] >= level_rel[:, 1]
    return _BarPlan(
        rel_low=np.minimum(path.min(axis=1), 0.0),
        rel_high=np.maximum(path.max(axis=1), 0.0),
        rel_close=path[:, -1],
        entry_rel=entry_rel,
        dies=dies,
        level_rel=level_rel,
        bar_sigma=float(sigma_step * np.sqrt(substeps)),
        open_noise=np.exp(rng.normal(0.0, 0.35, size=n)),
        lean_noise=rng.normal(0.0, 0.08, size=n),
    )


@dataclass(frozen=True)
class _Record:
    start_level: np.ndarray  # (n,) log level each bar's path starts from (after the impact jump)
    open_log: np.ndarray  # (n,) previous close (the candle's open)
    activity: np.ndarray  # (n,) USD opened per side at an even lean
    lean: np.ndarray  # (n,) share of new notional that is long
    book_total: np.ndarray  # (n, 2) open USD at the close, longs and shorts
    closed_usd: np.ndarray  # (n,) USD closed at random in the bar


def _run_market(
    plan: _BarPlan,
    n: int,
    tiers: np.ndarray,
    mix: np.ndarray,
    close_share: np.ndarray,
    start_price: float,
    open_interest_usd: float,
    impact: float,
    crowd_bias: float,
) -> _Record:
    """The sequential core: one pass over bars with a handful of small numpy operations each.

    Everything that does not depend on the price level was drawn in :func:`_plan_bars`;
    what is left here is the feedback: where the book sits, what the bar liquidates,
    and how far the forced orders push the next bar.
    """
    k_count = len(tiers)
    entries = _ENTRIES_PER_BAR
    log_lo = np.log(start_price) - 4.0
    bins = int(8.0 / _LOG_BIN) + 1
    # Fine log-price histograms of open levels [side, tier, bin] in units of `scale` (random
    # closes are applied lazily through `scale`); `totals` mirrors each (side, tier) sum.
    book = np.zeros(2 * k_count * bins)
    book3 = book.reshape(2, k_count, bins)
    totals = np.zeros((2, k_count))
    scale = np.ones(k_count)
    survive = 1.0 - close_share
    shape = (2, entries, k_count)
    side_of = np.broadcast_to(np.arange(2)[:, None, None], shape).ravel()
    tier_of = np.broadcast_to(np.arange(k_count)[None, None, :], shape).ravel()
    flat_base = (side_of * k_count + tier_of) * bins
    per_cohort = np.tile(mix, 2 * entries) * 2.0 / entries
    alive = (~plan.dies).reshape(n, -1).astype("float64")
    share_long = alive * np.where(side_of == 0, per_cohort, 0.0)  # USD per unit of long flow
    share_short = alive * np.where(side_of == 1, per_cohort, 0.0)
    level_bins = plan.level_rel.reshape(n, -1) / _LOG_BIN
    # Extremes of the new levels each bar (relative), to track the book's edge in Python floats.
    new_top_long = np.where(alive[:, side_of == 0] > 0, level_bins[:, side_of == 0], -np.inf)
    new_top_long = new_top_long.max(axis=1).tolist()
    new_bottom_short = np.where(alive[:, side_of == 1] > 0, level_bins[:, side_of == 1], np.inf)
    new_bottom_short = new_bottom_short.min(axis=1).tolist()
    lo_bins = float(np.min(level_bins))
    hi_bins = float(np.max(level_bins))
    dead_long = ((plan.dies[:, 0] * mix).sum(axis=(1, 2)) * 2.0 / entries).tolist()
    dead_short = ((plan.dies[:, 1] * mix).sum(axis=(1, 2)) * 2.0 / entries).tolist()
    rel_low, rel_high, rel_close = (
        x.tolist() for x in (plan.rel_low, plan.rel_high, plan.rel_close)
    )
    open_noise, lean_noise = plan.open_noise.tolist(), plan.lean_noise.tolist()
    base_open = open_interest_usd * float(np.dot(mix, close_share))
    # Fold the lazy scale into the book before the fastest-closing tier's scale underflows.
    fold_every = max(1, int(300.0 / -np.log(max(float(survive.min()), 1e-300))))

    start_level = np.empty(n)
    open_log = np.empty(n)
    activity_rec = np.empty(n)
    lean_rec = np.empty(n)
    tier_book = np.empty((n, 2, k_count))
    top_long, bottom_short = -1, bins  # highest long bin / lowest short bin in use
    log_price = float(np.log(start_price))
    transient = 0.0  # the part of log price that forced orders pushed and that fades again
    pressure = 0.0  # last bar's net forced selling as a share of open interest
    trend = 0.0
    for t in range(n):
        new_transient = _IMPACT_MEMORY * transient - impact * pressure
        level = log_price + (new_transient - transient)
        transient = new_transient
        open_log[t] = log_price
        start_level[t] = level
        bar_low = min(level + rel_low[t], log_price)
        bar_high = max(level + rel_high[t], log_price)
        liq_long = liq_short = 0.0
        # Forced liquidations of what was open before this bar.
        i_low = max(int((bar_low - log_lo) / _LOG_BIN), 0)
        if i_low <= top_long:
            hit = book3[0, :, i_low : top_long + 1].sum(axis=1)
            book3[0, :, i_low : top_long + 1] = 0.0
            totals[0] -= hit
            liq_long = float(hit @ scale)
            top_long = i_low - 1
        i_high = min(int((bar_high - log_lo) / _LOG_BIN), bins - 1)
        if i_high >= bottom_short:
            hit = book3[1, :, bottom_short : i_high + 1].sum(axis=1)
            book3[1, :, bottom_short : i_high + 1] = 0.0
            totals[1] -= hit
            liq_short = float(hit @ scale)
            bottom_short = i_high + 1
        # Random closes over the bar (what closed is worked out afterwards from tier_book).
        scale *= survive
        if t % fold_every == fold_every - 1:
            book3 *= scale[None, :, None]
            totals *= scale
            scale[:] = 1.0
        # New positions: more after big moves, leaning with the recent trend.
        close_log = level + rel_close[t]
        move = (close_log - log_price) / plan.bar_sigma
        trend = 0.9 * trend + 0.1 * move
        activity = base_open * open_noise[t] * (1.0 + 0.3 * min(abs(move), 6.0))
        lean = 0.5 + 0.5 * crowd_bias + 0.1 * np.tanh(trend) + lean_noise[t]
        lean = min(max(lean, 0.05), 0.95)
        activity_rec[t], lean_rec[t] = activity, lean
        liq_long += activity * lean * dead_long[t]
        liq_short += activity * (1.0 - lean) * dead_short[t]
        base = (level - log_lo) / _LOG_BIN
        idx = (base + level_bins[t]).astype(np.int64)
        if base + lo_bins < 0 or base + hi_bins >= bins:  # far outside the start: pile at the edge
            np.clip(idx, 0, bins - 1, out=idx)
        units = (activity * lean) * share_long[t] + (activity * (1.0 - lean)) * share_short[t]
        units /= scale[tier_of]
        np.add.at(book, flat_base + idx, units)
        totals += units.reshape(shape).sum(axis=1)
        top_long = min(max(top_long, int(base + new_top_long[t])), bins - 1)
        bottom_short = max(min(bottom_short, int(base + new_bottom_short[t])), 0)
        np.multiply(totals, scale, out=tier_book[t])
        open_interest = max(0.5 * float(tier_book[t].sum()), 1.0)
        # Forced orders: long liquidations sell, short liquidations buy.
        pressure = min(max((liq_long - liq_short) / open_interest, -0.05), 0.05)
        log_price = close_log
    book_total = tier_book.sum(axis=2)
    # Random closes of bar t act on the book as it stood after bar t-1's openings.
    before = np.concatenate([np.zeros((1, 2, k_count)), tier_book[:-1]])
    closed_usd = (before * close_share).sum(axis=(1, 2))
    return _Record(start_level, open_log, activity_rec, lean_rec, book_total, closed_usd)


def _assemble(
    plan: _BarPlan,
    record: _Record,
    step: pd.Timedelta,
    tiers: np.ndarray,
    mix: np.ndarray,
    close_share: np.ndarray,
    half_life_hours: tuple[float, ...],
    mmr: float,
    rng: np.random.Generator,
) -> SimulatedMarket:
    """Turn the loop's records into the market frame and the exact truth."""
    n, k_count = len(record.activity), len(tiers)
    level = record.start_level
    open_ = np.exp(record.open_log)
    close = np.exp(level + plan.rel_close)
    high = np.maximum(np.exp(level + plan.rel_high), open_)
    low = np.minimum(np.exp(level + plan.rel_low), open_)

    # Cohort table: one row per (bar, side, entry moment, tier).
    shape = plan.level_rel.shape  # (n, 2, E, K)
    side_share = np.stack([2.0 * record.lean, 2.0 * (1.0 - record.lean)], axis=1)  # (n, 2)
    usd = (record.activity[:, None] * side_share / _ENTRIES_PER_BAR)[:, :, None, None] * mix
    usd = np.broadcast_to(usd, shape).ravel()
    bar_idx = np.broadcast_to(np.arange(n)[:, None, None, None], shape).ravel()
    is_long = np.broadcast_to(np.array([True, False])[None, :, None, None], shape).ravel()
    tier = np.broadcast_to(np.arange(k_count)[None, None, None, :], shape).ravel()
    entry = np.exp(level[:, None, None] + plan.entry_rel)
    entry = np.broadcast_to(entry[..., None], shape).ravel()
    liq = liquidation_price(entry, tiers[tier], is_long, mmr)
    removal = first_crossing(low, high, bar_idx + 1, liq, is_long)
    removal = np.where(plan.dies.ravel(), bar_idx, removal)
    keep = usd > 0
    cohorts = Cohorts(
        open_bar=bar_idx[keep].astype("int64"),
        tier=tier[keep].astype("int64"),
        is_long=is_long[keep],
        liq_price=liq[keep],
        usd=usd[keep],
        removal_bar=removal[keep].astype("int64"),
    )
    log_weight = np.arange(n, dtype="float64")[None, :] * np.log1p(-close_share)[:, None]

    realized_long, realized_short = realized_by_bar(cohorts, log_weight)
    opened = record.activity[:, None] * side_share  # (n, 2) USD opened, longs and shorts
    long_book, short_book = record.book_total[:, 0], record.book_total[:, 1]
    open_interest = 0.5 * (long_book + short_book)
    # Traded notional: openings, closes, liquidations, and flow that nets out (market makers).
    churn = open_interest * 0.002 * np.exp(rng.normal(0.0, 0.3, size=n))
    closed = record.closed_usd
    buys = opened[:, 0] + 0.5 * closed + realized_short.sum(axis=0) + churn
    sells = opened[:, 1] + 0.5 * closed + realized_long.sum(axis=0) + churn
    typical = (high + low + close) / 3.0
    volume_usd = 0.5 * (buys + sells)
    ratio = np.maximum(long_book, 1.0) / np.maximum(short_book, 1.0)
    index = pd.date_range(end=END_TIME - step, periods=n, freq=step, name="time")
    market = pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume_usd / typical,
            "open_interest": open_interest,
            "taker_buy_volume": 0.5 * buys / typical,
            "long_short_ratio": ratio,
            "funding_rate": 0.0001 + 0.0004 * np.tanh(2.0 * np.log(ratio)),
            "realized_long_usd": realized_long.sum(axis=0),
            "realized_short_usd": realized_short.sum(axis=0),
        },
        index=index,
    )
    market.attrs["source"] = "sim"
    return SimulatedMarket(
        market=market,
        cohorts=cohorts,
        log_weight=log_weight,
        leverage_tiers=tuple(float(x) for x in tiers),
        leverage_mix=tuple(float(x) for x in mix),
        half_life_hours=tuple(float(h) for h in half_life_hours),
    )


def _ou(rng: np.random.Generator, n: int, theta: float, scale: float) -> np.ndarray:
    """Stationary AR(1) path ``x[t] = (1 - theta) x[t-1] + e[t]`` with standard deviation ``scale``.

    Solved in closed form, ``x[t] = phi**t * cumsum(e / phi**j)``, block by block so
    that ``phi**j`` never underflows; only the block boundaries are a Python loop.
    """
    phi = 1.0 - min(max(theta, 1e-9), 1.0 - 1e-9)
    noise = rng.standard_normal(n) * scale * np.sqrt(1.0 - phi**2)
    block = max(1, min(n, int(200.0 / -np.log(phi))))  # phi**block >= e**-200
    powers = phi ** np.arange(1, block + 1)
    out = np.empty(n)
    carry = 0.0
    for begin in range(0, n, block):
        chunk = noise[begin : begin + block]
        p = powers[: len(chunk)]
        out[begin : begin + len(chunk)] = p * (carry + np.cumsum(chunk / p))
        carry = out[begin + len(chunk) - 1]
    return out


def _pandas_interval(interval: str) -> str:
    """Accept exchange-style intervals ("5m", "1h", "1d") as well as pandas ones."""
    text = interval.strip()
    if text.endswith("m") and text[:-1].isdigit():
        return text[:-1] + "min"
    return text
