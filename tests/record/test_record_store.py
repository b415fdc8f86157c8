"""The DuckDB file: exact schema, de-duplication, coverage and gaps, one writer process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from liqcore.record.store import LiquidationStore, StoreLocked, open_store

T0 = pd.Timestamp("2025-01-15 00:00", tz="UTC").timestamp()


def test_tables_have_exactly_the_documented_columns(tmp_path: Path) -> None:
    store = LiquidationStore(tmp_path / "liq.duckdb")
    columns = (
        store.cursor()
        .execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        )
        .fetchall()
    )
    assert columns == [
        ("coverage", "exchange", "VARCHAR"),
        ("coverage", "symbol", "VARCHAR"),
        ("coverage", "start", "TIMESTAMP WITH TIME ZONE"),
        ("coverage", "end", "TIMESTAMP WITH TIME ZONE"),
        ("liquidations", "exchange", "VARCHAR"),
        ("liquidations", "symbol", "VARCHAR"),
        ("liquidations", "time", "TIMESTAMP WITH TIME ZONE"),
        ("liquidations", "side", "VARCHAR"),
        ("liquidations", "price", "DOUBLE"),
        ("liquidations", "quantity", "DOUBLE"),
        ("liquidations", "usd", "DOUBLE"),
    ]


def test_replayed_events_are_stored_once_and_usd_is_price_times_quantity() -> None:
    store = LiquidationStore(":memory:")
    ms = int(T0 * 1000)
    batch = [(ms, "long", 100.0, 2.0), (ms, "long", 100.0, 2.0), (ms + 5, "short", 50.0, 1.5)]
    store.write("bybit", "BTC", batch)
    store.write("bybit", "BTC", batch[1:])  # a reconnect replays them
    events = store.events("bybit", "BTC")
    assert events["usd"].tolist() == [200.0, 75.0]
    assert str(events["time"].iloc[0]) == "2025-01-15 00:00:00+00:00"
    # The same event on another venue is another event.
    store.write("okx", "BTC", batch[:1])
    assert len(store.events("okx", "BTC")) == 1


def test_a_failed_batch_leaves_nothing_half_written() -> None:
    store = LiquidationStore(":memory:")
    key = store.open_span("okx", "BTC", T0)
    with pytest.raises(duckdb.ConstraintException):
        store.write(
            "okx", "BTC", [(1, "long", 1.0, 1.0), (2, "sideways", 1.0, 1.0)], span=(key, T0 + 60)
        )
    assert store.events("okx", "BTC").empty
    assert store.coverage("okx", "BTC")["end"].iloc[0] == pd.Timestamp(T0, unit="s", tz="UTC")


def test_gaps_are_unknown_not_zero_and_partial_periods_say_how_much_was_recorded() -> None:
    store = LiquidationStore(":memory:")
    first = store.open_span("binance", "BTC", T0)
    store.write(
        "binance", "BTC", [(int(T0 * 1000) + 1000, "long", 10.0, 1.0)], span=(first, T0 + 3600)
    )
    second = store.open_span("binance", "BTC", T0 + 3 * 3600 + 900)
    store.write("binance", "BTC", [], span=(second, T0 + 4 * 3600))
    bars = store.bars("binance", "BTC", T0, T0 + 4 * 3600, "1h")
    assert bars["covered"].tolist() == [1.0, 0.0, 0.0, 0.75]
    assert bars["long_usd"].iloc[0] == 10.0
    assert bars["long_usd"].iloc[1:3].isna().all(), "a gap must not read as zero"
    assert bars["long_usd"].iloc[3] == 0.0  # recorded, and nothing happened
    spans = store.coverage("binance", "BTC")
    assert len(spans) == 2


def test_bars_sum_every_event_into_its_clock_period() -> None:
    rng = np.random.default_rng(3)
    ms = (T0 * 1000 + rng.integers(0, 86_400_000, 2000)).astype("int64")
    sides = rng.choice(["long", "short"], 2000)
    usd = rng.uniform(1, 1000, 2000)
    events = [(int(t), str(s), float(u), 1.0) for t, s, u in zip(ms, sides, usd, strict=True)]
    store = LiquidationStore(":memory:")
    store.write("okx", "BTC", events)
    span = store.open_span("okx", "BTC", T0)
    store.write("okx", "BTC", [], span=(span, T0 + 86_400))
    bars = store.bars("okx", "BTC", T0, T0 + 86_400, "4h")
    frame = pd.DataFrame({"side": sides, "usd": usd}, index=pd.to_datetime(ms, unit="ms", utc=True))
    expected = frame[frame.side == "long"]["usd"].resample("4h").sum()
    np.testing.assert_allclose(bars["long_usd"].to_numpy(), expected.to_numpy())
    assert bars["events"].sum() == 2000


def test_one_connection_per_process_and_a_second_process_gets_a_clear_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "liq.duckdb"
    store = open_store(path)
    assert open_store(path) is store
    code = (
        "import sys; from liqcore.record.store import LiquidationStore, StoreLocked\n"
        f"try:\n    LiquidationStore({str(path)!r})\n"
        "except StoreLocked as exc:\n    print(exc); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "is in use by process" in done.stdout and "--db" in done.stdout
    store.close()
    assert isinstance(StoreLocked("x"), RuntimeError)
