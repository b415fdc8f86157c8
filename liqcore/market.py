"""The market frame: one format for every data source.

A market frame is a :class:`pandas.DataFrame` indexed by bar open time (a UTC
``DatetimeIndex`` named ``time``, strictly increasing, one regular interval) with

=====================  ======================================================
column                 meaning
=====================  ======================================================
``open`` ``high``      prices in quote currency per unit of the base asset
``low`` ``close``
``volume``             base units traded in the bar
``open_interest``      USD notional of open contracts at the bar's close
``taker_buy_volume``   optional: base units bought by takers (aggressors)
``long_short_ratio``   optional: accounts long / accounts short
``funding_rate``       optional: funding rate per funding period (fraction)
``realized_long_usd``  optional: USD of long positions liquidated in the bar
``realized_short_usd`` optional: USD of short positions liquidated in the bar
=====================  ======================================================

:func:`validate_market` is the single gate every source passes through; it
raises :class:`ValueError` naming the column or row and what is wrong.
:func:`load_market` reads a CSV (or Parquet, if pyarrow is installed) into
this frame, matching column names case-insensitively and accepting common
aliases.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import IO

import numpy as np
import pandas as pd

__all__ = [
    "OPTIONAL_COLUMNS",
    "REALIZED_COLUMNS",
    "REQUIRED_COLUMNS",
    "bar_interval",
    "fill_gaps",
    "has_realized",
    "history_window",
    "interval_label",
    "load_market",
    "plausibility_warnings",
    "validate_market",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume", "open_interest")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "taker_buy_volume",
    "long_short_ratio",
    "funding_rate",
    "realized_long_usd",
    "realized_short_usd",
)
_NON_NEGATIVE = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "open_interest",
    "taker_buy_volume",
    "long_short_ratio",
    "realized_long_usd",
    "realized_short_usd",
)

# Lower-cased, stripped header -> canonical column. Canonical names map to themselves.
_ALIASES: dict[str, str] = {
    **{c: c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS},
    "time": "time",
    "timestamp": "time",
    "date": "time",
    "datetime": "time",
    "open_time": "time",
    "opentime": "time",
    "ts": "time",
    "t": "time",
    "o": "open",
    "h": "high",
    "l": "low",
    "c": "close",
    "v": "volume",
    "vol": "volume",
    "oi": "open_interest",
    "open_interest_usd": "open_interest",
    "openinterest": "open_interest",
    "oi_usd": "open_interest",
    "sumopeninterestvalue": "open_interest",
    "taker_buy_base": "taker_buy_volume",
    "taker_buy_base_volume": "taker_buy_volume",
    "takerbuybase": "taker_buy_volume",
    "long_short": "long_short_ratio",
    "longshortratio": "long_short_ratio",
    "ls_ratio": "long_short_ratio",
    "funding": "funding_rate",
    "fundingrate": "funding_rate",
    "long_liquidations_usd": "realized_long_usd",
    "short_liquidations_usd": "realized_short_usd",
    "long_liquidations": "realized_long_usd",
    "short_liquidations": "realized_short_usd",
    "liq_long_usd": "realized_long_usd",
    "liq_short_usd": "realized_short_usd",
}

#: Files larger than this are refused by :func:`load_market` before parsing.
MAX_ROWS = 2_000_000
#: The columns of realized (reported or, simulated, true) liquidations, longs then shorts.
REALIZED_COLUMNS: tuple[str, str] = ("realized_long_usd", "realized_short_usd")


def bar_interval(market: pd.DataFrame | pd.DatetimeIndex) -> pd.Timedelta:
    """Return the bar interval of a market frame (the most common time step).

    Parameters
    ----------
    market : DataFrame or DatetimeIndex
        A market frame or its index; needs at least two bars.

    Returns
    -------
    pandas.Timedelta

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="5min", tz="UTC")
    >>> bar_interval(idx)
    Timedelta('0 days 00:05:00')
    """
    index = market if isinstance(market, pd.DatetimeIndex) else market.index
    if len(index) < 2:
        msg = f"need at least two bars to know the interval, got {len(index)}"
        raise ValueError(msg)
    steps = np.diff(index.asi8)
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    # asi8 is in the index's unit (ns, us, ms or s in pandas 3); convert through the unit.
    return pd.Timedelta(step, unit=index.unit)


def _row_label(market: pd.DataFrame, position: int) -> str:
    """A bar named as a person finds it: counted from 1, with its time."""
    return f"bar {position + 1} (time {market.index[position]})"


def validate_market(market: pd.DataFrame) -> pd.DataFrame:
    """Check a market frame and return it with canonical dtypes.

    Parameters
    ----------
    market : DataFrame
        Candidate market frame (see the module docstring for the format).

    Returns
    -------
    DataFrame
        The same data, columns as ``float64``, index as UTC ``DatetimeIndex`` named ``time``.

    Raises
    ------
    ValueError
        With a message naming the column or row at fault: missing column, empty
        frame, non-numeric or NaN/inf value, negative price/volume/open interest,
        ``high`` below ``low`` or an open/close outside the bar's range, duplicate or
        unsorted times, irregular interval (gaps).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC", name="time")
    >>> frame = pd.DataFrame({"open": [10.0, 11, 12], "high": [11.0, 12, 13],
    ...     "low": [9.0, 10, 11], "close": [11.0, 12, 12.5], "volume": 1.0,
    ...     "open_interest": 1e6}, index=idx)
    >>> validate_market(frame).shape
    (3, 6)
    >>> validate_market(frame.drop(columns="volume"))
    Traceback (most recent call last):
    ...
    ValueError: missing column 'volume' (a market frame needs open, high, low, close, ...)
    """
    _check_shape(market)
    out = _with_utc_index(market)
    for column in out.columns:
        out[column] = _numeric_column(out, column)
    _check_bar_ranges(out)
    _check_taker_buys(out)
    _check_times(out)
    return out


def _check_shape(market: pd.DataFrame) -> None:
    """A DataFrame with the required columns, at least two bars and a time index."""
    if not isinstance(market, pd.DataFrame):
        msg = f"a market frame must be a pandas DataFrame, got {type(market).__name__}"
        raise ValueError(msg)
    for column in REQUIRED_COLUMNS:
        if column not in market.columns:
            msg = f"missing column {column!r} (a market frame needs {', '.join(REQUIRED_COLUMNS)})"
            raise ValueError(msg)
    if len(market) < 2:
        msg = f"a market frame needs at least 2 bars, got {len(market)}"
        raise ValueError(msg)
    if not isinstance(market.index, pd.DatetimeIndex):
        msg = "the index must be bar open times (DatetimeIndex)"
        raise ValueError(msg)


def _with_utc_index(market: pd.DataFrame) -> pd.DataFrame:
    """A copy of the known columns, indexed by UTC times named ``time``, none missing."""
    keep = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in market.columns]
    out = market[keep].copy()
    index = out.index
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    out.index = index.rename("time")
    if out.index.hasnans:
        position = int(np.flatnonzero(out.index.isna())[0])
        msg = f"bar {position + 1}: time is missing"
        raise ValueError(msg)
    return out


def _numeric_column(out: pd.DataFrame, column: str) -> pd.Series:
    """The column as finite ``float64`` (and not negative, where that is impossible)."""
    try:
        values = pd.to_numeric(out[column], errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        msg = f"column {column!r} is not numeric ({exc})"
        raise ValueError(msg) from None
    finite = np.isfinite(values.to_numpy())
    if not finite.all():
        position = int(np.flatnonzero(~finite)[0])
        msg = f"column {column!r} has NaN or infinite value at {_row_label(out, position)}"
        raise ValueError(msg)
    if column in _NON_NEGATIVE and (values.to_numpy() < 0).any():
        position = int(np.flatnonzero(values.to_numpy() < 0)[0])
        msg = (
            f"column {column!r} is negative ({values.iloc[position]}) at "
            f"{_row_label(out, position)}"
        )
        raise ValueError(msg)
    return values


def _check_bar_ranges(out: pd.DataFrame) -> None:
    """Prices above zero, ``low <= high``, the open and the close inside the bar's range."""
    high, low = out["high"].to_numpy(), out["low"].to_numpy()
    if (low <= 0).any():
        position = int(np.flatnonzero(low <= 0)[0])
        msg = f"column 'low' must be above zero, got {low[position]} at {_row_label(out, position)}"
        raise ValueError(msg)
    bad = high < low
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        msg = f"high < low ({high[position]} < {low[position]}) at {_row_label(out, position)}"
        raise ValueError(msg)
    tolerance = 1e-9 * high
    for column in ("open", "close"):
        values = out[column].to_numpy()
        outside = (values > high + tolerance) | (values < low - tolerance)
        if outside.any():
            position = int(np.flatnonzero(outside)[0])
            msg = (
                f"column {column!r} ({values[position]}) is outside the bar's low-high range "
                f"[{low[position]}, {high[position]}] at {_row_label(out, position)}"
            )
            raise ValueError(msg)


