"""App performance: rerun time after a slider change, figure payload, first load in Chromium.

Run with ``.venv/bin/python bench/app.py`` (``--no-browser`` to skip Chromium). Targets
from the app issue, default Heatmap view:

* server time from a slider change to the end of the rerun <= 250 ms with warm caches
  (measured with Streamlit's AppTest, which runs the script in-process: the script time
  plus AppTest's own protobuf handling, so a slight over-estimate);
* plotly figure JSON <= 1.5 MB;
* first load to a drawn chart in headless Chromium <= 3 s (a new browser session on a
  server whose caches are warm; the very first load after a server start also
  simulates the market and is reported separately).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import running_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def rerun_times(repeat: int) -> dict[str, object]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    start = time.perf_counter()
    at.switch_page("pages/heatmap.py")
    at.run()
    cold = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"the Heatmap page failed: {at.exception[0].value}")
    spec = at.get("plotly_chart")[0].proto.spec
    changes = {
        "colour cap": lambda v: at.slider(key="cap").set_value(95.0 if v % 2 else 99.0),
        "side": lambda v: at.segmented_control(key="side").set_value("Longs" if v % 2 else "Both"),
        "colour scale": lambda v: at.segmented_control(key="scale").set_value(
            "Log" if v % 2 else "Linear"
        ),
        "leverage tiers": lambda v: at.pills(key="tiers").set_value(
            ["5x", "10x", "25x", "50x"] if v % 2 else ["5x", "10x", "25x", "50x", "100x"]
        ),
    }
    results: dict[str, object] = {"first_run_s": round(cold, 2), "figure_json_mb": None}
    results["figure_json_mb"] = round(len(spec.encode()) / 1e6, 3)
    for name, change in changes.items():
        # Two warm-up rounds fill the caches for both values; then time the toggles.
        for v in range(2):
            change(v).run()
        times = []
        for v in range(repeat):
            change(v)
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        results[f"rerun_{name}_ms"] = round(statistics.median(times) * 1000, 1)
    return results


def first_load() -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with running_app() as (url, _):
        results: dict[str, object] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                ],
            )
            for label in ("cold_server_s", "warm_server_s", "warm_server_again_s"):
                context = browser.new_context(viewport={"width": 1500, "height": 1000})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(url + "/heatmap")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.js-plotly-plot')].some("
                    "d => (d.data || []).some(t => t.type === 'heatmap'))",
                    timeout=180_000,
                )
                results[label] = round(time.perf_counter() - t0, 2)
                context.close()
            browser.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    for key, value in rerun_times(args.repeat).items():
        print(f"{key:<32} {value}")
    if not args.no_browser and Path(CHROMIUM).exists():
        for key, value in first_load().items():
            print(f"first load to drawn heatmap, {key:<20} {value}")


if __name__ == "__main__":
    main()
