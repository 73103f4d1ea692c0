"""What a plain-text article says about itself at its top: its headline and its dateline's date.

General rules, no rule for a particular site: a saved article opens with site furniture (a site name, a section,
a tagline, a donation banner), then the headline, a byline and a dateline, then the body. A headline is a line of
a few words without a final full stop; the body begins at the first long line, and nothing below it is a headline
(a "related stories" link further down looks like one).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter

from embeddings.cleaner import is_boilerplate

TOP_LINES = 15  # non-empty lines read for a headline or a dateline
BODY_LINE_CHARS = 150  # a line this long is a paragraph: the body has begun
HEADLINE_WORDS = (4, 20)  # fewer is a site or section name ("RIA Novosti"); more is a sentence
DATELINE_CHARS = 80  # a dateline's date sits at the start of its line ("MOSCOW, Oct. 12, 2007 –")

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?" \
         r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATES = (
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE), ("month", "day", "year")),
    (re.compile(rf"\b(\d{{1,2}})\s+{_MONTH},?\s+(\d{{4}})\b", re.IGNORECASE), ("day", "month", "year")),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("year", "month", "day")),
)
# Lines that open like site furniture: a site-name suffix ("- Sputnik International"), a byline, a copyright.
_FURNITURE_START = re.compile(r"^(?:[-–—|•·©]\s|by\s|posted\b|updated\b|published\b|copyright\b)", re.IGNORECASE)
# A headline ends in a word, a quote or a question mark; a full stop, an ellipsis, "!" (a call to action) or ":" (a
# label) ends a tagline, a teaser or a banner.
_NOT_HEADLINE_END = (".", "…", "!", ":", ",", ";")


def metadata_line(value) -> str | None:
    """A metadata field as one line of at most 200 characters, or None: page and PDF metadata can hold newlines,
    runs of spaces or nothing at all."""
    value = " ".join(str(value or "").split())
    return value[:200] or None


def top_lines(text: str) -> list[str]:
    """The first ``TOP_LINES`` non-empty lines, stripped."""
    lines = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) == TOP_LINES:
                break
    return lines


def headline_of(text: str) -> str:
    """The article's headline by the rules above; else its first non-empty line (an article without a headline
    still needs a name), at most 200 characters."""
    return found_headline(text) or first_line(text)


def first_line(text: str) -> str:
    """The first non-empty line, stripped, at most 200 characters."""
    lines = top_lines(text)
    return lines[0][:200] if lines else ""


def found_headline(text: str) -> str | None:
    """The article's headline by the rules above, or None when none of its top lines is one."""
    counts = Counter(line.strip() for line in text.splitlines())
    for line in top_lines(text):
        if len(line) > BODY_LINE_CHARS:
            break
        if _is_headline(line, counts[line]):
            return line[:200]
    return None


def _is_headline(line: str, occurrences: int) -> bool:
    words = line.split()
    return (HEADLINE_WORDS[0] <= len(words) <= HEADLINE_WORDS[1]
            and not line.endswith(_NOT_HEADLINE_END)
            and not _FURNITURE_START.match(line)
            and occurrences == 1  # a line the article repeats is its publisher's or section's name
            and dateline_date(line) is None
            and not is_boilerplate(line))


def dateline_date(text: str) -> str | None:
    """The ISO date (YYYY-MM-DD) of a full date (day, month and year) at the start of one of the top lines, else
    None: a date without a year, or one deep in a paragraph, is not the article's."""
    for line in top_lines(text):
        head = line[:DATELINE_CHARS]
        for pattern, order in _DATES:
            for match in pattern.finditer(head):
                found = _iso(dict(zip(order, match.groups())))
                if found is not None:
                    return found
    return None


def _iso(parts: dict[str, str]) -> str | None:
    month = parts["month"]
    if not month.isdigit():
        month = next(i for i, name in enumerate(_MONTH_NAMES, 1) if name.startswith(month.lower().rstrip(".")[:3]))
    try:
        date = datetime.date(int(parts["year"]), int(month), int(parts["day"]))
    except ValueError:  # "February 30" or a number that is not a day
        return None
    return date.isoformat() if 1900 <= date.year <= 2100 else None
