"""liqcore.analysis.whatif: what a move of price would liquidate."""

from __future__ import annotations

import pandas as pd
import pytest

from liqcore.analysis.whatif import what_if
from liqcore.model import estimate
from liqcore.simulate import simulate


def test_what_if_liquidates_more_the_further_price_moves() -> None:
    market = simulate(days=10, interval="15m", seed=3).market
    est = estimate(market)
    small, big = what_if(est, market, -2.0), what_if(est, market, -10.0)
    assert small.fall_usd <= big.fall_usd and small.rise_usd <= big.rise_usd
    assert small.rounds["move_pct"].iloc[0] == -2.0
    assert what_if(est, market, 0.0).fall_usd == 0.0


def test_what_if_reaches_beyond_the_charts_price_range() -> None:
    # A one-day chart spans a few percent of price; the slider offers +-20 %.
    market = simulate(days=10, interval="15m", seed=3).market
    est = estimate(market, start=market.index[-1] - pd.Timedelta(days=1))
    price, wide = est.price, est.wide_levels
    assert est.levels["price_high"].iloc[-1] < price * 1.05  # the chart stops short of +5 %
    assert est.levels["price_low"].iloc[0] > price * 0.95
    centre = wide["price"]
    between = (centre > price * 1.05) & (centre <= price * 1.15)
    shorts_between = float(wide.loc[between, "short_usd"].sum())
    assert shorts_between > 0
    small, big = what_if(est, market, 5.0), what_if(est, market, 15.0)
    assert big.rise_usd > small.rise_usd
    assert big.rise_usd - small.rise_usd == pytest.approx(shorts_between, rel=1e-9)
    below = (centre < price * 0.95) & (centre >= price * 0.85)
    longs_between = float(wide.loc[below, "long_usd"].sum())
    assert longs_between > 0
    fall_gap = what_if(est, market, -15.0).fall_usd - what_if(est, market, -5.0).fall_usd
    assert fall_gap == pytest.approx(longs_between, rel=1e-9)
    assert not big.beyond_book and big.book_reach_pct[1] >= 50.0
