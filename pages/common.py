"""What every page shares: the data choice, cached loaders, URL notices, share link, footer.

Not a page itself (the router lists the pages explicitly). Caching lives here, at
the UI boundary, keyed on small scalars with bounded ``max_entries``; liqcore
itself never imports streamlit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from liqcore.accuracy import Calibration, calibrate
from liqcore.confluence import CONFLUENCE_TIMEFRAMES, confluence
from liqcore.liquidations import attach_reported
from liqcore.market import bar_interval, load_market
from liqcore.model import Estimate, ModelParams, estimate
from liqcore.real import real_market, reported_daily
from liqcore.simulate import simulate
from liqcore.sources import SourceUnavailable, fetch_liquidations, fetch_market
from liqcore.view_state import CONTROLS, LEVERAGE_LABELS, SOURCES, TIMEFRAMES, clean_query
from liqcore.views import FrozenFigure, heatmap_figure

#: Leverage mixes: of the simulated takers (their notional in the bands around 5x, 10x, 25x,
#: 50x, 100x) and, on the Accuracy page, the mixes offered to the model.
CROWDS: dict[str, tuple[float, ...]] = {
    "Cautious": (0.45, 0.30, 0.15, 0.07, 0.03),
    "Retail": (0.25, 0.30, 0.22, 0.13, 0.10),
    "Degen": (0.10, 0.15, 0.25, 0.25, 0.25),
}
SIM_INTERVAL = "15min"
FOOTER = "Estimates from public data, not exchange data. Not financial advice."


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>:!~|$&])")


def plain(text: object) -> str:
    """User-supplied text (a file name, a cell, a link value) made inert for Streamlit's markdown.

    Every markdown, HTML and Streamlit directive character (links, images, ``:red[...]``,
    ``:material/...:``) is backslash-escaped, so it shows as typed and loads nothing.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def ensure_app_frame() -> None:
    """Make sure a page runs inside the router, even as the first visit of a fresh server.

    Streamlit treats a ``pages/`` folder beside the entrypoint as its legacy
    multipage mode until some session has called ``st.navigation``: the very first
    visitor who opens a shared link such as ``/heatmap`` would get the bare page
    without the sidebar and settings. Switching that mode off and rerunning sends
    the run through ``streamlit_app.py``. (Internal flag; guarded, so a future
    Streamlit without it simply skips this.)
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - depends on the Streamlit version
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def first_page_view(page: str) -> bool:
    """Whether the session is still on the first page it opened (its reruns included).

    Once the user has gone to another page it stays False for the rest of the session.
    """
    state = st.session_state
    first = state.setdefault("_first_page", page)
    if page != first:
        state["_moved_on"] = True
    return not state.get("_moved_on", False)


def default(key: str) -> object:
    """Default value of a URL-bound control."""
    return CONTROLS[key].default


def state_value(key: str) -> object:
    """A URL-bound control's value before its widget is drawn: what the widget will show.

    The session's value once the widget exists, else the link's value when valid (the
    widget reads the same ``?key=`` and the same rules), else the default.
    """
    if key in st.session_state:
        return st.session_state[key]
    control = CONTROLS[key]
    if key in st.query_params:
        try:
            return control.parse(st.query_params.get_all(key))
        except ValueError:
            pass  # the widget ignores it too; show_url_notices says so
    return control.default


@dataclass(frozen=True)
class DataChoice:
    """The sidebar's data choice, as small hashable scalars."""

    source: str = "sim"
    symbol: str = "BTC"
    seed: int = 7
    days: int = 365
    volatility: float = 0.5
    crowd: str = "Retail"
    bias: float = 0.0
    regime: str = "Typical"

    @property
    def label(self) -> str:
        """What the data is, in words, for captions and titles."""
        if self.source == "sim":
            regime = "" if self.regime == "Typical" else f", {self.regime.lower()} regime"
            return (
                f"Simulated market (seed {self.seed}, {self.days} days, {self.crowd} crowd{regime})"
            )
        if self.source == "real":
            return f"Real example {self.symbol}"
        name = next(k for k, v in SOURCES.items() if v == self.source)
        return f"{name} {self.symbol}" if self.source != "csv" else "Your CSV"


def data_choice() -> DataChoice:
    """Read the sidebar's current values (set by :func:`sidebar`)."""
    state = st.session_state
    source = SOURCES.get(state.get("src", default("src")), "sim")
    return DataChoice(
        source=source,
        symbol=state.get("coin", default("coin"))
        if source == "real"
        else state.get("sym", default("sym")),
        seed=int(state.get("seed", default("seed"))),
        days=int(state.get("days", default("days"))),
        volatility=float(state.get("vol", default("vol"))),
        crowd=state.get("crowd", default("crowd")),
        bias=float(state.get("bias", default("bias"))),
        regime=state.get("regime", default("regime")),
    )


