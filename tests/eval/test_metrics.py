"""Metric functions on hand-computed cases."""

import pytest

from eval.metrics import (
    coverage_curve,
    exact_match,
    f1,
    is_correct,
    mrr,
    no_answer_precision_recall,
    normalize_answer,
    percentile,
    recall_at_k,
    summarize,
    summarize_dialogues,
)


def test_normalize_answer_lowercases_and_drops_punctuation_articles_and_extra_space():
    assert normalize_answer("  The  Czech Republic! ") == "czech republic"
    assert normalize_answer("A deal, an offer.") == "deal offer"
    assert normalize_answer("theatre") == "theatre"  # an article only as a whole word


def test_exact_match_ignores_case_punctuation_and_articles():
    assert exact_match("the Czech Republic.", ["Czech Republic"]) == 1.0
    assert exact_match("Czech", ["Czech Republic"]) == 0.0


def test_exact_match_takes_any_of_several_golds():
    assert exact_match("Kislyak", ["Sergei Kislyak", "Kislyak"]) == 1.0


def test_abstention_scores_zero_on_an_answerable_question():
    assert exact_match(None, ["Kislyak"]) == 0.0
    assert f1(None, ["Kislyak"]) == 0.0


def test_longer_span_containing_the_gold_gets_partial_f1():
    # prediction tokens: deputy foreign minister sergei kislyak (5); gold: sergei kislyak (2); common 2
    # precision 2/5, recall 1 -> F1 = 2 * 0.4 * 1 / 1.4 = 4/7
    assert f1("Deputy Foreign Minister Sergei Kislyak", ["Sergei Kislyak"]) == pytest.approx(4 / 7)


def test_f1_is_zero_for_disjoint_answers():
    assert f1("Mikhail Gorbachev", ["Sergei Kislyak"]) == 0.0


def test_f1_is_the_best_over_several_golds():
    # against "John C. Rood": tokens john c rood, prediction john rood -> P 1, R 2/3, F1 0.8; against "Rood": P 1/2, R 1
    assert f1("John Rood", ["John C. Rood", "Rood"]) == pytest.approx(0.8)


def test_f1_counts_repeated_tokens_once_each():
    # prediction "rood rood" vs gold "rood": common 1, P 1/2, R 1 -> 2/3
    assert f1("Rood Rood", ["Rood"]) == pytest.approx(2 / 3)


def test_scoring_an_unanswerable_question_with_em_or_f1_is_an_error():
    with pytest.raises(ValueError):
        f1("anything", [])
    with pytest.raises(ValueError):
        exact_match("anything", [])


def test_is_correct_means_f1_of_half_or_a_correct_abstention():
    assert is_correct("Sergei Kislyak", ["Kislyak"])  # F1 2/3
    assert not is_correct("Deputy Foreign Minister Sergei Kislyak", ["Kislyak"])  # F1 1/3
    assert is_correct(None, [])
    assert not is_correct("Budapest", [])
    assert not is_correct(None, ["Kislyak"])


def test_recall_at_k_counts_first_hits_within_k():
    ranks = [1, 3, None, 6]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 5) == 0.5
    assert recall_at_k(ranks, 10) == 0.75


def test_mrr_averages_reciprocal_ranks_with_misses_as_zero():
    assert mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)


def test_retrieval_metrics_of_no_questions_are_none():
    assert recall_at_k([], 5) is None
    assert mrr([]) is None


def test_ranks_count_from_one_and_k_is_positive():
    with pytest.raises(ValueError):
        mrr([0])
    with pytest.raises(ValueError):
        recall_at_k([1], 0)


def test_no_answer_precision_and_recall_from_abstentions():
    # questions:    A(answerable) B(answerable) C(unanswerable) D(unanswerable) E(unanswerable)
    abstained = [False, True, True, False, True]
    unanswerable = [False, False, True, True, True]
    precision, recall = no_answer_precision_recall(abstained, unanswerable)
    assert precision == pytest.approx(2 / 3)  # C and E of the three abstentions B, C, E
    assert recall == pytest.approx(2 / 3)  # C and E of the three unanswerable C, D, E


def test_no_answer_metrics_without_abstentions_or_unanswerables_are_none():
    assert no_answer_precision_recall([False, False], [False, True]) == (None, 0.0)
    assert no_answer_precision_recall([True], [False]) == (0.0, None)


