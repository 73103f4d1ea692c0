"""The feature reader's view of the corpus: each sentence's answer candidates, and the parse look-ups they need.

Candidates do not depend on the question, so they are found once, when the feature reader is built, from the
spaCy parse stored at index time (or added when the assistant starts), and a question only scores them. Every
candidate is a ``[start, end)`` span of its article. Only the feature reader builds this; the other readers read
text and need none of it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal, get_args

from core.records import Analysis
from embeddings.lexical import STOP_WORDS
from qa.corpus import Corpus

CandidateKind = Literal["entity", "noun_chunk", "phrase", "clause", "number"]
KINDS: tuple[CandidateKind, ...] = get_args(CandidateKind)  # in order of preference for the same span
# Clause heads and the markers that introduce a reason or purpose.
_CLAUSE_DEPS = {"advcl", "xcomp", "ccomp", "acl", "relcl", "pcomp"}
_REASON_MARKERS = {"because", "since", "as", "so", "to", "for", "considering", "after", "aim", "order", "bid"}
MAX_CANDIDATE_TOKENS = 30
_FUNCTION_POS = {"PRON", "DET", "ADP", "AUX", "PART", "CCONJ", "SCONJ", "PUNCT", "SPACE"}


@dataclass(frozen=True)
class Candidate:
    start: int  # article offsets
    end: int
    kind: CandidateKind
    label: str  # entity label, or "" for other kinds
    first_token: int  # token indices in the article's analysis, [first_token, last_token)
    last_token: int
    head: int  # token index of the span's syntactic root
    marker: str  # for clauses: the word that introduces it ("because", "to"), lower case


@dataclass(frozen=True)
class ParsedSentence:
    """A sentence as the parse sees it: its tokens in its article's analysis, and its content lemmas."""

    doc: int  # index into data.documents
    start: int
    end: int
    first_token: int
    last_token: int
    lemmas: frozenset[str]  # content lemmas as match keys (see ``ParsedCorpus.key``)


class ParsedCorpus:
    """``Corpus`` plus the parse look-ups of the feature reader; sentences are numbered as in ``Corpus``."""

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.data = data = corpus.data
        self.chunk_sentences = corpus.chunk_sentences
        self.unseen_idf = corpus.unseen_idf
        self.sentences: list[ParsedSentence] = []
        self.candidates: list[list[Candidate]] = []
        vocabulary = {lemma.lower().replace(".", "") for a in data.analyses for lemma in a.lemma}
        self._keys: dict[str, str] = {}
        for word in vocabulary:
            self._keys[word] = word_key(word, vocabulary)
        # Token lemmas as match keys: lower case, "U.S." -> "us", "Russian" -> "russia" (see word_key).
        self.lemmas_lower: list[list[str]] = [[self.key(lemma) for lemma in a.lemma] for a in data.analyses]
        self.edges: list[tuple[list[int], list[int]]] = []  # leftmost and rightmost token of each subtree
        self.entity_starts: list[list[int]] = []
        for doc, analysis in enumerate(data.analyses):
            edges = _subtree_edges(analysis.head)
            self.edges.append(edges)
            self.entity_starts.append([e[0] for e in analysis.entities])
            for start, end in analysis.sentences:
                t0 = bisect_left(analysis.token_start, start)
                t1 = bisect_left(analysis.token_start, end)
                lemmas = frozenset(self.lemmas_lower[doc][t] for t in range(t0, t1)
                                   if analysis.pos[t] not in ("PUNCT", "SPACE") and
                                   self.lemmas_lower[doc][t] not in STOP_WORDS)
                self.sentences.append(ParsedSentence(doc, start, end, t0, t1, lemmas))
                self.candidates.append(_candidates(analysis, start, end, t0, t1, edges))
        self.lower_texts = [d.text.lower() for d in data.documents]  # for name look-ups while answering
        n = max(len(self.sentences), 1)
        lemma_frequency: dict[str, int] = {}
        for sentence in self.sentences:
            for lemma in sentence.lemmas:
                lemma_frequency[lemma] = lemma_frequency.get(lemma, 0) + 1
        self.lemma_idf = {lemma: math.log(1 + n / df) for lemma, df in lemma_frequency.items()}

    def lexical_overlap(self, terms: frozenset[str], sentence: int) -> float:
        return self.corpus.lexical_overlap(terms, sentence)

    def key(self, lemma: str) -> str:
        """The form two words share when they should match: see ``word_key``."""
        word = lemma.lower().replace(".", "")
        key = self._keys.get(word)
        return key if key is not None else word

    def entities_between(self, doc: int, start: int, end: int) -> list[tuple[int, int, str]]:
        """The entities of an article inside ``[start, end)``."""
        entities = self.data.analyses[doc].entities
        i = bisect_left(self.entity_starts[doc], start)
        found = []
        while i < len(entities) and entities[i][0] < end:
            if entities[i][1] <= end:
                found.append(entities[i])
            i += 1
        return found


