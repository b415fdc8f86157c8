"""The Heatmap page's speed measures keep what users see: the link's data, the what-if chart.

A session's first run draws only the chart (the browser asks for the rest once it has drawn
it), the router draws the sidebar after the page (so the chart's message leaves first), and
the what-if result and figure come from a cache; these tests pin what that must not change.
"""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

import ui.cache
from tests.conftest import APP, FOOTER, RUN_TIMEOUT


def test_a_shared_link_chooses_the_data_before_the_sidebar_is_drawn(open_app, heatmap_spec):
    at = open_app("pages/heatmap.py", seed="42", days="30", crowd="Degen")
    assert not at.exception
    title = heatmap_spec(at)["layout"]["title"]["text"]
    assert "seed 42, 30 days, Degen crowd" in title
    # ...and the sidebar, drawn after the page, shows the same choice.
    assert at.sidebar.number_input(key="seed").value == 42
    assert at.sidebar.select_slider(key="days").value == "30"


def test_the_sidebar_stays_when_the_page_fails(open_app, monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object, **kwargs: object) -> None:
        msg = "a source fault"
        raise RuntimeError(msg)

    monkeypatch.setattr(ui.cache, "cached_estimate", broken)
    at = open_app("pages/heatmap.py")
    assert at.exception, "the page should have failed"
    # The data choice is still there, so the user can pick other data.
    assert at.sidebar.selectbox(key="src").value == "Simulated market"


def test_a_rerun_reuses_the_what_if_figure(open_app, monkeypatch: pytest.MonkeyPatch):
    at = open_app("pages/heatmap.py", move="-7.5")
    before = json.loads(at.get("plotly_chart")[1].proto.spec)
    built = []
    original = ui.cache.cascade_figure
    monkeypatch.setattr(
        ui.cache, "cascade_figure", lambda *a, **k: built.append(1) or original(*a, **k)
    )
    at.run()
    assert not at.exception
    assert built == [], "the cascade figure was built again for the same view"
    after = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert after == before
    assert any(trace.get("type") for trace in after["data"]), "the what-if chart is empty"


def first_visit(page: str = "pages/heatmap.py", **query: str) -> AppTest:
    """A new session's first run, as a browser opening a link gets it."""
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    at.query_params.update(query)
    at.switch_page(page)
    return at.run()


def sensor_charts(at: AppTest) -> list[str]:
    """The chart keys the first-paint script waits for (from the page's st.html)."""
    (html,) = [h for h in at.get("html") if "first_paint" in h.proto.body]
    return json.loads(re.search(r"const charts = (\[.*?\]);", html.proto.body).group(1))


def test_a_first_visit_draws_the_chart_first_and_the_rest_when_the_browser_asks():
    at = first_visit(tf="24h", tiers=["10x", "25x"], seed="42")
    assert not at.exception
    first = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "seed 42" in first["layout"]["title"]["text"]
    assert [t["name"] for t in first["data"] if t.get("stackgroup")] == ["10x", "25x"]
    # Only the chart: no controls, no tables, no sidebar, no what-if chart yet.
    assert len(at.get("plotly_chart")) == 1
    assert not at.get("button_group") and not at.sidebar.selectbox
    assert sensor_charts(at) == ["heatmap_chart"]
    # The browser drew the chart and presses the sensor's button: the whole page follows.
    at.button(key="first_paint").click().run()
    assert not at.exception
    assert not [h for h in at.get("html") if "first_paint" in h.proto.body]
    assert at.pills(key="tiers").value == ["10x", "25x"]
    assert at.select_slider(key="tf").value == "24h"
    assert at.sidebar.number_input(key="seed").value == 42
    assert len(at.get("plotly_chart")) == 2  # the what-if chart too
    assert json.loads(at.get("plotly_chart")[0].proto.spec) == first  # the same chart
    assert at.query_params["tf"] == "24h" and at.query_params["seed"] == "42"
    assert any(FOOTER in c.value for c in at.caption)


def test_a_first_visit_that_fails_still_gets_its_sidebar(monkeypatch: pytest.MonkeyPatch):
    def broken(*args: object, **kwargs: object) -> None:
        msg = "a source fault"
        raise RuntimeError(msg)

    monkeypatch.setattr(ui.cache, "cached_estimate", broken)
    at = first_visit()
    assert at.exception
    assert sensor_charts(at) == []  # no chart to wait for: the browser asks at once
    at.button(key="first_paint").click().run()
    assert at.sidebar.selectbox(key="src").value == "Simulated market"


def test_other_pages_draw_in_full_on_a_first_visit_and_get_the_sidebar_next():
    at = first_visit("pages/accuracy.py")
    assert not at.exception
    assert sensor_charts(at) == []
    assert at.get("plotly_chart"), "the Accuracy page's charts are drawn at once"
    at.button(key="first_paint").click().run()
    assert at.sidebar.selectbox(key="src").value == "Simulated market"
    # From now on every run of the session is whole: no sensor any more.
    at.run()
    assert not [h for h in at.get("html") if "first_paint" in h.proto.body]
