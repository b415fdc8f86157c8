"""Real liquidations, recorded live from the venues' public websocket feeds into DuckDB.

* :mod:`~liqcore.record.feeds`: one small spec per venue (address, subscription, parser);
* :mod:`~liqcore.record.store`: the DuckDB file, its two tables, per-period bars;
* :mod:`~liqcore.record.recorder`: the connection loop (reconnects, heartbeats, batches);
* :mod:`~liqcore.record.background`: recorders running in a server's background thread;
* :mod:`liqcore.figures.recorded`: recorded bars beside the estimate, gaps shaded
  (the bars and gaps themselves: :mod:`liqcore.analysis.realized`).

``python -m liqcore.record --exchange binance --symbol BTC`` records from the command line.
"""

from __future__ import annotations

from liqcore.record.feeds import FEEDS, NO_FEED, Feed, contract_size, feed
from liqcore.record.recorder import Backoff, Recorder, RecordStats
from liqcore.record.store import (
    DB_ENV,
    LiquidationStore,
    StoreLocked,
    default_db_path,
    open_store,
)

__all__ = [
    "DB_ENV",
    "FEEDS",
    "NO_FEED",
    "Backoff",
    "Feed",
    "LiquidationStore",
    "RecordStats",
    "Recorder",
    "StoreLocked",
    "contract_size",
    "default_db_path",
    "feed",
    "open_store",
    "recorder_for",
]

OKX_REST = "https://www.okx.com"


def recorder_for(
    exchange: str,
    symbol: str,
    store: LiquidationStore,
    *,
    url: str | None = None,
    rest_url: str | None = None,
    **options: object,
) -> Recorder:
    """A :class:`Recorder` for one market, with what its venue's parser needs.

    OKX sizes are in contracts: the contract size (``ctVal``) is read once over REST
    from ``rest_url`` (default ``https://www.okx.com``).

    Raises
    ------
    ValueError
        The venue has no feed (Hyperliquid), is unknown, or does not list the symbol.
    requests.RequestException
        OKX's instruments endpoint cannot be reached.

    Examples
    --------
    >>> recorder_for("binance", "btc", LiquidationStore(":memory:")).url
    'wss://fstream.binance.com/ws'
    """
    spec = feed(exchange)
    context = {}
    if spec.exchange == "okx":
        context["ct_val"] = contract_size(symbol, rest_url or OKX_REST)
    return Recorder(spec, symbol, store, url=url, context=context, **options)
