"""The page frame: every page runs inside the router, whichever URL opened it.

Streamlit treats a ``pages/`` folder beside the entrypoint as its *legacy* multipage
mode until some session has called ``st.navigation``. The design keeps ``pages/`` (the
four pages live there), so the very first visitor of a fresh server who opens a shared
link such as ``/heatmap`` would get the bare page, without the sidebar and settings.
:func:`ensure_app_frame`, called first by every page, switches that mode off and reruns
through ``streamlit_app.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from ui.widgets import script

__all__ = [
    "drawn_first",
    "ensure_app_frame",
    "first_page_view",
    "first_paint_done",
    "first_paint_sensor",
    "plotly_extras",
]

#: Session flag: this session's browser has drawn its first page (see :func:`first_paint_done`).
PAINTED = "_first_paint_done"
#: Key of the button the browser presses once the first page is drawn.
SENSOR_KEY = "first_paint"
#: Its label: seen only if the page's script does not run.
SENSOR_LABEL = "Show the whole page"
#: Keys of the charts the first page draws first (the sensor waits for them).
_FIRST_CHARTS = "_first_paint_charts"

# The browser side of the first paint (ui.widgets.script runs it in the page). It hides
# the button below it, and once every chart the page named is drawn (plotly has put its
# plot into the page, a heatmap its cells' image) and the frame showing it has been
# painted, it presses that button, which asks the server for the rest of the page.
# Charts that never arrive (an error instead) are waited for at most the timeout, so the
# page always completes; should the script not run at all, the button stays visible for
# the user to press.
# Not a custom component: its code and the Arrow reader it imports (~200 kB) were
# evaluated while plotly.js was, and cost ~0.1 × of the reference app's first paint.
_SENSOR_JS = """
(() => {{
  const hide = document.createElement('style');
  hide.textContent = '.st-key-{key} {{ display: none; }}';
  document.head.appendChild(hide);
  const charts = {charts};
  const started = performance.now();
  const drawn = (key) => {{
    const gd = document.querySelector(`.st-key-${{key}} .js-plotly-plot`);
    if (!gd || !gd._fullData) return false;
    return !gd._fullData.some((t) => t.type === 'heatmap') || !!gd.querySelector('g.hm image');
  }};
  const press = () => {{
    const button = document.querySelector('.st-key-{key} button');
    if (button) {{ button.click(); setTimeout(() => hide.remove(), 3000); }}
    else setTimeout(press, 50);
  }};
  const check = () => {{
    if (charts.every(drawn) || performance.now() - started > {timeout_ms}) {{
      // Two frames: the chart's frame is on screen before the rest is asked for.
      requestAnimationFrame(() => requestAnimationFrame(press));
    }} else setTimeout(check, 50);
  }};
  check();
}})();
"""


def first_paint_done() -> bool:
    """Whether this session's browser has drawn its first page.

    Until it has, a page draws what the user came for (the Heatmap page: its chart) and
    leaves the rest (controls, tables, the sidebar) to the run the browser asks for once
    the chart is on screen (:func:`first_paint_sensor`). On a first visit the browser
    would otherwise mount some thirty elements while it evaluates plotly.js: measured, the
    chart arrived ~1.45 × as late as on a page with only the chart.
    """
    return bool(st.session_state.get(PAINTED, False))


def drawn_first(chart_key: str) -> None:
    """Name a chart (its ``key``) that the first paint waits for before the rest is drawn."""
    charts = st.session_state.setdefault(_FIRST_CHARTS, [])
    if chart_key not in charts:
        charts.append(chart_key)


def _painted() -> None:
    st.session_state[PAINTED] = True
    st.session_state.pop(_FIRST_CHARTS, None)


def first_paint_sensor(timeout_s: float = 6.0) -> None:
    """The browser's signal that the first page is drawn: a hidden button it presses.

    Drawn by the router at the end of each run until :func:`first_paint_done`. The press
    reruns the whole app, now in full. Should the script not run, the button stays in
    sight (:data:`SENSOR_LABEL`) and the user's click does the same.
    """
    charts = json.dumps(list(st.session_state.get(_FIRST_CHARTS, [])))
    script(_SENSOR_JS.format(key=SENSOR_KEY, charts=charts, timeout_ms=int(timeout_s * 1000)))
    st.button(SENSOR_LABEL, key=SENSOR_KEY, on_click=_painted)


#: What st.plotly_chart leaves out, done in the browser: zoom kept across controls, the
#: distance from price in the heat's hover (read the file for how and why).
_PLOTLY_EXTRAS = (Path(__file__).with_name("plotly_extras.js")).read_text()


def plotly_extras() -> None:
    """Keep a chart's zoom across reruns and fill in the heat's hover distance (browser side).

    Drawn by the router on every run after a session's first paint; the script runs once
    per page load (``ui/plotly_extras.js``).
    """
    script(_PLOTLY_EXTRAS)


def ensure_app_frame() -> None:
    """Make sure a page runs inside the router, even as the first visit of a fresh server.

    Uses Streamlit's internal ``PagesManager.uses_pages_directory`` flag, guarded: a
    future Streamlit without it simply skips this.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - depends on the Streamlit version
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def first_page_view(page: str) -> bool:
    """Whether the session is still on the first page it opened (its reruns included).

    Once the user has gone to another page it stays False for the rest of the session.
    """
    state = st.session_state
    first = state.setdefault("_first_page", page)
    if page != first:
        state["_moved_on"] = True
    return not state.get("_moved_on", False)
