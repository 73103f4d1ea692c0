"""Follow-up questions: turn "And who led the US delegation?" into a question that stands on its own.

A question is a follow-up when it leans on what came before: it opens with "and"/"what about", refers back
("he", "that meeting", "there", "afterwards"), is a fragment with no verb ("And on July 30?", "When?"), or does not
say what it is about (no entity, fewer than two nouns of its own). Anything else starts a new topic and is left
alone ("What is the boiling point of mercury?" after a question about Budapest).

A follow-up is rewritten from the earlier turns (their resolved question, their answer, and the entities of that
answer as its article labels them):

- a fragment that only swaps an entity ("And on July 30?") takes the previous question and swaps the entity of the
  same kind ("Where did the diplomats meet on July 30?");
- a fragment with a question word ("By how many countries?") takes the rest of the previous question
  ("By how many countries was the original CFE Treaty signed?");
- "he"/"she"/"his" become the person the conversation is about: the person who answered a "who" question (or an
  answer that is a name itself), else the person the question named, as its article writes the name when the
  question's own parse missed it ("kislyak"), looking back turn by turn; "there" becomes the place last answered
  or named;
- what the question does not say of the previous turn (its places, times, events and names; its answer when a word
  such as "that" or "they" may stand for it) is added as context after ``CONTEXT_MARK`` ("When was that meeting?
  — US, Budapest"), so retrieval finds the same article while the question itself comes first. Context never
  holds a rival answer: not the previous answer when the question asks for the same kind ("Who led the US
  delegation?" leaves "Kislyak" out), nor an entity the question replaces ("Russian" for "the US delegation").

The rules are grammatical (spaCy's parse and entity labels), never lists of names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from core.errors import InputError
from core.records import Answer, Response
from embeddings.analysis import parse
from embeddings.lexical import STOP_WORDS
from qa.question import WH_WORDS, analyse_question
from qa.validate import clean_question

_OPENERS = re.compile(r"^(and|but|also|so|then|what about|how about|and what about|and how about)\b[\s,]*",
                      re.IGNORECASE)
_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
_BACK_REFERENCES = _PERSON_PRONOUNS | {"it", "its", "they", "them", "their", "that", "this", "those", "these",
                                       "there", "then", "same", "one", "else", "also", "too", "afterwards",
                                       "later", "earlier"}
_THING_REFERENCES = {"it", "its", "they", "them", "their", "that", "this", "those", "these"}
PHRASE = "PHRASE"  # the label of a context term that is a noun phrase or an answer, not an entity
_CONTEXT_LABELS = {"GPE", "LOC", "FAC", "DATE", "EVENT", "ORG", "PERSON", "LAW", "PRODUCT", "WORK_OF_ART", "NORP"}
# What a referring word can stand for: "it"/"that" a thing, place or time but no person; "they" anything.
_REFERENT_LABELS = {
    **{word: (_CONTEXT_LABELS | {PHRASE}) - {"PERSON"} for word in ("it", "its", "that", "this", "those", "these")},
    **{word: _CONTEXT_LABELS | {PHRASE} for word in ("they", "them", "their")},
    "there": {"GPE", "LOC", "FAC"}, "then": {"DATE", "TIME"},
}
_SUBJECT_LABELS = {"GPE", "LOC", "FAC", "DATE", "EVENT", "ORG", "PERSON", "LAW", "NORP"}
_PLACE_LABELS = {"GPE", "LOC", "FAC"}
# Kinds of entity that can stand in for one another: a fragment swaps a date for a date ("And on July 30?"), and
# a question sets "the US delegation" against "the Russian delegation".
_KINDS = {"DATE": "time", "TIME": "time", "GPE": "place", "LOC": "place", "FAC": "place", "NORP": "place",
          "PERSON": "agent", "ORG": "agent"}
# Words a swapping fragment may hold besides its entities: "And the American one?", "What about in Paris?".
_FILLER = {"the", "a", "an", "one", "ones", "in", "on", "at", "for", "of", "by", "from", "to", "with", "during",
           "about", "?", ".", "!", ","}
CONTEXT_MARK = " — "
MAX_CONTEXT_TERMS = 6
MAX_ANSWER_CONTEXT_WORDS = 6  # a longer answer (a clause) is no name for what the conversation is about
_INSIDE_SENTENCE = re.compile(r"[\w,;:]\s")  # what comes before a word that is capitalised as a name, not a sentence
NAME_CONTEXT_CHARS = 200  # the stretch of article around a name that is parsed to label it


@dataclass(frozen=True)
class Mention:
    """An entity of an article (or of a question): its text and spaCy label."""

    text: str
    label: str
    governor: str = ""  # for an entity of a question: the word it hangs from (see ``_governor``)


@dataclass(frozen=True)
class Resolution:
    """A question made self-contained: the rewritten question and the context terms it leans on."""

    question: str
    context: tuple[Mention, ...] = ()

    @property
    def text(self) -> str:
        """What the assistant is asked: the question, then ``CONTEXT_MARK`` and the context terms."""
        if not self.context:
            return self.question
        return f"{self.question}{CONTEXT_MARK}{', '.join(m.text for m in self.context)}"


@dataclass(frozen=True)
class Turn:
    question: str  # as typed
    resolution: Resolution
    response: Response
    # Entities of the best answer, as labelled in its article; None until the next question looks them up.
    answer_mentions: tuple[Mention, ...] | None = ()
    # Entities of the answer's article that the question names, however it spells them ("what was fujimori
    # convicted for" names Alberto Fujimori); looked up with ``answer_mentions``.
    named_mentions: tuple[Mention, ...] = ()


def without_opener(question: str) -> str:
    """``question`` without a leading "and", "but", "what about" and the like."""
    opener = _OPENERS.match(question)
    return question[opener.end():] if opener else question


def resolve(question: str, history: list[Turn], nlp) -> Resolution:
    """The self-contained form of ``question`` given the earlier turns (most recent last).

    ``nlp`` turns text into a spaCy Doc (``embeddings.analysis.parse``). A question that is not a follow-up comes
    back unchanged with no context.
    """
    if not history:
        return Resolution(question)
    opener = _OPENERS.match(question)
    text = question[opener.end():] if opener else question
    if not text.strip(" ?.!,"):  # "And?" alone: ask the previous question again
        return history[-1].resolution
    text = text[:1].upper() + text[1:]
    doc = nlp(text)
    words = {t.lower_ for t in doc}
    wh = next((t for t in doc if t.lower_ in WH_WORDS), None)
    fragment = not any(t.pos_ in ("VERB", "AUX") for t in doc if t is not wh)
    refers_back = bool(words & _BACK_REFERENCES)
    if not (opener or refers_back or fragment or not _names_own_subject(doc)):
        return Resolution(question)

    previous = nlp(history[-1].resolution.question)
    rewritten = None
    if fragment and wh is None:
        rewritten = _swap_entities(doc, previous) or _copula_fragment(doc, previous)
    elif fragment:
        rewritten = _complete_wh_fragment(doc, previous)
    final = nlp(_replace_references(doc if rewritten is None else nlp(rewritten), history, nlp))
    return Resolution(final.text, _context(final, history[-1], previous, nlp))


def _names_own_subject(doc) -> bool:
    """Does the question say what it is about: an entity, or two nouns besides the one naming the kind of answer
    ("the boiling point of mercury" yes; "Which country is to host the radar?" no, "country" is the kind)."""
    if any(e.label_ in _SUBJECT_LABELS for e in doc.ents):
        return True
    nouns = [t for t in doc if t.pos_ in ("NOUN", "PROPN")
             and not any(c.lower_ in WH_WORDS and c.dep_ == "det" for c in t.children)]
    return len(nouns) >= 2


def _context(question, previous_turn: Turn, previous, nlp) -> tuple[Mention, ...]:
    """What the new question does not say of the previous turns, the newest terms first.

    Context names the topic, never a rival answer. Left out: the previous answer when it is of the kind the new
    question asks for (after "Who led the Russian delegation?", "Kislyak" would pull "Who led the US one?" back to
    him), and an entity the new question replaces with one of its own in the same place ("Russian" when it asks
    about "the US delegation").
    """
    asked = analyse_question(question.text, nlp).labels
    replaced = {(_KINDS.get(e.label_), _governor(e)) for e in question.ents}
    lowered = question.text.lower()
    candidates = []
    answer = previous_turn.response.answer
    words = {t.lower_ for t in question}
    # The previous answer is context only when a word of the question may point at it, and only of a kind that
    # word can stand for: "When was that?" after "Lisbon"; but "that meeting" is no person, and after "Where did
    # she hope ...?" → "Washington", "What did she call ...?" is about her, not Washington.
    fits = set()
    for word, labels in _REFERENT_LABELS.items():
        if word in words:
            fits |= labels
    if answer is not None and fits and len(answer.text.split()) <= MAX_ANSWER_CONTEXT_WORDS:
        if previous_turn.answer_mentions:
            candidates.extend(m for m in previous_turn.answer_mentions if m.label not in asked and m.label in fits)
        elif not asked and PHRASE in fits:  # "a key nuclear missile treaty": what "it" may stand for
            candidates.append(Mention(answer.text, PHRASE))
    candidates.extend(Mention(e.text, e.label_, _governor(e)) for e in previous.ents)
    candidates.extend(previous_turn.named_mentions)  # what the question's parse missed (``named_mentions``)
    if words & _THING_REFERENCES:
        # "Who represented the US at them?": "them" may be any thing the previous question named.
        in_entities = {t.i for e in previous.ents for t in e}
        candidates.extend(Mention(_without_determiner(c), PHRASE, _governor(c)) for c in previous.noun_chunks
                          if not any(t.pos_ == "PRON" or t.lower_ in WH_WORDS or t.i in in_entities for t in c))
    candidates.extend(previous_turn.resolution.context)
    context: list[Mention] = []
    for mention in candidates:
        term = _without_possessive(mention.text)
        if (not term or mention.label not in _CONTEXT_LABELS | {PHRASE} or term.lower() in lowered
                or (mention.governor and (_KINDS.get(mention.label), mention.governor) in replaced)
                or any(term.lower() == c.text.lower() for c in context)):
            continue
        context.append(Mention(term, mention.label, mention.governor))
    return tuple(context[:MAX_CONTEXT_TERMS])


def _without_determiner(span) -> str:
    start = span.start + 1 if span[0].pos_ == "DET" else span.start
    return span.doc[start:span.end].text


def _governor(span) -> str:
    """The word an entity hangs from, through a preposition: "delegation" for "the US delegation", "meet" for
    "meet in Paris". Two entities with the same governor play the same part in their questions."""
    head = span.root.head
    if head.pos_ == "ADP" and head.head is not head:
        head = head.head
    return head.lemma_.lower() if head is not span.root else ""


def _without_possessive(term: str) -> str:
    return re.sub(r"['’]s?$", "", term.strip())


def _as_question(text: str) -> str:
    return text.rstrip(" ?.!") + "?"


def _swap_entities(fragment, previous) -> str | None:
    """"And on July 30?" after "Where did they meet on September 10?": the previous question, entity swapped.

    Only for a fragment that holds nothing but entities and filler words; ``None`` when nothing can be swapped.
    """
    ents = [e for e in fragment.ents if e.label_ in _KINDS]
    if not ents:
        return None
    inside = {t.i for e in ents for t in e}
    if any(t.i not in inside and t.lower_ not in _FILLER for t in fragment):
        return None
    text = previous.text
    used: set[int] = set()
    swapped = False
    for exact in (True, False):
        for ent in ents:
            if ent.start in used:
                continue
            target = next((p for p in previous.ents if (p.label_ == ent.label_ if exact else
                                                         _KINDS.get(p.label_) == _KINDS[ent.label_])), None)
            if target is None or target.text not in text:
                continue
            text = text.replace(target.text, ent.text, 1)
            used.add(ent.start)
            swapped = True
    return _as_question(text) if swapped else None


def _wh_phrase_end(doc) -> int | None:
    """Token index just past the question phrase ("By how many countries", "When", "Which treaty")."""
    wh = next((t for t in doc if t.lower_ in WH_WORDS), None)
    if wh is None:
        return None
    # The phrase runs to the first verb or auxiliary after the question word.
    return next((t.i for t in doc[wh.i + 1:] if t.pos_ in ("AUX", "VERB")), None)


def _complete_wh_fragment(fragment, previous) -> str | None:
    """"By how many countries?" after "When was the treaty signed?": "By how many countries was the treaty signed?".

    Needs a previous question whose question word is not its subject (else "When led the delegation?").
    """
    end = _wh_phrase_end(previous)
    wh = next((t for t in previous if t.lower_ in WH_WORDS), None)
    if end is None or wh is None or wh.dep_ in ("nsubj", "nsubjpass") or wh.head.dep_ in ("nsubj", "nsubjpass"):
        return None
    return _as_question(f"{fragment.text.rstrip(' ?.!')} {previous[end:].text}")


def _copula_fragment(fragment, previous) -> str | None:
    """"And his American counterpart?" after "Who was Russia's defense minister?": "Who was his American
    counterpart?" (pronouns are resolved afterwards)."""
    end = _wh_phrase_end(previous)
    if end is None or previous[end].lemma_ != "be":
        return None
    return _as_question(f"{previous[:end + 1].text} {fragment.text[:1].lower()}{fragment.text[1:]}")


