"""Load test: N concurrent browser sessions against one local ``streamlit run``.

Each session opens the Heatmap page in its own Playwright context (Debian's Chromium),
waits for the chart, then for a bounded time moves controls (colour cap, side,
leverage tiers, timeframe) like a person would and measures the time from each move
to the end of the rerun. The server's resident memory is sampled once a second.

Usage: ``.venv/bin/python bench/load.py --sessions 20 --seconds 60``. Targets (issue):
20 concurrent sessions, zero errors, p95 <= 2 s, memory flat after warm-up.

By default the browsers do not load plotly.js: twenty tabs each spending ~1.5 s of CPU to
draw the heatmap on a two-core machine measure Chromium, not the server. The server still
builds and sends every figure; a move counts as done when Streamlit's script state on
the page returns to idle. ``--draw`` waits for the drawn chart instead.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import running_app  # noqa: E402
from ui.frame import SENSOR_KEY, SENSOR_LABEL  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DRAWN = (
    "() => [...document.querySelectorAll('.js-plotly-plot')]"
    ".some(d => (d.data || []).some(t => t.type === 'heatmap'))"
)
IDLE = "[data-test-script-state=notRunning]"
#: Records every change of Streamlit's script state with a timestamp, so a rerun's end can be
#: told from the page (the attribute sits on the app's root element).
WATCH_STATE = """
window.__runs = [];
new MutationObserver(() => {
  const el = document.querySelector('[data-test-script-state]');
  if (el) window.__runs.push([performance.now(), el.getAttribute('data-test-script-state')]);
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state'],
                      childList: true});
"""
RERUN_DONE = """(t0) => {
  const runs = window.__runs || [];
  const started = runs.findIndex(([t, s]) => t >= t0 && s === 'running');
  return started >= 0 && runs.slice(started).some(([t, s]) => s === 'notRunning');
}"""


def _rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (MB), from /proc."""
    total = 0
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


async def _wait_rerun(page, since_ms: float, timeout_ms: float, light: bool) -> None:
    # A move starts a rerun; wait until the server has finished it (and, unless light, the
    # chart is drawn again).
    await page.wait_for_function(RERUN_DONE, arg=since_ms, timeout=timeout_ms)
    if not light:
        await page.wait_for_function(DRAWN, timeout=timeout_ms)


async def _session(
    browser, url: str, seconds: float, seed: int, out: dict, light: bool, pause: float = 1.0
) -> None:
    rng = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    if light:
        # Twenty Chromium tabs drawing plotly charts on two cores measure the browsers, not the
        # server: skip plotly.js so each session costs the server what a real one does.
        await context.route("**/*plotly*", lambda route: route.abort())
    await context.add_init_script(WATCH_STATE)
    page = await context.new_page()
    try:
        start = time.perf_counter()
        await page.goto(url + "/heatmap", timeout=180_000)
        if light:
            # No plotly.js, so no chart is ever drawn for the page's first-paint script to
            # see (ui.frame): press its hidden button for it, as it would once drawn.
            await page.wait_for_selector(f".st-key-{SENSOR_KEY} button", state="attached")
            await page.evaluate(f"document.querySelector('.st-key-{SENSOR_KEY} button').click()")
            await page.get_by_text("Magnet zones").first.wait_for(timeout=180_000)
        else:
            await page.wait_for_function(DRAWN, timeout=180_000)
        out["loads"].append(time.perf_counter() - start)
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            action = rng.choice(["cap", "side", "tier", "timeframe"])
            t0 = time.perf_counter()
            since = await page.evaluate("performance.now()")
            if action == "cap":
                slider = page.get_by_role("slider", name="Colour cap (percentile)")
                await slider.focus()
                await slider.press(rng.choice(["ArrowLeft", "ArrowRight"]))
            elif action == "side":
                label = rng.choice(["Both", "Longs", "Shorts"])
                await page.get_by_role("button", name=label, exact=True).first.click()
            elif action == "tier":
                await page.get_by_role("button", name=rng.choice(["50x", "100x"])).first.click()
            else:
                slider = page.get_by_role("slider", name="Timeframe")
                await slider.focus()
                await slider.press(rng.choice(["ArrowLeft", "ArrowRight"]))
            await _wait_rerun(page, since, 60_000, light)
            out["reruns"].append(time.perf_counter() - t0)
            if await page.locator("[data-testid=stException]").count():
                out["errors"].append(f"session {seed}: exception shown after {action}")
                break
            await page.wait_for_timeout(rng.uniform(0.5, 1.5) * pause * 1000)  # a person's pause
    except Exception as exc:  # a session failing is a result, not a crash of the bench
        out["errors"].append(f"session {seed}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        await context.close()


def _state(widget_id: str, kind: str, value: object):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=widget_id)
    if kind == "double":
        state.double_array_value.data.extend(value)
    else:
        state.string_array_value.data.extend(value)
    return state


