"""The simulated market: the app's default data and the ground truth behind the estimate.

A market of individual positions whose mechanics are deliberately **not** the
estimator's (:mod:`liqcore.model`), so that scores measured on it are not flattered.
Each mechanism, its parameter and why it is realistic:

* **Two-sided trades** -- every contract has a buyer and a seller, so the base units
  held long equal those held short at every bar (no perpetual can do otherwise).
  A closing or liquidated long is matched by a new long (someone buys it) or by a
  closing short; the side with more exits gets that many extra openings
  (:func:`simulate` keeps ``long units == short units`` exactly). The crowd's
  **lean** (``crowd_bias`` plus a slow random lean, :class:`Regime`) shows up where
  it does on a real exchange: the leaning side is taken by leveraged *takers*, the
  other side by lower-leverage *makers*, the takers' flow pushes price (a drift of
  ``0.08·lean`` bar-sigmas per bar) and sets funding. Leveraged taker longs against
  patient maker shorts also give the real long/short asymmetry of liquidations.
* **Leverage per position** -- takers draw a leverage from a continuous distribution
  over 1-125x: ``crowd_mix`` gives the share of their notional in each of five
  bands around 5/10/25/50/100x (log-uniform inside a band, rounded to whole numbers
  and capped at 125x as Binance caps BTC). Makers draw from a log-normal with median
  3x (1-10x). Exchanges only offer whole-number leverage settings.
* **Cross margin** -- a share of positions (``Regime.cross_share``, 35 % by default)
  is on cross margin: the account's spare equity ``b`` (a fraction of the position's
  notional, log-normal with median 12 %, 2-60 %) widens the distance to
  liquidation from ``1/L`` to ``1/L + b``. Real top Hyperliquid accounts set 20-40x
  yet mostly sit 20-50 % away from liquidation; a cross 20x with ``b = 0.3`` is
  liquidated like an isolated 3x.
* **Liquidation price** -- with maintenance margin rate ``mmr`` and the funding paid
  since opening (per unit: ``Φ(t) − Φ(t0)``, :attr:`SimulatedMarket.funding_index`),
  a long opened at ``e`` is liquidated in the first bar whose low satisfies
  ``low·(1 − mmr) − Φ(t) ≤ e·(1 − 1/L − b) − Φ(t0)`` (a short: high,
  ``high·(1 + mmr) − Φ(t) ≥ e·(1 + 1/L + b) − Φ(t0)``). With ``b = 0`` and no
  funding that is the isolated formula of :func:`liqcore.model.liquidation_price`.
* **Funding from the lean, paid from margin** -- every bar longs pay shorts
  ``(0.01 % + 0.03 %·lean)`` per 8 hours of notional (capped at ±0.75 %, Binance's
  cap), so a long's liquidation price creeps up while the crowd leans long, as it
  does on a real exchange where funding is taken from the position's margin.
* **P&L-driven closes** -- a share of positions (``Regime.stop_share``) has a stop-loss
  order a share ``U(0.3, 0.85)`` of the way to its liquidation price; a share
  (``Regime.take_profit_share``) a take-profit at a gain of ``g`` times its margin
  (``g`` log-normal, median 0.6). A stop sits before the liquidation price, so in
  a bar that reaches both the stop closes the position first: such positions are
  never liquidated and are not part of the true liquidation book.
* **Time closes** -- every position also closes after a holding time drawn from an
  exponential with mean ``hold_hours(L) = 120 h / L**0.6`` (5 days at 1x, 30 h at
  10x, 8 h at 100x): high-leverage traders hold for hours, low-leverage ones for days.
* **Forced orders walk a book** -- the USD liquidated in a bar (longs sell, shorts
  buy) moves the next bar's price by the square-root law of
  :func:`liqcore.orderbook.impact`, with depth from the rolling traded volume and
  the rolling volatility (exponential averages over about a day); 40 % of the push
  stays, 60 % fades with a half-life of an hour (the book refills). Small
  liquidations against a deep book barely move price; leverage piled up near price
  liquidates enough to reach the next pile: a **cascade** (:func:`cascades`).
* **Price** -- log returns on ``substeps`` sub-bar steps (so wicks are Brownian-like:
  their share of the range is about one half, as on real candles), with volatility
  clustering from three log-volatility components: a slow one (half-life 5 days),
  a fast one (half-life 3 hours) and a per-bar one, normalised so that
  ``volatility`` is the realised annualised volatility of hourly log returns of
  the market you get (±25 %, checked by ``python -m liqcore.analysis.realism``).
* **Entries** -- 12 groups of traders open per side per bar: takers at a random
  sub-step of the bar (the rest of that bar's path can already stop, liquidate or
  take profit on them, as 100x scalpers know), makers at the close.

Regimes (:data:`REGIMES`): ``"typical"`` (default, inside every band of the realism
report), ``"calm"`` (less leverage, milder volatility clustering) and ``"stress"``
(the book thins; over the last ``ramp_days`` of the history takers' leverage and
lean build up, and a large seller near the end sets off a cascade through the
piled-up longs: a build-up then a cascade, whatever the history's length).

The sequential part is one loop over bars with small numpy operations on the open
positions (a few hundred to a few thousand); everything that does not depend on the
price level is drawn up front, and the truth (:meth:`SimulatedMarket.true_heatmap`,
:meth:`~SimulatedMarket.true_levels`, :meth:`~SimulatedMarket.true_realized`) is
computed afterwards, vectorised, from the recorded positions and the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqcore.model import DEFAULT_TIERS, Grid, Heatmap, levels_frame
from liqcore.orderbook import DEFAULT_STRENGTH, Liquidity, impact

__all__ = [
    "CLOSE_REASONS",
    "CROWDS",
    "DEFAULT_MIX",
    "REGIMES",
    "Positions",
    "Regime",
    "SimulatedMarket",
    "cascades",
    "hold_hours",
    "simulate",
]

#: Leverage mixes of the simulated takers: their notional in the bands around 5x, 10x, 25x,
#: 50x and 100x. On the Accuracy page they are also the mixes offered to the model.
CROWDS: dict[str, tuple[float, ...]] = {
    "Cautious": (0.45, 0.30, 0.15, 0.07, 0.03),
    "Retail": (0.25, 0.30, 0.22, 0.13, 0.10),
    "Degen": (0.10, 0.15, 0.25, 0.25, 0.25),
}
#: The crowd of :func:`simulate` when none is given.
DEFAULT_MIX: tuple[float, ...] = CROWDS["Retail"]
#: Highest leverage an exchange offers (Binance BTCUSDT).
MAX_LEVERAGE = 125
#: The simulated history ends here, whatever today's date, so a seed always gives the same data.
END_TIME = pd.Timestamp("2026-01-01", tz="UTC")
#: Why a position closed (:attr:`Positions.exit_reason`); -1 = still open at the end.
TIME, STOP, LIQUIDATED, TAKE_PROFIT = 0, 1, 2, 3
CLOSE_REASONS = ("time", "stop-loss", "liquidation", "take-profit")

_SLOTS = 12  # positions opened per side per bar (slot 0: a maker)
_BAND_EDGES = (1.0, 7.0, 16.0, 35.0, 71.0, 125.0)  # leverage bands around the five tiers
_FUNDING_BASE_8H = 0.0001
_FUNDING_LEAN_8H = 0.0003
_FUNDING_CAP_8H = 0.0075
_PRESSURE = 0.08  # drift per bar, in bar-sigmas, per unit of lean deviation
_PERMANENT = 0.4  # share of a forced-order push that stays in the price
_REFILL_HALF_LIFE_H = 1.0
_LIQUIDITY_DAYS = 1.0  # memory of the rolling volume and volatility behind the book depth
_CHURN_PER_DAY = 1.2  # traded notional per day that nets out (market makers), x open interest
#: Standard deviations of the slow, fast and per-bar log-volatility components.
_LOG_VOL_SD = (0.38, 0.35, 0.35)
#: Forced orders add about 7 % to the volatility: the diffusion gets that much less.
_FEEDBACK_VOL = 0.93


@dataclass(frozen=True)
class Regime:
    """The settings that make a market calm, typical or stressed.

    Attributes
    ----------
    name : str
        ``"typical"``, ``"calm"`` or ``"stress"``.
    lean_mean : float
        Average lean of the crowd (-1 all short ... 1 all long) before ``crowd_bias``.
    lean_spread : float
        Standard deviation of the slow random lean.
    leverage_scale : tuple of float
        Takers' leverage multiplier at the start and at the end of the history.
    lean_ramp : float
        Lean added linearly over the history (the crowd piles in).
    cross_share, stop_share, take_profit_share : float
        Shares of positions on cross margin, with a stop-loss, with a take-profit.
    vol_of_vol : float
        Scale of the volatility clustering (1 = typical).
    book_thinness : float
        Multiplier of the impact law's strength (a thinner book moves more).
    shock_at : float or None
        Share of the build-up at which a large seller arrives (None = never).
    ramp_days : float or None
        Days before the end over which leverage and lean build up (None = the whole
        history). A year-long ramp would pile leverage up for months and liquidate
        the market into the ground; real build-ups take weeks.
    """

    name: str
    lean_mean: float = 0.3
    lean_spread: float = 0.2
    leverage_scale: tuple[float, float] = (1.0, 1.0)
    lean_ramp: float = 0.0
    cross_share: float = 0.35
    stop_share: float = 0.25
    take_profit_share: float = 0.4
    vol_of_vol: float = 1.0
    book_thinness: float = 1.0
    shock_at: float | None = None
    ramp_days: float | None = None


#: The regimes the sidebar offers.
REGIMES: dict[str, Regime] = {
    "typical": Regime("typical"),
    "calm": Regime(
        "calm", lean_spread=0.12, leverage_scale=(0.6, 0.6), vol_of_vol=0.6, stop_share=0.45
    ),
    "stress": Regime(
        "stress",
        lean_spread=0.15,
        leverage_scale=(1.0, 2.6),
        lean_ramp=0.55,
        cross_share=0.15,
        stop_share=0.15,
        take_profit_share=0.25,
        vol_of_vol=0.8,
        book_thinness=2.0,
        shock_at=0.85,
        ramp_days=45.0,
    ),
}


def hold_hours(leverage: float | np.ndarray) -> float | np.ndarray:
    """Mean holding time in hours of a position at this leverage: ``120 / L**0.6``.

    Examples
    --------
    >>> [round(float(hold_hours(x))) for x in (1, 10, 100)]
    [120, 30, 8]
    """
    return 120.0 / np.asarray(leverage, dtype="float64") ** 0.6


@dataclass(frozen=True)
class Positions:
    """Every simulated position (one row = a group of traders with the same terms).

    Attributes
    ----------
    open_bar : int64 array
        Bar at whose close the position opened (entry = that close).
    is_long : bool array
    leverage : float64 array
        The whole-number leverage setting (1-125).
    buffer : float64 array
        Spare account equity as a fraction of notional (0 for isolated margin).
    entry : float64 array
        Entry price.
    qty : float64 array
        Size in base units.
    liq_key : float64 array
        The liquidation rule's constant: long ``e·(1 − 1/L − b) − Φ(t0)``, short
        ``Φ(t0) − e·(1 + 1/L + b)``; ``-inf`` when it can never be liquidated.
    has_stop : bool array
    exit_bar : int64 array
        Bar in which it closed (``n_bars`` if still open).
    exit_reason : int8 array
        :data:`CLOSE_REASONS` index, -1 if still open.
    """

    open_bar: np.ndarray
    is_long: np.ndarray
    leverage: np.ndarray
    buffer: np.ndarray
    entry: np.ndarray
    qty: np.ndarray
    liq_key: np.ndarray
    has_stop: np.ndarray
    exit_bar: np.ndarray
    exit_reason: np.ndarray

    @property
    def usd(self) -> np.ndarray:
        """Notional at opening, USD."""
        return self.qty * self.entry

    @property
    def effective_leverage(self) -> np.ndarray:
        """Isolated leverage with the same liquidation distance: ``1/(1/L + b)``."""
        return 1.0 / (1.0 / self.leverage + self.buffer)

    @property
    def in_book(self) -> np.ndarray:
        """Positions that can be liquidated: no stop, and a liquidation price above zero."""
        return ~self.has_stop & np.isfinite(self.liq_key)


@dataclass(frozen=True)
class SimulatedMarket:
    """A simulated market and the truth behind it.

    Attributes
    ----------
    market : DataFrame
        The market frame, with ``taker_buy_volume``, ``long_short_ratio``,
        ``funding_rate`` and the **true** ``realized_long_usd`` / ``realized_short_usd``.
    positions : Positions
        Every position, its terms and its fate.
    funding_index : ndarray, shape (N,)
        Cumulative funding paid by a long per unit held, through each bar (USD).
    mmr : float
        Maintenance margin rate of the simulated exchange.
    regime : str
        The regime simulated.
    crowd_mix : tuple of float
        The takers' leverage bands (the input ``crowd_mix``).
    leverage_tiers : tuple of float
        The estimator's tiers the truth is binned into.
    leverage_mix : tuple of float
        The true liquidation book's notional share per tier (:meth:`tier_mix`).
    """

    market: pd.DataFrame
    positions: Positions
    funding_index: np.ndarray
    mmr: float
    regime: str
    crowd_mix: tuple[float, ...]
    leverage_tiers: tuple[float, ...]
    leverage_mix: tuple[float, ...]

    def liquidation_price(self, bar: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Liquidation price of positions ``idx`` at bar ``bar`` (funding paid so far included).

        Examples
        --------
        >>> sim = simulate(days=2, interval="15m", seed=1)
        >>> p = sim.positions
        >>> i = np.flatnonzero(p.in_book & p.is_long)[:3]
        >>> bool((sim.liquidation_price(p.open_bar[i], i) < p.entry[i]).all())
        True
        """
        phi = self.funding_index[bar]
        key = self.positions.liq_key[idx]
        return np.where(
            self.positions.is_long[idx],
            (key + phi) / (1.0 - self.mmr),
            (phi - key) / (1.0 + self.mmr),
        )

    def tier_of(
        self, tiers: tuple[float, ...] | None = None, *, nominal: bool = False
    ) -> np.ndarray:
        """Each position's nearest tier (in log leverage) by its effective leverage.

        ``nominal=True`` bins by the leverage setting ``L`` instead (for an estimator that
        applies its own cross-margin buffer, so the buffer is not counted twice).

        Examples
        --------
        >>> sim = simulate(days=2, interval="15m", seed=1)
        >>> tier = sim.tier_of((5.0, 100.0))
        >>> bool((tier[sim.positions.effective_leverage > 30] == 1).all())
        True
        """
        t = np.log(np.asarray(tiers or self.leverage_tiers, dtype="float64"))
        cuts = 0.5 * (t[1:] + t[:-1])
        p = self.positions
        leverage = p.leverage if nominal else p.effective_leverage
        return np.searchsorted(cuts, np.log(leverage)).astype("int64")

    def tier_mix(
        self, tiers: tuple[float, ...] | None = None, *, nominal: bool = False
    ) -> tuple[float, ...]:
        """The true liquidation book's leverage distribution binned into ``tiers``.

        Share of the notional opened (positions that can be liquidated) whose effective
        leverage ``1/(1/L + b)`` is nearest (in log) to each tier: what an isolated-margin
        estimator's tier weights would be if it were told the truth. ``nominal=True``
        bins by the leverage setting ``L``: the truth for an estimator that models cross
        margin itself (binning by effective leverage *and* adding a buffer would count
        the buffer twice).

        Examples
        --------
        >>> mix = simulate(days=2, interval="15m", seed=1).tier_mix()
        >>> len(mix), round(sum(mix), 9)
        (5, 1.0)
        >>> sim = simulate(days=2, interval="15m", seed=1)
        >>> sim.tier_mix(nominal=True)[0] < sim.tier_mix()[0]  # cross looks like low leverage
        True
        """
        tiers = tuple(tiers or self.leverage_tiers)
        book = self.positions.in_book
        tier = self.tier_of(tiers, nominal=nominal)[book]
        usd = np.bincount(tier, self.positions.usd[book], minlength=len(tiers))
        total = usd.sum()
        return tuple(float(x) for x in (usd / total if total > 0 else usd))

    def true_heatmap(self, grid: Grid) -> Heatmap:
        """The true USD at risk on a grid (pass ``estimate.heatmap.grid`` to compare).

        Each position that can be liquidated counts, at the close of every column's
        last bar while it is open, at its liquidation price of that moment.

        Examples
        --------
        >>> from liqcore.model import estimate
        >>> sim = simulate(days=1, interval="15m", seed=3)
        >>> est = estimate(sim.market)
        >>> truth = sim.true_heatmap(est.heatmap.grid)
        >>> truth.long.shape == est.heatmap.long.shape
        True
        """
        p = self.positions
        ends = grid.column_end
        columns, bins = len(ends), len(grid.price_edges) - 1
        idx = np.flatnonzero(p.in_book)
        first = np.searchsorted(ends, p.open_bar[idx], side="left")
        last = np.searchsorted(ends, p.exit_bar[idx], side="left")  # columns ending before exit
        count = np.maximum(last - first, 0)
        keep = count > 0
        idx, first, count = idx[keep], first[keep], count[keep]
        rows = np.repeat(np.arange(idx.size), count)
        column = first[rows] + (np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count))
        pos = idx[rows]
        price = self.liquidation_price(ends[column], pos)
        cell = np.searchsorted(grid.price_edges, price, side="right") - 1
        ok = (cell >= 0) & (cell < bins)
        side = (~p.is_long[pos]).astype("int64")
        flat = (side * columns + column) * bins + cell
        book = np.bincount(flat[ok], p.usd[pos][ok], minlength=2 * columns * bins)
        book = book.reshape(2, columns, bins).astype("float32")
        return Heatmap(grid=grid, long=book[0], short=book[1])

    def true_levels(self, price_edges: np.ndarray) -> pd.DataFrame:
        """The true book at the last bar on these price bins (columns as ``Estimate.levels``)."""
        p = self.positions
        n = len(self.market)
        tiers = self.leverage_tiers
        idx = np.flatnonzero(p.in_book & (p.exit_bar >= n))
        price = self.liquidation_price(np.full(idx.size, n - 1), idx)
        bins = len(price_edges) - 1
        cell = np.searchsorted(price_edges, price, side="right") - 1
        ok = (cell >= 0) & (cell < bins)
        tier = self.tier_of()[idx]
        out = []
        for side_long in (True, False):
            pick = ok & (p.is_long[idx] == side_long)
            flat = tier[pick] * bins + cell[pick]
            grid = np.bincount(flat, p.usd[idx][pick], minlength=len(tiers) * bins)
            out.append(grid.reshape(len(tiers), bins))
        labels = [f"{lev:g}x" for lev in tiers]
        return levels_frame(
            out[0], out[1], price_edges, float(self.market["close"].iloc[-1]), labels
        )

    def true_realized(self) -> pd.DataFrame:
        """True USD liquidated per bar (units × liquidation price), total and per tier.

        Examples
        --------
        >>> sim = simulate(days=2, interval="15m", seed=7)
        >>> real = sim.true_realized()
        >>> bool(np.allclose(real["long_usd"], sim.market["realized_long_usd"]))
        True
        """
        p = self.positions
        n = len(self.market)
        idx = np.flatnonzero(p.exit_reason == LIQUIDATED)
        bar = p.exit_bar[idx]
        usd = p.qty[idx] * self.liquidation_price(bar, idx)
        tier = self.tier_of()[idx]
        frame = pd.DataFrame(index=self.market.index)
        k = len(self.leverage_tiers)
        per = {}
        for side_long, name in ((True, "long"), (False, "short")):
            pick = p.is_long[idx] == side_long
            grid = np.bincount(tier[pick] * n + bar[pick], usd[pick], minlength=k * n)
            per[name] = grid.reshape(k, n)
            frame[f"{name}_usd"] = per[name].sum(axis=0)
        for j, lev in enumerate(self.leverage_tiers):
            frame[f"long_usd_{lev:g}x"] = per["long"][j]
            frame[f"short_usd_{lev:g}x"] = per["short"][j]
        return frame


