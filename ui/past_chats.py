"""Past conversations, kept in the browser beside the current one: "New conversation" files the current one here,
and a person reopens or deletes it later, as chat apps keep their history.

The list comes back from the browser like any input: ``read_past`` keeps only entries of the right shape (each
entry's conversation is checked in full when it is reopened, by ``saved_chat.restored``), newest first, at most
``PAST_KEPT`` of them, since the browser's storage holds a few MB and one conversation can take a few hundred KB.
"""

from __future__ import annotations

import datetime

from ui.render import short_title
from ui.saved_chat import saved
from ui.session import ChatSession

PAST_KEPT = 10
_FIELDS = {"title": str, "when": str, "questions": int, "chat": dict}


def filed(past: list[dict], session: ChatSession) -> list[dict]:
    """``past`` with ``session`` on top (unchanged when it has no turns): the conversation being left."""
    if not session.turns:
        return past
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    entry = {"title": short_title(session.turns[0].question), "when": when, "questions": len(session.turns),
             "chat": saved(session)}
    return [entry, *past][:PAST_KEPT]


def read_past(value: object) -> list[dict]:
    """The entries of the browser's list that have the right shape; anything else reads as no past at all."""
    if not isinstance(value, list):
        return []
    return [entry for entry in value[:PAST_KEPT] if isinstance(entry, dict) and set(entry) == set(_FIELDS)
            and all(isinstance(entry[key], kind) and not isinstance(entry[key], bool)
                    for key, kind in _FIELDS.items())]


def choices(past: list[dict]) -> list[tuple[str, int]]:
    """The past conversations to pick from, newest first ("Who led … · 3 questions · 2026-12-07 22:40")."""
    return [(f"{entry['title']} · {entry['questions']} question{'s' if entry['questions'] != 1 else ''} · "
             f"{entry['when']}", i) for i, entry in enumerate(past)]