async def _protocol_session(url: str, seconds: float, seed: int, out: dict, pause: float) -> None:
    """One visitor speaking Streamlit's own websocket protocol, as its frontend does: a rerun
    request carrying every widget's value, then messages until the script has finished."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    rng = random.Random(seed)
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    states: dict[str, object] = {}

    fragments: dict[str, str] = {}  # widget id -> id of the st.fragment it lives in
    seen: set[str] = set()  # hashes of large messages this client holds, as a browser caches them

    async def rerun(ws, fragment: str = "") -> dict[str, str]:
        message = BackMsg()
        message.rerun_script.page_name = "heatmap"
        message.rerun_script.widget_states.widgets.extend(states.values())
        # A widget inside an st.fragment reruns only that fragment, as in a browser.
        message.rerun_script.fragment_id = fragment
        message.rerun_script.cached_message_hashes.extend(seen)
        await ws.send(message.SerializeToString())
        widgets: dict[str, str] = {}
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=120))
            kind = reply.WhichOneof("type")
            if reply.metadata.cacheable and reply.hash:
                seen.add(reply.hash)
            if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                name = element.WhichOneof("type")
                if name == "exception":
                    out["errors"].append(f"session {seed}: {element.exception.message[:160]}")
                proto = getattr(element, name)
                if getattr(proto, "id", "") and getattr(proto, "label", ""):
                    widgets[proto.label] = proto.id
                    fragments[proto.id] = reply.delta.fragment_id
            if kind == "script_finished" and reply.script_finished in (0, 3):
                return widgets

    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
            start = time.perf_counter()
            ids = await rerun(ws)
            if SENSOR_LABEL in ids:
                # A session's first run is the chart alone; a browser that has drawn it
                # presses the first-paint button (ui.frame) for the rest of the page.
                press = WidgetState(id=ids[SENSOR_LABEL], trigger_value=True)
                states[press.id] = press
                ids.update(await rerun(ws))
                del states[press.id]
            out["loads"].append(time.perf_counter() - start)
            moves = {
                "cap": (
                    "Colour cap (percentile)",
                    "double",
                    lambda: [rng.choice([95.0, 97.5, 99.0, 100.0])],
                ),
                "side": ("Side", "string", lambda: [rng.choice(["Both", "Longs", "Shorts"])]),
                "tiers": (
                    "Leverage tiers",
                    "string",
                    lambda: rng.choice(
                        [
                            ["5x", "10x", "25x", "50x", "100x"],
                            ["5x", "10x", "25x", "50x"],
                            ["25x", "50x", "100x"],
                        ]
                    ),
                ),
                "timeframe": ("Timeframe", "string", lambda: [rng.choice(["3d", "1w", "2w"])]),
            }
            stop = time.perf_counter() + seconds
            while time.perf_counter() < stop:
                label, kind, value = moves[rng.choice(list(moves))]
                states[ids[label]] = _state(ids[label], kind, value())
                t0 = time.perf_counter()
                ids.update(await rerun(ws, fragments.get(ids[label], "")))
                out["reruns"].append(time.perf_counter() - t0)
                await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)
    except Exception as exc:  # a session failing is a result, not a crash of the bench
        out["errors"].append(f"session {seed}: {type(exc).__name__}: {str(exc)[:160]}")


async def _run(
    url: str,
    sessions: int,
    seconds: float,
    pid: int,
    light: bool,
    pause: float,
    stagger: float,
    client: str = "browser",
) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"loads": [], "reruns": [], "errors": [], "rss": []}

    async def sample() -> None:
        t0 = time.perf_counter()
        while True:
            out["rss"].append((round(time.perf_counter() - t0, 1), round(_rss_mb(pid), 1)))
            await asyncio.sleep(1.0)

    if client == "protocol":
        warm: dict = {"loads": [], "reruns": [], "errors": [], "rss": []}
        await _protocol_session(url, 0, -1, warm, pause)
        out["warm_up_load_s"] = round(warm["loads"][0], 2) if warm["loads"] else None
        out["errors"] += warm["errors"]
        sampler = asyncio.create_task(sample())

        async def visitor(i: int) -> None:
            await asyncio.sleep(i * stagger)
            await _protocol_session(url, seconds, i, out, pause)

        await asyncio.gather(*(visitor(i) for i in range(sessions)))
        sampler.cancel()
        return out

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        # Warm-up: one session fills the server's caches (the simulated market) first.
        warm: dict = {"loads": [], "reruns": [], "errors": [], "rss": []}
        await _session(browser, url, 0, -1, warm, light)
        out["warm_up_load_s"] = round(warm["loads"][0], 2) if warm["loads"] else None
        out["errors"] += warm["errors"]
        sampler = asyncio.create_task(sample())

        async def joined(i: int) -> None:
            # Visitors arrive one after another, not in the same millisecond.
            await asyncio.sleep(i * stagger)
            await _session(browser, url, seconds, i, out, light, pause)

        await asyncio.gather(*(joined(i) for i in range(sessions)))
        sampler.cancel()
        await browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--client",
        choices=["browser", "protocol"],
        default="browser",
        help="browser: Playwright contexts in Chromium; protocol: Streamlit's websocket "
        "protocol spoken directly (the server's load without twenty browsers' CPU)",
    )
    parser.add_argument("--pause", type=float, default=3.0, help="mean seconds between moves")
    parser.add_argument("--stagger", type=float, default=2.0, help="seconds between arrivals")
    parser.add_argument(
        "--draw",
        action="store_true",
        help="let every session load plotly.js and draw the chart (needs many cores)",
    )
    args = parser.parse_args()
    with running_app() as (url, server):
        out = asyncio.run(
            _run(
                url,
                args.sessions,
                args.seconds,
                server.pid,
                not args.draw,
                args.pause,
                args.stagger,
                args.client,
            )
        )
    reruns = sorted(out["reruns"])
    loads = sorted(out["loads"])

    def pct(values: list[float], q: float) -> float:
        return values[min(int(q * len(values)), len(values) - 1)] if values else float("nan")

    mode = "charts drawn" if args.draw else "plotly.js skipped in the browsers"
    if args.client == "protocol":
        mode = "websocket protocol clients"
    print(f"sessions {args.sessions}, {args.seconds:.0f} s of slider moves each ({mode})")
    print(f"warm-up first load: {out['warm_up_load_s']} s")
    if loads:
        print(
            f"page loads: {len(loads)}, p50 {statistics.median(loads):.2f} s, "
            f"p95 {pct(loads, 0.95):.2f} s"
        )
    print(
        f"reruns: {len(reruns)}, p50 {statistics.median(reruns) if reruns else float('nan'):.2f} s,"
        f" p95 {pct(reruns, 0.95):.2f} s, max {max(reruns) if reruns else float('nan'):.2f} s"
    )
    print(f"errors: {len(out['errors'])}")
    for error in out["errors"][:10]:
        print("  ", error)
    rss = out["rss"]
    if rss:
        marks = [rss[0], rss[len(rss) // 4], rss[len(rss) // 2], rss[3 * len(rss) // 4], rss[-1]]
        print("server RSS (s, MB): " + ", ".join(f"({t}, {m})" for t, m in marks))
        print(f"server RSS max {max(m for _, m in rss):.1f} MB")


if __name__ == "__main__":
    main()
