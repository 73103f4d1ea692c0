"""The metrics ``qa eval`` reports, as small pure functions over plain values.

Answer metrics follow the official SQuAD evaluation script: both sides are normalised (lower case, punctuation
and the articles a/an/the removed, whitespace collapsed) and scored against every gold answer, keeping the best.
A ratio with nothing to count (0/0) is ``None``, never 0: "no unanswerable questions" is not "recall 0".

``summarize`` turns the per-question rows that ``eval.scoring`` produces into the metrics dict (the keys of
DESIGN.md), overall, by question type and by split.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from core.errors import InputError
from eval.datasets import QUESTION_TYPES

# A question counts as answered right when its answer reaches this F1 against the gold (or, unanswerable, when the
# assistant abstains); the ✓/✗ of the report and the follow-up accuracy of conversations use it.
CORRECT_F1 = 0.5

# The keys `qa eval --json` prints (DESIGN.md), in order: the scores, the latencies, the count.
SCORE_KEYS = (
    "em",
    "f1",
    "recall_at_1",
    "recall_at_5",
    "mrr",
    "citation_accuracy",
    "no_answer_precision",
    "no_answer_recall",
)
LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")
METRIC_KEYS = (*SCORE_KEYS, *LATENCY_KEYS, "n_questions")
# What ``summarize_dialogues`` adds for gold dialogues.
DIALOGUE_KEYS = ("followup_accuracy", "followup_accuracy_after_first", "n_dialogues")

# The order question types and splits are listed in; others follow alphabetically.
TYPE_ORDER = QUESTION_TYPES
SPLIT_ORDER = ("tune", "test")

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, drop punctuation, drop the articles a/an/the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _check_golds(golds: Sequence[str]) -> None:
    if isinstance(golds, str):
        raise TypeError("golds must be a sequence of answer strings, not one string")
    if len(golds) == 0:
        raise InputError("golds must hold at least one answer; score unanswerable questions with no-answer metrics")


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer, else 0.0; ``None`` (abstain) is 0.0.

    Raises ``ValueError`` for an empty ``golds`` (an unanswerable question has no exact match to score).
    """
    _check_golds(golds)
    if prediction is None:
        return 0.0
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(gold) for gold in golds))


def _token_f1(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    if not predicted or not expected:
        # As SQuAD v2's script: two empty answers agree, an empty one against a non-empty one scores 0.
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str | None, golds: Sequence[str]) -> float:
    """Token-overlap F1 of the normalised prediction, the best over ``golds``; ``None`` (abstain) scores 0.0.

    A longer span that contains the gold answer gets partial credit (full recall, lower precision).
    Raises ``ValueError`` for an empty ``golds``.
    """
    _check_golds(golds)
    if prediction is None:
        return 0.0
    return max(_token_f1(prediction, gold) for gold in golds)


def is_correct(prediction: str | None, golds: Sequence[str]) -> bool:
    """Right or wrong for one question: an abstention when ``golds`` is empty, else F1 >= ``CORRECT_F1``."""
    if len(golds) == 0:
        return prediction is None
    return f1(prediction, golds) >= CORRECT_F1


def _check_ranks(ranks: Sequence[int | None]) -> None:
    for rank in ranks:
        if rank is not None and (not isinstance(rank, int) or rank < 1):
            raise InputError(f"ranks count from 1 (or are None for no hit). Currently, a rank is {rank!r}")


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first relevant hit has rank <= k.

    ``ranks`` holds, per question, the 1-based rank of its first relevant hit or ``None`` when none was retrieved.
    Returns ``None`` for no questions. Raises ``ValueError`` for ``k < 1`` or a rank below 1.
    """
    if not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive integer. Currently, k is {k!r}")
    _check_ranks(ranks)
    if len(ranks) == 0:
        return None
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank: the mean of 1/rank, with ``None`` (no relevant hit) counting 0; ``None`` for no ranks."""
    _check_ranks(ranks)
    if len(ranks) == 0:
        return None
    return sum(1.0 / rank for rank in ranks if rank is not None) / len(ranks)


def no_answer_precision_recall(
    abstained: Sequence[bool], unanswerable: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Precision and recall of abstaining, one pair of flags per question.

    precision = correct abstentions / all abstentions; recall = correct abstentions / unanswerable questions.
    Either is ``None`` when its denominator is 0. Raises ``ValueError`` when the two sequences differ in length.
    """
    if len(abstained) != len(unanswerable):
        raise InputError(
            f"abstained and unanswerable must have one flag per question; got {len(abstained)} and {len(unanswerable)}"
        )
    correct = sum(1 for a, u in zip(abstained, unanswerable) if a and u)
    n_abstained = sum(1 for a in abstained if a)
    n_unanswerable = sum(1 for u in unanswerable if u)
    precision = correct / n_abstained if n_abstained else None
    recall = correct / n_unanswerable if n_unanswerable else None
    return precision, recall


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0..100) with linear interpolation between closest ranks (numpy's default).

    ``None`` for no values. Raises ``ValueError`` for p outside [0, 100].
    """
    if not (0 <= p <= 100):
        raise InputError(f"p must be within [0, 100]. Currently, p is {p!r}")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float]) -> float | None:
    """The arithmetic mean, ``None`` for no values."""
    values = list(values)
    return sum(values) / len(values) if values else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _ordered(keys: Iterable[str], order: Sequence[str]) -> list[str]:
    keys = set(keys)
    return [k for k in order if k in keys] + sorted(keys - set(order))


