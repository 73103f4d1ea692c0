"""Check and tidy a question before any model sees it."""

from __future__ import annotations

import re
import unicodedata

from qa.errors import InputError

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")


def clean_question(question: object, max_chars: int) -> str:
    """The question with control and invisible characters removed and white space folded.

    Raises InputError for a non-string, an empty question, or one longer than ``max_chars``.
    """
    if not isinstance(question, str):
        raise InputError(f"a question must be text, not {type(question).__name__}")
    if len(question) > max_chars * 4:  # refuse before doing any work on a megabyte of input
        raise InputError(f"the question is {len(question):,} characters long; the limit is {max_chars:,}")
    # Lone surrogates cannot be encoded and crash tokenisers; control characters only confuse them.
    text = "".join(c for c in question if not (0xD800 <= ord(c) <= 0xDFFF)
                   and (unicodedata.category(c)[0] != "C" or c in "\t\n"))
    text = " ".join(_INVISIBLE.sub("", text).split())
    if not any(c.isalnum() for c in text):
        raise InputError("the question is empty: type a question with words in it")
    if len(text) > max_chars:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {max_chars:,}")
    return text
