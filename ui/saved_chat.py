"""A chat kept in the browser, so a reload brings it back: ``saved(session)`` → JSON, ``restored(value)`` → session.

Gradio's ``BrowserState`` keeps the value in the browser's localStorage. It comes back from the browser, so it is
read like any other input: every field is checked, and a value that does not read whole is refused (the chat then
starts empty). The answers are kept as they were shown, citations and all, rather than asked again: an article
added or removed since would change them. What the chat shows around an answer (its sentence, its article's
title) is looked up again in the library as it is now.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from core.errors import InputError
from core.records import Answer, Citation, Response
from qa.conversation import Mention, Resolution, Turn
from qa.dates import DateWindow
from ui.session import MAX_SOURCES, ChatSession, shown_turn

VERSION = 1
SAVED_TURNS = 50  # the latest ones: localStorage holds a few MB, and a turn with its passages is several KB
_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


def saved(session: ChatSession) -> dict:
    """The session as JSON values."""
    turns = session.turns[-SAVED_TURNS:]
    dropped = len(session.turns) - len(turns)
    return {
        "version": VERSION,
        "top_k": session.top_k,
        "show_more": session.show_more,
        "selected": None if session.selected is None or session.selected < dropped else session.selected - dropped,
        "opened": session.opened,
        "since": session.window.since if session.window else None,
        "until": session.window.until if session.window else None,
        "turns": [{
            "read_as": t.resolution.question,
            "context": [asdict(m) for m in t.resolution.context],
            "vote": t.vote,
            "question": t.response.question,
            "resolved_question": t.response.resolved_question,
            "answers": [asdict(a) for a in t.response.answers],
            "answer_citations": list(t.response.answer_citations),
            "citations": [asdict(c) for c in t.response.citations],
            "timings_ms": t.response.timings_ms,
        } for t in turns],
    }


def restored(value: object, assistant) -> ChatSession:
    """The session ``saved`` wrote; InputError (one line) for anything else."""
    try:
        return _restored(value, assistant)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"the conversation saved in this browser cannot be read ({type(error).__name__})") from None


def _restored(value: object, assistant) -> ChatSession:
    if not isinstance(value, dict) or value.get("version") != VERSION:
        raise ValueError("not a saved conversation")
    session = ChatSession.start(assistant)
    session.top_k = _check(value["top_k"], int)
    if not 1 <= session.top_k <= MAX_SOURCES:  # a huge value was accepted, and every later question then failed
        raise ValueError("top_k")
    session.show_more = _check(value["show_more"], bool)
    # Absent from chats saved before the window existed; a bad date is refused as DateWindow refuses it.
    session.window = DateWindow.of(_optional(value.get("since"), str), _optional(value.get("until"), str))
    for row in _check(value["turns"], list)[:SAVED_TURNS]:
        response = _response(row)
        resolution = Resolution(_check(row["read_as"], str),
                                tuple(_record(Mention, m) for m in _check(row["context"], list)))
        vote = row["vote"]
        if vote not in (None, "up", "down"):
            raise ValueError("vote")
        session.turns.append(shown_turn(assistant, resolution, response, vote))
    session.conversation.turns = [Turn(t.question, t.resolution, t.response, None)
                                  for t in session.turns[-session.conversation.max_turns:]]
    selected = value["selected"]
    if selected is not None:
        turn = session.turn(selected)  # raises for a number out of range
        session.select(selected)
        session.opened = _optional(value["opened"], int)
        if session.opened is not None and not 1 <= session.opened <= len(turn.response.citations):
            raise ValueError("opened")
    return session


def _response(row: dict) -> Response:
    answers = tuple(_record(Answer, a) for a in _check(row["answers"], list))
    numbers = tuple(_check(n, int) for n in _check(row["answer_citations"], list))
    citations = tuple(_record(Citation, c) for c in _check(row["citations"], list))
    if len(numbers) != len(answers) or not {n for n in numbers} <= {c.n for c in citations}:
        raise ValueError("answer citations")
    timings = {str(k): float(_check(v, (int, float))) for k, v in _check(row["timings_ms"], dict).items()}
    return Response(_check(row["question"], str), _check(row["resolved_question"], str),
                    answers[0] if answers else None, answers, numbers, citations, (), timings)


def _record(cls, row: object):
    """A dataclass from a dict with exactly its fields, each of its declared type (``str | None`` and the like)."""
    row = _check(row, dict)
    names = [f.name for f in fields(cls)]
    if set(row) != set(names):
        raise ValueError(cls.__name__)
    values = {}
    for f in fields(cls):
        kinds = [k.strip() for k in str(f.type).split("|")]
        optional = "None" in kinds
        value = row[f.name]
        if value is None and optional:
            values[f.name] = None
            continue
        kind = next(k for k in kinds if k != "None")
        values[f.name] = _check(value, _TYPES[kind])
    return cls(**values)


def _check(value, kind):
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):  # JSON's true is no number
        raise TypeError(f"{type(value).__name__} where {kind} belongs")
    return value


def _optional(value, kind):
    return None if value is None else _check(value, kind)
