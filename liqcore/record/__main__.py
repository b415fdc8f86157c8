"""``python -m liqcore.record``: record one market's liquidations from a venue's public feed.

Examples::

    python -m liqcore.record --exchange binance --symbol BTC
    python -m liqcore.record --exchange okx --symbol ETH --seconds 3600 --db ./liq.duckdb
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

import requests

from liqcore.record import recorder_for
from liqcore.record.feeds import FEEDS, NO_FEED
from liqcore.record.store import LiquidationStore, StoreLocked, default_db_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m liqcore.record",
        description="Record a venue's public liquidation feed into a DuckDB file.",
    )
    parser.add_argument(
        "--exchange", required=True, help=f"one of {', '.join(FEEDS)} (Hyperliquid has no feed)"
    )
    parser.add_argument("--symbol", default="BTC", help="base asset, e.g. BTC (default)")
    parser.add_argument("--db", help=f"database file (default {default_db_path()})")
    parser.add_argument("--url", help="websocket address of a mirror or test server")
    parser.add_argument(
        "--rest-url", help="OKX only: REST address for the contract size (default okx.com)"
    )
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--quiet", action="store_true", help="only errors and the summary")
    return parser


async def _record(args: argparse.Namespace, store: LiquidationStore) -> int:
    recorder = recorder_for(args.exchange, args.symbol, store, url=args.url, rest_url=args.rest_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has none
            loop.add_signal_handler(signum, stop.set)
    stats = await recorder.run(stop, seconds=args.seconds)
    print(
        f"Recorded {stats.events:,} liquidation events from {args.exchange} {args.symbol.upper()} "
        f"over {stats.connections} connection(s); skipped {stats.skipped} unreadable message(s)."
    )
    if recorder.feed.lower_bound:
        print(recorder.feed.lower_bound)
    if stats.connections == 0 and stats.last_error:
        print(f"Could not connect: {stats.last_error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the recorder; returns the process exit code (2 for bad input, 1 for no connection)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
    )
    exchange = args.exchange.strip().lower()
    if exchange in NO_FEED:
        print(NO_FEED[exchange], file=sys.stderr)
        return 2
    if exchange not in FEEDS:
        print(
            f"--exchange must be one of {', '.join(FEEDS)}, got {args.exchange!r}", file=sys.stderr
        )
        return 2
    path = args.db or default_db_path()
    print(f"Recording {exchange} {args.symbol.upper()} into {path}", flush=True)
    try:
        store = LiquidationStore(path)
    except StoreLocked as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        return asyncio.run(_record(args, store))
    except (ValueError, requests.RequestException) as exc:
        print(f"Cannot record {exchange} {args.symbol.upper()}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
