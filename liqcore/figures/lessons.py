"""The Learn page's figures: the calculator, levels opening bar by bar, the annotated heatmap,
the cascade and leverage risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.analysis.lessons import LESSON_LEVERAGES
from liqcore.figures.heatmap import heatmap_figure
from liqcore.figures.theme import (
    DARK_TEMPLATE,
    ESTIMATE_NOTE,
    LONG_COLOR,
    PRICE_COLOR,
    SHORT_COLOR,
    TIER_COLORS,
    axis_style,
    format_usd,
)
from liqcore.market import bar_interval
from liqcore.model import Estimate, liquidation_price

__all__ = [
    "annotated_heatmap_figure",
    "calculator_figure",
    "cascade_figure",
    "leverage_risk_figure",
    "opening_figure",
]

_MARGIN = {"l": 60, "r": 30, "t": 60, "b": 40}


def _figure(
    traces: list[dict[str, object]], title: str, height: int, **layout: object
) -> go.Figure:
    """A figure from plain dictionaries, validated once.

    Plotly's object API (make_subplots, add_*, update_*) validates property by property
    and costs a few hundred milliseconds per figure; sliders should feel live.
    """
    return go.Figure(
        data=traces,
        layout={
            "template": DARK_TEMPLATE,
            "title": {"text": title, "x": 0.01},
            "height": height,
            "margin": _MARGIN,
            **layout,
        },
    )


def calculator_figure(
    result: dict[str, float | str], compare: Sequence[float] = LESSON_LEVERAGES
) -> go.Figure:
    """A leverage ladder: how far price can move before each leverage is liquidated.

    One row per leverage, a bar from the entry to that leverage's liquidation price;
    the position of ``result`` is highlighted in its side's colour.

    Parameters
    ----------
    result : dict
        Output of :func:`calculator`.
    compare : sequence of float
        Leverages drawn in grey for comparison (those with no liquidation price for this
        side and mmr are skipped).

    Examples
    --------
    >>> from liqcore.analysis.lessons import calculator
    >>> fig = calculator_figure(calculator(60_000, 20, "short"))
    >>> rows = list(fig.data[0].y)
    >>> rows, fig.data[0].marker.color[rows.index("20x (you)")]
    (['2x', '5x', '10x', '20x (you)', '25x', '50x', '100x'], '#26a69a')
    """
    entry, side, mmr = float(result["entry"]), str(result["side"]), float(result["mmr"])
    mine = float(result["leverage"])
    colour = LONG_COLOR if side == "long" else SHORT_COLOR
    usable = [lev for lev in compare if (side == "short" or lev > 1) and 1.0 / lev > mmr]
    leverages = sorted({*usable, mine})
    prices = liquidation_price(entry, np.asarray(leverages, dtype="float64"), side, mmr)
    labels = [f"{lev:g}x (you)" if lev == mine else f"{lev:g}x" for lev in leverages]
    distance = (prices - entry) / entry * 100.0
    bar = {
        "type": "bar",
        "x": prices - entry,
        "base": entry,
        "y": labels,
        "orientation": "h",
        "marker": {
            "color": [colour if lev == mine else "#4a4f5c" for lev in leverages],
            "line": {"width": 0},
        },
        "text": [f"{p:,.2f} ({d:+.2f}%)" for p, d in zip(prices, distance, strict=True)],
        # Inside a bar long enough to hold it, else beside it: outside, the longest bar's
        # label ran over its leverage on a phone.
        "textposition": "auto",
        "cliponaxis": False,
        "hovertemplate": "%{y}: liquidated at %{text}<extra></extra>",
        "name": "liquidation price",
    }
    far = float(np.max(np.abs(prices - entry)))
    span = [entry - 1.45 * far, entry + 0.1 * far]
    if side == "short":
        span = [entry - 0.1 * far, entry + 1.45 * far]
    return _figure(
        [bar],
        f"How far price can move before a {side} is liquidated",
        120 + 34 * len(leverages),
        showlegend=False,
        bargap=0.35,
        xaxis=axis_style(range=span, title={"text": "price"}, tickformat=",.6~g"),
        # Low leverage (long bars) on top, reading down to the short ones.
        yaxis=axis_style(autorange="reversed"),
        shapes=[_vline(entry, "#e6e6e6", width=2)],
        annotations=[_label(entry, f"entry {entry:,.2f}")],
    )


def _vline(x: object, colour: str, width: float = 1, dash: str = "solid") -> dict[str, object]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": width, "dash": dash},
    }


def _hline(y: float, colour: str, width: float = 1, dash: str = "solid") -> dict[str, object]:
    return {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "width": width, "dash": dash},
    }


def _label(x: object, text: str, colour: str = "#e6e6e6") -> dict[str, object]:
    """A label above the plot at data x."""
    return {
        "xref": "x",
        "yref": "paper",
        "x": x,
        "y": 1,
        "yanchor": "bottom",
        "text": text,
        "showarrow": False,
        "font": {"color": colour},
    }


def opening_figure(
    levels: pd.DataFrame,
    market: pd.DataFrame,
    upto_bar: int,
    tiers: Iterable[str] | None = None,
    price_bins: int = 60,
) -> go.Figure:
    """Replay :func:`opening_levels` up to one bar: candles, level lines and the pile they form.

    Parameters
    ----------
    levels : DataFrame
        Output of :func:`opening_levels`.
    market : DataFrame
        The market frame of the window (``len(market)`` = the window's bars).
    upto_bar : int
        Show bars ``0 … upto_bar`` of the window.
    tiers : iterable of str, optional
        Leverage tiers to draw (e.g. ``["50x", "100x"]``); all by default.
    price_bins : int
        Bins of the right-hand profile of the levels still open.

    Examples
    --------
    >>> from liqcore.analysis.lessons import opening_levels
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=1, interval="15m", seed=3)
    >>> lv = opening_levels(sim, n_bars=12)
    >>> fig = opening_figure(lv, sim.market.iloc[-12:], upto_bar=9, tiers=["100x"])
    >>> sorted({t.name for t in fig.data})
    ['100x', 'liquidated', 'price']
    """
    n_bars = len(market)
    upto = int(np.clip(upto_bar, 0, n_bars - 1))
    step = bar_interval(market) if n_bars > 1 else pd.Timedelta(minutes=15)
    times = market.index
    chosen = list(tiers) if tiers is not None else sorted(levels["tier"].unique(), key=_tier_key)
    chosen = sorted(chosen, key=_tier_key)
    shown = levels[levels["tier"].isin(chosen)]
    now = shown[shown["bar"] <= upto]
    dead = (now["liquidated_bar"] >= 0) & (now["liquidated_bar"] <= upto)
    lo, hi = _price_span(shown, market)
    traces = [
        _window_candles(market.iloc[: upto + 1], step),
        *_level_lines(now, dead, chosen, times[0], step, upto),
        *_liquidation_marks(now[dead], times, step),
        *_still_open_profile(now[~dead], chosen, np.linspace(lo, hi, price_bins + 1)),
    ]
    # Short lines: a plotly title does not wrap, and a phone is ~360 px wide.
    title = (
        f"Bar {upto + 1} of {n_bars}: {len(now)} groups opened, {int(dead.sum())} liquidated"
        "<br><sup>Simulated positions, known exactly here;<br>"
        "on real markets the heatmap estimates them</sup>"
    )
    return _figure(
        traces,
        title,
        500,
        barmode="stack",
        bargap=0,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.12, "x": 0.0},
        margin={**_MARGIN, "t": 84},
        xaxis=axis_style(
            # A gap before the pile: the last time label sat on its "$0" on a phone.
            domain=[0, 0.7],
            range=[times[0], times[-1] + step],
            rangeslider={"visible": False},
            nticks=4,
        ),
        yaxis=axis_style(range=[lo, hi], title={"text": "price"}, tickformat=",.0f"),
        xaxis2=axis_style(
            domain=[0.8, 1],
            anchor="y2",
            tickprefix="$",
            tickformat="~s",
            nticks=3,
            title={"text": "still open"},
        ),
        yaxis2=axis_style(anchor="x2", matches="y", showticklabels=False),
    )


def _window_candles(candles: pd.DataFrame, step: pd.Timedelta) -> dict[str, object]:
    """The price of the bars replayed so far, candles centred on their bar."""
    return {
        "type": "candlestick",
        "x": candles.index + step / 2,
        "open": candles["open"].to_numpy(),
        "high": candles["high"].to_numpy(),
        "low": candles["low"].to_numpy(),
        "close": candles["close"].to_numpy(),
        "increasing": {"line": {"color": "#e6e6e6", "width": 1}, "fillcolor": "#e6e6e6"},
        "decreasing": {"line": {"color": "#8a8a8a", "width": 1}, "fillcolor": "#3a3a3a"},
        "name": "price",
        "showlegend": False,
    }


def _level_lines(
    opened: pd.DataFrame,
    liquidated: pd.Series,
    chosen: Sequence[str],
    origin: pd.Timestamp,
    step: pd.Timedelta,
    upto: int,
) -> list[dict[str, object]]:
    """One trace per tier: each group's liquidation price, from its opening to its end.

    A line starts mid opening bar and ends mid liquidation bar (``liquidated`` by bar
    ``upto``), or at the right edge of what is shown; a tier's lines are one trace with gaps.
    """
    traces = []
    for tier in chosen:
        rows = opened[opened["tier"] == tier]
        if rows.empty:
            continue
        gone = liquidated[rows.index].to_numpy()
        start = _at(origin, step, rows["bar"].to_numpy() + 0.5)
        end = _at(origin, step, np.where(gone, rows["liquidated_bar"] + 0.5, upto + 1.0))
        xs = np.empty(3 * len(rows), dtype=object)
        ys = np.empty(3 * len(rows), dtype=object)
        xs[0::3], xs[1::3], xs[2::3] = list(start), list(end), None
        ys[0::3] = ys[1::3] = rows["liq_price"].to_numpy()
        ys[2::3] = None
        text = [
            f"{tier} {side} opened {t:%H:%M}, liquidation {p:,.0f} ({d:+.2f}%), {format_usd(u)}"
            for side, t, p, d, u in zip(
                rows["side"],
                rows["time"],
                rows["liq_price"],
                rows["distance_pct"],
                rows["usd"],
                strict=True,
            )
        ]
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "line": {"color": TIER_COLORS.get(tier, "#999999"), "width": 2},
                "name": tier,
                "text": [t for t in text for _ in range(3)],
                "hovertemplate": "%{text}<extra></extra>",
                "legendgroup": tier,
            }
        )
    return traces


def _liquidation_marks(
    died: pd.DataFrame, times: pd.DatetimeIndex, step: pd.Timedelta
) -> list[dict[str, object]]:
    """A cross where each group was liquidated (no trace when none was)."""
    if died.empty:
        return []
    return [
        {
            "type": "scatter",
            "x": times[died["liquidated_bar"].to_numpy()] + step / 2,
            "y": died["liq_price"].to_numpy(),
            "mode": "markers",
            "marker": {"symbol": "x", "size": 9, "color": "#ffffff"},
            "name": "liquidated",
            "hovertemplate": "liquidated at %{y:,.0f}<extra></extra>",
        }
    ]


def _still_open_profile(
    still_open: pd.DataFrame, chosen: Sequence[str], edges: np.ndarray
) -> list[dict[str, object]]:
    """The right-hand pile: USD still open per price bin, one stacked bar trace per tier."""
    centres = 0.5 * (edges[:-1] + edges[1:])
    traces = []
    for tier in chosen:
        rows = still_open[still_open["tier"] == tier]
        usd, _ = np.histogram(rows["liq_price"], bins=edges, weights=rows["usd"])
        traces.append(
            {
                "type": "bar",
                "x": usd,
                "y": centres,
                "orientation": "h",
                "marker": {"color": TIER_COLORS.get(tier, "#999999"), "line": {"width": 0}},
                "name": tier,
                "legendgroup": tier,
                "showlegend": False,
                "hovertemplate": f"{tier}: %{{x:$,.0f}} still open near %{{y:,.0f}}<extra></extra>",
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    return traces


def _at(origin: pd.Timestamp, step: pd.Timedelta, bars: np.ndarray) -> pd.DatetimeIndex:
    """Times ``origin + bars × step`` for fractional bar positions."""
    return origin + pd.to_timedelta(np.asarray(bars, dtype="float64") * step.value, unit="ns")


def _tier_key(label: str) -> float:
    return float(str(label).rstrip("x"))


def _price_span(levels: pd.DataFrame, market: pd.DataFrame) -> tuple[float, float]:
    liq = levels["liq_price"].to_numpy()
    lo = min(float(market["low"].min()), float(np.min(liq, initial=np.inf)))
    hi = max(float(market["high"].max()), float(np.max(liq, initial=-np.inf)))
    pad = 0.04 * (hi - lo) or 0.01 * hi
    return lo - pad, hi + pad


def annotated_heatmap_figure(
    est: Estimate,
    market: pd.DataFrame,
    *,
    labels: Iterable[str] = ("axes", "colours", "candles", "longs", "shorts"),
    side: Literal["Both", "Longs", "Shorts"] = "Both",
) -> go.Figure:
    """A small heatmap with arrows that say what each part means.

    Parameters
    ----------
    est : Estimate
        Usually :func:`lesson_estimate`.
    market : DataFrame
        The market frame the estimate was made from.
    labels : iterable of str
        Which explanations to draw: ``"axes"``, ``"colours"``, ``"candles"``,
        ``"longs"`` (the largest cluster below price), ``"shorts"`` (above).
    side : {"Both", "Longs", "Shorts"}
        Which positions to colour.

    Examples
    --------
    >>> from liqcore.analysis.lessons import lesson_estimate
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=3, interval="15m", seed=2)
    >>> est = lesson_estimate(sim.market, days_shown=1)
    >>> fig = annotated_heatmap_figure(est, sim.market, labels=["longs", "shorts"])
    >>> [a.text.split(":")[0] for a in fig.layout.annotations if "cluster" in a.text]
    ['Long cluster', 'Short cluster']
    """
    wanted = set(labels)
    history = market.loc[est.heatmap.grid.times[0] :]
    fig = heatmap_figure(
        est,
        market,
        side=side,
        title="How to read the heatmap",
        uirevision="learn-heatmap",
    )
    zones = est.clusters(n=20)
    lo, hi = _lesson_view(history, zones, est.price)
    times = est.heatmap.grid.times
    notes = [
        *_reading_notes(wanted, times, history, lo, hi),
        *_cluster_notes(wanted, zones, times, lo, hi),
    ]
    fig.layout.yaxis.range = [lo, hi]
    fig.layout.annotations = (*fig.layout.annotations, *notes)
    fig.layout.height = 620
    fig.layout.margin.r = 170 if "colours" in wanted else fig.layout.margin.r
    fig.layout.showlegend = False
    return fig


def _lesson_view(history: pd.DataFrame, zones: pd.DataFrame, price: float) -> tuple[float, float]:
    """The price range shown: the candles, reaching out to each side's largest nearby cluster.

    The estimate keeps levels further away for the cascade lesson, so the view zooms on
    the candles; when their range misses a side's largest cluster within 15 % of price,
    it widens to take it in: the lesson is about where the clusters are.
    """
    lo, hi = float(history["low"].min()), float(history["high"].max())
    pad = max(0.35 * (hi - lo), 0.02 * price)
    lo, hi = lo - pad, hi + pad
    for side_name in ("long", "short"):
        side = zones[zones["side"] == side_name]
        if side.empty or side["price"].between(lo, hi).any():
            continue
        near = side[side["distance_pct"].abs() <= 15.0]
        if not near.empty:
            y = float(near["price"].iloc[0])
            lo, hi = min(lo, y - 0.01 * price), max(hi, y + 0.01 * price)
    return lo, hi


def _arrow_note(text: str, colour: str = "#ffffff", **where: object) -> dict[str, object]:
    """A boxed explanation with an arrow pointing at ``where`` (plotly annotation keys)."""
    return {
        "text": text,
        "showarrow": True,
        "arrowhead": 2,
        "arrowwidth": 1.5,
        "arrowcolor": colour,
        "font": {"color": colour, "size": 12},
        "bgcolor": "rgba(14,17,23,0.85)",
        "bordercolor": colour,
        "borderwidth": 1,
        **where,
    }


def _reading_notes(
    wanted: set[str], times: pd.DatetimeIndex, history: pd.DataFrame, lo: float, hi: float
) -> list[dict[str, object]]:
    """The notes on the axes, the colour scale and the candles, those ``wanted`` asks for."""
    notes: list[dict[str, object]] = []
    if "axes" in wanted:
        early_x = times[len(times) // 5]
        notes.append(
            _arrow_note(
                "Time runs left to right", xref="x", yref="y domain", x=early_x, y=0.0, ay=-36
            )
        )
        notes.append(
            _arrow_note(
                "Price, up the side",
                xref="x domain",
                yref="y",
                x=0.0,
                y=lo + 0.65 * (hi - lo),
                ax=90,
                ay=0,
            )
        )
    if "colours" in wanted:
        # Under the colour bar, in a right margin made wide enough for it.
        notes.append(
            {
                "text": "↑ Colour = USD that<br>would be liquidated<br>there (estimate).<br>"
                "Purple: little<br>Yellow, red: a lot",
                "xref": "paper",
                "yref": "paper",
                "x": 1.02,
                "y": 0.22,
                "xanchor": "left",
                "yanchor": "top",
                "align": "left",
                "showarrow": False,
                "font": {"color": "#ffffff", "size": 12},
                "bgcolor": "rgba(14,17,23,0.85)",
                "bordercolor": "#ffffff",
                "borderwidth": 1,
            }
        )
    if "candles" in wanted:
        last_high = float(history["high"].iloc[-1])
        notes.append(
            _arrow_note(
                "Candles: the price", xref="x", yref="y", x=times[-1], y=last_high, ax=-70, ay=-50
            )
        )
    return notes


def _cluster_notes(
    wanted: set[str], zones: pd.DataFrame, times: pd.DatetimeIndex, lo: float, hi: float
) -> list[dict[str, object]]:
    """An arrow to each side's largest cluster in view, for the sides ``wanted`` names."""
    late_x = times[int(0.85 * (len(times) - 1))]  # the clusters of the current book live here
    notes = []
    for side_name, text, colour, shift in (
        ("long", "Long cluster: longs are liquidated<br>if price falls here", LONG_COLOR, -40),
        ("short", "Short cluster: shorts are liquidated<br>if price rises here", SHORT_COLOR, 40),
    ):
        # The largest zone of this side inside the zoomed view (zones come largest first).
        zone = zones[(zones["side"] == side_name) & zones["price"].between(lo, hi)]
        if f"{side_name}s" in wanted and not zone.empty:
            y = float(zone["price"].iloc[0])
            notes.append(
                _arrow_note(text, colour, xref="x", yref="y", x=late_x, y=y, ax=-220, ay=shift)
            )
    return notes


