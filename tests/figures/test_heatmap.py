"""liqcore.figures.heatmap: indicator panels and confluence markers on the heatmap."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from liqcore.analysis.confluence import confluence
from liqcore.controls import INDICATOR_NAMES
from liqcore.model import estimate
from liqcore.simulate import simulate
from tests.frames import zones


def test_every_indicator_panel_gets_its_own_axes() -> None:
    from liqcore.figures.heatmap import heatmap_figure

    market = simulate(days=5, interval="1h", seed=3).market
    spec = heatmap_figure(estimate(market), market, indicators=INDICATOR_NAMES).to_dict()
    panels = [t for t in spec["data"] if t["name"] in INDICATOR_NAMES]
    assert [t["name"] for t in panels] == list(INDICATOR_NAMES)
    others = {(t.get("xaxis"), t.get("yaxis")) for t in spec["data"] if t not in panels}
    axes = [(t["xaxis"], t["yaxis"]) for t in panels]
    assert len(set(axes)) == 4 and not set(axes) & others
    # The cumulative curves keep their axis over the liquidation map.
    assert spec["layout"]["xaxis5"]["overlaying"] == "x2"


def typed_array(values: object) -> np.ndarray:
    """A figure array as plotly's JSON sends it: a list, or a base64 typed-array spec."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype="float64")


@pytest.mark.parametrize(("side", "shown"), [("Both", 2), ("Longs", 1), ("Shorts", 1)])
def test_confluence_markers_follow_the_side_shown(side: str, shown: int) -> None:
    from liqcore.figures.heatmap import heatmap_figure

    market = simulate(days=5, interval="1h", seed=3).market
    est = estimate(market)
    below, above = est.price * 0.97, est.price * 1.03
    marked = confluence(
        zones(
            ("long", below, below + 1, below + 0.5, 1e6), ("short", above, above + 1, above, 1e6)
        ),
        {
            "24h": zones(
                ("long", below, below + 1, below, 1e6), ("short", above, above + 1, above, 1e6)
            ),
            "1w": zones(
                ("long", below, below + 1, below, 1e6), ("short", above, above + 1, above, 1e6)
            ),
        },
        est.price,
    )
    spec = heatmap_figure(est, market, side=side, confluence=marked).to_dict()
    diamonds = [t for t in spec["data"] if t["name"] == "multi-timeframe"]
    ys = [y for t in diamonds for y in typed_array(t["y"])]
    assert len(ys) == shown
    if side == "Shorts":
        assert min(ys) > est.price
    if side == "Longs":
        assert max(ys) < est.price
