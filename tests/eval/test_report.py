"""Reports from a hand-made EvalResult: report.json, report.md, charts, the terminal summary."""

import json
import shutil

import pytest

from eval.metrics import METRIC_KEYS, summarize, summarize_dialogues
from eval.report import (LABELS, LATENCY_KEYS, SCORE_KEYS, Coverage, format_summary, render_markdown, split_figure,
                         type_figure, write_report)
from core.errors import InputError
from eval.runner import EvalResult, evaluate
from tests.conftest import SEEDS


def _row(id, type, split, question, gold, answer, f1, correct, cited_doc):
    answerable = bool(gold)
    return {
        "id": id, "question": question, "resolved_question": question, "type": type, "split": split, "tags": [],
        "gold": gold, "doc": "a.txt" if answerable else None, "answer": answer,
        "answer_doc": "a.txt" if answer else None, "citation": 1 if answer else None, "cited_doc": cited_doc,
        "answerable": answerable, "abstained": answer is None, "em": float(f1 == 1.0) if answerable else None,
        "f1": f1, "retrieval_rank": 1 if answerable else None,
        "citation_correct": (cited_doc == "a.txt") if answerable and answer else None,
        "correct": correct, "latency_ms": 12.0, "confidence": 0.9 if answer else 0.2, "f1_if_answered": f1,
    }


ROWS = [
    _row("q001", "who", "tune", "Who led the Russian delegation?", ["Sergei Kislyak"], "Sergei Kislyak", 1.0, True,
         "a.txt"),
    _row("q002", "when", "test", "When are the talks | meetings?", ["Thursday"], "in December", 0.0, False, "b.txt"),
    _row("q050", "unanswerable", "test", "Who won the 2030 cup?", [], None, None, True, None),
]


def _result():
    return EvalResult(metrics=summarize(ROWS), rows=ROWS, gold_path="eval/gold_qa.json", index_dir="no-such-index",
                      gold_format="qa")


def test_write_report_writes_json_markdown_and_a_chart(tmp_path):
    written = write_report(_result(), tmp_path / "out")
    assert [p.name for p in written] == ["report.json", "report.md", "metrics_by_split.png", "metrics_by_type.png",
                                        "coverage_accuracy.png"]
    assert all(p.stat().st_size > 0 for p in written)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written[2:])
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


def test_report_md_shows_the_coverage_accuracy_table(tmp_path):
    write_report(_result(), tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    table = md.split("## Coverage and accuracy", 1)[1]
    assert "| 33% | 0.900 | 1.000 | 1 |" in table  # the most confident third: q001, right


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


def _texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


def test_the_split_chart_shows_every_metric_overall_and_per_split_beside_each_other():
    figure = split_figure(summarize(ROWS))
    scores, latency = figure.axes
    assert [t.get_text() for t in scores.get_xticklabels()] == ["EM", "F1", "R@1", "R@5", "MRR", "cite", "NA-P",
                                                                 "NA-R"]
    assert [t.get_text() for t in latency.get_xticklabels()] == ["p50 ms", "p95 ms"]
    assert _texts(scores.get_legend()) == ["overall (n=3)", "tune (n=1)", "test (n=2)"]
    assert len(scores.patches) == 3 * len(SCORE_KEYS)  # a bar for each metric in each column (n/a ones hidden)
    # tune has no unanswerable question: its no-answer recall is n/a, no bar; test's is 1.0
    na_recall = scores.patches[2 * len(SCORE_KEYS) - 1], scores.patches[3 * len(SCORE_KEYS) - 1]
    assert not na_recall[0].get_visible() and na_recall[1].get_height() == 1.0


def test_every_chart_spells_out_every_abbreviation_it_uses():
    metrics = summarize(ROWS)
    key = _texts(split_figure(metrics).legends[0])
    assert key[:3] == ["EM = exact match", "F1 = token-overlap F1", "R@1 = retrieval recall@1"]
    assert key == [f"{LABELS[k].short} = {LABELS[k].name}" for k in (*SCORE_KEYS, *LATENCY_KEYS)]
    assert "NA-P = no-answer precision" in key and "NA-R = no-answer recall" in key
    assert _texts(type_figure(metrics).axes[0].get_legend()) == key[:len(SCORE_KEYS)]


def test_report_md_opens_with_what_every_metric_means():
    md = render_markdown(_result(), coverage=Coverage(5, ()))
    head = md.split("## Summary")[0]
    assert "- index: `no-such-index` (5 articles)" in head and "warning" not in head
    for key in METRIC_KEYS:
        assert f"- **{LABELS[key].short}** (`{key}`, {LABELS[key].name}): " in head
    assert "- **EM** (`em`, exact match): share of answerable questions" in head


def test_a_long_list_of_articles_the_gold_set_does_not_name_is_counted_and_a_few_named():
    unnamed = tuple(f"extra_{i}.txt" for i in range(8))
    md = render_markdown(_result(), coverage=Coverage(13, unnamed))
    warning = next(line for line in md.splitlines() if "does not name" in line)
    assert "the index holds 8 articles the gold set does not name" in warning
    assert "`extra_4.txt` and 3 more" in warning and "extra_5" not in warning


def test_an_unreadable_index_leaves_the_article_count_unknown(tmp_path):
    write_report(_result(), tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "- index: `no-such-index` (article count unknown" in md


def test_a_real_index_with_articles_beyond_the_gold_set_is_counted_and_warned_about(tmp_path, embedder):
    from embeddings.indexer import index_paths

    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    for name, text in (("zz_harbour.txt", "Harbour reopens\n\nThe old harbour of Tallinn reopened on Monday after "
                                          "a year of repairs, the port authority said."),
                       ("zz_orchestra.txt", "Orchestra tours Japan\n\nThe Vienna orchestra begins a tour of Japan "
                                            "in March, playing eleven concerts in six cities.")):
        (articles / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([articles], index_dir, embedder=embedder)
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps({"version": 1, "documents": {p.name: None for p in sorted(SEEDS.glob("*.txt"))},
                                "questions": [
        {"id": "q1", "question": "Who led the Russian delegation in Budapest?", "answers": ["Sergei Kislyak"],
         "doc": "000_0027d40a27e5cdba.txt", "type": "who", "split": "tune"},
        {"id": "q2", "question": "Who won the 2030 football world cup?", "answers": [], "doc": None,
         "type": "unanswerable", "split": "test"}]}), encoding="utf-8")
    result = evaluate(gold, index_dir, progress=False)
    write_report(result, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    head = md.split("## What the figures mean")[0]
    assert f"- index: `{index_dir}` (7 articles)" in head
    assert ("**warning: the index holds 2 articles the gold set does not name** (`zz_harbour.txt`, "
            "`zz_orchestra.txt`);") in head
