"""Fixtures for driving the app with Streamlit's AppTest (no browser, no server).

* ``open_app`` opens the app as a visitor of a link would: URL parameters first, then an
  optional page (``"pages/heatmap.py"``), then one run.
* ``heatmap_spec`` reads the plotly figure the Heatmap page drew, as its JSON spec.

AppTest runs the scripts in this process, so ``st.cache_data`` (the simulated market,
estimates) is shared by every test of a session: only the first test pays for a market.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).parents[1] / "streamlit_app.py"
#: Seconds one script run may take: the first builds a year of simulated market on a
#: shared runner; later runs take well under a second.
RUN_TIMEOUT = 60.0

OpenApp = Callable[..., AppTest]


@pytest.fixture(autouse=True, scope="session")
def recordings_in_a_temporary_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pages on a live exchange open the recordings file: keep it out of the user's data folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIQSTUDIO_RECORD_DB", str(tmp_path_factory.mktemp("rec") / "liq.duckdb"))
        yield


@pytest.fixture
def open_app() -> OpenApp:
    """``open_app(page=None, *, url=None, **query) -> AppTest``: the app after its first run.

    ``url`` is the address the browser would report (``st.context.url``).
    """

    def open_(
        page: str | None = None, /, *, url: str | None = None, **query: str | list[str]
    ) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        at.query_params.update(query)
        if url is not None:
            at.context["url"] = url
        if page is not None:
            # Before the first run the page is found by its file name, as a shared link
            # to /heatmap would find it.
            at.switch_page(page)
        return at.run()

    return open_


@pytest.fixture
def heatmap_spec() -> Callable[[AppTest], dict[str, Any]]:
    """``heatmap_spec(at) -> dict``: the heatmap figure's plotly spec (data and layout)."""

    def spec(at: AppTest) -> dict[str, Any]:
        charts = at.get("plotly_chart")
        assert charts, "no plotly chart on the page"
        return json.loads(charts[0].proto.spec)

    return spec
