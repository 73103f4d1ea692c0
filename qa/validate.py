"""Check and tidy a question before any model sees it."""

from __future__ import annotations

import unicodedata

from core.errors import InputError


def _tidy(char: str) -> str:
    """White space of any kind (tab, CR, U+2028, no-break) becomes a space; other control, format, private and
    unassigned characters (NUL, zero-width, bidi marks, lone surrogates) are dropped: they only confuse tokenisers,
    and a lone surrogate cannot even be encoded."""
    if char.isspace():
        return " "
    return "" if unicodedata.category(char).startswith("C") else char


def clean_question(question: object, max_chars: int) -> str:
    """The question with invisible characters removed and white space folded to single spaces.

    Raises InputError for a non-string, a question with no letter or digit (empty, white space, zero-width,
    emoji only), or one longer than ``max_chars``.
    """
    if not isinstance(question, str):
        raise InputError(f"a question must be text, not {type(question).__name__}")
    if len(question) > max_chars * 4:  # refuse before doing any work on a megabyte of input
        raise InputError(f"the question is {len(question):,} characters long; the limit is {max_chars:,}")
    text = " ".join("".join(map(_tidy, question)).split())
    if not text:
        raise InputError("the question is empty: type a question with words in it")
    if not any(c.isalnum() for c in text):
        raise InputError("the question has no letters or digits: type a question with words in it")
    if len(text) > max_chars:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {max_chars:,}")
    return text
