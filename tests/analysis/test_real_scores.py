"""liqcore.analysis.real_scores: the model against real reported liquidations, by day."""

from __future__ import annotations

import pandas as pd
import pytest

from liqcore.analysis.real_scores import daily_scores, pooled, realcheck
from liqcore.model import estimate
from liqcore.real import real_market, reported_daily


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return realcheck(bars=("1h",))


def test_default_model_is_not_below_the_naive_baseline_pooled(table: pd.DataFrame) -> None:
    means = pooled(table)
    assert means["model"] >= means["baseline"], table


def test_daily_scores_reward_the_truth_itself() -> None:
    market = real_market("ETH")
    reported = reported_daily("ETH")
    # A "model" that liquidates exactly the reported USD, all in each day's first bar.
    perfect = reported.reindex(market.index, fill_value=0.0)
    table = daily_scores(perfect, market, reported)
    assert (table["model"] == 1.0).all()
    assert table["model_beats_baseline"].all()
    est = estimate(market)
    assert (daily_scores(est.realized, market, reported)["model"] < 1.0).all()
