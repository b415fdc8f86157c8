"""Hostile input: whatever a user uploads or types into a link, a clear message and no crash."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcore.controls import CONTROLS, clean_query
from liqcore.market import MAX_ROWS, load_market, validate_market

HEADER = "time,open,high,low,close,volume,open_interest\n"
GOOD_ROW = "{t},100,101,99,100.5,10,1000000\n"


def _load(data: bytes) -> pd.DataFrame | None:
    """load_market on an upload-like buffer: a frame, or None after a clear ValueError."""
    buffer = io.BytesIO(data)
    buffer.name = "upload.csv"
    try:
        frame = load_market(buffer)
    except ValueError as exc:
        message = str(exc)
        assert message, "an error must say what is wrong"
        assert "Traceback" not in message
        return None
    validate_market(frame)  # whatever comes back is a valid market frame
    return frame


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_never_crash(data: bytes) -> None:
    _load(data)


@given(st.text(max_size=1500))
@settings(max_examples=200, deadline=None)
def test_random_text_in_any_encoding_never_crashes(text: str) -> None:
    for encoding in ("utf-8", "utf-16", "latin-1"):
        _load(text.encode(encoding, errors="replace"))


_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "abc", "1,5", "NULL", "∞", "0x1F"]),
)
_time = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(
        [
            "2024-01-01T00:00:00Z",
            "2024-01-01 00:00:00+05:30",
            "2024-01-01T00:01:00-08:00",
            "2024-13-45",
            "yesterday",
            "",
            "1704067200",
            "1704067200000",
        ]
    ),
)


@given(st.lists(st.tuples(_time, *[_cell] * 6), min_size=0, max_size=25))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_csv_with_junk_values_gives_a_frame_or_a_message(rows: list[tuple]) -> None:
    body = HEADER + "".join(",".join(str(v) for v in row) + "\n" for row in rows)
    _load(body.encode())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (HEADER + GOOD_ROW.format(t=1704067200) * 2, "duplicate"),
        (
            HEADER + GOOD_ROW.format(t=1704067260) + GOOD_ROW.format(t=1704067200),
            "not sorted",
        ),
        (HEADER + GOOD_ROW.format(t=1704067200) + "1704067260,100,101,99,nan,10,1e6\n", "NaN"),
        (HEADER + GOOD_ROW.format(t=1704067200) + "1704067260,100,101,99,inf,10,1e6\n", "NaN"),
        (
            HEADER + GOOD_ROW.format(t=1704067200) + "1704067260,1e308,1e308,1e308,1e308,1,1\n",
            None,
        ),
        (
            "time,open,high,low,close,volume,open_interest\n"
            "2024-01-01T00:00:00+00:00,100,101,99,100,1,1\n"
            "2024-01-01T01:00:00+01:00,100,101,99,100,1,1\n",
            "duplicate",
        ),
    ],
)
def test_classic_mistakes_are_named(body: str, words: str | None) -> None:
    buffer = io.BytesIO(body.encode())
    buffer.name = "x.csv"
    if words is None:
        assert len(load_market(buffer)) == 2  # huge but finite numbers are still numbers
        return
    with pytest.raises(ValueError, match=words):
        load_market(buffer)


def test_a_million_rows_load_quickly_and_too_many_are_refused() -> None:
    n = 1_000_000
    times = 1_704_067_200 + 60 * np.arange(n)
    frame = pd.DataFrame(
        {
            "time": times,
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.5,
            "volume": 10.0,
            "open_interest": 1e6,
        }
    )
    data = frame.to_csv(index=False).encode()
    start = time.perf_counter()
    loaded = _load(data)
    elapsed = time.perf_counter() - start
    assert loaded is not None and len(loaded) == n
    assert elapsed < 60, f"a million rows took {elapsed:.1f} s"  # a hang guard, not a benchmark
    too_many = pd.concat([frame] * 3, ignore_index=True)
    too_many["time"] = 1_704_067_200 + 60 * np.arange(len(too_many))
    assert len(too_many) > MAX_ROWS
    buffer = io.BytesIO(too_many.to_csv(index=False).encode())
    buffer.name = "big.csv"
    with pytest.raises(ValueError, match="at most"):
        load_market(buffer)


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
