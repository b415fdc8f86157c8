"""Realized liquidations per period: sums, totals, the largest bars, a momentum reading, figures.

Everything the Liquidations page shows, built from a *realized* frame: USD of long and
short positions liquidated per bar, columns ``long_usd`` and ``short_usd``. Any source
gives one:

* the model's estimate (:attr:`liqcore.model.Estimate.realized`),
* the market frame's ``realized_long_usd`` / ``realized_short_usd`` columns
  (:func:`realized_from_market`): the **true** liquidations on the simulated market,
  the exchange-reported ones on live data.

The numbers never travel without their source: every function that shows them takes a
``source_label`` (:data:`TRUE_LABEL`, :data:`ESTIMATE_LABEL`, :func:`reported_label`).
Figures follow :mod:`liqcore.views`: dark template, longs red, shorts green, float32
arrays for plotly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.controls import LAYOUTS, PERIODS, SOURCES
from liqcore.market import bar_interval
from liqcore.views import DARK_TEMPLATE, LONG_COLOR, SHORT_COLOR, format_usd

__all__ = [
    "ESTIMATE_LABEL",
    "MAX_BARS",
    "TRUE_LABEL",
    "UNKNOWN_LABEL",
    "agreement",
    "attach_reported",
    "choose_period",
    "comparison_figure",
    "largest_bars",
    "liquidations_by_period",
    "liquidations_figure",
    "momentum_hint",
    "realized_from_market",
    "realized_source_label",
    "reported_label",
    "totals",
]

#: More bars than this are thinner than a pixel on a wide screen; :func:`choose_period` coarsens.
MAX_BARS = 1500
TRUE_LABEL = "True (simulated)"
ESTIMATE_LABEL = "Estimate (model)"
UNKNOWN_LABEL = "Recorded in the data"
PRICE_COLOR = "#f5c518"  # the price line of the heatmap page

#: Thresholds of :func:`momentum_hint`: recent liquidations vs their earlier rate per bar.
HEAVY_RATE = 1.5
LOW_RATE = 0.75

_COLUMNS = ["long_usd", "short_usd", "total_usd", "price", "bars"]


def reported_label(exchange: str) -> str:
    """Source label of exchange-reported liquidations.

    Examples
    --------
    >>> reported_label("OKX")
    'Reported by OKX'
    """
    return f"Reported by {exchange}"


def realized_source_label(market: pd.DataFrame, chosen: str = "sim") -> str:
    """Source label of a market frame's own realized liquidations.

    The frame's ``attrs["source"]`` (set by :mod:`liqcore.sources`; ``"sim"`` and
    ``"csv"`` are understood too) says where the numbers come from. A frame without it
    is taken for the simulated market only if that is what the user chose: the app
    falls back to the simulation when a file or an exchange fails.

    Parameters
    ----------
    market : DataFrame
        A market frame.
    chosen : str
        The data source the user chose (a value of :data:`liqcore.controls.SOURCES`).

    Examples
    --------
    >>> frame = pd.DataFrame()
    >>> realized_source_label(frame), realized_source_label(frame, "csv")
    ('True (simulated)', 'Recorded in the data')
    >>> frame.attrs["source"] = "okx"
    >>> realized_source_label(frame, "okx")
    'Reported by OKX'
    """
    source = market.attrs.get("source")
    if source is None:
        # An unstamped frame is the simulated market when the user chose it; otherwise the
        # app may have fallen back to the simulation, so say no more than where it sits.
        return TRUE_LABEL if chosen == "sim" else UNKNOWN_LABEL
    if source == "sim":
        return TRUE_LABEL
    if source == "csv":
        return "From your CSV"
    names = {code: name for name, code in SOURCES.items()}
    return reported_label(names.get(source, str(source)))


def realized_from_market(market: pd.DataFrame) -> pd.DataFrame | None:
    """The market frame's own realized liquidations as a realized frame, or None if absent.

    Parameters
    ----------
    market : DataFrame
        A market frame (:mod:`liqcore.market`).

    Returns
    -------
    DataFrame or None
        ``long_usd`` and ``short_usd`` (USD liquidated per bar) on the market's index;
        None unless both ``realized_long_usd`` and ``realized_short_usd`` are present.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"close": [1.0, 2.0], "realized_long_usd": [5.0, 0.0],
    ...                   "realized_short_usd": [0.0, 7.0]}, index=idx)
    >>> realized_from_market(m).sum().tolist()
    [5.0, 7.0]
    >>> realized_from_market(m.drop(columns="realized_short_usd")) is None
    True
    """
    columns = {"realized_long_usd": "long_usd", "realized_short_usd": "short_usd"}
    if not set(columns).issubset(market.columns):
        return None
    return market[list(columns)].rename(columns=columns)


def _freq(period: str) -> str:
    if period in PERIODS:
        return PERIODS[period]
    if period in PERIODS.values():
        return period
    msg = f"period must be one of {', '.join(PERIODS)}, got {period!r}"
    raise ValueError(msg)


def liquidations_by_period(
    realized: pd.DataFrame,
    price: pd.Series,
    period: str,
    *,
    drop_partial_first: bool = False,
) -> pd.DataFrame:
    """USD liquidated per period, longs and shorts, with the price at each period's close.

    Parameters
    ----------
    realized : DataFrame
        USD liquidated per bar: ``long_usd`` and ``short_usd`` (other columns are
        ignored), indexed by bar open time.
    price : Series
        Close price per bar, indexed by bar open time; it may be finer than ``realized``
        (hourly closes beside daily totals). A period's price is its last close.
    period : str
        ``"15m"``, ``"1h"``, ``"4h"`` or ``"1d"`` (or the pandas alias ``"15min"``...).
        Periods start on the clock (UTC midnight for days).
    drop_partial_first : bool
        Drop the first period if the data starts inside it: a window that begins at
        23:45 would otherwise show a 4h bar holding one 15-minute bar.

    Returns
    -------
    DataFrame
        Indexed by period start: ``long_usd``, ``short_usd``, ``total_usd`` (USD
        liquidated in the period), ``price`` (last close in the period) and ``bars``
        (bars of data in it). Periods without any bar are left out.

    Raises
    ------
    ValueError
        Unknown period, a missing column, or a NaN, infinite or negative amount.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=6, freq="30min", tz="UTC")
    >>> realized = pd.DataFrame({"long_usd": [1.0, 2, 0, 0, 4, 0],
    ...                          "short_usd": [0.0, 0, 3, 3, 0, 1]}, index=idx)
    >>> price = pd.Series([10.0, 11, 12, 13, 12, 11], index=idx)
    >>> liquidations_by_period(realized, price, "1h")
                               long_usd  short_usd  total_usd  price  bars
    time
    2024-01-01 00:00:00+00:00       3.0        0.0        3.0   11.0     2
    2024-01-01 01:00:00+00:00       0.0        6.0        6.0   13.0     2
    2024-01-01 02:00:00+00:00       4.0        1.0        5.0   11.0     2
    """
    freq = _freq(period)
    missing = [c for c in ("long_usd", "short_usd") if c not in realized.columns]
    if missing:
        msg = f"the realized frame needs columns long_usd and short_usd; missing {missing}"
        raise ValueError(msg)
    if not isinstance(realized.index, pd.DatetimeIndex):
        msg = "the realized frame must be indexed by bar open time (DatetimeIndex)"
        raise ValueError(msg)
    amounts = realized[["long_usd", "short_usd"]].astype("float64")
    values = amounts.to_numpy()
    if not np.isfinite(values).all():
        msg = "liquidation amounts contain NaN or infinite values"
        raise ValueError(msg)
    if (values < 0).any():
        msg = f"liquidation amounts must not be negative, got {values.min():g}"
        raise ValueError(msg)
    if amounts.empty:
        empty = pd.DataFrame(columns=_COLUMNS, index=pd.DatetimeIndex([], name="time"))
        return empty.astype({c: "float64" for c in _COLUMNS} | {"bars": "int64"})

    resampler = amounts.resample(freq)
    out = resampler.sum()
    out["total_usd"] = out["long_usd"] + out["short_usd"]
    # The period's last close from the price bars themselves: coarser amounts (a reported
    # daily total stamped at midnight) must not pick the close of the bar at their stamp.
    close = price.astype("float64").dropna()
    out["price"] = close.resample(freq).last().reindex(out.index)
    out["bars"] = resampler.size().astype("int64")
    out = out[out["bars"] > 0].rename_axis("time")
    if drop_partial_first and len(out) > 1 and len(amounts) > 1:
        per_period = pd.Timedelta(freq) / bar_interval(amounts.index)
        if out["bars"].iloc[0] < per_period:
            out = out.iloc[1:]
    return out


def choose_period(
    period: str, interval: pd.Timedelta, span: pd.Timedelta, max_bars: int = MAX_BARS
) -> tuple[str, str | None]:
    """The period to draw: the one asked for unless the data or the screen cannot show it.

    A period shorter than the data's bars would show one bar per period anyway, and more
    than ``max_bars`` bars are thinner than a pixel; in both cases the next longer period
    is used and a note says why.

    Parameters
    ----------
    period : str
        The period asked for (a key of :data:`PERIODS`).
    interval : Timedelta
        Bar interval of the data.
    span : Timedelta
        Length of the window shown.
    max_bars : int
        Most bars to draw.

    Returns
    -------
    period : str
        The period to use.
    note : str or None
        Why it differs from the one asked for.

    Examples
    --------
    >>> choose_period("15m", pd.Timedelta("15min"), pd.Timedelta(days=7))
    ('15m', None)
    >>> choose_period("15m", pd.Timedelta("1h"), pd.Timedelta(days=7))[0]
    '1h'
    >>> choose_period("15m", pd.Timedelta("15min"), pd.Timedelta(days=365))
    ('1d', '365 days in 15m periods would be 35,040 bars; showing 1d periods instead.')
    """
    labels = list(PERIODS)
    if period not in PERIODS:
        msg = f"period must be one of {', '.join(labels)}, got {period!r}"
        raise ValueError(msg)
    chosen = labels.index(period)
    notes = []
    while chosen < len(labels) - 1 and pd.Timedelta(PERIODS[labels[chosen]]) < interval:
        chosen += 1
    if chosen != labels.index(period):
        notes.append(
            f"The data has {_duration(interval)} bars, so {period} periods cannot be shown; "
            f"showing {labels[chosen]} periods."
        )
    asked = labels[chosen]
    while chosen < len(labels) - 1 and span / pd.Timedelta(PERIODS[labels[chosen]]) > max_bars:
        chosen += 1
    if labels[chosen] != asked:
        bars = int(span / pd.Timedelta(PERIODS[asked]))
        notes.append(
            f"{_duration(span)} in {asked} periods would be {bars:,} bars; "
            f"showing {labels[chosen]} periods instead."
        )
    return labels[chosen], " ".join(notes) or None


def _duration(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} days"
    if hours >= 1:
        return f"{hours:g}h"
    return f"{hours * 60:g}m"


def totals(per_period: pd.DataFrame) -> dict[str, float | None]:
    """Headline numbers of a window: USD liquidated per side and how they compare.

    Parameters
    ----------
    per_period : DataFrame
        From :func:`liquidations_by_period`.

    Returns
    -------
    dict
        ``long_usd``, ``short_usd``, ``total_usd``; ``long_share`` (longs / all, None
        when nothing was liquidated); ``long_short_ratio`` (longs / shorts, None when
        no short was liquidated).

    Examples
    --------
    >>> pp = pd.DataFrame({"long_usd": [3.0, 1.0], "short_usd": [0.0, 2.0]})
    >>> totals(pp)
    {'long_usd': 4.0, 'short_usd': 2.0, 'total_usd': 6.0, 'long_share': 0.6666666666666666, \
'long_short_ratio': 2.0}
    """
    long_usd = float(per_period["long_usd"].sum())
    short_usd = float(per_period["short_usd"].sum())
    total = long_usd + short_usd
    return {
        "long_usd": long_usd,
        "short_usd": short_usd,
        "total_usd": total,
        "long_share": long_usd / total if total > 0 else None,
        "long_short_ratio": long_usd / short_usd if short_usd > 0 else None,
    }


def largest_bars(per_period: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` largest bars of the window, longs and shorts ranked together.

    Parameters
    ----------
    per_period : DataFrame
        From :func:`liquidations_by_period`.
    n : int
        How many bars.

    Returns
    -------
    DataFrame
        ``time`` (period start), ``side`` ("Longs" or "Shorts"), ``usd`` (USD
        liquidated), ``price`` (close of the period) and ``share_pct`` (of everything
        liquidated in the window). Largest first; empty bars are left out.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [5.0, 0, 1], "short_usd": [0.0, 4, 0],
    ...                    "price": [10.0, 11, 9]}, index=idx)
    >>> largest_bars(pp, n=2)[["side", "usd", "price", "share_pct"]]
         side  usd  price  share_pct
    0   Longs  5.0   10.0       50.0
    1  Shorts  4.0   11.0       40.0
    """
    if n < 1:
        msg = f"n must be at least 1, got {n}"
        raise ValueError(msg)
    total = float(per_period["long_usd"].sum() + per_period["short_usd"].sum())
    parts = [
        pd.DataFrame(
            {
                "time": per_period.index,
                "side": side,
                "usd": per_period[column].to_numpy(dtype="float64"),
                "price": per_period["price"].to_numpy(dtype="float64"),
            }
        )
        for side, column in (("Longs", "long_usd"), ("Shorts", "short_usd"))
    ]
    bars = pd.concat(parts, ignore_index=True)
    bars = bars[bars["usd"] > 0]
    bars = bars.sort_values(["usd", "time"], ascending=[False, True], kind="stable").head(n)
    bars["share_pct"] = bars["usd"] / total * 100 if total > 0 else 0.0
    return bars.reset_index(drop=True)