@st.cache_data(max_entries=4, show_spinner="Simulating the market…")
def simulated_market(
    seed: int, days: int, volatility: float, crowd: str, bias: float, regime: str = "Typical"
):
    """The simulated market frame (with its true realized liquidations)."""
    return simulate(
        days=days,
        interval=SIM_INTERVAL,
        seed=seed,
        volatility=volatility,
        crowd_mix=CROWDS[crowd],
        crowd_bias=bias,
        regime=regime.lower(),
    ).market


#: Where the exchange sources connect: a mirror, or the fake exchange of the tests.
#: ``LIQSTUDIO_EXCHANGE_URL`` holds one address, or JSON mapping exchange -> address.
EXCHANGE_URL_ENV = "LIQSTUDIO_EXCHANGE_URL"


def exchange_base_url() -> str | dict[str, str] | None:
    raw = os.environ.get(EXCHANGE_URL_ENV, "").strip()
    if not raw:
        return None
    if raw.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(raw).items()}
    return raw


@dataclass(frozen=True)
class LoadedMarket:
    """A market frame and what the user should know about where it came from."""

    frame: pd.DataFrame
    status: str
    notes: tuple[str, ...] = ()
    error: str | None = None


@st.cache_data(max_entries=32, ttl=60, show_spinner="Fetching exchange data…")
def exchange_market(exchange: str, symbol: str, hours: float) -> pd.DataFrame:
    """A live market frame (cached about a minute; the source also caches per request)."""
    # Twice the timeframe, so positions opened before the window are part of the estimate.
    span = pd.Timedelta(hours=2 * hours)
    return fetch_market(exchange, symbol, span, base_url=exchange_base_url())


@st.cache_data(max_entries=4, show_spinner="Reading your file…")
def uploaded_market(data: bytes, name: str) -> pd.DataFrame:
    """A market frame from an uploaded CSV/Parquet file (keyed by its content)."""
    buffer = io.BytesIO(data)
    buffer.name = name
    frame = load_market(buffer)
    frame.attrs["source"] = "csv"
    return frame


@st.cache_data(max_entries=3, show_spinner="Reading the real example…")
def real_example_market(coin: str) -> pd.DataFrame:
    """The offline real example's hourly frame for one coin (shipped with the package)."""
    return real_market(coin)


@st.cache_data(max_entries=3, show_spinner=False)
def real_example_reported(coin: str) -> pd.DataFrame:
    """Hyperliquid's reported daily liquidations of the real example's coin."""
    return reported_daily(coin)


def _simulated(choice: DataChoice) -> pd.DataFrame:
    return simulated_market(
        choice.seed, choice.days, choice.volatility, choice.crowd, choice.bias, choice.regime
    )


def _stand_in(choice: DataChoice) -> pd.DataFrame:
    """The simulated market standing in for data that could not be loaded.

    Its ``attrs["label"]`` says so, for titles: a chart of this frame titled with the
    choice ("Binance BTC") would pass simulated data off as the exchange's.
    """
    frame = _simulated(choice)  # a copy: st.cache_data hands out a fresh one per call
    frame.attrs["label"] = replace(choice, source="sim").label
    return frame


def shown_label(choice: DataChoice, market: pd.DataFrame) -> str:
    """What a chart of ``market`` shows, for its title: the stand-in's own label on a fallback."""
    return market.attrs.get("label", choice.label)


