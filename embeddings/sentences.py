"""Sentence boundaries by rule: what every reader needs, at a small fraction of a parser's cost.

Splitting is the only part of the linguistic analysis the trained reader and the retriever use (sentences are
what gets encoded, chunked and read), so it must not cost a parse. A sentence ends at ``.``, ``!`` or ``?`` (and
any closing quotes or brackets after it) when white space and a capital, a digit or an opening quote follow,
unless the word before the point is an abbreviation ("Mr.", "Oct.", "Gen."), an initial ("John F. Kennedy") or
a dotted acronym ("U.S."); it also ends where a lower-case word's point runs into a capitalised word with no
space ("in mind.I have"). A line break ends a sentence after end punctuation, and after a line much shorter than
its paragraph's longest (a headline, a label: "Subscribe"), but not inside hard-wrapped prose; a blank
line always does. Agreement with the
full spaCy parse's sentences on the seeds is measured by ``bench/bench_index.py``.
"""

from __future__ import annotations

import re

# Words that end with a point without ending a sentence: titles, months, places, corporate and Latin forms.
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof gen col lt sgt capt cmdr adm maj rep sen gov pres rev hon fr st mt ft jr sr
inc co corp ltd llc plc bros dept univ assn est approx
jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
no nos vol vols pp fig figs ch sec art ed eds op cit vs etc al cf ca
ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa
tenn tex va vt wash wis wyo
""".split())

_END = re.compile(r"[.!?]+[\"'”’)\]]*")
_NEXT_STARTS = re.compile(r"[ \t\u00a0]+(?=[\"'“‘(\[]*[A-Z0-9])")
# Sentences run together without a space ("in mind.I have two"), common in user-written text.
_GLUED = re.compile(r"(?<=[a-z]{2})[.!?]+(?=[A-Z](?![A-Z.]))")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?$")
_LINE_END_PUNCTUATION = ".!?\"”’:;"
# A line under this share of its paragraph's longest line, and under HEADLINE_CHARS, is a headline or a label
# ("Subscribe") above the text, not a line of wrapped prose.
SHORT_LINE = 0.6
HEADLINE_CHARS = 100


def split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` of ``text[start:end]`` (one body block), trimmed of white space."""
    sentences: list[tuple[int, int]] = []
    for lines in _paragraphs(text, start, end):
        longest = max(e - s for s, e in lines)
        current = None
        for i, (s, e) in enumerate(lines):
            if current is None:
                current = s
            for cut in _cuts_in_line(text, s, e):
                sentences.append((current, cut))
                current = _skip_space(text, cut, e)
            if i == len(lines) - 1 or _line_ends_sentence(text, s, e, lines[i + 1][0], longest):
                if current < e:
                    sentences.append((current, e))
                current = None
    return _merge_wordless(text, sentences)


def sentences_of(text: str, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every sentence of an article's body blocks, in order."""
    return [span for start, end in blocks for span in split_block(text, start, end)]


def _merge_wordless(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A piece with no letter or digit (a "—" line, a lone "...") joins the sentence before it, or the one after
    it at the start of a block, so every body character stays in a sentence (and so in a chunk)."""
    merged: list[tuple[int, int]] = []
    pending = None  # start of wordless pieces before the block's first sentence
    for start, end in spans:
        wordless = not any(c.isalnum() for c in text[start:end])
        if wordless and merged:
            merged[-1] = (merged[-1][0], end)
        elif wordless:
            pending = start if pending is None else pending
        else:
            merged.append((start if pending is None else pending, end))
            pending = None
    if pending is not None:  # nothing but wordless pieces: the block is one "sentence"
        merged.append((pending, spans[-1][1]))
    return merged


def _paragraphs(text: str, start: int, end: int) -> list[list[tuple[int, int]]]:
    """The block's lines, trimmed, grouped into paragraphs (a blank line ends one, and every sentence in it)."""
    paragraphs: list[list[tuple[int, int]]] = [[]]
    cursor = start
    while cursor < end:
        newline = text.find("\n", cursor, end)
        stop = end if newline < 0 else newline
        s, e = _trim(text, cursor, stop)
        if e > s:
            paragraphs[-1].append((s, e))
        elif paragraphs[-1]:
            paragraphs.append([])
        cursor = stop + 1
    return [lines for lines in paragraphs if lines]


def _cuts_in_line(text: str, start: int, end: int) -> list[int]:
    """Offsets inside one line where a sentence ends (just after its closing punctuation)."""
    cuts = []
    for match in _END.finditer(text, start, end):
        after = match.end()
        if after >= end or not _NEXT_STARTS.match(text, after, end):
            continue
        if text[match.start()] == "." and match.end() - match.start() == 1 and _abbreviation(text, start, match.start()):
            continue
        cuts.append(after)
    cuts += [m.end() for m in _GLUED.finditer(text, start, end) if not _abbreviation(text, start, m.start())]
    return sorted(set(cuts))


def _abbreviation(text: str, line_start: int, point: int) -> bool:
    """Is the word just before the point at ``point`` one that ends with a point without ending a sentence?"""
    found = _WORD_BEFORE.search(text, line_start, point)
    if found is None:
        return False
    word = found.group(1)
    if len(word) == 1 and word.isupper():  # an initial: "John F. Kennedy"
        return True
    if "." in word and _ACRONYM.match(word):  # "U.S.", "a.m." (the point after the last letter is this one)
        return True
    return word.lower() in ABBREVIATIONS


def _line_ends_sentence(text: str, start: int, end: int, next_start: int, longest: int) -> bool:
    if text[end - 1] in _LINE_END_PUNCTUATION:
        return True
    if not (text[next_start].isupper() or text[next_start].isdigit() or text[next_start] in "\"“‘'(["):
        return False  # hard-wrapped prose continues in lower case
    return (end - start) < min(SHORT_LINE * longest, HEADLINE_CHARS)


def _skip_space(text: str, cursor: int, end: int) -> int:
    while cursor < end and text[cursor].isspace():
        cursor += 1
    return cursor


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    start = _skip_space(text, start, end)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
