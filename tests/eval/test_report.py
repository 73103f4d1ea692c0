"""Reports from a hand-made EvalResult: report.json, report.md, charts, the terminal summary."""

import json

import pytest

from eval.metrics import summarize, summarize_dialogues
from eval.report import format_summary, write_report
from eval.runner import EvalResult
from qa.errors import InputError


def _row(id, type, split, question, gold, answer, f1, correct, cited_doc):
    answerable = bool(gold)
    return {
        "id": id, "question": question, "resolved_question": question, "type": type, "split": split, "tags": [],
        "gold": gold, "doc": "a.txt" if answerable else None, "answer": answer,
        "answer_doc": "a.txt" if answer else None, "citation": 1 if answer else None, "cited_doc": cited_doc,
        "answerable": answerable, "abstained": answer is None, "em": float(f1 == 1.0) if answerable else None,
        "f1": f1, "retrieval_rank": 1 if answerable else None,
        "citation_correct": (cited_doc == "a.txt") if answerable and answer else None,
        "correct": correct, "latency_ms": 12.0,
    }


ROWS = [
    _row("q001", "who", "tune", "Who led the Russian delegation?", ["Sergei Kislyak"], "Sergei Kislyak", 1.0, True,
         "a.txt"),
    _row("q002", "when", "test", "When are the talks | meetings?", ["Thursday"], "in December", 0.0, False, "b.txt"),
    _row("q050", "unanswerable", "test", "Who won the 2030 cup?", [], None, None, True, None),
]


def _result():
    return EvalResult(metrics=summarize(ROWS), rows=ROWS, gold_path="eval/gold_qa.json", index_dir=".qa-index",
                      gold_format="qa")


def test_write_report_writes_json_markdown_and_a_chart(tmp_path):
    written = write_report(_result(), tmp_path / "out")
    assert [p.name for p in written] == ["report.json", "report.md", "metrics_by_type.png"]
    assert all(p.stat().st_size > 0 for p in written)
    assert written[2].read_bytes().startswith(b"\x89PNG")
    data = json.loads(written[0].read_text(encoding="utf-8"))
    assert data["metrics"]["n_questions"] == 3 and [q["id"] for q in data["questions"]] == ["q001", "q002", "q050"]


def test_report_md_lists_every_question_with_its_answer_beside_the_gold_and_a_mark(tmp_path):
    write_report(_result(), tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    lines = {row["id"]: next(line for line in md.splitlines() if line.startswith(f"| {row['id']} |")) for row in ROWS}
    assert "Sergei Kislyak | Sergei Kislyak | 1.000 | a.txt | ✓ |" in lines["q001"]
    assert "When are the talks \\| meetings?" in lines["q002"]  # a pipe in a question cannot break the table
    assert lines["q002"].endswith("| in December | 0.000 | b.txt | ✗ |")
    assert "(unanswerable) | (abstained) | — |  | ✓ |" in lines["q050"]
    for heading in ("## Summary", "## By question type (overall)", "## By question type (tune)",
                    "## By question type (test)"):
        assert heading in md
    assert "n/a" in md  # f1 of the unanswerable type


def test_a_baseline_adds_a_comparison_chart_and_table(tmp_path):
    write_report(_result(), tmp_path / "before")
    written = write_report(_result(), tmp_path / "after", baseline_path=tmp_path / "before" / "report.json")
    assert [p.name for p in written][-1] == "baseline_comparison.png"
    assert written[-1].read_bytes().startswith(b"\x89PNG")
    md = (tmp_path / "after" / "report.md").read_text(encoding="utf-8")
    assert "## Against the baseline" in md and "| f1 | 0.500 | 0.500 | +0.000 |" in md


def test_a_missing_baseline_is_an_input_error_and_nothing_is_written(tmp_path):
    with pytest.raises(InputError, match="baseline report not found"):
        write_report(_result(), tmp_path / "out", baseline_path=tmp_path / "nope.json")
    assert not (tmp_path / "out").exists()


def test_format_summary_shows_overall_splits_and_types_with_n_a_for_empty_ratios():
    text = format_summary(_result())
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "overall", "tune", "test"]
    f1_line = next(line for line in text.splitlines() if line.startswith("f1 "))
    assert f1_line.split() == ["f1", "0.500", "1.000", "0.000"]
    assert any(line.startswith("unanswerable") and "n/a" in line for line in text.splitlines())


def test_report_md_shows_how_a_follow_up_was_resolved(tmp_path):
    turns = [
        {**ROWS[0], "id": "c01.1", "dialogue": "c01", "turn": 1},
        {**ROWS[0], "id": "c01.2", "dialogue": "c01", "turn": 2, "question": "And the US one?",
         "resolved_question": "Who led the US delegation?"},
    ]
    result = EvalResult(metrics=summarize_dialogues(turns), rows=turns, gold_path="g.json", index_dir="idx",
                        kind="conversations")
    write_report(result, tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| And the US one? → Who led the US delegation? |" in md
    assert "follow-up accuracy: 1.000 over all turns, 1.000 over turns after the first" in md
