"""One ``Response`` against its gold question → one row of plain JSON values (pure; no model needed).

A row is what ``report.md`` shows for a question and what ``eval.metrics.summarize`` aggregates:

``id, question, type, split, tags, gold, doc`` — from the gold question;
``answer, answer_doc, citation, cited_doc, resolved_question`` — what the assistant said;
``answerable, abstained, em, f1, retrieval_rank, citation_correct, correct, latency_ms`` — the scores, where
``confidence`` and ``f1_if_answered`` are the best span's confidence and F1 whether or not it was held back (what
a coverage curve needs; ``f1_if_answered`` is ``None`` for an unanswerable question), and
``em``/``f1`` are ``None`` for an unanswerable question (they are not part of F1), ``retrieval_rank`` is the 1-based
rank of the first hit in the gold document whose chunk contains a gold answer (``None``: none, or unanswerable),
``citation_correct`` is ``None`` unless an answerable question got an answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.records import Citation, Hit, Response
from eval.datasets import GoldQuestion
from eval.metrics import exact_match, f1, is_correct


def contains_gold(doc_id: str, text: str, gold_doc: str | None, golds: Sequence[str]) -> bool:
    """True when a passage of ``doc_id`` is in the gold document and its text holds a gold answer verbatim.

    The substring test is case-sensitive on purpose: gold answers are spans copied from the article.
    """
    return gold_doc is not None and doc_id == gold_doc and any(gold in text for gold in golds)


def first_relevant_rank(hits: Sequence[Hit], gold_doc: str | None, golds: Sequence[str]) -> int | None:
    """The rank of the first hit whose chunk is in ``gold_doc`` and contains a gold answer, or ``None``."""
    for hit in hits:
        if contains_gold(hit.chunk.doc_id, hit.chunk.text, gold_doc, golds):
            return hit.rank
    return None


def answer_citation(response: Response) -> Citation | None:
    """The citation the best answer points at (``answer_citations[0]``), or ``None`` when there is no answer."""
    if response.answer is None or not response.answer_citations:
        return None
    n = response.answer_citations[0]
    for citation in response.citations:
        if citation.n == n:
            return citation
    return None


def score_response(gold: GoldQuestion, response: Response) -> dict:
    """Score one response against its gold question; returns a row (keys in the module docstring)."""
    golds, doc = gold.answers, gold.doc
    answerable = gold.answerable
    prediction = response.answer.text if response.answer is not None else None
    citation = answer_citation(response)
    if answerable and prediction is not None:
        citation_correct = citation is not None and contains_gold(citation.doc_id, citation.text, doc, golds)
    else:
        citation_correct = None
    latency = response.timings_ms.get("total")
    best = response.answer if response.answer is not None else response.withheld
    return {
        "id": gold.id,
        "question": gold.question,
        "resolved_question": response.resolved_question,
        "type": gold.type,
        "split": gold.split,
        "tags": list(gold.tags),
        "gold": list(golds),
        "doc": doc,
        "answer": prediction,
        "answer_doc": response.answer.doc_id if response.answer is not None else None,
        "citation": citation.n if citation is not None else None,
        "cited_doc": citation.doc_id if citation is not None else None,
        "answerable": answerable,
        "abstained": prediction is None,
        "em": exact_match(prediction, golds) if answerable else None,
        "f1": round(f1(prediction, golds), 4) if answerable else None,
        "retrieval_rank": first_relevant_rank(response.hits, doc, golds) if answerable else None,
        "citation_correct": citation_correct,
        "correct": is_correct(prediction, golds),
        "confidence": round(best.score, 4) if best is not None else None,
        "f1_if_answered": round(f1(best.text if best is not None else None, golds), 4) if answerable else None,
        "latency_ms": round(latency, 3) if latency is not None else None,
    }
