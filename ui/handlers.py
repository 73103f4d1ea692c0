"""What each control of the chat does, as plain methods; ``ui/app.py`` lays the page out and wires them to events.

Methods take and return plain values (text, HTML, the ``ChatSession``), so the same code serves the browser and
``gradio_client`` callers. A ``QAError`` never escapes: it becomes a one-line notice and the chat loses nothing
(the question stays in the box, the history is unchanged).
"""

from __future__ import annotations

from pathlib import Path

from qa.errors import InputError, QAError
from ui.feedback import FeedbackLog
from ui.library import Library
from ui.render import (answer_markdown, article_html, notice_html, question_markdown, sources_html)
from ui.session import ChatSession, ShownTurn


class ChatApp:
    def __init__(self, library: Library, feedback: FeedbackLog):
        self.library = library
        self.feedback = feedback

    def session(self, session: ChatSession | None) -> ChatSession:
        return ChatSession.start(self.library.assistant) if session is None else session

    @staticmethod
    def messages(session: ChatSession) -> list[dict]:
        """The chat history as Gradio's message dicts, one user and one assistant message per turn."""
        messages = []
        for turn in session.turns:
            messages.append({"role": "user", "content": question_markdown(turn.question)})
            messages.append({"role": "assistant", "content": answer_markdown(turn, session.show_more)})
        return messages

    def ask(self, message: str, session: ChatSession | None) -> tuple[str, list[dict], ChatSession, str, str]:
        """Answer ``message``: (what stays in the box, the chat, the session, the Sources panel, a notice)."""
        session = self.session(session)
        try:
            turn = session.ask(self.library.assistant, message)
        except QAError as error:
            shown = session.turns[session.selected] if session.selected is not None else None
            return message, self.messages(session), session, sources_html(shown), notice_html(str(error))
        return "", self.messages(session), session, sources_html(turn), ""

    def _selected(self, session: ChatSession) -> ShownTurn:
        if session.selected is None:
            raise InputError("ask a question first: there are no sources to open yet")
        return session.turn(session.selected)

    def open_source(self, n: object, session: ChatSession | None) -> tuple[str, str]:
        """The whole article of citation ``n`` of the shown answer, passage highlighted: (article HTML, notice)."""
        session = self.session(session)
        try:
            turn = self._selected(session)
            citation = next((c for c in turn.response.citations if c.n == _integer(n, "source")), None)
            if citation is None:
                raise InputError(f"there is no source [{n}] for this answer "
                                 f"(it has {len(turn.response.citations)})")
            document = self.library.assistant.documents.get(citation.doc_id)
            if document is None or document.text[citation.start:citation.end] != citation.text:
                raise InputError(f"{citation.doc_id} is no longer in the library as it was; ask the question again")
        except QAError as error:
            return "", notice_html(str(error))
        return article_html(document, citation), ""

    def select_turn(self, message_index: object, session: ChatSession | None) -> tuple[str, ChatSession]:
        """Show the sources of the turn a chat message belongs to (clicking an earlier answer)."""
        session = self.session(session)
        try:
            number = _integer(message_index, "message") // 2
            turn = session.turn(number)
        except QAError:
            return sources_html(None if session.selected is None else session.turns[session.selected]), session
        session.selected = number
        return sources_html(turn), session

    def vote(self, turn_number: object, vote: str, session: ChatSession | None) -> str:
        """Save a thumbs up or down on turn ``turn_number`` (0 = the first question) to the feedback file."""
        session = self.session(session)
        try:
            turn = session.turn(_integer(turn_number, "question"))
            self.feedback.record(turn.response, vote)
        except QAError as error:
            return notice_html(str(error))
        turn.vote = vote
        return ""

    def new_conversation(self, session: ChatSession | None) -> tuple[list[dict], ChatSession, str, str]:
        session = self.session(session)
        session.reset()
        return [], session, sources_html(None), ""

    def set_top_k(self, k: object, session: ChatSession | None) -> ChatSession:
        """Sources listed from the next question on; a value that is not a whole number is ignored."""
        session = self.session(session)
        try:
            session.top_k = max(1, _integer(k, "top-k"))
        except InputError:
            pass
        return session

    def set_show_more(self, show: bool, session: ChatSession | None) -> tuple[list[dict], ChatSession]:
        session = self.session(session)
        session.show_more = bool(show)
        return self.messages(session), session

    def add_articles(self, files: list[str] | None) -> str:
        """Save uploaded ``.txt``/``.md`` files and start indexing them; returns a notice for each file refused
        (the indexing note says the rest)."""
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return ""
        return "".join(notice_html(reason) for reason in self.library.add_files(paths).refused)


def _integer(value: object, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"the {what} number must be a whole number, not {value!r}")
    return value
