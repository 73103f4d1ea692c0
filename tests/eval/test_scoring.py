"""Scoring one Response against its gold question (hand-made responses, no model)."""

from core.records import Answer, Chunk, Citation, Hit, Response
from eval.datasets import GoldQuestion
from eval.scoring import first_relevant_rank, score_response

ARTICLE = "The Russian delegation was to be led by Deputy Foreign Minister Sergei Kislyak."
GOLD = GoldQuestion(
    id="q001", question="Who led the Russian delegation?", answers=("Sergei Kislyak",), doc="a.txt", type="who",
    split="tune", tags=("entity",),
)
UNANSWERABLE = GoldQuestion(
    id="q050", question="Who won the 2030 cup?", answers=(), doc=None, type="unanswerable", split="test"
)


def _hit(rank, doc_id, text):
    return Hit(chunk=Chunk(chunk_id=rank, doc_id=doc_id, start=0, end=len(text), text=text, n_tokens=5), score=1.0,
               rank=rank)


def _citation(n, doc_id, text):
    return Citation(n=n, doc_id=doc_id, title="t", start=0, end=len(text), text=text, answer_start=None,
                    answer_end=None, score=0.5)


def _response(answer_text, hits=(), citations=(), answer_citation=1, doc_id="a.txt", total=12.5):
    answer = None
    if answer_text is not None:
        answer = Answer(text=answer_text, doc_id=doc_id, start=0, end=len(answer_text), score=0.9, chunk_id=0)
    return Response(
        question="q", resolved_question="q", answer=answer, answers=(answer,) if answer else (),
        answer_citations=(answer_citation,) if answer else (), citations=tuple(citations), hits=tuple(hits),
        timings_ms={"total": total},
    )


def test_retrieval_rank_is_the_first_hit_in_the_gold_doc_that_contains_a_gold_answer():
    hits = [
        _hit(1, "b.txt", "Sergei Kislyak met reporters."),  # right words, wrong document
        _hit(2, "a.txt", "Talks are on Thursday."),  # right document, no answer
        _hit(3, "a.txt", ARTICLE),
    ]
    assert first_relevant_rank(hits, "a.txt", ["Sergei Kislyak"]) == 3
    assert first_relevant_rank(hits, "a.txt", ["sergei kislyak"]) is None  # case-sensitive: spans are verbatim


def test_a_right_answer_with_a_right_citation_scores_everything():
    response = _response(
        "Sergei Kislyak",
        hits=[_hit(1, "a.txt", ARTICLE)],
        citations=[_citation(1, "b.txt", "Other."), _citation(2, "a.txt", ARTICLE)],
        answer_citation=2,
    )
    row = score_response(GOLD, response)
    assert row["em"] == 1.0 and row["f1"] == 1.0 and row["correct"]
    assert row["retrieval_rank"] == 1
    assert row["citation"] == 2 and row["cited_doc"] == "a.txt" and row["citation_correct"] is True
    assert (row["id"], row["type"], row["split"], row["tags"]) == ("q001", "who", "tune", ["entity"])
    assert row["latency_ms"] == 12.5


def test_a_citation_of_another_document_is_wrong_even_with_the_right_answer_text():
    response = _response("Sergei Kislyak", citations=[_citation(1, "b.txt", "Sergei Kislyak spoke.")])
    row = score_response(GOLD, response)
    assert row["f1"] == 1.0 and row["citation_correct"] is False


def test_an_abstention_on_an_answerable_question_scores_zero_and_has_no_citation_score():
    row = score_response(GOLD, _response(None))
    assert row["abstained"] and row["em"] == 0.0 and row["f1"] == 0.0
    assert row["citation_correct"] is None and not row["correct"]


def test_an_abstention_on_an_unanswerable_question_is_correct_and_not_part_of_f1():
    row = score_response(UNANSWERABLE, _response(None))
    assert row["correct"] and row["abstained"]
    assert row["em"] is None and row["f1"] is None and row["retrieval_rank"] is None


def test_an_answer_to_an_unanswerable_question_is_wrong():
    row = score_response(UNANSWERABLE, _response("Brazil", citations=[_citation(1, "a.txt", "Brazil won.")]))
    assert not row["correct"] and not row["abstained"] and row["citation_correct"] is None
