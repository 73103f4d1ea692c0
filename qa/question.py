"""What a question asks for: its question word, the expected answer type, and its focus words.

Only the question is parsed at query time (articles were analysed at index time). The expected type is a set
of spaCy entity labels, or a noun the answer should be an instance of ("which treaty"), or a reason clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from embeddings.lexical import STOP_WORDS

PERSON = frozenset({"PERSON"})
AGENT = frozenset({"PERSON", "ORG", "NORP"})
TIME = frozenset({"DATE", "TIME"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
COUNT = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
# Nouns that, after "what"/"which", name an entity type rather than a thing to look for.
_TYPE_NOUNS = {
    "year": TIME, "date": TIME, "day": TIME, "month": TIME, "time": TIME, "decade": TIME, "century": TIME,
    "city": PLACE, "country": PLACE, "place": PLACE, "capital": PLACE, "location": PLACE, "state": PLACE,
    "nation": PLACE | {"NORP"}, "region": PLACE, "town": PLACE, "continent": PLACE,
    "person": PERSON, "minister": PERSON, "official": PERSON, "leader": PERSON, "president": PERSON,
    "secretary": PERSON, "diplomat": PERSON, "name": PERSON | {"ORG"},
    "organization": frozenset({"ORG"}), "organisation": frozenset({"ORG"}), "agency": frozenset({"ORG"}),
    "alliance": frozenset({"ORG"}), "company": frozenset({"ORG"}), "newspaper": frozenset({"ORG"}),
    "number": COUNT, "amount": COUNT, "percentage": frozenset({"PERCENT"}),
}
_HOW_ADJECTIVES = {"many": COUNT, "much": COUNT, "long": TIME | COUNT, "old": COUNT | TIME, "far": COUNT,
                   "often": TIME | COUNT, "soon": TIME, "large": COUNT, "big": COUNT}
_WH = re.compile(r"\b(who|whom|whose|when|where|why|how|what|which)\b", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    wh: str  # who, when, where, why, how, what, which, or "" for none
    answer_type: str  # person, agent, time, place, count, reason, manner, thing
    labels: frozenset[str]  # entity labels an answer should carry; empty when any span may do
    type_noun: str  # the noun after "what"/"which" ("treaty"), lemmatised
    focus: tuple[str, ...]  # content lemmas, lower case, in order
    focus_text: tuple[str, ...]  # the same words as written, lower case
    main_verb: str  # lemma of the question's main verb other than be/do/have


def analyse_question(text: str, parse) -> QuestionAnalysis:
    """Analyse a question; ``parse`` turns text into a spaCy Doc (``embeddings.analysis.parse``)."""
    doc = parse(text)
    tokens = [t for t in doc if not t.is_space]
    wh_token = next((t for t in tokens if t.lower_ in {"who", "whom", "whose", "when", "where", "why", "how", "what",
                                                       "which"}), None)
    wh = wh_token.lower_ if wh_token is not None else ""
    labels: frozenset[str] = frozenset()
    type_noun = ""
    answer_type = "thing"
    if wh in ("who", "whom", "whose"):
        answer_type, labels = "person", AGENT
    elif wh == "when":
        answer_type, labels = "time", TIME
    elif wh == "where":
        answer_type, labels = "place", PLACE
    elif wh == "why":
        answer_type = "reason"
    elif wh == "how":
        following = tokens[wh_token.i - tokens[0].i + 1] if wh_token.i - tokens[0].i + 1 < len(tokens) else None
        adjective = following.lower_ if following is not None else ""
        if adjective in _HOW_ADJECTIVES:
            answer_type, labels = "count", _HOW_ADJECTIVES[adjective]
        else:
            answer_type = "manner"
    elif wh in ("what", "which"):
        type_noun = _type_noun(wh_token)
        if type_noun in _TYPE_NOUNS:
            labels = _TYPE_NOUNS[type_noun]
            answer_type = {TIME: "time", PLACE: "place", COUNT: "count"}.get(labels, "agent" if "PERSON" in labels
                                                                               or "ORG" in labels else "thing")
        elif type_noun in ("reason", "purpose", "aim", "goal", "cause"):
            answer_type = "reason"
    focus, focus_text = [], []
    for t in tokens:
        if t.is_punct or t.lower_ in STOP_WORDS or t.lower_ in _WH_WORDS or t.lemma_.lower() in ("be", "do", "have"):
            continue
        focus.append(t.lemma_.lower())
        focus_text.append(t.lower_)
    main_verb = next((t.lemma_.lower() for t in tokens if t.pos_ == "VERB" and t.lemma_.lower() not in
                      ("be", "do", "have")), "")
    return QuestionAnalysis(text, wh, answer_type, labels, type_noun, tuple(focus), tuple(focus_text), main_verb)


_WH_WORDS = {"who", "whom", "whose", "when", "where", "why", "how", "what", "which", "many", "much"}


def _type_noun(wh_token) -> str:
    """The noun a "what"/"which" question names: "which treaty", "what kind of approach", "what was the name"."""
    head = wh_token.head
    if wh_token.dep_ == "det" and head.pos_ in ("NOUN", "PROPN"):
        noun = head
    else:
        # "What is the treaty that ...": the subject or attribute noun of the copula.
        noun = next((t for t in wh_token.doc if t.dep_ in ("nsubj", "attr", "nsubjpass") and t.pos_ == "NOUN"
                     and t.i != wh_token.i), None)
        if noun is None:
            return ""
    # "kind of approach", "type of weapons": the noun after "of" is the real type.
    if noun.lemma_.lower() in ("kind", "type", "sort", "form", "name") and any(c.dep_ == "prep" for c in noun.children):
        prep = next(c for c in noun.children if c.dep_ == "prep")
        objects = [c for c in prep.children if c.dep_ == "pobj"]
        if objects and noun.lemma_.lower() != "name":
            noun = objects[0]
    return noun.lemma_.lower()
