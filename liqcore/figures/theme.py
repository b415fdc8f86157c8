"""The figures' theme: colours, the dark template, axes, colour-bar ticks and USD text.

One place for every colour the charts share: longs red and shorts green as on every
liquidation chart, the price line, the heat scale and the leverage tiers.
"""

from __future__ import annotations

import numpy as np

from liqcore.controls import LEVERAGE_LABELS

__all__ = [
    "DARK_TEMPLATE",
    "ESTIMATE_NOTE",
    "GRID_COLOR",
    "HEAT_COLORSCALE",
    "LONG_COLOR",
    "PRICE_COLOR",
    "SHORT_COLOR",
    "TIER_COLORS",
    "axis_style",
    "colour_ticks",
    "format_usd",
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
#: One colour per leverage tier, lowest leverage first (keys: :data:`LEVERAGE_LABELS`).
TIER_COLORS: dict[str, str] = dict(
    zip(LEVERAGE_LABELS, ("#4c78a8", "#72b7b2", "#eeca3b", "#f58518", "#e45756"), strict=True)
)
LONG_COLOR = "#ef5350"  # longs liquidated = forced sells, red as on every liquidation chart
SHORT_COLOR = "#26a69a"
PRICE_COLOR = "#f5c518"  # the price line of every chart
ESTIMATE_NOTE = "Estimate from public data, not exchange data"
GRID_COLOR = "#262a36"


#: A small dark template: plotly's "plotly_dark" is deep-copied on every use and costs ~0.2 s.
DARK_TEMPLATE: dict[str, object] = {
    "layout": {
        "font": {"color": "#e6e6e6", "size": 12},
        "paper_bgcolor": "#0e1117",
        "plot_bgcolor": "#0e1117",
        "xaxis": {"gridcolor": GRID_COLOR, "zerolinecolor": GRID_COLOR, "linecolor": GRID_COLOR},
        "yaxis": {"gridcolor": GRID_COLOR, "zerolinecolor": GRID_COLOR, "linecolor": GRID_COLOR},
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


def colour_ticks(zmax: float, log_scale: bool) -> tuple[list[float], list[str]]:
    """Colour-bar ticks up to ``zmax`` USD, labelled in short USD (:func:`format_usd`).

    About five round steps; on a log scale the powers of ten up to ``zmax`` (six at most),
    placed at their log10 as the log-scaled colours are.

    Examples
    --------
    >>> colour_ticks(1_000_000, log_scale=False)[1]
    ['$0', '$200K', '$400K', '$600K', '$800K', '$1M']
    >>> colour_ticks(5e6, log_scale=True)
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], ['$10', '$100', '$1K', '$10K', '$100K', '$1M'])
    """
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


def axis_style(**extra: object) -> dict[str, object]:
    """An axis of the dark theme: grid, zero line and edge in :data:`GRID_COLOR`, plus ``extra``."""
    return {"gridcolor": GRID_COLOR, "zerolinecolor": GRID_COLOR, "linecolor": GRID_COLOR, **extra}
