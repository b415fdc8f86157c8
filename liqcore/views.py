"""Figures and tables built from model results (plotly; no streamlit).

Everything a page shows is built here so it can be tested without a browser:
the heatmap with candles and the liquidation map beside it, the open-interest
panel, the summary numbers, and the magnet-zone table. Arrays go to plotly as
float32 (plotly encodes them as base64 typed arrays), and candles are drawn one
per heatmap column so the payload stays near the plot's pixel size.
"""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.model import Estimate, Grid

__all__ = [
    "HEAT_COLORSCALE",
    "TIER_COLORS",
    "FrozenFigure",
    "book_summary",
    "column_candles",
    "format_usd",
    "heatmap_figure",
    "magnet_table",
]

#: Calm = deep purple/blue, hot = yellow/red, as on the commercial maps traders know.
HEAT_COLORSCALE: list[list[object]] = [
    [0.0, "#0b0a24"],
    [0.12, "#2a1b6b"],
    [0.3, "#2f4fa8"],
    [0.5, "#1f9e89"],
    [0.72, "#f6d32d"],
    [0.88, "#ff8c1a"],
    [1.0, "#ff2d1a"],
]
TIER_COLORS: dict[str, str] = {
    "5x": "#4c78a8",
    "10x": "#72b7b2",
    "25x": "#eeca3b",
    "50x": "#f58518",
    "100x": "#e45756",
}
LONG_COLOR = "#ef5350"  # longs liquidated = forced sells, red as on every liquidation chart
SHORT_COLOR = "#26a69a"
ESTIMATE_NOTE = "Estimate from public data, not exchange data"
_GRID = "#262a36"
#: A small dark template: plotly's "plotly_dark" is deep-copied on every use and costs ~0.2 s.
DARK_TEMPLATE: dict[str, object] = {
    "layout": {
        "font": {"color": "#e6e6e6", "size": 12},
        "paper_bgcolor": "#0e1117",
        "plot_bgcolor": "#0e1117",
        "xaxis": {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID},
        "yaxis": {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID},
        "hoverlabel": {"font": {"family": "monospace"}},
        "colorway": ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b"],
    }
}


def format_usd(value: float) -> str:
    """Short USD label: ``$1.25M``, ``$830K``, ``$2.1B``.

    Examples
    --------
    >>> format_usd(1_254_000), format_usd(830_000), format_usd(2.1e9), format_usd(12.5)
    ('$1.25M', '$830K', '$2.1B', '$12.5')
    """
    magnitude = abs(value)
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= threshold:
            return f"${value / threshold:.3g}{suffix}"
    return f"${value:.3g}"


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


def book_summary(estimate: Estimate) -> dict[str, float | None]:
    """Headline numbers of the current book: price, nearest clusters, USD near price.

    Returns
    -------
    dict
        ``price``; ``nearest_long_price`` / ``nearest_long_pct`` and the same for
        shorts (None when that side is empty); ``long_usd_2pct``, ``short_usd_2pct``,
        ``long_usd_5pct``, ``short_usd_5pct``: USD that a move of 2% / 5% would liquidate.
    """
    price = estimate.price
    levels = estimate.levels
    clusters = estimate.clusters(n=50)
    out: dict[str, float | None] = {"price": price}
    for side in ("long", "short"):
        zones = clusters[clusters["side"] == side]
        if zones.empty:
            out[f"nearest_{side}_price"] = out[f"nearest_{side}_pct"] = None
        else:
            nearest = zones.loc[zones["distance_pct"].abs().idxmin()]
            out[f"nearest_{side}_price"] = float(nearest["price"])
            out[f"nearest_{side}_pct"] = float(nearest["distance_pct"])
    centre = levels["price"].to_numpy()
    for pct in (2, 5):
        near = np.abs(centre - price) <= price * pct / 100
        out[f"long_usd_{pct}pct"] = float(levels.loc[near & (centre <= price), "long_usd"].sum())
        out[f"short_usd_{pct}pct"] = float(levels.loc[near & (centre > price), "short_usd"].sum())
    return out


def magnet_table(estimate: Estimate, n: int = 5, min_usd: float = 0.0) -> pd.DataFrame:
    """The largest clusters ("magnet zones") above and below price, ready to show.

    Columns: ``Side``, ``From``, ``To``, ``Centre``, ``USD at risk (est.)``, ``Distance %``.
    """
    zones = estimate.clusters(n=n, min_usd=min_usd)
    return pd.DataFrame(
        {
            "Side": np.where(zones["side"] == "long", "Longs (below)", "Shorts (above)"),
            "From": zones["price_low"].round(2),
            "To": zones["price_high"].round(2),
            "Centre": zones["price"].round(2),
            "USD at risk (est.)": zones["usd"].round(0),
            "Distance %": zones["distance_pct"].round(2),
        }
    )


