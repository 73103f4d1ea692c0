"""The ``qa`` command as a user runs it: a real process, the real model, the real index."""

import json
import subprocess
import sys

from tests.conftest import ROOT

QA = [sys.executable, "-m", "qa.cli"]


def run_qa(*args, cwd=ROOT):
    return subprocess.run([*QA, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_ask_json_answers_the_budapest_question_with_a_cited_exact_span(seed_index, assistant):
    result = run_qa("ask", "who led the Russian delegation in Budapest?", "--index", str(seed_index), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    answer = output["answer"]
    assert "Kislyak" in answer["text"]
    assert answer["doc_id"] == "000_0027d40a27e5cdba.txt"
    article = assistant.documents[answer["doc_id"]].text
    assert article[answer["start"]:answer["end"]] == answer["text"]
    citation = output["citations"][answer["citation"] - 1]
    assert citation["text"] == article[citation["start"]:citation["end"]]
    assert citation["text"][citation["answer_start"]:citation["answer_end"]] == answer["text"]
    assert set(output) == {"question", "answer", "answers", "citations", "timings_ms"}
    assert set(output["timings_ms"]) >= {"retrieve", "read", "total"}
    assert set(citation) == {"n", "doc_id", "title", "start", "end", "text", "answer_start", "answer_end", "score",
                             "published", "source", "author", "url", "page"}


def test_help_lists_every_command():
    result = run_qa("--help")
    assert result.returncode == 0
    for command in ("index", "ask", "chat", "eval", "serve"):
        assert command in result.stdout
    for command in ("index", "ask", "chat", "eval", "serve"):
        assert run_qa(command, "--help").returncode == 0


def test_empty_question_is_a_one_line_error_with_status_2(seed_index):
    result = run_qa("ask", "   ", "--index", str(seed_index))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("qa: the question is empty")
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_index_is_a_one_line_error(tmp_path):
    result = run_qa("ask", "who?", "--index", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "no index at" in result.stderr and "Traceback" not in result.stderr


def test_index_command_reports_added_and_unchanged(seeds_copy, tmp_path):
    index_dir = tmp_path / "index"
    first = run_qa("index", str(seeds_copy), "--index", str(index_dir))
    assert first.returncode == 0, first.stderr
    assert "5 added" in first.stdout
    again = run_qa("index", str(seeds_copy), "--index", str(index_dir))
    assert "5 unchanged" in again.stdout
