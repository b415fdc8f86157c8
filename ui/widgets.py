"""Widgets every page shares: URL-bound controls, escaping, link notices, share link, footer."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

import streamlit as st

from liqcore.controls import CONTROLS, clean_query

__all__ = [
    "FOOTER",
    "bound",
    "fact",
    "footer",
    "plain",
    "script",
    "share_view",
    "show_url_notices",
]

FOOTER = "Estimates from public data, not exchange data. Not financial advice."
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>:!~|$&])")
_Value = TypeVar("_Value")


def plain(text: object) -> str:
    """User-supplied text (a file name, a cell, a link value) made inert for Streamlit's markdown.

    Every markdown, HTML and Streamlit directive character (links, images, ``:red[...]``,
    ``:material/...:``) is backslash-escaped, so it shows as typed and loads nothing.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def bound(widget: Callable[..., _Value], label: str, key: str, **kwargs: object) -> _Value:
    """Draw a Streamlit widget bound to the URL parameter ``key``.

    Its options, range and starting value come from the control of the same key
    (:data:`liqcore.controls.CONTROLS`), the rules :func:`liqcore.controls.clean_query`
    checks a shared link with; ``kwargs`` add the rest (``help``, ``step``, ...).
    ``widget`` is ``st.<widget>`` or a container's, e.g. ``columns[0].slider``.
    """
    control = CONTROLS[key]
    kind = getattr(widget, "__name__", "")
    args: tuple[object, ...] = ()
    if control.options:
        args = (list(control.options),)
    elif kind in ("slider", "number_input") and math.isfinite(control.low):
        args = (control.low, control.high)
    start = control.default
    if kind in ("selectbox", "radio"):
        kwargs.setdefault("index", list(control.options).index(start))
    elif kind in ("pills", "segmented_control"):
        kwargs.setdefault("default", list(start) if control.kind == "multi" else start)
    else:
        kwargs.setdefault("value", start)
    return widget(label, *args, key=key, bind="query-params", **kwargs)


def fact(
    container: object, label: str, value: str, note: str | None = None, help: str | None = None
) -> None:
    """A metric whose small line is a note about the value (grey, no arrow), not a change.

    ``container`` is ``st`` or a column; ``note`` says what the value is of ("longs",
    "3 rounds"), so it must not be coloured or arrowed like a rise or a fall.
    """
    container.metric(label, value, note, delta_color="off", delta_arrow="off", help=help)


def show_url_notices() -> None:
    """Tell the user which values of a shared link were ignored (once per session)."""
    if st.session_state.get("_url_checked"):
        return
    st.session_state["_url_checked"] = True
    notices = clean_query(_query_lists())[1]
    for notice in notices:
        st.toast(plain(notice), icon=":material/link_off:")
        st.session_state.setdefault("_url_notices", []).append(notice)


def _query_lists() -> dict[str, list[str]]:
    """Every URL parameter with all its values (``to_dict`` keeps only a key's last value)."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def script(code: str, markup: str = "") -> None:
    """Run JavaScript in the page, after ``markup`` (trusted HTML, written by the app).

    st.html sanitises with DOMPurify, which drops a script whose text has a ``<`` before a
    letter, digit or ``/``; such a ``<`` must be written ``\\u003c`` in the script.
    """
    if re.search(r"<[/\w]", code):
        msg = "the page's HTML sanitiser would drop this script: write its '<' as \\u003c"
        raise ValueError(msg)
    st.html(f"{markup}<script>{code}</script>", unsafe_allow_javascript=True)


# The link as the browser has it when the popover opens (a closed popover draws nothing):
# controls drawn after this one, such as the what-if move in its own fragment, keep the
# address up to date but do not rerun this part of the page.
_LIVE_LINK = """
(() => {
  const box = document.currentScript && document.currentScript.previousElementSibling;
  if (box && window.location.href.startsWith('http')) box.textContent = window.location.href;
})();
"""


def share_view() -> None:
    """A visible "Share this view" with the link that reopens this page with these settings."""
    base = st.context.url or ""
    base = base.split("?")[0]
    params = _query_lists()
    link = base + ("?" + urlencode(params, doseq=True) if params else "")
    with st.popover("Share this view", icon=":material/share:"):
        st.caption("This link reopens this page with the same data choice and settings.")
        shown = link or "(open the app in a browser to get a link)"
        script(
            _LIVE_LINK,
            markup=f'<code style="display:block; overflow-wrap:anywhere; user-select:all">'
            f"{html.escape(shown)}</code>",
        )


def footer() -> None:
    """The permanent one-line footer."""
    st.divider()
    st.caption(f":material/info: {FOOTER}")
