"""Lookups derived once from a loaded index: which sentences a chunk holds, and each sentence's answer candidates.

Candidates do not depend on the question, so they are found once when the index loads (from the analysis stored
at index time) and a question only scores them. Every candidate is a ``[start, end)`` span of its article.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from embeddings.analysis import Analysis
from embeddings.index_store import IndexData, chunk_and_sentence_ranges
from embeddings.lexical import STOP_WORDS

KINDS = ("entity", "noun_chunk", "phrase", "clause", "number")
# Clause heads and the markers that introduce a reason or purpose.
_CLAUSE_DEPS = {"advcl", "xcomp", "ccomp", "acl", "relcl", "pcomp"}
_REASON_MARKERS = {"because", "since", "as", "so", "to", "for", "considering", "after", "aim", "order", "bid"}
MAX_CANDIDATE_TOKENS = 30


@dataclass(frozen=True)
class Candidate:
    start: int  # article offsets
    end: int
    kind: str  # one of KINDS
    label: str  # entity label, or "" for other kinds
    first_token: int  # token indices in the article's analysis, [first_token, last_token)
    last_token: int
    head: int  # token index of the span's syntactic root
    marker: str  # for clauses: the word that introduces it ("because", "to"), lower case


@dataclass(frozen=True)
class Sentence:
    doc: int  # index into data.documents
    start: int
    end: int
    first_token: int
    last_token: int
    lemmas: frozenset[str]  # content lemmas, lower case


class Corpus:
    def __init__(self, data: IndexData):
        self.data = data
        self.doc_index = {d.doc_id: i for i, d in enumerate(data.documents)}
        self.sentences: list[Sentence] = []
        self.candidates: list[list[Candidate]] = []
        self.lemmas_lower: list[list[str]] = [[lemma.lower() for lemma in a.lemma] for a in data.analyses]
        for doc, analysis in enumerate(data.analyses):
            edges = _subtree_edges(analysis.head)
            for start, end in analysis.sentences:
                t0 = bisect_left(analysis.token_start, start)
                t1 = bisect_left(analysis.token_start, end)
                lemmas = frozenset(self.lemmas_lower[doc][t] for t in range(t0, t1)
                                   if analysis.pos[t] not in ("PUNCT", "SPACE") and
                                   self.lemmas_lower[doc][t] not in STOP_WORDS)
                self.sentences.append(Sentence(doc, start, end, t0, t1, lemmas))
                self.candidates.append(_candidates(analysis, start, end, t0, t1, edges))
        self.chunk_sentences = self._chunk_sentence_ranges()

    def _chunk_sentence_ranges(self) -> list[tuple[int, int]]:
        """For each chunk, the global indices ``[first, last)`` of the sentences inside it."""
        chunk_ranges, sentence_ranges = chunk_and_sentence_ranges(self.data)
        result: list[tuple[int, int]] = []
        for (c0, c1), (s0, _), analysis in zip(chunk_ranges, sentence_ranges, self.data.analyses):
            starts = [s for s, _ in analysis.sentences]
            ends = [e for _, e in analysis.sentences]
            for chunk in self.data.chunks[c0:c1]:
                first = bisect_right(ends, chunk.start)  # first sentence ending after the chunk starts
                last = bisect_left(starts, chunk.end)  # first sentence starting at or after the chunk ends
                result.append((s0 + first, s0 + max(first, last)))
        return result

    def best_sentence_cosine(self, chunk_index: int, vector: np.ndarray) -> float:
        first, last = self.chunk_sentences[chunk_index]
        if last <= first:
            return float(self.data.chunk_vectors[chunk_index] @ vector)
        return float(np.max(self.data.sentence_vectors[first:last] @ vector))


def _subtree_edges(heads: list[int]) -> tuple[list[int], list[int]]:
    """Leftmost and rightmost token of each token's subtree, from the head indices alone."""
    left, right = list(range(len(heads))), list(range(len(heads)))
    for token in range(len(heads)):
        node, seen = token, 0
        while heads[node] != node and seen < 64:  # roots point at themselves; 64 guards a malformed parse
            node = heads[node]
            left[node] = min(left[node], token)
            right[node] = max(right[node], token)
            seen += 1
    return left, right


def _trim_span(analysis: Analysis, t0: int, t1: int) -> tuple[int, int]:
    """Drop punctuation and spaces at either end of a token span."""
    while t0 < t1 and analysis.pos[t0] in ("PUNCT", "SPACE", "CCONJ"):
        t0 += 1
    while t1 > t0 and analysis.pos[t1 - 1] in ("PUNCT", "SPACE", "CCONJ"):
        t1 -= 1
    return t0, t1


def _candidates(analysis: Analysis, start: int, end: int, t0: int, t1: int,
                edges: tuple[list[int], list[int]]) -> list[Candidate]:
    left, right = edges
    found: dict[tuple[int, int], Candidate] = {}

    def add(a: int, b: int, kind: str, label: str = "", head: int | None = None, marker: str = "") -> None:
        a, b = max(a, t0), min(b, t1)
        a, b = _trim_span(analysis, a, b)
        if b <= a or b - a > MAX_CANDIDATE_TOKENS:
            return
        key = (a, b)
        if key in found and KINDS.index(found[key].kind) <= KINDS.index(kind):
            return
        root = head if head is not None and a <= head < b else a
        found[key] = Candidate(analysis.token_start[a], analysis.token_end[b - 1], kind, label, a, b, root, marker)

    for e_start, e_end, label in analysis.entities:
        if start <= e_start and e_end <= end:
            a = bisect_left(analysis.token_start, e_start)
            b = bisect_left(analysis.token_start, e_end)
            head = max(range(a, b), key=lambda t: not (a <= analysis.head[t] < b)) if b > a else a
            add(a, b, "entity", label, head)
    for c_start, c_end in analysis.noun_chunks:
        if start <= c_start and c_end <= end:
            a = bisect_left(analysis.token_start, c_start)
            b = bisect_left(analysis.token_start, c_end)
            add(a, b, "noun_chunk", head=b - 1)
    for t in range(t0, t1):
        pos, dep = analysis.pos[t], analysis.dep[t]
        if pos in ("NOUN", "PROPN") and right[t] > t:
            add(left[t], right[t] + 1, "phrase", head=t)
        if pos == "NUM":
            add(t, t + 1, "number", head=t)
            if analysis.head[t] != t and analysis.pos[analysis.head[t]] == "NOUN" and analysis.head[t] == t + 1:
                add(t, t + 2, "number", head=t + 1)
        if dep in _CLAUSE_DEPS or (dep == "prep" and analysis.lemma[t].lower() in ("as", "over", "because")):
            a, b = left[t], right[t] + 1
            marker = analysis.lemma[a].lower() if a < t1 else ""
            if dep == "prep":
                add(t + 1, b, "clause", head=t, marker=analysis.lemma[t].lower())
            elif marker in _REASON_MARKERS:
                add(a + 1, b, "clause", head=t, marker=marker)  # "because it ..." -> "it ..."
                add(a, b, "clause", head=t, marker=marker)  # "to allay ..." stays whole
            else:
                add(a, b, "clause", head=t, marker=marker)
    return list(found.values())
