"""Realized liquidations: per period, by source (simulated truth, reported, recorded, estimated).

Every frame names its source; a period nothing was recorded in is unknown, never zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqcore.controls import PERIODS, SOURCES
from liqcore.market import bar_interval

__all__ = [
    "ESTIMATE_LABEL",
    "MAX_BARS",
    "TRUE_LABEL",
    "UNKNOWN_LABEL",
    "agreement",
    "attach_reported",
    "choose_period",
    "gaps",
    "largest_bars",
    "liquidations_by_period",
    "realized_from_market",
    "realized_source_label",
    "recorded_label",
    "recorded_per_period",
    "reported_label",
    "totals",
]

#: More bars than this are thinner than a pixel on a wide screen; :func:`choose_period` coarsens.
MAX_BARS = 1500


TRUE_LABEL = "True (simulated)"


ESTIMATE_LABEL = "Estimate (model)"


UNKNOWN_LABEL = "Recorded in the data"


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


def recorded_label(exchange_name: str) -> str:
    """Source label of liquidations recorded from a venue's feed.

    Examples
    --------
    >>> recorded_label("Bybit")
    'Recorded from Bybit (live feed)'
    """
    return f"Recorded from {exchange_name} (live feed)"


def recorded_per_period(bars: pd.DataFrame, price: pd.Series | None = None) -> pd.DataFrame:
    """The recorded periods to draw, shaped as :func:`liquidations_by_period`.

    Every period of ``bars`` stays, so the price runs on through a gap; periods with
    nothing recorded keep NaN amounts (no bar: unknown, not zero). ``price`` is the last
    close in each period (``price``'s bars placed onto the periods), NaN where it has none.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC", name="time")
    >>> bars = pd.DataFrame({"long_usd": [1.0, np.nan, 0.0], "short_usd": [2.0, np.nan, 5.0],
    ...     "total_usd": [3.0, np.nan, 5.0], "events": [2, 0, 1], "covered": [1, 0, 0.5]}, idx)
    >>> close = pd.Series([10.0, 11, 12, 13, 14, 15],
    ...                   index=pd.date_range("2024-01-01", periods=6, freq="30min", tz="UTC"))
    >>> recorded_per_period(bars, close)[["total_usd", "price", "covered"]]
                               total_usd  price  covered
    time
    2024-01-01 00:00:00+00:00        3.0   11.0      1.0
    2024-01-01 01:00:00+00:00        NaN   13.0      0.0
    2024-01-01 02:00:00+00:00        5.0   15.0      0.5
    """
    out = bars.copy()
    out["price"] = np.nan
    if price is not None and len(price) and len(bars):
        step = bars.index[1] - bars.index[0] if len(bars) > 1 else pd.Timedelta(days=1)
        stamps = price.index.as_unit(bars.index.unit).asi8
        slots = np.searchsorted(bars.index.asi8, stamps, "right") - 1
        inside = (slots >= 0) & (price.index < bars.index[-1] + step)
        last = pd.Series(price.to_numpy()[inside], index=bars.index[slots[inside]])
        last = last[~last.index.duplicated(keep="last")]
        out["price"] = last.reindex(bars.index).to_numpy(dtype="float64")
    out["bars"] = 1
    return out


def gaps(
    coverage: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    min_gap: pd.Timedelta | None = None,
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The parts of ``[start, end)`` outside every coverage span (merged spans, oldest first).

    Examples
    --------
    >>> cov = pd.DataFrame({"start": pd.to_datetime(["2024-01-01 01:00"], utc=True),
    ...                     "end": pd.to_datetime(["2024-01-01 02:00"], utc=True)})
    >>> [(str(a.time()), str(b.time())) for a, b in gaps(cov, cov.start[0] - pd.Timedelta("1h"),
    ...                                                 cov.end[0] + pd.Timedelta("1h"))]
    [('00:00:00', '01:00:00'), ('02:00:00', '03:00:00')]
    """
    out = []
    cursor = start
    for span_start, span_end in zip(coverage["start"], coverage["end"], strict=True):
        if span_start > cursor:
            out.append((cursor, min(span_start, end)))
        cursor = max(cursor, span_end)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    threshold = min_gap or pd.Timedelta(0)
    return [(a, b) for a, b in out if b > a and b - a > threshold]