def cascade_figure(
    levels: pd.DataFrame, price: float, rounds: pd.DataFrame, view_pct: float = 20.0
) -> go.Figure:
    """The book beside price, with the zone the move sweeps and where the cascade goes.

    Parameters
    ----------
    levels : DataFrame
        ``Estimate.levels`` or, to reach past the chart's price range,
        ``Estimate.wide_levels``.
    price : float
        ``Estimate.price``.
    rounds : DataFrame
        Output of :func:`liqcore.orderbook.cascade`.
    view_pct : float
        Price range shown, ± percent around price.

    Examples
    --------
    >>> from liqcore.analysis.lessons import lesson_estimate
    >>> from liqcore.orderbook import cascade, market_liquidity
    >>> from liqcore.simulate import simulate
    >>> market = simulate(days=3, interval="15m", seed=2).market
    >>> est = lesson_estimate(market, days_shown=1)
    >>> rounds = cascade(est.levels, est.price, -5, market_liquidity(market))
    >>> fig = cascade_figure(est.levels, est.price, rounds)
    >>> [t.name for t in fig.data][:3]
    ['longs (estimate)', 'shorts (estimate)', 'reached by the move and cascade']
    """
    first, last = rounds.iloc[0], rounds.iloc[-1]
    span = max(view_pct, abs(float(last["move_pct"])) + 2.0)
    # Only the bins in view are sent to the browser (a wide book spans ±50 % of price).
    centre = levels["price"].to_numpy()
    shown = np.abs(centre - price) <= price * (span + 1.0) / 100.0
    if shown.sum() >= 2:
        levels = levels[shown]
    reach = (float(first["price_to"]), float(last["price_to"]))
    shapes, notes = _move_and_cascade_marks(price, rounds)
    return _figure(
        _swept_book(levels, price, reach),
        # Short lines: a plotly title does not wrap, and a phone is ~360 px wide.
        f"What a {float(first['move_pct']):+.1f}% move would liquidate<br><sup>{ESTIMATE_NOTE}"
        "<br>the cascade is an illustration</sup>",
        520,
        barmode="overlay",
        bargap=0,
        legend={"orientation": "h", "y": -0.15, "x": 0.0},
        yaxis=axis_style(
            range=[price * (1 - span / 100), price * (1 + span / 100)],
            title={"text": "price"},
            tickformat=",.0f",
        ),
        xaxis=axis_style(
            tickprefix="$", tickformat="~s", title={"text": "USD at risk per price bin"}
        ),
        shapes=shapes,
        annotations=notes,
        # Three title lines: the plot starts below them (they sat on its top on a phone).
        # Left and bottom fit the price axis and the legend, so plotly need not widen them
        # and draw the figure twice (it did, on every control of the Heatmap page).
        margin={"l": 90, "r": 30, "t": 96, "b": 95},
    )


