"""liqcore.analysis.confluence: which zones line up with one another."""

from __future__ import annotations

from liqcore.analysis.confluence import confluence
from tests.frames import zones


def test_a_zone_lines_up_only_with_same_side_zones_that_overlap() -> None:
    week = zones(("long", 95.0, 96.0, 95.5, 9e6), ("short", 110.0, 111.0, 110.5, 5e6))
    day = zones(("long", 96.05, 96.5, 96.2, 1e6), ("long", 110.0, 111.0, 110.5, 1e6))
    half = zones(("long", 97.0, 98.0, 97.5, 1e6))
    out = confluence(week, {"12h": half, "24h": day, "1w": week}, price=100.0)
    # 96.05 is within 0.1% of price (0.1) of 96.0: overlapping; 97 is not; a long zone at
    # the short zone's price is the other side of the book.
    assert out["timeframes"].tolist() == ["24h · 1w", "1w"]
    assert out["timeframe_count"].tolist() == [2, 1]
    assert confluence(week.iloc[:0], {"1w": week}, 100.0).empty
