"""Span edges: trimmed punctuation and quotes, whole names, qualified quantities and whole ranges."""

import pytest

from qa.span_edges import complete, trim


@pytest.mark.parametrize("span, kept", [('"Hello world', "Hello world"), ('Hello world"', "Hello world"),
                                        ('"Hello world"', '"Hello world"'), ("(AFP", "AFP"), ("Kislyak.", "Kislyak"),
                                        ("U.S.", "U.S."), ("O'Neil", "O'Neil")])
def test_a_span_keeps_a_quotation_whole_or_not_at_all(span, kept):
    start, end = trim(span, 0, len(span))
    assert span[start:end] == kept


def _completed(sentence: str, span: str) -> str:
    start = sentence.index(span)
    start, end = complete(sentence, start, start + len(span), (0, len(sentence)))
    return sentence[start:end]


@pytest.mark.parametrize("sentence, span, whole", [
    ("The task falls to President Marta Ilic, who must invite the winner.", "Ilic", "Marta Ilic"),
    ("Lars Moen cautioned that slow permitting was the greatest risk.", "Moen", "Lars Moen"),
    ("Banks hit include the state-owned Veskar Trade Bank and two others.", "Veskar", "Veskar Trade Bank"),
    ("More than 31,000 people are still in temporary shelters.", "31,000", "More than 31,000"),
    ("The authority supplies about 410,000 people.", "410,000", "about 410,000"),
    ("He served from 1983 until 1992 in the senate.", "1983", "from 1983 until 1992"),
    ("The talks took place in Budapest on Thursday.", "Budapest", "Budapest"),
    ("US Defense Secretary Chuck Hagel arrived.", "Hagel", "Chuck Hagel"),
    ("It won 71 of the 180 seats.", "71", "71"),
])
def test_a_span_is_completed_to_the_whole_name_quantity_or_range(sentence, span, whole):
    assert _completed(sentence, span) == whole


def test_completion_stays_inside_the_sentence():
    text = "He met Anna. Petrova said so."
    start = text.index("Petrova")
    sentence = (text.index("Petrova"), len(text))
    assert complete(text, start, start + len("Petrova"), sentence) == (start, start + len("Petrova"))
