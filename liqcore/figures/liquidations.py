"""Liquidation charts: USD liquidated per period, longs red and shorts green, with price."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.controls import LAYOUTS
from liqcore.figures.theme import DARK_TEMPLATE, LONG_COLOR, PRICE_COLOR, SHORT_COLOR, format_usd

__all__ = ["comparison_figure", "liquidations_figure"]


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
            "height": 340 + 190 * len(labels),
            # The legend sits under the rows (above them it covered the title on a phone).
            "margin": {"l": 60, "r": 70, "t": 80, "b": 110},
            "barmode": "relative" if mirrored else "group",
            "bargap": 0.1,
            "hovermode": "x unified",
            "uirevision": uirevision,
            "legend": {
                "orientation": "h",
                "y": -70 / (190 * len(labels) + 150),  # paper units: 70 px under the rows
                "x": 0.0,
                "xanchor": "left",
                "yanchor": "top",
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