def summarize_flat(rows: Sequence[dict]) -> dict:
    """The metrics of ``METRIC_KEYS`` over scored rows (see ``eval.scoring.score_response`` for their keys).

    em/f1/recall/mrr are over answerable rows; citation accuracy over answerable rows that got an answer;
    no-answer precision/recall over all rows; latency percentiles over all rows. 0/0 gives ``None``.
    """
    answerable = [r for r in rows if r["answerable"]]
    answered = [r for r in answerable if not r["abstained"]]
    ranks = [r["retrieval_rank"] for r in answerable]
    precision, recall = no_answer_precision_recall(
        [r["abstained"] for r in rows], [not r["answerable"] for r in rows]
    )
    latencies = [r["latency_ms"] for r in rows if r.get("latency_ms") is not None]
    return {
        "em": _round(mean(r["em"] for r in answerable)),
        "f1": _round(mean(r["f1"] for r in answerable)),
        "recall_at_1": _round(recall_at_k(ranks, 1)),
        "recall_at_5": _round(recall_at_k(ranks, 5)),
        "mrr": _round(mrr(ranks)),
        "citation_accuracy": _round(mean(float(r["citation_correct"]) for r in answered)),
        "no_answer_precision": _round(precision),
        "no_answer_recall": _round(recall),
        "latency_ms_p50": _round(percentile(latencies, 50), 2),
        "latency_ms_p95": _round(percentile(latencies, 95), 2),
        "n_questions": len(rows),
    }


def summarize_by_type(rows: Sequence[dict]) -> dict:
    """``summarize_flat`` for each question type present, in ``TYPE_ORDER``."""
    types = _ordered((r["type"] for r in rows), TYPE_ORDER)
    return {t: summarize_flat([r for r in rows if r["type"] == t]) for t in types}


def coverage_curve(rows: Sequence[dict], steps: int = 20) -> list[dict]:
    """Selective answering: answer only the questions whose best span's confidence is among the top share, for
    shares 1/steps .. 1. Each point: ``coverage`` (share of questions answered), ``threshold`` (the lowest
    confidence answered), ``f1`` (mean F1 of the answered questions, an unanswerable one answered scoring 0) and
    ``answered`` (how many). Rows without a confidence (nothing found at all) are never answered."""
    ranked = sorted((r for r in rows if r.get("confidence") is not None), key=lambda r: -r["confidence"])
    curve = []
    for step in range(1, steps + 1):
        n = round(len(rows) * step / steps)
        chosen = ranked[:n]
        if not chosen:
            continue
        scores = [r["f1_if_answered"] if r["answerable"] else 0.0 for r in chosen]
        curve.append({"coverage": _round(len(chosen) / len(rows)), "threshold": chosen[-1]["confidence"],
                      "f1": _round(mean(scores)), "answered": len(chosen)})
    return curve


def summarize(rows: Sequence[dict]) -> dict:
    """The metrics dict ``qa eval --json`` prints.

    Top-level keys are the overall ``METRIC_KEYS`` plus ``by_type`` (type -> the same keys) and ``splits``
    (split -> the same keys and its own ``by_type``), for each split present ("tune", "test", then others).
    """
    metrics = summarize_flat(rows)
    metrics["by_type"] = summarize_by_type(rows)
    metrics["coverage_curve"] = coverage_curve(rows)
    splits = _ordered((r["split"] for r in rows), SPLIT_ORDER)
    metrics["splits"] = {}
    for split in splits:
        in_split = [r for r in rows if r["split"] == split]
        metrics["splits"][split] = {**summarize_flat(in_split), "by_type": summarize_by_type(in_split),
                                    "coverage_curve": coverage_curve(in_split)}
    return metrics


def summarize_dialogues(rows: Sequence[dict]) -> dict:
    """``summarize`` over conversation turns, plus follow-up accuracy.

    Each row also carries ``dialogue`` (its dialogue id) and ``turn`` (1 for the opening question). Adds
    ``n_dialogues``, ``followup_accuracy`` (share of all turns answered right: F1 >= ``CORRECT_F1`` or a correct
    abstention) and ``followup_accuracy_after_first`` (the same over turns 2, 3, ...; ``None`` if there are none).
    """
    metrics = summarize(rows)
    metrics["n_dialogues"] = len({r["dialogue"] for r in rows})
    metrics["followup_accuracy"] = _round(mean(float(r["correct"]) for r in rows))
    metrics["followup_accuracy_after_first"] = _round(mean(float(r["correct"]) for r in rows if r["turn"] > 1))
    return metrics
