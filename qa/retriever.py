"""Find the chunks that answer a question: dense and lexical lists, fused, then re-scored by sentence.

Dense search finds paraphrases; BM25 finds rare names and numbers the embedder blurs ("SM-3", "START-1").
Reciprocal rank fusion merges the two lists without calibrating their scores against each other. The fused
candidates are then re-scored by their best sentence: its cosine with the question (sentence vectors stored at
index time) plus the share of the question's idf-weighted terms it holds. One sentence answers a factoid question,
and a chunk's average meaning, or its word counts spread over eight sentences, can hide it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from core.config import Settings
from core.records import Hit
from embeddings.lexical import tokenize
from qa.corpus import Corpus

SENTENCE_LEXICAL_WEIGHT = 1.0  # lexical overlap against cosine in a sentence's score (fitted on the tune split)
RRF_TIE_BREAK = 0.01  # fused rank only orders candidates whose sentences score the same
DUPLICATE_COSINE = 0.97  # chunks this alike say the same thing; the later one is dropped
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")  # a year a question names: "at the October 2007 talks"


@dataclass(frozen=True)
class Retrieval:
    """One question's ranked hits, and the milliseconds each stage took (``dense``, ``lexical``, ``fusion``)."""

    hits: list[Hit]
    timings_ms: dict[str, float]


class Retriever:
    """``retrieve_batch(questions, vectors)`` -> a ``Retrieval`` (ranked hits and timings) per question."""

    def __init__(self, corpus: Corpus, settings: Settings):
        self.corpus = corpus
        self.data = corpus.data
        self.settings = settings

    def retrieve_batch(self, questions: list[str], vectors: np.ndarray, allowed: frozenset[int] | None = None,
                       prefer: list[str | None] | None = None) -> list[Retrieval]:
        """``allowed``: the only chunk indices that may be returned (a publication window), None for all.
        ``prefer``: per question, the article a follow-up leans on (the previous answer's), or None: its passages
        are all candidates and score ``Settings.followup_article_bonus`` higher."""
        n_chunks = len(self.data.chunks)
        if n_chunks == 0 or (allowed is not None and not allowed):
            return [Retrieval([], {"dense": 0.0, "lexical": 0.0, "fusion": 0.0}) for _ in questions]
        k = min(self.settings.retrieve_k, n_chunks)
        # A filter drops candidates after the search, so the search looks further, in proportion to what it keeps.
        search_k = k if allowed is None else min(n_chunks, k * max(1, round(n_chunks / len(allowed))))
        dense_lists, dense_ms = self._dense(vectors, k, search_k, allowed)
        results = []
        for qi, question in enumerate(questions):
            lexical, lexical_ms = self._lexical(question, k, search_k, allowed)
            started = time.perf_counter()
            preferred = self._preferred(None if prefer is None else prefer[qi], allowed)
            hits = self._fuse(question, vectors[qi], dense_lists[qi], lexical, preferred, self._dated_in(question))
            results.append(Retrieval(hits, {"dense": dense_ms, "lexical": lexical_ms,
                                            "fusion": (time.perf_counter() - started) * 1000}))
        return results

    def _dense(self, vectors: np.ndarray, k: int, search_k: int,
               allowed: frozenset[int] | None) -> tuple[list[list[int]], float]:
        """Each question's top ``k`` chunk indices by cosine, and the search's milliseconds per question."""
        started = time.perf_counter()
        dense_lists: list[list[int]] = [[] for _ in vectors]
        if self.settings.dense:
            _, ids = self.data.dense.search(np.ascontiguousarray(vectors, dtype=np.float32), search_k)
            dense_lists = [[int(i) for i in row if i >= 0 and (allowed is None or int(i) in allowed)][:k]
                           for row in ids]
        return dense_lists, (time.perf_counter() - started) * 1000 / max(len(vectors), 1)

    def _lexical(self, question: str, k: int, search_k: int,
                 allowed: frozenset[int] | None) -> tuple[list[int], float]:
        """The question's top ``k`` chunk indices by BM25, and the milliseconds it took."""
        started = time.perf_counter()
        lexical = [i for i, _ in self.data.lexical.search(question, search_k)
                   if allowed is None or i in allowed][:k] if self.settings.lexical else []
        return lexical, (time.perf_counter() - started) * 1000

    def _preferred(self, doc_id: str | None, allowed: frozenset[int] | None) -> frozenset[int]:
        """The chunk indices of the article a follow-up leans on, when the bonus is on and the window allows them."""
        doc = None if doc_id is None else self.corpus.doc_index.get(doc_id)
        if doc is None or self.settings.followup_article_bonus == 0:
            return frozenset()
        return frozenset(i for i in range(*self.corpus.chunk_ranges[doc]) if allowed is None or i in allowed)

    def _dated_in(self, question: str) -> frozenset[str]:
        """The articles published in a year the question names, when ``Settings.year_bonus`` is on."""
        years = frozenset(YEAR.findall(question)) if self.settings.year_bonus else frozenset()
        if not years:
            return frozenset()
        return frozenset(d.doc_id for d in self.data.documents if d.published and d.published[:4] in years)

    def _fuse(self, question: str, vector: np.ndarray, dense: list[int], lexical: list[int],
              preferred: frozenset[int] = frozenset(), dated: frozenset[str] = frozenset()) -> list[Hit]:
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, chunk_index in enumerate(ranking, start=1):
                fused[chunk_index] = fused.get(chunk_index, 0.0) + 1.0 / (self.settings.rrf_k + rank)
        for chunk_index in preferred:  # a follow-up's own article may hold its answer in words neither list found
            fused.setdefault(chunk_index, 0.0)
        candidates = list(fused)
        if not candidates:
            return []
        scores = np.array([fused[c] for c in candidates]) * self.settings.rrf_k / 2  # 1.0 = top of both lists
        if self.settings.sentence_rescoring:
            terms = frozenset(tokenize(question))
            best_sentence = np.array([self.corpus.best_sentence_score(c, vector, terms, SENTENCE_LEXICAL_WEIGHT)
                                      for c in candidates])
            scores = best_sentence + RRF_TIE_BREAK * scores
        if preferred:
            scores = scores + self.settings.followup_article_bonus * np.array([c in preferred for c in candidates])
        if dated:
            scores = scores + self.settings.year_bonus * np.array([self.data.chunks[c].doc_id in dated
                                                                   for c in candidates])
        order = np.argsort(-scores, kind="stable")
        hits: list[Hit] = []
        kept_vectors: list[np.ndarray] = []
        for position in order:
            chunk_index = candidates[position]
            chunk_vector = self.data.chunk_vectors[chunk_index]
            if any(float(chunk_vector @ v) >= DUPLICATE_COSINE for v in kept_vectors):
                continue
            kept_vectors.append(chunk_vector)
            hits.append(Hit(self.data.chunks[chunk_index], float(scores[position]), len(hits) + 1))
        return hits
