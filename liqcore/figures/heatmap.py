"""The heatmap figure: the estimated book over time under candles, with the level profile.

One figure in panels: the heat (USD at each price and time), OHLC bars, the current
book by leverage beside it with cumulative curves, and optional indicator panels.
:class:`FrozenFigure` carries a finished figure's JSON so a rerun need not rebuild it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.analysis.indicators import RSI_PERIOD, available_indicators, indicator_values
from liqcore.figures.theme import (
    ESTIMATE_NOTE,
    HEAT_COLORSCALE,
    LONG_COLOR,
    PRICE_COLOR,
    SHORT_COLOR,
    TIER_COLORS,
    axis_style,
    colour_ticks,
)
from liqcore.model import Estimate, Grid, Heatmap

__all__ = [
    "HEAT_COLUMNS",
    "HEAT_HEIGHT",
    "PANEL_HEIGHT",
    "FrozenFigure",
    "column_candles",
    "heatmap_figure",
]


def column_candles(market: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """One OHLC candle per grid column (the bars of a column merged).

    Examples
    --------
    >>> from liqcore.model import make_grid
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"open": [1.0, 2, 3, 4], "high": [2.0, 3, 4, 5],
    ...                   "low": [0.5, 1, 2, 3], "close": [2.0, 3, 4, 5]}, index=idx)
    >>> g = make_grid(idx, m.low.to_numpy(), m.high.to_numpy(), time_bins=2)
    >>> column_candles(m, g)[["open", "high", "low", "close"]].to_numpy().tolist()
    [[1.0, 3.0, 0.5, 3.0], [3.0, 5.0, 2.0, 5.0]]
    """
    first = np.concatenate([[grid.start_bar], grid.column_end[:-1] + 1])
    last = grid.column_end
    high = np.maximum.reduceat(market["high"].to_numpy(), first)[: len(last)]
    low = np.minimum.reduceat(market["low"].to_numpy(), first)[: len(last)]
    return pd.DataFrame(
        {
            "open": market["open"].to_numpy()[first],
            "high": high,
            "low": low,
            "close": market["close"].to_numpy()[last],
        },
        index=grid.times,
    )


#: Time columns of the Heatmap page's heat: the payload stays under 0.3 MB (float32 cells)
#: and a column is still narrower than 6 px on a 1,440 px page.
HEAT_COLUMNS = 180


#: Heights (px) of the chart's parts: the heat under the candles, one indicator panel.
HEAT_HEIGHT = 560


PANEL_HEIGHT = 110


_PANEL_GAP = 0.025


#: Axis numbers: 1 heat and price, 2 liquidation map, 5 its cumulative curves, 7 distance
#: from price; the indicator panels take 8, 9, ... (a panel numbered 5 took over the
#: cumulative curves' axis and broke the chart).
_FIRST_PANEL_AXIS = 8


#: Where the heat ends and the liquidation map begins (fractions of the chart's width).
_HEAT_RIGHT = 0.8


_MAP_LEFT = 0.81


#: Indicator panel styles: line colour, hover format, axis suffix.
_INDICATOR_STYLE: dict[str, tuple[str, str, str]] = {
    "RSI": ("#c792ea", "%{y:.1f}", ""),
    "Funding": (PRICE_COLOR, "%{y:.4f}%", "%"),
    "Open interest": ("#9ecae1", "%{y:$,.0f}", ""),
    "Long/short": ("#ff9e80", "%{y:.3f}", ""),
}


def heatmap_figure(
    estimate: Estimate,
    market: pd.DataFrame,
    *,
    side: Literal["Both", "Longs", "Shorts"] = "Both",
    cap_percentile: float = 99.0,
    log_scale: bool = False,
    title: str = "Estimated liquidation heatmap",
    uirevision: str = "heatmap",
    indicators: Sequence[str] = ("Open interest",),
    confluence: pd.DataFrame | None = None,
) -> go.Figure:
    """Heatmap of estimated USD at risk under candles, liquidation map beside it, indicators below.

    Built as plain trace and layout dictionaries in one pass: plotly's object API
    (make_subplots, update_*, add_hline) validates property by property and costs
    several hundred milliseconds per figure, too slow for a slider that feels live.

    What the browser spends its time on was measured (``bench/app.py --profile``,
    ``Plotly.newPlot`` on variants of this figure in headless Chromium): a heatmap given
    an ``x`` array of times took ~250 ms to draw, the same cells placed with ``x0``/``dx``
    ~55 ms; the liquidation map as 5 × 240 horizontal bars ~150 ms, as 5 stacked step
    areas ~40 ms; candlesticks took about twice as long as OHLC bars to redraw. So the
    cells sit on an even time grid (``x0``/``dx``, each within one bar of its column), the
    map is drawn as areas and price as OHLC bars. Per-cell hover data (the distance
    from price) would add a third to the payload: the heat trace carries the price in
    ``meta.distance_from`` and the app's browser side adds the distance to the hover
    (``ui/plotly_extras.js``); it is also on the right-hand axis and in the map's hover.

    Parameters
    ----------
    estimate : Estimate
    market : DataFrame
        The market frame the estimate was made from.
    side : {"Both", "Longs", "Shorts"}
        Which positions to colour.
    cap_percentile : float
        Colours saturate at this percentile of the non-empty cells, so one huge
        cluster does not turn everything else purple.
    log_scale : bool
        Colour by log10 of USD instead of USD.
    title : str
    uirevision : str
        Plotly keeps the user's zoom while this string stays the same.
    indicators : sequence of str
        Panels under the candles (:data:`liqcore.analysis.indicators.INDICATORS`); the ones the
        data has no column for are left out.
    confluence : DataFrame, optional
        Clusters seen on several timeframes (:func:`liqcore.analysis.confluence.confluence`),
        marked on the liquidation map.

    Returns
    -------
    plotly.graph_objects.Figure
        Heat and candles on axes ``x``/``y``, the liquidation map on ``x2``/``y2``, the
        indicator panels from axis :data:`_FIRST_PANEL_AXIS` down.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> from liqcore.model import estimate as run
    >>> sim = simulate(days=3, interval="15m", seed=2)
    >>> fig = heatmap_figure(run(sim.market), sim.market, indicators=["RSI"])
    >>> sorted({t.type for t in fig.data})
    ['heatmap', 'ohlc', 'scatter']
    >>> [t.name for t in fig.data if t.yaxis == f"y{_FIRST_PANEL_AXIS}"]
    ['RSI']
    """
    grid = estimate.heatmap.grid
    price = estimate.price
    x0, dx_ms = _even_time_grid(grid)
    centres = _utc_text(grid.times + (grid.time_edges[1:] - grid.time_edges[:-1]) / 2)
    x_range = _utc_text(grid.time_edges[[0, -1]]).tolist()
    panels = [name for name in available_indicators(market) if name in indicators]
    height, panel_share, heat_bottom = _vertical_split(len(panels))
    traces: list[dict[str, object]] = [
        _heat_trace(
            estimate.heatmap, side, cap_percentile, log_scale, x0=x0, dx_ms=dx_ms, price=price
        ),
        _candle_trace(column_candles(market, grid), centres),
        *_profile_traces(estimate, side),
        *_confluence_traces(confluence, side),
        _distance_axis_carrier(centres[-1], price),
    ]
    layout = _heatmap_layout(
        grid,
        price,
        title=title,
        uirevision=uirevision,
        height=height,
        heat_bottom=heat_bottom,
        x_range=x_range,
        with_panels=bool(panels),
    )
    last_panel = _FIRST_PANEL_AXIS + len(panels) - 1
    bottom_axis = "xaxis" if not panels else f"xaxis{last_panel}"
    # The lowest time axis carries the dates. The panels' own axes say so too; the key still
    # goes in here first because plotly writes the axes in this order (the figure's JSON).
    layout[bottom_axis] = {**layout.get(bottom_axis, {}), "showticklabels": True}
    for number, name in enumerate(panels, start=_FIRST_PANEL_AXIS):
        top = heat_bottom - _PANEL_GAP - panel_share * (number - _FIRST_PANEL_AXIS)
        values = indicator_values(market, name)[grid.column_end]
        traces.append(_indicator_trace(name, values, number, x0=x0, dx_ms=dx_ms))
        layout.update(
            _indicator_axes(
                name,
                number,
                top=top,
                share=panel_share,
                x_range=x_range,
                dated=number == last_panel,
            )
        )
        layout["annotations"].append(_indicator_label(name, top))
        if name == "RSI":
            layout["shapes"] += [_panel_guide(number, level) for level in (30, 70)]
    # The dicts above follow plotly's schema (the tests render them); validating them again
    # property by property costs ~100 ms per figure, a third of a slider move's budget.
    return go.Figure(data=traces, layout=layout, _validate=False)


def _even_time_grid(grid: Grid) -> tuple[str, float]:
    """Where the heat's first cell is centred (UTC text) and the cells' width in ms.

    An even grid over the columns' span: plotly draws ``x0``/``dx`` cells ~5x faster than
    cells at an array of times (see :func:`heatmap_figure`); each cell stays within one
    bar of its column.
    """
    t_start = grid.time_edges[0]
    span = grid.time_edges[-1] - t_start
    dx_ms = span.total_seconds() * 1000.0 / len(grid.times)
    x0 = _utc_text(pd.DatetimeIndex([t_start + pd.Timedelta(milliseconds=dx_ms / 2)]))[0]
    return x0, dx_ms


def _vertical_split(panel_count: int) -> tuple[int, float, float]:
    """The chart's height (px), one indicator panel's share of it and where the heat begins.

    Shares are paper fractions: the panels stack at the bottom, the heat above them.
    """
    height = HEAT_HEIGHT + PANEL_HEIGHT * panel_count
    panel_share = PANEL_HEIGHT / height
    heat_bottom = panel_share * panel_count + (_PANEL_GAP if panel_count else 0.0)
    return height, panel_share, heat_bottom


def _heat_trace(
    heat: Heatmap,
    side: str,
    cap_percentile: float,
    log_scale: bool,
    *,
    x0: str,
    dx_ms: float,
    price: float,
) -> dict[str, object]:
    """The USD at risk of ``side`` as coloured cells, with a horizontal colour bar in USD.

    Colours saturate at ``cap_percentile`` of the non-empty cells; on a log scale they
    span six decades below that cap.
    """
    if side == "Longs":
        usd = heat.long
    elif side == "Shorts":
        usd = heat.short
    else:
        usd = heat.total
    usd = np.asarray(usd, dtype="float32")
    positive = usd[usd > 0]
    zmax = float(np.percentile(positive, cap_percentile)) if positive.size else 1.0
    zmax = max(zmax, 1.0)
    z = usd.T  # plotly wants [y, x]
    if log_scale:
        z_shown = np.log10(np.maximum(z, 1.0)).astype("float32")
        zmax_shown = float(np.log10(zmax))
        zmin = max(zmax_shown - 6, 0.0)
        hover_usd = "%{z:.2f} (log10 USD)"
    else:
        z_shown, zmin, zmax_shown = z, 0.0, zmax
        hover_usd = "%{z:$,.0f}"
    tickvals, ticktext = colour_ticks(zmax, log_scale)
    prices = heat.prices
    return {
        "type": "heatmap",
        "x0": x0,
        "dx": dx_ms,
        "y0": float(prices[0]),
        "dy": float(prices[1] - prices[0]) if len(prices) > 1 else 1.0,
        "z": z_shown,
        "zmin": zmin,
        "zmax": zmax_shown,
        "colorscale": HEAT_COLORSCALE,
        # Horizontal, under the chart: a vertical bar took a third of a phone's width.
        "colorbar": {
            "title": {"text": "USD at risk (estimate)", "side": "top", "font": {"size": 11}},
            "tickvals": tickvals,
            "ticktext": ticktext,
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": -0.03,
            "yanchor": "top",
            "len": 0.45,
            "thickness": 10,
            "tickfont": {"size": 10},
        },
        "hovertemplate": (
            "%{x|%Y-%m-%d %H:%M}<br>price %{y:,.2f}<br>USD at risk (est.) "
            f"{hover_usd}<extra></extra>"
        ),
        "name": "USD at risk (estimate)",
        # The app's browser side fills in each row's distance from this price for the
        # hover (ui/plotly_extras.js): per-cell hover data sent from here would add a
        # third to the figure's bytes, and the distance is the same along a row.
        "meta": {"distance_from": price},
        "zsmooth": False,
        "xaxis": "x",
        "yaxis": "y",
    }


def _candle_trace(candles: pd.DataFrame, centres: np.ndarray) -> dict[str, object]:
    """Price as one OHLC bar per heat column (:func:`column_candles`), at the columns' centres.

    OHLC bars, not candlesticks: the same four prices and hover, and plotly redraws them
    in about half the time (a candle is a box-plot box underneath).
    """
    return {
        "type": "ohlc",
        "x": centres,
        "open": candles["open"].to_numpy("float32"),
        "high": candles["high"].to_numpy("float32"),
        "low": candles["low"].to_numpy("float32"),
        "close": candles["close"].to_numpy("float32"),
        "increasing": {"line": {"color": "#f0f0f0", "width": 1.2}},
        "decreasing": {"line": {"color": "#9a9a9a", "width": 1.2}},
        "tickwidth": 0.4,
        "name": "price",
        "showlegend": False,
        "xaxis": "x",
        "yaxis": "y",
    }


def _distance_axis_carrier(time: str, price: float) -> dict[str, object]:
    """One invisible point that carries the distance-from-price axis.

    Plotly draws an axis only for a trace on it.
    """
    return {
        "type": "scatter",
        "x": [time],
        "y": [price],
        "mode": "markers",
        "marker": {"opacity": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": "distance from price",
        "xaxis": "x",
        "yaxis": "y7",
    }


def _heatmap_layout(
    grid: Grid,
    price: float,
    *,
    title: str,
    uirevision: str,
    height: int,
    heat_bottom: float,
    x_range: list[str],
    with_panels: bool,
) -> dict[str, object]:
    """The chart's frame without the indicator panels: title, legend, the price line.

    The axes are :func:`_heat_and_map_axes`; the legend sits under the colour bar.
    """
    return {
        "title": {
            "text": f"{title}<br><sup>{ESTIMATE_NOTE}</sup>",
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": 14},
        },
        "height": height,
        # Wide enough for the price labels (left), the map's last USD label (right) and the
        # colour bar and legend (below) on a desktop page: when plotly has to widen a
        # margin it draws the whole figure a second time (measured in the browser).
        "margin": {"l": 61, "r": 25, "t": 56, "b": 130},
        "barmode": "stack",
        "hovermode": "closest",
        "uirevision": uirevision,
        "font": {"color": "#e6e6e6", "size": 12},
        "paper_bgcolor": "#0e1117",
        "plot_bgcolor": "#0e1117",
        # Under the colour bar (left to right, wrapping on a phone), never over it.
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": -0.03 - 64 / (height - 56 - 130),  # paper units: the plot area's height
            "yanchor": "top",
            "font": {"size": 10},
            # Fixed-width entries: two to a row on a phone, all in one row on a desktop.
            "entrywidth": 88,  # the text; plotly adds the symbol (~40 px)
            "entrywidthmode": "pixels",
        },
        **_heat_and_map_axes(grid, price, heat_bottom, x_range, with_panels),
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": price,
                "y1": price,
                "line": {"color": PRICE_COLOR, "width": 1, "dash": "dot"},
            }
        ],
        "annotations": [
            {
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": price,
                "yanchor": "bottom",
                "text": f"price {price:,.2f}",
                "showarrow": False,
                "font": {"color": PRICE_COLOR, "size": 11},
                "bgcolor": "rgba(14,17,23,0.75)",
            },
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": "liquidation map",
                "showarrow": False,
                "font": {"size": 10},
            },
        ],
    }


def _heat_and_map_axes(
    grid: Grid, price: float, heat_bottom: float, x_range: list[str], with_panels: bool
) -> dict[str, object]:
    """Axes of the heat and the liquidation map: time, price, map USD, cumulative USD, distance.

    Numbered 1, 2, 5 and 7 (:data:`_FIRST_PANEL_AXIS`). The map shares the heat's price
    axis; ``with_panels``, the dates are written under the lowest panel instead.
    """
    low_edge, high_edge = float(grid.price_edges[0]), float(grid.price_edges[-1])
    return {
        "xaxis": axis_style(
            domain=[0, _HEAT_RIGHT],
            anchor="y",
            range=x_range,
            rangeslider={"visible": False},
            showticklabels=not with_panels,
        ),
        "yaxis": axis_style(
            domain=[heat_bottom, 1],
            anchor="x",
            range=[low_edge, high_edge],
            tickformat=",.0f" if price >= 100 else ",.4~g",
        ),
        "xaxis2": axis_style(
            domain=[_MAP_LEFT, 1],
            anchor="y2",
            tickprefix="$",
            tickformat="~s",
            nticks=3,
            tickfont={"size": 9},
        ),
        "yaxis2": axis_style(
            domain=[heat_bottom, 1], anchor="x2", matches="y", showticklabels=False
        ),
        # The cumulative curves: their own axis over the map, no labels (the hover says it).
        "xaxis5": {
            "overlaying": "x2",
            "anchor": "y2",
            "side": "top",
            "showgrid": False,
            "showticklabels": False,
        },
        # Distance from price, inside the heat's right edge.
        "yaxis7": {
            "overlaying": "y",
            "matches": "y",
            "anchor": "x",
            "side": "right",
            "showgrid": False,
            "ticklabelposition": "inside",
            "tickfont": {"size": 9, "color": PRICE_COLOR},
            **_distance_ticks(price, low_edge, high_edge),
        },
    }


def _indicator_trace(
    name: str, values: np.ndarray, number: int, *, x0: str, dx_ms: float
) -> dict[str, object]:
    """One indicator's line (one value per heat column) on panel axis ``number``."""
    colour, hover, _ = _INDICATOR_STYLE[name]
    return {
        "type": "scatter",
        "x0": x0,
        "dx": dx_ms,  # the heat's even grid: no array of times to send again
        "y": values.astype("float32"),
        "mode": "lines",
        "line": {"color": colour, "width": 1.3},
        "name": name,
        "hovertemplate": f"%{{x|%Y-%m-%d %H:%M}}<br>{name} {hover}<extra></extra>",
        "showlegend": False,
        "xaxis": f"x{number}",
        "yaxis": f"y{number}",
    }


