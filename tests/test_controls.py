"""liqcore.controls: whatever a link carries, its values are cleaned or named, never raised."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.controls import CONTROLS, clean_query

_junk = st.one_of(
    st.text(max_size=60),
    st.lists(st.text(max_size=20), max_size=4),
    st.sampled_from(["nan", "inf", "-1e309", "1e309", "", " ", "%00", "<script>", "1,2,3"]),
)


@given(st.dictionaries(st.sampled_from(sorted(CONTROLS)), _junk, max_size=len(CONTROLS)))
@settings(max_examples=300, deadline=None)
def test_junk_in_every_url_parameter_is_explained_not_raised(raw: dict) -> None:
    values, notices = clean_query(raw)
    assert set(values) | {n.split("=")[0].removeprefix("Ignored ") for n in notices} >= set(raw)
    for key, value in values.items():
        control = CONTROLS[key]
        if control.kind in ("int", "float"):
            assert control.low <= value <= control.high
        elif control.kind == "choice":
            assert value in control.options
        elif control.kind == "multi":
            assert set(value) <= set(control.options)
    for notice in notices:
        assert notice.startswith("Ignored ") and "using the default" in notice


def test_the_link_values_are_valid() -> None:
    values, notices = clean_query({"src": "Real example", "coin": "SOL"})
    assert values == {"src": "Real example", "coin": "SOL"} and notices == []
    assert clean_query({"coin": "XRP"})[1]  # not a coin of the real example: a notice
