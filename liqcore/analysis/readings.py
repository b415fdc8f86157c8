"""Readings in words: the sentences and tables the pages show beside the numbers.

Each verdict is computed from the scores and says what they show whichever way they fall.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from liqcore.analysis.calibration import Calibration
from liqcore.analysis.scores import NO_SKILL, SCORES
from liqcore.controls import OPENINGS
from liqcore.model import ModelParams

__all__ = [
    "HEAVY_RATE",
    "LOW_RATE",
    "OPENING_LABELS",
    "baseline_verdict",
    "calibration_table",
    "ceiling_sentence",
    "describe_params",
    "momentum_hint",
    "overfitting_sentence",
    "reported_table",
    "scenario_table",
    "sensitivity_sentence",
]

#: ``ModelParams.opening`` -> the label the controls show for it.
OPENING_LABELS: dict[str, str] = {code: label for label, code in OPENINGS.items()}


def describe_params(params: ModelParams) -> str:
    """The assumptions the Accuracy page lets a user change, in one line.

    Examples
    --------
    >>> for part in describe_params(ModelParams()).split(" · "):
    ...     print(part)
    mix 30/30/20/12/8% (5x/10x/25x/50x/100x)
    mmr 0.40%
    new positions from OI + volume
    same-bar liquidation on
    """
    mix = "/".join(f"{w * 100:.0f}" for w in params.normalized_weights())
    tiers = "/".join(params.tier_labels())
    same_bar = "on" if params.liquidate_in_opening_bar else "off"
    return (
        f"mix {mix}% ({tiers}) · mmr {params.mmr * 100:.2f}% · new positions from "
        f"{OPENING_LABELS[params.opening]} · same-bar liquidation {same_bar}"
    )


def _shown_change(change: float | np.ndarray) -> float | np.ndarray:
    """A change as a table shows it: one that rounds to 0.00 is 0, so it never reads ``-0.00``.

    Examples
    --------
    >>> _shown_change(-0.004), _shown_change(-0.02)
    (0.0, -0.02)
    """
    cleaned = np.where(np.abs(change) < 0.005, 0.0, change)
    return float(cleaned) if cleaned.ndim == 0 else cleaned


def _signed(value: float) -> str:
    """``+0.12`` / ``-0.12``; ``±0.00`` for a change that rounds to nothing (never ``-0.00``).

    Examples
    --------
    >>> _signed(0.123), _signed(-0.004), _signed(-0.02)
    ('+0.12', '±0.00', '-0.02')
    """
    text = f"{value:+.2f}"
    return "±0.00" if text in ("+0.00", "-0.00") else text


def scenario_table(
    correct: Mapping[str, float],
    yours: Mapping[str, float],
    no_skill: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Scenario → scores: the correctly specified model, the user's assumptions, the change.

    Parameters
    ----------
    correct, yours : mapping
        Scores as :func:`truth_scores` returns them.
    no_skill : mapping, optional
        What a map without skill scores: pass :func:`reference_scores` (the distance-only
        map); without it, chance (:data:`NO_SKILL`).

    Returns
    -------
    DataFrame
        One row per score (named as in :data:`SCORES`); columns ``What it measures``,
        ``Correctly specified``, ``Your assumptions``, ``Change`` (yours − correct) and
        ``No skill`` (what a map that knows only the price, or nothing, scores).

    Examples
    --------
    >>> right = dict.fromkeys(SCORES, 0.8)
    >>> wrong = right | {"book_now": 0.5}
    >>> table = scenario_table(right, wrong)
    >>> table.loc["Book now", ["Correctly specified", "Your assumptions", "Change"]].tolist()
    [0.8, 0.5, -0.30000000000000004]
    >>> table.loc["Top-decile capture", "No skill"]
    np.float64(0.1)
    """
    rows = {
        label: {
            "What it measures": meaning,
            "Correctly specified": float(correct[key]),
            "Your assumptions": float(yours[key]),
            "Change": _shown_change(float(yours[key]) - float(correct[key])),
            "No skill": float((no_skill or NO_SKILL)[key]),
        }
        for key, (label, meaning) in SCORES.items()
    }
    table = pd.DataFrame(rows).T
    for column in ("Correctly specified", "Your assumptions", "Change", "No skill"):
        table[column] = table[column].astype("float64")
    table.index.name = "Score"
    return table


