"""The Liquidations page's "recorded" section: liquidations recorded live from the exchanges' feeds.

Not a page itself: :func:`recorded_section` is called by ``pages/liquidations.py``. The
recorders run in the server's background (:class:`liqcore.record.background.BackgroundRecorders`,
one per exchange and symbol, shared by every viewer through ``st.cache_resource``) and
write into the process's one DuckDB connection (:func:`liqcore.record.open_store`).
"""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import requests
import streamlit as st

from liqcore import controls
from liqcore.analysis import realized
from liqcore.analysis.realized import gaps, recorded_label, recorded_per_period
from liqcore.controls import SOURCES, TIMEFRAMES
from liqcore.figures.recorded import recorded_figure
from liqcore.figures.theme import format_usd
from liqcore.record import NO_FEED, StoreLocked, feed, open_store
from liqcore.record.background import BackgroundRecorders
from liqcore.record.store import LiquidationStore, default_db_path
from ui import data, state, widgets

#: Where the app's recorders connect: a mirror, or the tests' fake feed. One websocket
#: address, or JSON mapping exchange -> address (as ``LIQSTUDIO_EXCHANGE_URL`` for REST).
RECORD_URL_ENV = "LIQSTUDIO_RECORD_URL"


def _record_urls() -> dict[str, str]:
    raw = os.environ.get(RECORD_URL_ENV, "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(raw).items()}
    return {name: raw for name in ("binance", "bybit", "okx")}


def _okx_rest_url() -> str | None:
    base = data.exchange_base_url()
    return base.get("okx") if isinstance(base, dict) else base


def _db_path() -> str:
    return str(default_db_path())


@st.cache_resource(show_spinner=False, max_entries=4)
def _recordings(path: str) -> LiquidationStore:
    return open_store(path)


def recordings() -> LiquidationStore:
    """The server's one connection to the recordings file (``LIQSTUDIO_RECORD_DB`` or default)."""
    return _recordings(_db_path())


@st.cache_resource(show_spinner=False, max_entries=4)
def _background_recorders(path: str) -> BackgroundRecorders:
    return BackgroundRecorders(_recordings(path), urls=_record_urls(), rest_url=_okx_rest_url())


def background_recorders() -> BackgroundRecorders:
    """The server's recorders (one set per recordings file), shared by every viewer."""
    return _background_recorders(_db_path())


def _toggle_key(exchange: str, symbol: str) -> str:
    return f"record_{exchange}_{symbol}"


def _on_toggle(exchange: str, symbol: str) -> None:
    recorders = background_recorders()
    if st.session_state[_toggle_key(exchange, symbol)]:
        try:
            recorders.start(exchange, symbol)
        except (ValueError, requests.RequestException) as exc:
            st.session_state["record_error"] = f"Cannot record {exchange} {symbol}: {exc}"
    else:
        recorders.stop(exchange, symbol)


def _recording_toggle(exchange: str, symbol: str, name: str, store: LiquidationStore) -> bool:
    """The toggle and its status line; True while this market is being recorded."""
    recorders = background_recorders()
    status = recorders.status(exchange, symbol)
    key = _toggle_key(exchange, symbol)
    # Every viewer sees the server's state, whoever switched it.
    st.session_state[key] = status.running
    st.toggle(
        "Record this market",
        key=key,
        on_change=_on_toggle,
        args=(exchange, symbol),
        help=f"Runs one recorder of {name}'s public liquidation feed in the server's background, "
        "shared by every viewer, until switched off or the server stops.",
    )
    error = st.session_state.pop("record_error", None)
    if error:
        st.error(widgets.plain(error), icon=":material/error:")
    if status.running:
        since = pd.Timestamp(status.since or time.time(), unit="s", tz="UTC")
        connection = "connected" if status.connected else "connecting"
        text = (
            f":material/radio_button_checked: Recording {name} {symbol} since "
            f"{since:%Y-%m-%d %H:%M:%S} UTC ({connection}; {status.events:,} events stored)."
        )
        if status.last_error and not status.connected:
            text += f" Last problem: {widgets.plain(status.last_error)}."
        st.caption(text)
    else:
        last = store.recording_since(exchange, symbol)
        if last is not None:
            st.caption(
                f":material/pause_circle: Not recording now; the last recording started "
                f"{last:%Y-%m-%d %H:%M} UTC."
            )
    return status.running


def _window(
    choice: state.DataChoice, shown: pd.DataFrame, lookback: str
) -> tuple[pd.Timestamp, pd.Timestamp, bool]:
    """The window to read, and whether ``shown`` is this exchange's own market (for price)."""
    live = shown.attrs.get("source") == choice.source and len(shown) > 1
    if live:
        step = shown.index[-1] - shown.index[-2]
        return shown.index[0], shown.index[-1] + step, True
    end = pd.Timestamp.now(tz="UTC")
    return end - pd.Timedelta(hours=TIMEFRAMES[lookback]), end, False


def recorded_section(
    choice: state.DataChoice,
    shown: pd.DataFrame,
    realized_estimate: pd.DataFrame,
    period: str,
    layout: str,
    lookback: str,
) -> None:
    """Recorded liquidations per period of a live exchange, coverage marked, the estimate beside."""
    if choice.source == "real":
        return  # fixed offline data: nothing to record
    if choice.source in ("sim", "csv"):
        st.caption(
            ":material/radio_button_checked: Recording liquidations applies to live exchanges "
            "(Binance, Bybit, OKX): choose one as the data source to record its feed."
        )
        return
    name = next(label for label, code in SOURCES.items() if code == choice.source)
    st.subheader("Recorded from the live feed", anchor=False)
    if choice.source in NO_FEED:
        st.info(NO_FEED[choice.source], icon=":material/info:")
        return
    try:
        store = recordings()
    except StoreLocked as exc:
        st.warning(widgets.plain(exc), icon=":material/lock:")
        return
    exchange, symbol = choice.source, choice.symbol
    recording = _recording_toggle(exchange, symbol, name, store)

    start, end, live = _window(choice, shown, lookback)
    freq = controls.PERIODS[period]
    bars = store.bars(exchange, symbol, start, end, freq)
    if bars["long_usd"].isna().all():
        nudge = (
            "Recording is on: the chart fills in once the feed delivers."
            if recording
            else "Switch on **Record this market** (or run `python -m liqcore.record`): from "
            "then on the chart fills in."
        )
        st.info(
            f"Nothing was recorded from {name} {symbol} in this window. {nudge} Time not "
            "recorded is shown as such, never as zero.",
            icon=":material/history:",
        )
        return
    recorded = recorded_per_period(bars, shown["close"] if live else None)
    label = recorded_label(name)
    by_source = {label: recorded}
    if live:
        by_source[realized.ESTIMATE_LABEL] = realized.liquidations_by_period(
            realized_estimate.loc[start:], shown["close"], period
        )
    spans = store.coverage(exchange, symbol, start, end)
    blank = gaps(spans, start, end, min_gap=pd.Timedelta(freq) / 4)
    fig = recorded_figure(
        by_source,
        blank,
        layout=layout,
        title=f"Recorded liquidations per {period} · {name} {symbol}",
        uirevision=f"recorded-{exchange}-{symbol}-{period}",
    )
    st.plotly_chart(fig, key="recorded_chart", config={"displaylogo": False})
    covered = float(bars["covered"].mean())
    summary = realized.totals(recorded)
    lower = feed(exchange).lower_bound
    st.caption(
        f"Recorded {format_usd(summary['long_usd'])} of longs and "
        f"{format_usd(summary['short_usd'])} of shorts liquidated, over {covered:.0%} of the "
        f"window (grey: not recorded, unknown rather than zero)." + (f" {lower}" if lower else "")
    )
    if not live:
        st.caption(f"{name}'s market data is not loaded, so the model's estimate is not beside it.")
