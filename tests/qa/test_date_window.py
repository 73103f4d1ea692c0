"""Asking within a publication window: only articles whose date is known and inside it are searched."""

from __future__ import annotations

import json

import pytest

from core.errors import InputError
from qa.dates import DateWindow
from tests.cli.test_cli import run_qa

TWO_PLUS_TWO = "004_cdaeb251b5d86124.txt"  # its dateline: "MOSCOW, Oct. 12, 2007 –"; the other seeds have none


def test_a_window_keeps_retrieval_to_articles_published_in_it(assistant):
    assert assistant.documents[TWO_PLUS_TWO].published == "2007-10-12"
    question = "Who led the Russian delegation in Budapest?"
    everywhere = assistant.answer(question)
    assert {h.chunk.doc_id for h in everywhere.hits} != {TWO_PLUS_TWO}
    inside = assistant.answer(question, window=DateWindow.of("2007-10-01", "2007-10-31"))
    assert inside.hits and {h.chunk.doc_id for h in inside.hits} == {TWO_PLUS_TWO}
    assert all(c.doc_id == TWO_PLUS_TWO and c.published == "2007-10-12" for c in inside.citations)
    later = assistant.answer(question, window=DateWindow.of("2013-01-01", None))
    assert later.answer is None and not later.hits and not later.citations


@pytest.mark.parametrize("since, until, message", [
    ("2013-13-01", None, "--since must be a date like 2013-01-31"),
    ("2013", None, "--since must be a date like 2013-01-31"),
    (None, "yesterday", "--until must be a date like 2013-01-31"),
    ("2014-01-01", "2013-01-01", "is after --until"),
])
def test_a_bad_window_is_one_line(since, until, message):
    with pytest.raises(InputError, match=message) as error:
        DateWindow.of(since, until)
    assert "\n" not in str(error.value)
    assert DateWindow.of(None, None) is None and DateWindow.of("", "") is None


def test_qa_ask_takes_since_and_until(seed_index):
    result = run_qa("ask", "Who was Russia's defense minister at the October 2007 two-plus-two talks?", "--index",
                    str(seed_index),
                    "--since", "2007-10-12", "--until", "2007-10-12", "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert {c["doc_id"] for c in output["citations"]} == {TWO_PLUS_TWO}
    assert "Serdyukov" in output["answer"]["text"]
    bad = run_qa("ask", "Who?", "--index", str(seed_index), "--since", "2007-02-30")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--since must be a date" in bad.stderr
