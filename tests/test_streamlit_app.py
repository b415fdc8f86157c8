"""The router through Streamlit's AppTest: every page runs inside it, a bad link is named once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from liqcore.controls import LEVERAGE_LABELS
from tests.conftest import HEATMAP, assert_one_notice_each, assert_ran, captions, toasts


@pytest.mark.parametrize(
    ("page", "title"),
    [(None, "Learn"), ("pages/liquidations.py", "Liquidations")],
    ids=["learn", "liquidations"],
)
def test_every_page_runs_inside_the_router(
    open_app: Callable[..., AppTest], page: str | None, title: str
) -> None:
    at = open_app(page)  # no page: the default one, Learn
    assert_ran(at)
    assert at.title[0].value.startswith(title)
    # The shared sidebar is there on every page, with the data choice in words.
    assert at.sidebar.selectbox(key="src").value == "Simulated market"
    assert any(text.startswith("Simulated market (seed 7") for text in captions(at))


def test_bad_link_values_on_the_landing_page_are_named_once_per_visit(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app(tf="banana", cap="999", tiers="7x", seed="-3", days="30", utm_source="x")
    assert_ran(at)
    # Valid values and other tools' parameters (utm_source) are left alone.
    assert_one_notice_each(toasts(at), ["tf=banana", "cap=999", "tiers=7x", "seed=-3"])
    assert at.sidebar.number_input(key="seed").value == 7
    assert at.sidebar.select_slider(key="days").value == "30"
    at.switch_page(HEATMAP).run()
    assert_ran(at)
    assert not toasts(at), "the notices came again"
    assert at.select_slider(key="tf").value == "1w"
    assert at.slider(key="cap").value == 99.0
    assert at.pills(key="tiers").value == list(LEVERAGE_LABELS)
