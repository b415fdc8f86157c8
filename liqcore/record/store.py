"""The DuckDB file of recorded liquidations: schema, batched writes, coverage, per-period bars.

Two tables::

    liquidations(exchange, symbol, time TIMESTAMPTZ, side, price, quantity, usd)
    coverage(exchange, symbol, start TIMESTAMPTZ, "end" TIMESTAMPTZ)

``side`` is the side of the position that was liquidated (``'long'``/``'short'``),
``quantity`` in base units, ``usd = price × quantity``. A coverage row is one span the
recorder was connected and subscribed; outside every span nothing is known (a gap is
*not* zero liquidations). ``liquidations`` has a primary key over all its identifying
columns and is written with ``INSERT OR IGNORE``, so an event a reconnect replays is
stored once.

Each :meth:`LiquidationStore.write` is one transaction (events and the span's new end
together), so a recorder killed mid-write loses at most its unwritten batch and leaves a
file DuckDB opens. DuckDB lets one process hold a file read-write: a second process gets
:class:`StoreLocked` with a clear message. Inside a process there is one connection per
file (:func:`open_store`), and every thread works through its own cursor.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from liqcore.record.feeds import Event

__all__ = [
    "DB_ENV",
    "LiquidationStore",
    "StoreLocked",
    "default_db_path",
    "open_store",
]

#: Environment variable naming the database file (the app and ``python -m liqcore.record``).
DB_ENV = "LIQSTUDIO_RECORD_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS liquidations (
    exchange VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    side VARCHAR NOT NULL CHECK (side IN ('long', 'short')),
    price DOUBLE NOT NULL,
    quantity DOUBLE NOT NULL,
    usd DOUBLE NOT NULL,
    PRIMARY KEY (exchange, symbol, time, side, price, quantity)
);
CREATE TABLE IF NOT EXISTS coverage (
    exchange VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    start TIMESTAMPTZ NOT NULL,
    "end" TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (exchange, symbol, start)
);
"""

#: Spans closer than this (ms) are one span. Zero: even a quick reconnect may have missed
#: events, so its gap stays (the figure leaves out gaps thinner than a bar).
JOIN_MS = 0


class StoreLocked(RuntimeError):
    """The database file is held read-write by another process (DuckDB allows one)."""