def _indicator_axes(
    name: str, number: int, *, top: float, share: float, x_range: list[str], dated: bool
) -> dict[str, object]:
    """An indicator panel's time axis and value axis.

    The time axis follows the heat's and shows the dates when ``dated`` (the lowest
    panel); the value axis reaches from ``top`` down one ``share`` of the chart.
    """
    extra: dict[str, object] = {}
    if name == "RSI":
        extra = {"range": [0, 100], "tickvals": [30, 70]}
    elif name == "Open interest":
        extra = {"tickprefix": "$", "tickformat": "~s"}
    return {
        f"xaxis{number}": axis_style(
            domain=[0, _HEAT_RIGHT],
            anchor=f"y{number}",
            matches="x",
            range=x_range,
            showticklabels=dated,
        ),
        f"yaxis{number}": axis_style(
            domain=[max(top - share + _PANEL_GAP, 0.0), top],
            anchor=f"x{number}",
            ticksuffix=_INDICATOR_STYLE[name][2],
            nticks=3,
            tickfont={"size": 9},
            **extra,
        ),
    }


def _indicator_label(name: str, top: float) -> dict[str, object]:
    """The panel's name, inside its top-left corner: beside it sat the map's axis labels."""
    return {
        "xref": "paper",
        "x": 0.005,
        "xanchor": "left",
        "yref": "paper",
        "y": top,
        "yanchor": "top",
        "bgcolor": "rgba(14,17,23,0.75)",
        "text": name if name != "RSI" else f"RSI({RSI_PERIOD})",
        "showarrow": False,
        "font": {"size": 10, "color": _INDICATOR_STYLE[name][0]},
    }


