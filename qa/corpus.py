"""Look-ups derived once from a loaded index, shared by the retriever and every reader: which sentences a chunk
holds, and each sentence's terms with their idf over sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embeddings.analysis import sentences_within
from embeddings.index_store import IndexData, chunk_and_sentence_ranges
from embeddings.lexical import tokenize


@dataclass(frozen=True)
class Sentence:
    doc: int  # index into data.documents
    start: int  # article offsets
    end: int


class Corpus:
    def __init__(self, data: IndexData):
        self.data = data
        self.doc_index = {d.doc_id: i for i, d in enumerate(data.documents)}
        # Per article, its chunks' and sentences' global indices [first, last): derived once, read by every stage.
        self.chunk_ranges, self.sentence_ranges = chunk_and_sentence_ranges(data)
        self.sentences = [Sentence(doc, start, end) for doc, analysis in enumerate(data.analyses)
                          for start, end in analysis.sentences]
        self.chunk_sentences = self._chunk_sentence_ranges()
        # Lexical view of each sentence, with idf over sentences: "which sentence shares the question's rare words".
        self.sentence_terms = [frozenset(tokenize(data.documents[s.doc].text[s.start:s.end])) for s in self.sentences]
        document_frequency: dict[str, int] = {}
        for terms in self.sentence_terms:
            for term in terms:
                document_frequency[term] = document_frequency.get(term, 0) + 1
        n = max(len(self.sentences), 1)
        self.idf = {term: math.log(1 + n / df) for term, df in document_frequency.items()}
        self.unseen_idf = math.log(1 + n)

    def _chunk_sentence_ranges(self) -> list[tuple[int, int]]:
        """For each chunk, the global indices ``[first, last)`` of the sentences inside it."""
        result: list[tuple[int, int]] = []
        for (c0, c1), (s0, _), analysis in zip(self.chunk_ranges, self.sentence_ranges, self.data.analyses):
            for chunk in self.data.chunks[c0:c1]:
                first, last = sentences_within(analysis.sentences, chunk.start, chunk.end)
                result.append((s0 + first, s0 + last))
        return result

    def lexical_overlap(self, terms: frozenset[str], sentence: int) -> float:
        """Share of the question's idf mass found in the sentence (0..1); unseen terms count as rare."""
        total = sum(self.idf.get(t, self.unseen_idf) for t in terms)
        if total <= 0:
            return 0.0
        return sum(self.idf[t] for t in terms & self.sentence_terms[sentence]) / total

    def best_sentence_score(self, chunk_index: int, vector: np.ndarray, terms: frozenset[str],
                            lexical_weight: float) -> float:
        """The chunk's best sentence by cosine plus weighted lexical overlap with the question."""
        first, last = self.chunk_sentences[chunk_index]
        if last <= first:
            return float(self.data.chunk_vectors[chunk_index] @ vector)
        cosines = self.data.sentence_vectors[first:last] @ vector
        return max(float(c) + lexical_weight * self.lexical_overlap(terms, first + i) for i, c in enumerate(cosines))
