"""How far forced orders move price: the order-book depth and impact model, in one place.

Liquidations are market orders the trader did not choose: a liquidated long sells, a
liquidated short buys. How far such an order moves price depends on how deep the book
is, and depth is not a constant: it grows with the volume that trades and shrinks when
the market is volatile. The empirical regularity that captures both is the
**square-root law of market impact** (Tóth et al. 2011, "Anomalous price impact and
the critical nature of liquidity in financial markets"; Bouchaud, Bonart, Donier &
Gould 2018, *Trades, Quotes and Prices*, ch. 12), seen on equities, futures and crypto
alike:

    ``impact = strength · σ_day · sqrt(Q / V_day)``

where ``Q`` is the USD of the (meta-)order, ``V_day`` the USD traded per day, ``σ_day``
the daily volatility (as a fraction) and ``strength`` a constant of order one
(:data:`DEFAULT_STRENGTH`). An order of 1 % of a day's volume moves price by about a
tenth of a daily standard deviation; a forced order of a whole day's volume by about
one. So a cascade is rare when the liquidations near price are small against the
traffic and likely when leverage has piled up near price.

The same model serves the simulated market (its forced orders walk this book) and the
Heatmap page's "what if price moves" illustration, so the illustration uses the
mechanism the simulated truth is built with.

Limits: the law describes the average impact of an order executed over minutes to
hours; the book a real cascade meets can be far thinner (or thicker) than average,
and resilience (how fast the book refills) is not modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from liqcore.market import bar_interval

__all__ = [
    "DEFAULT_STRENGTH",
    "Liquidity",
    "cascade",
    "impact",
    "market_liquidity",
    "sweep",
]

#: The square-root law's constant ``Y``; measured values lie between about 0.5 and 1.
DEFAULT_STRENGTH = 0.7


@dataclass(frozen=True)
class Liquidity:
    """What the impact of an order depends on: daily traded USD and daily volatility.

    Attributes
    ----------
    daily_volume_usd : float
        USD traded per day.
    daily_volatility : float
        Standard deviation of daily log returns (a fraction, 0.03 = 3 %).
    """

    daily_volume_usd: float
    daily_volatility: float


def impact(
    order_usd: float | np.ndarray,
    liquidity: Liquidity,
    strength: float = DEFAULT_STRENGTH,
) -> float | np.ndarray:
    """Fraction by which an order of ``order_usd`` moves price (square-root law).

    Parameters
    ----------
    order_usd : float or ndarray
        Size of the order in USD (its sign is ignored: the caller knows the direction).
    liquidity : Liquidity
        Daily traded USD and daily volatility of the market.
    strength : float
        The law's constant (:data:`DEFAULT_STRENGTH`).

    Returns
    -------
    float or ndarray
        Price move as a fraction (0.01 = 1 %), never negative.

    Examples
    --------
    >>> liq = Liquidity(daily_volume_usd=1e9, daily_volatility=0.03)
    >>> round(impact(1e7, liq, strength=1.0), 4)  # 1 % of a day's volume: a tenth of σ
    0.003
    >>> round(impact(4e7, liq, strength=1.0) / impact(1e7, liq, strength=1.0), 6)
    2.0
    """
    if liquidity.daily_volume_usd <= 0 or not np.isfinite(liquidity.daily_volume_usd):
        msg = f"daily volume must be positive USD, got {liquidity.daily_volume_usd}"
        raise ValueError(msg)
    size = np.abs(np.asarray(order_usd, dtype="float64"))
    out = strength * liquidity.daily_volatility * np.sqrt(size / liquidity.daily_volume_usd)
    return float(out) if out.ndim == 0 else out


def market_liquidity(market: pd.DataFrame, days: float = 7.0) -> Liquidity:
    """Daily traded USD and daily volatility over the last ``days`` of a market frame.

    Volume is ``volume × close`` summed per day; volatility is the standard deviation of
    the bars' log returns scaled to a day (``σ_bar · sqrt(bars per day)``).

    Parameters
    ----------
    market : DataFrame
        A market frame (:func:`liqcore.market.validate_market`), at least two bars.
    days : float
        Look-back in days (at least two bars are used).

    Returns
    -------
    Liquidity

    Examples
    --------
    >>> t = pd.date_range("2026-01-01", periods=48, freq="1h", tz="UTC")
    >>> close = 100 * np.exp(0.01 * np.tile([1.0, -1.0], 24).cumsum())
    >>> m = pd.DataFrame({"close": close, "volume": 10.0}, index=t)
    >>> liq = market_liquidity(m, days=2)
    >>> round(liq.daily_volume_usd / 1e4, 1)  # 24 bars of ~10 coins at ~100
    2.4
    >>> round(liq.daily_volatility, 3)  # 1 % per hour -> ~4.9 % per day
    0.049
    """
    bars_per_day = pd.Timedelta(days=1) / bar_interval(market)
    last = market.tail(max(round(days * bars_per_day), 2))
    close = last["close"].to_numpy(dtype="float64")
    usd = float((last["volume"].to_numpy(dtype="float64") * close).sum())
    daily_volume = max(usd * bars_per_day / len(last), 1.0)
    log_ret = np.diff(np.log(close))
    sigma = float(np.std(log_ret) * np.sqrt(bars_per_day)) if log_ret.size > 1 else 0.0
    return Liquidity(daily_volume_usd=daily_volume, daily_volatility=sigma)


def sweep(levels: pd.DataFrame, price: float, move_pct: float) -> dict[str, float | str | None]:
    """USD liquidated if price moves by ``move_pct`` percent (an estimate when levels are).

    A fall reaches every long level from the current price down to the target, so the
    answer is ``cum_long_usd`` at the deepest bin reached; a rise, ``cum_short_usd`` at
    the highest. A level counts as reached when the target passes its bin centre.

    Parameters
    ----------
    levels : DataFrame
        A levels frame (:func:`liqcore.model.levels_frame`, e.g. ``Estimate.levels``).
    price : float
        The price the levels frame was built at (``Estimate.price``).
    move_pct : float
        Signed move in percent (−5 = a 5% fall).

    Returns
    -------
    dict
        ``target`` (price after the move), ``side`` ("long" for a fall, "short" for a
        rise, None for no move) and ``usd`` (USD liquidated).

    Examples
    --------
    >>> from liqcore.model import levels_frame
    >>> edges = np.array([90.0, 95, 100, 105, 110])
    >>> lv = levels_frame(np.array([[1.0, 2, 0, 0]]), np.array([[0.0, 0, 3, 4]]), edges,
    ...                   100.0, ["10x"])
    >>> sweep(lv, 100.0, -4)["usd"], sweep(lv, 100.0, -10)["usd"], sweep(lv, 100.0, 9)["usd"]
    (2.0, 3.0, 7.0)
    """
    if not np.isfinite(move_pct) or move_pct <= -100:
        msg = f"move_pct must be a finite move above -100%, got {move_pct}"
        raise ValueError(msg)
    target = price * (1.0 + move_pct / 100.0)
    centres = levels["price"].to_numpy()
    if move_pct < 0:
        side, reached = "long", levels["cum_long_usd"].to_numpy()[centres >= target]
    elif move_pct > 0:
        side, reached = "short", levels["cum_short_usd"].to_numpy()[centres <= target]
    else:
        return {"target": float(target), "side": None, "usd": 0.0}
    usd = float(reached.max()) if reached.size else 0.0
    return {"target": float(target), "side": side, "usd": usd}


def cascade(
    levels: pd.DataFrame,
    price: float,
    move_pct: float,
    liquidity: Liquidity,
    strength: float = DEFAULT_STRENGTH,
    rounds: int = 20,
) -> pd.DataFrame:
    """An illustration of the liquidation cascade a move of ``move_pct`` percent could set off.

    The move liquidates the levels it crosses (:func:`sweep`); those forced orders are
    one meta-order in the direction of the move, which moves price further by
    :func:`impact`. If that reaches more levels, they add to the order, and so on:

        ``move_{r+1} = move_pct + sign · 100 · impact(swept(move_r))``

    The swept USD never shrinks from round to round, so the rounds converge; it stops
    when a round liquidates nothing new (that round is the last row: where the push
    ends), when the push changes by less than 0.01 %, or after ``rounds`` rounds.

    An illustration, not a forecast: the levels are estimates, and a real book can be
    thinner or thicker than the square-root law's average.

    Parameters
    ----------
    levels : DataFrame
        A levels frame (``Estimate.levels``).
    price : float
        The price it was built at (``Estimate.price``).
    move_pct : float
        The starting move in percent (negative = fall).
    liquidity : Liquidity
        Daily traded USD and volatility (:func:`market_liquidity`).
    strength : float
        The square-root law's constant (0 = no cascade, the move alone).
    rounds : int
        Most rounds after the first move.

    Returns
    -------
    DataFrame
        One row per round (round 0 is the starting move): ``round``, ``price_from``,
        ``price_to``, ``move_pct`` (from the starting price to ``price_to``), ``usd``
        (liquidated in this round) and ``cum_usd``.

    Examples
    --------
    >>> from liqcore.model import levels_frame
    >>> edges = np.linspace(80.0, 120.0, 41)  # 1-dollar bins
    >>> longs = np.zeros(40); longs[[17, 14]] = [1e6, 3e6]  # longs at 97.5 and 94.5
    >>> lv = levels_frame(longs[None], np.zeros((1, 40)), edges, 100.0, ["10x"])
    >>> liq = Liquidity(daily_volume_usd=1e7, daily_volatility=0.1)
    >>> cascade(lv, 100.0, -3.0, liq, strength=1.0)[["round", "usd", "cum_usd"]]
       round        usd    cum_usd
    0      0  1000000.0  1000000.0
    1      1  3000000.0  4000000.0
    2      2        0.0  4000000.0
    >>> len(cascade(lv, 100.0, -3.0, liq, strength=0.0))  # no impact: the move alone
    1
    """
    if strength < 0 or not np.isfinite(strength):
        msg = f"strength must be a non-negative number, got {strength}"
        raise ValueError(msg)
    sign = float(np.sign(move_pct))
    rows = []
    move, done, price_from = float(move_pct), 0.0, float(price)
    for r in range(rounds + 1):
        swept = float(sweep(levels, price, move)["usd"])
        price_to = price * (1 + move / 100.0)
        rows.append(
            {
                "round": r,
                "price_from": price_from,
                "price_to": price_to,
                "move_pct": move,
                "usd": swept - done,
                "cum_usd": swept,
            }
        )
        push = sign * 100.0 * float(impact(swept, liquidity, strength)) if swept > 0 else 0.0
        next_move = max(move_pct + push, -99.0)  # a price never reaches zero
        if (swept == done and r > 0) or abs(next_move - move) < 0.01:
            break
        move, done, price_from = next_move, swept, price_to
    return pd.DataFrame(rows)
