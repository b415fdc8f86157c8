"""liqcore.analysis.readings: the sentences and tables that read the scores and the momentum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.analysis import calibration, readings
from liqcore.analysis.realized import TRUE_LABEL
from liqcore.analysis.scores import SCORES
from liqcore.model import ModelParams
from tests.frames import per_period_frame


def cal_with(before: tuple[float, float], after: tuple[float, float]) -> calibration.Calibration:
    scores = pd.DataFrame(
        {"default mix": before, "calibrated mix": after},
        index=["fit (first part)", "test (rest)"],
    )
    return calibration.Calibration(
        (0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores
    )


def test_scenario_table_puts_the_correct_model_first_with_deltas() -> None:
    right = {key: 0.1 * i for i, key in enumerate(SCORES)}
    wrong = {key: value - 0.05 for key, value in right.items()}
    table = readings.scenario_table(right, wrong)
    assert list(table.index) == [label for label, _ in SCORES.values()]
    assert list(table.columns)[1:3] == ["Correctly specified", "Your assumptions"]
    np.testing.assert_allclose(table["Change"], -0.05)
    assert table.loc["Top-decile capture", "No skill"] == 0.1
    assert (table.drop(index="Top-decile capture")["No skill"] == 0).all()


def test_sensitivity_sentence_names_the_biggest_drop_and_admits_rises() -> None:
    right = dict.fromkeys(SCORES, 0.8)
    sentence = readings.sensitivity_sentence(
        right, right | {"book_now": 0.7, "book_over_time": 0.4}
    )
    assert "lower 2 of the 5 scores" in sentence
    assert "book over time most: 0.80 → 0.40" in sentence
    rise = readings.sensitivity_sentence(right, right | {"book_now": 0.9})
    assert "raise the book now" in rise
    assert "not always the best-scoring" in rise
    assert "not sensitive" in readings.sensitivity_sentence(right, right)
    nothing = dict.fromkeys(SCORES, float("nan"))
    assert "cannot be computed" in readings.sensitivity_sentence(nothing, nothing)


@given(
    st.tuples(*(st.floats(-1, 1) for _ in range(4))),
)
@settings(max_examples=60, deadline=None)
def test_baseline_verdict_agrees_with_the_numbers(values: tuple[float, ...]) -> None:
    model_long, base_long, model_short, base_short = values
    table = pd.DataFrame(
        {
            "model": [model_long, model_short],
            "baseline": [base_long, base_short],
            "model_beats_baseline": [model_long > base_long, model_short > base_short],
        },
        index=["long", "short"],
    )
    sentence, verdict = readings.baseline_verdict(table, "the data")
    wins = int(model_long > base_long) + int(model_short > base_short)
    assert verdict == {2: "beats", 1: "mixed", 0: "loses"}[wins]
    assert ("does not beat" in sentence) == (wins == 0)
    shown = readings.reported_table(table)
    assert list(shown.index) == ["Longs", "Shorts"]
    # Shown to two decimals: a margin that rounds to nothing is 0 (never "-0.00").
    margins = np.array([model_long - base_long, model_short - base_short])
    np.testing.assert_allclose(shown["Margin"], margins, atol=0.005)
    assert not np.signbit(shown["Margin"][np.abs(margins) < 0.005]).any()


def test_baseline_verdict_says_when_nothing_can_be_ranked() -> None:
    table = pd.DataFrame(
        {"model": [float("nan"), 0.5], "baseline": [0.2, 0.1], "model_beats_baseline": [0, 1]},
        index=["long", "short"],
    )
    sentence, verdict = readings.baseline_verdict(table, "the reported liquidations")
    assert verdict == "unscored"
    assert "longs" in sentence and "shorts" not in sentence


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        ((0.5, 0.5), (0.7, 0.45), "Overfitting"),
        ((0.5, 0.5), (0.7, 0.65), "carries over"),
        ((0.5, 0.5), (0.7, 0.55), "some of the in-sample gain is noise"),
        ((0.5, 0.5), (0.5, 0.5), "changes little"),
        ((0.5, 0.5), (0.5, 0.6), "luck"),
    ],
)
def test_overfitting_sentence_compares_fit_and_test(before, after, words) -> None:
    cal = cal_with(before, after)
    assert words in readings.overfitting_sentence(cal)
    table = readings.calibration_table(cal, "Assumed mix")
    np.testing.assert_allclose(table["Change"], np.subtract(after, before))


@pytest.mark.parametrize(
    ("after", "words"),
    [
        ((0.512, 0.508), "changes little (in sample +0.01, out of sample +0.01)"),
        ((0.524, 0.508), "(+0.02) but hardly on the unseen rest (+0.01)"),
        ((0.524, 0.496), "(+0.02) but not on the unseen rest (±0.00)"),
    ],
)
def test_overfitting_sentence_agrees_with_the_numbers_it_shows(after, words) -> None:
    # Calm regime: +0.012 in sample and +0.008 out of sample both show as +0.01; the
    # sentence must not call one a gain and the other none.
    sentence = readings.overfitting_sentence(cal_with((0.5, 0.5), after))
    assert words in sentence
    if "+0.01" in sentence:
        assert "but not on the unseen rest (+0.01)" not in sentence


def test_describe_params_names_every_assumption_the_page_changes() -> None:
    text = readings.describe_params(
        ModelParams(tier_weights=(1, 1, 1, 1, 0), mmr=0.01, opening="oi"),
    )
    assert text.startswith("mix 25/25/25/25/0%")
    assert "mmr 1.00%" in text and "Rising OI" in text and "same-bar liquidation on" in text


BASE = 20  # earlier bars: price ticking 100 <-> 101, 1M USD liquidated per side per bar


RECENT = 12


def _scenario(end_price: float, recent_long: float, recent_short: float) -> pd.DataFrame:
    earlier = np.where(np.arange(BASE) % 2 == 0, 100.0, 101.0)
    recent = np.linspace(earlier[-1], end_price, RECENT + 1)[1:]
    long_usd = np.r_[np.full(BASE, 1e6), np.full(RECENT, recent_long)]
    short_usd = np.r_[np.full(BASE, 1e6), np.full(RECENT, recent_short)]
    return per_period_frame(long_usd, short_usd, np.r_[earlier, recent])


@pytest.mark.parametrize(
    ("end_price", "recent_long", "recent_short", "reading"),
    [
        (88.0, 6e6, 1e6, "Long squeeze / cascade"),
        (88.0, 2e5, 1e6, "Selling is not forced"),
        (88.0, 1.1e6, 1e6, "Price fell"),
        (115.0, 1e6, 6e6, "Short squeeze"),
        (115.0, 1e6, 2e5, "Organic demand"),
        (101.0, 1e6, 1e6, "No clear momentum"),
        (101.0, 4e6, 4e6, "Two-sided flush"),
    ],
)
def test_momentum_reading_of_constructed_scenarios(
    end_price: float, recent_long: float, recent_short: float, reading: str
) -> None:
    hint = readings.momentum_hint(
        _scenario(end_price, recent_long, recent_short), source_label=TRUE_LABEL
    )
    assert hint.startswith(reading)
    assert hint.endswith("not a prediction.")
    assert TRUE_LABEL in hint


def test_momentum_reading_without_earlier_liquidations_says_far_above() -> None:
    pp = _scenario(88.0, 5e6, 0.0)
    pp.iloc[:BASE, pp.columns.get_loc("long_usd")] = 0.0
    hint = readings.momentum_hint(pp)
    assert hint.startswith("Long squeeze")
    assert "far above their earlier rate" in hint
    assert "inf" not in hint


def test_momentum_reading_refuses_to_read_too_little_or_nothing() -> None:
    assert readings.momentum_hint(_scenario(88.0, 6e6, 1e6).iloc[:3]).startswith("Not enough bars")
    silent = _scenario(88.0, 0.0, 0.0).assign(long_usd=0.0, short_usd=0.0)
    assert readings.momentum_hint(silent).startswith("Nothing was liquidated")
    with pytest.raises(ValueError, match="lookback"):
        readings.momentum_hint(silent, lookback=0)