def _colour_ticks(zmax: float, log_scale: bool) -> tuple[list[float], list[str]]:
    if zmax <= 0:
        return [0.0], ["$0"]
    if log_scale:
        top = int(np.floor(np.log10(max(zmax, 1.0))))
        values = [10.0**e for e in range(max(top - 5, 0), top + 1)]
        return [float(np.log10(v)) for v in values], [format_usd(v) for v in values]
    step = 10 ** np.floor(np.log10(zmax / 4))
    for mult in (1, 2, 2.5, 5, 10):
        if zmax / (step * mult) <= 5:
            step *= mult
            break
    values = list(np.arange(0, zmax + step / 2, step))
    return [float(v) for v in values], [format_usd(v) for v in values]


def _axis(**extra: object) -> dict[str, object]:
    return {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID, **extra}


def heatmap_figure(
    estimate: Estimate,
    market: pd.DataFrame,
    *,
    side: Literal["Both", "Longs", "Shorts"] = "Both",
    cap_percentile: float = 99.0,
    log_scale: bool = False,
    title: str = "Estimated liquidation heatmap",
    uirevision: str = "heatmap",
) -> go.Figure:
    """Heatmap of estimated USD at risk under candles, liquidation map beside it, OI below.

    Built as plain trace and layout dictionaries in one pass: plotly's object API
    (make_subplots, update_*, add_hline) validates property by property and costs
    several hundred milliseconds per figure, too slow for a slider that feels live.

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

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> from liqcore.model import estimate as run
    >>> sim = simulate(days=3, interval="15m", seed=2)
    >>> fig = heatmap_figure(run(sim.market), sim.market)
    >>> sorted({t.type for t in fig.data})
    ['bar', 'candlestick', 'heatmap', 'scatter']
    """
    heat = estimate.heatmap
    grid = heat.grid
    if side == "Longs":
        usd = heat.long
    elif side == "Shorts":
        usd = heat.short
    else:
        usd = heat.total
    usd = np.asarray(usd, dtype="float32")
    price = estimate.price
    positive = usd[usd > 0]
    zmax = float(np.percentile(positive, cap_percentile)) if positive.size else 1.0
    zmax = max(zmax, 1.0)
    # Column centres, so each cell sits over the candle of its column.
    centres = grid.times + (grid.time_edges[1:] - grid.time_edges[:-1]) / 2
    prices = heat.prices.astype("float32")
    distance = ((prices - price) / price * 100).astype("float32")
    z = usd.T  # plotly wants [y, x]
    if log_scale:
        z_shown = np.log10(np.maximum(z, 1.0)).astype("float32")
        zmax_shown = float(np.log10(zmax))
        zmin = max(zmax_shown - 6, 0.0)
        customdata = np.stack([z, np.broadcast_to(distance[:, None], z.shape)], axis=-1)
        hover_usd, hover_dist = "%{customdata[0]:$,.0f}", "%{customdata[1]:+.2f}%"
    else:
        z_shown, zmin, zmax_shown = z, 0.0, zmax
        customdata = np.ascontiguousarray(np.broadcast_to(distance[:, None], z.shape))
        hover_usd, hover_dist = "%{z:$,.0f}", "%{customdata:+.2f}%"
    tickvals, ticktext = _colour_ticks(zmax, log_scale)
    candles = column_candles(market, grid)
    traces: list[dict[str, object]] = [
        {
            "type": "heatmap",
            "x": centres,
            "y": prices,
            "z": z_shown,
            "zmin": zmin,
            "zmax": zmax_shown,
            "customdata": customdata,
            "colorscale": HEAT_COLORSCALE,
            "colorbar": {
                "title": {"text": "USD at risk<br>(estimate)", "side": "top"},
                "tickvals": tickvals,
                "ticktext": ticktext,
                "len": 0.75,
                "y": 0.62,
                "x": 1.02,
                "thickness": 12,
            },
            "hovertemplate": (
                "%{x|%Y-%m-%d %H:%M}<br>price %{y:,.2f}<br>USD at risk (est.) "
                f"{hover_usd}<br>distance from price {hover_dist}<extra></extra>"
            ),
            "name": "USD at risk (estimate)",
            "zsmooth": False,
            "xaxis": "x",
            "yaxis": "y",
        },
        {
            "type": "candlestick",
            "x": centres,
            "open": candles["open"].to_numpy("float32"),
            "high": candles["high"].to_numpy("float32"),
            "low": candles["low"].to_numpy("float32"),
            "close": candles["close"].to_numpy("float32"),
            "increasing": {"line": {"color": "#e6e6e6", "width": 1}, "fillcolor": "#e6e6e6"},
            "decreasing": {"line": {"color": "#8a8a8a", "width": 1}, "fillcolor": "#3a3a3a"},
            "name": "price",
            "showlegend": False,
            "xaxis": "x",
            "yaxis": "y",
        },
        *_profile_traces(estimate, side),
        *_open_interest_traces(market, grid, centres),
    ]
    low_edge, high_edge = float(grid.price_edges[0]), float(grid.price_edges[-1])
    x_range = [grid.time_edges[0], grid.time_edges[-1]]
    layout: dict[str, object] = {
        "title": {"text": f"{title}<br><sup>{ESTIMATE_NOTE}</sup>", "x": 0.01},
        "height": 720,
        "margin": {"l": 60, "r": 90, "t": 70, "b": 40},
        "barmode": "stack",
        "bargap": 0,
        "hovermode": "closest",
        "uirevision": uirevision,
        "font": {"color": "#e6e6e6", "size": 12},
        "paper_bgcolor": "#0e1117",
        "plot_bgcolor": "#0e1117",
        "legend": {"orientation": "h", "y": -0.06, "x": 0.79, "font": {"size": 10}},
        # Heatmap + candles; the liquidation map shares its price axis; OI shares its time axis.
        "xaxis": _axis(
            domain=[0, 0.79],
            anchor="y",
            range=x_range,
            rangeslider={"visible": False},
            showticklabels=False,
        ),
        "yaxis": _axis(
            domain=[0.24, 1], anchor="x", range=[low_edge, high_edge], title={"text": "price"}
        ),
        "xaxis2": _axis(
            domain=[0.8, 1],
            anchor="y2",
            tickprefix="$",
            exponentformat="B",
            nticks=3,
            title={"text": "liquidation map", "font": {"size": 10}},
        ),
        "yaxis2": _axis(domain=[0.24, 1], anchor="x2", matches="y", showticklabels=False),
        "xaxis3": _axis(domain=[0, 0.79], anchor="y3", matches="x", range=x_range),
        "yaxis3": _axis(
            domain=[0, 0.2], anchor="x3", title={"text": "OI"}, tickprefix="$", exponentformat="B"
        ),
        "xaxis5": {
            "overlaying": "x2",
            "anchor": "y2",
            "side": "top",
            "showgrid": False,
            "tickfont": {"size": 9},
            "tickprefix": "$",
            "exponentformat": "B",
            "nticks": 3,
            "title": {"text": "cumulative", "font": {"size": 10}},
        },
        "yaxis6": {
            "overlaying": "y3",
            "anchor": "x3",
            "side": "right",
            "showgrid": False,
            "ticksuffix": "%",
            "tickfont": {"size": 9, "color": "#f5c518"},
        },
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": price,
                "y1": price,
                "line": {"color": "#f5c518", "width": 1, "dash": "dot"},
            }
        ],
        "annotations": [
            {
                "xref": "paper",
                "x": 0.79,
                "xanchor": "right",
                "yref": "y",
                "y": price,
                "yanchor": "bottom",
                "text": f"price {price:,.2f}",
                "showarrow": False,
                "font": {"color": "#f5c518", "size": 11},
            }
        ],
    }
    # The dicts above follow plotly's schema (the tests render them); validating them again
    # property by property costs ~100 ms per figure, a third of a slider move's budget.
    return go.Figure(data=traces, layout=layout, _validate=False)


