"""The Liquidations page through AppTest: truth and estimate bars, periods, the real example."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from liqcore.analysis.realized import ESTIMATE_LABEL, TRUE_LABEL
from tests.conftest import new_app, page_app
from ui import cache, data


def _values(trace_y: object) -> np.ndarray:
    """A plotly trace's y as numbers, whether a typed array (base64) or a list."""
    if isinstance(trace_y, dict):
        return np.frombuffer(base64.b64decode(trace_y["bdata"]), dtype=trace_y["dtype"])
    return np.asarray(trace_y, dtype="float64")


def _page(**query: str) -> AppTest:
    at = new_app(120)
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


@pytest.mark.parametrize("coin", ["BTC", "SOL"])
def test_liquidations_page_shows_reported_days_beside_the_estimate(coin: str) -> None:
    at = page_app("pages/liquidations.py", coin)
    assert any("daily totals" in info.value for info in at.info)
    # The Period control shows the days drawn, not the linked hourly period.
    assert at.segmented_control(key="period_real").value == "1d"
    assert at.segmented_control(key="period_real").proto.disabled
    # Fixed offline data: no recorder switch.
    assert not at.get("toggle")
    sources = [md.value for md in at.markdown if "Source:" in md.value]
    assert any("Reported by Hyperliquid (daily)" in text for text in sources)
    assert any("Estimate (model)" in text for text in sources)
