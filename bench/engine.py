"""Speed and memory benchmarks of the engine and the simulator: ``python bench/engine.py``.

Targets (from the engine issue): one year of 1-minute candles x 5 tiers x both
sides -> heatmap + levels + realized in <= 1.5 s and <= 500 MB peak; 30 days of
5-minute bars simulated in <= 1 s. Each case runs in a fresh process so its peak
memory is its own; times are the best of ``--repeat`` runs (the machines are shared).
Peak memory is reported twice: the process's peak resident set (includes the
~100 MB of numpy/pandas themselves) and the peak of memory allocated while the
case ran (tracemalloc, which numpy reports its arrays to). The resident peak is that of
one run (the kernel's high-water mark is reset before it), and includes what the
process held before the run: the interpreter, numpy/pandas and the input frame.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["synthetic_market"]


def synthetic_market(bars: int, interval: str = "1min", seed: int = 0) -> pd.DataFrame:
    """A random-walk market frame with wicks, volume and drifting open interest.

    Examples
    --------
    >>> frame = synthetic_market(100, "5min")
    >>> frame.shape, frame.index.tz is not None
    ((100, 6), True)
    """
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(interval)
    # ~60% annualised volatility whatever the interval.
    sigma = 0.6 * np.sqrt(step / pd.Timedelta(days=365))
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, bars)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    wick = np.abs(rng.normal(0.0, 0.6 * sigma, (2, bars)))
    high = np.maximum(open_, close) * (1.0 + wick[0])
    low = np.minimum(open_, close) * (1.0 - wick[1])
    index = pd.date_range("2025-01-01", periods=bars, freq=step, tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.uniform(5.0, 50.0, bars) * (step / pd.Timedelta("1min")),
            "open_interest": 2e9 * np.exp(np.cumsum(rng.normal(0.0, sigma / 2, bars))),
        },
        index=index,
    )


def _case(kind: str, label: str, bars: int, interval: str, repeat: int, queue: mp.Queue) -> None:
    from liqcore.model import estimate
    from liqcore.simulate import simulate

    if kind == "estimate":
        market = synthetic_market(bars, interval)

        def run() -> object:
            return estimate(market)
    else:
        days = bars * pd.Timedelta(interval) / pd.Timedelta(days=1)

        def run() -> object:
            return simulate(days=days, interval=interval, seed=0)

    run()  # warm-up: imports, page faults
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Peak resident memory of one run: reset the kernel's high-water mark first (Linux).
    before = _status_mb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
        run()
        rss_peak = _status_mb("VmHWM")
    except OSError:  # not Linux: the process's lifetime peak
        run()
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "case": label,
            "bars": bars,
            "best_s": round(min(times), 3),
            "median_s": round(float(np.median(times)), 3),
            "us_per_bar": round(min(times) / bars * 1e6, 2),
            "peak_alloc_mb": round(traced_peak / 2**20, 1),
            "peak_rss_mb": round(rss_peak, 1),
            "rss_before_mb": round(before, 1),
        }
    )


def _status_mb(field: str) -> float:
    """A memory figure from /proc/self/status in MB (0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


CASES = [
    ("estimate", "estimate 7d of 5m", 7 * 288, "5min"),
    ("estimate", "estimate 30d of 1m", 30 * 1440, "1min"),
    ("estimate", "estimate 1y of 1m", 365 * 1440, "1min"),
    ("simulate", "simulate 30d of 5m", 30 * 288, "5min"),
    ("simulate", "simulate 1y of 15m", 365 * 96, "15min"),
]


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark cases and print one line each (``--json`` for machine output)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="run cases whose label contains this text")
    args = parser.parse_args(argv)
    context = mp.get_context("spawn")
    results = []
    for kind, label, bars, interval in CASES:
        if args.only and args.only not in label:
            continue
        queue = context.Queue()
        process = context.Process(
            target=_case, args=(kind, label, bars, interval, args.repeat, queue)
        )
        process.start()
        result = queue.get()
        process.join()
        results.append(result)
        if not args.json:
            print(
                f"{result['case']:<22} {result['bars']:>8} bars  best {result['best_s']:6.3f} s  "
                f"median {result['median_s']:6.3f} s  {result['us_per_bar']:7.2f} us/bar  "
                f"peak alloc {result['peak_alloc_mb']:7.1f} MB  "
                f"peak RSS {result['peak_rss_mb']:7.1f} MB "
                f"(of which {result['rss_before_mb']:.0f} MB before the run: interpreter, "
                "libraries, input)",
                flush=True,
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
