"""liqcore.analysis.indicators: RSI against Wilder's worksheet and which indicators are offered."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.analysis.indicators import available_indicators, indicator_values, rsi


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
