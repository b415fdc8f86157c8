"""The page frame: every page runs inside the router, whichever URL opened it.

Streamlit treats a ``pages/`` folder beside the entrypoint as its *legacy* multipage
mode until some session has called ``st.navigation``. The design keeps ``pages/`` (the
four pages live there), so the very first visitor of a fresh server who opens a shared
link such as ``/heatmap`` would get the bare page, without the sidebar and settings.
:func:`ensure_app_frame`, called first by every page, switches that mode off and reruns
through ``streamlit_app.py``.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["ensure_app_frame", "first_page_view"]


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