def _panel_guide(number: int, level: float) -> dict[str, object]:
    """A dotted line across panel ``number`` at ``level`` (RSI's 30 and 70)."""
    return {
        "type": "line",
        "xref": f"x{number} domain",
        "x0": 0,
        "x1": 1,
        "yref": f"y{number}",
        "y0": level,
        "y1": level,
        "line": {"color": "#555a66", "width": 1, "dash": "dot"},
    }


def _utc_text(times: pd.DatetimeIndex) -> np.ndarray:
    """Times as short UTC text for plotly (``2026-01-01 13:45:00``): 40 % fewer bytes than
    ISO with an offset, and plotly reads and shows them as they are."""
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return np.asarray(times.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)


def _distance_ticks(price: float, low: float, high: float) -> dict[str, object]:
    """Ticks at round distances from price (about six over the visible range)."""
    spread = max(price - low, high - price) / price * 100
    step = next((s for s in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50) if spread / s <= 4), 100.0)
    steps = np.arange(-np.floor(spread / step), np.floor(spread / step) + 1) * step
    values = price * (1 + steps / 100)
    keep = (values > low) & (values < high) & (steps != 0)
    return {
        "tickvals": [float(v) for v in values[keep]],
        "ticktext": [f"{s:+g}%" for s in steps[keep]],
    }


