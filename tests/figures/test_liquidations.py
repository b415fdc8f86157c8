"""liqcore.figures.liquidations: the mirrored, side-by-side and comparison bar figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqcore.analysis.realized import ESTIMATE_LABEL, TRUE_LABEL
from liqcore.figures.liquidations import comparison_figure, liquidations_figure
from liqcore.figures.theme import LONG_COLOR, SHORT_COLOR
from tests.frames import per_period_frame


@pytest.fixture
def week_per_period() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 48
    return per_period_frame(
        rng.exponential(1e6, n), rng.exponential(2e6, n), 60_000 + rng.normal(0, 300, n).cumsum()
    )


def test_mirrored_figure_puts_red_longs_below_and_green_shorts_above(week_per_period) -> None:
    fig = liquidations_figure(week_per_period, source_label=TRUE_LABEL)
    longs, shorts, price = fig.data
    assert longs.marker.color == LONG_COLOR
    assert shorts.marker.color == SHORT_COLOR
    assert longs.y.dtype == shorts.y.dtype == price.y.dtype == np.float32
    assert (longs.y <= 0).all()
    assert (shorts.y >= 0).all()
    np.testing.assert_allclose(-longs.y, week_per_period["long_usd"], rtol=1e-6)
    assert fig.layout.barmode == "relative"
    # Price on the secondary (right) axis, not on the USD axis.
    assert price.yaxis == "y2"
    assert fig.layout.yaxis2.side == "right"
    # Tick labels are positive USD on both sides of zero.
    assert all(not text.startswith("-") for text in fig.layout.yaxis.ticktext)
    assert fig.layout.annotations[0].text == f"Source: {TRUE_LABEL}"
    # Hover shows the USD formatted, not raw floats.
    assert longs.hovertext[0].startswith("$")


def test_side_by_side_figure_has_both_sides_upwards(week_per_period) -> None:
    fig = liquidations_figure(week_per_period, source_label=ESTIMATE_LABEL, layout="Side by side")
    longs, shorts, _ = fig.data
    assert (longs.y >= 0).all()
    assert (shorts.y >= 0).all()
    assert fig.layout.barmode == "group"
    with pytest.raises(ValueError, match="layout must be one of"):
        liquidations_figure(week_per_period, source_label="x", layout="Stacked")


def test_comparison_figure_shares_one_usd_scale(week_per_period) -> None:
    estimate = week_per_period.assign(long_usd=week_per_period["long_usd"] * 3)
    fig = comparison_figure({TRUE_LABEL: week_per_period, ESTIMATE_LABEL: estimate})
    assert [a.text for a in fig.layout.annotations] == [
        f"Source: {TRUE_LABEL}",
        f"Source: {ESTIMATE_LABEL}",
    ]
    assert fig.layout.yaxis.range == fig.layout.yaxis3.range  # same scale: comparable by eye
    assert fig.layout.yaxis.range[1] >= estimate["long_usd"].max()
    assert sum(trace.showlegend is not False for trace in fig.data) == 3  # one legend entry each
