"""End to end on a tiny SQuAD v2.0 file: build an index from its paragraphs, ask every question, report.

Uses the real embedding model and reader; the index and the run are shared by the tests of this module.
"""

import json
from pathlib import Path

import pytest

from eval.metrics import METRIC_KEYS
from eval.report import format_summary, write_report
from eval.runner import evaluate

DATA = Path(__file__).parent / "data"
TINY_SQUAD = DATA / "tiny_squad.json"
TINY_CONVERSATIONS = DATA / "tiny_conversations.json"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("squad") / "index"


@pytest.fixture(scope="module")
def result(index_dir):
    return evaluate(TINY_SQUAD, index_dir, progress=False)


def test_evaluate_builds_an_index_of_squad_paragraphs_when_there_is_none(result, index_dir):
    manifest = (index_dir / "manifest.json").read_text(encoding="utf-8")
    for doc_id in ("Danube#0", "Danube#1", "Penicillin#0"):
        assert doc_id in manifest
    assert result.gold_format == "squad-v2.0"


def test_every_squad_question_is_asked_and_scored(result):
    assert result.metrics["n_questions"] == 8
    assert [row["id"] for row in result.rows] == [f"tiny{i:02d}" for i in range(1, 9)]
    assert all(row["latency_ms"] is not None and row["latency_ms"] > 0 for row in result.rows)
    answered = [row for row in result.rows if row["answer"] is not None]
    assert all(row["cited_doc"] in ("Danube#0", "Danube#1", "Penicillin#0") for row in answered)


def test_squad_metrics_have_the_design_keys_overall_by_type_and_for_the_test_split(result):
    metrics = result.metrics
    assert set(METRIC_KEYS) | {"by_type", "splits", "coverage_curve"} == set(metrics)
    assert list(metrics["splits"]) == ["test"]
    assert metrics["splits"]["test"]["n_questions"] == 8
    assert metrics["by_type"]["unanswerable"]["n_questions"] == 2
    assert metrics["by_type"]["unanswerable"]["f1"] is None
    for key in ("em", "f1", "recall_at_1", "recall_at_5", "mrr", "no_answer_recall"):
        assert 0.0 <= metrics[key] <= 1.0
    json.dumps(metrics)  # what `qa eval --json` prints


def test_open_domain_retrieval_finds_the_gold_paragraph_among_three(result):
    # Three short paragraphs on two topics: the gold paragraph should be among the top five for every question.
    assert result.metrics["recall_at_5"] == 1.0
    assert result.metrics["f1"] > 0.3  # a smoke check of the reader, not a target


def test_a_second_run_reuses_the_index_it_built(result, index_dir):
    before = (index_dir / "manifest.json").stat().st_mtime_ns
    again = evaluate(TINY_SQUAD, index_dir, progress=False)
    assert (index_dir / "manifest.json").stat().st_mtime_ns == before
    assert again.metrics["n_questions"] == 8


def test_the_squad_run_writes_a_full_report(result, tmp_path):
    written = write_report(result, tmp_path)
    assert {p.name for p in written} == {"report.json", "report.md", "metrics_by_split.png", "metrics_by_type.png",
                                         "coverage_accuracy.png"}
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert all(f"| {row['id']} |" in md for row in result.rows)
    assert "overall" in format_summary(result)


def test_gold_conversations_report_follow_up_accuracy(result, index_dir):
    conversations = evaluate(TINY_CONVERSATIONS, index_dir, progress=False)
    metrics = conversations.metrics
    assert metrics["n_dialogues"] == 2 and metrics["n_questions"] == 5
    assert [row["id"] for row in conversations.rows] == ["t01.1", "t01.2", "t02.1", "t02.2", "t02.3"]
    assert 0.0 <= metrics["followup_accuracy"] <= 1.0
    assert 0.0 <= metrics["followup_accuracy_after_first"] <= 1.0
    assert "follow-up accuracy" in format_summary(conversations)
