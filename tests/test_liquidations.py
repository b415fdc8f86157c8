"""Tests of the Liquidations page: per-period sums, figures, the momentum reading, the page."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from streamlit.testing.v1 import AppTest

from liqcore import controls
from liqcore.analysis import readings
from liqcore.analysis.realized import (
    ESTIMATE_LABEL,
    TRUE_LABEL,
    UNKNOWN_LABEL,
    agreement,
    choose_period,
    largest_bars,
    liquidations_by_period,
    realized_from_market,
    realized_source_label,
    totals,
)
from liqcore.figures.liquidations import comparison_figure, liquidations_figure
from liqcore.figures.theme import LONG_COLOR, SHORT_COLOR
from liqcore.real import real_market, reported_daily
from ui import cache, data

ROOT = Path(__file__).resolve().parents[1]
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _realized(long_usd, short_usd, *, freq: str = "15min", start: str = "2024-01-01 00:00"):
    index = pd.date_range(start, periods=len(long_usd), freq=freq, tz="UTC", name="time")
    return pd.DataFrame({"long_usd": long_usd, "short_usd": short_usd}, index=index)


def _per_period(long_usd, short_usd, price, *, freq: str = "1h") -> pd.DataFrame:
    """A per-period frame as liquidations_by_period returns it, from per-period arrays."""
    frame = _realized(np.asarray(long_usd, float), np.asarray(short_usd, float), freq=freq)
    frame["total_usd"] = frame["long_usd"] + frame["short_usd"]
    frame["price"] = np.asarray(price, float)
    frame["bars"] = 4
    return frame


def _values(trace_y: object) -> np.ndarray:
    """A plotly trace's y as numbers, whether a typed array (base64) or a list."""
    if isinstance(trace_y, dict):
        return np.frombuffer(base64.b64decode(trace_y["bdata"]), dtype=trace_y["dtype"])
    return np.asarray(trace_y, dtype="float64")


# ---------------------------------------------------------------------------
# Per-period sums
# ---------------------------------------------------------------------------

amounts = st.one_of(st.just(0.0), st.floats(1.0, 1e10, allow_nan=False))


@st.composite
def realized_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.Series, str]:
    n = draw(st.integers(1, 300))
    freq = draw(st.sampled_from(["1min", "5min", "15min", "1h"]))
    offset = draw(st.integers(0, 24 * 60 - 1))  # any minute of the day: periods cut anywhere
    start = pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(minutes=offset)
    index = pd.date_range(start.floor(freq), periods=n, freq=freq, name="time")
    long_usd = draw(hnp.arrays("float64", n, elements=amounts))
    short_usd = draw(hnp.arrays("float64", n, elements=amounts))
    price = draw(hnp.arrays("float64", n, elements=st.floats(1.0, 1e6, allow_nan=False)))
    period = draw(st.sampled_from(list(controls.PERIODS)))
    realized = pd.DataFrame({"long_usd": long_usd, "short_usd": short_usd}, index=index)
    return realized, pd.Series(price, index=index), period


@PROPERTY
@given(realized_frames())
def test_per_period_sums_equal_bar_sums(case: tuple[pd.DataFrame, pd.Series, str]) -> None:
    realized, price, period = case
    out = liquidations_by_period(realized, price, period)
    freq = controls.PERIODS[period]
    # Every bar lands in the period its open time floors to (UTC clock periods).
    expected = realized.groupby(realized.index.floor(freq)).sum()
    assert list(out.index) == list(expected.index)
    np.testing.assert_allclose(out["long_usd"], expected["long_usd"], rtol=1e-12)
    np.testing.assert_allclose(out["short_usd"], expected["short_usd"], rtol=1e-12)
    np.testing.assert_allclose(out["total_usd"], out["long_usd"] + out["short_usd"], rtol=1e-12)
    total = realized["long_usd"].sum() + realized["short_usd"].sum()
    assert out["total_usd"].sum() == pytest.approx(total, rel=1e-12)
    assert out["bars"].sum() == len(realized)
    closes = price.groupby(price.index.floor(freq)).last()
    np.testing.assert_array_equal(out["price"].to_numpy(), closes.to_numpy())


