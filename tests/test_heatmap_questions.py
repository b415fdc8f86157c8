"""The Heatmap and Accuracy pages' trader questions: indicators, confluence, magnets, what-if."""

from __future__ import annotations

import base64
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.analysis.confluence import confluence
from liqcore.analysis.indicators import available_indicators, indicator_values, rsi
from liqcore.analysis.magnets import MIN_TOUCHES, MagnetTest, magnet_study, magnet_test
from liqcore.analysis.whatif import what_if
from liqcore.controls import INDICATOR_NAMES
from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate


def reference_rsi(close: list[float], period: int) -> list[float]:
    """Wilder's RSI the way his worksheet computes it, one row at a time."""
    out = [float("nan")] * len(close)
    changes = [b - a for a, b in itertools.pairwise(close)]
    if len(changes) < period:
        return out
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    for i in range(period, len(changes) + 1):
        if i > period:
            c = changes[i - 1]
            gain = (gain * (period - 1) + max(c, 0.0)) / period
            loss = (loss * (period - 1) + max(-c, 0.0)) / period
        out[i] = (
            50.0 if gain == loss == 0 else 100.0 if loss == 0 else 100 - 100 / (1 + gain / loss)
        )
    return out


def test_rsi_matches_wilders_worksheet_on_a_hand_checked_series() -> None:
    # Period 3 by hand: changes +1, -0.5, +1, +0.5, -1. Seed averages 2/3 and 1/6: RS 4,
    # RSI 80. Then gain (2/3*2 + 0.5)/3 = 0.611, loss (1/6*2)/3 = 0.111: RSI 84.62. Then
    # gain 0.407, loss (0.111*2 + 1)/3 = 0.407: RSI 50.
    close = [10.0, 11, 10.5, 11.5, 12, 11]
    assert np.allclose(rsi(np.array(close), 3)[3:], [80.0, 84.6153846, 50.0])
    assert np.isnan(rsi(np.array(close), 3)[:3]).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1.0, 1e5), min_size=2, max_size=80), st.integers(1, 20))
def test_rsi_equals_the_row_by_row_worksheet(close: list[float], period: int) -> None:
    got = rsi(np.array(close), period)
    want = np.array(reference_rsi(close, period))
    assert np.allclose(got, want, equal_nan=True, atol=1e-7)
    assert ((got[~np.isnan(got)] >= 0) & (got[~np.isnan(got)] <= 100)).all()


def test_indicators_are_offered_only_when_the_data_has_them() -> None:
    market = pd.DataFrame({"close": [1.0, 2.0], "open_interest": [5.0, 6.0]})
    assert available_indicators(market) == ["RSI", "Open interest"]
    with pytest.raises(ValueError, match="no funding_rate"):
        indicator_values(market, "Funding")


def zones(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["side", "price_low", "price_high", "price", "usd"])


def test_a_zone_lines_up_only_with_same_side_zones_that_overlap() -> None:
    week = zones(("long", 95.0, 96.0, 95.5, 9e6), ("short", 110.0, 111.0, 110.5, 5e6))
    day = zones(("long", 96.05, 96.5, 96.2, 1e6), ("long", 110.0, 111.0, 110.5, 1e6))
    half = zones(("long", 97.0, 98.0, 97.5, 1e6))
    out = confluence(week, {"12h": half, "24h": day, "1w": week}, price=100.0)
    # 96.05 is within 0.1% of price (0.1) of 96.0: overlapping; 97 is not; a long zone at
    # the short zone's price is the other side of the book.
    assert out["timeframes"].tolist() == ["24h · 1w", "1w"]
    assert out["timeframe_count"].tolist() == [2, 1]
    assert confluence(week.iloc[:0], {"1w": week}, 100.0).empty