def load_for(choice: DataChoice, timeframe: str = "1w") -> LoadedMarket:
    """Load the market for a data choice without drawing anything (safe inside caches).

    Any failure falls back to the simulated market with the reason in ``error``; the
    user's upload and settings stay where they are.
    """
    if choice.source == "sim":
        return LoadedMarket(_simulated(choice), "Simulated market · 15m bars · offline")
    if choice.source == "real":
        return LoadedMarket(
            real_example_market(choice.symbol),
            f"Real example {choice.symbol} · 1h bars · offline · prices and volume from "
            "Binance, open interest and daily liquidations from Hyperliquid",
        )
    if choice.source == "csv":
        upload = st.session_state.get("upload")
        if upload is None:
            return LoadedMarket(
                _stand_in(choice),
                "Simulated market (no file yet)",
                ("Upload a CSV in the sidebar to see your own data.",),
            )
        try:
            frame = uploaded_market(upload.getvalue(), upload.name)
        except ValueError as exc:
            return LoadedMarket(
                _stand_in(choice),
                "Simulated market (your file could not be used)",
                error=f"{plain(upload.name)}: {plain(exc)}",
            )
        step = _interval_label(bar_interval(frame))
        return LoadedMarket(
            frame, f"Your file {plain(upload.name)} · {len(frame):,} bars of {step}"
        )
    hours = TIMEFRAMES.get(timeframe, 168.0)
    try:
        frame = exchange_market(choice.source, choice.symbol, hours)
    except SourceUnavailable as exc:
        return LoadedMarket(
            _stand_in(choice),
            "Simulated market (live data unavailable)",
            error=f"{exc.exchange}: {exc.reason} — {plain(exc.message)}",
        )
    except ValueError as exc:
        return LoadedMarket(
            _stand_in(choice), "Simulated market (live data unavailable)", error=plain(exc)
        )
    notes = list(frame.attrs.get("notes", ()))
    if choice.source in ("okx", "all"):
        # OKX publishes its latest liquidation orders: add them per bar, coverage stated.
        try:
            frame = attach_reported(
                frame, exchange_liquidations(choice.source, choice.symbol, hours)
            )
        except (SourceUnavailable, ValueError) as exc:
            notes.append(f"Reported liquidations are not available: {plain(exc)}")
    attrs = frame.attrs
    fetched = pd.Timestamp(attrs.get("fetched_at", pd.Timestamp.now(tz="UTC")))
    contributors = ", ".join(attrs.get("contributors", [choice.source]))
    status = (
        f"{choice.label} · {attrs.get('interval', '?')} bars · from {contributors} · "
        f"fetched {fetched:%Y-%m-%d %H:%M} UTC"
        + (" · from cache" if attrs.get("from_cache") else "")
    )
    return LoadedMarket(frame, status, tuple(plain(note) for note in notes))


