"""The Learn page through AppTest: the default page, its calculator, steps and guide."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from liqcore.analysis import lessons
from tests.conftest import new_app


def open_learn(**query: str) -> AppTest:
    at = new_app(120)
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
