"""Features of one answer candidate: does it carry the expected type, where does it stand among the question's
words (in the sentence and in the parse), does it merely repeat the question, how long is it.

What does not depend on the question (the words around a span, its clause, its title, the verbs above it) is
worked out once per sentence, on first use, and kept by the reader (``describe``); a question then costs only set
intersections (``span_features``). Nothing here parses text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.records import Analysis
from qa.candidates import KINDS, Candidate, ParsedCorpus
from qa.question import RELATED, QuestionAnalysis, WhRole, role_of

SPAN_FEATURES = (
    "type_match", "type_partial", "type_noun", "type_noun_inside", "type_noun_near", "no_type", "reason_clause",
    "reason_marker", *(f"kind_{k}" for k in KINDS),
    "question_overlap", "all_in_question", "proximity", "local_overlap", "local_overlap_wide", "clause_overlap",
    "entity_conflict", "log_length", "long", "inner_comma", "agreement", "verb_link", "subject", "object",
    "type_entity_mismatch", "wh_verb", "wh_role", "title_overlap", "modifier", "preposition_match",
    "place_preposition", "manner_word",
)
_PLACE_PREPOSITIONS = {"in", "at", "near", "to", "from", "into", "inside", "outside"}
_TIME_PREPOSITIONS = {"on", "in", "at", "since", "until", "by", "before", "after", "during"}
_STRONG_REASON = {"because", "since", "to", "considering", "order", "bid", "aim"}
NEAR, WIDE, TITLE = 6, 15, 4  # token windows around a span


@dataclass(frozen=True)
class SpanView:
    """The question-independent facts about one candidate."""

    candidate: Candidate
    length: int
    span_keys: frozenset[str]
    content_keys: tuple[str, ...]
    entity_labels: frozenset[str]
    head_key: str
    outer_head_key: str
    first_pos: str
    dep: str
    preposition: str  # the preposition the span hangs from, or ""
    near: frozenset[str]  # keys within NEAR tokens, outside the span
    wide: frozenset[str]
    title: frozenset[str]  # keys of the TITLE tokens before the span
    clause: frozenset[str]  # keys of the span's clause, outside the span
    clause_entities: tuple[tuple[str, str], ...]  # (text lower case, label) of other entities in the clause
    ancestors: tuple[str, ...]  # keys of the three tokens above the span's head
    role: WhRole  # the slot the span fills in the verb above it
    inner_comma: bool  # a comma, or a relative pronoun, inside the span: a phrase with a description added


@dataclass(frozen=True)
class QuestionView:
    """The question-side facts, computed once per question."""

    analysis: QuestionAnalysis
    focus: frozenset[str]
    idf: dict[str, float]
    mass: float
    wh_key: str
    main_verb: str
    asked_labels: frozenset[str]
    asked_text: frozenset[str]
    related: frozenset[str]
    type_noun: str  # the question's type noun as a match key


def view_question(corpus: ParsedCorpus, q: QuestionAnalysis) -> QuestionView:
    focus = frozenset(corpus.key(f) for f in q.focus)
    idf = {f: corpus.lemma_idf.get(f, corpus.unseen_idf) for f in focus}
    return QuestionView(q, focus, idf, sum(idf.values()) or 1.0, corpus.key(q.wh_verb) if q.wh_verb else "",
                        corpus.key(q.main_verb) if q.main_verb else "",
                        frozenset(label for _, label in q.entities), frozenset(text for text, _ in q.entities),
                        RELATED.get(q.answer_type, frozenset()), corpus.key(q.type_noun) if q.type_noun else "")


def describe(corpus: ParsedCorpus, s: int) -> list[SpanView]:
    """Views of every candidate of sentence ``s`` (the feature reader keeps them: they never change)."""
    sentence = corpus.sentences[s]
    analysis = corpus.data.analyses[sentence.doc]
    keys = corpus.lemmas_lower[sentence.doc]
    left, right = corpus.edges[sentence.doc]
    text = corpus.data.documents[sentence.doc].text
    first, last = sentence.first_token, sentence.last_token

    def keys_in(a: int, b: int, c: Candidate) -> frozenset[str]:
        return frozenset(keys[t] for t in range(max(a, first), min(b, last))
                         if not (c.first_token <= t < c.last_token))

    views = []
    for c in corpus.candidates[s]:
        node = _clause_head(analysis, c.head)
        clause_first, clause_last = max(left[node], first), min(right[node] + 1, last)
        clause_entities = tuple(
            (text[e_start:e_end].lower(), label)
            for e_start, e_end, label in corpus.entities_between(sentence.doc, analysis.token_start[clause_first],
                                                                analysis.token_end[clause_last - 1])
            if not (c.start <= e_start and e_end <= c.end))
        governor = analysis.head[c.head]
        span_keys = [keys[t] for t in range(c.first_token, c.last_token) if analysis.pos[t] != "PUNCT"]
        views.append(SpanView(
            candidate=c,
            length=c.last_token - c.first_token,
            span_keys=frozenset(span_keys),
            content_keys=tuple(k for k in span_keys if k.isalnum() or "-" in k),
            entity_labels=frozenset(analysis.ent_type[t] for t in range(c.first_token, c.last_token)) - {""},
            head_key=keys[c.head],
            outer_head_key=keys[governor],
            first_pos=analysis.pos[c.first_token],
            dep=analysis.dep[c.head],
            preposition=keys[governor] if analysis.pos[governor] == "ADP" and governor != c.head else "",
            near=keys_in(c.first_token - NEAR, c.last_token + NEAR, c),
            wide=keys_in(c.first_token - WIDE, c.last_token + WIDE, c),
            title=keys_in(c.first_token - TITLE, c.first_token, c),
            clause=keys_in(clause_first, clause_last, c),
            clause_entities=clause_entities,
            ancestors=_ancestor_keys(analysis, keys, c.head),
            role=role_of(analysis.dep[c.head], analysis.dep[governor], keys[governor]),
            inner_comma=any(analysis.lemma[t] in (",", ";") or analysis.tag[t] in ("WDT", "WP")
                            for t in range(c.first_token + 1, c.last_token - 1)),
        ))
    return views


def _clause_head(analysis: Analysis, head: int) -> int:
    """The head of the clause a span belongs to: its nearest verb, or for a reduced clause ("a US delegation led
    by Rood") the noun it describes. What the question says must hold in that clause, not just nearby."""
    node = head
    for _ in range(5):
        if analysis.pos[node] in ("VERB", "AUX") or analysis.head[node] == node:
            break
        node = analysis.head[node]
    if analysis.dep[node] in ("acl", "relcl") and analysis.head[node] != node:
        node = analysis.head[node]
    return node


def _ancestor_keys(analysis: Analysis, keys: list[str], head: int) -> tuple[str, ...]:
    """The keys of the (up to) three tokens above ``head``, nearest first."""
    ancestors, node = [], head
    for _ in range(3):
        parent = analysis.head[node]
        if parent == node:
            break
        ancestors.append(keys[parent])
        node = parent
    return tuple(ancestors)


def focus_positions(corpus: ParsedCorpus, qv: QuestionView, s: int) -> list[int]:
    """Token indices of the sentence's question words."""
    sentence = corpus.sentences[s]
    keys = corpus.lemmas_lower[sentence.doc]
    return [t for t in range(sentence.first_token, sentence.last_token) if keys[t] in qv.focus]


def span_features(qv: QuestionView, v: SpanView, positions: list[int]) -> np.ndarray:
    """The features of one candidate, in ``SPAN_FEATURES`` order; ``positions`` from ``focus_positions``."""
    q, c, focus, noun = qv.analysis, v.candidate, qv.focus, qv.type_noun

    def share(keys: frozenset[str]) -> float:
        return sum(qv.idf[f] for f in focus & keys) / qv.mass

    in_question = sum(k in focus for k in v.content_keys) / max(len(v.content_keys), 1)
    type_match, type_partial = _type_match(qv, v)
    reason = q.answer_type == "reason"
    distance = min((c.first_token - t if t < c.first_token else t - c.last_token + 1
                    for t in positions if not (c.first_token <= t < c.last_token)), default=40)
    # A clause naming another entity of a kind the question names ("US" where it asks about "Russian").
    conflict = float(any(label in qv.asked_labels and name not in qv.asked_text for name, label in v.clause_entities))
    verb_link = float(any(k in focus or (qv.main_verb and k == qv.main_verb) for k in v.ancestors))
    # Does the span fill the question word's slot: "what could the plans ignite" -> the object of "ignite".
    wh_verb = float(bool(qv.wh_key) and qv.wh_key in v.ancestors)
    values = {
        "type_match": type_match,
        "type_partial": type_partial,
        # "Which ministry": the span is a ministry ("the transport ministry"), holds the word further in ("Arjun
        # Patel, chief economist at ..."), or stands next to it ("economist Arjun Patel", "Patel, the economist").
        "type_noun": float(bool(noun) and noun in (v.head_key, v.outer_head_key)),
        "type_noun_inside": float(bool(noun) and noun not in (v.head_key, v.outer_head_key) and noun in v.span_keys),
        "type_noun_near": float(bool(noun) and noun in v.near),
        "no_type": float(not q.labels and not q.type_noun and not reason),
        "reason_clause": float(reason and c.kind == "clause"),
        "reason_marker": float(reason and c.marker in _STRONG_REASON),
        **{f"kind_{k}": float(c.kind == k) for k in KINDS},
        "question_overlap": in_question,
        "all_in_question": float(in_question >= 0.999),
        "proximity": math.exp(-distance / 4.0),
        # Which of the question's words stand right around the span: "The Russian delegation was to be led by
        # ... Sergei Kislyak" holds "Russian"; the neighbouring "US delegation led by ... John C. Rood" does not.
        "local_overlap": share(v.near),
        "local_overlap_wide": share(v.wide),
        "clause_overlap": share(v.clause),
        "entity_conflict": conflict,
        "log_length": math.log1p(v.length),
        "long": float(v.length > 12),
        # "Arjun Patel, chief economist at ...", "the ministry that forced ...": a name with its description.
        "inner_comma": float(v.inner_comma),
        "agreement": 0.0,  # filled by the reader, which sees every sentence
        "verb_link": verb_link,
        "subject": float(v.dep in ("nsubj", "nsubjpass")),
        "object": float(v.dep in ("dobj", "pobj", "attr", "appos", "oprd")),
        "type_entity_mismatch": float(bool(q.labels) and c.kind == "entity" and c.label not in q.labels | qv.related),
        "wh_verb": wh_verb,
        "wh_role": float(wh_verb > 0 and v.role == q.wh_role),
        # The words right before a name are its title: "Russian Defense Minister [Sergei Shoigu]".
        "title_overlap": len(focus & v.title) / max(len(focus), 1),
        # A name inside a larger noun ("former [Soviet Union] President") is rarely the answer itself.
        "modifier": float(v.dep in ("compound", "amod", "nmod", "poss", "npadvmod")),
        "preposition_match": float(bool(q.wh_preposition) and v.preposition == q.wh_preposition),
        "place_preposition": float((q.answer_type == "place" and v.preposition in _PLACE_PREPOSITIONS)
                                   or (q.answer_type == "time" and v.preposition in _TIME_PREPOSITIONS)),
        "manner_word": float(q.answer_type == "manner" and v.length == 1 and v.first_pos in ("ADJ", "ADV")),
    }
    return np.array([values[name] for name in SPAN_FEATURES], dtype=np.float64)


def _type_match(qv: QuestionView, v: SpanView) -> tuple[float, float]:
    """Does the span carry the type the question asks for: fully (an entity of an asked label, a number for a
    count), or in part (an asked label inside it, or a label the asked type is sometimes given)."""
    q, c = qv.analysis, v.candidate
    type_match = float(bool(q.labels) and ((c.kind == "entity" and c.label in q.labels)
                                           or (c.kind == "number" and q.answer_type == "count")))
    type_partial = float(bool(q.labels) and not type_match and (bool(v.entity_labels & q.labels)
                                                                 or (c.kind == "entity" and c.label in qv.related)))
    return type_match, type_partial