def hourly_walk(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    t = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    return pd.DataFrame({"high": close * 1.001, "low": close * 0.999, "close": close}, index=t)


PRICES = np.linspace(50, 200, 1501)  # 0.1-wide bins


def book_at(levels: np.ndarray, usd: float = 1e6) -> np.ndarray:
    """A book per column with one cluster at each column's level."""
    book = np.zeros((len(levels), len(PRICES)))
    book[np.arange(len(levels)), np.searchsorted(PRICES, levels).clip(0, len(PRICES) - 1)] = usd
    return book


def test_a_planted_magnet_shows_and_a_random_walk_shows_none() -> None:
    bars = hourly_walk(3)
    h = 24
    ends = np.arange(0, len(bars) - 2 * h - 1, 4)
    close, low, high = (bars[c].to_numpy() for c in ("close", "low", "high"))
    future_low = np.array([low[e + 1 : e + 1 + h].min() for e in ends])
    future_high = np.array([high[e + 1 : e + 1 + h].max() for e in ends])
    # Planted: the clusters sit exactly where price is going to trade within the horizon.
    planted = magnet_test(
        book_at(future_low * 1.0005), book_at(future_high * 0.9995), PRICES, ends, bars, h
    )
    assert planted.difference_low > 0.2
    assert planted.verdict.startswith("Here, clusters did attract price")
    # Random: clusters at random distances, the same on both sides in law.
    rng = np.random.default_rng(5)
    dist = rng.uniform(0.005, 0.05, (2, len(ends)))
    random = magnet_test(
        book_at(close[ends] * (1 - dist[0])),
        book_at(close[ends] * (1 + dist[1])),
        PRICES,
        ends,
        bars,
        h,
    )
    assert random.difference_low < 0 < random.difference_high
    assert random.verdict.startswith("No evidence here that clusters attract price")
    assert random.events == 2 * len(ends)


def test_a_level_is_reached_more_often_the_longer_price_has() -> None:
    # Fixed clusters 2% either side of price on a random walk: over the same cases, a level
    # reached within 8 h is reached within 24 h and 72 h, and more are reached later.
    bars = hourly_walk(11, n=4000)
    close = bars["close"].to_numpy()
    ends = np.arange(0, len(bars) - 2 * 72 - 1, 4)
    longs, shorts = book_at(close[ends] * 0.98), book_at(close[ends] * 1.02)
    tests = [magnet_test(longs, shorts, PRICES, ends, bars, h) for h in (8, 24, 72)]
    assert len({t.events for t in tests}) == 1
    assert tests[0].cluster_rate < tests[1].cluster_rate < tests[2].cluster_rate
    assert tests[0].mirror_rate < tests[1].mirror_rate < tests[2].mirror_rate
    assert [t.horizon_hours for t in tests] == [8.0, 24.0, 72.0]


def test_the_study_reads_the_bars_the_estimate_was_made_from() -> None:
    # The page estimates a window (the last days plus a warm-up) but holds the whole
    # frame: the columns' bar numbers count from the window's first bar, not the frame's.
    market = simulate(days=60, interval="1h", seed=4).market
    window = market.iloc[24 * 20 :]
    est = estimate(window, ModelParams(time_bins=240, price_bins=120), start=window.index[240])
    whole, own = magnet_study(est, market, 24), magnet_study(est, window, 24)
    assert whole == own
    # Every 2 h over the 30 tested days, less the last two horizons: the whole span.
    assert whole.days >= 28 and whole.events > 240
    with pytest.raises(ValueError, match="does not contain the bars"):
        magnet_study(est, market.iloc[: 24 * 30], 24)


def test_no_touches_are_said_in_words_never_nan() -> None:
    # A quiet walk and clusters 10% away: price never gets there within 8 h.
    bars = hourly_walk(2, n=600)
    close = bars["close"].to_numpy()
    ends = np.arange(0, 500, 4)
    result = magnet_test(
        book_at(close[ends] * 0.9), book_at(close[ends] * 1.1), PRICES, ends, bars, 8
    )
    assert result.events > 0 and result.cluster_touches == result.mirror_touches == 0
    assert result.move_label() == result.move_label(cluster=False) == "no touches"
    assert "no touches" in result.verdict and "nan" not in result.verdict.lower()


def magnet_result(touches_c: int, touches_m: int) -> MagnetTest:
    """A test whose move after a cluster is clearly larger, with the given touch counts."""
    return MagnetTest(24.0, 400, 30, 0.2, 0.1, 0.1, 0.05, 0.15, touches_c, touches_m,
                      1.5, -0.5, 1.0, 3.0)  # fmt: skip


def test_a_direction_after_a_touch_needs_enough_touches_on_both_sides() -> None:
    few = magnet_result(MIN_TOUCHES - 1, 40).verdict
    assert "Too few touches" in few and "carried on" not in few.replace("carried on or", "")
    assert f"after {MIN_TOUCHES - 1} cluster touches" in few and "after 40 empty-level" in few
    assert "Too few touches" in magnet_result(40, MIN_TOUCHES - 1).verdict
    enough = magnet_result(MIN_TOUCHES, 40).verdict
    assert "price carried on further" in enough and f"after {MIN_TOUCHES} cluster" in enough


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


# --------------------------------------------------------------------------- the pages

HEATMAP = "pages/heatmap.py"


def panel_names(spec: dict) -> list[str]:
    """Indicator panels under the candles (their traces sit on y3, y4, ...)."""
    main = {"y", "y2", "y7"}
    return [t["name"] for t in spec["data"] if t.get("yaxis") not in main and "yaxis" in t]


def test_indicator_pills_choose_the_panels_and_the_url_keeps_them(open_app, heatmap_spec) -> None:
    at = open_app(HEATMAP)
    assert not at.exception
    assert panel_names(heatmap_spec(at)) == ["RSI", "Open interest"]
    at.pills(key="ind").set_value(["Funding", "RSI"]).run()
    assert not at.exception
    # Panels keep one order (RSI, funding, OI, long/short), whatever the click order.
    assert panel_names(heatmap_spec(at)) == ["RSI", "Funding"]
    # A shared link reopens the same panels and move.
    at = open_app(HEATMAP, ind=["Funding"], move="10")
    assert panel_names(heatmap_spec(at)) == ["Funding"]
    assert at.slider(key="move").value == 10.0


def test_an_indicator_the_data_lacks_is_said_not_drawn(open_app, heatmap_spec) -> None:
    at = open_app(HEATMAP, src="CSV upload", ind=["Long/short", "RSI"])
    market = simulate(days=5, interval="1h", seed=3).market.drop(columns="long_short_ratio")
    csv = market.reset_index().to_csv(index=False).encode()
    at.sidebar.file_uploader[0].set_value(("no_ratio.csv", csv, "text/csv")).run()
    assert not at.exception
    assert panel_names(heatmap_spec(at)) == ["RSI"]
    assert any("This data has no Long/short" in c.value for c in at.caption)


def test_magnet_table_lists_the_timeframes_a_zone_appears_in(open_app) -> None:
    at = open_app(HEATMAP)
    table = at.table[0].value
    assert list(table.columns)[:5] == [
        "Side",
        "Centre",
        "USD at risk (est.)",
        "Distance %",
        "Timeframes",
    ]
    assert len(table) > 0
    # Every zone of the viewed 1w book is in the 1w book at least.
    assert all(str(cell).endswith("1w") for cell in table["Timeframes"])


def test_what_if_slider_shows_each_side_and_the_cascade(open_app) -> None:
    at = open_app(HEATMAP)
    labels = [m.label for m in at.metric]
    assert "A 5% fall liquidates (est.)" in labels and "A 5% rise liquidates (est.)" in labels
    at.slider(key="move").set_value(12.0).run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "A 12% fall liquidates (est.)" in labels
    assert any("strength 0.7" in c.value and "daily volume" in c.value for c in at.caption)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("What a +12.0% move" in c["layout"]["title"]["text"] for c in charts)


def test_the_accuracy_page_answers_whether_magnets_pull_price(open_app) -> None:
    at = open_app("pages/accuracy.py")
    assert not at.exception
    verdicts = [m.value for m in at.markdown if "clusters" in m.value and "within 24 h" in m.value]
    assert len(verdicts) == 1
    day = next(m for m in at.metric if m.label.startswith("Reached the largest cluster"))
    # The default year of 15m bars: the last 90 days every 2 hours, not a slice of them.
    cases, days = (int(x.replace(",", "")) for x in day.delta.split()[::3])
    assert cases > 1500 and days >= 85
    at.segmented_control(key="mh").set_value("8").run()
    assert not at.exception
    assert any("within 8 h" in m.value for m in at.markdown)
    eight = next(m for m in at.metric if m.label.startswith("Reached the largest cluster"))
    assert float(eight.value.rstrip("%")) < float(day.value.rstrip("%"))


def test_the_magnet_section_never_shows_nan(open_app) -> None:
    at = open_app("pages/accuracy.py", regime="Calm", mh="72")
    assert not at.exception
    shown = [m.value for m in at.markdown] + [f"{m.value} {m.delta}" for m in at.metric]
    assert not any("nan%" in text for text in shown)
    move = next(m for m in at.metric if m.label.startswith("Move 72 h after"))
    assert "touches" in move.delta


def test_every_indicator_panel_gets_its_own_axes() -> None:
    from liqcore.figures.heatmap import heatmap_figure

    market = simulate(days=5, interval="1h", seed=3).market
    spec = heatmap_figure(estimate(market), market, indicators=INDICATOR_NAMES).to_dict()
    panels = [t for t in spec["data"] if t["name"] in INDICATOR_NAMES]
    assert [t["name"] for t in panels] == list(INDICATOR_NAMES)
    others = {(t.get("xaxis"), t.get("yaxis")) for t in spec["data"] if t not in panels}
    axes = [(t["xaxis"], t["yaxis"]) for t in panels]
    assert len(set(axes)) == 4 and not set(axes) & others
    # The cumulative curves keep their axis over the liquidation map.
    assert spec["layout"]["xaxis5"]["overlaying"] == "x2"


def typed_array(values: object) -> np.ndarray:
    """A figure array as plotly's JSON sends it: a list, or a base64 typed-array spec."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype="float64")


@pytest.mark.parametrize(("side", "shown"), [("Both", 2), ("Longs", 1), ("Shorts", 1)])
def test_confluence_markers_follow_the_side_shown(side: str, shown: int) -> None:
    from liqcore.figures.heatmap import heatmap_figure

    market = simulate(days=5, interval="1h", seed=3).market
    est = estimate(market)
    below, above = est.price * 0.97, est.price * 1.03
    marked = confluence(
        zones(
            ("long", below, below + 1, below + 0.5, 1e6), ("short", above, above + 1, above, 1e6)
        ),
        {
            "24h": zones(
                ("long", below, below + 1, below, 1e6), ("short", above, above + 1, above, 1e6)
            ),
            "1w": zones(
                ("long", below, below + 1, below, 1e6), ("short", above, above + 1, above, 1e6)
            ),
        },
        est.price,
    )
    spec = heatmap_figure(est, market, side=side, confluence=marked).to_dict()
    diamonds = [t for t in spec["data"] if t["name"] == "on several timeframes"]
    ys = [y for t in diamonds for y in typed_array(t["y"])]
    assert len(ys) == shown
    if side == "Shorts":
        assert min(ys) > est.price
    if side == "Longs":
        assert max(ys) < est.price
