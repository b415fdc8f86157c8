"""Live public exchange data through ccxt: every venue of :data:`EXCHANGES`, and all at once.

Every source returns the same market frame (:mod:`liqcore.market`), validated, or raises
:class:`SourceUnavailable` whose ``reason`` is one of :data:`REASONS`. No API key is
needed. Where an exchange cannot cover the whole timeframe (Binance keeps 30 days of open
interest, OKX 1,440 periods, Hyperliquid and Bitget none) the frame still covers it, the
missing part is stated in ``frame.attrs["notes"]`` and
``frame.attrs["open_interest_coverage"]`` is below 1: nothing is cut silently and no
history is invented.

Each venue is a small :class:`~liqcore.sources.venue.Venue` spec; the shared fetch in
:mod:`liqcore.sources.venue` keeps one ccxt instance per venue (imported on first use),
its market list, a TTL cache per request of about one bar and the retries;
:data:`liqcore.sources.base.SETTINGS` holds the knobs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from liqcore.sources import (
    binance,
    bitget,
    bybit,
    combined,
    deribit,
    gate,
    hyperliquid,
    kucoin,
    okx,
    venue,
)
from liqcore.sources.base import (
    INTERVALS,
    MAX_BARS,
    REASONS,
    SourceUnavailable,
    choose_interval,
    parse_timeframe,
)
from liqcore.sources.venue import History, Venue

__all__ = [
    "ALL",
    "ATTRS",
    "EXCHANGES",
    "INTERVALS",
    "MAX_BARS",
    "REASONS",
    "History",
    "SourceUnavailable",
    "Venue",
    "choose_interval",
    "fetch_liquidations",
    "fetch_market",
    "parse_timeframe",
]

#: The venues :func:`fetch_market` knows, with what each provides (``.name`` is the
#: ``exchange`` argument; ``.open_interest`` how far back its history goes;
#: ``.taker_volume``, ``.ratio`` and ``.liquidations`` what else it publishes).
EXCHANGES: tuple[Venue, ...] = (
    binance.VENUE,
    bybit.VENUE,
    okx.VENUE,
    hyperliquid.VENUE,
    bitget.VENUE,
    gate.VENUE,
    kucoin.VENUE,
    deribit.VENUE,
)

#: The name that asks every venue of :data:`EXCHANGES` at once.
ALL = "all"

#: ``frame.attrs`` keys set on every fetched market frame, and what they hold.
ATTRS: dict[str, str] = {
    "source": "exchange name as passed (a name of EXCHANGES, or all)",
    "exchange": "same as source",
    "contributors": "exchanges whose data is in the frame (one, or several for all)",
    "symbol": "base asset, e.g. BTC",
    "instrument": "exchange instrument, e.g. BTCUSDT (all: exchange -> instrument)",
    "interval": "candle interval, e.g. 5m",
    "timeframe": "timeframe asked for, e.g. 3d",
    "fetched_at": "UTC Timestamp the data was fetched (oldest response used; kept when cached)",
    "from_cache": "True when every response came from the cache",
    "requests": "network requests this call made (0 when from cache)",
    "notes": "list of sentences on coverage and fill-ins, for the UI to show",
    "open_interest_coverage": "share of bars with real open interest history (0..1)",
    "quote_volume_usd": "USD traded over the window (all: summed)",
    "candles_from": "all only: the contributor whose candles are used",
    "failed": "all only: exchange -> reason for those left out",
    "open_interest_by_exchange": "all only: exchange -> open interest (USD) at the last bar",
}

_VENUES = {v.name: v for v in EXCHANGES}


def _exchange(exchange: str | Venue) -> str:
    name = str(getattr(exchange, "name", exchange)).strip().lower()
    if name != ALL and name not in _VENUES:
        known = ", ".join([*_VENUES, ALL])
        msg = f"unknown exchange {exchange!r} (choose from {known})"
        raise ValueError(msg)
    return name


def fetch_market(
    exchange: str | Venue,
    symbol: str,
    timeframe: str | pd.Timedelta,
    *,
    interval: str | None = None,
    base_url: str | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Fetch a market frame from a public exchange API.

    Parameters
    ----------
    exchange : str or Venue
        A name of :data:`EXCHANGES` (or one of them), or :data:`ALL`.
    symbol : str
        Base asset such as ``"BTC"`` (see :data:`liqcore.controls.SYMBOLS`) or an
        exchange's own name (``"BTCUSDT"``, ``"BTC-USDT-SWAP"``); mapped per exchange.
    timeframe : str or Timedelta
        How far back from now: ``"1d"``, ``"3d"``, ``"1w"``, ``"1mo"``, ``"1y"``...
        (see :func:`parse_timeframe`).
    interval : str, optional
        Candle interval from :data:`INTERVALS`; :func:`choose_interval` when omitted
        (5m up to 3 days, 15m-1h up to a month, 4h-1d beyond).
    base_url : str, optional
        Address of a mirror or test server for the source; for ``"all"`` one address
        for every source or a mapping exchange → address.

    Returns
    -------
    DataFrame
        A market frame that passed :func:`liqcore.market.validate_market`, the last bar
        being the one in progress. ``frame.attrs`` holds the keys in :data:`ATTRS`.

    Raises
    ------
    SourceUnavailable
        The exchange could not deliver; ``.reason`` is a key of :data:`REASONS`
        (geo-blocked, rate-limited, banned, unknown symbol, timeout, unreachable,
        server error, rejected, malformed response, no data, coverage).
    ValueError
        Unknown exchange, unreadable timeframe, unsupported interval, or more than
        :data:`MAX_BARS` bars.

    Examples
    --------
    >>> choose_interval("3d"), choose_interval("1mo"), choose_interval("1y")
    ('5m', '1h', '1d')
    >>> fetch_market("kraken", "BTC", "1d")
    Traceback (most recent call last):
    ...
    ValueError: unknown exchange 'kraken' (choose from binance, bybit, okx, hyperliquid, ...)
    """
    name = _exchange(exchange)
    urls = combined.addresses(list(_VENUES), base_url)
    if name == ALL:
        interval = interval or choose_interval(timeframe)
        return combined.fetch_market(EXCHANGES, symbol, timeframe, interval, urls)
    return venue.fetch_market(
        _VENUES[name], symbol, timeframe, interval=interval, base_url=urls[name]
    )