def _replace_references(doc, history: list[Turn], nlp) -> str:
    """Personal pronouns become the person the conversation is about; an adverb "there" becomes "in PLACE"."""
    names_person = any(e.label_ == "PERSON" for e in doc.ents)
    person = None if names_person else _antecedent(history, nlp, "person")
    place = _antecedent(history, nlp, "place")
    pieces = []
    for token in doc:
        word = token.lower_
        replacement = None
        if person is not None and word in _PERSON_PRONOUNS and not word.endswith("self"):
            possessive = word in ("his", "hers") or token.dep_ == "poss"
            replacement = f"{person}'s" if possessive else person
        elif place is not None and word == "there" and token.dep_ != "expl":
            replacement = f"in {place}"
        pieces.append((replacement if replacement is not None else token.text) + token.whitespace_)
    text = "".join(pieces)
    return text[:1].upper() + text[1:]


def _antecedent(history: list[Turn], nlp, kind: str) -> str | None:
    """The person (or place) the conversation is about, looking back from the latest turn.

    In each turn, the answer counts first when the turn asked for one ("who ...?" for a person, "where ...?" for a
    place), then the first such entity the resolved question names.
    """
    labels = {"PERSON"} if kind == "person" else _PLACE_LABELS
    asking = {"person", "agent"} if kind == "person" else {"place"}
    for turn in reversed(history):
        question = turn.resolution.question
        doc = nlp(question)
        answer = turn.response.answer
        if answer is not None:
            # The answer counts when the turn asked for its kind, or when it is a name of that kind itself ("What
            # football star was cleared?" → "Steven Gerrard"), not a clause that merely holds one.
            asked = analyse_question(question, nlp).answer_type in asking
            found = next((m.text for m in turn.answer_mentions
                          if m.label in labels and (asked or 2 * len(m.text) >= len(answer.text))), None)
            if found is None and asked and _looks_like_a_name(answer.text) and not any(
                    _KINDS.get(m.label) in ("place", "agent") for m in turn.answer_mentions):
                found = answer.text  # the article's parse did not label it; a short capitalised span is a name
            if found is not None:
                return _without_possessive(found)
        named = [e for e in doc.ents if e.label_ in labels]
        if kind == "place":  # "there" is where something happened, not who did it: "the US" as a subject acts
            named = sorted(named, key=lambda e: e.root.dep_ in ("nsubj", "nsubjpass"))
        if named:
            return _without_possessive(named[0].text)
        # The question's own parse missed the name (often a lower-case one): its article's labels did not.
        found = next((m.text for m in turn.named_mentions if m.label in labels), None)
        if found is not None:
            return _without_possessive(found)
    return None


