"""The recorder against a fake feed: reconnects, heartbeats, bad messages, replays, floods."""

from __future__ import annotations

import itertools
import json
import random
import time

import pandas as pd

from liqcore.record import LiquidationStore
from liqcore.record.recorder import Backoff
from tests.record.fake_feeds import FakeFeeds, binance, bybit, okx, record

T = 1_736_944_496_000  # 2025-01-15 12:34:56 UTC, in ms


def test_disconnect_mid_stream_reconnects_resubscribes_and_keeps_the_gap(feeds: FakeFeeds) -> None:
    """The link drops; the recorder reconnects and subscribes again; the replayed event is
    stored once; coverage has two spans with the gap between them."""
    first = [binance(T + i, "SELL", 100.0 + i, 1.0) for i in range(5)]
    second = [binance(T + 4, "SELL", 104.0, 1.0), binance(T + 10, "BUY", 110.0, 0.5)]
    feeds.play(
        [*[("send", m) for m in first], ("sleep", 0.2), ("drop",)],
        [("sleep", 0.1), *[("send", m) for m in second]],
    )
    store = LiquidationStore(":memory:")
    recorder = record(feeds, "binance", store, seconds=2.5, backoff=Backoff(base=0.6, cap=0.6))
    assert feeds.connections >= 2
    assert feeds.subscriptions[0] == feeds.subscriptions[1]
    assert json.loads(feeds.subscriptions[0])["params"] == ["btcusdt@forceOrder"]
    events = store.events("binance", "BTC")
    assert len(events) == 6, "the replayed event is stored once"
    assert events["side"].tolist() == ["long"] * 5 + ["short"]
    assert events["usd"].iloc[-1] == 55.0
    spans = store.coverage("binance", "BTC")
    assert len(spans) >= 2, "the time between the connections is a gap"
    assert recorder.stats.connections >= 2 and recorder.stats.last_error


def test_malformed_json_and_unknown_events_are_skipped(feeds: FakeFeeds) -> None:
    feeds.play(
        [
            ("send", "{not json"),
            ("send", {"topic": "tickers.BTCUSDT", "data": {"lastPrice": "1"}}),
            ("send", {"topic": "allLiquidation.BTCUSDT", "data": [{"T": "x"}]}),
            ("send", {"success": True, "ret_msg": "", "op": "subscribe"}),
            ("send", bybit([(T, "Buy", 50_000.0, 0.2)])),
            ("send", b"\xff\xfe"),
            ("send", bybit([(T + 1, "Sell", 50_100.0, 0.1)])),
        ]
    )
    store = LiquidationStore(":memory:")
    recorder = record(feeds, "bybit", store, seconds=1.0)
    events = store.events("bybit", "BTC")
    assert events["side"].tolist() == ["long", "short"]
    assert events["usd"].tolist() == [10_000.0, 5_010.0]
    assert recorder.stats.skipped == 3  # the bad JSON, the unreadable item, the binary garbage
    assert recorder.stats.connections == 1


def test_out_of_order_and_duplicated_events(feeds: FakeFeeds) -> None:
    """OKX warns its pushes are not in time order; a message may repeat."""
    shuffled = [(T + i * 1000, "sell", "long", 100.0, i + 1) for i in range(20)]
    random.Random(4).shuffle(shuffled)
    messages = [okx([event]) for event in shuffled]
    feeds.play([*[("send", m) for m in messages], *[("send", m) for m in messages[:5]]])
    store = LiquidationStore(":memory:")
    record(feeds, "okx", store, seconds=1.0)
    events = store.events("okx", "BTC")
    assert len(events) == 20
    assert events["time"].is_monotonic_increasing
    assert events["quantity"].round(6).tolist() == [round(0.01 * (i + 1), 6) for i in range(20)]
    bars = store.bars(
        "okx",
        "BTC",
        pd.Timestamp(T, unit="ms", tz="UTC"),
        pd.Timestamp(T + 20_000, unit="ms", tz="UTC"),
        "1D",
    )
    assert bars["long_usd"].sum() == events["usd"].sum()


def test_server_pings_are_answered_and_the_venue_heartbeat_goes_out(
    feeds: FakeFeeds,
) -> None:
    """Protocol pings get pongs (websockets); OKX's app-level "ping" goes out every heartbeat and
    a venue's own "ping" text is answered with "pong"."""
    feeds.play([("ping",), ("ping",), ("send", "ping"), ("expect", "ping", 3.0), ("send", "pong")])
    store = LiquidationStore(":memory:")
    record(feeds, "okx", store, seconds=2.5, heartbeat_every=0.5)
    assert feeds.pongs == 2
    assert "pong" in feeds.received
    assert "ping" in feeds.received
    assert not feeds.errors


def test_a_fast_feed_and_a_slow_disk_lose_nothing(feeds: FakeFeeds) -> None:
    """6,000 events as fast as the server can send, into a store that takes 0.2 s per write:
    the websocket buffers push back on the server, every event is stored, batches stay ≤ 1 s.
    (6,000 in 8 s leaves a wide margin on a busy 2-core runner, which stored 12,000 in 6 s.)"""
    messages = [binance(T + i, "SELL" if i % 3 else "BUY", 100.0, 1.0 + i) for i in range(6_000)]
    feeds.play([("stream", messages, 1e9)])
    store = LiquidationStore(":memory:")
    slow_write = store.write
    writes: list[float] = []

    def write(*args, **kwargs):
        writes.append(time.monotonic())
        time.sleep(0.2)
        return slow_write(*args, **kwargs)

    store.write = write  # type: ignore[method-assign]
    record(feeds, "binance", store, seconds=8.0)
    assert len(store.events("binance", "BTC")) == 6_000
    gaps = [b - a for a, b in itertools.pairwise(writes)]
    assert max(gaps) < 1.0, "a batch never holds more than a second"


def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(base=0.5, cap=8.0)
    rng = random.Random(0)
    delays = [[backoff.delay(n, rng) for _ in range(200)] for n in range(8)]
    assert all(0 <= d <= min(8.0, 0.5 * 2**n) for n, row in enumerate(delays) for d in row)
    assert max(delays[7]) > 4.0 and len(set(delays[7])) == 200  # capped, and spread out


def test_nobody_listening_is_retried_and_reported(unused_port: int = 9) -> None:
    store = LiquidationStore(":memory:")

    class Nowhere(FakeFeeds):
        @property
        def url(self) -> str:
            return "ws://127.0.0.1:9/ws"

    recorder = record(Nowhere(), "bybit", store, seconds=0.8)
    assert recorder.stats.connections == 0
    assert recorder.stats.last_error
    assert len(recorder.stats.errors) >= 2, "it kept trying"
    assert store.coverage("bybit", "BTC").empty, "no coverage is claimed"
