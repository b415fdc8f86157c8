""" "What if price moves X %?": the USD a move liquidates on each side, and the cascade after it.

An illustration on the estimated book, using the order-book depth model of
:mod:`liqcore.orderbook` (the square-root impact law the simulated market is built on).
It reads the book on wide price bins (:attr:`liqcore.model.Estimate.wide_levels`, at
least ±50 % around price), not only the chart's price range, so a 15 % rise reaches
the shorts beyond a chart that stops at +3 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from liqcore.model import Estimate
from liqcore.orderbook import DEFAULT_STRENGTH, Liquidity, cascade, market_liquidity, sweep

__all__ = ["WhatIf", "what_if"]


@dataclass(frozen=True)
class WhatIf:
    """What a move of ``move_pct`` percent would set off (estimates and an illustration).

    Attributes
    ----------
    move_pct : float
        The move asked about (negative = fall).
    fall_usd, rise_usd : float
        USD of longs a fall of ``|move_pct|`` and of shorts a rise of ``|move_pct|``
        would liquidate (:func:`liqcore.orderbook.sweep`).
    rounds : DataFrame
        The cascade the signed move could set off (:func:`liqcore.orderbook.cascade`).
    liquidity : Liquidity
        Daily traded USD and daily volatility assumed (from the data).
    strength : float
        The square-root law's constant assumed.
    book_reach_pct : tuple of float
        How far below and above price the estimated book reaches (percent, e.g.
        ``(-50.0, 50.0)``): the answers count no level beyond it.
    """

    move_pct: float
    fall_usd: float
    rise_usd: float
    rounds: pd.DataFrame
    liquidity: Liquidity
    strength: float
    book_reach_pct: tuple[float, float] = (-100.0, float("inf"))

    @property
    def beyond_book(self) -> bool:
        """Whether the move or the cascade after it goes past the edge of the book."""
        low, high = self.book_reach_pct
        moves = (self.move_pct, float(self.rounds["move_pct"].iloc[-1]))
        return any(m < low or m > high for m in moves)

    @property
    def cascade_usd(self) -> float:
        """USD the cascade adds beyond what the move itself liquidates."""
        return float(self.rounds["cum_usd"].iloc[-1] - self.rounds["usd"].iloc[0])


def what_if(
    estimate: Estimate,
    market: pd.DataFrame,
    move_pct: float,
    strength: float = DEFAULT_STRENGTH,
) -> WhatIf:
    """The USD a move liquidates on each side of price, and the cascade that could follow.

    Parameters
    ----------
    estimate : Estimate
        The estimate being viewed (its current book on wide bins, ``wide_levels``, and
        ``price``).
    market : DataFrame
        The market frame it was made from (daily volume and volatility come from its
        last 7 days, :func:`liqcore.orderbook.market_liquidity`).
    move_pct : float
        Signed move in percent (−5 = a 5 % fall), between −99 and any rise.
    strength : float
        The square-root impact law's constant.

    Returns
    -------
    WhatIf

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> from liqcore.model import estimate as run
    >>> market = simulate(days=10, interval="15m", seed=3).market
    >>> result = what_if(run(market), market, -5.0)
    >>> result.fall_usd == float(result.rounds["usd"].iloc[0]), result.rise_usd >= 0
    (True, True)
    >>> what_if(run(market), market, -5.0, strength=0.0).cascade_usd
    0.0
    >>> result.book_reach_pct[0] <= -50.0 <= 50.0 <= result.book_reach_pct[1]
    True
    """
    levels, price = estimate.wide_levels, estimate.price
    size = abs(float(move_pct))
    liquidity = market_liquidity(market)
    return WhatIf(
        move_pct=float(move_pct),
        fall_usd=float(sweep(levels, price, -size)["usd"]) if size else 0.0,
        rise_usd=float(sweep(levels, price, size)["usd"]) if size else 0.0,
        rounds=cascade(levels, price, move_pct, liquidity, strength),
        liquidity=liquidity,
        strength=float(strength),
        book_reach_pct=(
            (float(levels["price_low"].iloc[0]) / price - 1.0) * 100.0,
            (float(levels["price_high"].iloc[-1]) / price - 1.0) * 100.0,
        ),
    )
