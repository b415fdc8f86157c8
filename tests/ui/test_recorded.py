"""ui.recorded: the Liquidations page's recorded part, through AppTest on a live exchange (patched).

The exchange's market frame comes from a patched ``fetch_market`` (the simulator, stamped
as Bybit's, ending now): the page cannot tell, and no request leaves the process. The
recordings file is a temporary DuckDB (``LIQSTUDIO_RECORD_DB``); the toggle's recorder
connects to the fake feed (``LIQSTUDIO_RECORD_URL``).
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from liqcore.figures.recorded import GAP_COLOR
from liqcore.record import open_store
from liqcore.simulate import simulate
from tests.record.fake_feeds import FakeFeeds, bybit
from ui import data, recorded

PAGE = "pages/liquidations.py"
NOW = pd.Timestamp.now(tz="UTC").floor("15min")


def live_market(
    exchange: str, symbol: str, span: pd.Timedelta, end: pd.Timestamp = NOW, **_: Any
) -> pd.DataFrame:
    frame = simulate(days=15, interval="15min", seed=3).market
    frame.index = frame.index - frame.index[-1] + end
    frame.attrs.update(
        {
            "source": exchange,
            "exchange": exchange,
            "contributors": [exchange],
            "symbol": symbol,
            "interval": "15m",
        }
    )
    return frame


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "rec.duckdb"
    monkeypatch.setenv("LIQSTUDIO_RECORD_DB", str(db))
    monkeypatch.setattr(data, "fetch_market", live_market)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db
    recorded.background_recorders().stop_all()
    st.cache_resource.clear()
    st.cache_data.clear()
    open_store(db).close()


def on_bybit(open_app: Callable[..., AppTest]) -> AppTest:
    at = open_app(PAGE)
    assert not at.exception
    at.sidebar.selectbox(key="src").set_value("Bybit").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def values(array: Any) -> np.ndarray:
    """A plotly spec array: a list, or a typed array as ``{"dtype", "bdata"}``."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def recorded_spec(at: AppTest) -> dict[str, Any] | None:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        texts = [a.get("text", "") for a in spec["layout"].get("annotations", [])]
        if "Source: Recorded from Bybit (live feed)" in texts:
            return spec
    return None


def test_recorded_liquidations_are_drawn_with_their_coverage_beside_the_estimate(
    app_env: Path, open_app: Callable[..., AppTest]
) -> None:
    store = open_store(app_env)
    day = pd.Timedelta(days=1)
    ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
    for begin, end in ((NOW - 3 * day, NOW - 2 * day), (NOW - day, NOW)):
        key = store.open_span("bybit", "BTC", begin.timestamp())
        store.write("bybit", "BTC", [], span=(key, end.timestamp()))
    events = [
        (ms(NOW - 3 * day + pd.Timedelta("2h")), "long", 100_000.0, 1.0),
        (ms(NOW - day + pd.Timedelta("3h")), "short", 100_000.0, 0.5),
        (ms(NOW - pd.Timedelta("5h")), "long", 90_000.0, 2.0),
    ]
    store.write("bybit", "BTC", events)

    at = on_bybit(open_app)
    assert "Recorded from the live feed" in [s.value for s in at.subheader]
    spec = recorded_spec(at)
    assert spec is not None, "no recorded chart"
    texts = [a["text"] for a in spec["layout"]["annotations"]]
    assert "Source: Estimate (model)" in texts, "the estimate is beside the recording"
    assert "not recorded" in texts
    shades = [s for s in spec["layout"]["shapes"] if s.get("fillcolor") == GAP_COLOR]
    # Before the first span, between the spans: two gaps (the week starts 7 days back).
    assert len(shades) == 2
    first = spec["data"][0]
    assert first["name"] == "Longs liquidated"
    longs = -values(first["y"]).astype("float64")
    assert np.nansum(longs) == pytest.approx(280_000.0)
    # Inside a gap there is no bar (NaN: unknown), never a zero bar; the price runs on.
    x = pd.to_datetime(first["x"])
    hover = np.asarray(first["hovertext"])
    for shade in shades:
        inside = (x >= pd.Timestamp(shade["x0"])) & (
            x < pd.Timestamp(shade["x1"]) - pd.Timedelta("1h")
        )
        assert inside.any() and np.isnan(longs[inside]).all()
        assert set(hover[inside]) == {"not recorded"}
    assert np.isfinite(values(spec["data"][2]["y"])).all()
    captions = " ".join(c.value for c in at.caption)
    assert "of the window (grey: not recorded, unknown rather than zero)" in captions
    assert "Not recording now" in captions


