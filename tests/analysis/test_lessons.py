"""liqcore.analysis.lessons: the Learn page's calculator, opening levels and recent liquidations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqcore.analysis import lessons
from tests.frames import small_sim
from tests.strategies import PROPERTY


@PROPERTY
@given(
    entry=st.floats(1e-3, 1e7),
    leverage=st.floats(1.01, 150.0),
    mmr=st.floats(0.0, 0.006),
    side=st.sampled_from(["long", "short", "Long", "Short"]),
    margin=st.floats(1.0, 1e6),
)
def test_calculator_is_the_isolated_margin_formula(
    entry: float, leverage: float, mmr: float, side: str, margin: float
) -> None:
    r = lessons.calculator(entry, leverage, side, mmr, margin_usd=margin)
    if side.lower() == "long":
        expected = entry * (1 - 1 / leverage) / (1 - mmr)
        assert r["liq_price"] < entry and r["distance_pct"] < 0
    else:
        expected = entry * (1 + 1 / leverage) / (1 + mmr)
        assert r["liq_price"] > entry and r["distance_pct"] > 0
    assert r["liq_price"] == pytest.approx(expected, rel=1e-12)
    assert r["position_usd"] == pytest.approx(margin * leverage)
    # At the liquidation price, what the move cost plus the maintenance margin left is the
    # whole margin: the definition of the liquidation price.
    left = mmr * r["quantity"] * r["liq_price"]
    assert r["loss_at_liq_usd"] + left == pytest.approx(margin, rel=1e-9)
    assert r["margin_lost_usd"] == margin


def test_more_leverage_brings_the_liquidation_price_closer() -> None:
    distances = [
        abs(lessons.calculator(60_000, lev, "long")["distance_pct"]) for lev in (5, 10, 20)
    ]
    assert distances[0] > distances[1] > distances[2]
    assert distances[1] == pytest.approx(2 * distances[2], rel=0.05)  # "about twice as close"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((60_000, 1.0, "long"), "cannot be liquidated"),
        ((60_000, 0.5, "long"), "cannot be liquidated"),
        ((60_000, 250.0, "short", 0.005), "as soon as it opens"),
        ((0.0, 10.0, "long"), "entry must be a positive number"),
        ((60_000, 10.0, "sideways"), "long or short"),
        ((60_000, 10.0, "long", 1.5), "maintenance margin"),
    ],
)
def test_calculator_explains_inputs_without_a_liquidation_price(args: tuple, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        lessons.calculator(*args)


def test_a_short_at_1x_still_has_a_liquidation_price() -> None:
    r = lessons.calculator(100.0, 1.0, "short", mmr=0.0)
    assert r["liq_price"] == pytest.approx(200.0)


def test_opening_levels_are_the_simulated_positions_of_the_window() -> None:
    sim = small_sim()
    n, first = 48, 100
    lv = lessons.opening_levels(sim, n_bars=n, first_bar=first)
    p = sim.positions
    in_window = (p.open_bar >= first) & (p.open_bar < first + n) & p.in_book
    assert len(lv) == in_window.sum()
    assert lv["usd"].sum() == pytest.approx(p.usd[in_window].sum())
    assert set(lv["bar"]) == set(range(n))
    # A level marked liquidated inside the window was reached by that bar's wick
    # (the opening liquidation price, give or take the funding paid since).
    low = sim.market["low"].to_numpy()[first:]
    high = sim.market["high"].to_numpy()[first:]
    dead = lv[lv["liquidated_bar"] >= 0]
    assert not dead.empty
    reached = np.where(
        dead["side"] == "long",
        low[dead["liquidated_bar"]] <= dead["liq_price"] * (1 + 1e-4),
        high[dead["liquidated_bar"]] >= dead["liq_price"] * (1 - 1e-4),
    )
    assert reached.all()
    assert (dead["liquidated_bar"] >= dead["bar"]).all()


def test_opening_levels_rejects_a_window_outside_the_market() -> None:
    with pytest.raises(ValueError, match="first_bar"):
        lessons.opening_levels(small_sim(), n_bars=8, first_bar=10_000)


def test_recent_liquidations_add_up_to_the_market_s_own() -> None:
    market = small_sim().market
    for period in ("1h", "4h"):
        per = lessons.recent_liquidations(market, period, days=10)  # more than the market
        assert per["long_usd"].sum() == pytest.approx(market["realized_long_usd"].sum())
        assert per["short_usd"].sum() == pytest.approx(market["realized_short_usd"].sum())
    with pytest.raises(ValueError, match="no liquidation data"):
        lessons.recent_liquidations(market.drop(columns="realized_long_usd"))


def test_higher_leverage_and_longer_horizons_are_liquidated_more_often() -> None:
    market = small_sim().market
    day = lessons.leverage_risk(market, hours=24)
    hour = lessons.leverage_risk(market, hours=1)
    for frame in (day, hour):
        for column in ("long_liquidated_pct", "short_liquidated_pct"):
            assert frame[column].is_monotonic_increasing
    assert (day["long_liquidated_pct"] >= hour["long_liquidated_pct"]).all()
    assert day["long_liquidated_pct"].iloc[-1] > 50  # 100x rarely lives a day
    with pytest.raises(ValueError, match="too few"):
        lessons.leverage_risk(market.iloc[:10], hours=24)
