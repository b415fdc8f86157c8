"""liqcore.figures.accuracy: the book comparison and the leverage-mix figures."""

from __future__ import annotations

import numpy as np
import pytest

from liqcore.analysis.scores import truth_on
from liqcore.figures.accuracy import book_comparison_figure, mix_figure


def test_book_comparison_draws_both_books_on_one_scale(sim_6d, est_6d) -> None:
    truth = truth_on(sim_6d, est_6d.heatmap.grid)
    fig = book_comparison_figure(truth.heatmap, est_6d.heatmap, sim_6d.market)
    true_map, est_map = (t for t in fig.data if t.type == "heatmap")
    assert true_map.coloraxis == est_map.coloraxis == "coloraxis"
    np.testing.assert_array_equal(true_map.y, est_map.y)
    np.testing.assert_array_equal(true_map.z, truth.heatmap.total.T)
    both = np.concatenate([truth.heatmap.total.ravel(), est_6d.heatmap.total.ravel()])
    assert fig.layout.coloraxis.cmax == pytest.approx(np.percentile(both[both > 0], 99), rel=1e-5)
    assert "Estimate" in fig.layout.title.text
    headings = [a.text for a in fig.layout.annotations]
    assert "True book" in headings[0] and "(estimate)" in headings[1]


def test_mix_figure_normalises_and_checks_each_mix() -> None:
    fig = mix_figure({"a": (2, 2, 4, 1, 1), "b": (1, 1, 1, 1, 1)}, (5, 10, 25, 50, 100))
    for trace in fig.data:
        assert sum(trace.y) == pytest.approx(1.0)
        assert list(trace.x) == ["5x", "10x", "25x", "50x", "100x"]
    with pytest.raises(ValueError, match="needs 5"):
        mix_figure({"a": (1, 1)}, (5, 10, 25, 50, 100))