def ceiling_sentence(correct: Mapping[str, float], ceiling: Mapping[str, float]) -> str:
    """What share of the recoverable book the correctly specified estimate reaches, in words.

    ``ceiling`` is :func:`book_ceiling`: the best score any estimate can expect against
    this one simulated book.

    Examples
    --------
    >>> print(ceiling_sentence({"book_now": 0.6, "book_over_time": 0.3},
    ...                        {"book_now": 0.8, "book_over_time": 0.45}))  # doctest: +ELLIPSIS
    Part of the true book is luck no map built from candles, volume and open interest can know: ...
    at most about 0.80 (book now) and 0.45 (book over time); ... 0.60 and 0.30, 75% and 67% of it.
    """

    def share(key: str) -> str:
        top, got = float(ceiling[key]), float(correct[key])
        return f"{got / top:.0%}" if top > 0 and np.isfinite(got) else "n/a"

    return (
        "Part of the true book is luck no map built from candles, volume and open interest can "
        "know: the simulated book is a finite set of position groups, some with stop-losses "
        "(never liquidated, so not in it), on a maker side and a taker side that lean "
        "differently. Two random halves of it agree only so far, which caps what any estimate "
        f"can score here at most about {ceiling['book_now']:.2f} (book now) and "
        f"{ceiling['book_over_time']:.2f} (book over time); the correctly specified estimate "
        f"scores {correct['book_now']:.2f} and {correct['book_over_time']:.2f}, "
        f"{share('book_now')} and {share('book_over_time')} of it."
    )


def sensitivity_sentence(
    correct: Mapping[str, float], yours: Mapping[str, float], tolerance: float = 0.01
) -> str:
    """What the change of assumptions did to the scores, in plain words.

    Examples
    --------
    >>> right = dict.fromkeys(SCORES, 0.8)
    >>> sensitivity_sentence(right, right | {"book_now": 0.5})
    'Your assumptions lower 1 of the 5 scores, the book now most: 0.80 → 0.50 (-0.30).'
    >>> sensitivity_sentence(right, right | {"book_now": 0.805})  # doctest: +ELLIPSIS
    'Your assumptions score the same as the correct ones (within ±0.01)...'
    """
    changes = {
        key: float(yours[key]) - float(correct[key])
        for key in SCORES
        if np.isfinite(yours[key]) and np.isfinite(correct[key])
    }
    if not changes:
        return "The scores cannot be computed on this window (nothing to rank)."
    drops = {key: change for key, change in changes.items() if change < -tolerance}
    rises = {key: change for key, change in changes.items() if change > tolerance}
    if not drops and not rises:
        return (
            f"Your assumptions score the same as the correct ones (within ±{tolerance:g}): "
            "the estimate is not sensitive to this change here."
        )
    parts = []
    if drops:
        key = min(drops, key=drops.__getitem__)
        parts.append(
            f"Your assumptions lower {len(drops)} of the {len(changes)} scores, the "
            f"{SCORES[key][0].lower()} most: {correct[key]:.2f} → {yours[key]:.2f} "
            f"({_signed(drops[key])})."
        )
    if rises:
        key = max(rises, key=rises.__getitem__)
        subject = "They raise" if drops else "Your assumptions raise"
        parts.append(
            f"{subject} the {SCORES[key][0].lower()} ({correct[key]:.2f} → {yours[key]:.2f}): "
            "the correctly specified model is not always the best-scoring one, because the "
            "simulated crowd differs from the model in more than these assumptions (how "
            "positions open and close, at which prices), and one wrong assumption can make up "
            "for another."
        )
    return " ".join(parts)


