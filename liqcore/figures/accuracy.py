"""The Accuracy page's figures: the true and the estimated book side by side, the fitted mix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.figures.theme import (
    DARK_TEMPLATE,
    ESTIMATE_NOTE,
    HEAT_COLORSCALE,
    colour_ticks,
    format_usd,
)
from liqcore.model import Grid, Heatmap

__all__ = ["book_comparison_figure", "mix_figure"]

_MIX_COLOURS = ("#9aa0a6", "#f58518", "#54a24b", "#4c78a8", "#e45756")


def _same_grid(a: Grid, b: Grid) -> bool:
    return (
        a.start_bar == b.start_bar
        and np.array_equal(a.column_end, b.column_end)
        and np.array_equal(a.price_edges, b.price_edges)
    )


def book_comparison_figure(
    truth: Heatmap,
    estimated: Heatmap,
    market: pd.DataFrame,
    *,
    cap_percentile: float = 99.0,
    title: str = "The true book and the estimated book",
    uirevision: str = "accuracy",
) -> go.Figure:
    """The true and the estimated book over time side by side, on one grid and colour scale.

    Parameters
    ----------
    truth, estimated : Heatmap
        On the same grid (``truth_on(sim, est.heatmap.grid).heatmap`` and ``est.heatmap``).
    market : DataFrame
        The market frame both were computed on (its closes draw the price line).
    cap_percentile : float
        Colours saturate at this percentile of the non-empty cells of both maps.
    title, uirevision : str
        The chart's heading, and the key under which plotly keeps the user's zoom.

    Returns
    -------
    plotly.graph_objects.Figure
        The true book on the left (axes ``x``/``y``), the estimate on the right
        (``x2``/``y2``, zoomed together with the left), the closes over both.

    Examples
    --------
    >>> from liqcore.model import ModelParams, estimate
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=2, interval="15min", seed=4)
    >>> est = estimate(sim.market, ModelParams(time_bins=40, price_bins=30))
    >>> fig = book_comparison_figure(sim.true_heatmap(est.heatmap.grid), est.heatmap, sim.market)
    >>> [t.type for t in fig.data], fig.layout.xaxis2.matches
    (['heatmap', 'heatmap', 'scatter', 'scatter'], 'x')
    """
    grid = estimated.grid
    if not _same_grid(truth.grid, grid):
        msg = "the true and the estimated book must be on the same grid to share a colour scale"
        raise ValueError(msg)
    if grid.column_end[-1] >= len(market):
        msg = f"the market frame has {len(market)} bars; the grid reaches bar {grid.column_end[-1]}"
        raise ValueError(msg)
    true_usd = np.asarray(truth.total, dtype="float32")
    est_usd = np.asarray(estimated.total, dtype="float32")
    positive = np.concatenate([true_usd[true_usd > 0], est_usd[est_usd > 0]])
    zmax = max(float(np.percentile(positive, cap_percentile)) if positive.size else 1.0, 1.0)
    centres = grid.times + (grid.time_edges[1:] - grid.time_edges[:-1]) / 2
    prices = grid.prices.astype("float32")
    close = market["close"].to_numpy("float32")[grid.column_end]
    traces = [
        _book_heat(centres, prices, true_usd, what="true", axis=""),
        _book_heat(centres, prices, est_usd, what="estimated", axis="2"),
        *(_book_price_line(centres, close, axis) for axis in ("", "2")),
    ]
    now_true, now_est = float(true_usd[-1].sum()), float(est_usd[-1].sum())
    # Two short lines each: side by side on a phone, each book is ~130 px wide.
    headings = (
        (0.0, f"<b>True book</b> (simulated)<br>{format_usd(now_true)} at risk now"),
        (0.515, f"<b>Estimated book</b> (estimate)<br>{format_usd(now_est)} at risk now"),
    )
    layout = _book_comparison_layout(grid, zmax, headings, title=title, uirevision=uirevision)
    return go.Figure(data=traces, layout=layout)


def _book_heat(
    centres: pd.DatetimeIndex, prices: np.ndarray, usd: np.ndarray, *, what: str, axis: str
) -> dict[str, object]:
    """One book's USD at risk (time x price) as cells on the shared colour axis."""
    return {
        "type": "heatmap",
        "x": centres,
        "y": prices,
        "z": usd.T,
        "coloraxis": "coloraxis",
        "zsmooth": False,
        "name": f"{what} USD at risk",
        "hovertemplate": (
            f"%{{x|%b %d %H:%M}}<br>price %{{y:,.2f}}<br>{what} USD at risk "
            "%{z:$,.0f}<extra></extra>"
        ),
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
    }