def _swept_book(
    levels: pd.DataFrame, price: float, reach: tuple[float, float]
) -> list[dict[str, object]]:
    """The book as dim step areas, the levels the move and the cascade reach drawn again bright.

    ``reach`` holds where the move and the cascade end. Filled step areas, not one bar
    per price bin: 4 paths instead of ~500 rectangles for the browser to draw (the
    Heatmap page draws this figure under its heatmap).
    """
    centres = levels["price"].to_numpy()
    below = centres <= price
    reached = (centres >= min(price, *reach)) & (centres <= max(price, *reach))
    distance = (centres - price) / price * 100.0
    step = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
    traces = []
    for name, column, mask, colour, fill in (
        ("longs (estimate)", "long_usd", below, LONG_COLOR, "rgba(239,83,80,0.35)"),
        ("shorts (estimate)", "short_usd", ~below, SHORT_COLOR, "rgba(38,166,154,0.35)"),
        ("reached by the move and cascade", "long_usd", below & reached, LONG_COLOR, LONG_COLOR),
        ("reached (shorts)", "short_usd", ~below & reached, SHORT_COLOR, SHORT_COLOR),
    ):
        values = np.where(mask, levels[column].to_numpy(), 0.0)
        if name.startswith("reached") and not values.any():
            continue
        traces.append(
            {
                "type": "scatter",
                "x": values,
                "y0": float(centres[0]),
                "dy": step,
                "mode": "lines",
                "line": {"color": colour, "width": 0.6, "shape": "vh"},
                "fill": "tozerox",
                "fillcolor": fill,
                "name": name,
                "showlegend": not name.startswith("reached ("),
                "customdata": distance,
                "hovertemplate": (
                    f"{name}: %{{x:$,.0f}} at %{{y:,.0f}} (%{{customdata:+.1f}}%)<extra></extra>"
                ),
            }
        )
    return traces


