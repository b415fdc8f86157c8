"""OKX v5 USDT perpetual swaps (https://www.okx.com) through ccxt, plus its liquidations.

ccxt reads ``/api/v5/public/instruments?instType=SWAP`` (markets; ``ctVal`` is the
contract size), ``/api/v5/market/candles`` and ``/history-candles`` (at most 100 a
call here, so either serves a page), the rubik open interest history (``oiUsd``,
**only the latest 1,440 periods** of 5m, 1h or 1d) and funding (about three months).
For swaps ccxt's candle volume is ``volCcy`` (base units), not ``vol`` (contracts).

Realized liquidations come from
``GET /api/v5/public/liquidation-orders?instType=SWAP&instFamily=BTC-USDT&state=filled``
through ccxt's generic ``request`` (ccxt has no unified reader nor implicit method for
it): ``details: [{side, posSide, bkPx, sz, ts}]``, ``sz`` in contracts; only the most
recent orders are published.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from liqcore.sources import base
from liqcore.sources.base import Trace, parsing, to_ms
from liqcore.sources.venue import History, Venue, connection

__all__ = ["VENUE", "fetch_liquidations", "parse_liquidations"]

_LIQUIDATIONS_LIMIT = 100
_LIQUIDATIONS_PATH = "public/liquidation-orders"

VENUE = Venue(
    "okx",
    100,
    oi=History(
        ("5m", "1h", "1d"),
        100,
        "1,440 periods (5 days at 5m, 60 days at 1h)",
        kept_periods=1440,
        limit="OKX keeps the latest 1,440 periods; Bybit has the full history",
    ),
    funding_per_request=100,
    liquidations="latest filled liquidation orders over REST",
    # ccxt sends only ``before`` (newer than); ``after`` (older than) bounds the page.
    range_params={"fetch_funding_rate_history": lambda lo, hi, period: {"after": hi}},
)


def parse_liquidations(data: Any, instrument_id: str, contract_size: float) -> pd.DataFrame:
    """Realized liquidations from a ``liquidation-orders`` ``data`` list.

    Parameters
    ----------
    data : list
        ``[{instId, details: [{side, posSide, bkPx, sz, ts}, ...]}, ...]``.
    instrument_id : str
        Keep only this swap (a family also lists its dated futures under other types).
    contract_size : float
        ``ctVal``: base units per contract.

    Returns
    -------
    DataFrame
        Indexed by UTC time, oldest first: ``side`` (``"long"`` or ``"short"``, the
        position that was liquidated), ``price`` (bankruptcy price), ``size`` (base
        units), ``usd`` (size times price).

    Examples
    --------
    >>> data = [{"instId": "BTC-USDT-SWAP", "details": [
    ...     {"side": "sell", "posSide": "long", "bkPx": "60000", "sz": "5", "ts": "1717000000000"},
    ...     {"side": "buy", "posSide": "net", "bkPx": "61000", "sz": "2", "ts": "1717000060000"}]}]
    >>> parse_liquidations(data, "BTC-USDT-SWAP", 0.01)[["side", "usd"]].to_dict("list")
    {'side': ['long', 'short'], 'usd': [3000.0, 1220.0]}
    """
    rows: list[tuple[int, str, float, float]] = []
    with parsing(VENUE.name, "liquidation orders"):
        for group in data:
            if group.get("instId", instrument_id) != instrument_id:
                continue
            for item in group.get("details", []):
                side = str(item.get("posSide", "")).lower()
                if side not in ("long", "short"):
                    # One-way ("net") mode: a forced sell closes a long, a forced buy a short.
                    side = "long" if str(item["side"]).lower() == "sell" else "short"
                size = float(item["sz"]) * contract_size
                rows.append((to_ms(item["ts"]), side, float(item["bkPx"]), size))
    frame = pd.DataFrame(rows, columns=["time", "side", "price", "size"])
    frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ms", utc=True)
    frame = frame.set_index("time").sort_index()
    frame["usd"] = frame["size"] * frame["price"]
    return frame


def fetch_liquidations(
    symbol: str,
    timeframe: str | pd.Timedelta = "1d",
    *,
    base_url: str | None = None,
) -> pd.DataFrame:
    """OKX's published realized liquidations of ``symbol``'s USDT swap within ``timeframe``.

    OKX publishes only its most recent filled liquidation orders (about a hundred), so
    the events usually cover hours, not the whole timeframe; ``attrs["covered_from"]``
    is the earliest time the list is complete from and a note says so.

    Parameters
    ----------
    symbol : str
        Base asset (``"BTC"``) or OKX instrument.
    timeframe : str or Timedelta
        Drop events older than this.
    base_url : str, optional
        A mirror or test server instead of ``https://www.okx.com``.

    Returns
    -------
    DataFrame
        See :func:`parse_liquidations`; ``attrs`` as for market frames plus
        ``covered_from``.

    Examples
    --------
    >>> fetch_liquidations("BTC", "1m")
    Traceback (most recent call last):
    ...
    ValueError: timeframe '1m' is ambiguous: write '1mo' for a month (units: h, d, w, mo, y)
    """
    span = base.parse_timeframe(timeframe)
    conn = connection(VENUE, base_url)
    trace = Trace()
    market = conn.market(symbol, trace)
    inst = str(market["id"])
    request = {
        "instType": "SWAP",
        "instFamily": inst.removesuffix("-SWAP"),
        "state": "filled",
        "limit": _LIQUIDATIONS_LIMIT,
    }
    with base.naming(VENUE.name, inst):
        # Not in ccxt's list of OKX endpoints (any more): asked through its generic request.
        answer = conn.call(
            trace, base.SETTINGS.min_ttl, "request", _LIQUIDATIONS_PATH, ["public"], "GET", request
        )
    with parsing(VENUE.name, "liquidation orders"):
        data = answer["data"]
    events = parse_liquidations(data, inst, float(market.get("contractSize") or 1.0))
    now = pd.Timestamp(base.now_ms(), unit="ms", tz="UTC")
    start = now - span
    notes: list[str] = []
    if events.empty:
        covered_from = now
        notes.append("OKX published no filled liquidation orders for this swap just now")
    else:
        covered_from = max(events.index[0], start)
        if events.index[0] > start:
            notes.append(
                f"OKX publishes only its latest {len(events)} liquidation orders: they cover "
                f"{events.index[0]:%Y-%m-%d %H:%M} UTC onwards, not the whole {timeframe}"
            )
    events = events[events.index >= start]
    fetched = trace.fetched_at if trace.fetched_at is not None else now.timestamp()
    events.attrs.update(
        {
            "source": VENUE.name,
            "exchange": VENUE.name,
            "contributors": [VENUE.name],
            "symbol": base.base_asset(symbol),
            "instrument": inst,
            "timeframe": str(timeframe),
            "fetched_at": pd.Timestamp(fetched, unit="s", tz="UTC").floor("s"),
            "from_cache": trace.from_cache,
            "requests": trace.requests,
            "notes": notes,
            "covered_from": covered_from,
        }
    )
    return events
