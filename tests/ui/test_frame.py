"""ui.frame: only the session's first page counts as its first view."""

from __future__ import annotations

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
