"""The app in a real browser: `streamlit run` on a loopback port, driven by Chromium.

What AppTest cannot see: the pages load in a browser, plotly draws the heatmap and the
candles, a click on a control redraws the chart and writes the URL. Full-page
screenshots go to ``artifacts/`` (git-ignored) for a human to look at.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
#: Seconds for the server to come up and for a page to draw (a shared, busy runner).
START_TIMEOUT = 60.0
DRAW_TIMEOUT_MS = 90_000

#: Every plotly chart on the page: its trace types and names, and a checksum of the
#: heatmap's cells and colour cap, so a redraw with other data shows as a change.
CHARTS_JS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => {
  const data = gd.data || [];
  const heat = data.find((t) => t.type === 'heatmap');
  // z arrives as a typed-array spec ({dtype, bdata, shape}) or as nested arrays.
  const text = heat ? JSON.stringify(heat.z) : '';
  let cells = 0;
  for (let i = 0; i < text.length; i++) { cells = (cells * 31 + text.charCodeAt(i)) | 0; }
  return {
    types: data.map((t) => t.type),
    names: data.map((t) => t.name || ''),
    heat: heat ? cells : null,
    zmax: heat ? heat.zmax : null,
  };
})
"""
HEATMAP_DRAWN_JS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .some((gd) => (gd.data || []).some((t) => t.type === 'heatmap'))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run streamlit_app.py` on a free loopback port; its base URL."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`")
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "LIQSTUDIO_EXCHANGE_URL"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited ({process.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {START_TIMEOUT:.0f} s:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    """One Chromium tab for the module: pages after the first open by the app's own
    navigation, as a visitor clicks through, so the 4.7 MB plotly bundle loads once."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1440, "height": 900})
            # Nothing leaves the machine (Streamlit fetches a material page icon's favicon
            # from fonts.gstatic.com; it falls back to its own).
            context.route(
                re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: route.abort()
            )
            tab = context.new_page()
            tab.set_default_timeout(DRAW_TIMEOUT_MS)
            yield tab
        finally:
            chromium.close()


def open_page(page: Any, server: str, path: str) -> None:
    """Open ``path``: as a link on the first visit, then with the sidebar's navigation."""
    if not page.url.startswith(server):
        page.goto(f"{server}{path}")
        return
    # The Heatmap page folds the sidebar away on a first visit (the chart spans the page).
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.count() and expand.first.is_visible():
        expand.first.click()
    page.locator(f'[data-testid="stSidebarNav"] a[href$="{path}"]').click()
    page.wait_for_url(re.compile(rf"^{re.escape(server)}{re.escape(path)}(\?.*)?$"))


def wait_until_idle(page: Any) -> None:
    """Until the script run is over (Streamlit marks the app ``notRunning``)."""
    page.wait_for_selector("[data-test-script-state=notRunning]", state="attached")


def charts(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(CHARTS_JS)


def assert_no_exception(page: Any) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, shown.first.inner_text()


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot: the viewport grown to the app's scrolling height first."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stSidebarContent"]']
             .map((s) => document.querySelector(s)).filter(Boolean)
             .map((el) => el.scrollHeight), 900)"""
    )
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(300)  # let plotly relayout to the new size
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    return path


def test_a_shared_heatmap_link_draws_heat_under_candles_and_follows_the_controls(
    page: Any, server: str
) -> None:
    # The first visit of a fresh server opens a shared /heatmap link: the hardest case
    # for the router (see ui.frame.ensure_app_frame) and the slowest first draw.
    started = time.monotonic()
    page.goto(f"{server}/heatmap")
    page.wait_for_function(HEATMAP_DRAWN_JS)
    print(f"\nfirst heatmap drawn {time.monotonic() - started:.1f} s after navigation")
    # The session's first run drew the chart alone; the browser, once it has drawn it,
    # asks for the rest by itself (ui.frame.first_paint_sensor): controls, tables, sidebar.
    page.get_by_role("button", name="100x", exact=True).wait_for()
    page.get_by_text("Market data").first.wait_for()
    print(f"whole page drawn {time.monotonic() - started:.1f} s after navigation")
    wait_until_idle(page)
    assert_no_exception(page)
    assert not page.get_by_role("button", name="Show the whole page").is_visible()
    figure = next(chart for chart in charts(page) if "heatmap" in chart["types"])
    assert {"heatmap", "ohlc"} <= set(figure["types"])
    screenshot(page, "heatmap")

    # A click on a leverage tier redraws the heat and the liquidation map, and the URL keeps it.
    page.get_by_role("button", name="100x", exact=True).click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some((gd) =>"
        " (gd.data || []).some((t) => t.type === 'heatmap')"
        " && !(gd.data || []).some((t) => t.name === '100x'))"
    )
    wait_until_idle(page)
    after = next(chart for chart in charts(page) if "heatmap" in chart["types"])
    assert after["heat"] != figure["heat"]
    assert "100x" not in after["names"] and "50x" in after["names"]
    assert "tiers=5x&tiers=10x&tiers=25x&tiers=50x" in page.url

    # The colour cap slider, moved with the keyboard (one step, one rerun), lowers the top
    # of the colour scale.
    cap = page.locator('[data-testid="stSlider"]').filter(has_text="Colour cap")
    cap.get_by_role("slider").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "(zmax) => Array.from(document.querySelectorAll('.js-plotly-plot')).some((gd) =>"
        " (gd.data || []).some((t) => t.type === 'heatmap' && t.zmax < zmax))",
        arg=after["zmax"],
    )
    wait_until_idle(page)
    assert_no_exception(page)
    assert "cap=98.5" in page.url
    screenshot(page, "heatmap_after_controls")


HEAT_GD = "document.querySelector('.st-key-heatmap_chart .js-plotly-plot')"


def test_the_heat_keeps_its_zoom_across_controls_and_its_hover_gives_the_distance(
    page: Any, server: str
) -> None:
    """ui/plotly_extras.js: a new figure is a new chart in Streamlit, yet the user's zoom
    stays; the heat's hover adds each price's distance from the current price."""
    open_page(page, server, "/heatmap")
    page.wait_for_function(HEATMAP_DRAWN_JS)
    page.get_by_role("button", name="50x", exact=True).wait_for()
    wait_until_idle(page)
    area = page.locator(".st-key-heatmap_chart .js-plotly-plot .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for()
    text = hover.text_content()
    price = float(re.search(r"price ([\d,.]+)", text).group(1).replace(",", ""))
    distance = float(re.search(r"distance from price ([+-][\d.]+)%", text).group(1))
    now = page.evaluate(f"() => {HEAT_GD}.data[0].meta.distance_from")
    assert distance == pytest.approx((price / now - 1) * 100, abs=0.01), text

    # A drag zooms into a box; a tier click draws a new figure, still zoomed there.
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => {HEAT_GD}._fullLayout.xaxis.autorange === false")
    ranges = f"() => [{HEAT_GD}._fullLayout.xaxis.range, {HEAT_GD}._fullLayout.yaxis.range]"
    zoomed = page.evaluate(ranges)
    page.get_by_role("button", name="50x", exact=True).click()
    page.wait_for_function(f"() => !({HEAT_GD}.data || []).some((t) => t.name === '50x')")
    wait_until_idle(page)
    assert page.evaluate(ranges) == zoomed
    # A double-click zooms back out, and the next figure is drawn whole again.
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function(f"() => {HEAT_GD}._fullLayout.xaxis.autorange !== false")
    page.get_by_role("button", name="50x", exact=True).click()
    page.wait_for_function(f"() => ({HEAT_GD}.data || []).some((t) => t.name === '50x')")
    wait_until_idle(page)
    assert page.evaluate(ranges) != zoomed
    assert_no_exception(page)


@pytest.mark.parametrize(
    ("path", "title"), [("/", "Learn"), ("/liquidations", "Liquidations")], ids=["learn", "liq"]
)
def test_the_other_pages_load_and_draw(page: Any, server: str, path: str, title: str) -> None:
    open_page(page, server, path)
    page.locator("h1").filter(has_text=title).first.wait_for()
    page.wait_for_selector(".js-plotly-plot")
    wait_until_idle(page)
    assert_no_exception(page)
    drawn = charts(page)
    assert drawn and all(chart["types"] for chart in drawn), drawn
    print(f"\n{path}: {len(drawn)} charts, traces {sorted({t for c in drawn for t in c['types']})}")
    screenshot(page, path.strip("/") or "learn")


def test_a_file_above_the_upload_cap_is_refused_politely(
    page: Any, server: str, tmp_path: Path
) -> None:
    """The cap in .streamlit/config.toml (50 MB) is enforced in the browser with a message;
    the app keeps running on the simulated market."""
    big = tmp_path / "too_big.csv"
    with big.open("wb") as handle:
        handle.write(b"time,open,high,low,close,volume,open_interest\n")
        handle.truncate(51 * 1024 * 1024)  # sparse: 51 MB without writing them
    page.goto(f"{server}/heatmap?src=CSV+upload")
    wait_until_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
    refusal = page.get_by_text(re.compile(r"(must be|larger than|exceeds).*50", re.IGNORECASE))
    refusal.first.wait_for()
    assert_no_exception(page)
    screenshot(page, "upload_too_big")


def test_the_heatmap_questions_answer_clicks_and_the_phone_sees_the_chart_first(
    page: Any, server: str
) -> None:
    """Indicators, the what-if move and the magnet test follow clicks; at 390 px wide the
    chart comes before the controls."""
    open_page(page, server, "/heatmap")
    page.wait_for_function(HEATMAP_DRAWN_JS)
    wait_until_idle(page)
    page.get_by_role("button", name="Funding", exact=True).click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some((gd) =>"
        " (gd.data || []).some((t) => t.name === 'Funding'))"
    )
    wait_until_idle(page)
    assert "ind=Funding" in page.url

    move = page.locator('[data-testid="stSlider"]').filter(has_text="Price moves")
    move.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text("What a -4.5% move would liquidate").first.wait_for()
    wait_until_idle(page)
    assert "move=-4.5" in page.url
    assert page.get_by_text("A 4.5% fall liquidates (est.)").first.is_visible()
    # The share link is the address as it is now, the move (its own fragment) included.
    page.get_by_role("button", name="Share this view").click()
    link = page.locator('[data-testid="stPopoverBody"] code').first
    link.wait_for()
    page.wait_for_function(
        "(el) => el.textContent.includes('move=-4.5')", arg=link.element_handle()
    )
    assert link.text_content() == page.url
    page.keyboard.press("Escape")
    assert_no_exception(page)
    screenshot(page, "heatmap_questions")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    chart_top = page.locator(".js-plotly-plot").first.bounding_box()["y"]
    control_top = page.locator('[data-testid="stSlider"]').first.bounding_box()["y"]
    assert chart_top < control_top, "on a phone the chart comes before the controls"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "heatmap_phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    open_page(page, server, "/accuracy")
    page.get_by_text("Do magnets actually pull price here?").first.wait_for()
    page.get_by_text(re.compile(r"within 24 h in \d+%")).first.wait_for()
    page.locator("button", has_text=re.compile(r"^72$")).first.click()
    page.get_by_text(re.compile(r"within 72 h in \d+%")).first.wait_for()
    wait_until_idle(page)
    assert_no_exception(page)
    assert "mh=72" in page.url
    screenshot(page, "accuracy_magnets")
