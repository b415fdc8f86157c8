"""Recorded liquidations per period as the Liquidations page draws them: bars, coverage, gaps.

The bars come from :meth:`liqcore.record.store.LiquidationStore.bars`; the figure is
:func:`liqcore.liquidations.comparison_figure` (recorded row first, the model's
estimate below it) with the periods the recorder was not connected shaded and
labelled "not recorded": a gap is unknown, never drawn as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.liquidations import comparison_figure

__all__ = ["GAP_COLOR", "gaps", "recorded_figure", "recorded_label", "recorded_per_period"]

GAP_COLOR = "rgba(160, 160, 175, 0.16)"


def recorded_label(exchange_name: str) -> str:
    """Source label of liquidations recorded from a venue's feed.

    Examples
    --------
    >>> recorded_label("Bybit")
    'Recorded from Bybit (live feed)'
    """
    return f"Recorded from {exchange_name} (live feed)"


def recorded_per_period(bars: pd.DataFrame, price: pd.Series | None = None) -> pd.DataFrame:
    """The recorded periods to draw, shaped as :func:`~liqcore.liquidations.liquidations_by_period`.

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


def _naive(stamp: pd.Timestamp) -> str:
    return pd.Timestamp(stamp).tz_convert("UTC").tz_localize(None).isoformat()


def recorded_figure(
    by_source: Mapping[str, pd.DataFrame],
    not_recorded: list[tuple[pd.Timestamp, pd.Timestamp]],
    *,
    layout: Literal["Mirrored", "Side by side"] = "Mirrored",
    title: str = "Recorded liquidations",
    uirevision: str = "recorded",
) -> go.Figure:
    """Recorded bars (first row) above other sources, the unrecorded spans shaded.

    Parameters
    ----------
    by_source : mapping of str to DataFrame
        Source label -> per-period frame; the recorded one first
        (:func:`recorded_per_period`).
    not_recorded : list of (start, end)
        Spans with no recording (:func:`gaps`), shaded on the recorded row and labelled.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [1.0, 2], "short_usd": [0.0, 1], "price": [5.0, 6]}, idx)
    >>> fig = recorded_figure({"Recorded from OKX (live feed)": pp},
    ...                       [(idx[0] - pd.Timedelta("2h"), idx[0])])
    >>> fig.layout.shapes[0].fillcolor, fig.layout.annotations[-1].text
    ('rgba(160, 160, 175, 0.16)', 'not recorded')
    """
    fig = comparison_figure(by_source, layout=layout, title=title, uirevision=uirevision)
    for trace in fig.data:
        # The recorded row's bars (first row, y axis "y"): a NaN amount is a gap, not "$nan".
        if trace.type == "bar" and trace.yaxis == "y" and trace.hovertext is not None:
            trace.hovertext = ["not recorded" if h == "$nan" else h for h in trace.hovertext]
    shapes = []
    notes = []
    for start, end in not_recorded:
        x0, x1 = _naive(start), _naive(end)
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",  # the recorded row only: the estimate has no gaps
                "x0": x0,
                "x1": x1,
                "y0": 0,
                "y1": 1,
                "fillcolor": GAP_COLOR,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "text": "not recorded",
                "x": x0,
                "xref": "x",
                "xanchor": "left",
                "y": 0.0,
                "yref": "y domain",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": "#9a9daa"},
            }
        )
    fig.update_layout(shapes=shapes, annotations=[*fig.layout.annotations, *notes])
    return fig
