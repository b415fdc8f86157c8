"""The Accuracy page through AppTest: scores, the magnet question, the real example."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import new_app, page_app


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


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = new_app(180)
    at.switch_page("pages/accuracy.py")
    return at.run()


def scenarios(at: AppTest) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "Correctly specified" in df.value.columns)


def test_page_runs_and_shows_the_scores(page: AppTest) -> None:
    assert not page.exception, [e.message for e in page.exception]
    assert page.title[0].value == "Accuracy"
    table = scenarios(page)
    # The simulated crowd does not follow the model (the page says so); the liquidations
    # it sets off are still ranked well, and the book better than chance.
    assert table.loc["Realized longs", "Correctly specified"] > 0.3
    assert table.loc["Book now", "Correctly specified"] > 0.0
    assert any("does not follow the model's rules" in info.value for info in page.info)
    # What cannot be recovered is said in words, with the ceiling's numbers.
    assert any("Part of the true book is luck" in info.value for info in page.info)
    # Untouched controls are the correct assumptions: no change at all.
    assert (table["Change"] == 0).all()
    verdicts = [x.value for x in [*page.success, *page.warning, *page.error]]
    assert any("the naive baseline" in text for text in verdicts)
    specs = [json.loads(chart.proto.spec) for chart in page.get("plotly_chart")]
    assert any(sum(t["type"] == "heatmap" for t in spec["data"]) == 2 for spec in specs)
    weights = page.session_state["calibrated_weights"]
    assert len(weights) == 5
    assert sum(weights) == pytest.approx(1.0)


def test_a_wrong_leverage_mix_lowers_the_book_score(page: AppTest) -> None:
    page.selectbox(key="acc_mix").set_value("Degen").run()
    assert not page.exception, [e.message for e in page.exception]
    table = scenarios(page)
    assert table.loc["Book now", "Your assumptions"] < table.loc["Book now", "Correctly specified"]
    assert table.loc["Book now", "Change"] < 0
    assert any("Your assumptions lower" in info.value for info in page.info)


def test_without_the_truth_the_page_scores_the_data_against_the_baseline() -> None:
    """CSV chosen but no file yet: the simulated stand-in, scored as data with liquidations."""
    at = new_app(180)
    at.query_params["src"] = "CSV upload"
    at.switch_page("pages/accuracy.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # The stand-in is named for what it is, not "choose the simulated market" while showing it.
    infos = " ".join(info.value for info in at.info)
    assert "the simulated market standing in for Your CSV" in infos
    assert "known only on the simulated market: choose" not in infos
    assert not any("Correctly specified" in df.value.columns for df in at.dataframe)
    verdicts = [x.value for x in [*at.success, *at.warning, *at.error]]
    assert any("against the true simulated liquidations" in text for text in verdicts)
    assert len(at.session_state["calibrated_weights"]) == 5

    # A broken file: the error says the simulated market is shown, and the rest agrees.
    at.sidebar.file_uploader[0].set_value(("bad.csv", b"time,open\n2024-01-01,1\n", "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Showing the simulated market instead" in at.error[0].value
    infos = " ".join(info.value for info in at.info)
    assert "the simulated market standing in for Your CSV" in infos
    assert "known only on the simulated market: choose" not in infos


def test_accuracy_page_scores_the_model_on_real_liquidations() -> None:
    at = page_app("pages/accuracy.py")
    assert any("Real example ETH" in caption.value for caption in at.caption)
    verdicts = [x.value for x in [*at.success, *at.warning, *at.error]]
    assert any("Hyperliquid's reported daily liquidations of ETH" in text for text in verdicts)
    table = next(df.value for df in at.dataframe if "Distance-only map" in df.value.columns)
    assert list(table.index) == ["Longs", "Shorts"]
    assert table["Model (estimate)"].between(-1, 1).all()
    assert any("Binance" in caption.value for caption in at.caption)
