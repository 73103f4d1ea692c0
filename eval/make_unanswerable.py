"""Unanswerable questions made by rule from answerable ones (SQuAD 2.0's recipe, done by rule instead of by hand).

Three rules, each checked so the made question has truly lost its support in its passage:

- ``swap``: a name, number or date of the question that the passage holds is replaced by another of the same
  kind (spaCy's entity label) that the passage does not hold: "Who led the *Russian* delegation" -> "Who led the
  *Chinese* delegation", "in *2007*" -> "in *2013*". Values come from the other questions' entities.
- ``antonym``: a word with a clear opposite ("first" -> "last", "largest" -> "smallest") is replaced by the
  opposite, only where the passage never uses the opposite.
- ``negation``: "not" after the question's auxiliary ("Who was *not* elected"), only where the passage holds no
  negation at all.

Pairing a question with same-topic passages that lack its answer (hard negatives) needs the retriever, so it lives
in ``eval.reading_groups``. Everything here is general English; nothing is written for a particular question.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

Rule = Literal["swap", "antonym", "negation"]

# Entity labels whose value a question's support depends on; ordinals, quantities and money are numbers too.
SWAP_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW",
                         "DATE", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})
_PAIRS = [("first", "last"), ("largest", "smallest"), ("highest", "lowest"), ("most", "least"), ("before", "after"),
          ("earliest", "latest"), ("increase", "decrease"), ("increased", "decreased"), ("oldest", "youngest"),
          ("north", "south"), ("east", "west"), ("won", "lost"), ("biggest", "smallest"), ("longest", "shortest"),
          ("maximum", "minimum"), ("best", "worst"), ("older", "younger"), ("larger", "smaller"),
          ("higher", "lower"), ("more", "fewer"), ("win", "lose"), ("rise", "fall"), ("rose", "fell"),
          ("early", "late"), ("top", "bottom"), ("major", "minor"), ("strongest", "weakest"),
          ("richest", "poorest"), ("fastest", "slowest"), ("cheapest", "most expensive"), ("start", "end"),
          ("began", "ended"), ("open", "closed"), ("opened", "closed"), ("accepted", "rejected"),
          ("supported", "opposed"), ("allowed", "banned"), ("male", "female"), ("inside", "outside")]
ANTONYMS = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
AUXILIARIES = frozenset({"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "can", "could",
                         "will", "would", "should"})
NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|without)\b|n't", re.IGNORECASE)
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)$")
_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")


@dataclass(frozen=True)
class Variant:
    question: str
    rule: Rule
    replaced: str  # what the question said
    by: str  # what it says now


def _holds(context: str, value: str) -> bool:
    """Does the passage hold ``value`` as a word (case-insensitive)?"""
    return re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", context, re.IGNORECASE) is not None


def entity_pool(parsed_questions) -> dict[str, list[str]]:
    """Distinct entity texts per label over many parsed questions: what a swap draws its new value from."""
    pool: dict[str, set[str]] = {}
    for doc in parsed_questions:
        for entity in doc.ents:
            if entity.label_ in SWAP_LABELS and 1 <= len(entity.text) <= 40:
                pool.setdefault(entity.label_, set()).add(entity.text)
    return {label: sorted(values) for label, values in pool.items()}


def swap(question: str, doc, context: str, pool: dict[str, list[str]], rng: random.Random) -> Variant | None:
    """Replace one of the question's entities that the passage holds by one of its kind the passage lacks."""
    held = [e for e in doc.ents if e.label_ in SWAP_LABELS and _holds(context, e.text)]
    rng.shuffle(held)
    for entity in held:
        for _ in range(8):
            value = _new_value(entity.text, entity.label_, pool, rng)
            if value and value.lower() != entity.text.lower() and not _holds(context, value) \
                    and not _holds(question, value):
                text = question[:entity.start_char] + value + question[entity.end_char:]
                return Variant(text, "swap", entity.text, value)
    return None


def _new_value(text: str, label: str, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """A year moves by a few years and a plain number changes, so the made question stays plausible; other
    values are drawn from the pool of the same label."""
    if _YEAR.match(text):
        return str(int(text) + rng.choice([-1, 1]) * rng.randint(1, 12))
    if _NUMBER.match(text):
        digits = text.replace(",", "")
        value = float(digits) if "." in digits else int(digits)
        changed = value * rng.choice([0.5, 2, 3, 1.5]) + rng.choice([0, 1, 2])
        return f"{changed:g}" if "." in digits else str(int(changed) if int(changed) != value else value + 1)
    values = pool.get(label)
    return rng.choice(values) if values else None


def antonym(question: str, context: str) -> Variant | None:
    for match in re.finditer(r"[A-Za-z]+", question):
        word = match.group(0)
        opposite = ANTONYMS.get(word.lower())
        if opposite and _holds(context, word) and not _holds(context, opposite):
            replacement = opposite.capitalize() if word[0].isupper() else opposite
            return Variant(question[:match.start()] + replacement + question[match.end():], "antonym", word,
                           replacement)
    return None


def negation(question: str, doc, context: str) -> Variant | None:
    """"Who was elected" -> "Who was not elected", "When did he leave" -> "When did he not leave": "not" goes
    before the main verb that follows the question's auxiliary."""
    if NEGATION.search(context) or NEGATION.search(question):
        return None
    tokens = list(doc)
    for i, token in enumerate(tokens[1:4], start=1):
        if token.lower_ not in AUXILIARIES:
            continue
        verb = next((t for t in tokens[i + 1:] if t.pos_ in ("VERB", "ADJ")), None)
        if verb is None:
            return None
        at = verb.idx
        return Variant(question[:at] + "not " + question[at:], "negation", "", "not")
    return None


def make_variant(question: str, doc, context: str, pool: dict[str, list[str]], rng: random.Random) -> Variant | None:
    """One unanswerable variant of an answerable question, by the first rule that applies (swaps first: they
    are the most natural), or ``None``."""
    return swap(question, doc, context, pool, rng) or antonym(question, context) or negation(question, doc, context)
