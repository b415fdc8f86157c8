"""The Heatmap page through AppTest: controls, links, uploads, indicators, magnets, what-if."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from liqcore.controls import LEVERAGE_LABELS, TIMEFRAMES
from liqcore.simulate import simulate
from tests.conftest import HEATMAP, assert_one_notice_each, assert_ran, captions, toasts

Spec = Callable[[AppTest], dict[str, Any]]


def trace(spec: dict[str, Any], kind: str) -> dict[str, Any]:
    """The first trace of a type (``heatmap``, ``ohlc``...) in a figure spec."""
    return next(t for t in spec["data"] if t["type"] == kind)


def x_span_hours(spec: dict[str, Any]) -> float:
    """Hours the heatmap's time axis shows (the indicator panels share it)."""
    low, high = pd.to_datetime(spec["layout"]["xaxis"]["range"])
    return (high - low).total_seconds() / 3600


def test_heatmap_draws_heat_under_candles_with_a_status_line(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP)
    assert_ran(at)
    assert at.title[0].value == "Liquidation heatmap"
    assert at.sidebar.selectbox(key="src").value == "Simulated market"
    spec = heatmap_spec(at)
    assert {"heatmap", "ohlc"} <= {t["type"] for t in spec["data"]}
    assert ":material/database: Simulated market · 15m bars · offline" in captions(at)
    assert (
        "Simulated market (seed 7, 365 days, Retail crowd) · 1w" in spec["layout"]["title"]["text"]
    )
    assert [m.label for m in at.metric][:3] == [
        "Price",
        "Nearest long cluster",
        "Nearest short cluster",
    ]
    assert "Side" in at.table[0].value.columns, "no magnet-zone table"


def bar_names(spec: dict[str, Any]) -> list[str]:
    """Tiers drawn in the liquidation map beside the heatmap (one stacked area per tier)."""
    return [t["name"] for t in spec["data"] if t.get("stackgroup") == "tiers"]


def test_leverage_tiers_change_the_heatmap(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP)
    before = heatmap_spec(at)
    at.pills(key="tiers").set_value(["100x"]).run()
    assert not at.exception
    after = heatmap_spec(at)
    assert trace(after, "heatmap")["z"] != trace(before, "heatmap")["z"]
    assert bar_names(before) == list(LEVERAGE_LABELS)
    assert bar_names(after) == ["100x"]
    # None selected: a warning, and all tiers drawn meanwhile.
    at.pills(key="tiers").set_value([]).run()
    assert not at.exception
    assert any("No leverage tier selected" in w.value for w in at.warning)
    assert trace(heatmap_spec(at), "heatmap")["z"] == trace(before, "heatmap")["z"]


def test_timeframe_changes_the_time_range(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP)
    # The window is the timeframe plus at most one 15-minute bar of edge.
    assert x_span_hours(heatmap_spec(at)) == pytest.approx(TIMEFRAMES["1w"], abs=0.5)
    for timeframe in ("3d", "1mo"):
        at.select_slider(key="tf").set_value(timeframe).run()
        assert not at.exception
        spec = heatmap_spec(at)
        assert x_span_hours(spec) == pytest.approx(TIMEFRAMES[timeframe], abs=0.5)
        assert spec["layout"]["title"]["text"].split("<br>")[0].endswith(f"· {timeframe}")


def test_side_and_colour_cap_change_the_colours(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP)
    heat = trace(heatmap_spec(at), "heatmap")
    at.slider(key="cap").set_value(90.0).run()
    capped = trace(heatmap_spec(at), "heatmap")
    assert capped["zmax"] < heat["zmax"]
    assert capped["z"] == heat["z"]  # the cap changes colours, not data
    at.segmented_control(key="side").set_value("Longs").run()
    assert not at.exception
    assert trace(heatmap_spec(at), "heatmap")["z"] != capped["z"]


