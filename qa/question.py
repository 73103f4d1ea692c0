"""What a question asks for: its question word, the expected answer type, and its focus words.

Only the question is parsed at query time (articles were analysed at index time). The expected type is a set
of spaCy entity labels, or a noun the answer should be an instance of ("which treaty"), or a reason clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from embeddings.lexical import STOP_WORDS

# The words that ask; a question holds at most one that counts (the first).
WH_WORDS = frozenset({"who", "whom", "whose", "when", "where", "why", "how", "what", "which"})
AnswerType = Literal["person", "agent", "time", "place", "count", "reason", "manner", "thing"]
# The slot a phrase fills in its verb (a passive's agent is its subject); "" where no verb was found.
WhRole = Literal["subject", "object", "other", ""]
PERSON = frozenset({"PERSON"})
# Labels an answer of each type may also carry, less often: "who" is a person, sometimes an organisation.
RELATED = {"person": frozenset({"ORG", "NORP", "GPE"}), "time": frozenset({"CARDINAL"}),
           "place": frozenset({"ORG", "NORP"}), "count": frozenset({"DATE", "TIME"}), "agent": frozenset({"GPE"})}
TIME = frozenset({"DATE", "TIME"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
COUNT = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
ORG = frozenset({"ORG"})
LAW = frozenset({"LAW"})
EVENT = frozenset({"EVENT"})
FACILITY = frozenset({"FAC", "ORG", "GPE", "LOC"})
PRODUCT = frozenset({"PRODUCT", "ORG"})
WORK = frozenset({"WORK_OF_ART", "EVENT", "PRODUCT"})
# Any proper name: the answer of "what is the plan called", "what is the name of the drug".
NAMED = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "NORP"})


def _nouns(labels: frozenset[str], words: str) -> dict[str, frozenset[str]]:
    return {word: labels for word in words.split()}


# Nouns that, after "what"/"which", name an entity type rather than a thing to look for: a small lexicon of
# everyday English (people by role, organisations, places, facilities, products, events), not of any article.
_TYPE_NOUNS = {
    **_nouns(TIME, "year date day month time decade century week season deadline"),
    **_nouns(PLACE, "city country place capital location state region town continent village province district "
                    "county island area site port border territory neighbourhood neighborhood suburb"),
    **_nouns(frozenset({"LOC", "GPE", "FAC"}), "river sea lake strait waterway mountain crater coast bay ocean "
                                               "valley desert field"),
    **_nouns(FACILITY, "airport station bridge dam plant stadium hospital building prison base mill mine "
                       "factory refinery museum venue square street road highway project"),
    **_nouns(PERSON, "person minister official leader president secretary diplomat man woman politician "
                     "economist judge scientist officer governor mediator chairman chairwoman chair director "
                     "manager coach striker player spokesman spokeswoman spokesperson analyst researcher "
                     "professor doctor lawyer prosecutor general commander ambassador envoy negotiator chief "
                     "head mayor councillor senator lawmaker candidate founder executive ceo author writer "
                     "reporter journalist expert engineer pilot captain astronaut activist representative "
                     "deputy advisor adviser colleague rival opponent winner actor actress"),
    "name": NAMED, "nation": PLACE | {"NORP"}, "nationality": frozenset({"NORP"}),
    **_nouns(ORG, "organization organisation agency alliance company newspaper firm club team party bank ministry "
                  "regulator court union body group institute university council committee commission "
                  "association network coalition carrier airline operator broadcaster department authority "
                  "board charity lab laboratory insurer lender bloc"),
    **_nouns(COUNT, "number amount sum figure total price cost"),
    "percentage": frozenset({"PERCENT"}), "share": frozenset({"PERCENT"}), "proportion": frozenset({"PERCENT"}),
    **_nouns(LAW, "treaty pact accord agreement law act convention bill deal charter"),
    **_nouns(EVENT, "event summit war festival tournament championship conference storm hurricane cyclone"),
    **_nouns(PRODUCT, "drug medicine vaccine rocket launcher satellite spacecraft probe aircraft plane ship vessel "
                      "device app product software model"),
    **_nouns(WORK, "film movie book novel song album prize award"),
    "language": frozenset({"LANGUAGE"}),
}
_HOW_ADJECTIVES = {"many": COUNT | {"DATE"}, "much": COUNT, "long": TIME | COUNT, "old": COUNT | TIME, "far": COUNT,
                   "often": TIME | COUNT, "soon": TIME, "large": COUNT, "big": COUNT}


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    wh: str  # the question word (one of WH_WORDS), or "" for none
    answer_type: AnswerType
    labels: frozenset[str]  # entity labels an answer should carry; empty when any span may do
    type_noun: str  # the noun after "what"/"which" ("treaty"), lemmatised
    focus: tuple[str, ...]  # content lemmas, lower case, in order
    main_verb: str  # lemma of the question's main verb other than be/do/have
    entities: tuple[tuple[str, str], ...] = ()  # (text lower case, label) of the question's named entities
    wh_verb: str = ""  # lemma of the verb the question word hangs from: "ignite" in "what could the plans ignite"
    wh_role: WhRole = ""  # the slot of that verb the answer fills
    wh_preposition: str = ""  # "in" for "In which city ...", "on" for "On what day ..."
    # In a conversation, what the question leans on from earlier turns (their places, times and names, comma
    # separated), as retrieval is given it; "" for a question that stands on its own.
    context: str = ""


def unparsed_question(text: str) -> QuestionAnalysis:
    """The question as readers that need no parse take it: its text, nothing inferred."""
    return QuestionAnalysis(text=text, wh="", answer_type="thing", labels=frozenset(), type_noun="", focus=(),
                            main_verb="")


def analyse_question(text: str, parse) -> QuestionAnalysis:
    """Analyse a question; ``parse`` turns text into a spaCy Doc (``embeddings.analysis.parse``)."""
    doc = parse(text)
    tokens = [t for t in doc if not t.is_space]
    wh_token = next((t for t in tokens if t.lower_ in WH_WORDS), None)
    wh = wh_token.lower_ if wh_token is not None else ""
    labels: frozenset[str] = frozenset()
    type_noun = ""
    answer_type: AnswerType = "thing"
    if wh in ("who", "whom", "whose"):
        answer_type, labels = "person", PERSON
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
        elif any(t.lemma_.lower() in ("call", "name") and t.tag_ in ("VBN", "VBD")
                 and any(c.lemma_ == "be" for c in t.children) for t in tokens):
            answer_type, labels = "agent", NAMED  # "what is the plan called": any proper name will do
    focus = []
    for t in tokens:
        if (t.is_punct or t.tag_ == "POS" or t.lower_ in STOP_WORDS or t.lower_ in _ASKING_WORDS
                or t.lemma_.lower() in ("be", "do", "have")):
            continue
        focus.append(t.lemma_.lower())
    main_verb = next((t.lemma_.lower() for t in tokens if t.pos_ == "VERB" and t.lemma_.lower() not in
                      ("be", "do", "have")), "")
    entities = tuple((e.text.lower(), e.label_) for e in doc.ents)
    wh_verb, wh_role = _wh_slot(wh_token)
    before = doc[wh_token.i - 1] if wh_token is not None and wh_token.i > 0 else None
    preposition = before.lower_ if before is not None and before.pos_ == "ADP" else ""
    return QuestionAnalysis(text, wh, answer_type, labels, type_noun, tuple(focus), main_verb,
                            entities, wh_verb, wh_role, preposition)


def role_of(dep: str, head_dep: str = "", head_lemma: str = "") -> WhRole:
    """A dependency label folded to the slot it fills; a passive's agent ("led by X") is its subject."""
    if dep in ("nsubj", "csubj") or (dep == "pobj" and head_dep == "agent") or \
            (dep == "pobj" and head_lemma == "by"):
        return "subject"
    if dep in ("dobj", "nsubjpass", "attr", "oprd", "dative", "obj"):
        return "object"
    return "other"


