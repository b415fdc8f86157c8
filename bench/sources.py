"""How long the exchange layer takes: the first fetch of a 1w view and a repeat from cache.

Each venue of :data:`liqcore.EXCHANGES` is fetched through the fake exchange of the tests
(``tests/sources/fake_exchange.py``) on 127.0.0.1, with the real settings (timeouts,
retries, ccxt's own request spacing), as the Heatmap asks for a 1w view: twice the
timeframe, so two weeks at the interval chosen for them. "first" includes loading the
venue's market list; the import of ccxt (paid once per process, by the first live fetch)
is measured on its own; "repeat" is the median of five reruns served from the cache.
Nothing here reaches the internet.

Run: ``.venv/bin/python bench/sources.py`` (``--venues okx,gate`` for some of them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "sources"))

from fake_exchange import FakeExchange

from liqcore import EXCHANGES, fetch_market
from liqcore.sources import base

#: The span the Heatmap fetches for its 1w view (pages/common.py: twice the timeframe).
SPAN = pd.Timedelta(weeks=2)
FIRST_BUDGET_S = 3.0
REPEAT_BUDGET_S = 0.050
REPEATS = 5  # the repeat's figure is the median of these (a busy machine adds outliers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venues", default=",".join(v.name for v in EXCHANGES))
    args = parser.parse_args()
    fake = FakeExchange(now_ms=base.now_ms()).start()
    started = time.perf_counter()
    import ccxt  # noqa: F401  (what the first live fetch of a process pays)

    print(f"import ccxt: {time.perf_counter() - started:.2f} s (once per process)")
    print(f"{'venue':<12} {'bars':>5} {'requests':>8} {'first':>8} {'repeat':>9}  budget")
    for name in args.venues.split(","):
        started = time.perf_counter()
        frame = fetch_market(name, "BTC", SPAN, base_url=fake.url)
        first = time.perf_counter() - started
        repeats = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            again = fetch_market(name, "BTC", SPAN, base_url=fake.url)
            repeats.append(time.perf_counter() - started)
            assert again.attrs["from_cache"], f"{name}: the repeat was not served from the cache"
        repeat = statistics.median(repeats)
        ok = first <= FIRST_BUDGET_S and repeat <= REPEAT_BUDGET_S
        print(
            f"{name:<12} {len(frame):>5} {frame.attrs['requests']:>8} {first:>7.2f}s "
            f"{repeat * 1000:>7.1f}ms  {'ok' if ok else 'OVER'}"
        )
    fake.stop()


if __name__ == "__main__":
    main()