def _check_taker_buys(out: pd.DataFrame) -> None:
    """Taker buying is part of the volume: more than all of it is impossible.

    (It would also give a book with no shorts under the taker-flow split.)
    """
    if "taker_buy_volume" not in out.columns:
        return
    volume = out["volume"].to_numpy()
    over = out["taker_buy_volume"].to_numpy() > volume * (1 + 1e-6) + 1e-12
    if over.any():
        rows = np.flatnonzero(over)
        shown = ", ".join(_row_label(out, int(p)) for p in rows[:3])
        more = f" and {rows.size - 3} more" if rows.size > 3 else ""
        msg = (
            f"column 'taker_buy_volume' is above 'volume' in {rows.size} bars ({shown}{more}): "
            "taker buys are part of the bar's volume; check that both are in base units"
        )
        raise ValueError(msg)


def _check_times(out: pd.DataFrame) -> None:
    """Bar times strictly increasing at one regular interval (no duplicates, no gaps)."""
    steps = np.diff(out.index.asi8)
    if (steps == 0).any():
        position = int(np.flatnonzero(steps == 0)[0]) + 1
        msg = f"duplicate time at {_row_label(out, position)}"
        raise ValueError(msg)
    if (steps < 0).any():
        position = int(np.flatnonzero(steps < 0)[0]) + 1
        msg = f"times are not sorted: {_row_label(out, position)} comes before the bar above it"
        raise ValueError(msg)
    interval = int(np.min(steps))
    irregular = steps != interval
    if irregular.any():
        position = int(np.flatnonzero(irregular)[0])
        gap = pd.Timedelta(int(steps[position]), unit=out.index.unit)
        step = pd.Timedelta(interval, unit=out.index.unit)
        msg = (
            f"gap in times after {_row_label(out, position)}: next bar is {gap} later, "
            f"the interval is {step} (fill missing bars with fill_gaps)"
        )
        raise ValueError(msg)