def _book_price_line(centres: pd.DatetimeIndex, close: np.ndarray, axis: str) -> dict[str, object]:
    """The close of each column over one of the two books."""
    return {
        "type": "scatter",
        "x": centres,
        "y": close,
        "mode": "lines",
        "line": {"color": "#e6e6e6", "width": 1},
        "name": "price",
        "showlegend": False,
        "hovertemplate": "price %{y:,.2f}<extra></extra>",
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
    }


def _book_comparison_layout(
    grid: Grid,
    zmax: float,
    headings: Sequence[tuple[float, str]],
    *,
    title: str,
    uirevision: str,
) -> dict[str, object]:
    """The two books' frame: matched axes side by side, one colour bar up to ``zmax`` USD.

    ``headings`` are (left edge in paper units, text), one above each book.
    """
    tickvals, ticktext = colour_ticks(zmax, log_scale=False)
    price_range = [float(grid.price_edges[0]), float(grid.price_edges[-1])]
    return {
        "template": DARK_TEMPLATE,
        "title": {"text": f"{title}<br><sup>{ESTIMATE_NOTE}</sup>", "x": 0.01},
        "height": 570,
        "margin": {"l": 60, "r": 20, "t": 150, "b": 100},
        "uirevision": uirevision,
        "showlegend": False,
        "coloraxis": {
            "colorscale": HEAT_COLORSCALE,
            "cmin": 0.0,
            "cmax": zmax,
            # Under the books, not beside them: upright, it took a third of a phone's width.
            "colorbar": {
                "title": {"text": "USD at risk", "side": "top"},
                "tickvals": tickvals,
                "ticktext": ticktext,
                "orientation": "h",
                "x": 0.0,
                "xanchor": "left",
                "y": -0.16,
                "yanchor": "top",
                "len": 0.5,
                "thickness": 10,
            },
        },
        "xaxis": {"domain": [0.0, 0.485], "anchor": "y", "nticks": 4},
        "xaxis2": {"domain": [0.515, 1.0], "anchor": "y2", "matches": "x", "nticks": 4},
        "yaxis": {"anchor": "x", "range": price_range, "title": {"text": "price"}},
        "yaxis2": {"anchor": "x2", "matches": "y", "showticklabels": False},
        "annotations": [
            {
                "xref": "paper",
                "yref": "paper",
                "x": x,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "bottom",
                "text": text,
                "showarrow": False,
                "align": "left",
                "font": {"size": 11},
            }
            for x, text in headings
        ],
    }


def mix_figure(
    mixes: Mapping[str, Sequence[float]],
    tiers: Sequence[float],
    *,
    title: str = "Leverage mix: share of new notional per tier",
) -> go.Figure:
    """Leverage mixes side by side as grouped bars (each mix normalised to sum to one).

    Examples
    --------
    >>> fig = mix_figure({"assumed": (3, 1), "calibrated": (1, 1)}, (10, 100))
    >>> [t.name for t in fig.data], fig.data[0].y.tolist()
    (['assumed', 'calibrated'], [0.75, 0.25])
    """
    labels = [f"{lev:g}x" for lev in tiers]
    traces: list[dict[str, object]] = []
    for k, (name, weights) in enumerate(mixes.items()):
        shares = np.asarray(weights, dtype="float64")
        if len(shares) != len(labels) or shares.sum() <= 0:
            msg = f"mix {name!r} needs {len(labels)} non-negative weights, got {tuple(weights)}"
            raise ValueError(msg)
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": shares / shares.sum(),
                "name": name,
                "marker": {"color": _MIX_COLOURS[k % len(_MIX_COLOURS)]},
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            }
        )
    return go.Figure(
        data=traces,
        layout={
            "template": DARK_TEMPLATE,
            "title": {"text": title, "x": 0.01},
            "height": 380,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 70},
            "barmode": "group",
            "legend": {"orientation": "h", "y": -0.1, "yanchor": "top", "x": 0.0},
            "yaxis": {"tickformat": ".0%", "title": {"text": "share of new notional"}},
        },
    )
