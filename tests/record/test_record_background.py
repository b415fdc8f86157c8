"""Background recorders: one per market, shared; stopped cleanly when the process exits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from liqcore.record import LiquidationStore
from liqcore.record.background import BackgroundRecorders
from tests.record.fake_feeds import FakeFeeds, bybit

ROOT = Path(__file__).parents[2]


def test_one_recorder_per_market_and_stop_writes_the_last_batch(feeds: FakeFeeds) -> None:
    now = int(time.time() * 1000)
    feeds.play([("send", bybit([(now, "Buy", 100.0, 1.0)]))])
    store = LiquidationStore(":memory:")
    recorders = BackgroundRecorders(store, urls={"bybit": feeds.url})
    recorders.start("bybit", "btc")
    recorders.start("bybit", "BTC")  # already running: the same recorder
    deadline = time.monotonic() + 10
    while not recorders.status("bybit", "BTC").events and time.monotonic() < deadline:
        time.sleep(0.05)
    status = recorders.status("bybit", "BTCUSDT")
    assert status.running and status.connected and status.events == 1 and status.since
    assert feeds.connections == 1
    recorders.stop("bybit", "BTC")
    assert not recorders.status("bybit", "BTC").running
    assert len(store.coverage("bybit", "BTC")) == 1


def test_process_exit_stops_the_recorders_cleanly(feeds: FakeFeeds, tmp_path: Path) -> None:
    """A server that exits (as Streamlit does on Ctrl-C) closes its spans: atexit stops them."""
    now = int(time.time() * 1000)
    feeds.play([("send", bybit([(now, "Sell", 100.0, 2.0)]))])
    db = tmp_path / "liq.duckdb"
    code = (
        "import time; from liqcore.record import open_store\n"
        "from liqcore.record.background import BackgroundRecorders\n"
        f"r = BackgroundRecorders(open_store({str(db)!r}), urls={{'bybit': {feeds.url!r}}})\n"
        "r.start('bybit', 'BTC')\n"
        "t = time.monotonic()\n"
        "while r.status('bybit', 'BTC').events < 1 and time.monotonic() - t < 10:\n"
        "    time.sleep(0.05)\n"
        "time.sleep(1.2)\n"
        "print('exiting', time.time(), flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    exited = float(done.stdout.split()[-1])
    store = LiquidationStore(db)
    assert store.events("bybit", "BTC")["side"].tolist() == ["short"]
    end = store.coverage("bybit", "BTC")["end"].iloc[-1].timestamp()
    assert exited - 0.5 <= end <= exited + 5
    deadline = time.monotonic() + 5
    while not feeds.close_codes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert feeds.close_codes == [1000], "the recorder closed the connection, it was not cut off"
