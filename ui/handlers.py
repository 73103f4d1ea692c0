"""What each control of the chat does, as plain methods; ``ui/app.py`` lays the page out and wires them to events.

Methods take and return plain values (text, HTML, the ``ChatSession``), so the same code serves the browser and
``gradio_client`` callers. A ``QAError`` never escapes: it becomes a one-line notice in plain words where the
action was (under the question box, beside the upload box), the chat loses nothing, and the server log gets the
same line. Every action first settles the session's last one: a notice it left is cleared, and a removal that
was not undone becomes final.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import InputError, QAError
from qa.dates import DateWindow
from ui.examples import first_question_hint, fitting_examples
from ui.feedback import FeedbackLog
from ui.library import Library
from ui.past_chats import filed, read_past
from ui.render import (answer_markdown, article_html, job_html, library_html, library_line, notice_html,
                       question_markdown, short_title, sources_html)
from ui.saved_chat import restored, saved
from ui.session import MAX_SOURCES, ChatSession

log = logging.getLogger("qa.chat")


def user_error(error: QAError | str) -> str:
    """The notice for a user's mistake (an error, or a reason already in plain words), logged as the same one
    line: a traceback is for our faults only."""
    message = error if isinstance(error, str) else error.plain
    log.info("user error: %s", " ".join(message.split()))
    return notice_html(message)  # which folds it to one line too


class ChatApp:
    def __init__(self, library: Library, feedback: FeedbackLog):
        self.library = library
        self.feedback = feedback
        self._first_help: tuple[object, tuple[list[str], str]] = (None, ([], ""))

    @property
    def sure(self) -> float:
        return self.library.assistant.sure_confidence()

    def session(self, session: ChatSession | None) -> ChatSession:
        return ChatSession.start(self.library.assistant) if session is None else session

    def settle(self, session: ChatSession) -> str:
        """Start an action: make a removal final and drop finished jobs; returns the library note that still
        matters (a change still being indexed), else ""."""
        if session.undo is not None:
            self.library.forget(session.undo)
            session.undo = None
        session.jobs = [n for n in session.jobs if self._indexing(n)]
        return job_html(self.library.job(session.jobs[-1])) if session.jobs else ""

    # The conversation.

    def messages(self, session: ChatSession) -> list[dict]:
        """The chat history as Gradio's message dicts, one user and one assistant message per turn."""
        messages = []
        for turn in session.turns:
            messages.append({"role": "user", "content": question_markdown(turn.question)})
            messages.append({"role": "assistant", "content": answer_markdown(turn, session.show_more, self.sure)})
        return messages

    def sources(self, session: ChatSession) -> str:
        return sources_html(session.shown, session.show_more, session.focus)

    def ask(self, message: str, session: ChatSession | None) -> tuple[str, list[dict], ChatSession, str, str]:
        """Answer ``message``: (what stays in the box, the chat, the session, the Sources panel, a notice)."""
        session = self.session(session)
        try:
            session.ask(self.library.assistant, message)
        except QAError as error:
            return message, self.messages(session), session, self.sources(session), user_error(error)
        return "", self.messages(session), session, self.sources(session), ""

    def ask_again(self, number: int, question: str, session: ChatSession | None):
        """Retry or edit: forget turn ``number`` and what came after, then ask ``question`` in its place."""
        session = self.session(session)
        try:
            session.turn(number)
        except QAError as error:
            return "", self.messages(session), session, self.sources(session), user_error(error)
        kept = session.turns[number:]
        session.truncate(number)
        box, chat, session, sources, notice = self.ask(question, session)
        if notice:  # a bad edit: the conversation stays as it was
            session.turns.extend(kept)
            session.truncate(len(session.turns))
            return question, self.messages(session), session, self.sources(session), notice
        return box, chat, session, sources, notice

    def new_conversation(self, session: ChatSession | None) -> tuple[list[dict], ChatSession, str]:
        session = self.session(session)
        session.reset()
        return [], session, self.sources(session)

    def select_turn(self, message_index: object, session: ChatSession | None) -> tuple[str, ChatSession]:
        """Show the sources of the turn a chat message belongs to (clicking an earlier answer)."""
        session = self.session(session)
        try:
            number = _integer(message_index, "message") // 2
            session.turn(number)
        except QAError:
            return self.sources(session), session
        if number != session.selected:  # the same answer again keeps the card picked from it
            session.select(number)
        return self.sources(session), session

    def cite(self, turn_number: object, n: object, session: ChatSession | None) -> tuple[str, str, str, bool]:
        """``[n]`` clicked in answer ``turn_number``: show that card; clicked again, open its article.

        Returns (the Sources panel, the article HTML or "", a notice, whether the article was opened)."""
        session = self.session(session)
        try:
            number, source = _integer(turn_number, "question"), _integer(n, "source")
            session.turn(number)
            if session.selected == number and session.focus == source:
                html, notice = self.open_source(source, session)
                return self.sources(session), html, notice, bool(html)
            if not any(c.n == source for c in session.turn(number).response.citations):
                raise InputError(f"there is no source [{source}] for that answer")
        except QAError as error:
            return self.sources(session), "", user_error(error), False
        session.select(number)
        session.focus = source
        return self.sources(session), "", "", False

    def open_source(self, n: object, session: ChatSession | None) -> tuple[str, str]:
        """The whole article of citation ``n`` of the shown answer, passage highlighted: (article HTML, notice)."""
        session = self.session(session)
        try:
            if session.shown is None:
                raise InputError("ask a question first: there are no sources to open yet")
            number = _integer(n, "source")
            citation = next((c for c in session.shown.response.citations if c.n == number), None)
            if citation is None:
                raise InputError(f"there is no source [{n}] for this answer "
                                 f"(it has {len(session.shown.response.citations)})")
            document = self.library.assistant.documents.get(citation.doc_id)
            if document is None or document.text[citation.start:citation.end] != citation.text:
                raise InputError(f"{citation.doc_id} is no longer in the library as it was; ask the question again")
        except QAError as error:
            return "", user_error(error)
        session.opened = number
        return article_html(document, citation), ""

    def vote(self, turn_number: object, vote: str, session: ChatSession | None) -> str:
        """Save a thumbs up or down on turn ``turn_number`` (0 = the first question) to the feedback file."""
        session = self.session(session)
        try:
            turn = session.turn(_integer(turn_number, "question"))
            self.feedback.record(turn.response, vote)
        except QAError as error:
            return user_error(error)
        turn.vote = vote
        # Seen, not silent: a vote that changes nothing on the page reads as a click that did not work.
        said = "helpful" if vote == "up" else "not helpful"
        return notice_html(f"Thanks: your vote ({said}) on “{short_title(turn.question, 60)}” is saved.", kind="info")

    # Settings, and the browser's copy of the session.

    def set_top_k(self, k: object, session: ChatSession | None) -> ChatSession:
        """Sources listed from the next question on (1 to ``MAX_SOURCES``); a value that is not a whole number is
        ignored."""
        session = self.session(session)
        try:
            session.top_k = min(MAX_SOURCES, max(1, _integer(k, "top-k")))
        except InputError:
            pass
        return session

    def set_window(self, since: object, until: object, session: ChatSession | None) -> tuple[str, ChatSession]:
        """The publication window from the next question on: (a notice, "" when the dates read, the session)."""
        session = self.session(session)
        try:
            session.window = DateWindow.of(*(str(v or "").strip() or None for v in (since, until)))
        except QAError as error:
            return user_error(error), session
        return "", session

    def set_show_more(self, show: bool, session: ChatSession | None) -> tuple[list[dict], ChatSession, str]:
        session = self.session(session)
        session.show_more = bool(show)
        return self.messages(session), session, self.sources(session)

    def saved(self, session: ChatSession | None) -> dict:
        return saved(self.session(session))

    def restore(self, value: object) -> tuple[ChatSession, str]:
        """The session the browser kept (an empty one when it kept none or one that does not read): (session,
        the article of the source that was open, or "")."""
        if value is None:
            return self.session(None), ""
        try:
            session = restored(value, self.library.assistant)
        except QAError as error:
            user_error(error)
            return self.session(None), ""
        article = ""
        if session.opened is not None:
            article, _ = self.open_source(session.opened, session)
        return session, article

    def reopen(self, index: object, session: ChatSession | None,
               past: object) -> tuple[ChatSession, str, list[dict], str]:
        """Past conversation ``index`` becomes the current one, and the current one is filed in its place: (the
        session, the article of its open source or "", the past conversations, a notice)."""
        session, past = self.session(session), read_past(past)
        try:
            entry = past.pop(_past_number(index, past, "open"))
        except QAError as error:
            return session, "", past, user_error(error)
        reopened, article = self.restore(entry["chat"])
        return reopened, article, filed(past, session), ""

    def delete_past(self, index: object, past: object) -> tuple[list[dict], str]:
        """(the past conversations without ``index``, a notice)."""
        past = read_past(past)
        try:
            number = _past_number(index, past, "delete")
        except QAError as error:
            return past, user_error(error)
        return past[:number] + past[number + 1:], ""

    # The library.

    def add_articles(self, files: list[str] | None, session: ChatSession | None) -> tuple[str, ChatSession]:
        """Save uploaded files into the uploads folder and start indexing them: (the note beside the upload box,
        the session). One line for each file refused; the indexing note for the rest."""
        session = self.session(session)
        self.settle(session)
        paths = [Path(f) for f in (files or [])]
        if not paths:
            return "", session
        number, result = self.library.add_files(paths)
        if number is not None:
            session.jobs.append(number)
        return self.library_note(session) + "".join(map(user_error, result.refused)), session

    def fetch_page(self, url: str, session: ChatSession | None) -> tuple[str, str, ChatSession]:
        """Fetch a web page into the uploads folder and index it: (the box's text, the note, the session)."""
        from embeddings.fetch import fetch_page

        session = self.session(session)
        self.settle(session)
        try:
            if not url.strip():
                raise InputError("type the address of a web page, starting with https://")
            self.library.check_changes()
            fetched = fetch_page(url.strip(), self.library.uploads, self.library.assistant.settings)
            session.jobs.append(self.library.add_saved(fetched.document))
        except QAError as error:
            return url, user_error(error), session
        return "", self.library_note(session), session

    def remove(self, doc_id: object, session: ChatSession | None) -> tuple[str, ChatSession]:
        session = self.session(session)
        self.settle(session)
        try:
            if not isinstance(doc_id, str):
                raise InputError("name the article to remove")
            session.jobs.append(self.library.remove(doc_id))
        except QAError as error:
            return user_error(error), session
        session.undo = doc_id
        return self.library_note(session), session

    def undo(self, doc_id: object, session: ChatSession | None) -> tuple[str, ChatSession]:
        session = self.session(session)
        if doc_id != session.undo:
            return user_error(InputError("that removal can no longer be undone")), session
        session.undo = None
        try:
            session.jobs.append(self.library.restore(doc_id))
        except QAError as error:
            return user_error(error), session
        return self.library_note(session), session

    def library_note(self, session: ChatSession) -> str:
        """The note about this session's latest library change."""
        if not session.jobs:
            return ""
        return job_html(self.library.job(session.jobs[-1]), session.undo)

    def library_panel(self, query: str = "") -> str:
        texts = {doc_id: d.text for doc_id, d in self.library.assistant.documents.items()} if query else None
        return library_html(self.library.articles(), query or "", self.library.changes_refusal() is None,
                            texts=texts)

    def first_help(self) -> tuple[list[str], str]:
        """What the page offers before a first question, for the library as it is now: (the example questions that
        fit it, the chat's placeholder). Computed once per loaded index: a change to the library changes them."""
        assistant = self.library.assistant
        if self._first_help[0] is not assistant:
            fitting = fitting_examples(list(assistant.documents.values()))
            self._first_help = (assistant, (fitting, first_question_hint(fitting, self.library.articles())))
        return self._first_help[1]

    def library_line(self) -> str:
        articles = self.library.articles()
        return library_line(len(articles), sum(a.passages for a in articles))

    def indexing(self, session: ChatSession | None) -> bool:
        """Whether a library change of this session is still being indexed (the page polls until it is not)."""
        session = self.session(session)
        return any(map(self._indexing, session.jobs))

    def _indexing(self, number: int) -> bool:
        job = self.library.job(number)
        return job is not None and job.state == "indexing"


def _past_number(index: object, past: list[dict], action: str) -> int:
    number = -1 if index is None else _integer(index, "past conversation")
    if not 0 <= number < len(past):
        raise InputError(f"pick a past conversation to {action}")
    return number


def _integer(value: object, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"the {what} number must be a whole number, not {value!r}")
    return value
