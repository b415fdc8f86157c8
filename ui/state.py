"""The values of the URL-bound controls, and the sidebar's data choice as small scalars."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from liqcore.controls import CONTROLS, LEVERAGE_LABELS, OPENINGS, SOURCES, SPLITS
from liqcore.model import ModelParams

__all__ = ["DataChoice", "data_choice", "default", "model_params_from_state", "state_value"]


def default(key: str) -> object:
    """Default value of a URL-bound control."""
    return CONTROLS[key].default


def state_value(key: str) -> object:
    """A URL-bound control's value before its widget is drawn: what the widget will show.

    The session's value once the widget exists, else the link's value when valid (the
    widget reads the same ``?key=`` and the same rules), else the default.
    """
    if key in st.session_state:
        return st.session_state[key]
    control = CONTROLS[key]
    if key in st.query_params:
        try:
            return control.parse(st.query_params.get_all(key))
        except ValueError:
            pass  # the widget ignores it too; ui.widgets.show_url_notices says so
    return control.default


@dataclass(frozen=True)
class DataChoice:
    """The sidebar's data choice, as small hashable scalars."""

    source: str = "sim"
    symbol: str = "BTC"
    seed: int = 7
    days: int = 365
    volatility: float = 0.5
    crowd: str = "Retail"
    bias: float = 0.0
    regime: str = "Typical"

    @property
    def label(self) -> str:
        """What the data is, in words, for captions and titles."""
        if self.source == "sim":
            regime = "" if self.regime == "Typical" else f", {self.regime.lower()} regime"
            return (
                f"Simulated market (seed {self.seed}, {self.days} days, {self.crowd} crowd{regime})"
            )
        if self.source == "real":
            return f"Real example {self.symbol}"
        name = next(k for k, v in SOURCES.items() if v == self.source)
        return f"{name} {self.symbol}" if self.source != "csv" else "Your CSV"


def data_choice() -> DataChoice:
    """The sidebar's current values, read as :func:`state_value` (before or after it is drawn).

    The router draws the sidebar after the page (``streamlit_app.py``), so a page reads
    the choice before its widgets exist: the session's value, else the link's, else the
    default, which is what the widgets will show.
    """
    value = state_value
    source = SOURCES.get(value("src"), "sim")
    return DataChoice(
        source=source,
        symbol=value("coin") if source == "real" else value("sym"),
        seed=int(value("seed")),
        days=int(value("days")),
        volatility=float(value("vol")),
        crowd=value("crowd"),
        bias=float(value("bias")),
        regime=value("regime"),
    )


def model_params_from_state(time_bins: int = 300, price_bins: int = 240) -> ModelParams:
    """ModelParams from the Heatmap page's controls (tiers, weights, mmr, split, opening)."""
    tiers = tuple(state_value("tiers")) or LEVERAGE_LABELS
    weights = tuple(float(state_value(f"w{label[:-1]}")) for label in tiers)
    if sum(weights) <= 0:
        weights = tuple(1.0 for _ in tiers)
    return ModelParams(
        leverage_tiers=tuple(float(label[:-1]) for label in tiers),
        tier_weights=weights,
        mmr=float(state_value("mmr")) / 100.0,
        split=SPLITS[state_value("split")],
        opening=OPENINGS[state_value("opening")],
        time_bins=time_bins,
        price_bins=price_bins,
    )
