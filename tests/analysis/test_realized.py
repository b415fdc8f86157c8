"""liqcore.analysis.realized: realized liquidations per period, their totals and labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liqcore import controls
from liqcore.analysis.realized import (
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
from liqcore.real import real_market, reported_daily
from tests.frames import per_period_frame, realized_frame
from tests.strategies import PROPERTY

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
    realized = realized_frame(np.ones(10), np.zeros(10), start="2024-01-01 03:30")  # 03:30-05:45
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
        (realized_frame([1.0, 2.0], [0.0, 0.0]), "2h", "period must be one of 15m, 1h, 4h, 1d"),
        (realized_frame([1.0, 2.0], [0.0, 0.0]).drop(columns="short_usd"), "1h", "short_usd"),
        (realized_frame([1.0, -2.0], [0.0, 0.0]), "1h", "must not be negative"),
        (realized_frame([1.0, np.nan], [0.0, 0.0]), "1h", "NaN or infinite"),
    ],
)
def test_bad_input_is_refused_with_a_reason(frame: pd.DataFrame, period: str, message: str):
    price = pd.Series(1.0, index=frame.index)
    with pytest.raises(ValueError, match=message):
        liquidations_by_period(frame, price, period)


def test_empty_window_gives_an_empty_frame() -> None:
    empty = realized_frame(np.array([]), np.array([]))
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


def test_totals_and_largest_bars() -> None:
    pp = per_period_frame([5.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [10.0, 11.0, 9.0, 9.0])
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
    truth = per_period_frame([4.0, 0.0, 2.0, 1.0], [0.0, 3.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0])
    assert agreement(truth, truth) == {
        "long_ratio": 1.0,
        "short_ratio": 1.0,
        "correlation": 1.0,
    }
    half = truth.assign(long_usd=truth["long_usd"] / 2)
    assert agreement(truth, half)["long_ratio"] == 0.5