def cascades(
    sim: SimulatedMarket,
    min_bar_share: float = 0.003,
    min_total_share: float = 0.05,
    min_bars: int = 3,
) -> pd.DataFrame:
    """Liquidation cascades: runs of bars in which forced orders keep setting off more.

    A cascade is a run of at least ``min_bars`` consecutive bars, each liquidating at
    least ``min_bar_share`` of open interest on the same side, that liquidates at
    least ``min_total_share`` of open interest in all. In this market each bar's
    forced orders move the next bar's price (:func:`liqcore.orderbook.impact`), so a
    run like that is the push of one bar reaching the next bar's levels.

    Parameters
    ----------
    sim : SimulatedMarket
    min_bar_share : float
        Least share of open interest (before the run) each bar of the run liquidates.
    min_total_share : float
        Least share of open interest the whole run liquidates.
    min_bars : int
        Fewest consecutive bars.

    Returns
    -------
    DataFrame
        One row per cascade: ``start``, ``end`` (bar times), ``side``, ``bars``,
        ``share_of_oi`` (liquidated / open interest before the run) and ``move_pct``.

    Examples
    --------
    >>> sim = simulate(days=20, interval="15m", seed=0, regime="stress")
    >>> len(cascades(sim)) >= 1
    True
    """
    m = sim.market
    oi = m["open_interest"].shift(1).bfill().to_numpy()
    rows = []
    for side in ("long", "short"):
        liq = m[f"realized_{side}_usd"].to_numpy()
        hot = liq >= min_bar_share * oi
        edges = np.diff(np.concatenate([[0], hot.astype("int8"), [0]]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            share = float(liq[a:b].sum() / oi[a])
            if b - a >= min_bars and share >= min_total_share:
                move = (m["close"].iloc[b - 1] / m["open"].iloc[a] - 1.0) * 100.0
                rows.append(
                    {
                        "start": m.index[a],
                        "end": m.index[b - 1],
                        "side": side,
                        "bars": int(b - a),
                        "share_of_oi": share,
                        "move_pct": float(move),
                    }
                )
    columns = ["start", "end", "side", "bars", "share_of_oi", "move_pct"]
    return pd.DataFrame(rows, columns=columns).sort_values("start", ignore_index=True)


def _check(name: str, ok: bool, value: object, rule: str) -> None:
    if not ok:
        msg = f"{name} {rule}, got {value!r}"
        raise ValueError(msg)


def simulate(
    days: float = 30,
    interval: str = "5m",
    seed: int = 0,
    *,
    volatility: float = 0.5,
    regime: str = "typical",
    crowd_mix: tuple[float, ...] = DEFAULT_MIX,
    crowd_bias: float = 0.0,
    start_price: float = 60_000.0,
    open_interest_usd: float = 2e9,
    impact_strength: float = DEFAULT_STRENGTH,
    mmr: float = 0.004,
    substeps: int | None = None,
    leverage_tiers: tuple[float, ...] = DEFAULT_TIERS,
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
        Realised annualised volatility of hourly log returns (0.5 = 50 %), ±25 %.
    regime : {"typical", "calm", "stress"}
        See :data:`REGIMES`.
    crowd_mix : tuple of float
        Takers' share of notional in the leverage bands around 5/10/25/50/100x.
    crowd_bias : float
        Shifts the crowd's lean: from -1 (takers short) to 1 (takers long).
    start_price : float
        First price.
    open_interest_usd : float
        Typical open interest the market settles around.
    impact_strength : float
        The square-root law's constant for forced orders (before the regime's thinness).
    mmr : float
        Maintenance margin rate.
    substeps : int, optional
        Price steps per bar (wicks come from these); by default about 200 per hour
        (16-100 per bar), fine enough for wicks of Brownian size.
    leverage_tiers : tuple of float
        The tiers the truth is binned into for comparison with the estimator.

    Returns
    -------
    SimulatedMarket

    Examples
    --------
    >>> sim = simulate(days=2, interval="15m", seed=7)
    >>> len(sim.market)
    192
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
    if substeps is None:
        substeps = int(np.clip(np.ceil(200 * step / pd.Timedelta(hours=1)), 16, 100))
    _check("substeps", 2 <= substeps <= 100, substeps, "must be in 2-100")
    _check("regime", regime in REGIMES, regime, f"must be one of {', '.join(REGIMES)}")
    _check("mmr", 0 <= mmr < 0.05, mmr, "must be in [0, 0.05)")
    mix = np.asarray(crowd_mix, dtype="float64")
    _check(
        "crowd_mix",
        mix.shape == (5,) and bool((mix >= 0).all() and mix.sum() > 0),
        crowd_mix,
        "needs five non-negative weights, not all zero",
    )
    rng = np.random.default_rng(seed)
    bar_hours = step.total_seconds() / 3600.0
    spec = REGIMES[regime]
    plan = _plan(rng, n, bar_hours, volatility, substeps, spec, mix / mix.sum(), crowd_bias, mmr)
    run = _run(plan, n, bar_hours, start_price, open_interest_usd, impact_strength, spec, mmr)
    return _assemble(plan, run, n, step, mmr, spec, crowd_mix, leverage_tiers)


@dataclass(frozen=True)
class _Plan:
    """Everything that does not depend on the price level, drawn before the loop."""

    rel_low: np.ndarray  # (n,) path extremes and close relative to the bar's start (log)
    rel_high: np.ndarray
    rel_close: np.ndarray
    bar_sigma: np.ndarray  # (n,) this bar's volatility (log)
    lean: np.ndarray  # (n,)
    funding: np.ndarray  # (n,) fraction of notional longs pay per bar
    activity: np.ndarray  # (n,) noise on the USD opened
    churn: np.ndarray  # (n,) netting flow per bar as a share of open interest
    is_long: np.ndarray  # (2S,)
    weight: np.ndarray  # (n, 2S) share of the side's new units
    leverage: np.ndarray  # (n, 2S)
    buffer: np.ndarray
    coef: np.ndarray  # (n, 2S, 3) liq, stop, take-profit key per unit of entry price
    has_stop: np.ndarray
    hold: np.ndarray  # (n, 2S) bars held before a time close
    entry_ratio: np.ndarray  # (n, 2S) entry price / the bar's starting price
    born_keys: np.ndarray  # (n, 4, 2S) trigger keys / starting price, -inf if closed in-bar
    born_reason: np.ndarray  # (n, 2S) reason of a close inside the opening bar, -1 if none
    dying: np.ndarray  # (n, 2) share of each side's new units closed inside the opening bar
    dying_liq: np.ndarray  # (n, 2) USD liquidated in-bar per unit (of the side) x start price


def _ar1(rng: np.random.Generator, n: int, half_life_bars: float, sd: float) -> np.ndarray:
    """Stationary AR(1) with this half-life and standard deviation (exact, via an IIR filter)."""
    phi = 0.5 ** (1.0 / max(half_life_bars, 1e-9))
    noise = rng.standard_normal(n) * sd * math.sqrt(1.0 - phi * phi)
    noise[0] = rng.standard_normal() * sd
    # x[t] = phi x[t-1] + e[t], solved blockwise so phi**k never underflows.
    block = max(1, min(n, int(200.0 / max(-math.log(phi), 1e-12))))
    powers = phi ** np.arange(block)
    out = np.empty(n)
    carry = 0.0
    for begin in range(0, n, block):
        chunk = noise[begin : begin + block]
        p = powers[: len(chunk)]
        out[begin : begin + len(chunk)] = carry * phi * p + p * np.cumsum(chunk / p)
        carry = out[begin + len(chunk) - 1]
    return out


def _plan(
    rng: np.random.Generator,
    n: int,
    bar_hours: float,
    volatility: float,
    substeps: int,
    spec: Regime,
    mix: np.ndarray,
    crowd_bias: float,
    mmr: float,
) -> _Plan:
    """Draw everything the loop does not decide: paths, lean, funding and new positions.

    The draws come in a fixed order, so a seed always gives the same market.
    """
    per_hour = 1.0 / bar_hours
    sigma = _bar_volatility(rng, n, bar_hours, volatility, spec.vol_of_vol)
    # 0 before the build-up, rising to 1 at the end.
    ramp = n if spec.ramp_days is None else min(n, max(1, round(spec.ramp_days * 24 * per_hour)))
    progress = np.clip(np.arange(n) - (n - ramp) + 1, 0, None) / ramp
    lean_dev = _ar1(rng, n, 48.0 * per_hour, spec.lean_spread) + spec.lean_ramp * progress
    lean = np.clip(spec.lean_mean + crowd_bias + lean_dev, -0.95, 0.95)
    drift = _PRESSURE * (lean_dev - spec.lean_ramp * progress) * sigma
    if spec.shock_at is not None:
        start = n - ramp + int(spec.shock_at * ramp)
        _large_seller(drift, sigma, start, round(2.0 * per_hour), volatility)
    shocks = rng.standard_normal((n, substeps)) * (sigma / math.sqrt(substeps))[:, None]
    path = np.cumsum(shocks + (drift / substeps)[:, None], axis=1)
    funding_8h = np.clip(
        _FUNDING_BASE_8H + _FUNDING_LEAN_8H * lean + rng.normal(0, 0.00003, n),
        -_FUNDING_CAP_8H,
        _FUNDING_CAP_8H,
    )
    is_long = np.arange(2 * _SLOTS) < _SLOTS
    leverage = _leverage(rng, is_long, lean, mix, spec.leverage_scale, progress)
    buffer, coef, has_stop = _triggers(rng, leverage, is_long, spec, mmr)
    hold = np.ceil(rng.exponential(hold_hours(leverage)) / bar_hours).astype("int64")
    hold = np.clip(hold, 1, int(60 * 24 / bar_hours))
    weight = _size_shares(rng, n, is_long)
    entry_ratio, born_keys, born_reason, dying, dying_liq = _opening_bar_fates(
        rng, path, coef, weight, is_long, mmr
    )
    activity = np.exp(rng.normal(0.0, 0.35, size=n))
    return _Plan(
        entry_ratio=entry_ratio,
        born_keys=born_keys,
        born_reason=born_reason,
        dying=dying,
        dying_liq=dying_liq,
        rel_low=np.minimum(path.min(axis=1), 0.0),
        rel_high=np.maximum(path.max(axis=1), 0.0),
        rel_close=path[:, -1],
        bar_sigma=sigma,
        lean=lean,
        funding=funding_8h * bar_hours / 8.0,
        activity=activity,
        churn=_netting_flow(rng, bar_hours, sigma, path),
        is_long=is_long,
        weight=weight,
        leverage=leverage,
        buffer=buffer,
        coef=coef,
        has_stop=has_stop,
        hold=hold,
    )


def _bar_volatility(
    rng: np.random.Generator, n: int, bar_hours: float, volatility: float, vol_of_vol: float
) -> np.ndarray:
    """Each bar's volatility (log), clustered: slow, fast and per-bar log-volatility parts.

    Scaled so that the mean variance is that of the annualised ``volatility``, less the
    share the forced orders add (:data:`_FEEDBACK_VOL`).
    """
    per_hour = 1.0 / bar_hours
    slow, fast, per_bar = (sd * vol_of_vol for sd in _LOG_VOL_SD)
    log_vol = (
        _ar1(rng, n, 120.0 * per_hour, slow)
        + _ar1(rng, n, 3.0 * per_hour, fast)
        + rng.standard_normal(n) * per_bar
    )
    var = slow**2 + fast**2 + per_bar**2  # E[exp(2 log_vol - 2 var)] = 1
    base = volatility * _FEEDBACK_VOL * math.sqrt(bar_hours / (24 * 365))
    return base * np.exp(log_vol - var)


def _large_seller(
    drift: np.ndarray, sigma: np.ndarray, start: int, bars: int, volatility: float
) -> None:
    """A large seller from bar ``start``: -1.5 daily sigmas over ``bars`` (about two
    hours) at twice the volatility; ``drift`` and ``sigma`` change in place."""
    length = max(1, bars)
    daily = volatility / math.sqrt(365.0)
    drift[start : start + length] -= 1.5 * daily / length
    sigma[start : start + length] *= 2.0


def _leverage(
    rng: np.random.Generator,
    is_long: np.ndarray,
    lean: np.ndarray,
    mix: np.ndarray,
    leverage_scale: tuple[float, float],
    progress: np.ndarray,
) -> np.ndarray:
    """Whole leverage of every slot (n, 2S): makers low, takers from the crowd's mix.

    Per side, slot 0 is a maker; the other slots are takers with a probability that
    grows with the lean towards that side, their leverage scaled up by the build-up.
    """
    n, slots = len(lean), is_long.size
    toward = np.where(is_long[None, :], lean[:, None], -lean[:, None])
    taker = rng.random((n, slots)) < 0.5 + 0.45 * toward
    taker[:, [0, _SLOTS]] = False
    band = rng.choice(5, size=(n, slots), p=mix)
    lo, hi = np.log(_BAND_EDGES[:-1]), np.log(_BAND_EDGES[1:])
    crowd_lev = np.exp(lo[band] + rng.random((n, slots)) * (hi[band] - lo[band]))
    scale = leverage_scale[0] + (leverage_scale[1] - leverage_scale[0]) * progress
    crowd_lev *= scale[:, None]
    maker_lev = np.clip(np.exp(np.log(3.0) + 0.5 * rng.standard_normal((n, slots))), 1.0, 10.0)
    return np.clip(np.rint(np.where(taker, crowd_lev, maker_lev)), 1, MAX_LEVERAGE)


def _triggers(
    rng: np.random.Generator, leverage: np.ndarray, is_long: np.ndarray, spec: Regime, mmr: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-margin buffers, trigger keys per unit of entry price, and who has a stop.

    Returns ``buffer`` (n, 2S), ``coef`` (n, 2S, 3: liquidation, stop-loss,
    take-profit; -inf where there is none) and ``has_stop``. Every trigger is
    "key >= threshold": the take-profit key is negated for longs.
    """
    shape = leverage.shape
    cross = rng.random(shape) < spec.cross_share
    buffer = np.where(
        cross, np.clip(np.exp(np.log(0.12) + 0.8 * rng.standard_normal(shape)), 0.02, 0.6), 0
    )
    dist = 1.0 / leverage + buffer  # equity per unit of notional before liquidation
    sign = np.where(is_long, 1.0, -1.0)[None, :]
    liq_coef = np.where(is_long, 1.0 - dist, -(1.0 + dist))
    liq_coef = np.where(is_long & (dist >= 1.0), -np.inf, liq_coef)
    # Distance to the liquidation price at opening (funding aside), for the stop's place.
    liq_dist = np.where(is_long, 1.0 - (1.0 - dist) / (1.0 - mmr), (1.0 + dist) / (1.0 + mmr) - 1)
    liq_dist = np.minimum(liq_dist, 0.95)
    has_stop = rng.random(shape) < spec.stop_share
    stop_share = rng.uniform(0.3, 0.85, shape)
    stop_coef = np.where(has_stop, sign * (1.0 - sign * stop_share * liq_dist), -np.inf)
    gain = np.clip(np.exp(np.log(0.6) + 0.7 * rng.standard_normal(shape)), 0.1, 5.0)
    has_tp = rng.random(shape) < spec.take_profit_share
    move = np.minimum(gain / leverage, 0.9)
    tp_coef = np.where(has_tp, -sign * (1.0 + sign * move), -np.inf)
    return buffer, np.stack([liq_coef, stop_coef, tp_coef], axis=-1), has_stop


def _size_shares(rng: np.random.Generator, n: int, is_long: np.ndarray) -> np.ndarray:
    """Each slot's share of its side's new units (n, 2S); makers quote twice the size."""
    weight = np.exp(0.5 * rng.standard_normal((n, is_long.size)))
    weight[:, [0, _SLOTS]] *= 2.0
    for side in (is_long, ~is_long):
        weight[:, side] /= weight[:, side].sum(axis=1, keepdims=True)
    return weight


def _opening_bar_fates(
    rng: np.random.Generator,
    path: np.ndarray,
    coef: np.ndarray,
    weight: np.ndarray,
    is_long: np.ndarray,
    mmr: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where new positions enter their bar, and which of them the rest of it closes.

    Returns the :class:`_Plan` fields ``entry_ratio``, ``born_keys``, ``born_reason``,
    ``dying`` and ``dying_liq``.
    """
    n, substeps = path.shape
    # Takers enter at a random sub-step, makers at the close; what the rest of the
    # opening bar does to a new position is known relative to the bar's start.
    step = rng.integers(0, substeps - 1, size=(n, is_long.size))
    step[:, [0, _SLOTS]] = substeps - 1
    rows = np.arange(n)[:, None]
    rest_min = np.minimum.accumulate(path[:, ::-1], axis=1)[:, ::-1]
    rest_max = np.maximum.accumulate(path[:, ::-1], axis=1)[:, ::-1]
    last = step >= substeps - 1
    nxt = np.minimum(step + 1, substeps - 1)
    after_low = np.where(last, np.inf, np.exp(rest_min[rows, nxt]))
    after_high = np.where(last, 0.0, np.exp(rest_max[rows, nxt]))
    after = np.where(
        is_long[None, None, :],
        np.stack([after_low * (1.0 - mmr), after_low, -after_high], axis=1),
        np.stack([-after_high * (1.0 + mmr), -after_high, after_low], axis=1),
    )
    # Funding since opening is zero inside the opening bar, so these fates do not depend
    # on the price level: a trigger fires when ratio * coef >= the rest-of-bar threshold.
    entry_ratio = np.exp(path[rows, step])
    keys = coef.transpose(0, 2, 1) * entry_ratio[:, None, :]  # (n, 3, 2S)
    hit = keys >= after
    dies = hit.any(axis=1)
    born_reason = np.where(
        dies, np.where(hit[:, 1], STOP, np.where(hit[:, 0], LIQUIDATED, TAKE_PROFIT)), -1
    ).astype("int8")
    born_keys = np.where(dies[:, None, :], -np.inf, keys)
    born_keys = np.concatenate([born_keys, np.zeros((n, 1, is_long.size))], axis=1)  # row 3: time
    liq_price = np.where(is_long, keys[:, 0] / (1.0 - mmr), -keys[:, 0] / (1.0 + mmr))
    liq_unit = np.where(born_reason == LIQUIDATED, weight * liq_price, 0.0)
    dying_w = np.where(dies, weight, 0.0)
    dying = np.stack([dying_w[:, is_long].sum(axis=1), dying_w[:, ~is_long].sum(axis=1)], axis=1)
    dying_liq = np.stack(
        [liq_unit[:, is_long].sum(axis=1), liq_unit[:, ~is_long].sum(axis=1)], axis=1
    )
    return entry_ratio, born_keys, born_reason, np.minimum(dying, 0.99), dying_liq


def _netting_flow(
    rng: np.random.Generator, bar_hours: float, sigma: np.ndarray, path: np.ndarray
) -> np.ndarray:
    """Traded notional per bar that nets out (market makers), as a share of open interest:
    more in volatile bars and in bars with a wide range."""
    return (
        _CHURN_PER_DAY
        * bar_hours
        / 24.0
        * (sigma / sigma.mean())
        * (0.4 + 0.6 * (path.max(axis=1) - path.min(axis=1)) / (1.6 * sigma))
        * np.exp(rng.normal(0.0, 0.25, size=len(sigma)))
    )


@dataclass(frozen=True)
class _Run:
    open_log: np.ndarray
    start_log: np.ndarray
    phi: np.ndarray
    qty: np.ndarray  # (n, 2S) units opened
    exit_bar: np.ndarray  # (n * 2S,)
    exit_reason: np.ndarray
    units: np.ndarray  # (n,) long units (= short units) open at the close
    opened_usd: np.ndarray  # (n, 2)
    closed_usd: np.ndarray  # (n, 2) voluntary closes
    liq_usd: np.ndarray  # (n, 2)
    churn_usd: np.ndarray


def _run(
    plan: _Plan,
    n: int,
    bar_hours: float,
    start_price: float,
    open_interest_usd: float,
    strength: float,
    spec: Regime,
    mmr: float,
) -> _Run:
    """The sequential core: one pass over bars with small numpy operations on open positions.

    The open positions live in a compact :class:`_Book`; everything the loop does not
    decide was drawn up front (:func:`_plan`), and is read here as Python floats.
    """
    strength = strength * spec.book_thinness
    book = _Book(plan, mmr)
    bars_per_day = 24.0 / bar_hours
    alpha = min(1.0, 1.0 / (_LIQUIDITY_DAYS * bars_per_day))
    refill = 0.5 ** (bar_hours / _REFILL_HALF_LIFE_H)
    base_open = open_interest_usd * bar_hours / 48.0  # half the open interest opens per day
    rel_low, rel_high, rel_close = (
        x.tolist() for x in (plan.rel_low, plan.rel_high, plan.rel_close)
    )
    funding, activity, churn = (x.tolist() for x in (plan.funding, plan.activity, plan.churn))
    bar_sigma = plan.bar_sigma.tolist()
    dying, dying_liq = plan.dying.tolist(), plan.dying_liq

    open_log = np.empty(n)
    start_log = np.empty(n)
    phi_rec = np.empty(n)
    units_rec = np.empty(n)
    opened = np.zeros((n, 2))
    closed = np.zeros((n, 2))
    liq_rec = np.zeros((n, 2))
    churn_rec = np.zeros(n)
    log_price = math.log(start_price)
    phi = 0.0
    q_long = q_short = 0.0
    transient = 0.0
    push = 0.0  # log move the last bar's forced orders cause
    ew_var = float(plan.bar_sigma.mean()) ** 2
    ew_volume = open_interest_usd * _CHURN_PER_DAY / bars_per_day
    for t in range(n):
        # The bar starts where the last bar's forced orders pushed it, less what refilled.
        new_transient = refill * transient + (1.0 - _PERMANENT) * push
        level = log_price + _PERMANENT * push + (new_transient - transient)
        transient = new_transient
        open_log[t] = log_price
        start_log[t] = level
        low = math.exp(min(level + rel_low[t], log_price))
        high = math.exp(max(level + rel_high[t], log_price))
        close_log = level + rel_close[t]
        close = math.exp(close_log)
        phi += funding[t] * math.exp(log_price)  # funding at the bar's open, from margin
        phi_rec[t] = phi
        x_long, x_short, liq_long, liq_short = book.close_triggered(t, low, high, phi)
        closed[t, 0] = x_long * close - liq_long
        closed[t, 1] = x_short * close - liq_short
        q_long -= x_long
        q_short -= x_short
        liq_rec[t, 0], liq_rec[t, 1] = liq_long, liq_short
        # New positions at the close; the side with more exits gets that many more openings.
        move = abs(close_log - log_price) / bar_sigma[t]
        oi_now = max(q_long * close, 1.0)
        want = base_open * activity[t] * (1.0 + 0.3 * min(move, 6.0))
        want *= min(max(open_interest_usd / oi_now, 0.2), 5.0) ** 2
        d = x_long - x_short
        # Those the rest of their opening bar closes were found up front (plan.dying).
        start_price_t = math.exp(level)
        die_l, die_s = dying[t]
        n_long = (want / close + max(d, 0.0)) / (1.0 - die_l)
        n_short = (want / close + max(-d, 0.0)) / (1.0 - die_s)
        if die_l > 0.0 or die_s > 0.0:
            liq_l = n_long * start_price_t * dying_liq[t, 0]
            liq_s = n_short * start_price_t * dying_liq[t, 1]
            liq_rec[t, 0] += liq_l
            liq_rec[t, 1] += liq_s
            closed[t, 0] += n_long * die_l * close - liq_l
            closed[t, 1] += n_short * die_s * close - liq_s
            q_long -= n_long * die_l
            q_short -= n_short * die_s
        book.open(t, n_long, n_short, start_price_t, phi)
        q_long += n_long
        q_short += n_short
        units_rec[t] = q_long
        oi = q_long * close
        opened[t, 0], opened[t, 1] = n_long * close, n_short * close
        churn_usd = churn[t] * oi
        churn_rec[t] = churn_usd
        # The book behind the next bar: depth from rolling volume and volatility.
        traded = 0.5 * (n_long + n_short + x_long + x_short) * close + churn_usd
        ew_volume += alpha * (traded - ew_volume)
        ret = close_log - log_price
        ew_var += alpha * (ret * ret - ew_var)
        forced = liq_rec[t, 0] - liq_rec[t, 1]  # sells minus buys
        push = _forced_push(forced, ew_volume, ew_var, bars_per_day, strength)
        log_price = close_log
    return _Run(
        open_log,
        start_log,
        phi_rec,
        book.qty.reshape(n, 2 * _SLOTS),
        book.exit_bar,
        book.exit_reason[:-1],
        units_rec,
        opened,
        closed,
        liq_rec,
        churn_rec,
    )


def _forced_push(
    forced: float, ew_volume: float, ew_var: float, bars_per_day: float, strength: float
) -> float:
    """The log move ``forced`` USD of liquidation orders (sells minus buys) cause, on a
    book as deep as the rolling traded USD and variance per bar say (square-root law)."""
    if forced == 0.0:
        return 0.0
    depth = Liquidity(ew_volume * bars_per_day, math.sqrt(ew_var * bars_per_day))
    return -math.copysign(float(impact(forced, depth, strength)), forced)


class _Book:
    """Every position of a run: the open ones in compact buffers, and each one's exit.

    ``keys[row, side, slot]``: trigger keys, each firing when ``key >= threshold``; rows
    time (minus the time-close bar) / stop / liquidation / take-profit, side 0 long and
    1 short; both sides use the same ``m`` slots (a side with fewer open positions is
    padded with slots that can never trigger). ``exit_bar`` and ``exit_reason`` hold
    every position's fate (those closed in their opening bar are known from the start).
    """

    def __init__(self, plan: _Plan, mmr: float) -> None:
        n, slots = plan.weight.shape
        born = plan.born_reason.ravel()
        # One extra "closed" entry: the id of the padding slots.
        self.exit_reason = np.append(born, np.int8(TIME))
        self.exit_bar = np.where(born >= 0, np.repeat(np.arange(n), slots), n)
        self.qty = np.zeros((n, 2, _SLOTS))  # units opened
        self.mmr = mmr
        # What each bar opens, shaped (side, slot) like the buffers.
        self.born_keys = plan.born_keys[:, [3, 1, 0, 2], :].reshape(n, 4, 2, _SLOTS)
        # Minus the bar of the time close (-inf for a position closed in its opening bar).
        close_key = np.where(plan.born_reason >= 0, -np.inf, -(np.arange(n)[:, None] + plan.hold))
        self.close_key = close_key.reshape(n, 2, _SLOTS)
        self.sign = np.where(plan.is_long, 1.0, -1.0).reshape(2, _SLOTS)
        self.weight = plan.weight.reshape(n, 2, _SLOTS)
        self.ids = np.arange(n * slots).reshape(n, 2, _SLOTS)
        self.cap = 1024
        self.padding_id = n * slots
        self.keys = np.full((4, 2, self.cap), -np.inf)
        self.units = np.zeros((2, self.cap))
        self.pid = np.full((2, self.cap), self.padding_id, dtype="int64")
        self.m = 0

    def open(self, t: int, n_long: float, n_short: float, start_price: float, phi: float) -> None:
        """Open bar ``t``'s positions (units per side) given the bar's starting price and
        the funding index, compacting out closed positions when the buffers are full."""
        units = self.weight[t] * np.array([[n_long], [n_short]])
        self.qty[t] = units
        keys = self.born_keys[t] * start_price
        keys[2] -= self.sign * phi
        keys[0] = self.close_key[t]
        count = _SLOTS
        if self.m + count > self.cap:
            live = [np.flatnonzero(self.exit_reason[self.pid[s, : self.m]] < 0) for s in (0, 1)]
            size = max(len(live[0]), len(live[1]))
            if 2 * (size + count) > self.cap:
                self.cap *= 2
            keys_, units_ = np.full((4, 2, self.cap), -np.inf), np.zeros((2, self.cap))
            pid_ = np.full((2, self.cap), self.padding_id, dtype="int64")
            for s in (0, 1):
                keys_[:, s, : len(live[s])] = self.keys[:, s, live[s]]
                units_[s, : len(live[s])] = self.units[s, live[s]]
                pid_[s, : len(live[s])] = self.pid[s, live[s]]
            self.keys, self.units, self.pid, self.m = keys_, units_, pid_, size
        end = self.m + count
        self.keys[:, :, self.m : end] = keys
        self.units[:, self.m : end] = units
        self.pid[:, self.m : end] = self.ids[t]
        self.m = end

    def close_triggered(
        self, t: int, low: float, high: float, phi: float
    ) -> tuple[float, float, float, float]:
        """Close the positions bar ``t``'s range triggers, recording when and why.

        ``phi`` is the funding index at the bar's open. Returns the units closed and the
        USD liquidated: long, short, long, short.
        """
        m, mmr = self.m, self.mmr
        if not m:
            return 0.0, 0.0, 0.0, 0.0
        # Rows in order of precedence (time close at the bar's open, stop before the
        # liquidation price, liquidation, take-profit), columns long / short.
        thr = np.array(
            [
                [-t, -t],
                [low, -high],
                [low * (1.0 - mmr) - phi, phi - high * (1.0 + mmr)],
                [-high, low],
            ]
        )
        keys = self.keys[:, :, :m]
        col = thr[:, :, None]
        hit = np.flatnonzero(
            (keys[0] >= col[0]) | (keys[1] >= col[1]) | (keys[2] >= col[2]) | (keys[3] >= col[3])
        )
        if not hit.size:
            return 0.0, 0.0, 0.0, 0.0
        side = hit // m
        slot = hit - side * m
        k = keys[:, side, slot]
        reason = (k >= thr[:, side]).argmax(axis=0)  # the first row hit
        ids = self.pid[side, slot]
        self.exit_bar[ids] = t
        self.exit_reason[ids] = reason
        q = self.units[side, slot]
        sums = np.bincount(side * 4 + reason, q, minlength=8).tolist()
        liq_long = liq_short = 0.0
        if sums[LIQUIDATED] > 0 or sums[4 + LIQUIDATED] > 0:
            dead = reason == LIQUIDATED
            key, short = k[2, dead], side[dead]
            price = np.where(short, (phi - key) / (1.0 + mmr), (key + phi) / (1.0 - mmr))
            liq_long, liq_short = np.bincount(short, q[dead] * price, minlength=2).tolist()
        self.keys[:, side, slot] = -np.inf
        return sum(sums[:4]), sum(sums[4:]), liq_long, liq_short


def _assemble(
    plan: _Plan,
    run: _Run,
    n: int,
    step: pd.Timedelta,
    mmr: float,
    spec: Regime,
    crowd_mix: tuple[float, ...],
    leverage_tiers: tuple[float, ...],
) -> SimulatedMarket:
    """Turn the loop's records into the market frame and the positions table."""
    slots = 2 * _SLOTS
    level = run.start_log
    open_ = np.exp(run.open_log)
    close = np.exp(level + plan.rel_close)
    high = np.maximum(np.exp(level + plan.rel_high), open_)
    low = np.minimum(np.exp(level + plan.rel_low), open_)
    bar = np.repeat(np.arange(n), slots)
    entry = np.exp(level)[bar] * plan.entry_ratio.ravel()
    coef = plan.coef.reshape(-1, 3)
    is_long = np.tile(plan.is_long, n)
    sign = np.where(is_long, 1.0, -1.0)
    positions = Positions(
        open_bar=bar,
        is_long=is_long,
        leverage=plan.leverage.ravel(),
        buffer=plan.buffer.ravel(),
        entry=entry,
        qty=run.qty.ravel(),
        liq_key=entry * coef[:, 0] - sign * run.phi[bar],
        has_stop=plan.has_stop.ravel(),
        exit_bar=run.exit_bar,
        exit_reason=run.exit_reason,
    )
    oi = run.units * close
    typical = (high + low + close) / 3.0
    # Traded notional per side: openings, voluntary closes, liquidations, netting flow.
    buys = run.opened_usd[:, 0] + run.closed_usd[:, 1] + run.liq_usd[:, 1] + 0.5 * run.churn_usd
    sells = run.opened_usd[:, 1] + run.closed_usd[:, 0] + run.liq_usd[:, 0] + 0.5 * run.churn_usd
    volume_usd = 0.5 * (buys + sells)
    # Takers are the leaning side: their share of the flow, and of accounts.
    taker_share = np.clip(0.5 + 0.1 * plan.lean, 0.05, 0.95)
    index = pd.date_range(end=END_TIME - step, periods=n, freq=step, name="time")
    market = pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume_usd / typical,
            "open_interest": oi,
            "taker_buy_volume": taker_share * volume_usd / typical,
            "long_short_ratio": np.exp(1.2 * plan.lean),
            "funding_rate": plan.funding * 8.0 / (step.total_seconds() / 3600.0),
            "realized_long_usd": run.liq_usd[:, 0],
            "realized_short_usd": run.liq_usd[:, 1],
        },
        index=index,
    )
    market.attrs["source"] = "sim"
    sim = SimulatedMarket(
        market=market,
        positions=positions,
        funding_index=run.phi,
        mmr=float(mmr),
        regime=spec.name,
        crowd_mix=tuple(float(x) for x in crowd_mix),
        leverage_tiers=tuple(float(x) for x in leverage_tiers),
        leverage_mix=(),
    )
    object.__setattr__(sim, "leverage_mix", sim.tier_mix())
    return sim


def _pandas_interval(interval: str) -> str:
    """Accept exchange-style intervals ("5m", "1h", "1d") as well as pandas ones."""
    text = interval.strip()
    if text.endswith("m") and text[:-1].isdigit():
        return text[:-1] + "min"
    return text
