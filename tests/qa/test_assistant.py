"""The pipeline object on the seeds: spans copied from articles, citations that point at them."""

import json

import pytest

from core.errors import InputError
from tests.conftest import ROOT

GOLD = json.loads((ROOT / "eval" / "gold_qa.json").read_text(encoding="utf-8"))["questions"]


@pytest.fixture(scope="module")
def responses(assistant):
    return assistant.answer_batch([q["question"] for q in GOLD])


def test_every_answer_is_the_article_slice_at_its_offsets(assistant, responses):
    for response in responses:
        for answer in response.answers:
            assert assistant.documents[answer.doc_id].text[answer.start:answer.end] == answer.text


def test_every_citation_text_equals_the_article_slice(assistant, responses):
    for response in responses:
        for citation in response.citations:
            assert citation.text == assistant.documents[citation.doc_id].text[citation.start:citation.end]


def test_answer_offsets_inside_the_citation_mark_the_answer(responses):
    for response in responses:
        for answer, n in zip(response.answers, response.answer_citations):
            citation = response.citations[n - 1]
            assert citation.doc_id == answer.doc_id
            assert citation.text[answer.start - citation.start:answer.end - citation.start] == answer.text
            # A passage holding several answers marks the first of them.
            marked = citation.text[citation.answer_start:citation.answer_end]
            assert marked in {a.text for a in response.answers}


def test_citations_are_numbered_from_one(responses):
    for response in responses:
        assert [c.n for c in response.citations] == list(range(1, len(response.citations) + 1))


def test_answer_is_the_same_alone_and_in_a_batch(assistant, responses):
    alone = assistant.answer(GOLD[0]["question"]).answer
    batched = responses[0].answer
    assert (alone.text, alone.doc_id, alone.start, alone.end) == (batched.text, batched.doc_id, batched.start,
                                                                  batched.end)
    # Batch padding moves the vectors' last float bits, and the confidence weighs eleven features built on them.
    assert alone.score == pytest.approx(batched.score, abs=1e-3)


def test_confidence_is_between_zero_and_one(responses):
    assert all(0.0 <= a.score <= 1.0 for r in responses for a in r.answers)


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200b", "?!", None, 42])
def test_bad_questions_raise_input_error(assistant, question):
    with pytest.raises(InputError):
        assistant.answer(question)


def test_huge_question_is_refused(assistant):
    with pytest.raises(InputError, match="limit"):
        assistant.answer("why " * 300_000)


def test_context_terms_steer_retrieval_but_not_what_the_reader_looks_for(assistant):
    # A follow-up rewritten with the conversation's names: "US" is context for retrieval, not the answer's type.
    question = "Who led the Russian delegation in Budapest?"
    response = assistant.answer_batch([f"{question} — US, Budapest"], read_as=[question])[0]
    assert response.resolved_question == f"{question} — US, Budapest"
    assert response.answer is not None and "Kislyak" in response.answer.text


def test_sentence_of_gives_the_article_sentence_holding_the_answer(assistant):
    answer = assistant.answer("who led the Russian delegation in Budapest?").answer
    start, end = assistant.sentence_of(answer)
    assert start <= answer.start and answer.end <= end
    assert assistant.documents[answer.doc_id].text[start:end] == (
        "The Russian delegation was to be led by Deputy Foreign Minister Sergei Kislyak.")
    assert assistant.sentence_of(None) is None
