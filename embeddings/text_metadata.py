"""What a plain-text article says about itself at its top: its headline, its dateline's date, its source and its
byline's author.

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
# Numeric dates ("12/10/2007", "03.04.2024"): day and month in the site's own order, which the number alone does
# not say; the article's spelled-out month and day ("MOSCOW, October 12") or a part over 12 decides it.
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4})\b")
_MONTH_DAYS = (
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})\b", re.IGNORECASE), ("month", "day")),
    (re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\b", re.IGNORECASE), ("day", "month")),
)
# A wire dateline's agency: "MOSCOW, October 12 (RIA Novosti) -", "New York (CNN) --", "(CNN) --"; the place's
# words are capitalised, and the line may open with the time stamp a site prints before it. It names the source of
# 627 of 638 CNN stories (587 "CNN", the rest its partners'); the other 11 name none.
_DATELINE_AGENCY = re.compile(r"^[\d/.:\s]*(?:[A-Z][\w.'’-]*(?:[\s,]+[A-Z][\w.'’-]*)*,?[^()\n]{0,30}?\s*)?"
                              r"\(([A-Z][\w&+.'’ -]{0,40}?)\)\s*(?:--|[-–—])")
# A dateline opening a paragraph, up to its dash: "MOSCOW, August 8 (RIA Novosti) – ", "WASHINGTON (CNN) -- ".
_DATELINE_OPENING = re.compile(r"^[A-Z][A-Z .'’-]+(?:,[^()\n–—-]{0,40}(?:\s*\([^()\n]{1,40}\))?"
                               r"|\s*\([^()\n]{1,40}\))\s*(?:--|[-–—])\s+")
# Where a dateline or a date line puts its date: before a dash, a parenthesis, a time or the end of the line
# ("MOSCOW, Oct. 12, 2007 –", "12/10/2007 18:35", "September 23, 2009"), or after a line's "Posted", "Published".
# A date followed by more of a sentence ("On April 6, 1994 a plane crashed") is an event the article reports: 18 of
# 20 dates the top lines of 638 CNN stories gave were such events.
_AFTER_DATE = re.compile(r"\s*(?:$|--|[-–—|/(]|,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\b)")
_DATE_WORD = re.compile(r"^\W*(?:last\s+)?(?:posted|published|updated|date)\b\W*(?:on\s+)?$", re.IGNORECASE)
_BYLINE = re.compile(r"^By\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,4})(?:\s*,\s*(.+))?$")
_NAME_WORD = re.compile(r"^(?:[A-Z][\w.&'’-]*|of|and|for|the|de|on)$")
SOURCE_WORDS = (2, 6)  # "Associated Press", "American Forces Press Service"
# Lines that open like site furniture: a site-name suffix ("- Sputnik International"), a byline, a copyright.
_FURNITURE_START = re.compile(r"^(?:[-–—|•·©]\s|by\s|posted\b|updated\b|published\b|copyright\b)",
                              re.IGNORECASE)
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


def without_dateline(line: str) -> str:
    """``line`` without the dateline that opens it: an article's first words, where it has no headline, are its
    news, not the place and agency every story of that wire opens with."""
    opening = _DATELINE_OPENING.match(line)
    return line[opening.end():] if opening else line


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
    None: a date without a year, or one deep in a paragraph, is not the article's. A numeric date counts where its
    order is certain: a part over 12, or the article's own spelled-out month and day agreeing with one reading
    ("12/10/2007 18:35 MOSCOW, October 12"); "03/04/2024" alone is March 4 in one country and 3 April in another."""
    lines = top_lines(text)
    spelled = None
    for line in lines:
        head = line[:DATELINE_CHARS]
        for pattern, order in _DATES:
            for match in pattern.finditer(head):
                found = _iso(dict(zip(order, match.groups()))) if _placed(line, match) else None
                if found is not None:
                    return found
        for match in _NUMERIC_DATE.finditer(head):
            if not _placed(line, match):
                continue
            spelled = _month_days(lines) if spelled is None else spelled
            found = _numeric(match.group(1), match.group(3), match.group(4), spelled)
            if found is not None:
                return found
    return None


def _placed(line: str, match: re.Match) -> bool:
    return bool(_AFTER_DATE.match(line, match.end()) or _DATE_WORD.match(line[:match.start()]))


def _month_days(lines: list[str]) -> set[tuple[int, int]]:
    """(month, day) of every spelled-out date at the start of the top lines, with or without its year."""
    found = set()
    for line in lines:
        for pattern, order in _MONTH_DAYS:
            for match in pattern.finditer(line[:DATELINE_CHARS]):
                parts = dict(zip(order, match.groups()))
                found.add((_month_number(parts["month"]), int(parts["day"])))
    return found


def _numeric(first: str, second: str, year: str, spelled: set[tuple[int, int]]) -> str | None:
    readings = {found for found in (_iso({"month": first, "day": second, "year": year}),
                                    _iso({"day": first, "month": second, "year": year})) if found is not None}
    if len(readings) > 1:
        readings = {found for found in readings if (int(found[5:7]), int(found[8:10])) in spelled}
    return readings.pop() if len(readings) == 1 else None


def source_of(text: str) -> str | None:
    """The agency or publisher the article names at its top, else None, by the first rule that finds one: a wire
    dateline's agency ("MOSCOW, October 12 (RIA Novosti) -", "(CNN) --"); the name under or after a byline ("By
    Linda D. Kozaryn" then "American Forces Press Service"); a short name line the top lines repeat (a site prints
    its name above the headline and again in the byline)."""
    lines = [line for line in top_lines(text) if len(line) <= BODY_LINE_CHARS or _DATELINE_AGENCY.match(line)]
    for line in lines:
        match = _DATELINE_AGENCY.match(line)
        if match and (agency := match.group(1).strip()):
            return agency
    for i, line in enumerate(lines):
        byline = _BYLINE.match(line)
        if byline:
            after = byline.group(2) or (lines[i + 1] if i + 1 < len(lines) else "")
            if _is_name(after):
                return after
    counts = Counter(lines)
    return next((line for line in lines if counts[line] > 1 and _is_name(line)), None)


def author_of(text: str) -> str | None:
    """The name in the first byline of the top lines ("By Linda D. Kozaryn"), else None."""
    for line in top_lines(text):
        if len(line) > BODY_LINE_CHARS:
            break
        byline = _BYLINE.match(line)
        if byline and byline.group(1).split()[0] != "The":  # "By The Associated Press" names an agency
            return byline.group(1)
    return None


def _is_name(line: str) -> bool:
    """A publisher's name: a few capitalised words, no sentence, no date."""
    words = line.split()
    return (SOURCE_WORDS[0] <= len(words) <= SOURCE_WORDS[1] and all(_NAME_WORD.match(w) for w in words)
            and words[0][0].isupper() and not line.endswith(_NOT_HEADLINE_END) and dateline_date(line) is None)


def _month_number(month: str) -> int:
    return next(i for i, name in enumerate(_MONTH_NAMES, 1) if name.startswith(month.lower().rstrip(".")[:3]))


def _iso(parts: dict[str, str]) -> str | None:
    month = parts["month"]
    month = int(month) if month.isdigit() else _month_number(month)
    try:
        date = datetime.date(int(parts["year"]), month, int(parts["day"]))
    except ValueError:  # "February 30" or a number that is not a day
        return None
    return date.isoformat() if 1900 <= date.year <= 2100 else None
