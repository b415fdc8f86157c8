"""Every control of the app and the one vocabulary its words come from.

The vocabulary (timeframes, symbols, data sources, leverage labels and weights, crowds,
regimes, the labels of the model's choices) is defined here once; pages, figures and
sources read it from here. Each control is bound to a URL query parameter of the same
key, so a copied link reopens the same view. Streamlit silently drops a URL value a
widget cannot take; :func:`clean_query` checks the raw URL first with the same rules,
so the app can tell the user which values it ignored instead of failing or staying
silent. No streamlit import here: the rules are plain data, tested without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from liqcore.model import DEFAULT_TIERS, DEFAULT_WEIGHTS
from liqcore.simulate import CROWDS, REGIMES
from liqcore.sources import ALL, EXCHANGES, parse_timeframe
from liqcore.sources.base import title

__all__ = [
    "CONTROLS",
    "INDICATOR_NAMES",
    "LAYOUTS",
    "LEVERAGE_LABELS",
    "OPENINGS",
    "PERIODS",
    "REAL_COINS",
    "SOURCES",
    "SPLITS",
    "SYMBOLS",
    "TIMEFRAMES",
    "Control",
    "clean_query",
    "timeframe_hours",
]

#: How far back a view looks, shortest first, with the length in hours (as
#: :func:`liqcore.sources.parse_timeframe` reads the label: a month is 30 days, a year 365).
#: A month is ``"1mo"``: a lone ``m`` means minutes, as in the bar intervals ``1m``, ``15m``.
TIMEFRAMES: dict[str, float] = {
    label: parse_timeframe(label) / pd.Timedelta(hours=1)
    for label in ("12h", "24h", "3d", "1w", "2w", "1mo", "3mo", "6mo", "1y")
}
#: Bar sizes of the Liquidations page, with the pandas frequency each stands for.
PERIODS: dict[str, str] = {"15m": "15min", "1h": "1h", "4h": "4h", "1d": "1D"}
#: How the Liquidations page lays out several sources' bars.
LAYOUTS: tuple[str, ...] = ("Mirrored", "Side by side")
#: Symbols the UI offers for live data; any symbol an exchange lists is accepted.
SYMBOLS: tuple[str, ...] = ("BTC", "ETH", "SOL", "XRP")
#: Data sources as the sidebar shows them (the label is also the URL value); the
#: exchanges are those of :data:`liqcore.sources.EXCHANGES`.
SOURCES: dict[str, str] = {
    "Simulated market": "sim",
    **{venue.title: venue.name for venue in EXCHANGES},
    title(ALL): ALL,
    "CSV upload": "csv",
    "Real example": "real",
}
#: Coins of the offline real example (``liqcore/data/real``).
REAL_COINS: tuple[str, ...] = ("BTC", "ETH", "SOL")
#: The model's leverage tiers as the controls show them: ``5x`` for 5.0.
LEVERAGE_LABELS: tuple[str, ...] = tuple(f"{tier:g}x" for tier in DEFAULT_TIERS)
#: How the model splits new open interest between longs and shorts: label -> ``ModelParams.split``.
SPLITS: dict[str, str] = {"50/50": "even", "Taker flow": "taker", "Long/short ratio": "ratio"}
#: Where the model's new positions come from: label -> ``ModelParams.opening``.
OPENINGS: dict[str, str] = {"OI + volume": "mix", "Rising OI": "oi", "Volume": "volume"}
#: The indicator panels of the Heatmap page (:data:`liqcore.analysis.indicators.INDICATORS`).
INDICATOR_NAMES: tuple[str, ...] = ("RSI", "Funding", "Open interest", "Long/short")


def timeframe_hours(label: str) -> float:
    """Hours in a timeframe label.

    Examples
    --------
    >>> timeframe_hours("1w"), timeframe_hours("1mo")
    (168.0, 720.0)
    """
    return TIMEFRAMES[label]


@dataclass(frozen=True)
class Control:
    """One URL-bound control: its key, kind, default and what it accepts."""

    key: str
    kind: Literal["choice", "multi", "int", "float", "bool"]
    default: object
    options: tuple[str, ...] = ()
    low: float = -math.inf
    high: float = math.inf

    def parse(self, raw: str | Sequence[str]) -> object:
        """Return the value a URL string stands for, or raise ValueError with the reason."""
        values = [raw] if isinstance(raw, str) else list(raw)
        if self.kind == "multi":
            # A list travels as repeated keys (?tiers=5x&tiers=100x), as Streamlit writes it;
            # a comma-joined value is not read by the widget, so it is refused here too.
            items = [str(value) for value in values]
            bad = [item for item in items if item not in self.options]
            if bad:
                msg = f"{bad[0]!r} is not one of {', '.join(self.options)}"
                raise ValueError(msg)
            return tuple(items)
        if len(values) != 1:
            msg = "expected one value"
            raise ValueError(msg)
        text = str(values[0]).strip()
        if self.kind == "choice":
            if text not in self.options:
                msg = f"{text!r} is not one of {', '.join(self.options)}"
                raise ValueError(msg)
            return text
        if self.kind == "bool":
            if text.lower() not in ("true", "false"):
                msg = f"{text!r} is not true or false"
                raise ValueError(msg)
            return text.lower() == "true"
        try:
            number = float(text)
        except ValueError:
            msg = f"{text!r} is not a number"
            raise ValueError(msg) from None
        if not math.isfinite(number) or not self.low <= number <= self.high:
            msg = f"{text} is outside {self.low:g} to {self.high:g}"
            raise ValueError(msg)
        if self.kind == "int":
            if number != int(number):
                msg = f"{text} is not a whole number"
                raise ValueError(msg)
            return int(number)
        return number


_CONTROLS: list[Control] = [
    # Sidebar: data choice and the simulation's settings.
    Control("src", "choice", "Simulated market", tuple(SOURCES)),
    Control("sym", "choice", "BTC", SYMBOLS),
    Control("coin", "choice", "BTC", REAL_COINS),
    Control("seed", "int", 7, low=0, high=9999),
    Control("days", "choice", "365", ("30", "90", "180", "365")),
    Control("vol", "float", 0.5, low=0.2, high=1.5),
    Control("crowd", "choice", "Retail", tuple(CROWDS)),
    Control("bias", "float", 0.0, low=-0.5, high=0.5),
    Control("regime", "choice", "Typical", tuple(name.title() for name in REGIMES)),
    # Heatmap page.
    Control("tf", "choice", "1w", tuple(TIMEFRAMES)),
    Control("tiers", "multi", LEVERAGE_LABELS, LEVERAGE_LABELS),
    Control("side", "choice", "Both", ("Both", "Longs", "Shorts")),
    Control("cap", "float", 99.0, low=80.0, high=100.0),
    Control("scale", "choice", "Linear", ("Linear", "Log")),
    Control("minc", "float", 0.0, low=0.0, high=10_000.0),
    Control("mmr", "float", 0.4, low=0.0, high=5.0),
    Control("split", "choice", "50/50", tuple(SPLITS)),
    Control("opening", "choice", "OI + volume", tuple(OPENINGS)),
    Control("calib", "bool", False),
    Control("ind", "multi", ("RSI", "Open interest"), INDICATOR_NAMES),
    Control("move", "float", -5.0, low=-20.0, high=20.0),
    *(
        Control(f"w{label[:-1]}", "float", w, low=0.0, high=1.0)
        for label, w in zip(LEVERAGE_LABELS, DEFAULT_WEIGHTS, strict=True)
    ),
    # Accuracy page: the magnet test's horizon in hours.
    Control("mh", "choice", "24", ("8", "24", "72")),
    # Liquidations page.
    Control("period", "choice", "1h", tuple(PERIODS)),
    Control("bars", "choice", "Mirrored", LAYOUTS),
    Control("back", "choice", "1w", tuple(TIMEFRAMES)),
    # Learn page: the calculator.
    Control("entry", "float", 60_000.0, low=0.0001, high=10_000_000.0),
    Control("lev", "float", 10.0, low=1.0, high=200.0),
    Control("pos", "choice", "Long", ("Long", "Short")),
]
CONTROLS: dict[str, Control] = {control.key: control for control in _CONTROLS}


def clean_query(raw: Mapping[str, str | Sequence[str]]) -> tuple[dict[str, object], list[str]]:
    """Split URL parameters into valid values and notices about the ignored ones.

    Parameters
    ----------
    raw : mapping
        Query parameters as the browser sent them (strings or lists of strings).

    Returns
    -------
    values : dict
        Parsed values of the known keys whose value is valid.
    notices : list of str
        One plain sentence per ignored value (unknown keys are left alone: other
        tools may add their own parameters to a link).

    Examples
    --------
    >>> values, notices = clean_query({"tf": "3d", "cap": "250", "tiers": ["5x", "100x"]})
    >>> values
    {'tf': '3d', 'tiers': ('5x', '100x')}
    >>> notices
    ['Ignored cap=250 from the link (250 is outside 80 to 100); using the default 99.']
    """
    values: dict[str, object] = {}
    notices: list[str] = []
    for key, value in raw.items():
        control = CONTROLS.get(key)
        if control is None:
            continue
        try:
            values[key] = control.parse(value)
        except ValueError as exc:
            shown = value if isinstance(value, str) else ",".join(map(str, value))
            shown = shown if len(shown) <= 40 else shown[:40] + "…"
            default = control.default
            if isinstance(default, tuple):
                default = ", ".join(default)
            elif isinstance(default, float):
                default = f"{default:g}"
            notices.append(
                f"Ignored {key}={shown} from the link ({exc}); using the default {default}."
            )
    return values, notices
