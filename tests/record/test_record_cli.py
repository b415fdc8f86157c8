"""``python -m liqcore.record`` on fake feeds: sides and USD per venue, SIGKILL, a second writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liqcore.record import LiquidationStore
from tests.record.fake_feeds import FakeFeeds, FakeInstruments, binance, bybit, okx

T = 1_736_944_496_000
ROOT = Path(__file__).parents[2]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liqcore.record", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


VENUES = {
    # exchange: (messages, expected (side, usd) in time order)
    "binance": (
        [binance(T, "SELL", 100_000.0, 0.5), binance(T + 1000, "BUY", 101_000.0, 0.1)],
        [("long", 50_000.0), ("short", 10_100.0)],
    ),
    "bybit": (
        [bybit([(T, "Buy", 100_000.0, 0.25), (T + 5, "Sell", 100_500.0, 0.02)])],
        [("long", 25_000.0), ("short", 2_010.0)],
    ),
    "okx": (
        [okx([(T, "buy", "short", 99_000.0, 3), (T + 9, "sell", "net", 98_000.0, 50)])],
        [("short", 2_970.0), ("long", 49_000.0)],
    ),
}


@pytest.mark.parametrize("exchange", list(VENUES))
def test_cli_records_each_venue_with_the_right_sides_and_usd(
    exchange: str, feeds: FakeFeeds, instruments: FakeInstruments, tmp_path: Path
) -> None:
    messages, expected = VENUES[exchange]
    feeds.play([*[("send", m) for m in messages]])
    db = tmp_path / "liq.duckdb"
    done = cli(
        f"--exchange={exchange}",
        "--symbol=BTC",
        f"--db={db}",
        f"--url={feeds.url}",
        f"--rest-url={instruments.url}",
        "--seconds=1.5",
    )
    assert done.returncode == 0, done.stderr
    assert f"into {db}" in done.stdout
    assert "Recorded 2 liquidation events" in done.stdout
    if exchange == "binance":
        assert "lower bound" in done.stdout
    store = LiquidationStore(db)
    events = store.events(exchange, "BTC")
    assert list(zip(events["side"], events["usd"].round(6), strict=True)) == expected
    assert len(store.coverage(exchange, "BTC")) == 1


def test_cli_explains_what_it_cannot_record(tmp_path: Path) -> None:
    done = cli("--exchange=hyperliquid", f"--db={tmp_path / 'x.duckdb'}")
    assert done.returncode == 2 and "no market-wide liquidation feed" in done.stderr
    done = cli("--exchange=kraken", f"--db={tmp_path / 'x.duckdb'}")
    assert done.returncode == 2 and "must be one of binance, bybit, okx" in done.stderr
    done = cli("--exchange=okx", "--rest-url=http://127.0.0.1:9", f"--db={tmp_path / 'x.duckdb'}")
    assert done.returncode == 2 and "Cannot record okx BTC" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigkill_mid_write_loses_at_most_the_last_second(feeds: FakeFeeds, tmp_path: Path) -> None:
    """A recorder killed while 400 events/s pour in leaves a file that opens, holding every
    event sent more than a second before the kill, and coverage up to within a second of it."""
    messages = [binance(T + i, "SELL", 100_000.0 + i, 0.001) for i in range(4000)]
    feeds.play([("stream", messages, 400)])
    db = tmp_path / "liq.duckdb"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liqcore.record",
            "--exchange=binance",
            f"--db={db}",
            f"--url={feeds.url}",
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(feeds.sent_at) < 1200 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait(10)
    sent = list(feeds.sent_at)
    assert len(sent) >= 1200, "the feed did not stream"
    store = LiquidationStore(db)  # opens: DuckDB replays its write-ahead log
    stored = len(store.events("binance", "BTC"))
    before_last_second = sum(1 for t in sent if t <= killed_at - 1.0)
    assert before_last_second <= stored <= len(sent)
    span_end = store.coverage("binance", "BTC")["end"].iloc[-1].timestamp()
    assert killed_at - 1.5 <= span_end <= killed_at


def test_a_second_recorder_on_the_same_file_gets_a_clear_message(
    feeds: FakeFeeds, tmp_path: Path
) -> None:
    db = tmp_path / "liq.duckdb"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liqcore.record",
            "--exchange=bybit",
            f"--db={db}",
            f"--url={feeds.url}",
            "--seconds=20",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Recording bybit BTC" in first.stdout.readline()
        time.sleep(1.0)
        second = cli("--exchange=bybit", f"--db={db}", f"--url={feeds.url}", "--seconds=1")
        assert second.returncode == 2
        assert f"is in use by process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=20)
    assert first.returncode == 0 and "Recorded 0 liquidation events" in out
    assert len(LiquidationStore(db).coverage("bybit", "BTC")) == 1
