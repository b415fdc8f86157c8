"""Hypothesis strategies for market frames and model parameters (the one place they live).

Markets are small (2-60 bars) so a property test can afford a slow reference model:
a geometric random walk with wicks, open interest with flat, falling, zero and jumping
stretches, and optionally taker buy volume and the accounts' long/short ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liqcore.model import ModelParams

__all__ = [
    "INTERVALS",
    "LEVERAGE_CHOICES",
    "PROPERTY",
    "market_frames",
    "market_from_arrays",
    "markets_and_params",
    "model_params",
    "random_walk_market",
]

INTERVALS: tuple[str, ...] = ("1min", "5min", "15min", "1h", "4h", "1D")
LEVERAGE_CHOICES: tuple[float, ...] = (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 75.0, 100.0, 125.0)

#: Settings of the slower property tests (the Learn and Liquidations helpers, the order book).
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_unit = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)


def _zero_or(low: float, high: float) -> st.SearchStrategy[float]:
    """Exactly zero or a float in ``[low, high]``: no 1e-300 USD values that float32 can't hold."""
    return st.one_of(st.just(0.0), st.floats(low, high, allow_nan=False))


def market_from_arrays(
    returns: np.ndarray,
    up_wick: np.ndarray,
    down_wick: np.ndarray,
    volume: np.ndarray,
    open_interest: np.ndarray,
    *,
    first_price: float = 100.0,
    interval: str = "1h",
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """Build a valid market frame from per-bar log returns, wick sizes, volume and OI.

    Each bar opens at the previous close; ``high``/``low`` extend the body by the
    wick fractions, so the candle is always consistent (``low ≤ open, close ≤ high``).
    """
    close = first_price * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[first_price], close[:-1]])
    high = np.maximum(open_, close) * (1.0 + up_wick)
    low = np.minimum(open_, close) * (1.0 - down_wick)
    index = pd.date_range(start, periods=len(close), freq=interval, tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "open_interest": open_interest,
        },
        index=index,
    )


def random_walk_market(
    n: int = 300,
    seed: int = 0,
    *,
    volatility: float = 0.01,
    interval: str = "1h",
    first_price: float = 60_000.0,
) -> pd.DataFrame:
    """A deterministic random-walk market for example-based tests.

    Open interest wanders around 1e9 USD (rising and falling), volume around 100 base
    units, and the frame carries taker buy volume and a long/short ratio.
    """
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, volatility, n)
    returns[0] = 0.0
    wicks = rng.exponential(volatility / 2, (2, n))
    volume = rng.lognormal(np.log(100.0), 0.5, n)
    open_interest = 1e9 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    market = market_from_arrays(
        returns,
        wicks[0],
        wicks[1],
        volume,
        open_interest,
        first_price=first_price,
        interval=interval,
    )
    market["taker_buy_volume"] = volume * rng.uniform(0.3, 0.7, n)
    market["long_short_ratio"] = rng.uniform(0.5, 2.0, n)
    return market