def _looks_like_a_name(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 4 and all(w[:1].isupper() for w in words)


def answer_mentions(assistant, answer: Answer | None) -> tuple[Mention, ...]:
    """The entities of ``answer`` as its article labels them (``Assistant.entities_near``).

    An entity that covers the answer, or that lies inside it ("Sergei Kislyak" in "Deputy Foreign Minister Sergei
    Kislyak"), counts.
    """
    document = None if answer is None else assistant.document(answer.doc_id)
    if document is None:
        return ()
    found = []
    for start, end, label in assistant.entities_near(answer):  # in text order
        if start >= answer.end:
            break
        if (answer.start <= start and end <= answer.end) or (start <= answer.start and answer.end <= end):
            found.append(Mention(document.text[start:end], label))
    return tuple(found)


def named_mentions(assistant, question: str, response: Response, nlp) -> tuple[Mention, ...]:
    """The entities of the article a turn was answered from (or its held-back answer's) that ``question`` names,
    whatever its spelling: each word of the question that the article writes as a name (capitalised inside a
    sentence more often than not) is looked up at its first such mention, and that stretch of the article is
    parsed for the entity around it, with the article's label and full form ("vivanco" → "José Miguel Vivanco",
    PERSON). Only words the question's own parse left unlabelled: it misses names typed in lower case, and what it
    did label keeps its place in the question ("Russian" of "the Russian delegation", which a question about "the
    US delegation" replaces)."""
    source = response.answer or response.withheld
    document = None if source is None else assistant.document(source.doc_id)
    if document is None:
        return ()
    text, found = document.text, []
    labelled = {t.lower_ for e in nlp(question).ents for t in e}  # the question's own parse found these
    words = re.findall(r"[A-Za-z][\w'-]{2,}", question)
    # A question that capitalises names writes a lower-case word as no name ("which arms pact did Putin ...").
    cased = any(w[0].isupper() for w in words[1:])
    for word in dict.fromkeys(words):
        lowered = word.lower()
        if (cased and word[0].islower()) or lowered in STOP_WORDS or lowered in WH_WORDS or lowered in labelled \
                or any(lowered in m.text.lower() for m in found):
            continue
        mentions = list(re.finditer(rf"\b{re.escape(lowered)}\b", text, re.IGNORECASE))
        named = [m for m in mentions if m.group()[0].isupper() and _INSIDE_SENTENCE.fullmatch(text, m.start() - 2,
                                                                                              m.start())]
        if len(named) <= sum(m.group()[0].islower() for m in mentions):
            continue  # a common word ("court"), or one the article never writes as a name
        at = named[0].start()
        start = max(0, at - NAME_CONTEXT_CHARS)
        for entity in nlp(text[start:at + NAME_CONTEXT_CHARS]).ents:
            mention = Mention(_without_possessive(entity.text), entity.label_)
            if entity.start_char <= at - start < entity.end_char and entity.label_ in _CONTEXT_LABELS \
                    and mention not in found:
                found.append(mention)
    return tuple(found)


class Conversation:
    """A chat with history: ``ask`` resolves follow-ups against earlier turns and remembers the answer.

    ``assistant`` may be swapped between questions (the UI does, after indexing new articles); the history
    stays, since it holds only text and answers.
    """

    def __init__(self, assistant, max_turns: int | None = None):
        self.assistant = assistant
        self.max_turns = assistant.settings.max_history_turns if max_turns is None else max_turns
        self.turns: list[Turn] = []

    def ask(self, question: str, k: int | None = None, window=None) -> Response:
        """Answer ``question`` in the light of the earlier turns, in the publication ``window`` (a ``DateWindow``)
        if one is given; raises InputError for a bad question."""
        cleaned = clean_question(question, self.assistant.settings.max_question_chars)
        # Looked up only now that a follow-up may need them: a conversation of one question parses nothing. Any
        # turn may lack them, not only the last: the chat rebuilds its history after a reload or a retry.
        self.turns = [turn if turn.answer_mentions is not None else
                      replace(turn, answer_mentions=answer_mentions(self.assistant, turn.response.answer),
                              named_mentions=named_mentions(self.assistant, turn.resolution.question, turn.response,
                                                            parse))
                      for turn in self.turns]
        resolution = resolve(cleaned, self.turns, parse)
        if len(resolution.text) > self.assistant.settings.max_question_chars:
            raise InputError("the question and its context are too long; start a new conversation")
        response = self.assistant.answer_batch([resolution.text], k, originals=[cleaned],
                                               read_as=[resolution.question],
                                               contexts=[", ".join(m.text for m in resolution.context)],
                                               window=window, prefer=[self._leaned_on(cleaned, resolution)])[0]
        self.turns.append(Turn(cleaned, resolution, response, None))
        del self.turns[: -self.max_turns]
        return response

    def _leaned_on(self, question: str, resolution: Resolution) -> str | None:
        """The article a follow-up leans on: the one the previous answer (or the answer it held back) came from."""
        if not self.turns or (resolution.question == question and not resolution.context):
            return None
        previous = self.turns[-1].response
        answer = previous.answer or previous.withheld
        return None if answer is None else answer.doc_id

    def reset(self) -> None:
        self.turns.clear()