def fetch_liquidations(
    exchange: str | Venue,
    symbol: str,
    timeframe: str | pd.Timedelta = "1d",
    *,
    base_url: str | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Fetch exchange-reported realized liquidations where a public REST source exists.

    Only OKX publishes them over REST (its most recent filled liquidation orders,
    usually hours, not days: ``attrs["covered_from"]`` says from when the list is
    complete). ``"all"`` returns OKX's with a note.

    Parameters
    ----------
    exchange : str
        One of :data:`EXCHANGES`.
    symbol : str
        Base asset such as ``"BTC"``.
    timeframe : str or Timedelta
        Events older than this are dropped.
    base_url : str or mapping, optional
        Address of a mirror or test server (for ``"all"``, the OKX one is used).

    Returns
    -------
    DataFrame
        Indexed by UTC time: ``side`` (the liquidated position, ``long``/``short``),
        ``price``, ``size`` (base units), ``usd``; ``attrs`` as for market frames plus
        ``covered_from``.

    Raises
    ------
    SourceUnavailable
        ``unsupported`` for every venue but OKX; otherwise as
        :func:`fetch_market`.

    Examples
    --------
    >>> try:
    ...     fetch_liquidations("binance", "BTC")
    ... except SourceUnavailable as exc:
    ...     print(exc.reason)
    unsupported
    """
    name = _exchange(exchange)
    if name not in (ALL, okx.VENUE.name):
        who = _VENUES[name].title
        message = (
            f"{who} publishes no liquidation history over REST "
            f"({_VENUES[name].liquidations}); OKX publishes its latest ones"
        )
        raise SourceUnavailable(name, "unsupported", message)
    url = base_url.get("okx") if isinstance(base_url, Mapping) else base_url
    events = okx.fetch_liquidations(symbol, timeframe, base_url=url)
    if name == "all":
        events.attrs["source"] = events.attrs["exchange"] = "all"
        events.attrs["notes"] = [
            *events.attrs["notes"],
            "only OKX's liquidations are read over REST; the other exchanges are not included",
        ]
    return events