def reported_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`reported_scores` ready to show: sides in words, the margin over the better
    reference (naive baseline or distance-only map, when the table has it).

    Examples
    --------
    >>> raw = pd.DataFrame({"model": [0.8, 0.4], "baseline": [0.6, 0.5],
    ...                     "model_beats_baseline": [True, False]}, index=["long", "short"])
    >>> reported_table(raw)["Margin"].round(2).tolist()
    [0.2, -0.1]
    """
    model = table["model"].astype("float64")
    baseline = table["baseline"].astype("float64")
    columns = {"Model (estimate)": model.to_numpy(), "Naive baseline": baseline.to_numpy()}
    best = baseline
    if "reference" in table.columns:
        reference = table["reference"].astype("float64")
        columns["Distance-only map"] = reference.to_numpy()
        best = pd.concat([baseline, reference], axis=1).max(axis=1)
    return pd.DataFrame(
        columns
        | {
            "Margin": _shown_change((model - best).to_numpy()),
            "Model beats baseline": table["model_beats_baseline"].astype(bool).to_numpy(),
        },
        index=pd.Index(
            [{"long": "Longs", "short": "Shorts"}.get(s, str(s)) for s in table.index], name="Side"
        ),
    )


def baseline_verdict(table: pd.DataFrame, against: str) -> tuple[str, str]:
    """Whether the model beats the naive baseline, in one plain sentence.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`reported_scores`.
    against : str
        What the liquidations are, for the sentence ("the true simulated liquidations").

    Returns
    -------
    sentence : str
    verdict : {"beats", "mixed", "loses", "unscored"}

    Examples
    --------
    >>> raw = pd.DataFrame({"model": [0.8, 0.4], "baseline": [0.6, 0.5],
    ...                     "model_beats_baseline": [True, False]}, index=["long", "short"])
    >>> sentence, verdict = baseline_verdict(raw, "the reported liquidations")
    >>> verdict
    'mixed'
    >>> print(sentence)  # doctest: +NORMALIZE_WHITESPACE
    The model beats the naive baseline on longs (0.80 vs 0.60) but not on shorts
    (0.40 vs 0.50), against the reported liquidations.
    """

    def best(side: str) -> float:
        base = float(table.loc[side, "baseline"])
        if "reference" in table.columns:
            return float(np.nanmax([base, float(table.loc[side, "reference"])]))
        return base

    scored = {side: (float(table.loc[side, "model"]), best(side)) for side in ("long", "short")}
    if "reference" in table.columns:
        against = f"{against} (the better of the naive baseline and the distance-only map)"
    unscored = [side for side, pair in scored.items() if not np.all(np.isfinite(pair))]
    if unscored:
        sides = " and ".join(f"{side}s" for side in unscored)
        return (
            f"Cannot tell whether the model beats the naive baseline: {against} hold no "
            f"variation to rank for {sides} (nothing liquidated, or a constant series).",
            "unscored",
        )
    wins = [side for side, (model, base) in scored.items() if model > base]
    pairs = {side: f"{model:.2f} vs {base:.2f}" for side, (model, base) in scored.items()}
    if len(wins) == 2:
        return (
            f"The model beats the naive baseline on both sides, against {against}: longs "
            f"{pairs['long']}, shorts {pairs['short']}.",
            "beats",
        )
    if not wins:
        return (
            f"The model does not beat the naive baseline, against {against}: longs "
            f"{pairs['long']}, shorts {pairs['short']}. Here a rule that knows nothing of "
            "positions ranks the liquidations as well or better.",
            "loses",
        )
    win, lose = wins[0], "short" if wins[0] == "long" else "long"
    return (
        f"The model beats the naive baseline on {win}s ({pairs[win]}) but not on {lose}s "
        f"({pairs[lose]}), against {against}.",
        "mixed",
    )


def calibration_table(cal: Calibration, before: str = "Assumed mix") -> pd.DataFrame:
    """Before/after scores of a calibration, in and out of sample, with the change.

    Examples
    --------
    >>> scores = pd.DataFrame({"default mix": [0.5, 0.5], "calibrated mix": [0.7, 0.45]},
    ...                       index=["fit (first part)", "test (rest)"])
    >>> cal = Calibration((0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores)
    >>> calibration_table(cal).round(2).to_dict("index")["Out of sample (the unseen rest)"]
    {'Assumed mix': 0.5, 'Calibrated mix': 0.45, 'Change': -0.05}
    """
    scores = cal.scores
    return pd.DataFrame(
        {
            before: scores["default mix"].to_numpy("float64"),
            "Calibrated mix": scores["calibrated mix"].to_numpy("float64"),
            "Change": _shown_change(
                (scores["calibrated mix"] - scores["default mix"]).to_numpy("float64")
            ),
        },
        index=pd.Index(
            ["In sample (the fitted part)", "Out of sample (the unseen rest)"], name="Scored on"
        ),
    )


def overfitting_sentence(cal: Calibration, tolerance: float = 0.01) -> str:
    """What the calibration's in- and out-of-sample change says, in plain words.

    Examples
    --------
    >>> scores = pd.DataFrame({"default mix": [0.5, 0.5], "calibrated mix": [0.7, 0.45]},
    ...                       index=["fit (first part)", "test (rest)"])
    >>> cal = Calibration((0.5, 0.5), (10.0, 100.0), pd.Timestamp("2024-01-02", tz="UTC"), scores)
    >>> overfitting_sentence(cal).split(":")[0]
    'Overfitting'
    """
    fit, test = (cal.scores["calibrated mix"] - cal.scores["default mix"]).to_numpy("float64")
    if not (np.isfinite(fit) and np.isfinite(test)):
        return "The calibration cannot be scored: a part of the history holds nothing to rank."
    # Judge the changes as shown (two decimals): a sentence must not call two equal shown
    # numbers one a gain and the other none.
    fit, test = round(float(fit), 2), round(float(test), 2)
    in_sample, out_of_sample = _signed(fit), _signed(test)
    if fit > tolerance and test > tolerance:
        note = (
            " It helps less on the unseen part, so some of the in-sample gain is noise."
            if test < fit / 2
            else ""
        )
        return (
            f"The calibrated mix helps on the part it was fitted on ({in_sample}) and on the "
            f"unseen rest ({out_of_sample}), so it carries over.{note}"
        )
    if fit > tolerance:
        rest = "hardly" if test > 0 else "not"
        return (
            f"Overfitting: the calibrated mix scores better on the part it was fitted on "
            f"({in_sample}) but {rest} on the unseen rest ({out_of_sample}); don't trust it "
            "beyond the history it was fitted to."
        )
    if test > tolerance:
        return (
            f"The calibrated mix does not help where it was fitted ({in_sample}) but does on the "
            f"unseen rest ({out_of_sample}): likely luck of this window; don't read much into it."
        )
    return (
        f"Calibration changes little (in sample {in_sample}, out of sample {out_of_sample}): it "
        "fits dollars, the scores rank bars, and the assumed mix already ranks the bars about "
        "as well as any mix. The leverage mix is not what limits the estimate here."
    )


#: Thresholds of :func:`momentum_hint`: recent liquidations vs their earlier rate per bar.
HEAVY_RATE = 1.5


LOW_RATE = 0.75


def momentum_hint(
    per_period: pd.DataFrame, *, lookback: int = 12, source_label: str | None = None
) -> str:
    """A plain-words reading of the last bars: is the move forced (liquidations) or not?

    The last ``lookback`` bars (never more than half of the window) are compared with
    the bars before them:

    * **price change** from the close before the recent bars to the last close; it
      counts as a move when larger than half the typical move over that many bars
      (standard deviation of the earlier bars' log returns × √bars) and at least 0.1%;
    * **liquidation rate** of the side a move hurts (longs when price falls, shorts
      when it rises): USD per bar in the recent bars over USD per bar before. At least
      ``HEAVY_RATE`` (1.5×) is heavy, at most ``LOW_RATE`` (0.75×) is low.

    ============  ================  ===========================================
    price         that side's rate  reading
    ============  ================  ===========================================
    falls         heavy             long squeeze / cascade (often exhausts)
    falls         low               selling not forced: spot / real selling
    rises         heavy             short squeeze
    rises         low               organic demand
    flat          both heavy        two-sided flush
    ============  ================  ===========================================

    Parameters
    ----------
    per_period : DataFrame
        From :func:`liquidations_by_period` (``long_usd``, ``short_usd``, ``price``).
    lookback : int
        Recent bars to read.
    source_label : str, optional
        Whose liquidations these are, named in the text.

    Returns
    -------
    str
        One or two sentences, ending with "a reading ..., not a prediction".

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=8, freq="1h", tz="UTC")
    >>> pp = pd.DataFrame({"long_usd": [1.0, 1, 1, 1, 9, 9, 9, 9], "short_usd": 1.0,
    ...     "price": [100.0, 101, 100, 101, 97, 94, 91, 88]}, index=idx)
    >>> print(momentum_hint(pp, lookback=4))  # doctest: +ELLIPSIS
    Long squeeze / cascade: price fell 12.9% over the last 4 bars while long liquidations ran \
at 9.0× their earlier rate (90% of all liquidations). ... not a prediction.
    """
    if lookback < 1:
        msg = f"lookback must be at least 1 bar, got {lookback}"
        raise ValueError(msg)
    source = f" of {source_label} liquidations" if source_label else ""
    count = len(per_period)
    if count < 4:
        return (
            f"Not enough bars for a momentum reading ({count}; at least 4 are needed): "
            "choose a shorter period or look further back."
        )
    long_usd = per_period["long_usd"].to_numpy(dtype="float64")
    short_usd = per_period["short_usd"].to_numpy(dtype="float64")
    price = per_period["price"].to_numpy(dtype="float64")
    if long_usd.sum() + short_usd.sum() <= 0:
        return f"Nothing was liquidated in this window{source}, so there is nothing to read."
    if not (np.isfinite(price).all() and (price > 0).all()):
        return "The price is missing in some bars, so there is no momentum reading."

    n = min(lookback, count // 2)
    change, moved = _recent_move(price, n)
    long_rate, short_rate = _rate_vs_earlier(long_usd, n), _rate_vs_earlier(short_usd, n)
    recent_total = long_usd[-n:].sum() + short_usd[-n:].sum()
    long_share = long_usd[-n:].sum() / recent_total if recent_total > 0 else 0.0
    span, move = f"over the last {n} bars", f"{abs(change) * 100:.1f}%"
    if moved and change < 0:
        text = _one_sided_reading("fell", move, span, long_rate, long_share)
    elif moved:
        text = _one_sided_reading("rose", move, span, short_rate, 1.0 - long_share)
    else:
        text = _flat_reading(change, span, long_rate, short_rate)
    return f"{text} A reading of the last {n} bars{source}, not a prediction."


def _recent_move(price: np.ndarray, n: int) -> tuple[float, bool]:
    """Price change over the last ``n`` bars, and whether it beats half the typical move."""
    change = price[-1] / price[-n - 1] - 1.0
    # The typical move over n bars, from the bars before them (the recent move is the question).
    sigma = float(np.std(np.diff(np.log(price[: len(price) - n])))) * np.sqrt(n)
    return change, abs(np.log1p(change)) >= max(0.5 * sigma, 0.001)


def _rate_vs_earlier(usd: np.ndarray, n: int) -> float:
    """USD liquidated per bar over the last ``n`` bars, over the rate before (inf if none)."""
    before, now = usd[: len(usd) - n].mean(), usd[len(usd) - n :].mean()
    if before > 0:
        return float(now / before)
    return np.inf if now > 0 else 0.0


def _versus(rate: float) -> str:
    """A side's recent rate against its earlier one, in words."""
    if np.isinf(rate):
        return "far above their earlier rate (none before)"
    return f"at {rate:.1f}× their earlier rate"


def _ran(side: str, rate: float, share: float) -> str:
    """A side's liquidations ran heavy: how heavy, and their share of all of them."""
    return f"{side} liquidations ran {_versus(rate)} ({share:.0%} of all liquidations)"


def _stayed(side: str, rate: float) -> str:
    """A side's liquidations stayed low, with their rate."""
    return f"{side} liquidations stayed low ({rate:.1f}× their earlier rate)"


#: Readings of a one-sided move, by the way price went: the side it hurts, then the sentence
#: for that side's liquidations running heavy, staying low, or neither (``str.format`` fields).
_ONE_SIDED = {
    "fell": (
        "long",
        "Long squeeze / cascade: price fell {move} {span} while {ran}. Forced selling is "
        "driving the move; cascades like this often exhaust once the crowded levels are cleared.",
        "Selling is not forced: price fell {move} {span} while {stayed}. This looks like spot "
        "or real selling, not a cascade.",
        "Price fell {move} {span} with long liquidations near their earlier rate "
        "({rate:.1f}×): some forced selling, but no cascade.",
    ),
    "rose": (
        "short",
        "Short squeeze: price rose {move} {span} while {ran}. Shorts being forced to buy are "
        "driving the move; squeezes often fade once those shorts are gone.",
        "Organic demand: price rose {move} {span} while {stayed}. Buyers, not forced short "
        "covering, are lifting the price.",
        "Price rose {move} {span} with short liquidations near their earlier rate "
        "({rate:.1f}×): some forced buying, but no squeeze.",
    ),
}


def _one_sided_reading(went: str, move: str, span: str, rate: float, share: float) -> str:
    """A move that ``went`` ("fell" or "rose"), read from the rate of the side it hurts."""
    side, heavy, low, between = _ONE_SIDED[went]
    sentence = heavy if rate >= HEAVY_RATE else low if rate <= LOW_RATE else between
    return sentence.format(
        move=move, span=span, rate=rate, ran=_ran(side, rate, share), stayed=_stayed(side, rate)
    )


def _flat_reading(change: float, span: str, long_rate: float, short_rate: float) -> str:
    """No move to speak of: a two-sided flush if both sides were liquidated heavily."""
    if long_rate >= HEAVY_RATE and short_rate >= HEAVY_RATE:
        return (
            f"Two-sided flush: price barely moved ({change * 100:+.1f}%) {span} while both "
            "longs and shorts were liquidated well above their earlier rate; leverage is "
            "being cleared on both sides."
        )
    return (
        f"No clear momentum: price barely moved ({change * 100:+.1f}%) {span}; long "
        f"liquidations ran {_versus(long_rate)}, short liquidations {_versus(short_rate)}."
    )
