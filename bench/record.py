"""Benchmark of the liquidation recorder: events stored per second, and a week read into bars.

    .venv/bin/python bench/record.py [--events 100000] [--week-events 604800]
    taskset -c 0 .venv/bin/python bench/record.py   # everything (server too) on one core

1. **Throughput**: a loopback websocket server (its own process) sends ``--events``
   Binance ``forceOrder`` messages (one event each, the venue's worst case) as fast as it
   can; the recorder (this process, one thread) parses and stores them into a DuckDB
   file in ≤ 1 s transactions. Reported: events stored per second of wall time and
   per second of the recorder's CPU time. Target ≥ 5,000 events/s.
2. **Reading**: a week of one symbol's events (604,800 by default: Binance's ceiling of
   one per second) is stored, then read into per-period bars with their coverage
   (:meth:`LiquidationStore.bars`) for 15m, 1h, 4h and 1d. Reported: the median of 7
   reads. Target ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from liqcore.record import LiquidationStore, Recorder, feed

T0 = 1_736_294_400_000  # 2025-01-08 00:00 UTC, ms


def _messages(count: int) -> list[str]:
    rng = np.random.default_rng(0)
    prices = 95_000 + np.cumsum(rng.normal(0, 5, count))
    out = []
    for i in range(count):
        qty = f"{0.001 + (i % 997) * 0.001:.3f}"
        out.append(
            json.dumps(
                {
                    "e": "forceOrder",
                    "E": T0 + i * 10 + 3,
                    "o": {
                        "s": "BTCUSDT",
                        "S": "SELL" if i % 2 else "BUY",
                        "o": "LIMIT",
                        "f": "IOC",
                        "q": qty,
                        "p": f"{prices[i] * 0.995:.2f}",
                        "ap": f"{prices[i]:.2f}",
                        "X": "FILLED",
                        "l": qty,
                        "z": qty,
                        "T": T0 + i * 10,
                    },
                }
            )
        )
    return out


def _serve(count: int, port_queue: multiprocessing.Queue) -> None:
    from websockets.asyncio.server import serve

    messages = _messages(count)

    async def handler(conn) -> None:
        await conn.recv()  # the subscription
        for message in messages:
            await conn.send(message)
        await conn.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
            port_queue.put(next(iter(server.sockets)).getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


def throughput(count: int) -> dict[str, float]:
    """Events/s stored from a loopback server sending ``count`` messages."""
    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(count, ports), daemon=True)
    server.start()
    port = ports.get(timeout=60)
    with tempfile.TemporaryDirectory() as tmp:
        store = LiquidationStore(Path(tmp) / "bench.duckdb")
        recorder = Recorder(feed("binance"), "BTC", store, url=f"ws://127.0.0.1:{port}/ws")

        async def run() -> tuple[float, float]:
            stop = asyncio.Event()

            async def watch() -> None:
                while recorder.stats.events < count:
                    await asyncio.sleep(0.01)
                stop.set()

            watcher = asyncio.create_task(watch())
            wall, cpu = time.perf_counter(), time.process_time()
            await recorder.run(stop, seconds=600)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            watcher.cancel()
            return wall, cpu

        wall, cpu = asyncio.run(run())
        stored = len(store.events("binance", "BTC"))
        store.close()
    server.terminate()
    return {
        "events": stored,
        "wall_s": wall,
        "events_per_s": stored / wall,
        "events_per_cpu_s": stored / cpu,
    }


def read_week(count: int) -> dict[str, float]:
    """Median ms to read a week of ``count`` events into bars, per period."""
    week_ms = 7 * 86_400_000
    rng = np.random.default_rng(1)
    times = np.sort(T0 + rng.choice(week_ms, count, replace=False))
    sides = np.where(rng.random(count) < 0.5, "long", "short")
    prices = 95_000 + rng.normal(0, 500, count)
    qty = rng.lognormal(-4, 1.5, count)
    out: dict[str, float] = {"events": float(count)}
    with tempfile.TemporaryDirectory() as tmp:
        store = LiquidationStore(Path(tmp) / "week.duckdb")
        chunk = 100_000
        for lo in range(0, count, chunk):
            batch = list(
                zip(
                    times[lo : lo + chunk].tolist(),
                    sides[lo : lo + chunk].tolist(),
                    prices[lo : lo + chunk].tolist(),
                    qty[lo : lo + chunk].tolist(),
                    strict=True,
                )
            )
            store.write("binance", "BTC", batch)
        key = store.open_span("binance", "BTC", T0 / 1000)
        store.write("binance", "BTC", [], span=(key, (T0 + week_ms) / 1000))
        start, end = T0 / 1000, (T0 + week_ms) / 1000
        for period in ("15min", "1h", "4h", "1D"):
            store.bars("binance", "BTC", start, end, period)  # warm
            runs = []
            for _ in range(7):
                t = time.perf_counter()
                bars = store.bars("binance", "BTC", start, end, period)
                runs.append((time.perf_counter() - t) * 1000)
            assert int(bars["events"].sum()) == count
            out[f"bars_{period}_ms"] = statistics.median(runs)
        store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--week-events", type=int, default=604_800)
    args = parser.parse_args()
    flow = throughput(args.events)
    print(
        f"throughput: {flow['events']:,.0f} events stored in {flow['wall_s']:.2f} s = "
        f"{flow['events_per_s']:,.0f} events/s wall, {flow['events_per_cpu_s']:,.0f} "
        "events per recorder CPU second (target >= 5,000/s)"
    )
    week = read_week(args.week_events)
    reads = ", ".join(f"{k.split('_')[1]} {v:.1f} ms" for k, v in week.items() if k != "events")
    print(
        f"read a week ({week['events']:,.0f} events) into bars: {reads} (median of 7; "
        "target <= 100 ms)"
    )


if __name__ == "__main__":
    main()
