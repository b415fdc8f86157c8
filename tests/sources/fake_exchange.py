"""A fake Binance + Bybit + OKX + Hyperliquid + Gate on 127.0.0.1, in the real shapes.

One :class:`FakeExchange` serves all their APIs (their paths do not collide),
including the market lists ccxt loads first. Prices,
volumes and open interest are smooth functions of time, so any window and any page
split give the same bars. Each endpoint honours its documented parameters, page
limits, ordering (Bybit and OKX newest first) and retention (Binance open interest 30
days, OKX recent candles and open interest 1,440 periods, Hyperliquid 5,000 candles).

Faults are injected per route with :meth:`FakeExchange.fail`; shape variations
(string timestamps, reversed lists, extra keys, pages overlapping by one bar, small
pages) through :attr:`FakeExchange.options`. Every request is logged in
:attr:`FakeExchange.log`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "exchanges"

#: The frozen "now" shared by the sources and the fake exchange: 2025-01-15 12:34:56 UTC.
NOW_MS = 1_736_944_496_000

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
STEPS = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
}
BYBIT_KLINE = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h"}
BYBIT_KLINE |= {"120": "2h", "240": "4h", "720": "12h", "D": "1d"}
BYBIT_PERIOD = {"5min": "5m", "15min": "15m", "30min": "30m", "1h": "1h", "4h": "4h", "1d": "1d"}
OKX_BAR = {"1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1H": "1h"}
OKX_BAR |= {"2H": "2h", "4H": "4h", "12Hutc": "12h", "1Dutc": "1d", "1D": "1d"}

LISTED = ("BTC", "ETH", "SOL", "XRP")
#: The market-list endpoints ccxt loads first (they list every coin of LISTED).
MARKET_LISTS = (
    "/fapi/v1/exchangeInfo",
    "/v5/market/instruments-info",
    "/api/v5/public/instruments",
    "/info:metaAndAssetCtxs",
    "/api/v4/futures/usdt/contracts",
    "/api/v2/mix/market/contracts",
    "/api/v2/public/get_instruments",
    "/api/v1/contracts/active",
)
# Volume scale per exchange: Binance trades the most, so the all-view takes its candles.
VOLUME_SCALE = {"binance": 3.0, "bybit": 2.0, "okx": 1.5, "hyperliquid": 0.5, "gate": 1.0}
VOLUME_SCALE["bitget"] = 1.2
VOLUME_SCALE["deribit"] = 0.2
VOLUME_SCALE["kucoin"] = 0.8
KUCOIN_LOT = 0.001  # BTC per lot, as KuCoin's multiplier for XBTUSDTM
KUCOIN_GRANULARITY = {"1": "1m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h"}
KUCOIN_GRANULARITY |= {"240": "4h", "720": "12h", "1440": "1d"}
KUCOIN_INTERVAL = {"5min": "5m", "15min": "15m", "30min": "30m", "1hour": "1h", "4hour": "4h"}
KUCOIN_INTERVAL |= {"1day": "1d"}
DERIBIT_RESOLUTION = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h"}
DERIBIT_RESOLUTION |= {"120": "2h", "240": "4h", "720": "12h", "1D": "1d"}
DERIBIT_OPEN_INTEREST = 900.0  # coins
BITGET_GRANULARITY = {"1H": "1h", "2H": "2h", "4H": "4h", "12Hutc": "12h", "1Dutc": "1d"}
BITGET_OPEN_INTEREST = 15_000.0  # coins
GATE_CONTRACT = 0.0001  # BTC per contract, as Gate's quanto_multiplier for BTC_USDT
OKX_CONTRACT = 0.01  # BTC per contract, as OKX's ctVal for BTC-USDT-SWAP
HL_OPEN_INTEREST = 20_000.0  # coins


def price(t_ms: float) -> float:
    """A smooth, always positive price path."""
    h = t_ms / HOUR
    return 50_000.0 * (
        1 + 0.03 * math.sin(h / 17) + 0.01 * math.sin(h / 1.7) + 0.002 * math.sin(h * 3.1)
    )


def open_interest(t_ms: float) -> float:
    """Open interest in coins (before each exchange's share)."""
    return 80_000.0 + 6_000.0 * math.sin(t_ms / HOUR / 11)


def candle(t: int, step: int, now: int, scale: float) -> dict[str, float]:
    end = min(t + step, now)
    samples = [price(t + (end - t) * k / 4) for k in range(5)]
    o, c = samples[0], samples[-1]
    return {
        "t": t,
        "o": round(o, 2),
        "h": round(max(samples) * 1.0004, 2),
        "l": round(min(samples) * 0.9996, 2),
        "c": round(c, 2),
        "v": round(scale * (100 + 40 * math.sin(t / step / 5) + 40), 3),
    }


def grid(lo: int, hi: int, step: int, last: int) -> list[int]:
    """Multiples of ``step`` in ``[lo, hi]`` that are not after ``last``."""
    first = -(-lo // step) * step
    return list(range(first, min(hi, last) + 1, step))


@dataclass
class Fault:
    kind: str
    times: int | None
    body: Any = None  # for kind "answer": sent as JSON with ``status``
    status: int = 200


@dataclass
class Options:
    string_timestamps: bool = False
    reverse: bool = False
    extra_keys: bool = False
    overlap: bool = False
    page_cap: int | None = None  # Bybit pages smaller than asked, to exercise the cursor
    missing_bars: bool = False  # Binance skips some candles (no trades, maintenance)
    okx_without_usd: bool = False  # OKX open interest rows as [ts, oi, oiCcy]


@dataclass
class FakeExchange:
    now_ms: int
    options: Options = field(default_factory=Options)
    faults: dict[str, Fault] = field(default_factory=dict)
    log: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    # ----------------------------------------------------------------- control

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(
        self,
        route: str,
        kind: str,
        times: int | None = None,
        *,
        body: Any = None,
        status: int = 200,
    ) -> None:
        """Answer requests to ``route`` (path, or ``/info:<type>``) with fault ``kind``.

        Kind ``"answer"`` sends ``body`` as JSON with ``status`` (an exchange's own
        error code, or a recorded response).
        """
        self.faults[route] = Fault(kind, times, body, status)

    def reset(self) -> None:
        with self.lock:
            self.options = Options()
            self.faults.clear()
            self.log.clear()

    def requests_to(self, route: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for _, r, params in self.log if r == route]

    def start(self) -> FakeExchange:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                fake.handle(self, "GET", parsed.path, params)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                route = f"{urlparse(self.path).path}:{body.get('type', '')}"
                fake.handle(self, "POST", route, body)

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # ----------------------------------------------------------------- dispatch

    def handle(
        self, handler: BaseHTTPRequestHandler, method: str, route: str, params: dict[str, Any]
    ) -> None:
        with self.lock:
            self.log.append((method, route, params))
            fault = self.faults.get(route)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[route]
        try:
            if fault is not None and fault.kind == "answer":
                self.send(handler, fault.status, json.dumps(fault.body))
                return
            if fault is not None and fault.kind != "truncated" and fault.kind != "empty":
                self.send_fault(handler, fault.kind, route)
                return
            status, body = self.route(
                route, params, empty=fault is not None and fault.kind == "empty"
            )
            text = json.dumps(body)
            if fault is not None and fault.kind == "truncated":
                text = text[: max(1, len(text) // 2)]
            self.send(handler, status, text)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def send(
        handler: BaseHTTPRequestHandler,
        status: int,
        text: str,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def send_fault(self, handler: BaseHTTPRequestHandler, kind: str, route: str) -> None:
        if kind == "timeout":
            time.sleep(3.5)  # beyond the tests' 1.5 s timeout (which a busy runner needs)
            self.send(handler, 200, "[]")
        elif kind == "429":
            body = '{"code":-1003,"msg":"Too many requests; current limit is 2400 per minute."}'
            self.send(handler, 429, body, headers={"Retry-After": "1"})
        elif kind == "418":
            body = '{"code":-1003,"msg":"Way too many requests; IP banned until 1736945000000."}'
            self.send(handler, 418, body)
        elif kind == "451":
            self.send(handler, 451, (FIXTURES / "binance_451_restricted_location.json").read_text())
        elif kind == "403":
            page = (FIXTURES / "bybit_403_cloudfront_blocked.html").read_text()
            self.send(handler, 403, page, content_type="text/html")
        elif kind == "403-bare":
            self.send(handler, 403, "<html><body>403 Forbidden</body></html>", "text/html")
        elif kind == "403-frequent":
            self.send(handler, 403, "access too frequent", content_type="text/plain")
        elif kind == "500":
            self.send(handler, 500, "<html><body>502 Bad Gateway</body></html>", "text/html")
        elif kind == "html":
            self.send(
                handler, 200, "<!DOCTYPE html><html><body>maintenance</body></html>", "text/html"
            )
        elif kind == "unknown-symbol":
            status, body = self.unknown_symbol(route)
            self.send(handler, status, json.dumps(body))
        else:
            raise AssertionError(f"unknown fault {kind!r}")

    def route(self, route: str, params: dict[str, Any], *, empty: bool) -> tuple[int, Any]:
        routes = {
            "/fapi/v1/exchangeInfo": self.binance_markets,
            "/v5/market/instruments-info": self.bybit_markets,
            "/fapi/v1/klines": self.binance_klines,
            "/futures/data/openInterestHist": self.binance_open_interest,
            "/futures/data/globalLongShortAccountRatio": self.binance_ratio,
            "/fapi/v1/fundingRate": self.binance_funding,
            "/v5/market/kline": self.bybit_kline,
            "/v5/market/open-interest": self.bybit_open_interest,
            "/v5/market/account-ratio": self.bybit_ratio,
            "/v5/market/funding/history": self.bybit_funding,
            "/api/v5/market/candles": self.okx_candles,
            "/api/v5/market/history-candles": self.okx_history_candles,
            "/api/v5/rubik/stat/contracts/open-interest-history": self.okx_open_interest,
            "/api/v5/public/funding-rate-history": self.okx_funding,
            "/api/v5/public/instruments": self.okx_instruments,
            "/api/v5/public/liquidation-orders": self.okx_liquidations,
            "/info:candleSnapshot": self.hl_candles,
            "/api/v4/futures/usdt/contracts": self.gate_markets,
            "/api/v1/contracts/active": self.kucoin_markets,
            "/api/v1/kline/query": self.kucoin_candles,
            "/api/ua/v1/market/open-interest": self.kucoin_open_interest,
            "/api/v2/public/get_instruments": self.deribit_markets,
            "/api/v2/public/get_tradingview_chart_data": self.deribit_candles,
            "/api/v2/public/get_book_summary_by_instrument": self.deribit_open_interest,
            "/api/v2/mix/market/contracts": self.bitget_markets,
            "/api/v2/mix/market/candles": self.bitget_candles,
            "/api/v2/mix/market/history-candles": self.bitget_candles,
            "/api/v2/mix/market/open-interest": self.bitget_open_interest,
            "/api/v4/futures/usdt/candlesticks": self.gate_candles,
            "/api/v4/futures/usdt/contract_stats": self.gate_open_interest,
            "/info:metaAndAssetCtxs": self.hl_contexts,
        }
        answer = routes.get(route)
        if answer is None:
            return 404, {"error": f"no route {route}"}
        symbol_ok = self.listed(route, params)
        if not symbol_ok:
            return self.unknown_symbol(route)
        status, body = answer(params)
        if empty:
            body = self.emptied(body)
        return status, body

    # ----------------------------------------------------------------- helpers

    def listed(self, route: str, params: dict[str, Any]) -> bool:
        if route in MARKET_LISTS:
            return True
        if route.startswith("/info:candleSnapshot"):
            return params["req"]["coin"] in (*LISTED, "kPEPE")
        if route.startswith("/info"):
            return True
        symbol = params.get("symbol") or params.get("instId") or params.get("instFamily") or ""
        symbol = symbol or params.get("contract", "") or params.get("instrument_name", "")
        coin = symbol.split("-")[0].split("_")[0].removesuffix("USDTM").removesuffix("USDT")
        return coin.replace("XBT", "BTC") in LISTED

    @staticmethod
    def unknown_symbol(route: str) -> tuple[int, Any]:
        if route.startswith(("/fapi", "/futures")):
            return 400, json.loads((FIXTURES / "binance_error_invalid_symbol.json").read_text())
        if route.startswith("/v5"):
            return 200, {
                "retCode": 10001,
                "retMsg": "params error: symbol invalid",
                "result": {},
                "retExtInfo": {},
                "time": 1736944496000,
            }
        if route.startswith("/api/v5"):
            return 200, {"code": "51001", "data": [], "msg": "Instrument ID does not exist"}
        if route.startswith(("/api/v1/kline", "/api/ua")):
            return 200, {"code": "400000", "msg": "Contract parameter invalid."}
        if route.startswith("/api/v2/public"):
            return 400, {
                "jsonrpc": "2.0",
                "error": {
                    "message": "Invalid params",
                    "data": {"reason": "wrong format", "param": "instrument_name"},
                    "code": -32602,
                },
                "testnet": False,
            }
        if route.startswith("/api/v2/mix"):
            return 400, {
                "code": "40034",
                "msg": "Parameter DOGEUSDT does not exist",
                "requestTime": 1736944496000,
                "data": None,
            }
        if route.startswith("/api/v4/futures"):
            return 400, {"label": "CONTRACT_NOT_FOUND", "message": "contract not found"}
        return 500, None

    @staticmethod
    def emptied(body: Any) -> Any:
        if isinstance(body, list):
            return []
        if isinstance(body, dict) and isinstance(body.get("result"), dict) and "retCode" in body:
            return {**body, "result": {**body["result"], "list": [], "nextPageCursor": ""}}
        if isinstance(body, dict) and "data" in body:
            return {**body, "data": []}
        if isinstance(body, dict) and "symbols" in body:
            return {**body, "symbols": []}
        if isinstance(body, dict) and isinstance(body.get("result"), list):
            return {**body, "result": []}
        if isinstance(body, dict) and isinstance(body.get("result"), dict):
            return {**body, "result": {"status": "no_data", "ticks": []}}
        return body

    def ts(self, value: int) -> Any:
        return str(value) if self.options.string_timestamps else value

    def ordered(self, rows: list[Any], *, newest_first: bool) -> list[Any]:
        rows = list(reversed(rows)) if newest_first else list(rows)
        return list(reversed(rows)) if self.options.reverse else rows

    def times(
        self, lo: int, hi: int, step: int, limit: int, *, newest: bool, kept_from: int = 0
    ) -> list[int]:
        """Bar/snapshot times in ``[lo, hi]`` up to now; at most ``limit``, oldest or newest."""
        found = grid(max(lo, kept_from), hi, step, self.now_ms)
        found = found[-limit:] if newest else found[:limit]
        if self.options.overlap and found and found[0] - step >= kept_from:
            # Repeat the previous page's edge bar: the same candle on two pages.
            found.insert(0, found[0] - step)
        return found

    def candles(self, exchange: str, times: list[int], step: int) -> list[dict[str, float]]:
        return [candle(t, step, self.now_ms, VOLUME_SCALE[exchange]) for t in times]

    @staticmethod
    def listing(template: dict[str, Any], coin: str) -> dict[str, Any]:
        """The hand-written BTC row of a market list, for another coin."""
        return json.loads(json.dumps(template).replace('"BTC', f'"{coin}'))

    # ----------------------------------------------------------------- Binance

    def binance_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "binance_fapi_v1_exchangeInfo.json").read_text())
        (row,) = body["symbols"]
        body["symbols"] = [self.listing(row, coin) for coin in LISTED]
        return 200, body

    def binance_klines(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[p["interval"]]
        limit = int(p.get("limit", 500))
        if limit > 1500:
            return 400, {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}
        times = self.times(int(p["startTime"]), int(p["endTime"]), step, limit, newest=False)
        if self.options.missing_bars:
            times = [t for t in times if (t // step) % 97 != 5]
        rows = []
        for c in self.candles("binance", times, step):
            t = int(c["t"])
            row = [
                self.ts(t),
                f"{c['o']:.2f}",
                f"{c['h']:.2f}",
                f"{c['l']:.2f}",
                f"{c['c']:.2f}",
                f"{c['v']:.3f}",
                t + step - 1,
                f"{c['v'] * c['c']:.5f}",
                42,
                f"{c['v'] * 0.52:.3f}",
                f"{c['v'] * 0.52 * c['c']:.5f}",
                "0",
            ]
            if self.options.extra_keys:
                row.append("unexpected")
            rows.append(row)
        return 200, self.ordered(rows, newest_first=False)

    def binance_stats(self, p: dict[str, Any], make: Any) -> tuple[int, Any]:
        step = STEPS[p["period"]]
        limit = min(int(p.get("limit", 30)), 500)
        oldest = self.now_ms - 30 * DAY
        lo, hi = int(p.get("startTime", oldest)), int(p.get("endTime", self.now_ms))
        times = self.times(lo, hi, step, limit, newest=False, kept_from=oldest)
        rows = []
        for t in times:
            row = {"symbol": p["symbol"], **make(t), "timestamp": self.ts(t)}
            if self.options.extra_keys:
                row["somethingNew"] = "1"
            rows.append(row)
        return 200, self.ordered(rows, newest_first=False)

    def binance_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        def make(t: int) -> dict[str, Any]:
            coins = open_interest(t)
            return {
                "sumOpenInterest": f"{coins:.8f}",
                "sumOpenInterestValue": f"{coins * price(t):.8f}",
                "CMCCirculatingSupply": "19812345.0",  # live answers carry it
            }

        return self.binance_stats(p, make)

    def binance_ratio(self, p: dict[str, Any]) -> tuple[int, Any]:
        def make(t: int) -> dict[str, Any]:
            long = 0.5 + 0.1 * math.sin(t / DAY)
            return {
                "longShortRatio": f"{long / (1 - long):.4f}",
                "longAccount": f"{long:.4f}",
                "shortAccount": f"{1 - long:.4f}",
            }

        return self.binance_stats(p, make)

    def binance_funding(self, p: dict[str, Any]) -> tuple[int, Any]:
        limit = min(int(p.get("limit", 100)), 1000)
        times = grid(int(p["startTime"]), int(p["endTime"]), 8 * HOUR, self.now_ms)[:limit]
        rows = [
            {
                "symbol": p["symbol"],
                "fundingRate": f"{0.0001 * math.sin(t / DAY):.8f}",
                "fundingTime": t,
                "markPrice": f"{price(t):.2f}",
            }
            for t in times
        ]
        return 200, rows

    # ----------------------------------------------------------------- Bybit

    def bybit(self, result: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": self.now_ms,
        }
        if self.options.string_timestamps:
            body["retCode"] = "0"  # as in the recorded kline fixture
        if self.options.extra_keys:
            body["newTopLevel"] = {"x": 1}
        return body

    def bybit_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "bybit_v5_market_instruments-info.json").read_text())
        (row,) = body["result"]["list"]
        rows = [self.listing(row, coin) for coin in LISTED] if p.get("category") == "linear" else []
        return 200, self.bybit({"category": p.get("category"), "list": rows, "nextPageCursor": ""})

    def string_rows(self, exchange: str, times: list[int], step: int) -> list[list[str]]:
        """[ts, open, high, low, close, base volume, quote volume] as strings (Bybit, Bitget)."""
        return [
            [
                str(int(c["t"])),
                str(c["o"]),
                str(c["h"]),
                str(c["l"]),
                str(c["c"]),
                str(c["v"]),
                f"{c['v'] * c['c']:.4f}",
            ]
            for c in self.candles(exchange, times, step)
        ]

    def bybit_kline(self, p: dict[str, Any]) -> tuple[int, Any]:
        interval = BYBIT_KLINE[p["interval"]]
        step = STEPS[interval]
        limit = min(int(p.get("limit", 200)), 1000)
        times = self.times(int(p["start"]), int(p["end"]), step, limit, newest=True)
        rows = self.string_rows("bybit", times, step)
        result = {
            "symbol": p["symbol"],
            "category": "linear",
            "list": self.ordered(rows, newest_first=True),
        }
        return 200, self.bybit(result)

    def bybit_paged(self, p: dict[str, Any], step: int, cap: int, make: Any) -> tuple[int, Any]:
        limit = min(int(p.get("limit", 50)), cap)
        if self.options.page_cap:
            limit = min(limit, self.options.page_cap)
        lo, hi = int(p["startTime"]), int(p["endTime"])
        times = list(reversed(grid(lo, hi, step, self.now_ms)))  # newest first
        offset = int(p.get("cursor") or 0)
        page = times[offset : offset + limit]
        more = offset + limit < len(times)
        rows = []
        for t in page:
            row = {**make(t), "timestamp": str(t)}
            if self.options.extra_keys:
                row["extra"] = "1"
            rows.append(row)
        result = {
            "symbol": p["symbol"],
            "category": "linear",
            "list": self.ordered(rows, newest_first=False),
            "nextPageCursor": str(offset + limit) if more else "",
        }
        return 200, self.bybit(result)

    def bybit_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[BYBIT_PERIOD[p["intervalTime"]]]
        return self.bybit_paged(
            p, step, 200, lambda t: {"openInterest": f"{open_interest(t) * 0.6:.8f}"}
        )

    def bybit_ratio(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[BYBIT_PERIOD[p["period"]]]

        def make(t: int) -> dict[str, Any]:
            buy = 0.5 + 0.05 * math.cos(t / DAY)
            return {"symbol": p["symbol"], "buyRatio": f"{buy:.4f}", "sellRatio": f"{1 - buy:.4f}"}

        return self.bybit_paged(p, step, 500, make)

    def bybit_funding(self, p: dict[str, Any]) -> tuple[int, Any]:
        limit = min(int(p.get("limit", 200)), 200)
        times = grid(int(p["startTime"]), int(p["endTime"]), 8 * HOUR, self.now_ms)[-limit:]
        rows = [
            {
                "symbol": p["symbol"],
                "fundingRate": f"{0.0001 * math.cos(t / DAY):.8f}",
                "fundingRateTimestamp": str(t),
            }
            for t in reversed(times)
        ]
        return 200, self.bybit({"category": "linear", "list": rows})

    # ----------------------------------------------------------------- OKX

    def okx(self, data: list[Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"code": "0", "msg": "", "data": data}
        if self.options.extra_keys:
            body["inTime"] = str(self.now_ms)
        return body

    def okx_bars(self, p: dict[str, Any], cap: int, *, recent_only: bool) -> tuple[int, Any]:
        step = STEPS[OKX_BAR[p["bar"]]]
        limit = min(int(p.get("limit", 100)), cap)
        after = int(p.get("after", self.now_ms + step))
        before = int(p.get("before", 0))
        kept_from = (self.now_ms // step - 1439) * step if recent_only else 0
        times = self.times(before + 1, after - 1, step, limit, newest=True, kept_from=kept_from)
        rows = []
        for c in self.candles("okx", times, step):
            t = int(c["t"])
            contracts = c["v"] / OKX_CONTRACT
            confirm = "0" if t + step > self.now_ms else "1"
            row = [
                str(t),
                str(c["o"]),
                str(c["h"]),
                str(c["l"]),
                str(c["c"]),
                f"{contracts:.2f}",
                f"{c['v']:.5f}",
                f"{c['v'] * c['c']:.5f}",
                confirm,
            ]
            rows.append(row)
        return 200, self.okx(self.ordered(rows, newest_first=True))

    def okx_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        return self.okx_bars(p, 300, recent_only=True)

    def okx_history_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        return self.okx_bars(p, 100, recent_only=False)

    def okx_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[OKX_BAR[p.get("period", "5m")]]
        limit = min(int(p.get("limit", 100)), 100)
        end = int(p.get("end", self.now_ms + 1))
        begin = int(p.get("begin", 0))
        kept_from = (self.now_ms // step - 1439) * step
        times = self.times(begin + 1, end - 1, step, limit, newest=True, kept_from=kept_from)
        rows = []
        for t in times:
            coins = open_interest(t) * 0.4
            rows.append(
                [str(t), f"{coins / OKX_CONTRACT:.2f}", f"{coins:.4f}", f"{coins * price(t):.4f}"]
            )
        return 200, self.okx(self.ordered(rows, newest_first=True))

    def okx_funding(self, p: dict[str, Any]) -> tuple[int, Any]:
        limit = min(int(p.get("limit", 100)), 100)
        after = int(p.get("after", self.now_ms + 1))
        oldest = max(self.now_ms - 90 * DAY, int(p.get("before", 0)) + 1)
        times = grid(oldest, after - 1, 8 * HOUR, self.now_ms)[-limit:]
        rows = [
            {
                "instId": p["instId"],
                "instType": "SWAP",
                "fundingRate": f"{0.0001 * math.sin(t / DAY + 1):.8f}",
                "realizedRate": f"{0.0001 * math.sin(t / DAY + 1):.8f}",
                "fundingTime": str(t),
                "method": "current_period",
            }
            for t in reversed(times)
        ]
        return 200, self.okx(rows)

    def okx_instruments(self, p: dict[str, Any]) -> tuple[int, Any]:
        (row,) = json.loads((FIXTURES / "okx_api_v5_public_instruments.json").read_text())["data"]
        rows = [self.listing(row, coin) for coin in LISTED] if p.get("instType") == "SWAP" else []
        return 200, self.okx(rows)

    def okx_liquidations(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "okx_api_v5_public_liquidation-orders.json").read_text())
        # Move the recorded-shape events to just before "now", keeping their spacing.
        details = body["data"][0]["details"]
        newest = max(int(d["ts"]) for d in details)
        shift = self.now_ms - 60_000 - newest
        for d in details:
            d["ts"] = str(int(d["ts"]) + shift)
        base = p["instFamily"].split("-")[0]
        body["data"][0]["instId"] = f"{base}-USDT-SWAP"
        body["data"][0]["instFamily"] = p["instFamily"]
        return 200, body

    # ----------------------------------------------------------------- KuCoin Futures

    def kucoin_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "kucoin_api_v1_contracts_active.json").read_text())
        (row,) = body["data"]
        rows = [
            json.loads(json.dumps(row).replace('"XBT', f'"{coin.replace("BTC", "XBT")}'))
            for coin in LISTED
        ]
        return 200, {"code": "200000", "data": rows}

    def kucoin_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        # [time ms, open, high, low, close, volume in lots, turnover], oldest first.
        step = STEPS[KUCOIN_GRANULARITY[str(p["granularity"])]]
        lo, hi = int(p.get("from", 0)), int(p.get("to", self.now_ms))
        times = self.times(lo, hi, step, 500, newest=True)
        rows = [
            [
                self.ts(int(c["t"])),
                c["o"],
                c["h"],
                c["l"],
                c["c"],
                round(c["v"] / KUCOIN_LOT),
                round(c["v"] * c["c"], 2),
            ]
            for c in self.candles("kucoin", times, step)
        ]
        return 200, {"code": "200000", "data": self.ordered(rows, newest_first=False)}

    def kucoin_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[KUCOIN_INTERVAL[p["interval"]]]
        limit = min(int(p.get("pageSize", 100)), 200)
        lo, hi = int(p.get("startAt", 0)), int(p.get("endAt", self.now_ms))
        times = self.times(lo, hi, step, limit, newest=True)
        rows = [
            {
                "symbol": p["symbol"],
                "openInterest": str(round(open_interest(t) * 0.2 / KUCOIN_LOT)),
                "ts": t,
            }
            for t in times
        ]
        return 200, {"code": "200000", "data": self.ordered(rows, newest_first=True)}

    # ----------------------------------------------------------------- Deribit

    def deribit(self, result: Any) -> dict[str, Any]:
        us = self.now_ms * 1000
        return {
            "jsonrpc": "2.0",
            "result": result,
            "usIn": us,
            "usOut": us + 400,
            "usDiff": 400,
            "testnet": False,
        }

    def deribit_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "deribit_api_v2_public_get_instruments.json").read_text())
        (row,) = body["result"]
        return 200, self.deribit([self.listing(row, coin) for coin in LISTED])

    def deribit_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        # Columns of arrays, oldest first; start and end inclusive, in ms.
        step = STEPS[DERIBIT_RESOLUTION[p["resolution"]]]
        lo, hi = int(p["start_timestamp"]), int(p["end_timestamp"])
        found = self.candles("deribit", self.times(lo, hi, step, 5000, newest=False), step)
        found = self.ordered(found, newest_first=False)
        if not found:
            return 200, self.deribit({"status": "no_data", "ticks": []})
        return 200, self.deribit(
            {
                "status": "ok",
                "ticks": [self.ts(int(c["t"])) for c in found],
                "open": [c["o"] for c in found],
                "high": [c["h"] for c in found],
                "low": [c["l"] for c in found],
                "close": [c["c"] for c in found],
                "volume": [c["v"] for c in found],
                "cost": [round(c["v"] * c["c"], 2) for c in found],
            }
        )

    def deribit_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        mark = price(self.now_ms)
        summary = {
            "instrument_name": p["instrument_name"],
            "open_interest": DERIBIT_OPEN_INTEREST,
            "mark_price": round(mark, 1),
            "volume": 1234.5,
            "creation_timestamp": self.now_ms,
            "base_currency": p["instrument_name"].split("_")[0],
            "quote_currency": "USDC",
        }
        return 200, self.deribit([summary])

    # ----------------------------------------------------------------- Bitget

    def bitget(self, data: Any) -> dict[str, Any]:
        return {"code": "00000", "msg": "success", "requestTime": self.now_ms, "data": data}

    def bitget_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        body = json.loads((FIXTURES / "bitget_api_v2_mix_market_contracts.json").read_text())
        (row,) = body["data"]
        rows = [self.listing(row, coin) for coin in LISTED]
        return 200, self.bitget(rows if p.get("productType") == "USDT-FUTURES" else [])

    def bitget_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        # [ts, open, high, low, close, base volume, quote volume], oldest first.
        step = STEPS[BITGET_GRANULARITY.get(p["granularity"], p["granularity"])]
        limit = min(int(p.get("limit", 100)), 1000)
        lo, hi = int(p.get("startTime", 0)), int(p.get("endTime", self.now_ms))
        times = self.times(lo, hi, step, limit, newest=True)
        rows = self.string_rows("bitget", times, step)
        return 200, self.bitget(self.ordered(rows, newest_first=False))

    def bitget_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        listed = [{"symbol": p["symbol"], "size": f"{BITGET_OPEN_INTEREST:.4f}"}]
        return 200, self.bitget({"openInterestList": listed, "ts": str(self.now_ms)})

    # ----------------------------------------------------------------- Gate

    def gate_markets(self, p: dict[str, Any]) -> tuple[int, Any]:
        (row,) = json.loads((FIXTURES / "gate_api_v4_futures_usdt_contracts.json").read_text())
        return 200, [self.listing(row, coin) for coin in LISTED]

    def gate_candles(self, p: dict[str, Any]) -> tuple[int, Any]:
        # Times in seconds; from/to inclusive; oldest first; volume in contracts.
        step = STEPS[p["interval"]]
        lo = int(p.get("from", 0)) * 1000
        hi = int(p.get("to", self.now_ms // 1000)) * 1000
        times = self.times(lo, hi, step, 2000, newest=False)
        rows = [
            {
                "t": self.ts(int(c["t"]) // 1000),
                "v": round(c["v"] / GATE_CONTRACT),
                "c": str(c["c"]),
                "h": str(c["h"]),
                "l": str(c["l"]),
                "o": str(c["o"]),
                "sum": f"{c['v'] * c['c']:.4f}",
            }
            for c in self.candles("gate", times, step)
        ]
        return 200, self.ordered(rows, newest_first=False)

    def gate_open_interest(self, p: dict[str, Any]) -> tuple[int, Any]:
        step = STEPS[p["interval"]]
        limit = min(int(p.get("limit", 30)), 100)
        lo = int(p.get("from", (self.now_ms - limit * step) // 1000)) * 1000
        times = self.times(lo, self.now_ms, step, limit, newest=False)
        rows = []
        for t in times:
            coins = open_interest(t) * 0.3
            row = {
                "time": t // 1000,
                "lsr_taker": 1.1,
                "lsr_account": 0.9,
                "long_liq_size": 0,
                "short_liq_size": 0,
                "open_interest": round(coins / GATE_CONTRACT),
                "open_interest_usd": round(coins * price(t), 4),
                "mark_price": f"{price(t):.2f}",
            }
            rows.append(row)
        return 200, self.ordered(rows, newest_first=False)

    # ----------------------------------------------------------------- Hyperliquid

    def hl_candles(self, body: dict[str, Any]) -> tuple[int, Any]:
        req = body["req"]
        step = STEPS[req["interval"]]
        kept_from = (self.now_ms // step - 4999) * step
        times = self.times(
            int(req["startTime"]),
            int(req["endTime"]),
            step,
            5000,
            newest=False,
            kept_from=kept_from,
        )
        rows = []
        for c in self.candles("hyperliquid", times, step):
            t = int(c["t"])
            rows.append(
                {
                    "t": self.ts(t),
                    "T": self.ts(t + step - 1),
                    "s": req["coin"],
                    "i": req["interval"],
                    "o": str(c["o"]),
                    "c": str(c["c"]),
                    "h": str(c["h"]),
                    "l": str(c["l"]),
                    "v": str(c["v"]),
                    "n": self.ts(17),
                }
            )
        return 200, self.ordered(rows, newest_first=False)

    def hl_contexts(self, body: dict[str, Any]) -> tuple[int, Any]:
        universe = [
            {"name": name, "szDecimals": 2, "maxLeverage": 50} for name in (*LISTED, "kPEPE")
        ]
        mark = price(self.now_ms)
        contexts = [
            {
                "funding": "0.0000125",
                "openInterest": f"{HL_OPEN_INTEREST:.4f}",
                "prevDayPx": f"{mark * 0.99:.1f}",
                "dayNtlVlm": "1551602431.4",
                "premium": "0.0003",
                "oraclePx": f"{mark:.1f}",
                "markPx": f"{mark:.1f}",
                "midPx": f"{mark:.1f}",
                "impactPxs": [f"{mark:.1f}", f"{mark + 1:.1f}"],
            }
            for _ in universe
        ]
        return 200, [{"universe": universe}, contexts]
