"""BM25 over chunks with bm25s, and the tokeniser both sides share.

The tokeniser keeps names and numbers whole ("START-1", "SM-3", "2+2", "12-13") and also indexes their parts,
so "START treaty" still meets "START-1". Lucene's BM25 variant is used because its idf never goes negative:
with a corpus of five articles, Robertson's idf would punish a word that appears in most of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"\w+(?:[-+/.'’]\w+)*", re.UNICODE)
_PARTS = re.compile(r"\w+", re.UNICODE)
STOP_WORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after above below "
    "to from up down in out on off over under again further then once here there when where why how all any both "
    "each few more most other some such no nor not only own same so than too very s t can will just don should now "
    "is are was were be been being have has had having do does did doing i me my we our you your he him his she "
    "her it its they them their what which who whom this that these those am would could ".split()
)


def _stem(word: str) -> str:
    """A light plural/possessive stripper: enough for "proposals" to meet "proposal" without a stemmer package."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    tokens = []
    for match in _TOKEN.finditer(text.lower()):
        word = match.group()
        parts = _PARTS.findall(word)
        if len(parts) > 1:
            tokens.append(word)
        tokens.extend(_stem(p) for p in parts if p not in STOP_WORDS)
    return tokens


class LexicalIndex:
    """BM25 scores of chunks (by position in the index) for a query."""

    def __init__(self, model):
        self._model = model

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import bm25s

        model = bm25s.BM25(method="lucene")
        # An empty token list would make bm25s drop the row and shift every id after it.
        model.index([tokenize(t) or ["\u2400"] for t in texts], show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self._model.vocab_dict]
        if not tokens:
            return np.zeros(self._model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (position, score) pairs with a positive score, best first."""
        scores = self.scores(query)
        k = min(k, len(scores))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
