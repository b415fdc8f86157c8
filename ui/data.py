"""Loading the market a page shows: one loader per data source, and the fallback policy.

Any failure (a bad file, an exchange fault) falls back to the simulated market, says
why, and keeps the user's upload and settings where they are.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from liqcore.analysis.realized import attach_reported
from liqcore.controls import TIMEFRAMES
from liqcore.market import bar_interval, interval_label, load_market
from liqcore.real import real_market, reported_daily
from liqcore.simulate import CROWDS, SimulatedMarket, simulate
from liqcore.sources import SourceUnavailable, fetch_liquidations, fetch_market
from ui.state import DataChoice
from ui.widgets import plain

__all__ = [
    "EXCHANGE_URL_ENV",
    "SIM_INTERVAL",
    "LoadedMarket",
    "exchange_base_url",
    "exchange_liquidations",
    "exchange_market",
    "load_for",
    "market_for",
    "real_example_market",
    "real_example_reported",
    "shown_label",
    "simulated",
    "simulated_market",
    "uploaded_market",
]

#: The bar size of every simulated market the app shows.
SIM_INTERVAL = "15min"
#: Where the exchange sources connect: a mirror, or the fake exchange of the tests.
#: ``LIQSTUDIO_EXCHANGE_URL`` holds one address, or JSON mapping exchange -> address.
EXCHANGE_URL_ENV = "LIQSTUDIO_EXCHANGE_URL"


# st.cache_data (a pickled copy per call), not st.cache_resource: measured on 60 days of
# 15m bars, pickling the SimulatedMarket (230k cohorts, ~10 MB) takes ~10 ms and unpickling
# ~5 ms, against ~1 s to simulate; and a copy per caller cannot be mutated under another.
@st.cache_data(max_entries=4, show_spinner="Simulating a market whose every position is known…")
def simulated(
    seed: int, days: int, volatility: float, crowd: str, bias: float, regime: str = "Typical"
) -> SimulatedMarket:
    """The simulated market with its truth, keyed on the sidebar's small scalars."""
    return simulate(
        days=days,
        interval=SIM_INTERVAL,
        seed=seed,
        volatility=volatility,
        crowd_mix=CROWDS[crowd],
        crowd_bias=bias,
        regime=regime.lower(),
    )


@st.cache_data(max_entries=4, show_spinner=False)
def simulated_market(
    seed: int, days: int, volatility: float, crowd: str, bias: float, regime: str = "Typical"
) -> pd.DataFrame:
    """The simulated market's frame alone (with its true realized liquidations).

    Cached apart from :func:`simulated`: a rerun copies this small frame, not the truth.
    """
    return simulated(seed, days, volatility, crowd, bias, regime).market


def exchange_base_url() -> str | dict[str, str] | None:
    """The address :data:`EXCHANGE_URL_ENV` sets, or None for the exchanges' own."""
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


@st.cache_data(max_entries=16, ttl=60, show_spinner=False)
def exchange_liquidations(exchange: str, symbol: str, hours: float) -> pd.DataFrame:
    """Exchange-reported liquidation events (OKX), cached about a minute."""
    return fetch_liquidations(
        exchange, symbol, pd.Timedelta(hours=2 * hours), base_url=exchange_base_url()
    )


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


def _uploaded(choice: DataChoice) -> LoadedMarket:
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
    step = interval_label(bar_interval(frame))
    return LoadedMarket(frame, f"Your file {plain(upload.name)} · {len(frame):,} bars of {step}")


def _live(choice: DataChoice, hours: float) -> LoadedMarket:
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
        return _uploaded(choice)
    return _live(choice, TIMEFRAMES.get(timeframe, 168.0))


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
