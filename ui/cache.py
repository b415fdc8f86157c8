"""What the pages compute, cached: estimates, the heatmap figure, clusters, calibration.

Keyed on a fingerprint of the data itself, not on the data choice: under one choice the
data changes (a fallback to the simulated market, a second upload, a newer fetch), and an
estimate of other data drawn under these candles would be wrong. Every cache is bounded
(``max_entries``, ``ttl``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import streamlit as st

from liqcore.analysis.calibration import Calibration, calibrate, recent_history
from liqcore.analysis.confluence import books_to_compare, confluence
from liqcore.analysis.whatif import WhatIf, what_if
from liqcore.controls import TIMEFRAMES
from liqcore.figures.heatmap import FrozenFigure, heatmap_figure
from liqcore.figures.lessons import cascade_figure
from liqcore.market import bar_interval, history_window
from liqcore.model import Estimate, ModelParams, estimate
from ui.data import load_for
from ui.state import DataChoice

__all__ = [
    "TimeframeClusters",
    "cached_estimate",
    "cached_heatmap_figure",
    "cached_what_if",
    "calibration_for",
    "clusters_by_timeframe",
    "data_fingerprint",
    "window",
]


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A short digest of a frame's times, columns and values: the cache key standing for it.

    blake2b over the raw bytes is ~20x cheaper than pandas' row hashing, which matters on
    every rerun of every session.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(frame.index.asi8.tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(np.ascontiguousarray(frame.to_numpy(dtype="float64")).tobytes())
    return digest.hexdigest()


def window(market: pd.DataFrame, timeframe: str) -> tuple[pd.DataFrame, pd.Timestamp, str | None]:
    """The history a timeframe's estimate needs (:func:`liqcore.market.history_window`)."""
    return history_window(market, TIMEFRAMES[timeframe], timeframe)


def cached_estimate(
    choice: DataChoice,
    params: ModelParams,
    timeframe: str,
    market: pd.DataFrame | None = None,
) -> Estimate:
    """The estimate for the data a page shows, its model assumptions and timeframe (cached).

    Pass the ``market`` the page draws (from :func:`ui.data.market_for`), so the candles
    and the heatmap come from one frame; without it the choice is loaded again.
    """
    if market is None:
        market = load_for(choice, timeframe).frame
    history, start, _ = window(market, timeframe)
    return _estimate_of(data_fingerprint(history), params, start, history)


@st.cache_data(max_entries=16, ttl=60, show_spinner=False)
def _estimate_of(
    fingerprint: str, params: ModelParams, start: pd.Timestamp, _history: pd.DataFrame
) -> Estimate:
    # ``_history`` is left out of the cache key: ``fingerprint`` stands for it, cheaply.
    return estimate(_history, params, start=start)


def cached_heatmap_figure(
    est: Estimate,
    history: pd.DataFrame,
    params: ModelParams,
    **view: object,
) -> FrozenFigure:
    """The heatmap figure for an estimate and view settings, built and encoded once (cached).

    Keyed on a hash of the data, the assumptions and the view (side, cap, scale, title):
    a rerun that changes none of them reuses the finished JSON instead of rebuilding it.
    """
    key = tuple(sorted((name, str(value)) for name, value in view.items()))
    return FrozenFigure(_heatmap_spec(data_fingerprint(history), params, key, est, history, view))


@st.cache_data(max_entries=32, ttl=60, show_spinner=False)
def _heatmap_spec(
    fingerprint: str,
    params: ModelParams,
    key: tuple,
    _est: Estimate,
    _history: pd.DataFrame,
    _view: dict[str, object],
) -> dict[str, object]:
    # fingerprint, params and key stand for the underscored arguments.
    return FrozenFigure.of(heatmap_figure(_est, _history, **_view)).spec


def cached_what_if(
    est: Estimate, history: pd.DataFrame, params: ModelParams, move_pct: float
) -> tuple[WhatIf, FrozenFigure]:
    """What a move of ``move_pct`` % sets off, with its cascade figure, built once (cached).

    It reruns with the heatmap's fragment on every control; drawn from a go.Figure,
    ``st.plotly_chart`` validated and encoded the figure again each time, on the server's
    CPU while the browser redraws the heatmap.
    """
    result, spec = _what_if_of(data_fingerprint(history), params, float(move_pct), est, history)
    return result, FrozenFigure(spec)


@st.cache_data(max_entries=32, ttl=60, show_spinner=False)
def _what_if_of(
    fingerprint: str, params: ModelParams, move_pct: float, _est: Estimate, _history: pd.DataFrame
) -> tuple[WhatIf, dict[str, object]]:
    # fingerprint and params stand for the estimate and the history it was made from.
    result = what_if(_est, _history, move_pct)
    figure = cascade_figure(_est.wide_levels, _est.price, result.rounds)
    return result, FrozenFigure.of(figure).spec


@dataclass(frozen=True)
class TimeframeClusters:
    """Clusters of several timeframes' books; the viewed book's marked with their timeframes."""

    clusters: dict[str, pd.DataFrame]
    confluence: pd.DataFrame


def clusters_by_timeframe(
    choice: DataChoice,
    params: ModelParams,
    market: pd.DataFrame,
    timeframe: str,
    min_usd: float = 0.0,
    n: int = 5,
) -> TimeframeClusters:
    """Clusters of the 12h, 24h and 1w books (and the viewed one) of the same data (cached).

    Cached as a whole (keyed on a hash of the data): it sits before the chart on every rerun.
    """
    return _clusters_of(data_fingerprint(market), params, timeframe, min_usd, n, choice, market)


@st.cache_data(max_entries=16, ttl=600, show_spinner=False)
def _clusters_of(
    fingerprint: str,
    params: ModelParams,
    timeframe: str,
    min_usd: float,
    n: int,
    _choice: DataChoice,
    _market: pd.DataFrame,
) -> TimeframeClusters:
    # ``fingerprint`` stands for ``_market`` (and so for the estimates made from it).
    span = _market.index[-1] - _market.index[0] + bar_interval(_market)
    viewed = cached_estimate(_choice, params, timeframe, _market)
    books = {
        label: (
            viewed if label == timeframe else cached_estimate(_choice, params, label, _market)
        ).clusters(n=n, min_usd=min_usd)
        for label in books_to_compare(timeframe, span)
    }
    return TimeframeClusters(
        books, confluence(viewed.clusters(n=n, min_usd=min_usd), books, viewed.price)
    )


def calibration_for(market: pd.DataFrame, params: ModelParams) -> Calibration:
    """The assumptions fitted to the frame's realized liquidations of its last days (cached).

    Raises ValueError (with the reason) when the data cannot be calibrated.
    """
    history = recent_history(market)
    return _calibration_of(
        data_fingerprint(history), replace(params, time_bins=2, price_bins=2), history
    )


@st.cache_data(max_entries=8, ttl=600, show_spinner="Calibrating the leverage mix…")
def _calibration_of(fingerprint: str, params: ModelParams, _history: pd.DataFrame) -> Calibration:
    # ``_history`` is left out of the cache key: ``fingerprint`` stands for it.
    return calibrate(_history, params)
