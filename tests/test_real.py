"""liqcore.real: the shipped real example, its coins and its resampled bars."""

from __future__ import annotations

import pandas as pd
import pytest

from liqcore.controls import REAL_COINS
from liqcore.market import load_market
from liqcore.real import real_market, reported_daily, resample_market


@pytest.mark.parametrize("coin", REAL_COINS)
def test_the_shipped_files_are_the_shared_real_set(coin: str) -> None:
    shared = load_market(f"../shared/real/hyperliquid-2025-12/{coin}_1h.csv")
    shipped = real_market(coin)
    pd.testing.assert_frame_equal(shipped, shared.loc[: shipped.index[-1]], check_freq=False)
    daily = pd.read_csv(f"../shared/real/hyperliquid-2025-12/{coin}_liquidations_1d.csv")
    assert reported_daily(coin)["long_usd"].tolist() == daily["long_usd"].tolist()
    # The frame ends with the reported days: every scored day has its truth.
    assert shipped.index[-1].normalize() == reported_daily(coin).index[-1]


def test_unknown_coin_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="BTC, ETH, SOL, not 'XRP'"):
        real_market("XRP")


def test_resampled_bars_keep_the_hourly_totals() -> None:
    hourly = real_market("BTC")
    four = resample_market(hourly, "4h")
    assert four["volume"].sum() == pytest.approx(hourly["volume"].sum())
    assert four["high"].max() == hourly["high"].max()
    assert four["low"].min() == hourly["low"].min()
