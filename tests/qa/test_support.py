"""Evidence that a passage supports a question's particulars, and whether a span is of the kind asked for."""

import pytest

from qa.support import coverage, expected_kind, kind_match, particulars


def test_particulars_are_the_questions_names_numbers_and_dates():
    assert particulars("Who led the Russian delegation in Budapest in 2013?") == ("russian", "budapest", "2013")
    assert particulars("What did he say?") == ()


def test_coverage_counts_the_particulars_a_text_holds():
    terms = particulars("Who led the Chinese delegation in Budapest?")
    assert coverage(terms, "The Russian delegation met in Budapest.") == 0.5
    assert coverage(terms, "The Chinese delegation met in Budapest.") == 1.0
    assert coverage((), "anything") == 1.0


@pytest.mark.parametrize("question, kind", [
    ("When did the talks begin?", "date"), ("On what date was the treaty signed?", "date"),
    ("In which year did he resign?", "date"), ("How many people died?", "number"),
    ("What percentage voted yes?", "number"), ("Who headed the delegation?", "person"),
    ("In which town was she born?", "place"), ("Where is the plant?", "place"), ("Why did he leave?", "any"),
    ("What is the title of the report?", "any")])
def test_the_kind_a_question_asks_for(question, kind):
    assert expected_kind(question) == kind


def test_a_span_of_the_wrong_kind_is_marked_against():
    assert kind_match("date", "December 13") == 1.0
    assert kind_match("date", "Sergei Kislyak") == -1.0
    assert kind_match("number", "about 300") == 1.0
    assert kind_match("number", "the minister") == -1.0
    assert kind_match("person", "Sergei Kislyak") == 1.0
    assert kind_match("person", "2007") == -1.0
    assert kind_match("any", "whatever") == 0.0
