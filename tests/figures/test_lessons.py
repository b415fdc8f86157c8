"""liqcore.figures.lessons: the Learn page's opening, annotated and cascade figures."""

from __future__ import annotations

from liqcore.analysis import lessons
from liqcore.figures.lessons import annotated_heatmap_figure, cascade_figure, opening_figure
from liqcore.orderbook import cascade, market_liquidity
from tests.frames import small_sim


def test_opening_figure_grows_bar_by_bar() -> None:
    sim = small_sim()
    lv = lessons.opening_levels(sim, n_bars=10)
    window = sim.market.iloc[-10:]

    def candles(upto: int) -> int:
        fig = opening_figure(lv, window, upto)
        return len(next(t for t in fig.data if t.type == "candlestick").x)

    assert [candles(k) for k in (0, 4, 9)] == [1, 5, 10]
    only = opening_figure(lv, window, 9, tiers=["100x"])
    assert {t.name for t in only.data if t.type == "scatter"} <= {"100x", "liquidated"}


def test_annotated_heatmap_labels_follow_the_choice() -> None:
    sim = small_sim()
    est = lessons.lesson_estimate(sim.market, days_shown=2)
    every = annotated_heatmap_figure(est, sim.market)
    texts = " ".join(a.text for a in every.layout.annotations)
    for words in ("Time runs", "Price", "Colour = USD", "Candles"):
        assert words in texts
    assert "estimate" in texts  # the colour legend says what the colours are
    bare = annotated_heatmap_figure(est, sim.market, labels=())
    assert len(bare.layout.annotations) < len(every.layout.annotations)


def test_cascade_figure_marks_the_swept_zone() -> None:
    sim = small_sim()
    est = lessons.lesson_estimate(sim.market, days_shown=2)
    rounds = cascade(est.levels, est.price, -6.0, market_liquidity(sim.market))
    fig = cascade_figure(est.levels, est.price, rounds)
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("your move") and "(est.)" in t for t in texts)
    assert "estimate" in fig.data[0].name