def _interval_label(step: pd.Timedelta) -> str:
    """``15m``, ``1h``, ``1d`` rather than pandas' ``0 days 00:15:00``."""
    seconds = int(step.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@st.cache_data(max_entries=16, ttl=60, show_spinner=False)
def exchange_liquidations(exchange: str, symbol: str, hours: float) -> pd.DataFrame:
    """Exchange-reported liquidation events (OKX), cached about a minute."""
    return fetch_liquidations(
        exchange, symbol, pd.Timedelta(hours=2 * hours), base_url=exchange_base_url()
    )


def market_for(choice: DataChoice, timeframe: str = "1w") -> tuple[pd.DataFrame, list[str]]:
    """The market frame for a data choice, showing a status line and any error.

    Returns the frame and notes (coverage limits) the page may show.
    """
    loaded = load_for(choice, timeframe)
    if loaded.error:
        st.error(
            f"Could not load {choice.label}: {loaded.error}. Showing the simulated market "
            "instead; your settings are kept.",
            icon=":material/cloud_off:",
        )
    st.caption(f":material/database: {loaded.status}")
    return loaded.frame, list(loaded.notes)


def model_params_from_state(time_bins: int = 300, price_bins: int = 240) -> ModelParams:
    """ModelParams from the Heatmap page's controls (tiers, weights, mmr, split, opening)."""
    tiers = tuple(state_value("tiers")) or LEVERAGE_LABELS
    weights = tuple(float(state_value(f"w{label[:-1]}")) for label in tiers)
    if sum(weights) <= 0:
        weights = tuple(1.0 for _ in tiers)
    split = {"50/50": "even", "Taker flow": "taker", "Long/short ratio": "ratio"}
    opening = {"OI + volume": "mix", "Rising OI": "oi", "Volume": "volume"}
    return ModelParams(
        leverage_tiers=tuple(float(label[:-1]) for label in tiers),
        tier_weights=weights,
        mmr=float(state_value("mmr")) / 100.0,
        split=split[state_value("split")],
        opening=opening[state_value("opening")],
        time_bins=time_bins,
        price_bins=price_bins,
    )


def has_reported_liquidations(market: pd.DataFrame) -> bool:
    """True when the frame carries realized (reported or, simulated, true) liquidations."""
    return {"realized_long_usd", "realized_short_usd"} <= set(market.columns)


def calibration_for(market: pd.DataFrame, params: ModelParams) -> Calibration:
    """Leverage mix fitted to the frame's realized liquidations over its last 30 days (cached).

    Raises ValueError (with the reason) when the data cannot be calibrated.
    """
    history = market.loc[market.index[-1] - pd.Timedelta(days=30) :]
    return _calibration_of(
        data_fingerprint(history), replace(params, time_bins=2, price_bins=2), history
    )


@st.cache_data(max_entries=8, ttl=600, show_spinner="Calibrating the leverage mix…")
def _calibration_of(fingerprint: str, params: ModelParams, _history: pd.DataFrame) -> Calibration:
    # ``_history`` is left out of the cache key: ``fingerprint`` stands for it.
    return calibrate(_history, params)


def window(market: pd.DataFrame, timeframe: str) -> tuple[pd.DataFrame, pd.Timestamp, str | None]:
    """The slice of history the estimate needs for a timeframe: the window plus a warm-up.

    Returns the slice, the window's first time, and a note when the history is shorter
    than the timeframe (never silently truncated).
    """
    hours = TIMEFRAMES[timeframe]
    end = market.index[-1]
    start = end - pd.Timedelta(hours=hours)
    note = None
    # One bar of slack: 365 days of 15m bars span 365 days less one bar.
    if start < market.index[0] - bar_interval(market):
        note = (
            f"The data covers {(end - market.index[0]).total_seconds() / 3600:.0f} hours, "
            f"less than the {timeframe} timeframe: showing all of it."
        )
    start = max(start, market.index[0])
    # Positions opened before the window still count: give the model up to 30 days before it.
    warm_up = max(pd.Timedelta(days=30), pd.Timedelta(hours=hours) * 0.25)
    return market.loc[max(start - warm_up, market.index[0]) :], start, note


def cached_estimate(
    choice: DataChoice,
    params: ModelParams,
    timeframe: str,
    market: pd.DataFrame | None = None,
) -> Estimate:
    """The estimate for the data a page shows, its model assumptions and timeframe (cached).

    Pass the ``market`` the page draws (from :func:`market_for`), so the candles and the
    heatmap come from one frame; without it the choice is loaded again. The cache is keyed
    on a hash of the data itself, not on the choice: under one choice the data changes (a
    fallback to the simulated market, a second upload, a newer fetch), and an estimate of
    other data drawn under these candles would be wrong or fail on the grid's bar indices.
    """
    if market is None:
        market = load_for(choice, timeframe).frame
    history, start, _ = window(market, timeframe)
    return _estimate_of(data_fingerprint(history), params, start, history)


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
    # The underscored arguments are left out of the key: fingerprint, params and key stand
    # for them.
    return FrozenFigure.of(heatmap_figure(_est, _history, **_view)).spec


@st.cache_data(max_entries=16, ttl=60, show_spinner=False)
def _estimate_of(
    fingerprint: str, params: ModelParams, start: pd.Timestamp, _history: pd.DataFrame
) -> Estimate:
    # ``_history`` is left out of the cache key: ``fingerprint`` stands for it, cheaply.
    return estimate(_history, params, start=start)


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

    A timeframe longer than the data is left out rather than estimated on less history.
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
    market = _market
    span = market.index[-1] - market.index[0] + bar_interval(market)
    wanted = {*CONFLUENCE_TIMEFRAMES, timeframe}
    books: dict[str, pd.DataFrame] = {}
    viewed = cached_estimate(_choice, params, timeframe, market)
    for label in (tf for tf in TIMEFRAMES if tf in wanted):
        if label != timeframe and pd.Timedelta(hours=TIMEFRAMES[label]) > span:
            continue
        est = viewed if label == timeframe else cached_estimate(_choice, params, label, market)
        books[label] = est.clusters(n=n, min_usd=min_usd)
    return TimeframeClusters(
        books, confluence(viewed.clusters(n=n, min_usd=min_usd), books, viewed.price)
    )


def show_url_notices() -> None:
    """Tell the user which values of a shared link were ignored (once per session)."""
    if st.session_state.get("_url_checked"):
        return
    st.session_state["_url_checked"] = True
    notices = clean_query(_query_lists())[1]
    for notice in notices:
        st.toast(plain(notice), icon=":material/link_off:")
        st.session_state.setdefault("_url_notices", []).append(notice)


def _query_lists() -> dict[str, list[str]]:
    """Every URL parameter with all its values (``to_dict`` keeps only a key's last value)."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def share_view() -> None:
    """A visible "Share this view" with the link that reopens this page with these settings."""
    base = st.context.url or ""
    base = base.split("?")[0]
    params = _query_lists()
    link = base + ("?" + urlencode(params, doseq=True) if params else "")
    with st.popover("Share this view", icon=":material/share:"):
        st.caption("This link reopens this page with the same data choice and settings.")
        st.code(link or "(open the app in a browser to get a link)", language=None)


def footer() -> None:
    """The permanent one-line footer."""
    st.divider()
    st.caption(f":material/info: {FOOTER}")
