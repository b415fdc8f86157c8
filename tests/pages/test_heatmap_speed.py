"""The Heatmap page's speed measures keep what users see: the link's data, the what-if chart.

The router draws the sidebar after the page (so the chart's message leaves first), and the
what-if result and figure come from a cache; these tests pin what that must not change.
"""

from __future__ import annotations

import json

import pytest

import ui.cache


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
