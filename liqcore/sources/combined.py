"""All exchanges at once: open interest summed in USD, candles from the most liquid one.

Every venue of :data:`liqcore.sources.EXCHANGES` is asked in parallel. Those that answer are the
*contributors*: their open interest (USD, at each bar's close) is summed bar by bar,
and the candles, taker volume, long/short ratio and funding rate come from the
contributor with the largest quote volume over the window. Exchanges that fail are
left out with their reason in ``attrs["failed"]`` and a note; only when none answers
does the view raise :class:`SourceUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from liqcore.market import validate_market
from liqcore.sources import base, venue
from liqcore.sources.base import SourceUnavailable
from liqcore.sources.venue import Venue

__all__ = ["EXCHANGE", "addresses", "combine", "fetch_market"]

EXCHANGE = "all"


def addresses(
    names: Sequence[str], base_url: str | Mapping[str, str] | None
) -> dict[str, str | None]:
    """Each exchange's address: one for all, or a mapping exchange → address (others: None).

    Examples
    --------
    >>> addresses(["binance", "okx"], {"okx": "http://127.0.0.1:9"})
    {'binance': None, 'okx': 'http://127.0.0.1:9'}
    >>> addresses(["binance", "okx"], {"kraken": "http://127.0.0.1:1"})
    Traceback (most recent call last):
    ...
    ValueError: base_url names unknown exchanges ['kraken'] (known: binance, okx)
    """
    if base_url is None or isinstance(base_url, str):
        return dict.fromkeys(names, base_url)
    unknown = set(base_url) - set(names)
    if unknown:
        msg = f"base_url names unknown exchanges {sorted(unknown)} (known: {', '.join(names)})"
        raise ValueError(msg)
    return {name: base_url.get(name) for name in names}


def fetch_market(
    venues: Sequence[Venue],
    symbol: str,
    timeframe: str | pd.Timedelta,
    interval: str,
    urls: Mapping[str, str | None],
) -> pd.DataFrame:
    """The all-exchange market frame for ``symbol`` over ``timeframe``, asked in parallel.

    ``venues`` are asked at ``urls`` (see :func:`addresses`), all on the same candle
    ``interval``; see :func:`liqcore.sources.fetch_market` for the other parameters.

    Returns
    -------
    DataFrame
        See :func:`combine`.

    Raises
    ------
    SourceUnavailable
        When no exchange answers; the message lists each one's reason.
    """
    base.make_window(timeframe, interval)  # argument errors now, not once per exchange
    frames: dict[str, pd.DataFrame] = {}
    failures: dict[str, SourceUnavailable] = {}
    with ThreadPoolExecutor(max_workers=len(venues), thread_name_prefix="liqcore-all") as pool:
        futures = {
            v.name: pool.submit(
                venue.fetch_market, v, symbol, timeframe, interval=interval, base_url=urls[v.name]
            )
            for v in venues
        }
        for name, future in futures.items():
            try:
                frames[name] = future.result()
            except SourceUnavailable as exc:
                failures[name] = exc
    return combine(frames, failures)


def combine(
    frames: Mapping[str, pd.DataFrame],
    failures: Mapping[str, SourceUnavailable] | None = None,
) -> pd.DataFrame:
    """Merge per-exchange market frames into one: summed open interest, leader's candles.

    Parameters
    ----------
    frames : mapping
        Exchange name → market frame (with the ``attrs`` the sources set), all on the
        same interval.
    failures : mapping, optional
        Exchange name → the error that kept it out.

    Returns
    -------
    DataFrame
        A validated market frame. ``attrs``: ``source``/``exchange`` ``"all"``,
        ``contributors`` (exchanges summed, in the order of ``frames``),
        ``candles_from`` (the most liquid contributor), ``failed`` (exchange →
        reason), ``open_interest_by_exchange`` (USD at the last bar), ``instrument``
        (exchange → instrument), and ``symbol``, ``interval``, ``timeframe``,
        ``fetched_at`` (oldest of the contributors), ``from_cache`` (all from cache),
        ``requests``, ``notes``, ``open_interest_coverage`` (weighted by open
        interest), ``quote_volume_usd`` (summed).

    Raises
    ------
    SourceUnavailable
        When ``frames`` is empty: the reason all failures share, else ``no data``.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC", name="time")
    >>> def venue(oi, quote):
    ...     frame = pd.DataFrame({"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.0,
    ...                           "volume": 1.0, "open_interest": oi}, index=idx)
    ...     frame.attrs.update(quote_volume_usd=quote, notes=[], interval="1h")
    ...     return frame
    >>> merged = combine({"binance": venue(2e9, 5e9), "okx": venue(1e9, 9e9)})
    >>> merged["open_interest"].tolist(), merged.attrs["candles_from"]
    ([3000000000.0, 3000000000.0, 3000000000.0], 'okx')
    """
    failures = dict(failures or {})
    if not frames:
        reasons = {exc.reason for exc in failures.values()}
        reason = reasons.pop() if len(reasons) == 1 else "no data"
        listed = "; ".join(f"{name} {exc.reason} ({exc.message})" for name, exc in failures.items())
        base.fail(EXCHANGE, reason, f"no exchange answered: {listed or 'none asked'}")
    order = list(frames)
    lead = max(order, key=lambda name: frames[name].attrs.get("quote_volume_usd", 0.0))
    merged = frames[lead].copy()
    index = merged.index
    notes: list[str] = []
    total = pd.Series(0.0, index=index)
    by_exchange: dict[str, float] = {}
    contributors: list[str] = []
    for name in order:
        frame = frames[name]
        oi = frame["open_interest"].reindex(index)
        if oi.isna().all():
            notes.append(
                f"{base.title(name)} left out: its bars do not overlap {base.title(lead)}'s"
            )
            continue
        if oi.isna().any():
            notes.append(
                f"{base.title(name)} open interest does not cover every bar; its nearest "
                "value fills the rest"
            )
        oi = oi.ffill().bfill()
        total = total + oi
        by_exchange[name] = float(oi.iloc[-1])
        contributors.append(name)
        title = base.title(name)
        notes.extend(
            n if n.startswith(title) else f"{title}: {n}" for n in frame.attrs.get("notes", [])
        )
    for name, exc in failures.items():
        notes.append(f"{base.title(name)} left out ({exc.reason}): {exc.message}")
    quote = {name: float(frames[name].attrs.get("quote_volume_usd", 0.0)) for name in contributors}
    notes.insert(
        0,
        f"candles from {base.title(lead)}, the most liquid (${quote.get(lead, 0.0):,.0f} traded); "
        f"open interest summed over {', '.join(base.title(n) for n in contributors)}",
    )
    merged["open_interest"] = total
    merged = merged.drop(columns=["realized_long_usd", "realized_short_usd"], errors="ignore")
    merged = validate_market(merged)
    attrs = [frames[name].attrs for name in contributors]
    fetched = [a["fetched_at"] for a in attrs if a.get("fetched_at") is not None]
    oi_sum = sum(by_exchange.values()) or 1.0
    merged.attrs.update(
        {
            "source": EXCHANGE,
            "exchange": EXCHANGE,
            "contributors": contributors,
            "candles_from": lead,
            "failed": {name: exc.reason for name, exc in failures.items()},
            "open_interest_by_exchange": by_exchange,
            "symbol": frames[lead].attrs.get("symbol"),
            "instrument": {name: frames[name].attrs.get("instrument") for name in contributors},
            "interval": frames[lead].attrs.get("interval"),
            "timeframe": frames[lead].attrs.get("timeframe"),
            "fetched_at": min(fetched) if fetched else None,
            "from_cache": all(a.get("from_cache", False) for a in attrs),
            "requests": sum(int(a.get("requests", 0)) for a in attrs),
            "notes": notes,
            "open_interest_coverage": sum(
                frames[name].attrs.get("open_interest_coverage", 1.0) * by_exchange[name] / oi_sum
                for name in contributors
            ),
            "quote_volume_usd": sum(quote.values()),
        }
    )
    return merged
