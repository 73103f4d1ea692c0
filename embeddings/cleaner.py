"""Find an article's body: the line spans worth indexing, leaving site furniture out.

Furniture is recognised by general rules, not by a list of known strings:
- short lines without sentence punctuation (menus, buttons, bylines, section labels: "Subscribe", "Chats");
- lines built around web boilerplate phrases (comment prompts, mailing lists, donations, log-in, cookies);
- lines that repeat across articles of the same corpus (a site's footer appears in every article it serves);
- lines mostly in another script than the article's (a widget's Cyrillic caption in an English article).
Bylines ("By Jane Doe") are short and unpunctuated too, but say who wrote the article, so they are kept.
The spans are offsets into ``Document.text``; nothing is rewritten, so offsets downstream stay exact.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*\s*$|[\"”’]\s*$")
# Web boilerplate vocabulary: each pattern is a kind of furniture, not one site's wording.
_BOILERPLATE = re.compile(
    r"\b(leave a (reply|comment)|post a comment|no comments|enter your (comment|name|e-?mail)|comments? (are )?closed"
    r"|mailing list|newsletter|subscribe|unsubscribe|sign (in|up)|log ?in\b|register\b|make a (charitable )?donation"
    r"|donate|cookies?\b|privacy policy|terms of (use|service)|all rights reserved|share (this|on)|follow us"
    r"|click here|read more|also read|advertisement|related (articles|stories)|stay tuned)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:[Bb]y|[Ww]ritten by|[Rr]eported by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}$")
SHORT_LINE_WORDS = 8  # a line with fewer words and no sentence punctuation is a label, not prose
BOILERPLATE_LINE_WORDS = 14  # boilerplate phrases only mark lines this short: in prose they are just words


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str


def lines_of(text: str) -> list[Line]:
    """Non-blank lines with their offsets, trimmed of surrounding white space."""
    lines = []
    for match in _LINE.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        lines.append(Line(start, start + len(stripped), stripped))
    return lines


def line_key(text: str) -> str:
    """What two lines share when they are 'the same line' in two articles."""
    return " ".join(_WORD.findall(text.lower()))


def repeated_lines(texts: list[str], min_documents: int = 2) -> frozenset[str]:
    """Keys of lines that occur in at least ``min_documents`` of the texts (site headers and footers)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({line_key(line.text) for line in lines_of(text)})
    return frozenset(key for key, n in counts.items() if n >= min_documents and key)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def dominant_script(text: str) -> str:
    counts = Counter(_script(c) for c in text if c.isalpha())
    return counts.most_common(1)[0][0] if counts else ""


def _is_foreign_script(text: str, script: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(_script(c) != script for c in letters) > len(letters) / 2


def is_furniture(line: str, repeated: frozenset[str] = frozenset(), script: str = "LATIN") -> bool:
    words = _WORD.findall(line)
    if not any(c.isalpha() for c in line):
        return True
    if script and _is_foreign_script(line, script):
        return True
    if is_boilerplate(line, repeated):
        return True
    if _BYLINE.match(line):  # "By Linda D. Kozaryn": who wrote it is part of the article
        return False
    return len(words) < SHORT_LINE_WORDS and not _SENTENCE_END.search(line)


def is_boilerplate(line: str, repeated: frozenset[str] = frozenset()) -> bool:
    """A line of site furniture by its wording or its repetition across articles (not merely short: a headline
    is short too). Long lines are prose even when repeated: two sites can carry the same wire story."""
    words = _WORD.findall(line)
    return len(words) < BOILERPLATE_LINE_WORDS and (line_key(line) in repeated or bool(_BOILERPLATE.search(line)))


def body_spans(text: str, repeated: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """The ``[start, end)`` spans of the lines that belong to the article's body, in order.

    An article made only of lines that look like furniture keeps them all: indexing something beats losing it.
    """
    script = dominant_script(text)
    lines = lines_of(text)
    body = [(line.start, line.end) for line in lines if not is_furniture(line.text, repeated, script)]
    return body or [(line.start, line.end) for line in lines]