def momentum_hint(
    per_period: pd.DataFrame, *, lookback: int = 12, source_label: str | None = None
) -> str:
    """A plain-words reading of the last bars: is the move forced (liquidations) or not?

    The last ``lookback`` bars (never more than half of the window) are compared with
    the bars before them:

    * **price change** from the close before the recent bars to the last close; it
      counts as a move when larger than half the typical move over that many bars
      (standard deviation of the earlier bars' log returns × √bars) and at least 0.1%;
    * **liquidation rate** of the side a move hurts (longs when price falls, shorts
      when it rises): USD per bar in the recent bars over USD per bar before. At least
      ``HEAVY_RATE`` (1.5×) is heavy, at most ``LOW_RATE`` (0.75×) is low.

    ============  ================  ===========================================
    price         that side's rate  reading
    ============  ================  ===========================================
    falls         heavy             long squeeze / cascade (often exhausts)
    falls         low               selling not forced: spot / real selling
    rises         heavy             short squeeze
    rises         low               organic demand
    flat          both heavy        two-sided flush
    ============  ================  ===========================================

    Parameters
    ----------
    per_period : DataFrame
        From :func:`liquidations_by_period` (``long_usd``, ``short_usd``, ``price``).
    lookback : int
        Recent bars to read.
    source_label : str, optional
        Whose liquidations these are, named in the text.

    Returns
    -------
    str
        One or two sentences, ending with "a reading ..., not a prediction".

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=8, freq="1h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [1.0, 1, 1, 1, 9, 9, 9, 9], "short_usd": 1.0,
    ...     "price": [100.0, 101, 100, 101, 97, 94, 91, 88]}, index=idx)
    >>> print(momentum_hint(pp, lookback=4))  # doctest: +ELLIPSIS
    Long squeeze / cascade: price fell 12.9% over the last 4 bars while long liquidations ran \
at 9.0× their earlier rate (90% of all liquidations). ... not a prediction.
    """
    if lookback < 1:
        msg = f"lookback must be at least 1 bar, got {lookback}"
        raise ValueError(msg)
    source = f" of {source_label} liquidations" if source_label else ""
    count = len(per_period)
    if count < 4:
        return (
            f"Not enough bars for a momentum reading ({count}; at least 4 are needed): "
            "choose a shorter period or look further back."
        )
    long_usd = per_period["long_usd"].to_numpy(dtype="float64")
    short_usd = per_period["short_usd"].to_numpy(dtype="float64")
    price = per_period["price"].to_numpy(dtype="float64")
    if long_usd.sum() + short_usd.sum() <= 0:
        return f"Nothing was liquidated in this window{source}, so there is nothing to read."
    if not (np.isfinite(price).all() and (price > 0).all()):
        return "The price is missing in some bars, so there is no momentum reading."

    n = min(lookback, count // 2)
    change, moved = _recent_move(price, n)
    long_rate, short_rate = _rate_vs_earlier(long_usd, n), _rate_vs_earlier(short_usd, n)
    recent_total = long_usd[-n:].sum() + short_usd[-n:].sum()
    long_share = long_usd[-n:].sum() / recent_total if recent_total > 0 else 0.0
    span, move = f"over the last {n} bars", f"{abs(change) * 100:.1f}%"
    if moved and change < 0:
        text = _one_sided_reading("fell", move, span, long_rate, long_share)
    elif moved:
        text = _one_sided_reading("rose", move, span, short_rate, 1.0 - long_share)
    else:
        text = _flat_reading(change, span, long_rate, short_rate)
    return f"{text} A reading of the last {n} bars{source}, not a prediction."


def _recent_move(price: np.ndarray, n: int) -> tuple[float, bool]:
    """Price change over the last ``n`` bars, and whether it beats half the typical move."""
    change = price[-1] / price[-n - 1] - 1.0
    # The typical move over n bars, from the bars before them (the recent move is the question).
    sigma = float(np.std(np.diff(np.log(price[: len(price) - n])))) * np.sqrt(n)
    return change, abs(np.log1p(change)) >= max(0.5 * sigma, 0.001)


def _rate_vs_earlier(usd: np.ndarray, n: int) -> float:
    """USD liquidated per bar over the last ``n`` bars, over the rate before (inf if none)."""
    before, now = usd[: len(usd) - n].mean(), usd[len(usd) - n :].mean()
    if before > 0:
        return float(now / before)
    return np.inf if now > 0 else 0.0


def _versus(rate: float) -> str:
    """A side's recent rate against its earlier one, in words."""
    if np.isinf(rate):
        return "far above their earlier rate (none before)"
    return f"at {rate:.1f}× their earlier rate"


def _ran(side: str, rate: float, share: float) -> str:
    """A side's liquidations ran heavy: how heavy, and their share of all of them."""
    return f"{side} liquidations ran {_versus(rate)} ({share:.0%} of all liquidations)"


def _stayed(side: str, rate: float) -> str:
    """A side's liquidations stayed low, with their rate."""
    return f"{side} liquidations stayed low ({rate:.1f}× their earlier rate)"


#: Readings of a one-sided move, by the way price went: the side it hurts, then the sentence
#: for that side's liquidations running heavy, staying low, or neither (``str.format`` fields).
_ONE_SIDED = {
    "fell": (
        "long",
        "Long squeeze / cascade: price fell {move} {span} while {ran}. Forced selling is "
        "driving the move; cascades like this often exhaust once the crowded levels are cleared.",
        "Selling is not forced: price fell {move} {span} while {stayed}. This looks like spot "
        "or real selling, not a cascade.",
        "Price fell {move} {span} with long liquidations near their earlier rate "
        "({rate:.1f}×): some forced selling, but no cascade.",
    ),
    "rose": (
        "short",
        "Short squeeze: price rose {move} {span} while {ran}. Shorts being forced to buy are "
        "driving the move; squeezes often fade once those shorts are gone.",
        "Organic demand: price rose {move} {span} while {stayed}. Buyers, not forced short "
        "covering, are lifting the price.",
        "Price rose {move} {span} with short liquidations near their earlier rate "
        "({rate:.1f}×): some forced buying, but no squeeze.",
    ),
}


def _one_sided_reading(went: str, move: str, span: str, rate: float, share: float) -> str:
    """A move that ``went`` ("fell" or "rose"), read from the rate of the side it hurts."""
    side, heavy, low, between = _ONE_SIDED[went]
    sentence = heavy if rate >= HEAVY_RATE else low if rate <= LOW_RATE else between
    return sentence.format(
        move=move, span=span, rate=rate, ran=_ran(side, rate, share), stayed=_stayed(side, rate)
    )


def _flat_reading(change: float, span: str, long_rate: float, short_rate: float) -> str:
    """No move to speak of: a two-sided flush if both sides were liquidated heavily."""
    if long_rate >= HEAVY_RATE and short_rate >= HEAVY_RATE:
        return (
            f"Two-sided flush: price barely moved ({change * 100:+.1f}%) {span} while both "
            "longs and shorts were liquidated well above their earlier rate; leverage is "
            "being cleared on both sides."
        )
    return (
        f"No clear momentum: price barely moved ({change * 100:+.1f}%) {span}; long "
        f"liquidations ran {_versus(long_rate)}, short liquidations {_versus(short_rate)}."
    )


def agreement(truth: pd.DataFrame, estimate: pd.DataFrame) -> dict[str, float | None]:
    """How close the estimate came to the true (or reported) liquidations in a window.

    Parameters
    ----------
    truth, estimate : DataFrame
        Per-period frames (:func:`liquidations_by_period`) with the same period.

    Returns
    -------
    dict
        ``long_ratio`` / ``short_ratio``: estimated USD over true USD (None when the
        truth is zero); ``correlation``: correlation of the per-period totals over the
        periods both hold (None with fewer than 3 periods or a constant series).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    >>> truth = pd.DataFrame({"long_usd": [4.0, 0, 2, 2], "short_usd": [0.0, 2, 0, 0]}, idx)
    >>> est = truth * 0.5
    >>> est["total_usd"] = est.sum(axis=1); truth["total_usd"] = truth.sum(axis=1)
    >>> agreement(truth, est)
    {'long_ratio': 0.5, 'short_ratio': 0.5, 'correlation': 1.0}
    """
    out: dict[str, float | None] = {}
    for side in ("long", "short"):
        true_sum = float(truth[f"{side}_usd"].sum())
        est_sum = float(estimate[f"{side}_usd"].sum())
        out[f"{side}_ratio"] = est_sum / true_sum if true_sum > 0 else None
    both = truth.index.intersection(estimate.index)
    a = truth.loc[both, "total_usd"].to_numpy(dtype="float64")
    b = estimate.loc[both, "total_usd"].to_numpy(dtype="float64")
    out["correlation"] = None
    if len(both) >= 3 and a.std() > 0 and b.std() > 0:
        out["correlation"] = round(float(np.corrcoef(a, b)[0, 1]), 12)
    return out


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _usd_ticks(top: float, mirrored: bool) -> tuple[list[float], list[str]]:
    """Round tick values up to ``top`` (both signs when mirrored), labelled as positive USD."""
    if top <= 0:
        return [0.0], ["$0"]
    step = 10 ** np.floor(np.log10(top / 3))
    for mult in (1, 2, 2.5, 5, 10):
        if top / (step * mult) <= 3.5:
            step *= mult
            break
    values = [float(v) for v in np.arange(step, top + step * 1e-9, step)]
    ticks = [*[-v for v in reversed(values)], 0.0, *values] if mirrored else [0.0, *values]
    return ticks, [format_usd(abs(v)) if v else "$0" for v in ticks]


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    # plotly.js has no time zones; naive UTC keeps the payload short and the axis in UTC.
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _source_traces(
    per_period: pd.DataFrame, *, row: int, source_label: str, layout: str, first: bool
) -> list[dict[str, object]]:
    """Bars (longs, shorts) and the price line of one source, on row ``row``'s axes."""
    x = _naive_utc(pd.DatetimeIndex(per_period.index))
    mirrored = layout == "Mirrored"
    axes = {"xaxis": f"x{row if row > 1 else ''}"}
    traces: list[dict[str, object]] = []
    for column, name, colour, below in (
        ("long_usd", "Longs liquidated", LONG_COLOR, mirrored),
        ("short_usd", "Shorts liquidated", SHORT_COLOR, False),
    ):
        usd = per_period[column].to_numpy(dtype="float64")
        traces.append(
            {
                "type": "bar",
                "x": x,
                # 0 - usd, not -usd: an empty bar stays +0.0 rather than -0.0.
                "y": (0.0 - usd if below else usd).astype("float32"),
                "name": name,
                "marker": {"color": colour, "line": {"width": 0}},
                "hovertext": [format_usd(v) for v in usd],
                "hovertemplate": f"{name.split()[0].lower()} %{{hovertext}}<extra></extra>",
                "legendgroup": column,
                "showlegend": first,
                "yaxis": f"y{2 * row - 1 if row > 1 else ''}",
                **axes,
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": x,
            "y": per_period["price"].to_numpy(dtype="float32"),
            "mode": "lines",
            "line": {"color": PRICE_COLOR, "width": 1.5},
            "name": "Price (close)",
            "hovertemplate": f"price %{{y:,.2f}}<extra>{source_label}</extra>",
            "legendgroup": "price",
            "showlegend": first,
            "yaxis": f"y{2 * row}",
            **axes,
        }
    )
    return traces


def comparison_figure(
    by_source: Mapping[str, pd.DataFrame],
    *,
    layout: Literal["Mirrored", "Side by side"] = "Mirrored",
    title: str = "Liquidations",
    uirevision: str = "liquidations",
) -> go.Figure:
    """Liquidation bars of several sources, one row each, on the same USD scale.

    On the simulated market: the true liquidations above, the model's estimate below,
    so the estimate can be judged by eye. Each row is labelled with its source and has
    the price on a right-hand axis. Built as plain dicts in one pass (make_subplots and
    update_* calls cost ~150 ms per figure, on every rerun of the page).

    Parameters
    ----------
    by_source : mapping of str to DataFrame
        Source label -> per-period frame (:func:`liquidations_by_period`), top row first.
    layout : {"Mirrored", "Side by side"}
        Mirrored: longs below zero, shorts above. Side by side: both above zero, next
        to each other.
    title : str
        Above the rows.
    uirevision : str
        The user's zoom survives reruns of the page while this string stays the same.

    Returns
    -------
    plotly.graph_objects.Figure
        Row ``r`` draws its bars on axes ``x{r}``/``y{2r-1}`` and its price on ``y{2r}``
        (plotly's unnumbered ``x``/``y`` for the first row).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [5.0, 0, 1], "short_usd": [0.0, 4, 0],
    ...                    "price": [10.0, 11, 9]}, index=idx)
    >>> fig = comparison_figure({"True (simulated)": pp, "Estimate (model)": pp / 2})
    >>> [a.text for a in fig.layout.annotations]
    ['Source: True (simulated)', 'Source: Estimate (model)']
    """
    if layout not in LAYOUTS:
        msg = f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}"
        raise ValueError(msg)
    if not by_source:
        msg = "no source to draw"
        raise ValueError(msg)
    labels = list(by_source)
    mirrored = layout == "Mirrored"
    traces: list[dict[str, object]] = []
    for row, label in enumerate(labels, start=1):
        traces += _source_traces(
            by_source[label], row=row, source_label=label, layout=layout, first=row == 1
        )
    top = _tallest_bar(by_source.values())
    tickvals, ticktext = _usd_ticks(top, mirrored)
    span = top * 1.08 if top > 0 else 1.0
    usd_axis = {
        "range": [-span, span] if mirrored else [0.0, span],
        "tickvals": tickvals,
        "ticktext": ticktext,
        "title": {"text": "longs ↓ · shorts ↑" if mirrored else "USD liquidated"},
    }
    axes: dict[str, object] = {}
    annotations = []
    for row, (low, high) in enumerate(_row_domains(len(labels)), start=1):
        axes |= _row_axes(row, [low, high], usd_axis=usd_axis, dated=row == len(labels))
        annotations.append(_source_heading(labels[row - 1], high))
    return go.Figure(
        data=traces,
        layout={
            "template": DARK_TEMPLATE,
            "title": {"text": title, "x": 0.01},
            "height": 300 + 190 * len(labels),
            "margin": {"l": 60, "r": 70, "t": 80, "b": 40},
            "barmode": "relative" if mirrored else "group",
            "bargap": 0.1,
            "hovermode": "x unified",
            "uirevision": uirevision,
            "legend": {
                "orientation": "h",
                "y": 1.0,
                "x": 1.0,
                "xanchor": "right",
                "yanchor": "bottom",
            },
            "annotations": annotations,
            **axes,
        },
    )