def _wh_slot(wh_token) -> tuple[str, str]:
    """The verb the question word (or the phrase it determines) hangs from, and the slot it fills there."""
    if wh_token is None:
        return "", ""
    node = wh_token.head if wh_token.dep_ == "det" else wh_token
    phrase_dep = node.dep_
    head_dep, head_lemma = node.head.dep_, node.head.lemma_.lower()
    for _ in range(4):
        if node.head is node:
            break
        node = node.head
        if node.pos_ in ("VERB", "AUX") and node.lemma_.lower() not in ("do", "be", "have"):
            return node.lemma_.lower(), role_of(phrase_dep, head_dep, head_lemma)
    return "", ""


# Words of the question phrase that name no content: "how many", "how much".
_ASKING_WORDS = WH_WORDS | {"many", "much"}


def _type_noun(wh_token) -> str:
    """The noun a "what"/"which" question names: "which arms pact" -> pact, "what kind of approach" -> approach.

    Read from the words after the question word rather than the parse: a small parser often misreads questions.
    Falls back to the noun of "what is/was the X ..." questions.
    """
    doc = wh_token.doc
    i = wh_token.i + 1
    noun = None
    while i < len(doc) and doc[i].pos_ in ("ADJ", "NOUN", "PROPN", "NUM", "ADV") and not doc[i].is_punct:
        if doc[i].pos_ in ("NOUN", "PROPN"):
            noun = doc[i]
        i += 1
    if noun is None and i < len(doc) and doc[i].lemma_ == "be":
        # "What was the name of ...", "What is the trade deal called": the noun phrase after the copula.
        i += 1
        while i < len(doc) and doc[i].pos_ in ("DET", "ADJ", "NOUN", "PROPN"):
            if doc[i].pos_ in ("NOUN", "PROPN"):
                noun = doc[i]
            elif noun is not None:
                break
            i += 1
        if i < len(doc) and doc[i].lower_ not in ("that", "which", "of", "?"):
            noun = None  # "What is the treaty meant to do": the phrase is the subject, not what is asked for
    if noun is not None and noun.lemma_.lower() in ("kind", "type", "sort", "form", "category", "name") \
            and i + 1 < len(doc) and doc[i].lower_ == "of":
        nouns = []
        for t in doc[i + 1:]:
            if t.pos_ in ("NOUN", "PROPN"):
                nouns.append(t)
            elif nouns or t.pos_ not in ("ADJ", "DET"):
                break
        following = [t for t in doc[i + 1:] if t.pos_ in ("NOUN", "PROPN", "ADJ")]
        if noun.lemma_.lower() != "name" or (nouns and nouns[-1].lemma_.lower() in _TYPE_NOUNS):
            noun = nouns[-1] if nouns else (following[0] if following else noun)
    return noun.lemma_.lower() if noun is not None else ""
