"""liqcore.orderbook: the sweep of a move through the levels and the cascade it sets off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liqcore import orderbook
from liqcore.model import levels_frame
from liqcore.orderbook import Liquidity, cascade
from tests.strategies import PROPERTY


@st.composite
def books(draw: st.DrawFn) -> tuple[pd.DataFrame, float]:
    """A levels frame around price 100 with random USD per bin (longs below, shorts above)."""
    bins = draw(st.integers(4, 60))
    edges = np.linspace(70.0, 130.0, bins + 1)
    usd = hnp.arrays("float64", bins, elements=st.floats(0.0, 1e9))
    longs, shorts = draw(usd), draw(usd)
    price = draw(st.floats(75.0, 125.0))
    centres = 0.5 * (edges[:-1] + edges[1:])
    longs[centres > price] = 0.0
    shorts[centres <= price] = 0.0
    return levels_frame(longs[None], shorts[None], edges, price, ["10x"]), price


@PROPERTY
@given(books(), st.floats(-40.0, 40.0))
def test_sweep_adds_up_the_levels_between_price_and_the_target(
    book: tuple[pd.DataFrame, float], move: float
) -> None:
    levels, price = book
    swept = orderbook.sweep(levels, price, move)
    target = price * (1 + move / 100)
    centre = levels["price"]
    if move < 0:
        direct = levels.loc[(centre >= target) & (centre <= price), "long_usd"].sum()
    elif move > 0:
        direct = levels.loc[(centre <= target) & (centre > price), "short_usd"].sum()
    else:
        direct = 0.0
    assert swept["usd"] == pytest.approx(direct, rel=1e-9, abs=1e-3)
    assert swept["target"] == pytest.approx(target)


#: A thin market for the cascade properties: a day's volume of $1B at 5% daily volatility.
THIN = Liquidity(daily_volume_usd=1e9, daily_volatility=0.05)


@PROPERTY
@given(books(), st.floats(0.0, 30.0), st.floats(0.0, 30.0), st.floats(0.0, 1.5), st.booleans())
def test_a_bigger_move_never_liquidates_less(
    book: tuple[pd.DataFrame, float], a: float, b: float, strength: float, down: bool
) -> None:
    levels, price = book
    small, big = sorted((a, b))
    sign = -1.0 if down else 1.0
    assert (
        orderbook.sweep(levels, price, sign * small)["usd"]
        <= orderbook.sweep(levels, price, sign * big)["usd"]
    )
    end_small = cascade(levels, price, sign * small, THIN, strength).iloc[-1]
    end_big = cascade(levels, price, sign * big, THIN, strength).iloc[-1]
    assert end_small["cum_usd"] <= end_big["cum_usd"] * (1 + 1e-12)
    assert abs(end_small["move_pct"]) <= abs(end_big["move_pct"]) + 1e-9


@PROPERTY
@given(books(), st.floats(-30.0, 30.0), st.floats(0.0, 1.5))
def test_cascade_rounds_add_up_and_only_push_further(
    book: tuple[pd.DataFrame, float], move: float, strength: float
) -> None:
    levels, price = book
    rounds = cascade(levels, price, move, THIN, strength)
    assert rounds["usd"].sum() == pytest.approx(rounds["cum_usd"].iloc[-1], rel=1e-9, abs=1e-3)
    assert (rounds["usd"] >= -1e-6).all()
    moves = rounds["move_pct"].abs().to_numpy()
    assert (np.diff(moves) >= -1e-9).all()  # forced orders push with the move, never back
    first = orderbook.sweep(levels, price, move)["usd"]
    assert rounds["usd"].iloc[0] == pytest.approx(first)
    # Without impact the cascade is the move alone.
    assert len(cascade(levels, price, move, THIN, 0.0)) == 1


def test_a_cascade_can_reach_the_next_cluster() -> None:
    edges = np.linspace(80.0, 120.0, 41)
    longs = np.zeros(40)
    longs[[17, 14]] = [10.0, 30.0]  # a cluster 2.5% below, the next 5.5% below
    shorts = np.zeros(40)
    shorts[35] = 160.0
    levels = levels_frame(longs[None], shorts[None], edges, 100.0, ["10x"])
    # 40 USD against a day's volume of 100 at 10% daily volatility: a push of ~6%.
    thin = Liquidity(daily_volume_usd=100.0, daily_volatility=0.1)
    alone = cascade(levels, 100.0, -3.0, thin, strength=0.0)
    pushed = cascade(levels, 100.0, -3.0, thin, strength=1.0)
    assert alone["cum_usd"].iloc[-1] == 10.0
    assert pushed["cum_usd"].iloc[-1] == 40.0
