"""Tests of the market frame: the validator's rules, the loader, gap filling, hostile uploads."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcore import market as market_module
from liqcore.market import (
    MAX_ROWS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    bar_interval,
    fill_gaps,
    load_market,
    plausibility_warnings,
    validate_market,
)
from tests.strategies import market_frames

HEADER = "time,open,high,low,close,volume,open_interest"


ROWS = [
    "100,101,99,100.5,12,5e6",
    "100.5,102,100,101,8,5.1e6",
    "101,103,100,102,9,5.2e6",
]


EPOCH_S = [1704067200, 1704070800, 1704074400]  # 2024-01-01 00:00, 01:00, 02:00 UTC


HOURS_UTC = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC", name="time")


def _frame(n: int = 5, freq: str = "1h", **columns: object) -> pd.DataFrame:
    """A valid market frame of ``n`` bars (UTC index), with columns overridden."""
    index = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="time")
    close = 100.0 + np.arange(n, dtype="float64")
    frame = pd.DataFrame(
        {
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": 10.0,
            "open_interest": 1e6,
        },
        index=index,
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def _with(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    out = frame.copy()
    if not isinstance(value, float | int):
        out[column] = out[column].astype(object)
    out.iloc[row, out.columns.get_loc(column)] = value
    return out


def _csv(times: list[object], sep: str = ",", header: str = HEADER) -> str:
    lines = [header.replace(",", sep)]
    lines += [sep.join([str(t), *row.split(",")]) for t, row in zip(times, ROWS, strict=True)]
    return "\n".join(lines) + "\n"


def test_valid_frame_passes_with_canonical_dtypes() -> None:
    frame = _frame(volume=np.arange(1, 6), taker_buy_volume=1.0, symbol="BTCUSDT")
    out = validate_market(frame)
    assert list(out.columns) == [*REQUIRED_COLUMNS, "taker_buy_volume"]  # unknown columns dropped
    assert (out.dtypes == "float64").all()
    assert out.index.name == "time" and str(out.index.tz) == "UTC"
    assert "symbol" in frame.columns  # the input is not modified


@given(market_frames())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_markets_are_valid(market: pd.DataFrame) -> None:
    # The model tests rely on the strategy producing frames the validator accepts unchanged.
    pd.testing.assert_frame_equal(validate_market(market), market, check_freq=False)


def test_not_a_dataframe() -> None:
    with pytest.raises(ValueError, match="must be a pandas DataFrame, got list"):
        validate_market([1, 2, 3])  # type: ignore[arg-type]


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_missing_column_is_named(column: str) -> None:
    with pytest.raises(ValueError, match=f"missing column '{column}'"):
        validate_market(_frame().drop(columns=column))


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_bars(n: int) -> None:
    with pytest.raises(ValueError, match=f"at least 2 bars, got {n}"):
        validate_market(_frame(3).iloc[:n])


def test_index_must_be_times() -> None:
    with pytest.raises(ValueError, match="index must be bar open times"):
        validate_market(_frame().reset_index(drop=True))


def test_missing_time_names_the_row() -> None:
    frame = _frame()
    frame.index = frame.index.insert(2, pd.NaT).delete(3)
    with pytest.raises(ValueError, match="bar 3: time is missing"):
        validate_market(frame)


def test_naive_index_is_read_as_utc() -> None:
    frame = _frame()
    naive = frame.tz_localize(None)
    out = validate_market(naive)
    assert str(out.index.tz) == "UTC"
    assert out.index.equals(frame.index)
    assert naive.index.tz is None


def test_other_timezone_is_converted_to_utc() -> None:
    frame = _frame().tz_convert("Asia/Tokyo")
    out = validate_market(frame)
    assert str(out.index.tz) == "UTC"
    assert out.index[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_non_numeric_column_is_named() -> None:
    frame = _with(_frame(), "volume", 1, "12k")
    with pytest.raises(ValueError, match="column 'volume' is not numeric"):
        validate_market(frame)


def test_numeric_strings_are_accepted() -> None:
    frame = _frame()
    frame["volume"] = ["1.5", "2", "3e1", "0", "7"]
    assert validate_market(frame)["volume"].tolist() == [1.5, 2.0, 30.0, 0.0, 7.0]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, None])
@pytest.mark.parametrize("column", ["close", "open_interest", "long_short_ratio"])
def test_nan_or_infinite_value_names_column_and_row(column: str, value: object) -> None:
    frame = _with(_frame(long_short_ratio=1.0), column, 3, value)
    with pytest.raises(
        ValueError, match=rf"column '{column}' has NaN or infinite value at bar 4 \(time 2024-"
    ):
        validate_market(frame)


@pytest.mark.parametrize(
    "column",
    ["volume", "open_interest", "taker_buy_volume", "long_short_ratio", "realized_long_usd"],
)
def test_negative_value_names_column_and_row(column: str) -> None:
    frame = _frame(taker_buy_volume=1.0, long_short_ratio=1.0, realized_long_usd=0.0)
    frame = _with(frame, column, 2, -5.0)
    with pytest.raises(ValueError, match=rf"column '{column}' is negative \(-5.0\) at bar 3"):
        validate_market(frame)


def test_negative_price_is_named() -> None:
    frame = _frame()
    frame.iloc[1, :4] = [-1.0, 1.0, -2.0, -1.0]
    with pytest.raises(ValueError, match=r"column 'open' is negative \(-1.0\) at bar 2"):
        validate_market(frame)


def test_negative_funding_rate_is_fine() -> None:
    assert validate_market(_frame(funding_rate=-0.0001))["funding_rate"].iloc[0] == -0.0001


def test_zero_low_is_rejected() -> None:
    frame = _frame()
    frame.iloc[4, :4] = [0.0, 1.0, 0.0, 0.5]
    with pytest.raises(ValueError, match=r"column 'low' must be above zero, got 0\.0 at bar 5"):
        validate_market(frame)


def test_high_below_low_names_the_row() -> None:
    frame = _with(_frame(), "high", 2, 50.0)
    with pytest.raises(ValueError, match=r"high < low \(50.0 < 101.0\) at bar 3"):
        validate_market(frame)


@pytest.mark.parametrize(("column", "value"), [("open", 200.0), ("open", 50.0), ("close", 500.0)])
def test_open_or_close_outside_the_bar_range(column: str, value: float) -> None:
    frame = _with(_frame(), column, 1, value)
    with pytest.raises(
        ValueError, match=rf"column '{column}' \({value}\) is outside the bar's low-high .*bar 2"
    ):
        validate_market(frame)


def test_open_a_hair_outside_the_range_is_tolerated() -> None:
    # Exchanges round prices; a relative 1e-12 overshoot is not an error.
    frame = _with(_frame(), "close", 1, 102.0 * (1 + 1e-12))
    assert validate_market(frame)["close"].iloc[1] == pytest.approx(102.0)


def test_duplicate_time_names_the_row() -> None:
    frame = _frame()
    frame.index = frame.index[[0, 1, 1, 2, 3]]
    with pytest.raises(ValueError, match=r"duplicate time at bar 3 \(time 2024-01-01 01:00"):
        validate_market(frame)


def test_unsorted_times_name_the_row() -> None:
    frame = _frame()
    frame.index = frame.index[[0, 1, 3, 2, 4]]
    with pytest.raises(ValueError, match=r"times are not sorted: bar 4 .* before the bar above"):
        validate_market(frame)


def test_gap_names_the_row_and_points_to_fill_gaps() -> None:
    frame = _frame(6).drop(index=_frame(6).index[3])
    with pytest.raises(
        ValueError,
        match=r"gap in times after bar 3 .*next bar is 0 days 02:00:00 later, the interval is "
        r"0 days 01:00:00 \(fill missing bars with fill_gaps\)",
    ):
        validate_market(frame)


def test_irregular_interval_is_rejected() -> None:
    frame = _frame()
    frame.index = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 02:30",
         "2024-01-01 03:30"],
        tz="UTC",
    )  # fmt: skip
    with pytest.raises(ValueError, match="gap in times after bar 1"):
        validate_market(frame)


def test_load_csv_with_aliases_and_odd_case() -> None:
    text = (
        "Timestamp,OPEN, High ,low,Close,Vol,OI,Taker_Buy_Base,Long-Short,Symbol\n"
        "1704067200000,100,101,99,100.5,12,5e6,6,1.2,BTC\n"
        "1704067260000,100.5,102,100,101,8,5.1e6,3,1.1,BTC\n"
    )
    frame = load_market(io.StringIO(text))
    assert list(frame.columns) == [*REQUIRED_COLUMNS, "taker_buy_volume", "long_short_ratio"]
    assert frame["open_interest"].tolist() == [5e6, 5.1e6]
    assert frame["long_short_ratio"].tolist() == [1.2, 1.1]
    assert frame.index[1] == pd.Timestamp("2024-01-01 00:01", tz="UTC")


@pytest.mark.parametrize(
    "header",
    [
        "date,o,h,l,c,v,open_interest_usd",
        "open_time,Open,High,Low,Close,Volume,sumOpenInterestValue",
        "DateTime,open,high,low,close,volume,Open Interest",
    ],
)
def test_load_csv_other_aliases(header: str) -> None:
    frame = load_market(io.StringIO(_csv(EPOCH_S, header=header)))
    assert list(frame.columns) == list(REQUIRED_COLUMNS)
    assert frame.index.equals(HOURS_UTC)


@pytest.mark.parametrize(
    "times",
    [
        [t * 1000 for t in EPOCH_S],  # epoch milliseconds
        EPOCH_S,  # epoch seconds
        [f"{t}.0" for t in EPOCH_S],  # epoch seconds as floats
        ["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00"],  # naive: UTC
        ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"],
        ["2024-01-01T02:00:00+02:00", "2024-01-01T03:00:00+02:00", "2024-01-01T04:00:00+02:00"],
    ],
)
def test_load_csv_time_formats(times: list[object]) -> None:
    frame = load_market(io.StringIO(_csv(times)))
    assert frame.index.equals(HOURS_UTC)
    assert frame.index.name == "time"


def test_load_semicolon_separated_file() -> None:
    frame = load_market(io.StringIO(_csv(EPOCH_S, sep=";")))
    assert frame["close"].tolist() == [100.5, 101.0, 102.0]
    assert frame.index.equals(HOURS_UTC)


def test_load_bytes_like_a_streamlit_upload() -> None:
    upload = io.BytesIO(("\ufeff" + _csv(EPOCH_S)).encode("utf-8"))  # with a BOM, as Excel saves
    upload.name = "BTCUSDT-1h.CSV"
    frame = load_market(upload)
    assert list(frame.columns) == list(REQUIRED_COLUMNS)
    assert frame.index.equals(HOURS_UTC)


def test_load_paths_and_open_files(tmp_path: Path) -> None:
    path = tmp_path / "market.csv"
    path.write_text(_csv(EPOCH_S))
    expected = load_market(io.StringIO(_csv(EPOCH_S)))
    for source in (path, str(path)):
        pd.testing.assert_frame_equal(load_market(source), expected)
    with path.open("rb") as binary, path.open() as text:
        pd.testing.assert_frame_equal(load_market(binary), expected)
        pd.testing.assert_frame_equal(load_market(text), expected)


def test_csv_round_trip_of_a_market_frame(tmp_path: Path) -> None:
    frame = validate_market(_frame(taker_buy_volume=4.0, funding_rate=0.0001))
    path = tmp_path / "market.csv"
    frame.to_csv(path)
    pd.testing.assert_frame_equal(load_market(path), frame, check_freq=False)


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = validate_market(_frame(long_short_ratio=1.3))
    path = tmp_path / "market.parquet"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(load_market(path), frame, check_freq=False)
    # Uploaded bytes: recognised by name or by the Parquet magic number.
    for name in ("market.parquet", None):
        upload = io.BytesIO(path.read_bytes())
        if name:
            upload.name = name
        pd.testing.assert_frame_equal(load_market(upload), frame, check_freq=False)
    # Time stored as a column instead of the index.
    as_column = tmp_path / "column.parquet"
    frame.reset_index().to_parquet(as_column)
    pd.testing.assert_frame_equal(load_market(as_column), frame, check_freq=False)


def test_corrupt_parquet_is_a_clear_error() -> None:
    upload = io.BytesIO(b"PAR1 this is not really parquet")
    with pytest.raises(ValueError, match="could not read the file as Parquet"):
        load_market(upload)


def test_non_utf8_bytes_are_a_clear_error() -> None:
    upload = io.BytesIO(_csv(EPOCH_S).replace("time", "zeït").encode("latin-1"))
    upload.name = "market.csv"
    with pytest.raises(ValueError, match="not UTF-8 text"):
        load_market(upload)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "could not read the file as CSV"),
        (HEADER.encode() + b"\n", "the file has no rows"),
    ],
)
def test_empty_file(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_market(io.BytesIO(content))


def test_no_time_column_lists_what_was_found() -> None:
    text = "when,open,high,low,close,volume,open_interest\n" + "\n".join(
        f"{t},{row}" for t, row in zip(EPOCH_S, ROWS, strict=True)
    )
    with pytest.raises(
        ValueError, match=r"no time column: .*found columns: when, open, high, low, close"
    ):
        load_market(io.StringIO(text))


def test_unreadable_time_names_the_row() -> None:
    with pytest.raises(ValueError, match="bar 2: cannot read the time 'yesterday'"):
        load_market(io.StringIO(_csv(["2024-01-01", "yesterday", "2024-01-03"])))


def test_loaded_file_is_validated() -> None:
    text = _csv(EPOCH_S).replace("101,103,100,102", "101,99,100,102")  # high < low in row 2
    with pytest.raises(ValueError, match=r"high < low \(99.0 < 100.0\) at bar 3"):
        load_market(io.StringIO(text))
    with pytest.raises(ValueError, match="missing column 'open_interest'"):
        load_market(io.StringIO(_csv(EPOCH_S, header=HEADER.replace("open_interest", "oops"))))


def test_gaps_in_a_file_are_reported_not_filled() -> None:
    times = [EPOCH_S[0], EPOCH_S[1], EPOCH_S[1] + 7200]
    with pytest.raises(ValueError, match="gap in times after bar 2"):
        load_market(io.StringIO(_csv(times)))


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "MAX_ROWS", 2)
    with pytest.raises(ValueError, match="the file has 3 rows; at most 2 are supported"):
        load_market(io.StringIO(_csv(EPOCH_S)))


def test_fill_gaps_inserts_flat_bars() -> None:
    full = _frame(
        6,
        taker_buy_volume=4.0,
        long_short_ratio=np.arange(6.0),
        funding_rate=0.0001,
        realized_long_usd=5.0,
        realized_short_usd=7.0,
    )
    holes = full.drop(index=full.index[[2, 3]])
    filled = fill_gaps(holes)
    assert filled.index.equals(full.index)
    assert filled.index.name == "time"
    missing = filled.iloc[2:4]
    previous_close = full["close"].iloc[1]
    for column in ("open", "high", "low", "close"):
        assert (missing[column] == previous_close).all()
    for column in ("volume", "taker_buy_volume", "realized_long_usd", "realized_short_usd"):
        assert (missing[column] == 0).all()
    assert (missing["open_interest"] == full["open_interest"].iloc[1]).all()
    assert (missing["long_short_ratio"] == 1.0).all()  # carried forward
    assert (missing["funding_rate"] == 0.0001).all()
    pd.testing.assert_frame_equal(filled.drop(index=full.index[[2, 3]]), holes, check_freq=False)
    validate_market(filled)  # the result is a valid market frame


def test_fill_gaps_with_an_explicit_interval() -> None:
    frame = _frame(3, freq="2min")
    filled = fill_gaps(frame, "1min")
    assert len(filled) == 5
    assert filled["volume"].tolist() == [10.0, 0.0, 10.0, 0.0, 10.0]
    assert bar_interval(validate_market(filled)) == pd.Timedelta("1min")


def test_fill_gaps_leaves_a_complete_frame_alone() -> None:
    frame = _frame().rename_axis(None)
    filled = fill_gaps(frame)
    assert filled.index.name == "time"
    pd.testing.assert_frame_equal(filled, frame.rename_axis("time"))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_bar_interval_in_any_time_unit(unit: str) -> None:
    index = pd.date_range("2024-01-01", periods=4, freq="5min", tz="UTC").as_unit(unit)
    assert bar_interval(index) == pd.Timedelta("5min")
    assert bar_interval(pd.DataFrame(index=index)) == pd.Timedelta("5min")


def test_bar_interval_is_the_most_common_step() -> None:
    index = pd.DatetimeIndex(
        ["2024-01-01 00:00", "2024-01-01 00:15", "2024-01-01 00:30", "2024-01-01 01:30"], tz="UTC"
    )
    assert bar_interval(index) == pd.Timedelta("15min")


def test_bar_interval_needs_two_bars() -> None:
    with pytest.raises(ValueError, match="at least two bars to know the interval, got 1"):
        bar_interval(pd.date_range("2024-01-01", periods=1, freq="1h"))


def test_optional_columns_are_known() -> None:
    assert set(OPTIONAL_COLUMNS) >= {"taker_buy_volume", "long_short_ratio", "funding_rate"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 19), min_size=1, max_size=6, unique=True), st.floats(1.01, 5.0))
def test_taker_buys_above_volume_are_refused_naming_the_rows(
    rows: list[int], factor: float
) -> None:
    frame = _frame(20, taker_buy_volume=5.0)
    frame.iloc[rows, frame.columns.get_loc("taker_buy_volume")] = 10.0 * factor
    text = io.StringIO(frame.reset_index().to_csv(index=False))
    with pytest.raises(ValueError, match=f"above 'volume' in {len(rows)} bars") as info:
        load_market(text)
    first = sorted(rows)[0]
    assert f"bar {first + 1} " in str(info.value)
    assert "base units" in str(info.value)


def test_taker_buys_equal_to_volume_are_fine() -> None:
    assert len(validate_market(_frame(taker_buy_volume=10.0))) == 5


def test_open_interest_in_coins_gets_a_warning_that_says_how_to_fix_it() -> None:
    frame = _frame(48, volume=400.0).assign(open_interest=1.5e4)
    frame[["open", "high", "low", "close"]] *= 600.0  # a 60,000 USD coin
    notes = plausibility_warnings(frame)
    assert len(notes) == 1 and "base units" in notes[0] and "open_interest × close" in notes[0]
    usd = frame.assign(open_interest=frame["open_interest"] * frame["close"])
    assert plausibility_warnings(usd) == []


def test_liquidations_above_open_interest_get_a_warning() -> None:
    frame = _frame(10, realized_long_usd=1e3, realized_short_usd=0.0)
    assert plausibility_warnings(frame) == []
    frame.iloc[4, frame.columns.get_loc("realized_long_usd")] = 3e6
    notes = plausibility_warnings(frame)
    assert len(notes) == 1 and "exceed the open interest in 1 bars" in notes[0]
    assert "bar 5" in notes[0]


HEADER_ROW = "time,open,high,low,close,volume,open_interest\n"


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
    body = HEADER_ROW + "".join(",".join(str(v) for v in row) + "\n" for row in rows)
    _load(body.encode())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (HEADER_ROW + GOOD_ROW.format(t=1704067200) * 2, "duplicate"),
        (
            HEADER_ROW + GOOD_ROW.format(t=1704067260) + GOOD_ROW.format(t=1704067200),
            "not sorted",
        ),
        (HEADER_ROW + GOOD_ROW.format(t=1704067200) + "1704067260,100,101,99,nan,10,1e6\n", "NaN"),
        (HEADER_ROW + GOOD_ROW.format(t=1704067200) + "1704067260,100,101,99,inf,10,1e6\n", "NaN"),
        (
            HEADER_ROW + GOOD_ROW.format(t=1704067200) + "1704067260,1e308,1e308,1e308,1e308,1,1\n",
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
