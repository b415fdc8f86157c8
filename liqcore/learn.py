"""Computations and figures of the Learn page: six short lessons on the simulated market.

Each lesson has one function that computes what the reader touches and one that
draws it (plotly; no streamlit here):

1. **What liquidation is** -- :func:`calculator` (liquidation price, distance, size,
   what is lost) and :func:`calculator_figure`.
2. **Where positions cluster** -- :func:`opening_levels`: the positions the simulated
   traders opened over a few bars, and :func:`opening_figure` to replay them bar by bar.
3. **Reading the heatmap** -- :func:`lesson_estimate` and :func:`annotated_heatmap_figure`.
4. **Magnet zones and cascades** -- :func:`liqcore.orderbook.sweep` (USD liquidated by a
   move of X%), :func:`liqcore.orderbook.cascade` (an illustration of liquidations pushing
   price into the next cluster, on the square-root impact model the simulated market uses)
   and :func:`cascade_figure` (also drawn on the Heatmap page).
5. **Liquidation charts** -- :func:`recent_liquidations`, drawn with
   :func:`liqcore.liquidations.liquidations_figure` (one liquidation chart in the app).
6. **Using it wisely** -- :func:`leverage_risk`: how often a position at each leverage
   was liquidated within a horizon in this market, and :func:`leverage_risk_figure`.

Numbers built from :func:`liqcore.model.estimate` are estimates and the figures say so;
the simulated market's own positions and liquidations are known exactly and are labelled
"simulated".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from liqcore.liquidations import liquidations_by_period, realized_from_market
from liqcore.market import bar_interval
from liqcore.model import Estimate, ModelParams, estimate, liquidation_price
from liqcore.orderbook import sweep
from liqcore.simulate import LIQUIDATED, SimulatedMarket
from liqcore.views import (
    DARK_TEMPLATE,
    ESTIMATE_NOTE,
    LONG_COLOR,
    SHORT_COLOR,
    TIER_COLORS,
    format_usd,
    heatmap_figure,
)

__all__ = [
    "LESSON_LEVERAGES",
    "annotated_heatmap_figure",
    "calculator",
    "calculator_figure",
    "cascade_figure",
    "lesson_estimate",
    "leverage_risk",
    "leverage_risk_figure",
    "opening_figure",
    "opening_levels",
    "recent_liquidations",
    "sweep",
]

#: Leverages compared in the calculator figure and the risk lesson.
LESSON_LEVERAGES: tuple[float, ...] = (2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
_PRICE_LINE = "#f5c518"
_MARGIN = {"l": 60, "r": 30, "t": 60, "b": 40}
_GRID = "#262a36"


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


def _axis(**extra: object) -> dict[str, object]:
    return {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID, **extra}


# ---------------------------------------------------------------------------
# 1. What liquidation is
# ---------------------------------------------------------------------------


def calculator(
    entry: float,
    leverage: float,
    side: str = "long",
    mmr: float = 0.004,
    margin_usd: float = 1_000.0,
) -> dict[str, float | str]:
    """Liquidation price and what is at stake for one isolated-margin position.

    Parameters
    ----------
    entry : float
        Entry price (USD per unit).
    leverage : float
        Leverage ``L``: the position is ``L`` times the margin.
    side : {"long", "short"}
        Case-insensitive.
    mmr : float
        Maintenance margin rate as a fraction (0.004 = 0.4%).
    margin_usd : float
        Margin put up, USD.

    Returns
    -------
    dict
        ``side``, ``entry``, ``leverage``, ``mmr``, ``margin_usd``; ``liq_price``
        (:func:`liqcore.model.liquidation_price`); ``distance_pct`` (signed move from
        entry to the liquidation price, negative for a long); ``position_usd``
        (``margin × L``); ``quantity`` (units); ``loss_at_liq_usd`` (what the price move
        costs by the liquidation price); ``margin_lost_usd`` (the whole margin: what is
        left at the liquidation price, ``mmr × quantity × liq_price``, goes to the
        liquidation engine, so isolated margin is lost in full).

    Raises
    ------
    ValueError
        In plain words, when the inputs have no liquidation price: a non-positive
        entry, margin or leverage, a long at 1x or less (its price would have to fall
        below zero) or a leverage so high that the margin is below the maintenance
        margin from the start.

    Examples
    --------
    >>> r = calculator(100_000, 10, "long", mmr=0.004, margin_usd=1_000)
    >>> round(r["liq_price"], 2), round(r["distance_pct"], 2), r["position_usd"]
    (90361.45, -9.64, 10000.0)
    >>> round(r["loss_at_liq_usd"], 2), r["margin_lost_usd"]
    (963.86, 1000.0)
    >>> calculator(100, 1, "long")
    Traceback (most recent call last):
    ...
    ValueError: A long at 1x cannot be liquidated: ...
    """
    side_name = str(side).strip().lower()
    if side_name not in ("long", "short"):
        msg = f"Side must be long or short, got {side!r}."
        raise ValueError(msg)
    values = {"entry": entry, "leverage": leverage, "margin": margin_usd}
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            msg = f"The {name} must be a positive number, got {value:g}."
            raise ValueError(msg)
    if not 0 <= mmr < 1:
        msg = f"The maintenance margin must be between 0% and 100%, got {mmr * 100:g}%."
        raise ValueError(msg)
    if side_name == "long" and leverage <= 1:
        msg = (
            f"A long at {leverage:g}x cannot be liquidated: the margin covers a fall all the "
            "way to zero, so there is no liquidation price. Pick a leverage above 1x."
        )
        raise ValueError(msg)
    if 1.0 / leverage <= mmr:
        msg = (
            f"At {leverage:g}x the margin ({100 / leverage:.3g}% of the position) is not more "
            f"than the maintenance margin ({mmr * 100:.3g}%): the position would be liquidated "
            f"as soon as it opens. Keep the leverage below {1 / mmr:.0f}x."
        )
        raise ValueError(msg)
    liq = float(liquidation_price(entry, leverage, side_name, mmr))
    position_usd = margin_usd * leverage
    quantity = position_usd / entry
    return {
        "side": side_name,
        "entry": float(entry),
        "leverage": float(leverage),
        "mmr": float(mmr),
        "margin_usd": float(margin_usd),
        "liq_price": liq,
        "distance_pct": (liq - entry) / entry * 100.0,
        "position_usd": float(position_usd),
        "quantity": float(quantity),
        "loss_at_liq_usd": float(quantity * abs(liq - entry)),
        "margin_lost_usd": float(margin_usd),
    }


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
        "textposition": "outside",
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
        xaxis=_axis(range=span, title={"text": "price"}, tickformat=",.6~g"),
        # Low leverage (long bars) on top, reading down to the short ones.
        yaxis=_axis(autorange="reversed"),
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


# ---------------------------------------------------------------------------
# 2. Where positions cluster
# ---------------------------------------------------------------------------


def opening_levels(
    sim: SimulatedMarket, n_bars: int = 12, first_bar: int | None = None
) -> pd.DataFrame:
    """The positions the simulated traders opened over a few bars, and their fate.

    The simulated market knows every position (on real markets nobody outside the
    exchange does; the heatmap estimates them). Each row is a group of traders who
    opened at the same moment, side, leverage and margin, so share one liquidation
    price. Positions with a stop-loss are left out: their stop closes them before
    their liquidation price.

    Parameters
    ----------
    sim : SimulatedMarket
    n_bars : int
        Length of the window, bars.
    first_bar : int, optional
        First bar of the window; defaults to the last ``n_bars`` bars.

    Returns
    -------
    DataFrame
        Columns ``bar`` (0 … n_bars − 1 within the window), ``time`` (bar open time),
        ``side`` ("long"/"short"), ``leverage`` (the setting), ``tier`` (nearest of the
        five tiers by effective leverage, e.g. "25x"), ``liq_price`` (at opening),
        ``usd`` (notional at opening), ``distance_pct`` (liquidation price relative to
        the bar's close) and ``liquidated_bar`` (window bar in which it was liquidated,
        −1 if it was not liquidated inside the window).

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> sim = simulate(days=1, interval="15m", seed=3)
    >>> lv = opening_levels(sim, n_bars=4)
    >>> sorted(lv["bar"].unique().tolist()), set(lv["tier"]) <= {"5x", "10x", "25x", "50x", "100x"}
    ([0, 1, 2, 3], True)
    >>> bool((lv.loc[lv.side == "long", "distance_pct"] < 0).all())
    True
    """
    n = len(sim.market)
    if not 1 <= n_bars <= n:
        msg = f"n_bars must be between 1 and the {n} bars of the market, got {n_bars}"
        raise ValueError(msg)
    first = n - n_bars if first_bar is None else int(first_bar)
    if not 0 <= first <= n - n_bars:
        msg = f"first_bar must be between 0 and {n - n_bars}, got {first_bar}"
        raise ValueError(msg)
    p = sim.positions
    window = (p.open_bar >= first) & (p.open_bar < first + n_bars)
    pick = np.flatnonzero(window & p.in_book)
    open_bar = p.open_bar[pick]
    liquidated = p.exit_reason[pick] == LIQUIDATED
    removal = np.where(liquidated, p.exit_bar[pick], len(sim.market))
    tiers = np.asarray(sim.leverage_tiers, dtype="float64")
    close = sim.market["close"].to_numpy()[open_bar]
    liq = sim.liquidation_price(open_bar, pick)
    frame = pd.DataFrame(
        {
            "bar": (open_bar - first).astype("int64"),
            "time": sim.market.index[open_bar],
            "side": np.where(p.is_long[pick], "long", "short"),
            "leverage": p.leverage[pick],
            "tier": [f"{lev:g}x" for lev in tiers[sim.tier_of()[pick]]],
            "liq_price": liq,
            "usd": p.usd[pick],
            "distance_pct": (liq - close) / close * 100.0,
            "liquidated_bar": np.where(removal < first + n_bars, removal - first, -1).astype(
                "int64"
            ),
        }
    )
    return frame.sort_values(["bar", "side", "leverage"], kind="stable").reset_index(drop=True)


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
    title = (
        f"Bar {upto + 1} of {n_bars}: {len(now)} groups of positions opened, "
        f"{int(dead.sum())} liquidated<br><sup>Simulated positions, known exactly here; "
        "on real markets the heatmap estimates them</sup>"
    )
    return _figure(
        traces,
        title,
        480,
        barmode="stack",
        bargap=0,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.12, "x": 0.0},
        xaxis=_axis(
            domain=[0, 0.74], range=[times[0], times[-1] + step], rangeslider={"visible": False}
        ),
        yaxis=_axis(range=[lo, hi], title={"text": "price"}, tickformat=",.0f"),
        xaxis2=_axis(
            domain=[0.78, 1],
            anchor="y2",
            tickprefix="$",
            tickformat="~s",
            nticks=3,
            title={"text": "still open"},
        ),
        yaxis2=_axis(anchor="x2", matches="y", showticklabels=False),
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


# ---------------------------------------------------------------------------
# 3. Reading the heatmap
# ---------------------------------------------------------------------------


def lesson_estimate(
    market: pd.DataFrame, days_shown: float = 4.0, reach_pct: float = 20.0
) -> Estimate:
    """The estimate the lessons share: the last few days, levels within ±``reach_pct``.

    All history before the shown days is a warm-up (positions opened then still count).
    The price axis is fixed around the last close so that the cascade lesson sees the
    levels of every tier (a 5x position is liquidated about 20% away).

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> est = lesson_estimate(simulate(days=3, interval="15m", seed=1).market, days_shown=1)
    >>> lo, hi = est.levels["price_low"].iloc[0], est.levels["price_high"].iloc[-1]
    >>> bool(abs(lo / est.price - 0.8) < 1e-9 and abs(hi / est.price - 1.2) < 1e-9)
    True
    """
    price = float(market["close"].iloc[-1])
    span = reach_pct / 100.0
    params = ModelParams(
        time_bins=120, price_bins=200, price_range=(price * (1 - span), price * (1 + span))
    )
    start = max(market.index[-1] - pd.Timedelta(days=days_shown), market.index[0])
    return estimate(market, params, start=start)


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


# ---------------------------------------------------------------------------
# 4. Magnet zones and cascades
# ---------------------------------------------------------------------------


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
        yaxis=_axis(
            range=[price * (1 - span / 100), price * (1 + span / 100)],
            title={"text": "price"},
            tickformat=",.0f",
        ),
        xaxis=_axis(tickprefix="$", tickformat="~s", title={"text": "USD at risk per price bin"}),
        shapes=shapes,
        annotations=notes,
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
    shapes: list[dict[str, object]] = [_hline(price, _PRICE_LINE, dash="dot")]
    notes: list[dict[str, object]] = [_side_label(price, f"price now {price:,.0f}", _PRICE_LINE)]
    if float(first["move_pct"]) != 0:
        shapes.append(_band(price, target, "#f5c518"))
        notes.append(
            _side_label(
                target,
                f"your move: {format_usd(float(first['usd']))} liquidated (est.)",
                "#f5c518",
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


# ---------------------------------------------------------------------------
# 5. Liquidation charts
# ---------------------------------------------------------------------------


def recent_liquidations(
    market: pd.DataFrame, period: str = "1h", days: float = 3.0
) -> pd.DataFrame:
    """USD liquidated per period over the last ``days`` days, for the liquidation-chart lesson.

    A window on :func:`liqcore.liquidations.liquidations_by_period` (draw it with
    :func:`liqcore.liquidations.liquidations_figure`).

    Parameters
    ----------
    market : DataFrame
        A market frame with ``realized_long_usd`` and ``realized_short_usd`` (the
        simulated market's true liquidations).
    period : str
        ``"15m"``, ``"1h"``, ``"4h"`` or ``"1d"``.
    days : float
        Days shown, counted back from the last bar.

    Returns
    -------
    DataFrame
        ``long_usd``, ``short_usd``, ``total_usd``, ``price``, ``bars`` per period.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=8, freq="15min", tz="UTC")
    >>> m = pd.DataFrame({"close": np.arange(8.0), "realized_long_usd": np.ones(8),
    ...                   "realized_short_usd": np.zeros(8)}, index=idx)
    >>> recent_liquidations(m, "1h", days=1)[["long_usd", "price"]].to_numpy().tolist()
    [[4.0, 3.0], [4.0, 7.0]]
    >>> recent_liquidations(m, "1h", days=0.01)["long_usd"].tolist()  # the last bar only
    [1.0]
    """
    realized = realized_from_market(market)
    if realized is None:
        msg = "this market has no liquidation data (realized_long_usd, realized_short_usd)"
        raise ValueError(msg)
    start = market.index[-1] - pd.Timedelta(days=days)
    return liquidations_by_period(realized.loc[start:], market["close"].loc[start:], period)


# ---------------------------------------------------------------------------
# 6. Using it wisely
# ---------------------------------------------------------------------------


def leverage_risk(
    market: pd.DataFrame,
    leverages: Sequence[float] = LESSON_LEVERAGES,
    hours: float = 24.0,
    mmr: float = 0.004,
) -> pd.DataFrame:
    """How often a position opened at a random bar's close was liquidated within ``hours``.

    For every bar with ``hours`` of history after it, a long (short) opened at its close
    is liquidated if a later low (high) within the horizon reaches its liquidation
    price. This is what happened in *this* market, not a probability for the future.

    Returns
    -------
    DataFrame
        ``leverage``, ``distance_pct`` (how far a long's liquidation price is, %),
        ``long_liquidated_pct`` and ``short_liquidated_pct`` (share of entries
        liquidated, %).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")
    >>> m = pd.DataFrame({"close": [100.0, 100, 100, 100], "high": [100.0, 102, 100, 100],
    ...                   "low": [100.0, 94, 100, 100]}, index=idx)
    >>> leverage_risk(m, leverages=[10, 50], hours=1).round(1)
       leverage  distance_pct  long_liquidated_pct  short_liquidated_pct
    0      10.0          -9.6                  0.0                   0.0
    1      50.0          -1.6                 33.3                  33.3
    """
    bar_hours = bar_interval(market).total_seconds() / 3600.0
    bars = max(round(hours / bar_hours), 1)
    n = len(market)
    if n <= bars:
        msg = f"the market has {n} bars, too few for a {hours:g}-hour horizon"
        raise ValueError(msg)
    close = market["close"].to_numpy()[: n - bars]
    # Window t covers the bars t+1 .. t+bars after the entry at bar t's close.
    later_low = np.lib.stride_tricks.sliding_window_view(market["low"].to_numpy()[1:], bars)
    later_high = np.lib.stride_tricks.sliding_window_view(market["high"].to_numpy()[1:], bars)
    later_low, later_high = later_low.min(axis=1), later_high.max(axis=1)
    rows = []
    for lev in leverages:
        long_liq = liquidation_price(close, lev, "long", mmr)
        short_liq = liquidation_price(close, lev, "short", mmr)
        rows.append(
            {
                "leverage": float(lev),
                "distance_pct": float((long_liq[0] - close[0]) / close[0] * 100.0),
                "long_liquidated_pct": float(np.mean(later_low <= long_liq) * 100.0),
                "short_liquidated_pct": float(np.mean(later_high >= short_liq) * 100.0),
            }
        )
    return pd.DataFrame(rows)


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
        yaxis=_axis(range=[0, 110], ticksuffix="%", title={"text": "entries liquidated"}),
        xaxis=_axis(title={"text": "leverage"}),
    )
