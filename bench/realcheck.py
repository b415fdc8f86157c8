"""``make realcheck``: the model against the naive baseline on the real example, printed.

Run ``python bench/realcheck.py`` (``--classic`` also scores the model before issue 10:
discrete tiers, isolated margin, one close rate). Scores are rank correlations over days
(the reported liquidations are daily totals); see :func:`liqcore.analysis.real_scores.realcheck`.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from liqcore.analysis.real_scores import pooled, realcheck
from liqcore.model import ModelParams


def _show(title: str, params: ModelParams) -> None:
    started = time.perf_counter()
    table = realcheck(params)
    seconds = time.perf_counter() - started
    print(f"\n== {title} ({seconds:.1f} s)")
    with pd.option_context(
        "display.width", 160, "display.max_columns", 10, "display.float_format", "{:.3f}".format
    ):
        print(table)
    for bars in ("1h", "4h"):
        means = pooled(table, bars)
        wins = int(table.xs(bars, level=1)["model_beats_baseline"].sum())
        print(
            f"pooled, model run on {bars} bars: model {means['model']:.3f} · naive baseline "
            f"{means['baseline']:.3f} · distance-only {means['reference']:.3f} · model beats "
            f"the better reference on {wins} of 6 coin-sides"
        )


def main(argv: list[str] | None = None) -> None:
    """Print the real-data check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classic", action="store_true", help="also score the classic model")
    args = parser.parse_args(argv)
    print(
        "Real example (Binance prices/volume, Hyperliquid OI and daily liquidations). "
        "Spearman over reported days from the 4th on; no intraday truth."
    )
    _show("default model", ModelParams())
    if args.classic:
        _show("classic model", ModelParams.classic())


if __name__ == "__main__":
    main()
