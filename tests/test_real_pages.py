"""The Real example on the pages: offline, URL-bound, scored against real liquidations."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from liqcore.controls import clean_query

ROOT = Path(__file__).parents[1]


def _app(page: str, coin: str = "ETH") -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.query_params["src"] = "Real example"
    at.query_params["coin"] = coin
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_link_values_are_valid() -> None:
    values, notices = clean_query({"src": "Real example", "coin": "SOL"})
    assert values == {"src": "Real example", "coin": "SOL"} and notices == []
    assert clean_query({"coin": "XRP"})[1]  # not a coin of the real example: a notice


def test_accuracy_page_scores_the_model_on_real_liquidations() -> None:
    at = _app("pages/accuracy.py")
    assert any("Real example ETH" in caption.value for caption in at.caption)
    verdicts = [x.value for x in [*at.success, *at.warning, *at.error]]
    assert any("Hyperliquid's reported daily liquidations of ETH" in text for text in verdicts)
    table = next(df.value for df in at.dataframe if "Distance-only map" in df.value.columns)
    assert list(table.index) == ["Longs", "Shorts"]
    assert table["Model (estimate)"].between(-1, 1).all()
    assert any("Binance" in caption.value for caption in at.caption)


@pytest.mark.parametrize("coin", ["BTC", "SOL"])
def test_liquidations_page_shows_reported_days_beside_the_estimate(coin: str) -> None:
    at = _app("pages/liquidations.py", coin)
    assert any("daily totals" in info.value for info in at.info)
    # The Period control shows the days drawn, not the linked hourly period.
    assert at.segmented_control(key="period_real").value == "1d"
    assert at.segmented_control(key="period_real").proto.disabled
    # Fixed offline data: no recorder switch.
    assert not at.get("toggle")
    sources = [md.value for md in at.markdown if "Source:" in md.value]
    assert any("Reported by Hyperliquid (daily)" in text for text in sources)
    assert any("Estimate (model)" in text for text in sources)