def word_key(word: str, vocabulary: set[str]) -> str:
    """Fold a derived adjective onto the name it comes from when the corpus has that name: "russian" -> "russia",
    "european" -> "europe", "american" -> "america". Questions say "Russia's minister" where articles say
    "Russian minister"; a lemmatiser keeps them apart.
    """
    if len(word) > 4 and word.endswith("s") and word[:-1] in vocabulary:
        word = word[:-1]  # "russians" -> "russian" (a proper noun's plural is often left unlemmatised)
    for suffix in ("ian", "an", "n"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and word[: -len(suffix)] in vocabulary:
            return word[: -len(suffix)]
    return word


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


_PAIRS = {"“": "”", "(": ")", "[": "]"}  # not ‘’: the closing one doubles as an apostrophe


def _balanced(marks: list[str]) -> bool:
    """Do the quotation marks and brackets among a span's punctuation pair up?"""
    if sum(m in ('"', "''", "``") for m in marks) % 2:
        return False
    open_marks: list[str] = []
    for mark in marks:
        if mark in _PAIRS:
            open_marks.append(_PAIRS[mark])
        elif mark in _PAIRS.values():
            if not open_marks or open_marks.pop() != mark:
                return False
    return not open_marks


class _Spans:
    """The candidates of one sentence as they are gathered: each reading trimmed and checked, one per token span
    (the one of the preferred kind, else the first found)."""

    def __init__(self, analysis: Analysis, t0: int, t1: int, edges: tuple[list[int], list[int]]):
        self.analysis, self.t0, self.t1 = analysis, t0, t1
        self.left, self.right = edges
        self.found: dict[tuple[int, int], Candidate] = {}

    def add(self, a: int, b: int, kind: CandidateKind, label: str = "", head: int | None = None,
            marker: str = "") -> None:
        analysis = self.analysis
        a, b = max(a, self.t0), min(b, self.t1)
        a, b = _trim_span(analysis, a, b)
        if b <= a or b - a > MAX_CANDIDATE_TOKENS:
            return
        if all(analysis.pos[t] in _FUNCTION_POS for t in range(a, b)):
            return  # "it", "them", "which": a pronoun or function word names nothing a user could check
        if not _balanced([analysis.lemma[t] for t in range(a, b) if analysis.pos[t] == "PUNCT"]):
            return  # 'a “holistic approach': half a quotation; the reading without the determiner is whole
        key = (a, b)
        if key in self.found and KINDS.index(self.found[key].kind) <= KINDS.index(kind):
            return
        root = head if head is not None and a <= head < b else a
        self.found[key] = Candidate(analysis.token_start[a], analysis.token_end[b - 1], kind, label, a, b, root,
                                    marker)

    def add_phrase(self, a: int, b: int, kind: CandidateKind, head: int, marker: str = "") -> None:
        analysis = self.analysis
        self.add(a, b, kind, head=head, marker=marker)
        # The same phrase without its determiner or possessive: "the two-plus-two format" -> "two-plus-two format".
        trimmed = a
        while trimmed < b and (analysis.pos[trimmed] in ("DET", "PUNCT") or analysis.tag[trimmed] == "PRP$"):
            trimmed += 1
        self.add(trimmed, b, kind, head=head, marker=marker)
        # Shorter readings of a long phrase: up to each right-hand dependent of its head, and up to a comma
        # ("attacks from Iran or North Korea, whose nuclear programs ..." -> "attacks from Iran or North Korea").
        for child in range(head + 1, b):
            if analysis.head[child] == head and child != head:
                self.add(a, self.right[child] + 1, kind, head=head, marker=marker)
        for t in range(head + 1, b):
            if analysis.lemma[t] in (",", ";", "(", "—", "–"):
                self.add(a, t, kind, head=head, marker=marker)
                break


def _candidates(analysis: Analysis, start: int, end: int, t0: int, t1: int,
                edges: tuple[list[int], list[int]]) -> list[Candidate]:
    """Every answer candidate of the sentence ``[start, end)`` (tokens ``[t0, t1)``): its entities, its noun
    chunks, then what each token heads (a phrase, a quantity, a predicate, a clause)."""
    spans = _Spans(analysis, t0, t1, edges)
    _add_entities(spans, start, end)
    _add_noun_chunks(spans, start, end)
    for t in range(t0, t1):
        pos, dep = analysis.pos[t], analysis.dep[t]
        if pos in ("NOUN", "PROPN") and spans.right[t] > t:
            spans.add_phrase(spans.left[t], spans.right[t] + 1, "phrase", t)
        if pos == "NUM":
            _add_numbers(spans, t)
        if pos == "ADJ" and dep in ("acomp", "oprd", "attr", "xcomp", "ccomp"):
            spans.add(t, t + 1, "phrase", head=t)  # a predicate: "considers the proposals to be [inadequate]"
        if dep in _CLAUSE_DEPS or (dep == "prep" and analysis.lemma[t].lower() in ("as", "over", "because")):
            _add_clause(spans, t)
    return list(spans.found.values())


def _add_entities(spans: _Spans, start: int, end: int) -> None:
    analysis = spans.analysis
    for e_start, e_end, label in analysis.entities:
        if start <= e_start and e_end <= end:
            a = bisect_left(analysis.token_start, e_start)
            b = bisect_left(analysis.token_start, e_end)
            head = max(range(a, b), key=lambda t: not (a <= analysis.head[t] < b)) if b > a else a
            spans.add(a, b, "entity", label, head)


def _add_noun_chunks(spans: _Spans, start: int, end: int) -> None:
    analysis = spans.analysis
    for c_start, c_end in analysis.noun_chunks:
        if start <= c_start and c_end <= end:
            a = bisect_left(analysis.token_start, c_start)
            b = bisect_left(analysis.token_start, c_end)
            spans.add_phrase(a, b, "noun_chunk", b - 1)


def _add_numbers(spans: _Spans, t: int) -> None:
    """The number token ``t`` alone, and the quantity it belongs to."""
    analysis, left, right = spans.analysis, spans.left, spans.right
    spans.add(t, t + 1, "number", head=t)
    # The whole quantity: "[about] 640 million [euros]", "more than 31,000 [people]".
    if analysis.dep[t] == "nummod" and analysis.head[t] > t:
        unit = analysis.head[t]
        first_number = next(u for u in range(left[t], t + 1) if analysis.pos[u] == "NUM")
        for a in {left[t], first_number}:
            spans.add(a, right[t] + 1, "number", head=t)
            spans.add(a, unit + 1, "number", head=unit)
    if analysis.head[t] != t and analysis.pos[analysis.head[t]] == "NOUN" and analysis.head[t] == t + 1:
        spans.add(t, t + 2, "number", head=t + 1)
    # A range: "10 to 15", "two or three".
    if t + 2 < spans.t1 and analysis.lemma[t + 1].lower() in ("to", "or", "-", "and") and analysis.pos[t + 2] == "NUM":
        spans.add(t, t + 3, "number", head=t + 2)


def _add_clause(spans: _Spans, t: int) -> None:
    """The clause (or reason phrase) token ``t`` heads, with and without the word that introduces it."""
    analysis = spans.analysis
    a, b = spans.left[t], spans.right[t] + 1
    if analysis.dep[t] == "prep":
        # "because of its opposition": the phrase after the preposition, and the whole.
        inner = t + 2 if t + 2 < b and analysis.lemma[t + 1].lower() == "of" else t + 1
        spans.add_phrase(inner, b, "clause", t, analysis.lemma[t].lower())
        spans.add_phrase(t, b, "clause", t, analysis.lemma[t].lower())
        return
    # The marker may stand a few words in: "in order to cut ...", "in a bid to allay ...".
    at = next((u for u in range(a, min(a + 4, t + 1)) if analysis.lemma[u].lower() in _REASON_MARKERS), a)
    marker = analysis.lemma[at].lower() if at < spans.t1 else ""
    if marker in _REASON_MARKERS and at == a:
        spans.add_phrase(a + 1, b, "clause", t, marker)  # "because it ..." -> "it ..."
        spans.add_phrase(a, b, "clause", t, marker)  # "to allay ..." stays whole
    elif marker in _REASON_MARKERS:
        spans.add_phrase(a, b, "clause", t, marker)  # "in order to cut ..."
        to = next((u for u in range(at, min(at + 4, t + 1)) if analysis.tag[u] == "TO"), None)
        if to is not None:
            spans.add_phrase(to, b, "clause", t, "to")  # and "to cut ..."
    else:
        spans.add_phrase(a, b, "clause", t, marker)
