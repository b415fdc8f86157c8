"""liqcore: the compute package of the liquidation heatmap studio (never imports streamlit)."""

from liqcore.market import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    bar_interval,
    fill_gaps,
    load_market,
    validate_market,
)
from liqcore.model import (
    Estimate,
    ModelParams,
    estimate,
    first_crossing,
    liquidation_price,
)
from liqcore.simulate import SimulatedMarket, simulate
from liqcore.sources import EXCHANGES, SourceUnavailable, fetch_liquidations, fetch_market

__all__ = [
    "EXCHANGES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Estimate",
    "ModelParams",
    "SimulatedMarket",
    "SourceUnavailable",
    "bar_interval",
    "estimate",
    "fetch_liquidations",
    "fetch_market",
    "fill_gaps",
    "first_crossing",
    "liquidation_price",
    "load_market",
    "simulate",
    "validate_market",
]