def test_partial_first_period_is_dropped_only_when_asked() -> None:
    realized = _realized(np.ones(10), np.zeros(10), start="2024-01-01 03:30")  # 03:30-05:45
    price = pd.Series(100.0, index=realized.index)
    full = liquidations_by_period(realized, price, "1h")
    assert full["bars"].tolist() == [2, 4, 4]
    trimmed = liquidations_by_period(realized, price, "1h", drop_partial_first=True)
    assert trimmed["bars"].tolist() == [4, 4]
    assert trimmed.index[0] == pd.Timestamp("2024-01-01 04:00", tz="UTC")


def test_daily_totals_beside_hourly_bars_take_the_day_s_last_close() -> None:
    # A daily total is stamped at midnight: its price is the day's last hourly close,
    # not the close of the 00:00 bar (which is about the previous day's close).
    hours = pd.date_range("2024-01-01", periods=72, freq="1h", tz="UTC", name="time")
    price = pd.Series(np.arange(72, dtype="float64"), index=hours)
    days = pd.date_range("2024-01-01", periods=3, freq="1D", tz="UTC", name="time")
    daily = pd.DataFrame({"long_usd": [1.0, 2, 3], "short_usd": [0.0, 0, 0]}, index=days)
    out = liquidations_by_period(daily, price, "1d")
    assert out["price"].tolist() == [23.0, 47.0, 71.0]


def test_real_example_reported_days_and_estimate_days_show_the_same_close() -> None:
    market = real_market("BTC")
    reported = reported_daily("BTC").loc[market.index[0] :]
    hourly = pd.DataFrame({"long_usd": 1.0, "short_usd": 0.0}, index=market.index)
    by_day = {
        name: liquidations_by_period(frame, market["close"], "1d", drop_partial_first=True)
        for name, frame in (("reported", reported), ("estimate", hourly))
    }
    same_days = by_day["reported"].index.intersection(by_day["estimate"].index)
    assert len(same_days) >= 40
    pd.testing.assert_series_equal(
        by_day["reported"].loc[same_days, "price"], by_day["estimate"].loc[same_days, "price"]
    )
    # The review's day: Jan 20 2026 closed at 88,390.60 on Binance's hourly bars.
    assert by_day["reported"].loc[pd.Timestamp("2026-01-20", tz="UTC"), "price"] == pytest.approx(
        88390.6
    )


def test_periods_without_bars_are_left_out() -> None:
    index = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 03:00"], tz="UTC", name="time")
    realized = pd.DataFrame({"long_usd": [1.0, 2.0], "short_usd": [0.0, 0.0]}, index=index)
    out = liquidations_by_period(realized, pd.Series([1.0, 2.0], index=index), "1h")
    assert out["long_usd"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("frame", "period", "message"),
    [
        (_realized([1.0, 2.0], [0.0, 0.0]), "2h", "period must be one of 15m, 1h, 4h, 1d"),
        (_realized([1.0, 2.0], [0.0, 0.0]).drop(columns="short_usd"), "1h", "short_usd"),
        (_realized([1.0, -2.0], [0.0, 0.0]), "1h", "must not be negative"),
        (_realized([1.0, np.nan], [0.0, 0.0]), "1h", "NaN or infinite"),
    ],
)
def test_bad_input_is_refused_with_a_reason(frame: pd.DataFrame, period: str, message: str):
    price = pd.Series(1.0, index=frame.index)
    with pytest.raises(ValueError, match=message):
        liquidations_by_period(frame, price, period)