def test_percentile_interpolates_linearly_between_ranks():
    values = [40, 10, 30, 20]  # sorted 10 20 30 40
    assert percentile(values, 50) == 25
    assert percentile(values, 95) == pytest.approx(38.5)  # position 2.85 -> 30 + 0.85 * 10
    assert percentile(values, 0) == 10
    assert percentile(values, 100) == 40
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def _row(id, type, split, *, answer, gold, em=None, f1=None, rank=None, cited=None, latency=10.0):
    answerable = bool(gold)
    return {
        "id": id,
        "type": type,
        "split": split,
        "answerable": answerable,
        "abstained": answer is None,
        "em": em,
        "f1": f1,
        "retrieval_rank": rank,
        "citation_correct": cited,
        "correct": (f1 or 0) >= 0.5 if answerable else answer is None,
        "latency_ms": latency,
    }


ROWS = [
    _row("q1", "who", "tune", answer="Kislyak", gold=["Kislyak"], em=1.0, f1=1.0, rank=1, cited=True, latency=10),
    _row("q2", "who", "test", answer="Rood", gold=["John Rood"], em=0.0, f1=2 / 3, rank=3, cited=False, latency=20),
    _row("q3", "when", "test", answer=None, gold=["Thursday"], em=0.0, f1=0.0, rank=None, latency=30),
    _row("q4", "unanswerable", "test", answer=None, gold=[], latency=40),
    _row("q5", "unanswerable", "tune", answer="Budapest", gold=[], latency=50),
]


def test_summarize_scores_answer_metrics_over_answerable_questions_only():
    metrics = summarize(ROWS)
    assert metrics["n_questions"] == 5
    assert metrics["em"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["f1"] == pytest.approx((1 + 2 / 3 + 0) / 3, abs=1e-4)
    assert metrics["recall_at_1"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["recall_at_5"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["mrr"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert metrics["citation_accuracy"] == 0.5  # of q1 and q2, the answered answerable ones
    assert metrics["no_answer_precision"] == 0.5  # q3 and q4 abstained, q4 rightly
    assert metrics["no_answer_recall"] == 0.5  # q4 and q5 unanswerable, q4 abstained
    assert metrics["latency_ms_p50"] == 30
    assert metrics["latency_ms_p95"] == pytest.approx(48)


def test_summarize_reports_by_type_and_by_split_with_the_same_keys():
    metrics = summarize(ROWS)
    assert list(metrics["by_type"]) == ["who", "when", "unanswerable"]
    assert metrics["by_type"]["who"]["f1"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4)
    assert metrics["by_type"]["unanswerable"]["f1"] is None
    assert metrics["by_type"]["unanswerable"]["no_answer_recall"] == 0.5
    assert list(metrics["splits"]) == ["tune", "test"]
    tune = metrics["splits"]["tune"]
    assert tune["n_questions"] == 2 and tune["em"] == 1.0 and tune["no_answer_recall"] == 0.0
    assert tune["no_answer_precision"] is None  # nothing abstained in tune
    assert set(tune) == set(metrics) - {"splits"}
    assert set(metrics["by_type"]["who"]) == set(metrics) - {"splits", "by_type", "coverage_curve"}


def test_coverage_curve_answers_the_most_confident_first():
    rows = [{"answerable": True, "confidence": 0.9, "f1_if_answered": 1.0},
            {"answerable": False, "confidence": 0.8, "f1_if_answered": None},
            {"answerable": True, "confidence": 0.3, "f1_if_answered": 0.5},
            {"answerable": True, "confidence": None, "f1_if_answered": 0.0}]
    curve = coverage_curve(rows, steps=4)
    assert [p["answered"] for p in curve] == [1, 2, 3, 3]
    assert [p["f1"] for p in curve] == [1.0, 0.5, 0.5, 0.5]
    assert curve[1]["threshold"] == 0.8 and curve[0]["coverage"] == 0.25


def test_summarize_dialogues_reports_follow_up_accuracy_after_the_first_turn():
    rows = [
        {**ROWS[0], "dialogue": "c01", "turn": 1},  # right
        {**ROWS[1], "dialogue": "c01", "turn": 2},  # right (F1 2/3)
        {**ROWS[2], "dialogue": "c01", "turn": 3},  # wrong (abstained on an answerable turn)
        {**ROWS[3], "dialogue": "c02", "turn": 1},  # right (correct abstention)
    ]
    metrics = summarize_dialogues(rows)
    assert metrics["n_dialogues"] == 2
    assert metrics["followup_accuracy"] == 0.75
    assert metrics["followup_accuracy_after_first"] == 0.5