#: Traded notional per day above this multiple of open interest means the open interest is
#: not in USD: real markets trade from a fraction of their open interest to ~30x it a day.
_OI_TURNOVER_LIMIT = 1000.0


def plausibility_warnings(market: pd.DataFrame) -> list[str]:
    """What in a valid market frame looks wrong, each with how to fix it.

    * open interest that looks like base units (coins), not USD: the day's traded
      notional is more than :data:`_OI_TURNOVER_LIMIT` times it, but would be plausible
      if it were multiplied by the price;
    * reported liquidations in a bar above the open interest before it.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=48, freq="1h", tz="UTC", name="time")
    >>> m = pd.DataFrame({"open": 60_000.0, "high": 60_100.0, "low": 59_900.0,
    ...     "close": 60_000.0, "volume": 500.0, "open_interest": 20_000.0}, index=idx)
    >>> print(plausibility_warnings(m)[0])  # doctest: +ELLIPSIS
    Open interest looks like base units (coins), not USD: ...
    >>> m["open_interest"] *= 60_000.0
    >>> plausibility_warnings(m)
    []
    """
    notes: list[str] = []
    oi = market["open_interest"].to_numpy()
    close = market["close"].to_numpy()
    step = bar_interval(market)
    bars_per_day = max(pd.Timedelta(days=1) / step, 1.0)
    daily_notional = float(np.median(market["volume"].to_numpy() * close)) * bars_per_day
    typical_oi = float(np.median(oi))
    as_usd = typical_oi * float(np.median(close))
    if (
        typical_oi > 0
        and daily_notional > _OI_TURNOVER_LIMIT * typical_oi
        and daily_notional <= _OI_TURNOVER_LIMIT * as_usd
    ):
        notes.append(
            "Open interest looks like base units (coins), not USD: a typical day's traded "
            f"notional is {daily_notional / typical_oi:,.0f} times the open interest. The "
            "estimate needs open interest "
            "in USD: multiply the column by the price (open_interest × close) and load it again."
        )
    if has_realized(market):
        reported = market["realized_long_usd"].to_numpy() + market["realized_short_usd"].to_numpy()
        before = np.concatenate([[oi[0]], oi[:-1]])
        over = np.flatnonzero(reported > np.maximum(before, oi))
        if over.size:
            notes.append(
                f"Reported liquidations exceed the open interest in {over.size} bars (first: "
                f"{_row_label(market, int(over[0]))}): a market cannot liquidate more than is "
                "open. Check that both are USD (not coins or contracts) and from the same "
                "market; the scores against them are not trustworthy until then."
            )
    return notes