def test_empty_window_gives_an_empty_frame() -> None:
    empty = _realized(np.array([]), np.array([]))
    out = liquidations_by_period(empty, pd.Series([], dtype=float), "1h")
    assert out.empty
    assert list(out.columns) == ["long_usd", "short_usd", "total_usd", "price", "bars"]
    assert totals(out)["long_share"] is None


def test_choose_period_coarsens_for_coarse_data_and_long_windows() -> None:
    week = pd.Timedelta(days=7)
    assert choose_period("1h", pd.Timedelta("15min"), week) == ("1h", None)
    period, note = choose_period("15m", pd.Timedelta("4h"), week)
    assert period == "4h"
    assert "4h bars" in note
    period, note = choose_period("15m", pd.Timedelta("15min"), pd.Timedelta(days=90))
    assert period == "4h"  # 90 days: 8,640 bars of 1h, 540 of 4h
    assert "8,640" in note


# ---------------------------------------------------------------------------
# Totals, largest bars, source labels, agreement
# ---------------------------------------------------------------------------


def test_totals_and_largest_bars() -> None:
    pp = _per_period([5.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [10.0, 11.0, 9.0, 9.0])
    summary = totals(pp)
    assert summary["long_usd"] == 6.0
    assert summary["long_share"] == 1.0
    assert summary["long_short_ratio"] is None  # no short liquidated: no ratio, no ZeroDivision
    top = largest_bars(pp, n=5)
    assert top["usd"].tolist() == [5.0, 1.0]  # empty bars are not "largest"
    assert top["side"].tolist() == ["Longs", "Longs"]
    assert top["share_pct"].sum() == pytest.approx(100.0)
    with pytest.raises(ValueError, match="at least 1"):
        largest_bars(pp, n=0)


def test_source_labels() -> None:
    market = pd.DataFrame({"realized_long_usd": [1.0], "realized_short_usd": [2.0]})
    assert realized_source_label(market) == TRUE_LABEL
    # The app falls back to the simulation when a chosen file or exchange fails.
    assert realized_source_label(market, "okx") == UNKNOWN_LABEL
    market.attrs["source"] = "okx"
    assert realized_source_label(market, "okx") == "Reported by OKX"
    market.attrs["source"] = "hyperliquid"
    assert realized_source_label(market, "hyperliquid") == "Reported by Hyperliquid"
    assert realized_from_market(market)["short_usd"].tolist() == [2.0]
    assert realized_from_market(market.drop(columns="realized_long_usd")) is None


def test_agreement_of_a_perfect_and_a_half_estimate() -> None:
    truth = _per_period([4.0, 0.0, 2.0, 1.0], [0.0, 3.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0])
    assert agreement(truth, truth) == {
        "long_ratio": 1.0,
        "short_ratio": 1.0,
        "correlation": 1.0,
    }
    half = truth.assign(long_usd=truth["long_usd"] / 2)
    assert agreement(truth, half)["long_ratio"] == 0.5


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


@pytest.fixture
def week_per_period() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 48
    return _per_period(
        rng.exponential(1e6, n), rng.exponential(2e6, n), 60_000 + rng.normal(0, 300, n).cumsum()
    )


def test_mirrored_figure_puts_red_longs_below_and_green_shorts_above(week_per_period) -> None:
    fig = liquidations_figure(week_per_period, source_label=TRUE_LABEL)
    longs, shorts, price = fig.data
    assert longs.marker.color == LONG_COLOR
    assert shorts.marker.color == SHORT_COLOR
    assert longs.y.dtype == shorts.y.dtype == price.y.dtype == np.float32
    assert (longs.y <= 0).all()
    assert (shorts.y >= 0).all()
    np.testing.assert_allclose(-longs.y, week_per_period["long_usd"], rtol=1e-6)
    assert fig.layout.barmode == "relative"
    # Price on the secondary (right) axis, not on the USD axis.
    assert price.yaxis == "y2"
    assert fig.layout.yaxis2.side == "right"
    # Tick labels are positive USD on both sides of zero.
    assert all(not text.startswith("-") for text in fig.layout.yaxis.ticktext)
    assert fig.layout.annotations[0].text == f"Source: {TRUE_LABEL}"
    # Hover shows the USD formatted, not raw floats.
    assert longs.hovertext[0].startswith("$")


def test_side_by_side_figure_has_both_sides_upwards(week_per_period) -> None:
    fig = liquidations_figure(week_per_period, source_label=ESTIMATE_LABEL, layout="Side by side")
    longs, shorts, _ = fig.data
    assert (longs.y >= 0).all()
    assert (shorts.y >= 0).all()
    assert fig.layout.barmode == "group"
    with pytest.raises(ValueError, match="layout must be one of"):
        liquidations_figure(week_per_period, source_label="x", layout="Stacked")


def test_comparison_figure_shares_one_usd_scale(week_per_period) -> None:
    estimate = week_per_period.assign(long_usd=week_per_period["long_usd"] * 3)
    fig = comparison_figure({TRUE_LABEL: week_per_period, ESTIMATE_LABEL: estimate})
    assert [a.text for a in fig.layout.annotations] == [
        f"Source: {TRUE_LABEL}",
        f"Source: {ESTIMATE_LABEL}",
    ]
    assert fig.layout.yaxis.range == fig.layout.yaxis3.range  # same scale: comparable by eye
    assert fig.layout.yaxis.range[1] >= estimate["long_usd"].max()
    assert sum(trace.showlegend is not False for trace in fig.data) == 3  # one legend entry each


# ---------------------------------------------------------------------------
# The momentum reading
# ---------------------------------------------------------------------------

BASE = 20  # earlier bars: price ticking 100 <-> 101, 1M USD liquidated per side per bar
RECENT = 12


def _scenario(end_price: float, recent_long: float, recent_short: float) -> pd.DataFrame:
    earlier = np.where(np.arange(BASE) % 2 == 0, 100.0, 101.0)
    recent = np.linspace(earlier[-1], end_price, RECENT + 1)[1:]
    long_usd = np.r_[np.full(BASE, 1e6), np.full(RECENT, recent_long)]
    short_usd = np.r_[np.full(BASE, 1e6), np.full(RECENT, recent_short)]
    return _per_period(long_usd, short_usd, np.r_[earlier, recent])


@pytest.mark.parametrize(
    ("end_price", "recent_long", "recent_short", "reading"),
    [
        (88.0, 6e6, 1e6, "Long squeeze / cascade"),
        (88.0, 2e5, 1e6, "Selling is not forced"),
        (88.0, 1.1e6, 1e6, "Price fell"),
        (115.0, 1e6, 6e6, "Short squeeze"),
        (115.0, 1e6, 2e5, "Organic demand"),
        (101.0, 1e6, 1e6, "No clear momentum"),
        (101.0, 4e6, 4e6, "Two-sided flush"),
    ],
)
def test_momentum_reading_of_constructed_scenarios(
    end_price: float, recent_long: float, recent_short: float, reading: str
) -> None:
    hint = readings.momentum_hint(
        _scenario(end_price, recent_long, recent_short), source_label=TRUE_LABEL
    )
    assert hint.startswith(reading)
    assert hint.endswith("not a prediction.")
    assert TRUE_LABEL in hint


def test_momentum_reading_without_earlier_liquidations_says_far_above() -> None:
    pp = _scenario(88.0, 5e6, 0.0)
    pp.iloc[:BASE, pp.columns.get_loc("long_usd")] = 0.0
    hint = readings.momentum_hint(pp)
    assert hint.startswith("Long squeeze")
    assert "far above their earlier rate" in hint
    assert "inf" not in hint


def test_momentum_reading_refuses_to_read_too_little_or_nothing() -> None:
    assert readings.momentum_hint(_scenario(88.0, 6e6, 1e6).iloc[:3]).startswith("Not enough bars")
    silent = _scenario(88.0, 0.0, 0.0).assign(long_usd=0.0, short_usd=0.0)
    assert readings.momentum_hint(silent).startswith("Nothing was liquidated")
    with pytest.raises(ValueError, match="lookback"):
        readings.momentum_hint(silent, lookback=0)


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def _page(**query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("pages/liquidations.py")
    return at.run()


def _figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def test_page_shows_truth_and_estimate_labelled() -> None:
    at = _page()
    assert not at.exception
    figure = _figure(at)
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert titles == [f"Source: {TRUE_LABEL}", f"Source: {ESTIMATE_LABEL}"]
    assert len(at.metric) == 6  # longs, shorts, ratio for each source
    assert any("not a prediction" in info.value for info in at.info)
    captions = " ".join(c.value for c in at.caption)
    assert TRUE_LABEL in captions and ESTIMATE_LABEL in captions


def test_changing_the_period_changes_the_bars() -> None:
    at = _page()
    before = _figure(at)
    at.segmented_control(key="period").set_value("4h").run()
    assert not at.exception
    after = _figure(at)
    assert "per 4h" in after["layout"]["title"]["text"]
    assert len(after["data"][0]["x"]) < len(before["data"][0]["x"])
    # 4h bars hold the sum of 1h bars: the largest is at least as large.
    assert -_values(after["data"][0]["y"]).min() >= -_values(before["data"][0]["y"]).min()
    at.segmented_control(key="bars").set_value("Side by side").run()
    assert (_values(_figure(at)["data"][0]["y"]) >= 0).all()


def test_period_is_restored_from_the_link() -> None:
    at = _page(period="4h", bars="Side by side", back="3d")
    assert not at.exception
    assert at.segmented_control(key="period").value == "4h"
    assert at.segmented_control(key="bars").value == "Side by side"
    assert at.selectbox(key="back").value == "3d"
    assert "per 4h" in _figure(at)["layout"]["title"]["text"]


def test_long_lookback_coarsens_and_short_one_still_reads() -> None:
    at = _page()
    at.selectbox(key="back").set_value("1y").run()
    assert not at.exception
    assert any("showing 1d periods instead" in info.value for info in at.info)
    at.selectbox(key="back").set_value("12h")
    at.segmented_control(key="period").set_value("1d").run()
    assert not at.exception
    assert any("Not enough bars" in info.value for info in at.info)


def test_data_without_realized_columns_shows_only_the_estimate(monkeypatch) -> None:
    real_market_for = data.market_for

    def without_realized(choice, timeframe="1w"):
        market, notes = real_market_for(choice, timeframe)
        return market.drop(columns=["realized_long_usd", "realized_short_usd"]), notes

    monkeypatch.setattr(data, "market_for", without_realized)
    at = _page()
    assert not at.exception
    assert any("only the model's estimate" in info.value for info in at.info)
    titles = [a["text"] for a in _figure(at)["layout"]["annotations"]]
    assert titles == [f"Source: {ESTIMATE_LABEL}"]
    assert len(at.metric) == 3


def test_nothing_liquidated_is_said_not_drawn(monkeypatch) -> None:
    real_market_for = data.market_for

    def silent_market(choice, timeframe="1w"):
        market, notes = real_market_for(choice, timeframe)
        return market.assign(realized_long_usd=0.0, realized_short_usd=0.0), notes

    def silent_estimate(choice, params, timeframe, market=None):
        market = data.load_for(choice, timeframe).frame if market is None else market
        realized = pd.DataFrame({"long_usd": 0.0, "short_usd": 0.0}, index=market.index)
        return SimpleNamespace(realized=realized, warnings=[])

    monkeypatch.setattr(data, "market_for", silent_market)
    monkeypatch.setattr(cache, "cached_estimate", silent_estimate)
    at = _page()
    assert not at.exception
    assert any("Nothing was liquidated" in info.value for info in at.info)
    assert not at.get("plotly_chart")