def _tallest_bar(per_periods: Iterable[pd.DataFrame]) -> float:
    """The most USD liquidated in one period on one side, over all sources (0 if none)."""
    top = 0.0
    for per_period in per_periods:
        if len(per_period):
            longs, shorts = per_period["long_usd"].max(), per_period["short_usd"].max()
            top = max(top, float(max(longs, shorts)))
    return top


def _row_domains(rows: int) -> list[tuple[float, float]]:
    """Each source row's bottom and top (paper fractions), top row first, with a gap between."""
    spacing = 0.09 if rows > 1 else 0.0
    height = (1.0 - spacing * (rows - 1)) / rows
    uppers = [1.0 - (row - 1) * (height + spacing) for row in range(1, rows + 1)]
    return [(max(upper - height, 0.0), upper) for upper in uppers]


def _row_axes(
    row: int, domain: list[float], *, usd_axis: dict[str, object], dated: bool
) -> dict[str, object]:
    """One source row's axes: time (shared with the first row), USD liquidated, price.

    ``usd_axis`` is the range, ticks and title every row shares, so the rows compare by
    eye; only the lowest row (``dated``) labels the times.
    """
    time = "" if row == 1 else str(row)  # axis numbers: plotly's first axes have none
    bars = "" if row == 1 else str(2 * row - 1)
    return {
        f"xaxis{time}": {
            "anchor": f"y{bars}",
            "domain": [0.0, 0.94],
            "hoverformat": "%Y-%m-%d %H:%M UTC",
            "showticklabels": dated,
            **({"matches": "x"} if row > 1 else {}),
        },
        f"yaxis{bars}": {
            "anchor": f"x{time}",
            "domain": domain,
            **usd_axis,
            "zeroline": True,
            "zerolinecolor": "#6b7080",
        },
        f"yaxis{2 * row}": {
            "anchor": f"x{time}",
            "overlaying": f"y{bars}",
            "side": "right",
            "title": {"text": "price"},
            "showgrid": False,
            # Own round ticks: plotly would otherwise line them up with the USD grid.
            "tickmode": "auto",
            "nticks": 6,
            "tickformat": ",",
            "tickfont": {"color": PRICE_COLOR},
        },
    }


