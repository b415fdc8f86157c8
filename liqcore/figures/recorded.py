"""The figure of liquidations recorded from live feeds, with the periods not recorded shaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

from liqcore.figures.liquidations import comparison_figure

__all__ = ["GAP_COLOR", "recorded_figure"]

GAP_COLOR = "rgba(160, 160, 175, 0.16)"


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
