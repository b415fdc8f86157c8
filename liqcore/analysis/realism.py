"""How much the simulated market behaves like a real one: stylized facts against real references.

``python -m liqcore.analysis.realism`` (``make realism``) simulates the default market (365 days
of 15m bars, seeds 0-2), resamples each to hourly bars, measures every fact of
:data:`FACTS` with :func:`stylized_facts`, takes the median over the seeds and prints
it next to the real reference and the band the simulated market must stay in. It
exits with status 1 when a fact is outside its band.

Real references: the price facts are from Binance BTCUSDT hourly candles, 2025-01 to
2026-04 (:data:`BINANCE_BTC_1H`, measured for issue 9 of this project); the
liquidation shares are computed here from ``../shared/real/hyperliquid-2025-12``
(Hyperliquid daily liquidations over Hyperliquid open interest, BTC; see its
SOURCES.md) when that folder is present, otherwise the figures measured on it
(:data:`HYPERLIQUID_BTC`); the 4-hour naive-baseline Spearman figures are from a
real BTC set of reported liquidations, Oct 2025 - Apr 2026 (:data:`REPORTED_BTC_4H`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "BINANCE_BTC_1H",
    "FACTS",
    "HYPERLIQUID_BTC",
    "REAL_DIR",
    "REPORTED_BTC_4H",
    "Fact",
    "main",
    "real_liquidation_facts",
    "realism_report",
    "stylized_facts",
]

#: Price facts of Binance BTCUSDT hourly candles, 2025-01 to 2026-04 (issue 9's table).
BINANCE_BTC_1H: dict[str, float] = {
    "volatility": 0.46,
    "kurtosis": 10.7,
    "big_hours_pct": 0.18,
    "big_days_pct": 0.87,
    "range_median_bp": 51.0,
    "range_p99_bp": 265.0,
    "wick_share": 0.51,
    "abs_acf1": 0.275,
}


#: Liquidation shares measured on ``hyperliquid-2025-12`` (BTC), used when it is absent.
HYPERLIQUID_BTC: dict[str, float] = {
    "liq_long_median_pct": 0.81,
    "liq_short_median_pct": 0.18,
    "liq_p90_pct": 2.75,
}


#: Naive baseline vs reported liquidations, Spearman at 4h bars, a real BTC set (SOURCES.md).
REPORTED_BTC_4H: dict[str, float] = {"baseline_long": 0.83, "baseline_short": 0.78}


REAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "real" / "hyperliquid-2025-12"


@dataclass(frozen=True)
class Fact:
    """One stylized fact: its key, words, unit and the band a realistic market stays in."""

    key: str
    label: str
    unit: str
    low: float
    high: float


#: Every fact, in the order of issue 9's table.
FACTS: tuple[Fact, ...] = (
    Fact("volatility", "annualised volatility of 1h log returns", "", 0.35, 0.65),
    Fact("kurtosis", "excess kurtosis of 1h log returns", "", 5.0, 25.0),
    Fact("big_hours_pct", "share of hours with |return| > 3 %", "%", 0.05, 0.6),
    Fact("big_days_pct", "share of days with |return| > 8 %", "%", 0.0, 2.5),
    Fact("range_median_bp", "median 1h range (high - low)/close", "bp", 30.0, 80.0),
    Fact("range_p99_bp", "99th percentile of the 1h range", "bp", 150.0, 450.0),
    Fact("wick_share", "wick share of the 1h range", "", 0.42, 0.60),
    Fact("abs_acf1", "autocorrelation of |1h return| at lag 1", "", 0.15, 0.40),
    Fact("liq_long_median_pct", "median daily long liquidations, % of OI", "%", 0.05, 1.5),
    Fact("liq_short_median_pct", "median daily short liquidations, % of OI", "%", 0.01, 1.5),
    Fact("liq_p90_pct", "90th percentile of daily liquidations, % of OI", "%", 0.3, 5.0),
    Fact(
        "baseline_long", "naive baseline vs true liquidations, Spearman 4h, longs", "", 0.70, 0.92
    ),
    Fact(
        "baseline_short", "naive baseline vs true liquidations, Spearman 4h, shorts", "", 0.65, 0.90
    ),
)


_OHLC = {"open": "first", "high": "max", "low": "min", "close": "last"}


def _resample(market: pd.DataFrame, rule: str) -> pd.DataFrame:
    how = dict(_OHLC)
    for column in ("volume", "realized_long_usd", "realized_short_usd"):
        if column in market:
            how[column] = "sum"
    if "open_interest" in market:
        how["open_interest"] = "mean"
    return market.resample(rule).agg(how).dropna(subset=["close"])


def _daily_liquidation_shares(daily: pd.DataFrame) -> dict[str, float]:
    long = daily["long_usd"] / daily["open_interest"] * 100.0
    short = daily["short_usd"] / daily["open_interest"] * 100.0
    return {
        "liq_long_median_pct": float(long.median()),
        "liq_short_median_pct": float(short.median()),
        "liq_p90_pct": float((long + short).quantile(0.9)),
    }


def stylized_facts(market: pd.DataFrame) -> dict[str, float]:
    """Every fact of :data:`FACTS` measured on a market frame (any interval up to 1h).

    The frame is resampled to hourly bars (and to days and 4-hour bars where a fact
    says so). The liquidation facts need ``realized_long_usd``, ``realized_short_usd``
    and ``open_interest``; without them they are NaN.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> facts = stylized_facts(simulate(days=20, interval="15m", seed=1).market)
    >>> 0.2 < facts["volatility"] < 1.0, 0.3 < facts["wick_share"] < 0.7
    (True, True)
    """
    from liqcore.analysis.scores import naive_baseline, rank_correlation

    hourly = _resample(market, "1h")
    log_ret = np.diff(np.log(hourly["close"].to_numpy()))
    daily_close = hourly["close"].resample("1D").last().dropna().to_numpy()
    day_ret = np.diff(np.log(daily_close))
    rng = (hourly["high"] - hourly["low"]) / hourly["close"]
    body = (hourly["close"] - hourly["open"]).abs().sum()
    abs_ret = np.abs(log_ret)
    facts = {
        "volatility": float(np.std(log_ret) * np.sqrt(24 * 365)),
        "kurtosis": float(pd.Series(log_ret).kurt()),
        "big_hours_pct": float((abs_ret > np.log1p(0.03)).mean() * 100.0),
        "big_days_pct": float((np.abs(day_ret) > np.log1p(0.08)).mean() * 100.0),
        "range_median_bp": float(rng.median() * 1e4),
        "range_p99_bp": float(rng.quantile(0.99) * 1e4),
        "wick_share": float(1.0 - body / (hourly["high"] - hourly["low"]).sum()),
        "abs_acf1": float(np.corrcoef(abs_ret[:-1], abs_ret[1:])[0, 1]),
    }
    nan = float("nan")
    if not {"realized_long_usd", "realized_short_usd", "open_interest"} <= set(market.columns):
        return facts | {key: nan for key in HYPERLIQUID_BTC} | dict.fromkeys(REPORTED_BTC_4H, nan)
    daily = _resample(market, "1D").rename(
        columns={"realized_long_usd": "long_usd", "realized_short_usd": "short_usd"}
    )
    facts |= _daily_liquidation_shares(daily)
    four = _resample(market, "4h")
    base = naive_baseline(four)
    facts["baseline_long"] = rank_correlation(base["long_usd"], four["realized_long_usd"])
    facts["baseline_short"] = rank_correlation(base["short_usd"], four["realized_short_usd"])
    return facts


def real_liquidation_facts(folder: Path = REAL_DIR, coin: str = "BTC") -> dict[str, float]:
    """Daily liquidation shares of open interest on the real Hyperliquid set.

    Daily long and short USD liquidated (``<COIN>_liquidations_1d.csv``) over the day's
    mean open interest (``<COIN>_1h.csv``). Falls back to :data:`HYPERLIQUID_BTC` when
    the folder is not there.

    Parameters
    ----------
    folder : Path
        The real data set's folder.
    coin : str
        ``"BTC"``, ``"ETH"`` or ``"SOL"``.

    Returns
    -------
    dict
        ``liq_long_median_pct``, ``liq_short_median_pct`` and ``liq_p90_pct`` (long + short).

    Examples
    --------
    >>> facts = real_liquidation_facts()
    >>> facts["liq_long_median_pct"] > facts["liq_short_median_pct"] > 0
    True
    """
    bars, liqs = folder / f"{coin}_1h.csv", folder / f"{coin}_liquidations_1d.csv"
    if not (bars.is_file() and liqs.is_file()):
        return dict(HYPERLIQUID_BTC)
    from liqcore.market import load_market

    market = load_market(bars)
    oi = market["open_interest"].resample("1D").mean()
    table = pd.read_csv(liqs, parse_dates=["day"]).set_index("day")
    table.index = table.index.tz_localize("UTC") if table.index.tz is None else table.index
    table["open_interest"] = oi.reindex(table.index)
    return _daily_liquidation_shares(table.dropna())


def realism_report(
    seeds: tuple[int, ...] = (0, 1, 2), days: float = 365, interval: str = "15m", **kwargs: object
) -> pd.DataFrame:
    """The realism table: each fact's median over seeds, the real reference and the band.

    Parameters
    ----------
    seeds : tuple of int
        Seeds of :func:`liqcore.simulate.simulate`.
    days, interval
        History simulated per seed.
    **kwargs
        Passed to :func:`~liqcore.simulate.simulate` (``regime``, ``volatility``, ...).

    Returns
    -------
    DataFrame
        Indexed by fact key: ``fact``, ``simulated``, ``real``, ``low``, ``high``, ``inside``.

    Examples
    --------
    >>> table = realism_report(seeds=(0,), days=20)
    >>> list(table.columns)
    ['fact', 'simulated', 'real', 'low', 'high', 'inside']
    """
    from liqcore.simulate import simulate

    runs = [stylized_facts(simulate(days, interval, seed, **kwargs).market) for seed in seeds]
    real = BINANCE_BTC_1H | real_liquidation_facts() | REPORTED_BTC_4H
    rows = []
    for fact in FACTS:
        value = float(np.median([run[fact.key] for run in runs]))
        rows.append(
            {
                "key": fact.key,
                "fact": fact.label,
                "simulated": value,
                "real": real[fact.key],
                "low": fact.low,
                "high": fact.high,
                "inside": bool(fact.low <= value <= fact.high),
            }
        )
    return pd.DataFrame(rows).set_index("key")


def main(argv: list[str] | None = None) -> int:
    """Print the realism table of the default market; 1 if a fact is outside its band."""
    args = sys.argv[1:] if argv is None else argv
    regime = args[0] if args else "typical"
    table = realism_report(regime=regime)
    print(f"Simulated market ({regime}), 365 days of 15m, median of seeds 0-2, resampled to 1h")
    print(f"{'stylized fact':58} {'simulated':>10} {'real':>8}   band")
    for row in table.itertuples():
        mark = "ok " if row.inside else "OUT"
        print(
            f"{row.fact:58} {row.simulated:10.3f} {row.real:8.3f}   {row.low:g}-{row.high:g} {mark}"
        )
    outside = int((~table["inside"]).sum())
    print(f"{len(table) - outside} of {len(table)} facts inside their band")
    return 1 if outside else 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