def _profile_traces(estimate: Estimate, side: str) -> list[dict[str, object]]:
    """Liquidation map of the current book: tiers as stacked step areas, cumulative curves on top.

    Areas, not bars: 5 paths instead of 5 × 240 rectangles for the browser to draw.
    """
    levels = estimate.levels
    price = estimate.price
    prices = levels["price"].to_numpy("float32")
    distance = ((prices - price) / price * 100).astype("float32")
    traces: list[dict[str, object]] = []
    step = float(prices[1] - prices[0]) if len(prices) > 1 else 1.0
    for label in estimate.params.tier_labels():
        values = np.zeros(len(levels))
        if side in ("Both", "Longs"):
            values += levels[f"long_usd_{label}"].to_numpy()
        if side in ("Both", "Shorts"):
            values += levels[f"short_usd_{label}"].to_numpy()
        colour = TIER_COLORS.get(label, "#999999")
        traces.append(
            {
                "type": "scatter",
                "x": values.astype("float32"),
                "y0": float(prices[0]),  # even price bins: no array of prices to send
                "dy": step,
                "orientation": "h",
                "stackgroup": "tiers",  # plotly stacks the tiers and fills between them
                "mode": "lines",
                "line": {"color": colour, "width": 0.5, "shape": "vh"},
                "fillcolor": colour,
                "name": label,
                "customdata": distance,
                "hovertemplate": (
                    f"{label}: %{{x:$,.0f}} at %{{y:,.2f}}<br>"
                    "distance %{customdata:+.2f}%<extra>liquidation map (est.)</extra>"
                ),
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    for column, name, colour, show in (
        ("cum_long_usd", "cumulative longs", LONG_COLOR, side in ("Both", "Longs")),
        ("cum_short_usd", "cumulative shorts", SHORT_COLOR, side in ("Both", "Shorts")),
    ):
        values = levels[column].to_numpy()
        mask = values > 0
        if not show or not mask.any():
            continue
        traces.append(
            {
                "type": "scatter",
                "x": values[mask].astype("float32"),
                "y": prices[mask],
                "mode": "lines",
                "line": {"color": colour, "width": 2},
                "name": name,
                "xaxis": "x5",
                "yaxis": "y2",
                "hovertemplate": (
                    f"{name}: %{{x:$,.0f}} liquidated if price reaches %{{y:,.2f}}"
                    "<extra>estimate</extra>"
                ),
            }
        )
    return traces


def _confluence_traces(
    confluence: pd.DataFrame | None, side: str = "Both"
) -> list[dict[str, object]]:
    """Diamonds on the liquidation map at clusters seen on several timeframes (of ``side``)."""
    if confluence is None or confluence.empty:
        return []
    shown = {"Both": ("long", "short"), "Longs": ("long",), "Shorts": ("short",)}[side]
    shared = confluence[
        (confluence["timeframe_count"] >= 2) & confluence["side"].isin(shown).to_numpy()
    ]
    if shared.empty:
        return []
    return [
        {
            "type": "scatter",
            "x": np.zeros(len(shared), dtype="float32"),
            "y": shared["price"].to_numpy("float32"),
            # Markers only: text labels overlapped the map on a phone; the hover, the legend
            # and the magnet-zone table say which timeframes.
            "mode": "markers",
            "marker": {
                "symbol": "diamond",
                "size": 9,
                "color": "#ffffff",
                "line": {"color": "#0e1117", "width": 1},
            },
            "text": shared["timeframes"].tolist(),
            "name": "multi-timeframe",
            "customdata": shared["usd"].to_numpy("float32"),
            "hovertemplate": (
                "cluster at %{y:,.2f} on %{text}<br>%{customdata:$,.0f} on this timeframe"
                "<extra>confluence (est.)</extra>"
            ),
            "cliponaxis": False,
            "xaxis": "x2",
            "yaxis": "y2",
        }
    ]


class FrozenFigure(go.Figure):
    """A figure whose JSON-ready form was computed once (and may come from a cache).

    ``st.plotly_chart`` turns every figure into a dict and then into JSON on each
    rerun; for the heatmap that is ~50 ms of deep copies and base64 encoding per
    slider move. A frozen figure hands over its finished dict instead.

    Examples
    --------
    >>> frozen = FrozenFigure.of(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])))
    >>> frozen.to_dict()["data"][0]["type"]
    'scatter'
    """

    def __init__(self, spec: dict[str, object]) -> None:
        super().__init__()
        self._spec = spec

    @classmethod
    def of(cls, figure: go.Figure) -> FrozenFigure:
        """Freeze a figure: arrays become plotly's base64 typed arrays, once."""
        return cls(json.loads(figure.to_json()))

    @property
    def spec(self) -> dict[str, object]:
        """The JSON-ready dict (picklable, for caches)."""
        return self._spec

    def to_dict(self) -> dict[str, object]:
        return self._spec

    def to_plotly_json(self) -> dict[str, object]:
        return self._spec