def _source_heading(label: str, upper: float) -> dict[str, object]:
    """``Source: <label>`` above the left end of the row whose top is ``upper``."""
    return {
        "text": f"Source: {label}",
        "x": 0.0,
        "xanchor": "left",
        "xref": "paper",
        "y": upper,
        "yanchor": "bottom",
        "yref": "paper",
        "showarrow": False,
        "font": {"size": 12, "color": "#c9ccd6"},
    }


def liquidations_figure(
    per_period: pd.DataFrame,
    *,
    source_label: str,
    layout: Literal["Mirrored", "Side by side"] = "Mirrored",
    title: str = "Liquidations",
    uirevision: str = "liquidations",
) -> go.Figure:
    """Bars of USD liquidated per period, longs red and shorts green, price on the right.

    The one-source case of :func:`comparison_figure`.

    Parameters
    ----------
    per_period : DataFrame
        From :func:`liquidations_by_period`.
    source_label : str
        Where the numbers come from ("True (simulated)", "Reported by OKX",
        "Estimate (model)"); shown above the bars.
    layout, title, uirevision
        As in :func:`comparison_figure`.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=2, freq="4h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [5.0, 1], "short_usd": [0.0, 4], "price": [10.0, 9]},
    ...                   index=idx)
    >>> fig = liquidations_figure(pp, source_label="Estimate (model)")
    >>> fig.data[0].name, fig.data[0].marker.color, fig.data[0].y.tolist()
    ('Longs liquidated', '#ef5350', [-5.0, -1.0])
    """
    return comparison_figure(
        {source_label: per_period}, layout=layout, title=title, uirevision=uirevision
    )


