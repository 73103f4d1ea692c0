"""Where an answer span begins and ends: the reader's span, mended by rules of English the tune sets showed it
misses. Each rule moves an edge only within the span's own sentence, and only by words the article has there.

- ``trim``: no closing punctuation ("Kislyak." -> "Kislyak", but "U.S." and "Oct." keep their point), and no
  quotation mark or bracket whose partner is outside the span (a quotation is kept whole or not at all).
- ``complete``: a name is given whole ("Ilic" -> "Marta Ilic", "Veskar" -> "Veskar Trade Bank"), a quantity with
  its qualifier ("31,000" -> "more than 31,000"), a range with both ends ("1983" -> "from 1983 until 1992").
"""

from __future__ import annotations

import re

_PAIRED = {'"': '"', "“": "”", "‘": "’", "(": ")", "[": "]", "'": "'"}
# Capitalised words that open a sentence or a clause without being part of a name after them.
_NOT_NAME = frozenset("""a an the this that these those his her its their our my your in on at by for from of to
with and or but as if when while after before since until during under over about into than then there here it he
she they we i you who what which where why how mr mrs ms dr prof sir said says monday tuesday wednesday thursday
friday saturday sunday january february march april may june july august september october november december
""".split())
# A title before a name is where a name's start is looked for no further: "President Marta Ilic" -> "Marta Ilic".
_TITLES = frozenset("""president minister secretary general director chief senator governor mayor king queen prince
princess judge justice professor chairman chairwoman chair spokesman spokeswoman ambassador commander captain
colonel lieutenant sergeant officer deputy vice premier chancellor leader coach manager editor bishop pope rev
lord lady sheikh emir""".split())
_NAME_JOINERS = frozenset({"of", "de", "la", "van", "von", "der", "al", "bin", "el", "du", "da", "di"})
_QUALIFIER = re.compile(r"(?:more than|less than|fewer than|at least|at most|up to|just over|just under|nearly|"
                        r"almost|about|around|roughly|approximately|some|only)\s+$", re.IGNORECASE)
_NUMBER_START = re.compile(r"^[$€£]?\d")
_RANGE_END = re.compile(r"^\s*(?:-|–|to|until|till|through|and)\s+(?:[A-Z][a-z]+\.?\s+)?\d[\d,.]*(?:\s+[A-Z][a-z]+)?")
_RANGE_START = re.compile(r"(?:from|between)\s+$", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"(?<![\w'’.-])([A-Z][\w'’-]*)\s$")
_WORD_AFTER = re.compile(r"^\s([A-Z][\w'’-]*)")


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start:
        if text[end - 1] in ",;:!?":
            end -= 1
            continue
        if text[end - 1] == ".":
            word = text[start:end].split()[-1]
            if "." in word[:-1] or (len(word) <= 4 and word[0].isupper()):
                break
            end -= 1
            continue
        closing = text[end - 1]
        opening = next((o for o, c in _PAIRED.items() if c == closing), None)
        if opening is not None and opening not in text[start:end - 1] and closing != "'":
            end -= 1
            continue
        break
    while start < end and text[start] in _PAIRED and _PAIRED[text[start]] not in text[start + 1:end]:
        start += 1
    return start, end


def complete(text: str, start: int, end: int, sentence: tuple[int, int]) -> tuple[int, int]:
    """The span grown to a whole name, a qualified quantity or a whole range, inside ``sentence`` (its article
    offsets)."""
    lo, hi = sentence
    span = text[start:end]
    if _NUMBER_START.match(span):
        before = text[max(lo, start - 40):start]
        range_end = _RANGE_END.match(text[end:hi])
        if range_end and _RANGE_START.search(before):
            return start - len(_RANGE_START.search(before).group(0)), end + range_end.end()
        qualifier = _QUALIFIER.search(before)
        if qualifier:
            return start - len(qualifier.group(0)), end
        return start, end
    if not _is_name(span):
        return start, end
    while True:  # leftwards: "Marta" before "Ilic"
        match = _WORD_BEFORE.search(text[max(lo, start - 40):start])
        if not match or match.group(1).lower() in _NOT_NAME | _TITLES:
            break
        start -= len(match.group(0))
    while True:  # rightwards: "Trade Bank" after "Veskar"
        match = _WORD_AFTER.match(text[end:min(hi, end + 40)])
        if not match or match.group(1).lower() in _NOT_NAME | _TITLES:
            break
        end += len(match.group(0))
    return start, end


def _is_name(span: str) -> bool:
    """Every word capitalised (joiners such as "of" and "de" aside): a name or a title, not a phrase."""
    words = span.split()
    return bool(words) and len(words) <= 4 and all(w[0].isupper() or w in _NAME_JOINERS for w in words) \
        and words[0].lower() not in _NOT_NAME | _TITLES and not any(ch.isdigit() for ch in span)
