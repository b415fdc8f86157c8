"""ui.frame: only the session's first page counts as its first view; every page is guarded."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest


def test_only_the_sessions_first_page_counts_as_its_first_view() -> None:
    def script() -> None:
        import streamlit as st

        from ui.frame import first_page_view

        st.write(f"first: {first_page_view(st.session_state.get('where', 'heatmap'))}")

    at = AppTest.from_function(script).run()
    assert at.markdown[0].value == "first: True"
    assert at.run().markdown[0].value == "first: True"  # a rerun of the same page
    at.session_state["where"] = "accuracy"
    assert at.run().markdown[0].value == "first: False"
    at.session_state["where"] = "heatmap"  # back again: the sidebar is left alone now
    assert at.run().markdown[0].value == "first: False"


def test_every_registered_page_runs_inside_the_router() -> None:
    # A shared link to any page may be a fresh server's first visit: each page the router
    # registers must call the guard at module level, before it draws anything.
    root = Path(__file__).parents[2]
    registered = re.findall(r'st\.Page\("(pages/\w+\.py)"', (root / "streamlit_app.py").read_text())
    assert sorted(registered) == sorted(f"pages/{p.name}" for p in (root / "pages").glob("*.py"))
    for page in registered:
        tree = ast.parse((root / page).read_text())
        calls = [
            node.value.func.id
            for node in tree.body
            if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
        ]
        assert "ensure_app_frame" in calls, f"{page} does not call ensure_app_frame()"