def default_db_path() -> Path:
    """Where recordings go unless told otherwise: ``$LIQSTUDIO_RECORD_DB``, else the data folder.

    The data folder is ``$XDG_DATA_HOME/liqstudio`` (``~/.local/share/liqstudio`` when
    unset); on Windows ``%LOCALAPPDATA%\\liqstudio``.

    Examples
    --------
    >>> default_db_path().suffix
    '.duckdb'
    """
    explicit = os.environ.get(DB_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        root = Path(os.environ["LOCALAPPDATA"])
    else:
        root = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return root / "liqstudio" / "liquidations.duckdb"


def _locked_message(path: Path, exc: BaseException) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (
        f"The recordings file {path} is in use by {holder} (a recorder or the app). DuckDB "
        "lets one process write a file: stop that one, or record into another file with --db."
    )


def _ms(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[us]").astype("int64") // 1000


def _as_utc(when: datetime | pd.Timestamp | float | int) -> datetime:
    if isinstance(when, int | float):
        return datetime.fromtimestamp(when, UTC)
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


class LiquidationStore:
    """One DuckDB file of recorded liquidations; thread-safe through per-thread cursors.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder), or ``":memory:"``.

    Raises
    ------
    StoreLocked
        Another process holds the file.

    Examples
    --------
    >>> store = LiquidationStore(":memory:")
    >>> span = store.open_span("bybit", "BTC", 1_700_000_000.0)
    >>> store.write("bybit", "BTC", [(1_700_000_000_500, "long", 40_000.0, 0.5)],
    ...             span=(span, 1_700_000_001.0))
    1
    >>> store.events("bybit", "BTC")[["side", "price", "quantity", "usd"]]
       side    price  quantity      usd
    0  long  40000.0       0.5  20000.0
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(_locked_message(Path(path), exc)) from exc
            raise
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute(_SCHEMA)
        self._local = threading.local()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        if self._closed:
            msg = f"the recordings file {self.path} is closed"
            raise RuntimeError(msg)
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cursor
        return cursor

    def close(self) -> None:
        """Close the file (checkpointing the write-ahead log)."""
        if not self._closed:
            self._closed = True
            self._connection.close()

    # -- writing -----------------------------------------------------------------

    def open_span(self, exchange: str, symbol: str, start: float) -> float:
        """Start a coverage span at ``start`` (seconds since the epoch); returns its key."""
        at = _as_utc(start)
        self.cursor().execute(
            "INSERT OR IGNORE INTO coverage VALUES (?, ?, ?, ?)", [exchange, symbol, at, at]
        )
        return start

    def write(
        self,
        exchange: str,
        symbol: str,
        events: Sequence[Event],
        *,
        span: tuple[float, float] | None = None,
    ) -> int:
        """Store a batch of events and extend a coverage span, in one transaction.

        Parameters
        ----------
        exchange, symbol : str
        events : sequence of (time_ms, side, price, quantity)
            ``quantity`` in base units; events already stored are skipped.
        span : (start, end), optional
            The span opened by :meth:`open_span` (its key ``start``) and its new end,
            seconds since the epoch.

        Returns
        -------
        int
            Events in the batch (before de-duplication against the file).
        """
        cursor = self.cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            if events:
                batch = pd.DataFrame(events, columns=["ms", "side", "price", "quantity"])
                batch = batch.drop_duplicates(ignore_index=True)
                cursor.register("batch", batch)
                cursor.execute(
                    "INSERT OR IGNORE INTO liquidations SELECT ?, ?, epoch_ms(ms)::TIMESTAMPTZ, "
                    "side, price, quantity, price * quantity FROM batch",
                    [exchange, symbol],
                )
                cursor.unregister("batch")
            if span is not None:
                cursor.execute(
                    'UPDATE coverage SET "end" = greatest("end", ?) '
                    "WHERE exchange = ? AND symbol = ? AND start = ?",
                    [_as_utc(span[1]), exchange, symbol, _as_utc(span[0])],
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return len(events)

    # -- reading -----------------------------------------------------------------

    def _where(self, start: object, end: object) -> tuple[str, list[object]]:
        clauses, params = [], []
        if start is not None:
            clauses.append("time >= ?")
            params.append(_as_utc(start))
        if end is not None:
            clauses.append("time < ?")
            params.append(_as_utc(end))
        return "".join(f" AND {c}" for c in clauses), params

    def events(
        self, exchange: str, symbol: str, start: object = None, end: object = None
    ) -> pd.DataFrame:
        """Recorded events of one market in ``[start, end)``, oldest first.

        Returns
        -------
        DataFrame
            ``time`` (UTC), ``side``, ``price``, ``quantity`` (base units), ``usd``.
        """
        where, params = self._where(start, end)
        data = (
            self.cursor()
            .execute(
                "SELECT epoch_ms(time) AS ms, side, price, quantity, usd FROM liquidations "
                f"WHERE exchange = ? AND symbol = ?{where} ORDER BY time, side, price",
                [exchange, symbol, *params],
            )
            .fetchnumpy()
        )
        frame = pd.DataFrame({k: np.asarray(v) for k, v in data.items()})
        frame.insert(
            0, "time", pd.to_datetime(frame.pop("ms").astype("int64"), unit="ms", utc=True)
        )
        return frame

    def coverage(
        self, exchange: str, symbol: str, start: object = None, end: object = None
    ) -> pd.DataFrame:
        """Connected spans of one market overlapping ``[start, end)``, merged, oldest first.

        Spans that overlap or touch are one span.

        Returns
        -------
        DataFrame
            ``start`` and ``end`` (UTC timestamps).

        Examples
        --------
        >>> store = LiquidationStore(":memory:")
        >>> for start, end in ((0, 60), (50, 120), (300, 360)):
        ...     key = store.open_span("okx", "BTC", 1_700_000_000 + start)
        ...     _ = store.write("okx", "BTC", [], span=(key, 1_700_000_000 + end))
        >>> store.coverage("okx", "BTC").map(lambda t: t.strftime("%H:%M:%S"))
              start       end
        0  22:13:20  22:15:20
        1  22:18:20  22:19:20
        >>> store.recording_since("okx", "BTC")
        Timestamp('2023-11-14 22:18:20+0000', tz='UTC')
        """
        clauses, params = "", []
        if start is not None:
            clauses += ' AND "end" >= ?'
            params.append(_as_utc(start))
        if end is not None:
            clauses += " AND start < ?"
            params.append(_as_utc(end))
        data = (
            self.cursor()
            .execute(
                'SELECT epoch_ms(start) AS s, epoch_ms("end") AS e FROM coverage '
                f"WHERE exchange = ? AND symbol = ?{clauses} ORDER BY start",
                [exchange, symbol, *params],
            )
            .fetchnumpy()
        )
        starts, ends = merge_spans(np.asarray(data["s"], "int64"), np.asarray(data["e"], "int64"))
        return pd.DataFrame(
            {
                "start": pd.to_datetime(starts, unit="ms", utc=True),
                "end": pd.to_datetime(ends, unit="ms", utc=True),
            }
        )

    def recording_since(self, exchange: str, symbol: str) -> pd.Timestamp | None:
        """Start of the latest coverage span of a market, or None if never recorded.

        Examples
        --------
        >>> LiquidationStore(":memory:").recording_since("bybit", "BTC") is None
        True
        """
        row = (
            self.cursor()
            .execute(
                "SELECT epoch_ms(max(start)) FROM coverage WHERE exchange = ? AND symbol = ?",
                [exchange, symbol],
            )
            .fetchone()
        )
        return None if row is None or row[0] is None else pd.Timestamp(row[0], unit="ms", tz="UTC")

    def bars(
        self, exchange: str, symbol: str, start: object, end: object, period: str
    ) -> pd.DataFrame:
        """USD liquidated per period of one market, with how much of each period was recorded.

        Parameters
        ----------
        exchange, symbol : str
        start, end : timestamp-like
            The window; periods start on the clock (UTC) from the one holding ``start``.
        period : str
            A pandas offset of fixed length (``"15min"``, ``"1h"``, ``"4h"``, ``"1D"``).

        Returns
        -------
        DataFrame
            Indexed by period start (``time``): ``long_usd``, ``short_usd``,
            ``total_usd``, ``events`` and ``covered`` (the share of the period the
            recorder was connected, 0-1). Amounts are **NaN** where ``covered`` is 0:
            nothing is known there, which is not the same as nothing liquidated.

        Examples
        --------
        >>> store = LiquidationStore(":memory:")
        >>> t0 = pd.Timestamp("2024-01-01", tz="UTC").timestamp()
        >>> key = store.open_span("okx", "BTC", t0)
        >>> _ = store.write("okx", "BTC", [(int(t0 * 1000) + 60_000, "short", 100.0, 2.0)],
        ...                 span=(key, t0 + 1800))
        >>> store.bars("okx", "BTC", "2024-01-01", "2024-01-01 02:00", "1h")
                                   long_usd  short_usd  total_usd  events  covered
        time
        2024-01-01 00:00:00+00:00       0.0      200.0      200.0       1      0.5
        2024-01-01 01:00:00+00:00       NaN        NaN        NaN       0      0.0
        """
        step_ms = int(pd.Timedelta(pd.tseries.frequencies.to_offset(period)).total_seconds() * 1000)
        lo = int(_as_utc(start).timestamp() * 1000) // step_ms * step_ms
        hi = int(_as_utc(end).timestamp() * 1000)
        periods = max((hi - lo + step_ms - 1) // step_ms, 0)
        buckets = lo + step_ms * np.arange(periods, dtype="int64")
        data = (
            self.cursor()
            .execute(
                "SELECT (epoch_ms(time) - ?) // ? AS k, "
                "sum(usd) FILTER (WHERE side = 'long') AS l, "
                "sum(usd) FILTER (WHERE side = 'short') AS s, count(*) AS n "
                "FROM liquidations WHERE exchange = ? AND symbol = ? AND time >= ? AND time < ? "
                "GROUP BY k",
                [lo, step_ms, exchange, symbol, _as_utc(lo / 1000), _as_utc(hi / 1000)],
            )
            .fetchnumpy()
        )
        k = np.asarray(data["k"], "int64")
        long_usd = np.zeros(periods)
        short_usd = np.zeros(periods)
        count = np.zeros(periods, "int64")
        long_usd[k] = np.nan_to_num(np.asarray(data["l"], "float64"))
        short_usd[k] = np.nan_to_num(np.asarray(data["s"], "float64"))
        count[k] = np.asarray(data["n"], "int64")
        spans = self.coverage(exchange, symbol, lo / 1000, hi / 1000)
        covered = covered_share(buckets, step_ms, _ms(spans["start"]), _ms(spans["end"]))
        unknown = (covered <= 0) & (count == 0)
        long_usd[unknown] = np.nan
        short_usd[unknown] = np.nan
        frame = pd.DataFrame(
            {
                "long_usd": long_usd,
                "short_usd": short_usd,
                "total_usd": long_usd + short_usd,
                "events": count,
                "covered": covered,
            },
            index=pd.DatetimeIndex(pd.to_datetime(buckets, unit="ms", utc=True), name="time"),
        )
        return frame


def merge_spans(
    starts: np.ndarray, ends: np.ndarray, join: int = JOIN_MS
) -> tuple[np.ndarray, np.ndarray]:
    """Merge overlapping (or nearly touching) spans; inputs need not be sorted.

    Examples
    --------
    >>> merge_spans(np.array([0, 5, 20]), np.array([10, 12, 30]), join=3)
    (array([ 0, 20]), array([12, 30]))
    """
    if len(starts) == 0:
        return starts.astype("int64"), ends.astype("int64")
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new = np.r_[True, starts[1:] > reach[:-1] + join]
    groups = np.cumsum(new) - 1
    merged_ends = np.zeros(groups[-1] + 1, dtype=ends.dtype)
    np.maximum.at(merged_ends, groups, ends)
    return starts[new], merged_ends


def covered_share(
    buckets: np.ndarray, step_ms: int, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Share (0-1) of each period ``[b, b + step)`` inside the (disjoint) spans.

    Examples
    --------
    >>> covered_share(np.array([0, 10, 20]), 10, np.array([5]), np.array([15]))
    array([0.5, 0.5, 0. ])
    """
    if len(buckets) == 0 or len(starts) == 0:
        return np.zeros(len(buckets))
    lo = np.maximum(buckets[:, None], starts[None, :])
    hi = np.minimum(buckets[:, None] + step_ms, ends[None, :])
    return np.clip(hi - lo, 0, None).sum(axis=1) / step_ms


_STORES: dict[str, LiquidationStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: str | Path | None = None) -> LiquidationStore:
    """The process's one store of ``path`` (default :func:`default_db_path`), opened once.

    The app's pages and its background recorders share it; every thread uses its own
    cursor (:meth:`LiquidationStore.cursor`).

    Raises
    ------
    StoreLocked
        Another process holds the file.
    """
    resolved = Path(path).expanduser() if path is not None else default_db_path()
    key = str(resolved.resolve()) if str(resolved) != ":memory:" else ":memory:"
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None or store.closed:
            store = LiquidationStore(resolved)
            _STORES[key] = store
        return store