def attach_reported(market: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Add an exchange's reported liquidation events to a market frame, summed per bar.

    ``events`` is what :func:`liqcore.sources.fetch_liquidations` returns (indexed by
    time, with ``side`` and ``usd``). Bars before ``events.attrs["covered_from"]`` are
    zero and the frame's ``attrs["covered_from"]`` says from when the numbers are
    complete, so nothing reads them as "no liquidations" before that.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC", name="time")
    >>> market = pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=idx)
    >>> events = pd.DataFrame({"side": ["long", "short", "long"], "usd": [5.0, 7.0, 1.0]},
    ...     index=pd.to_datetime(["2024-01-01 01:10", "2024-01-01 01:20", "2024-01-01 02:59"],
    ...                          utc=True))
    >>> events.attrs["covered_from"] = pd.Timestamp("2024-01-01 01:00", tz="UTC")
    >>> out = attach_reported(market, events)
    >>> out["realized_long_usd"].tolist(), out["realized_short_usd"].tolist()
    ([0.0, 5.0, 1.0], [0.0, 7.0, 0.0])
    >>> str(out.attrs["covered_from"])
    '2024-01-01 01:00:00+00:00'
    """
    out = market.copy()
    bars = (
        np.searchsorted(
            market.index.asi8, events.index.as_unit(market.index.unit).asi8, side="right"
        )
        - 1
    )
    inside = (bars >= 0) & (bars < len(market))
    for side in ("long", "short"):
        mask = inside & (events["side"].to_numpy() == side)
        out[f"realized_{side}_usd"] = np.bincount(
            bars[mask], weights=events["usd"].to_numpy()[mask], minlength=len(market)
        ).astype("float64")
    covered = events.attrs.get("covered_from")
    out.attrs = {**market.attrs, "covered_from": covered}
    return out
