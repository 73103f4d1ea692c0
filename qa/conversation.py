"""Follow-up questions: turn "And who led the US delegation?" into a question that stands on its own.

A question is a follow-up when it leans on what came before: it opens with "and"/"what about", refers back
("he", "that meeting", "there", "then"), or names nothing of its own. It is then rewritten from the previous
turn: a personal pronoun becomes the person last answered, and the places, times, events and names of the
previous question that this one does not replace are added as context ("When was that meeting? — Budapest").
A question that names its own subject and refers to nothing starts a new topic and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from embeddings.analysis import parse
from qa.errors import InputError
from qa.records import Response
from qa.validate import clean_question

_OPENERS = re.compile(r"^(and|but|also|so|then|what about|how about|and what about|and how about)\b[\s,]*",
                      re.IGNORECASE)
_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "hers"}
_BACK_REFERENCES = _PERSON_PRONOUNS | {"it", "its", "they", "them", "their", "that", "this", "those", "these",
                                       "there", "then", "same", "one"}
_CONTEXT_LABELS = {"GPE", "LOC", "FAC", "DATE", "EVENT", "ORG", "PERSON", "LAW", "PRODUCT", "WORK_OF_ART"}
_SUBJECT_LABELS = {"GPE", "LOC", "FAC", "DATE", "EVENT", "ORG", "PERSON", "LAW", "NORP"}
CONTEXT_MARK = " — "


@dataclass(frozen=True)
class Turn:
    question: str  # as typed
    resolved: str  # as answered
    response: Response


def _context_terms(doc) -> list[str]:
    return [e.text for e in doc.ents if e.label_ in _CONTEXT_LABELS]


def resolve(question: str, history: list[Turn], nlp) -> str:
    """The self-contained form of ``question`` given the earlier turns (most recent last)."""
    if not history:
        return question
    previous = history[-1]
    doc = nlp(question)
    words = {t.lower_ for t in doc}
    opener = _OPENERS.match(question)
    refers_back = bool(words & _BACK_REFERENCES)
    names_own_subject = any(e.label_ in _SUBJECT_LABELS for e in doc.ents)
    if not (opener or refers_back or not names_own_subject):
        return question
    text = question[opener.end():] if opener else question
    text = text[:1].upper() + text[1:]
    answer = previous.response.answer
    if answer is not None and words & _PERSON_PRONOUNS and _is_person(answer.text, nlp):
        text = _replace_pronouns(text, answer.text)
    base = previous.resolved.split(CONTEXT_MARK)[0]
    earlier_context = previous.resolved.split(CONTEXT_MARK)[1].split(", ") if CONTEXT_MARK in previous.resolved else []
    lowered = text.lower()
    context = []
    for term in _context_terms(nlp(base)) + earlier_context:
        if term and term.lower() not in lowered and term not in context:
            context.append(term)
    return f"{text}{CONTEXT_MARK}{', '.join(context)}" if context else text


def _is_person(text: str, nlp) -> bool:
    return any(e.label_ == "PERSON" for e in nlp(text).ents)


def _replace_pronouns(text: str, name: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group().lower()
        return f"{name}'s" if word in ("his", "hers") else name

    return re.sub(r"\b(he|she|him|her|his|hers)\b", swap, text, flags=re.IGNORECASE)


class Conversation:
    """A chat with history: ``ask`` resolves follow-ups against earlier turns and remembers the answer."""

    def __init__(self, assistant, max_turns: int | None = None):
        self.assistant = assistant
        self.max_turns = assistant.settings.max_history_turns if max_turns is None else max_turns
        self.turns: list[Turn] = []

    def ask(self, question: str, k: int | None = None) -> Response:
        cleaned = clean_question(question, self.assistant.settings.max_question_chars)
        resolved = resolve(cleaned, self.turns, parse)
        if len(resolved) > self.assistant.settings.max_question_chars:
            raise InputError("the question and its context are too long; start a new conversation")
        response = self.assistant.answer_batch([resolved], k, originals=[cleaned])[0]
        self.turns.append(Turn(cleaned, resolved, response))
        del self.turns[: -self.max_turns]
        return response

    def reset(self) -> None:
        self.turns.clear()
