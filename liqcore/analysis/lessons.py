"""The Learn page's maths: liquidation prices, the levels new positions open, leverage risk.

Small, exact computations on a lesson's simulated market, so each step can be checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from liqcore.analysis.realized import liquidations_by_period, realized_from_market
from liqcore.market import bar_interval
from liqcore.model import Estimate, ModelParams, estimate, liquidation_price
from liqcore.simulate import LIQUIDATED, SimulatedMarket

__all__ = [
    "LESSON_LEVERAGES",
    "calculator",
    "lesson_estimate",
    "leverage_risk",
    "opening_levels",
    "recent_liquidations",
]

#: Leverages compared in the calculator figure and the risk lesson.
LESSON_LEVERAGES: tuple[float, ...] = (2.0, 5.0, 10.0, 25.0, 50.0, 100.0)


def calculator(
    entry: float,
    leverage: float,
    side: str = "long",
    mmr: float = 0.004,
    margin_usd: float = 1_000.0,
) -> dict[str, float | str]:
    """Liquidation price and what is at stake for one isolated-margin position.

    Parameters
    ----------
    entry : float
        Entry price (USD per unit).
    leverage : float
        Leverage ``L``: the position is ``L`` times the margin.
    side : {"long", "short"}
        Case-insensitive.
    mmr : float
        Maintenance margin rate as a fraction (0.004 = 0.4%).
    margin_usd : float
        Margin put up, USD.

    Returns
    -------
    dict
        ``side``, ``entry``, ``leverage``, ``mmr``, ``margin_usd``; ``liq_price``
        (:func:`liqcore.model.liquidation_price`); ``distance_pct`` (signed move from
        entry to the liquidation price, negative for a long); ``position_usd``
        (``margin × L``); ``quantity`` (units); ``loss_at_liq_usd`` (what the price move
        costs by the liquidation price); ``margin_lost_usd`` (the whole margin: what is
        left at the liquidation price, ``mmr × quantity × liq_price``, goes to the
        liquidation engine, so isolated margin is lost in full).

    Raises
    ------
    ValueError
        In plain words, when the inputs have no liquidation price: a non-positive
        entry, margin or leverage, a long at 1x or less (its price would have to fall
        below zero) or a leverage so high that the margin is below the maintenance
        margin from the start.

    Examples
    --------
    >>> r = calculator(100_000, 10, "long", mmr=0.004, margin_usd=1_000)
    >>> round(r["liq_price"], 2), round(r["distance_pct"], 2), r["position_usd"]
    (90361.45, -9.64, 10000.0)
    >>> round(r["loss_at_liq_usd"], 2), r["margin_lost_usd"]
    (963.86, 1000.0)
    >>> calculator(100, 1, "long")
    Traceback (most recent call last):
    ...
    ValueError: A long at 1x cannot be liquidated: ...
    """
    side_name = str(side).strip().lower()
    if side_name not in ("long", "short"):
        msg = f"Side must be long or short, got {side!r}."
        raise ValueError(msg)
    values = {"entry": entry, "leverage": leverage, "margin": margin_usd}
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            msg = f"The {name} must be a positive number, got {value:g}."
            raise ValueError(msg)
    if not 0 <= mmr < 1:
        msg = f"The maintenance margin must be between 0% and 100%, got {mmr * 100:g}%."
        raise ValueError(msg)
    if side_name == "long" and leverage <= 1:
        msg = (
            f"A long at {leverage:g}x cannot be liquidated: the margin covers a fall all the "
            "way to zero, so there is no liquidation price. Pick a leverage above 1x."
        )
        raise ValueError(msg)
    if 1.0 / leverage <= mmr:
        msg = (
            f"At {leverage:g}x the margin ({100 / leverage:.3g}% of the position) is not more "
            f"than the maintenance margin ({mmr * 100:.3g}%): the position would be liquidated "
            f"as soon as it opens. Keep the leverage below {1 / mmr:.0f}x."
        )
        raise ValueError(msg)
    liq = float(liquidation_price(entry, leverage, side_name, mmr))
    position_usd = margin_usd * leverage
    quantity = position_usd / entry
    return {
        "side": side_name,
        "entry": float(entry),
        "leverage": float(leverage),
        "mmr": float(mmr),
        "margin_usd": float(margin_usd),
        "liq_price": liq,
        "distance_pct": (liq - entry) / entry * 100.0,
        "position_usd": float(position_usd),
        "quantity": float(quantity),
        "loss_at_liq_usd": float(quantity * abs(liq - entry)),
        "margin_lost_usd": float(margin_usd),
    }


def opening_levels(
    sim: SimulatedMarket, n_bars: int = 12, first_bar: int | None = None
) -> pd.DataFrame:
    """The positions the simulated traders opened over a few bars, and their fate.

    The simulated market knows every position (on real markets nobody outside the
    exchange does; the heatmap estimates them). Each row is a group of traders who
    opened at the same moment, side, leverage and margin, so share one liquidation
    price. Positions with a stop-loss are left out: their stop closes them before
    their liquidation price.

    Parameters
    ----------
    sim : SimulatedMarket
    n_bars : int
        Length of the window, bars.
    first_bar : int, optional
        First bar of the window; defaults to the last ``n_bars`` bars.

    Returns
    -------
    DataFrame
        Columns ``bar`` (0 … n_bars − 1 within the window), ``time`` (bar open time),
        ``side`` ("long"/"short"), ``leverage`` (the setting), ``tier`` (nearest of the
        five tiers by effective leverage, e.g. "25x"), ``liq_price`` (at opening),
        ``usd`` (notional at opening), ``distance_pct`` (liquidation price relative to
        the bar's close) and ``liquidated_bar`` (window bar in which it was liquidated,
        −1 if it was not liquidated inside the window).

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=1, interval="15m", seed=3)
    >>> lv = opening_levels(sim, n_bars=4)
    >>> sorted(lv["bar"].unique().tolist()), set(lv["tier"]) <= {"5x", "10x", "25x", "50x", "100x"}
    ([0, 1, 2, 3], True)
    >>> bool((lv.loc[lv.side == "long", "distance_pct"] < 0).all())
    True
    """
    n = len(sim.market)
    if not 1 <= n_bars <= n:
        msg = f"n_bars must be between 1 and the {n} bars of the market, got {n_bars}"
        raise ValueError(msg)
    first = n - n_bars if first_bar is None else int(first_bar)
    if not 0 <= first <= n - n_bars:
        msg = f"first_bar must be between 0 and {n - n_bars}, got {first_bar}"
        raise ValueError(msg)
    p = sim.positions
    window = (p.open_bar >= first) & (p.open_bar < first + n_bars)
    pick = np.flatnonzero(window & p.in_book)
    open_bar = p.open_bar[pick]
    liquidated = p.exit_reason[pick] == LIQUIDATED
    removal = np.where(liquidated, p.exit_bar[pick], len(sim.market))
    tiers = np.asarray(sim.leverage_tiers, dtype="float64")
    close = sim.market["close"].to_numpy()[open_bar]
    liq = sim.liquidation_price(open_bar, pick)
    frame = pd.DataFrame(
        {
            "bar": (open_bar - first).astype("int64"),
            "time": sim.market.index[open_bar],
            "side": np.where(p.is_long[pick], "long", "short"),
            "leverage": p.leverage[pick],
            "tier": [f"{lev:g}x" for lev in tiers[sim.tier_of()[pick]]],
            "liq_price": liq,
            "usd": p.usd[pick],
            "distance_pct": (liq - close) / close * 100.0,
            "liquidated_bar": np.where(removal < first + n_bars, removal - first, -1).astype(
                "int64"
            ),
        }
    )
    return frame.sort_values(["bar", "side", "leverage"], kind="stable").reset_index(drop=True)


def lesson_estimate(
    market: pd.DataFrame, days_shown: float = 4.0, reach_pct: float = 20.0
) -> Estimate:
    """The estimate the lessons share: the last few days, levels within ±``reach_pct``.

    All history before the shown days is a warm-up (positions opened then still count).
    The price axis is fixed around the last close so that the cascade lesson sees the
    levels of every tier (a 5x position is liquidated about 20% away).

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> est = lesson_estimate(simulate(days=3, interval="15m", seed=1).market, days_shown=1)
    >>> lo, hi = est.levels["price_low"].iloc[0], est.levels["price_high"].iloc[-1]
    >>> bool(abs(lo / est.price - 0.8) < 1e-9 and abs(hi / est.price - 1.2) < 1e-9)
    True
    """
    price = float(market["close"].iloc[-1])
    span = reach_pct / 100.0
    params = ModelParams(
        time_bins=120, price_bins=200, price_range=(price * (1 - span), price * (1 + span))
    )
    start = max(market.index[-1] - pd.Timedelta(days=days_shown), market.index[0])
    return estimate(market, params, start=start)


def recent_liquidations(
    market: pd.DataFrame, period: str = "1h", days: float = 3.0
) -> pd.DataFrame:
    """USD liquidated per period over the last ``days`` days, for the liquidation-chart lesson.

    A window on :func:`liqcore.analysis.realized.liquidations_by_period` (draw it with
    :func:`liqcore.figures.liquidations.liquidations_figure`).

    Parameters
    ----------
    market : DataFrame
        A market frame with ``realized_long_usd`` and ``realized_short_usd`` (the
        simulated market's true liquidations).
    period : str
        ``"15m"``, ``"1h"``, ``"4h"`` or ``"1d"``.
    days : float
        Days shown, counted back from the last bar.

    Returns
    -------
    DataFrame
        ``long_usd``, ``short_usd``, ``total_usd``, ``price``, ``bars`` per period.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=8, freq="15min", tz="UTC")
    >>> m = pd.DataFrame({"close": np.arange(8.0), "realized_long_usd": np.ones(8),
    ...                   "realized_short_usd": np.zeros(8)}, index=idx)
    >>> recent_liquidations(m, "1h", days=1)[["long_usd", "price"]].to_numpy().tolist()
    [[4.0, 3.0], [4.0, 7.0]]
    >>> recent_liquidations(m, "1h", days=0.01)["long_usd"].tolist()  # the last bar only
    [1.0]
    """
    realized = realized_from_market(market)
    if realized is None:
        msg = "this market has no liquidation data (realized_long_usd, realized_short_usd)"
        raise ValueError(msg)
    start = market.index[-1] - pd.Timedelta(days=days)
    return liquidations_by_period(realized.loc[start:], market["close"].loc[start:], period)


def leverage_risk(
    market: pd.DataFrame,
    leverages: Sequence[float] = LESSON_LEVERAGES,
    hours: float = 24.0,
    mmr: float = 0.004,
) -> pd.DataFrame:
    """How often a position opened at a random bar's close was liquidated within ``hours``.

    For every bar with ``hours`` of history after it, a long (short) opened at its close
    is liquidated if a later low (high) within the horizon reaches its liquidation
    price. This is what happened in *this* market, not a probability for the future.

    Returns
    -------
    DataFrame
        ``leverage``, ``distance_pct`` (how far a long's liquidation price is, %),
        ``long_liquidated_pct`` and ``short_liquidated_pct`` (share of entries
        liquidated, %).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"close": [100.0, 100, 100, 100], "high": [100.0, 102, 100, 100],
    ...                   "low": [100.0, 94, 100, 100]}, index=idx)
    >>> leverage_risk(m, leverages=[10, 50], hours=1).round(1)
       leverage  distance_pct  long_liquidated_pct  short_liquidated_pct
    0      10.0          -9.6                  0.0                   0.0
    1      50.0          -1.6                 33.3                  33.3
    """
    bar_hours = bar_interval(market).total_seconds() / 3600.0
    bars = max(round(hours / bar_hours), 1)
    n = len(market)
    if n <= bars:
        msg = f"the market has {n} bars, too few for a {hours:g}-hour horizon"
        raise ValueError(msg)
    close = market["close"].to_numpy()[: n - bars]
    # Window t covers the bars t+1 .. t+bars after the entry at bar t's close.
    later_low = np.lib.stride_tricks.sliding_window_view(market["low"].to_numpy()[1:], bars)
    later_high = np.lib.stride_tricks.sliding_window_view(market["high"].to_numpy()[1:], bars)
    later_low, later_high = later_low.min(axis=1), later_high.max(axis=1)
    rows = []
    for lev in leverages:
        long_liq = liquidation_price(close, lev, "long", mmr)
        short_liq = liquidation_price(close, lev, "short", mmr)
        rows.append(
            {
                "leverage": float(lev),
                "distance_pct": float((long_liq[0] - close[0]) / close[0] * 100.0),
                "long_liquidated_pct": float(np.mean(later_low <= long_liq) * 100.0),
                "short_liquidated_pct": float(np.mean(later_high >= short_liq) * 100.0),
            }
        )
    return pd.DataFrame(rows)