def _profile_traces(estimate: Estimate, side: str) -> list[dict[str, object]]:
    """Liquidation map of the current book: bars by tier, and cumulative curves on top."""
    levels = estimate.levels
    price = estimate.price
    prices = levels["price"].to_numpy("float32")
    distance = ((prices - price) / price * 100).astype("float32")
    traces: list[dict[str, object]] = []
    for label in estimate.params.tier_labels():
        values = np.zeros(len(levels))
        if side in ("Both", "Longs"):
            values += levels[f"long_usd_{label}"].to_numpy()
        if side in ("Both", "Shorts"):
            values += levels[f"short_usd_{label}"].to_numpy()
        traces.append(
            {
                "type": "bar",
                "x": values.astype("float32"),
                "y": prices,
                "orientation": "h",
                "name": label,
                "marker": {"color": TIER_COLORS.get(label, "#999999"), "line": {"width": 0}},
                "customdata": distance,
                "hovertemplate": (
                    f"{label}: %{{x:$,.0f}} at %{{y:,.2f}}<br>"
                    "distance %{customdata:+.2f}%<extra>liquidation map (est.)</extra>"
                ),
                "legendgroup": "tiers",
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


def _open_interest_traces(
    market: pd.DataFrame, grid: Grid, centres: pd.DatetimeIndex
) -> list[dict[str, object]]:
    oi = market["open_interest"].to_numpy()[grid.column_end]
    traces: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": centres,
            "y": oi.astype("float32"),
            "mode": "lines",
            "line": {"color": "#9ecae1", "width": 1.5},
            "name": "open interest",
            "hovertemplate": "%{x|%Y-%m-%d %H:%M}<br>open interest %{y:$,.0f}<extra></extra>",
            "showlegend": False,
            "xaxis": "x3",
            "yaxis": "y3",
        }
    ]
    if "funding_rate" in market.columns:
        funding = market["funding_rate"].to_numpy()[grid.column_end] * 100
        traces.append(
            {
                "type": "scatter",
                "x": centres,
                "y": funding.astype("float32"),
                "mode": "lines",
                "line": {"color": "#f5c518", "width": 1},
                "name": "funding %",
                "xaxis": "x3",
                "yaxis": "y6",
                "hovertemplate": "funding %{y:.4f}%<extra></extra>",
                "showlegend": False,
            }
        )
    return traces


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
