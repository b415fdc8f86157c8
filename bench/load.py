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
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


async def _session(browser, url: str, seconds: float, seed: int, out: dict, light: bool) -> None:
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
            await page.wait_for_timeout(rng.uniform(300, 1200))  # a person's pause
    except Exception as exc:  # a session failing is a result, not a crash of the bench
        out["errors"].append(f"session {seed}: {type(exc).__name__}: {str(exc)[:160]}")
    finally:
        await context.close()


async def _run(url: str, sessions: int, seconds: float, pid: int, light: bool) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"loads": [], "reruns": [], "errors": [], "rss": []}

    async def sample() -> None:
        t0 = time.perf_counter()
        while True:
            out["rss"].append((round(time.perf_counter() - t0, 1), round(_rss_mb(pid), 1)))
            await asyncio.sleep(1.0)

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
        await asyncio.gather(
            *(_session(browser, url, seconds, i, out, light) for i in range(sessions))
        )
        sampler.cancel()
        await browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--draw",
        action="store_true",
        help="let every session load plotly.js and draw the chart (needs many cores)",
    )
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        out = asyncio.run(_run(url, args.sessions, args.seconds, server.pid, not args.draw))
    finally:
        server.terminate()
        server.wait(timeout=30)
    reruns = sorted(out["reruns"])
    loads = sorted(out["loads"])

    def pct(values: list[float], q: float) -> float:
        return values[min(int(q * len(values)), len(values) - 1)] if values else float("nan")

    mode = "charts drawn" if args.draw else "plotly.js skipped in the browsers"
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