def fill_gaps(market: pd.DataFrame, interval: pd.Timedelta | str | None = None) -> pd.DataFrame:
    """Insert missing bars so the frame has one regular interval.

    A missing bar is flat at the previous close with zero volume; open interest and
    the optional rate/ratio columns are carried forward, realized liquidations are zero.

    Parameters
    ----------
    market : DataFrame
        Frame indexed by UTC bar open times, sorted, without duplicates.
    interval : Timedelta or str, optional
        The bar interval; inferred (most common step) when omitted.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> idx = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:02"], utc=True)
    >>> frame = pd.DataFrame({"open": [1.0, 2.0], "high": [1.0, 2.0], "low": [1.0, 2.0],
    ...     "close": [1.0, 2.0], "volume": [5.0, 5.0], "open_interest": [9.0, 9.0]}, index=idx)
    >>> fill_gaps(frame, "1min")["volume"].tolist()
    [5.0, 0.0, 5.0]
    """
    step = bar_interval(market) if interval is None else pd.Timedelta(interval)
    full = pd.date_range(market.index[0], market.index[-1], freq=step, name="time")
    if len(full) == len(market):
        return market.rename_axis("time")
    out = market.reindex(full)
    missing = out["close"].isna()
    close = out["close"].ffill()
    for column in ("open", "high", "low"):
        out[column] = out[column].where(~missing, close)
    out["close"] = close
    zero_fill = ["volume", "taker_buy_volume", "realized_long_usd", "realized_short_usd"]
    for column in zero_fill:
        if column in out.columns:
            out[column] = out[column].fillna(0.0)
    for column in ("open_interest", "long_short_ratio", "funding_rate"):
        if column in out.columns:
            out[column] = out[column].ffill()
    return out


