"""Fixtures for driving the app with Streamlit's AppTest (no browser, no server).

* ``open_app`` opens the app as a visitor of a link would: URL parameters first, then an
  optional page (``"pages/heatmap.py"``), then one run.
* ``new_app`` is the app in a session whose browser has drawn its first page already (the
  whole page is drawn); the first paint itself is tested in ``tests/ui/test_frame.py``.
* ``heatmap_spec`` reads the plotly figure the Heatmap page drew, as its JSON spec.
* ``assert_ran``, ``captions``, ``toasts``, ``assert_one_notice_each`` and ``page_app`` read or
  open a page the way several page test modules do; ``sim_6d`` and ``est_6d``
  are the small market the Accuracy helpers are scored, calibrated and drawn on.

``no_network`` (autouse) refuses, in every test, any socket connection or name lookup that
is not loopback: tests talk only to the fake servers on 127.0.0.1.

AppTest runs the scripts in this process, so ``st.cache_data`` (the simulated market,
estimates) is shared by every test of a session: only the first test pays for a market.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from liqcore.model import ModelParams, estimate
from liqcore.simulate import simulate
from ui.frame import PAINTED

ROOT = Path(__file__).parents[1]
APP = ROOT / "streamlit_app.py"
HEATMAP = "pages/heatmap.py"
FOOTER = "Not financial advice"
#: Seconds one script run may take: the first builds a year of simulated market on a
#: shared runner; later runs take well under a second.
RUN_TIMEOUT = 60.0


def new_app(timeout: float = RUN_TIMEOUT) -> AppTest:
    """The app, not yet run, in a session whose browser has drawn its first page.

    A session's first run draws only what comes first (``ui.frame.first_paint_done``);
    the browser then asks for the rest, which AppTest, having no browser, cannot.
    """
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state[PAINTED] = True
    return at


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections and DNS lookups beyond loopback for the whole test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            msg = f"test tried to reach {address!r}: only loopback is allowed"
            raise ConnectionRefusedError(msg)

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host if isinstance(host, str) else str(host)):
            msg = f"test tried to resolve {host!r}: only loopback is allowed"
            raise socket.gaierror(socket.EAI_NONAME, msg)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


OpenApp = Callable[..., AppTest]
SMALL = ModelParams(time_bins=60, price_bins=50)


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
        at = new_app()
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


def toasts(at: AppTest) -> list[str]:
    return [toast.value for toast in at.toast]


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def assert_ran(at: AppTest) -> None:
    """No exception on the page and the permanent footer at its end."""
    assert not at.exception, [e.message for e in at.exception]
    assert any(FOOTER in text for text in captions(at)), "footer missing"


def assert_one_notice_each(notices: list[str], shown: list[str]) -> None:
    for item in shown:
        named = [notice for notice in notices if f"Ignored {item} from the link" in notice]
        assert len(named) == 1, (item, notices)
    assert len(notices) == len(shown), notices


def page_app(page: str, coin: str = "ETH") -> AppTest:
    at = new_app(180)
    at.query_params["src"] = "Real example"
    at.query_params["coin"] = coin
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture(scope="module")
def sim_6d():
    """A six-day simulated market: the Accuracy page's scores, tables and figures."""
    return simulate(days=6, interval="15min", seed=21)


@pytest.fixture(scope="module")
def est_6d(sim_6d):
    """The model's estimate of the last two of :func:`sim_6d`'s days, on the small grid."""
    return estimate(sim_6d.market, SMALL, start=sim_6d.market.index[-1] - pd.Timedelta(days=2))