def _floats(n: int, elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    # hnp.arrays draws a few elements and fills the rest with one value: fast, and the
    # repeated values give flat stretches (equal OI, equal wicks) for free.
    return hnp.arrays("float64", n, elements=elements)


@st.composite
def _open_interest(draw: st.DrawFn, n: int) -> np.ndarray:
    """OI in USD: each bar keeps, scales, zeroes or resets the previous value."""
    scale = draw(st.sampled_from([1e3, 1e6, 1e8]))
    moves = draw(hnp.arrays("int64", n, elements=st.integers(0, 3)))
    factors = draw(_floats(n, _zero_or(1e-3, 2.0)))
    oi = np.empty(n)
    oi[0] = draw(st.sampled_from([0.0, scale]))
    for t in range(1, n):
        if moves[t] == 0:  # flat
            oi[t] = oi[t - 1]
        elif moves[t] == 1:  # grow or shrink
            oi[t] = oi[t - 1] * factors[t]
        elif moves[t] == 2:  # everything closed
            oi[t] = 0.0
        else:  # jump to a new level
            oi[t] = scale * factors[t]
    return oi


@st.composite
def market_frames(
    draw: st.DrawFn,
    min_bars: int = 2,
    max_bars: int = 60,
    optional_columns: bool = True,
) -> pd.DataFrame:
    """Random valid market frames (validated by construction, see :func:`market_from_arrays`)."""
    n = draw(st.integers(min_bars, max_bars))
    volatility = draw(st.sampled_from([0.0, 0.002, 0.02, 0.1]))
    returns = volatility * draw(_floats(n, st.floats(-1.0, 1.0)))
    returns[0] = 0.0
    wick = st.floats(0.0, 0.05)
    volume = draw(_floats(n, _zero_or(1e-3, 1_000.0)))
    market = market_from_arrays(
        returns,
        draw(_floats(n, wick)),
        draw(_floats(n, wick)),
        volume,
        draw(_open_interest(n)),
        first_price=draw(st.sampled_from([0.05, 1.0, 100.0, 60_000.0])),
        interval=draw(st.sampled_from(INTERVALS)),
    )
    if optional_columns and draw(st.booleans()):
        market["taker_buy_volume"] = volume * draw(_floats(n, _zero_or(1e-3, 1.0)))
    if optional_columns and draw(st.booleans()):
        market["long_short_ratio"] = draw(_floats(n, _zero_or(1e-3, 5.0)))
    return market


@st.composite
def model_params(
    draw: st.DrawFn,
    reference_price: float | None = None,
    max_time_bins: int = 80,
    max_price_bins: int = 60,
) -> ModelParams:
    """Random valid :class:`ModelParams` on small grids.

    ``price_range`` is only drawn when ``reference_price`` is given; it is then a band
    around that price, narrow enough to cut some levels off.
    """
    tiers = draw(st.lists(st.sampled_from(LEVERAGE_CHOICES), min_size=1, max_size=5, unique=True))
    weight = _zero_or(1e-3, 10.0)
    weights = draw(st.lists(weight, min_size=len(tiers), max_size=len(tiers)))
    if sum(weights) <= 0:
        weights[draw(st.integers(0, len(tiers) - 1))] = 1.0
    mmr = draw(
        st.one_of(
            st.sampled_from([0.0, 0.004, 0.005, 0.01]),
            st.floats(0.0, 0.49, allow_nan=False, allow_subnormal=False),
        )
    )
    half_life = st.one_of(st.none(), st.floats(0.01, 500.0, allow_nan=False))
    half_lives = draw(
        st.one_of(st.none(), st.lists(half_life, min_size=len(tiers), max_size=len(tiers)))
    )
    price_range = None
    if reference_price is not None and draw(st.booleans()):
        low = reference_price * draw(st.floats(0.3, 0.999))
        high = reference_price * draw(st.floats(1.001, 3.0))
        price_range = (low, high)
    # The classic model (discrete tiers, isolated margin, one close rate): what the slow
    # reference implements. The newer mechanisms have their own tests in test_model.py.
    return ModelParams.classic(
        opening=draw(st.sampled_from(["oi", "volume", "mix"])),
        volume_weight=draw(st.one_of(st.sampled_from([0.0, 1.0]), _unit)),
        volume_open_share=draw(_zero_or(1e-3, 1.0)),
        split=draw(st.sampled_from(["even", "taker", "ratio"])),
        leverage_tiers=tuple(tiers),
        tier_weights=tuple(weights),
        mmr=mmr,
        entry=draw(st.sampled_from(["typical", "close", "open", "hl2"])),
        liquidate_in_opening_bar=draw(st.booleans()),
        half_life_hours=None if half_lives is None else tuple(half_lives),
        time_bins=draw(st.integers(2, max_time_bins)),
        price_bins=draw(st.integers(2, max_price_bins)),
        price_range=price_range,
    )


@st.composite
def markets_and_params(
    draw: st.DrawFn, min_bars: int = 2, max_bars: int = 60
) -> tuple[pd.DataFrame, ModelParams]:
    """A market and parameters for it (``price_range`` sometimes set around the last close)."""
    market = draw(market_frames(min_bars=min_bars, max_bars=max_bars))
    params = draw(model_params(reference_price=float(market["close"].iloc[-1])))
    return market, params