def test_a_link_restores_every_control_and_shares_it_back(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    query: dict[str, str | list[str]] = {
        "seed": "42",
        "days": "30",
        "vol": "0.8",
        "crowd": "Degen",
        "bias": "0.2",
        "regime": "Calm",
        "tf": "3d",
        "tiers": ["5x", "100x"],  # several values: the key repeated, as the browser writes it
        "side": "Longs",
        "cap": "90",
        "scale": "Log",
        "minc": "5",
        "mmr": "0.5",
        "split": "Taker flow",
        "opening": "Volume",
        "w5": "0.5",
    }
    at = open_app(HEATMAP, url="http://127.0.0.1:8501/heatmap", **query)
    assert_ran(at)
    assert not toasts(at), "a valid link produced notices"
    sidebar = at.sidebar
    assert sidebar.number_input(key="seed").value == 42
    assert sidebar.select_slider(key="days").value == "30"
    assert sidebar.slider(key="vol").value == pytest.approx(0.8)
    assert sidebar.segmented_control(key="crowd").value == "Degen"
    assert sidebar.slider(key="bias").value == pytest.approx(0.2)
    assert sidebar.segmented_control(key="regime").value == "Calm"
    assert at.select_slider(key="tf").value == "3d"
    assert at.pills(key="tiers").value == ["5x", "100x"]
    assert at.segmented_control(key="side").value == "Longs"
    assert at.slider(key="cap").value == pytest.approx(90.0)
    assert at.segmented_control(key="scale").value == "Log"
    assert at.number_input(key="minc").value == pytest.approx(5.0)
    assert at.number_input(key="mmr").value == pytest.approx(0.5)
    assert at.selectbox(key="split").value == "Taker flow"
    assert at.selectbox(key="opening").value == "Volume"
    assert at.slider(key="w5").value == pytest.approx(0.5)
    # The picture follows them...
    spec = heatmap_spec(at)
    assert (
        "Simulated market (seed 42, 30 days, Degen crowd, calm regime) · 3d"
        in spec["layout"]["title"]["text"]
    )
    assert bar_names(spec) == ["5x", "100x"]
    # ...and "Share this view" gives the same link back, every value of every key kept.
    assert share_links(at) == ["http://127.0.0.1:8501/heatmap?" + urlencode(query, doseq=True)]


def share_links(at) -> list[str]:
    """The links "Share this view" shows (as drawn by the server; the browser's script then
    shows its own current address there, see tests/test_browser.py)."""
    bodies = [h.proto.body for h in at.get("html")]
    found = [re.search(r"<code[^>]*>(.*?)</code>", body) for body in bodies]
    return [html.unescape(m.group(1)) for m in found if m and m.group(1).startswith("http")]


#: Bad link values: (key, value, where its widget is, the default it keeps).
BAD_VALUES: list[tuple[str, str, str, object]] = [
    ("tf", "banana", "main", "1w"),
    ("cap", "999", "main", 99.0),
    ("side", "Up", "main", "Both"),
    ("mmr", "-1", "main", 0.4),
    ("seed", "-3", "sidebar", 7),
    ("days", "7", "sidebar", "365"),
    ("crowd", "YOLO", "sidebar", "Retail"),
    ("vol", "abc", "sidebar", 0.5),
    ("regime", "Panic", "sidebar", "Typical"),
]


def widget(at: AppTest, key: str, where: str) -> Any:
    block = at.sidebar if where == "sidebar" else at.main
    for kind in ("select_slider", "slider", "pills", "segmented_control", "number_input"):
        for found in getattr(block, kind):
            if found.key == key:
                return found
    raise AssertionError(f"no widget {key!r} in the {where}")


def test_bad_link_values_fall_back_to_the_defaults_with_a_notice_each(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP, **{key: value for key, value, *_ in BAD_VALUES})
    assert_ran(at)
    for key, _, where, default in BAD_VALUES:
        assert widget(at, key, where).value == default, key
    assert_one_notice_each(toasts(at), [f"{key}={value}" for key, value, *_ in BAD_VALUES])
    assert "using the default 1w" in next(n for n in toasts(at) if "tf=banana" in n)
    assert trace(heatmap_spec(at), "heatmap"), "the heatmap is still drawn"


@pytest.mark.parametrize(
    "tiers",
    ["7x", ["7x", "5x"], "5x,100x"],
    ids=["unknown", "one-of-several-unknown", "comma-separated"],
)
def test_bad_tiers_in_a_link_are_named(
    open_app: Callable[..., AppTest], tiers: str | list[str]
) -> None:
    at = open_app(HEATMAP, tiers=tiers)
    assert_ran(at)
    shown = tiers if isinstance(tiers, str) else ",".join(tiers)
    assert_one_notice_each(toasts(at), [f"tiers={shown}"])
    assert "5x" in at.pills(key="tiers").value


def market_csv(days: int, seed: int) -> bytes:
    market = simulate(days=days, interval="1h", seed=seed).market
    return market.reset_index().to_csv(index=False).encode()


SIM_30_DAYS = "Simulated market (seed 7, 30 days, Retail crowd)"


def status_line(at: AppTest) -> str:
    return next(text for text in captions(at) if text.startswith(":material/database:"))


def test_an_uploaded_csv_is_drawn_and_a_bad_one_is_explained(
    open_app: Callable[..., AppTest], heatmap_spec: Spec
) -> None:
    at = open_app(HEATMAP, days="30")
    at.sidebar.selectbox(key="src").set_value("CSV upload").run()
    assert_ran(at)
    assert "no file yet" in status_line(at)
    assert any("Upload a CSV" in info.value for info in at.info)
    # Until then the simulated market stands in, and the chart says so.
    assert SIM_30_DAYS in heatmap_spec(at)["layout"]["title"]["text"]

    uploader = at.sidebar.file_uploader[0]
    uploader.set_value(("five_days.csv", market_csv(5, seed=3), "text/csv")).run()
    assert_ran(at)
    # User text is escaped for Streamlit's markdown: the underscore shows as typed.
    assert r"Your file five\_days.csv · 120 bars" in status_line(at)
    spec = heatmap_spec(at)
    assert "Your CSV" in spec["layout"]["title"]["text"]
    # Less history than the week asked for: said, not hidden.
    assert any("less than the 1w timeframe" in info.value for info in at.info)
    first = trace(spec, "ohlc")["x"]

    # A second file under the same data choice is drawn from its own data.
    at.sidebar.file_uploader[0].set_value(("twenty_days.csv", market_csv(20, seed=4), "text/csv"))
    at.run()
    assert_ran(at)
    assert r"twenty\_days.csv · 480 bars" in status_line(at)
    assert trace(heatmap_spec(at), "ohlc")["x"] != first

    at.sidebar.file_uploader[0].set_value(("bad.csv", b"time,open\n2024-01-01,1\n", "text/csv"))
    at.run()
    assert_ran(at)
    errors = [error.value for error in at.error]
    assert len(errors) == 1
    assert "bad.csv: missing column 'high'" in errors[0]
    assert "Showing the simulated market instead" in errors[0]
    assert "your file could not be used" in status_line(at)
    assert SIM_30_DAYS in heatmap_spec(at)["layout"]["title"]["text"]

    # A file name or cell that is markdown/HTML is shown as typed: no link, image or tag.
    hostile = "![x](http://example.invalid/x.png)<b>:red[b]</b>.csv"
    at.sidebar.file_uploader[0].set_value((hostile, b"time,open\n<i>x</i>,1\n", "text/csv"))
    at.run()
    assert_ran(at)
    error = at.error[0].value
    assert r"\!\[x\](http\://example.invalid/x.png)\<b\>\:red\[b\]\</b\>.csv" in error


def panel_names(spec: dict) -> list[str]:
    """Indicator panels under the candles (their traces sit on y3, y4, ...)."""
    main = {"y", "y2", "y7"}
    return [t["name"] for t in spec["data"] if t.get("yaxis") not in main and "yaxis" in t]


def test_indicator_pills_choose_the_panels_and_the_url_keeps_them(open_app, heatmap_spec) -> None:
    at = open_app(HEATMAP)
    assert not at.exception
    assert panel_names(heatmap_spec(at)) == ["RSI", "Open interest"]
    at.pills(key="ind").set_value(["Funding", "RSI"]).run()
    assert not at.exception
    # Panels keep one order (RSI, funding, OI, long/short), whatever the click order.
    assert panel_names(heatmap_spec(at)) == ["RSI", "Funding"]
    # A shared link reopens the same panels and move.
    at = open_app(HEATMAP, ind=["Funding"], move="10")
    assert panel_names(heatmap_spec(at)) == ["Funding"]
    assert at.slider(key="move").value == 10.0


def test_an_indicator_the_data_lacks_is_said_not_drawn(open_app, heatmap_spec) -> None:
    at = open_app(HEATMAP, src="CSV upload", ind=["Long/short", "RSI"])
    market = simulate(days=5, interval="1h", seed=3).market.drop(columns="long_short_ratio")
    csv = market.reset_index().to_csv(index=False).encode()
    at.sidebar.file_uploader[0].set_value(("no_ratio.csv", csv, "text/csv")).run()
    assert not at.exception
    assert panel_names(heatmap_spec(at)) == ["RSI"]
    assert any("This data has no Long/short" in c.value for c in at.caption)


def test_magnet_table_lists_the_timeframes_a_zone_appears_in(open_app) -> None:
    at = open_app(HEATMAP)
    table = at.table[0].value
    assert list(table.columns)[:5] == [
        "Side",
        "Centre",
        "USD at risk (est.)",
        "Distance %",
        "Timeframes",
    ]
    assert len(table) > 0
    # Every zone of the viewed 1w book is in the 1w book at least.
    assert all(str(cell).endswith("1w") for cell in table["Timeframes"])


def test_what_if_slider_shows_each_side_and_the_cascade(open_app) -> None:
    at = open_app(HEATMAP)
    labels = [m.label for m in at.metric]
    assert "A 5% fall liquidates (est.)" in labels and "A 5% rise liquidates (est.)" in labels
    at.slider(key="move").set_value(12.0).run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "A 12% fall liquidates (est.)" in labels
    assert any("strength 0.7" in c.value and "daily volume" in c.value for c in at.caption)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("What a +12.0% move" in c["layout"]["title"]["text"] for c in charts)
