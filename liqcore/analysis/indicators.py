"""Indicators a trader reads beside the heatmap: RSI, funding, open interest, long/short ratio.

Each is a per-bar series of the market frame; the Heatmap page draws the ones the data has
under the candles (:data:`INDICATORS`, :func:`available_indicators`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from liqcore.controls import INDICATOR_NAMES

__all__ = ["INDICATORS", "RSI_PERIOD", "available_indicators", "indicator_values", "rsi"]

#: Wilder's period for the relative strength index.
RSI_PERIOD = 14


#: Indicator name (as the page and the URL spell it) -> market column it needs.
INDICATORS: dict[str, str] = dict(
    zip(
        INDICATOR_NAMES,
        ("close", "funding_rate", "open_interest", "long_short_ratio"),
        strict=True,
    )
)


def rsi(close: np.ndarray, period: int = RSI_PERIOD) -> np.ndarray:
    """Wilder's relative strength index (0-100) of a close series.

    Average gain and average loss start as the plain mean of the first ``period``
    changes, then follow Wilder's smoothing ``avg_t = avg_{t-1} + (x_t - avg_{t-1}) / period``
    (J. Welles Wilder, *New Concepts in Technical Trading Systems*, 1978), which is an
    exponential average with ``alpha = 1 / period`` seeded by that mean.
    ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``; 100 when nothing was lost, 50 when
    price did not move at all.

    Parameters
    ----------
    close : array
        Closing prices, oldest first.
    period : int
        Look-back in bars (14 by convention).

    Returns
    -------
    ndarray
        Same length as ``close``; NaN for the first ``period`` bars (not enough changes yet).

    Examples
    --------
    >>> close = np.array([10.0, 11, 10.5, 11.5, 12, 11])
    >>> np.round(rsi(close, period=3), 2).tolist()
    [nan, nan, nan, 80.0, 84.62, 50.0]
    """
    if period < 1:
        msg = f"period must be at least 1 bar, got {period}"
        raise ValueError(msg)
    close = np.asarray(close, dtype="float64")
    out = np.full(close.shape, np.nan)
    change = np.diff(close)
    if change.size < period:
        return out
    gain, loss = np.maximum(change, 0.0), np.maximum(-change, 0.0)

    def wilder(x: np.ndarray) -> np.ndarray:
        seeded = np.concatenate([[x[:period].mean()], x[period:]])
        return pd.Series(seeded).ewm(alpha=1.0 / period, adjust=False).mean().to_numpy()

    up, down = wilder(gain), wilder(loss)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + up / down)
    value = np.where(down == 0, np.where(up == 0, 50.0, 100.0), value)
    out[period:] = value
    return out


def available_indicators(market: pd.DataFrame) -> list[str]:
    """The indicators this market frame has the data for, in :data:`INDICATORS` order.

    Examples
    --------
    >>> m = pd.DataFrame({"close": [1.0], "open_interest": [2.0]})
    >>> available_indicators(m)
    ['RSI', 'Open interest']
    """
    return [name for name, column in INDICATORS.items() if column in market.columns]


def indicator_values(market: pd.DataFrame, name: str) -> np.ndarray:
    """One indicator per bar of the market frame, in its display unit.

    RSI in points (0-100), funding in percent per funding period, open interest in USD,
    the long/short ratio as accounts long per account short.

    Examples
    --------
    >>> m = pd.DataFrame({"close": [1.0, 2.0], "funding_rate": [0.0001, -0.0002]})
    >>> indicator_values(m, "Funding").round(4).tolist()
    [0.01, -0.02]
    """
    if name not in INDICATORS:
        msg = f"unknown indicator {name!r}; choose from {', '.join(INDICATORS)}"
        raise ValueError(msg)
    column = INDICATORS[name]
    if column not in market.columns:
        msg = f"this data has no {column} column, so no {name}"
        raise ValueError(msg)
    values = market[column].to_numpy(dtype="float64")
    if name == "RSI":
        return rsi(values)
    if name == "Funding":
        return values * 100.0
    return values