def test_record_this_market_starts_one_shared_recorder_and_says_since_when(
    app_env: Path,
    open_app: Callable[..., AppTest],
    feeds: FakeFeeds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIQSTUDIO_RECORD_URL", feeds.url)
    # The market ends after now (not at NOW, floored when the module was imported): the
    # live events and the recorder's coverage are stamped with the real clock, and must
    # fall inside the page's window however long the suite took to get here.
    end = pd.Timestamp.now(tz="UTC").ceil("15min")
    monkeypatch.setattr(data, "fetch_market", functools.partial(live_market, end=end))
    now_ms = int(time.time() * 1000)
    feeds.play(
        [("send", bybit([(now_ms - 1000, "Buy", 95_000.0, 0.1), (now_ms, "Sell", 95_500.0, 0.2)]))]
    )
    at = on_bybit(open_app)
    toggle = at.toggle(key="record_bybit_BTC")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    store = open_store(app_env)
    deadline = time.monotonic() + 10
    while len(store.events("bybit", "BTC")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.events("bybit", "BTC")["side"].tolist() == ["long", "short"]

    # A second viewer sees the same recorder running, and the data it stored.
    other = on_bybit(open_app)
    assert other.toggle(key="record_bybit_BTC").value is True
    captions = " ".join(c.value for c in other.caption)
    assert "Recording Bybit BTC since" in captions
    assert recorded_spec(other) is not None
    assert feeds.connections == 1, "one recorder per exchange and symbol"

    other.toggle(key="record_bybit_BTC").set_value(False).run()
    assert not recorded.background_recorders().status("bybit", "BTC").running
    spans = store.coverage("bybit", "BTC")
    assert len(spans) == 1 and spans["end"].iloc[0] > spans["start"].iloc[0]


def test_hyperliquid_says_it_has_no_feed(app_env: Path, open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    at.sidebar.selectbox(key="src").set_value("Hyperliquid").run()
    assert not at.exception
    assert any("no market-wide liquidation feed" in i.value for i in at.info)
    assert not at.toggle


def test_a_feed_that_cannot_be_reached_is_said_in_plain_words(
    app_env: Path, open_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "ws://127.0.0.1:9/ws"  # nothing listens on the discard port: refused
    monkeypatch.setenv("LIQSTUDIO_RECORD_URL", url)
    at = on_bybit(open_app)
    at.toggle(key="record_bybit_BTC").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if recorded.background_recorders().status("bybit", "BTC").last_error:
            break
        time.sleep(0.1)
    at.run()
    captions = " ".join(c.value for c in at.caption)
    shown_url = url.replace(":", "\\:")  # widgets.plain escapes markdown's colons
    assert (
        f"Last problem: {shown_url} refused the connection; retrying, at most 60 s apart."
        in captions
    )
    assert "Errno" not in captions and "Error:" not in captions
    # The box under it does not ask to switch on what is on.
    infos = " ".join(i.value for i in at.info)
    assert "Nothing was recorded from Bybit BTC" in infos
    assert "Recording is on" in infos and "Switch on" not in infos


def test_recording_is_said_to_apply_to_live_exchanges_only(
    app_env: Path, open_app: Callable[..., AppTest]
) -> None:
    at = open_app(PAGE)
    assert not at.exception
    assert not at.toggle
    captions = " ".join(c.value for c in at.caption)
    assert "Recording liquidations applies to live exchanges (Binance, Bybit, OKX)" in captions
