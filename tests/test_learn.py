"""The Learn page: its lessons' maths and figures, and the page as a visitor uses it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from streamlit.testing.v1 import AppTest

from liqcore import orderbook
from liqcore.analysis import lessons
from liqcore.figures.lessons import annotated_heatmap_figure, cascade_figure, opening_figure
from liqcore.model import levels_frame
from liqcore.orderbook import Liquidity, cascade, market_liquidity
from liqcore.simulate import SimulatedMarket, simulate

ROOT = Path(__file__).parents[1]
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def small_sim() -> SimulatedMarket:
    return simulate(days=4, interval="15m", seed=11)


# --------------------------------------------------------------------------- 1. calculator


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


# --------------------------------------------------------------------------- 2. clusters


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


def test_opening_figure_grows_bar_by_bar() -> None:
    sim = small_sim()
    lv = lessons.opening_levels(sim, n_bars=10)
    window = sim.market.iloc[-10:]

    def candles(upto: int) -> int:
        fig = opening_figure(lv, window, upto)
        return len(next(t for t in fig.data if t.type == "candlestick").x)

    assert [candles(k) for k in (0, 4, 9)] == [1, 5, 10]
    only = opening_figure(lv, window, 9, tiers=["100x"])
    assert {t.name for t in only.data if t.type == "scatter"} <= {"100x", "liquidated"}


# --------------------------------------------------------------------------- 3. heatmap


def test_annotated_heatmap_labels_follow_the_choice() -> None:
    sim = small_sim()
    est = lessons.lesson_estimate(sim.market, days_shown=2)
    every = annotated_heatmap_figure(est, sim.market)
    texts = " ".join(a.text for a in every.layout.annotations)
    for words in ("Time runs", "Price", "Colour = USD", "Candles"):
        assert words in texts
    assert "estimate" in texts  # the colour legend says what the colours are
    bare = annotated_heatmap_figure(est, sim.market, labels=())
    assert len(bare.layout.annotations) < len(every.layout.annotations)


# --------------------------------------------------------------------------- 4. cascades


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


def test_cascade_figure_marks_the_swept_zone() -> None:
    sim = small_sim()
    est = lessons.lesson_estimate(sim.market, days_shown=2)
    rounds = cascade(est.levels, est.price, -6.0, market_liquidity(sim.market))
    fig = cascade_figure(est.levels, est.price, rounds)
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("your move") and "(est.)" in t for t in texts)
    assert "estimate" in fig.data[0].name


# --------------------------------------------------------------------------- 5. and 6.


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


# --------------------------------------------------------------------------- the page


def open_learn(**query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.query_params.update(query)
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def assert_ran(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_learn_is_the_default_page_and_runs_every_step() -> None:
    at = open_learn()
    assert_ran(at)
    assert at.title[0].value.startswith("Learn")
    assert [tab.label for tab in at.tabs] == [
        "1 · Liquidation",
        "2 · Clusters",
        "3 · The heatmap",
        "4 · Magnets & cascades",
        "5 · Liquidation charts",
        "6 · Use it wisely",
    ]
    charts = {chart.proto.id for chart in at.get("plotly_chart")}
    assert len(charts) == 6  # one figure per step
    # Every figure built from the model says it is an estimate.
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    titles = [spec["layout"].get("title", {}).get("text", "") for spec in specs]
    assert sum("Estimate" in t or "estimate" in t for t in titles) >= 2
    assert "Step 1 of 6" in at.get("progress")[0].proto.text


def test_the_calculator_follows_its_inputs() -> None:
    at = open_learn()
    before = metric(at, "Liquidation price")
    assert before == "54,216.87"  # 60,000 at 10x, long, 0.4%
    at.slider(key="lev").set_value(25.0).run()
    assert_ran(at)
    after = metric(at, "Liquidation price")
    assert after != before
    assert after == f"{lessons.calculator(60_000, 25, 'long')['liq_price']:,.2f}"
    at.button_group(key="pos").set_value("Short").run()
    assert float(metric(at, "Liquidation price").replace(",", "")) > 60_000
    at.number_input(key="entry").set_value(100.0).run()
    assert (
        metric(at, "Liquidation price")
        == f"{lessons.calculator(100, 25, 'short')['liq_price']:,.2f}"
    )


def test_a_long_at_1x_gets_a_message_not_a_traceback() -> None:
    at = open_learn(lev="1", pos="Long")
    assert_ran(at)
    assert any("cannot be liquidated" in info.value for info in at.info)


def test_a_shared_link_restores_the_calculator() -> None:
    at = open_learn(lev="25", pos="Short", entry="100")
    assert_ran(at)
    assert at.slider(key="lev").value == 25.0
    assert at.button_group(key="pos").value == "Short"
    assert at.number_input(key="entry").value == 100.0
    assert metric(at, "Liquidation price") == "103.59"


def test_steps_react_to_their_controls() -> None:
    at = open_learn()
    before = metric(at, "Liquidated by the")
    at.slider(key="learn_move").set_value(-10.0).run()
    assert_ran(at)
    after = metric(at, "Liquidated by the")
    assert float(after.strip("$MBK")) != float(before.strip("$MBK"))
    # A check-yourself answer gets feedback.
    at.radio(key="learn_q1").set_value("moves about twice as close to your entry").run()
    assert any(s.value.startswith("Right.") for s in at.success)
    at.radio(key="learn_q3").set_value("Shorts").run()
    assert any("Not quite" in w.value for w in at.warning)


def test_next_moves_the_guide_forward() -> None:
    at = open_learn()
    at.button(key="learn_next_0").click().run()
    assert_ran(at)
    assert at.session_state["learn_step"] == "2 · Clusters"
    assert "Step 2 of 6" in at.get("progress")[0].proto.text