def _move_and_cascade_marks(
    price: float, rounds: pd.DataFrame
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Lines, bands and labels of price now, the zone the move sweeps and where the cascade ends."""
    first, last = rounds.iloc[0], rounds.iloc[-1]
    target, final = float(first["price_to"]), float(last["price_to"])
    shapes: list[dict[str, object]] = [_hline(price, PRICE_COLOR, dash="dot")]
    notes: list[dict[str, object]] = [_side_label(price, f"price now {price:,.0f}", PRICE_COLOR)]
    if float(first["move_pct"]) != 0:
        shapes.append(_band(price, target, PRICE_COLOR))
        notes.append(
            _side_label(
                target,
                f"your move: {format_usd(float(first['usd']))} liquidated (est.)",
                PRICE_COLOR,
                # Left and on the near side of its line; the cascade's label right and on
                # the far side of its own: the two never overlap, even on a phone.
                below=target < final,
            )
        )
    if abs(final - target) > 1e-9 * price:
        shapes.append(_band(target, final, "#ff8c1a"))
        shapes.append(_hline(final, "#ff8c1a", dash="dash"))
        extra = float(last["cum_usd"] - first["usd"])
        notes.append(
            _side_label(
                final,
                f"cascade (illustration): +{format_usd(extra)} in {len(rounds) - 1} round(s)",
                "#ff8c1a",
                right=True,
                below=final < target,
            )
        )
    return shapes, notes


def _band(y0: float, y1: float, colour: str) -> dict[str, object]:
    return {
        "type": "rect",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": y0,
        "y1": y1,
        "fillcolor": colour,
        "opacity": 0.12,
        "line": {"width": 0},
    }


def _side_label(
    y: float, text: str, colour: str, *, right: bool = False, below: bool = False
) -> dict[str, object]:
    """A label at price ``y`` against the left (or right) edge of the plot, above (or below) it."""
    return {
        "xref": "paper",
        "yref": "y",
        "x": 1 if right else 0,
        "xanchor": "right" if right else "left",
        "y": y,
        "yanchor": "top" if below else "bottom",
        "text": text,
        "showarrow": False,
        "font": {"color": colour},
        "bgcolor": "rgba(14,17,23,0.7)",
    }


def leverage_risk_figure(risk: pd.DataFrame, hours: float) -> go.Figure:
    """Bars of :func:`leverage_risk`: share of entries liquidated within the horizon.

    Examples
    --------
    >>> r = pd.DataFrame({"leverage": [5.0, 50.0], "distance_pct": [-19.9, -1.6],
    ...                   "long_liquidated_pct": [0.0, 40.0], "short_liquidated_pct": [0.0, 35.0]})
    >>> [t.name for t in leverage_risk_figure(r, 24).data]
    ['longs', 'shorts']
    """
    labels = [f"{lev:g}x" for lev in risk["leverage"]]
    traces = [
        {
            "type": "bar",
            "x": labels,
            "y": risk[column].to_numpy(),
            "name": name,
            "marker": {"color": colour},
            "text": [f"{v:.0f}%" for v in risk[column]],
            "textposition": "outside",
            "customdata": risk["distance_pct"].abs().to_numpy(),
            "hovertemplate": (
                f"%{{x}} {name}: liquidated in %{{y:.1f}}% of entries "
                "(a %{customdata:.1f}% move)<extra></extra>"
            ),
        }
        for name, column, colour in (
            ("longs", "long_liquidated_pct", LONG_COLOR),
            ("shorts", "short_liquidated_pct", SHORT_COLOR),
        )
    ]
    return _figure(
        traces,
        f"Liquidated within {hours:g} h of opening, in this simulated market",
        340,
        barmode="group",
        legend={"orientation": "h", "y": -0.25, "x": 0.0},
        yaxis=axis_style(range=[0, 110], ticksuffix="%", title={"text": "entries liquidated"}),
        xaxis=axis_style(title={"text": "leverage"}),
    )
