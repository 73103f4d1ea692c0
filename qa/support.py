"""Does a passage support the question's particulars? Evidence for the reader's confidence, by general rules.

A passage on the right topic may still not answer: the question names a year, a place or a person the passage
does not mention, or asks "when" and the best span is no date. Two kinds of evidence, cheap enough for every
candidate: how much of the question's particulars (names, numbers, dates) a text holds, and whether a span is of
the kind the question asks for. Nothing here knows any article or question; the calibration weighs it.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["date", "number", "person", "place", "any"]

_WORD = re.compile(r"[\w'’-]+")
_ASKING = frozenset({"who", "whom", "whose", "when", "where", "why", "how", "what", "which", "did", "does", "do",
                     "is", "was", "are", "were", "in", "on", "at", "the", "a", "an", "and", "of", "for", "to"})
MONTHS = ("january february march april may june july august september october november december "
          "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_DATE_WORDS = frozenset(MONTHS + "monday tuesday wednesday thursday friday saturday sunday today yesterday "
                                 "tomorrow week weeks month months year years decade decades century centuries ago "
                                 "spring summer autumn fall winter morning evening night noon midnight".split())
_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                          "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                          "hundred hundreds thousand thousands million millions billion billions trillion dozen dozens "
                          "half quarter percent first second third fourth fifth several few".split())
_KINDS: list[tuple[Kind, re.Pattern]] = [
    ("date", re.compile(r"^(when\b|(in|on|by|since|until)?\s*(what|which)\s+(year|date|day|month|decade|century|time)"
                        r"\b|what\s+(year|date|day|month)\b|how\s+long\s+ago\b)", re.I)),
    ("number", re.compile(r"^(how\s+(many|much|old|far|tall|long|big|large|high|heavy)\b|(what|which)\s+(number|"
                          r"percentage|percent|amount|proportion|share|price|cost|sum|total|age|size|score)\b)",
                          re.I)),
    ("person", re.compile(r"^(who|whom)\b", re.I)),
    ("place", re.compile(r"^(where\b|(in|at|from|to)?\s*(what|which)\s+(city|town|country|state|place|region|"
                         r"village|province|county|continent|location|capital|nation|area)\b)", re.I)),
]


def particulars(question: str) -> tuple[str, ...]:
    """The question's names, numbers and dates, lower-cased: capitalised words after its first word (a name, a
    place, a month) and every word holding a digit."""
    found = []
    for i, match in enumerate(_WORD.finditer(question)):
        word = match.group(0)
        lower = word.lower()
        if any(ch.isdigit() for ch in word) or (i > 0 and word[0].isupper() and lower not in _ASKING):
            found.append(lower)
    return tuple(dict.fromkeys(found))


def coverage(terms: tuple[str, ...], text: str) -> float:
    """The share of ``terms`` that ``text`` holds as words (1.0 when the question names nothing in particular)."""
    if not terms:
        return 1.0
    words = {w.lower() for w in _WORD.findall(text)}
    return sum(1 for t in terms if t in words) / len(terms)


def expected_kind(question: str) -> Kind:
    """What kind of span the question asks for, by its opening words."""
    text = question.strip()
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return "any"


def kind_match(kind: Kind, span: str) -> float:
    """+1 where the span is of the asked kind, -1 where it plainly is not, 0 where the rule cannot tell."""
    if kind == "any":
        return 0.0
    words = [w.lower() for w in _WORD.findall(span)]
    digits = any(ch.isdigit() for ch in span)
    if kind == "date":
        return 1.0 if digits or any(w in _DATE_WORDS for w in words) else -1.0
    if kind == "number":
        return 1.0 if digits or any(w in _NUMBER_WORDS for w in words) else -1.0
    capitalised = bool(span) and span.lstrip("\"'“‘(")[:1].isupper()
    if kind == "person":
        if digits or any(w in _DATE_WORDS for w in words):
            return -1.0
        return 1.0 if capitalised else 0.0
    return 1.0 if capitalised and not digits else (-1.0 if digits else 0.0)  # place