def _canonical_columns(columns: Iterable[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for original in columns:
        key = str(original).strip().lower().replace(" ", "_").replace("-", "_")
        canonical = _ALIASES.get(key)
        if canonical is not None and canonical not in taken:
            mapping[original] = canonical
            taken.add(canonical)
    return mapping


def _parse_times(raw: pd.Series) -> pd.DatetimeIndex:
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        values = numeric.to_numpy(dtype="float64")
        magnitude = np.nanmedian(np.abs(values)) if len(values) else 0
        # Epoch seconds are ~1.7e9 today, milliseconds ~1.7e12, microseconds ~1.7e15.
        if magnitude < 1e11:
            unit = "s"
        elif magnitude < 1e14:
            unit = "ms"
        elif magnitude < 1e17:
            unit = "us"
        else:
            unit = "ns"
        times = pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
    else:
        times = pd.to_datetime(raw.astype(str), utc=True, errors="coerce", format="mixed")
    times = pd.DatetimeIndex(times)
    if times.hasnans:
        position = int(np.flatnonzero(times.isna())[0])
        msg = f"bar {position + 1}: cannot read the time {raw.iloc[position]!r}"
        raise ValueError(msg)
    return times.rename("time")


def load_market(path_or_buffer: str | os.PathLike[str] | IO[bytes] | IO[str]) -> pd.DataFrame:
    """Read a CSV (or Parquet) file into a validated market frame.

    Column names are matched case-insensitively; common aliases are accepted
    (``timestamp``/``date`` for the time, ``oi``/``open_interest_usd`` for open
    interest, ``o/h/l/c/v``...). Times may be ISO strings or epoch seconds or
    milliseconds. Missing bars are **not** filled: a gap is an error, so a user
    sees that their file has holes.

    Parameters
    ----------
    path_or_buffer : path or file-like
        A ``.csv`` or ``.parquet`` path, or an open file / bytes buffer.

    Returns
    -------
    DataFrame
        A frame that passed :func:`validate_market`.

    Raises
    ------
    ValueError
        A human-readable reason when the file cannot become a market frame.

    Examples
    --------
    >>> csv = io.StringIO(
    ...     "Timestamp,Open,High,Low,Close,Volume,OI\\n"
    ...     "1704067200000,100,101,99,100.5,12,5e6\\n"
    ...     "1704067260000,100.5,102,100,101,8,5.1e6\\n")
    >>> frame = load_market(csv)
    >>> list(frame.columns), str(frame.index[1])
    (['open', 'high', 'low', 'close', 'volume', 'open_interest'], '2024-01-01 00:01:00+00:00')
    """
    raw = _read_table(path_or_buffer)
    if raw.empty:
        msg = "the file has no rows"
        raise ValueError(msg)
    if len(raw) > MAX_ROWS:
        msg = f"the file has {len(raw):,} rows; at most {MAX_ROWS:,} are supported"
        raise ValueError(msg)
    mapping = _canonical_columns(raw.columns)
    frame = raw.rename(columns=mapping)[list(mapping.values())]
    if "time" not in frame.columns:
        if isinstance(raw.index, pd.DatetimeIndex):
            frame = frame.set_index(raw.index)
        else:
            msg = (
                "no time column: name one of time, timestamp, date, datetime, open_time "
                f"(found columns: {', '.join(map(str, raw.columns[:12]))})"
            )
            raise ValueError(msg)
    else:
        times = _parse_times(frame.pop("time"))
        frame.index = times
    return validate_market(frame)


def _read_table(path_or_buffer: str | os.PathLike[str] | IO[bytes] | IO[str]) -> pd.DataFrame:
    name = str(getattr(path_or_buffer, "name", path_or_buffer)).lower()
    if hasattr(path_or_buffer, "read"):
        data = path_or_buffer.read()
    else:
        if name.endswith(".parquet"):
            return _read_parquet(path_or_buffer)
        try:
            with open(path_or_buffer, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            msg = f"could not open the file: {exc}"
            raise ValueError(msg) from None
    if isinstance(data, bytes):
        if data[:4] == b"PAR1" or name.endswith(".parquet"):
            return _read_parquet(io.BytesIO(data))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            msg = "the file is not UTF-8 text (expected a CSV or a Parquet file)"
            raise ValueError(msg) from None
    else:
        text = str(data)
    if "\x00" in text:
        msg = "the file holds binary data, not CSV text"
        raise ValueError(msg)
    try:
        # Sniff the delimiter on the first lines only, then let pandas' C parser read it all
        # (the python engine's own sniffing is ~20x slower on a million rows).
        return pd.read_csv(io.StringIO(text), sep=_delimiter(text), engine="c", nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        msg = f"could not read the file as CSV: {exc}"
        raise ValueError(msg) from None


def _delimiter(text: str) -> str:
    """The CSV delimiter (comma, semicolon, tab or pipe) guessed from the first lines."""
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_parquet(source: object) -> pd.DataFrame:
    try:
        return pd.read_parquet(source)
    except ImportError:
        msg = "reading Parquet needs pyarrow (pip install pyarrow); CSV works without it"
        raise ValueError(msg) from None
    except Exception as exc:  # pyarrow raises many types for corrupt files
        msg = f"could not read the file as Parquet: {exc}"
        raise ValueError(msg) from None


def has_realized(market: pd.DataFrame) -> bool:
    """Whether the frame carries realized liquidations (both :data:`REALIZED_COLUMNS`).

    Examples
    --------
    >>> has_realized(pd.DataFrame(columns=["close", *REALIZED_COLUMNS]))
    True
    """
    return set(REALIZED_COLUMNS) <= set(market.columns)


def interval_label(step: pd.Timedelta) -> str:
    """A bar interval in traders' words: ``15m``, ``1h``, ``1d`` (not ``0 days 00:15:00``).

    Examples
    --------
    >>> interval_label(pd.Timedelta(minutes=15)), interval_label(pd.Timedelta(days=1))
    ('15m', '1d')
    """
    seconds = int(step.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


#: The least history the estimate gets before a view's window: positions opened before the
#: window still count. Longer timeframes get a quarter of their length.
WARM_UP = pd.Timedelta(days=30)


def history_window(
    market: pd.DataFrame, hours: float, label: str | None = None
) -> tuple[pd.DataFrame, pd.Timestamp, str | None]:
    """The slice of history a view of the last ``hours`` needs: the window plus a warm-up.

    Parameters
    ----------
    market : DataFrame
        A market frame.
    hours : float
        The view's length (a value of :data:`liqcore.controls.TIMEFRAMES`).
    label : str, optional
        The timeframe's name, for the note.

    Returns
    -------
    history : DataFrame
        The window and up to ``max(30 days, hours / 4)`` before it.
    start : Timestamp
        The window's first time.
    note : str or None
        Set when the data is shorter than the view (it is never silently truncated).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=24 * 60, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"close": 1.0}, index=idx)
    >>> history, start, note = history_window(m, 168, "1w")
    >>> len(history) // 24, str(start), note
    (37, '2024-02-22 23:00:00+00:00', None)
    >>> history_window(m.iloc[:48], 168, "1w")[2]
    'The data covers 47 hours, less than the 1w timeframe: showing all of it.'
    """
    end = market.index[-1]
    start = end - pd.Timedelta(hours=hours)
    note = None
    # One bar of slack: 365 days of 15m bars span 365 days less one bar.
    if start < market.index[0] - bar_interval(market):
        covered = (end - market.index[0]).total_seconds() / 3600
        note = (
            f"The data covers {covered:.0f} hours, less than the "
            f"{label or f'{hours:g}h'} timeframe: showing all of it."
        )
    start = max(start, market.index[0])
    warm_up = max(WARM_UP, pd.Timedelta(hours=hours) * 0.25)
    return market.loc[max(start - warm_up, market.index[0]) :], start, note
