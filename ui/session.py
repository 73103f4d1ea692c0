"""One browser's chat: the conversation, what was shown for each turn, and that person's settings.

Gradio keeps one ``ChatSession`` per browser tab (``gr.State``), and a copy in the browser (``ui/saved_chat.py``)
brings it back after a reload. The assistant is passed to each question rather than kept, because the library
may swap in a new one after articles are added or removed; the history carries over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InputError
from core.records import Response
from qa.conversation import Conversation, Resolution, Turn, without_opener
from qa.dates import DateWindow

MAX_TURNS = 500  # a tab kept open for a day; bounds what one session holds in memory
MAX_SOURCES = 10  # the most sources a person may ask to see under an answer (the settings' menu offers 1 to this)


@dataclass
class ShownTurn:
    """A question and its response as the chat shows them."""

    question: str  # as typed (tidied)
    resolution: Resolution  # how it was read: ``resolution.question`` without the context terms
    response: Response
    title: str  # the title of the answer's article ("" when there is no answer)
    sentence: tuple[int, int] | None  # article offsets of the sentence(s) holding the answer
    sentence_text: str  # article_text[sentence[0]:sentence[1]]
    vote: str | None = None  # "up", "down" or None

    @property
    def read_as(self) -> str | None:
        """The question as the assistant read it, with the earlier turns' terms it leans on ("When did they meet?
        — John C. Rood, Budapest"), when that says more than what was typed (not when it only drops a leading
        "and")."""
        read = self.resolution.text
        return None if _words(read) == _words(without_opener(self.question)) else read


@dataclass
class ChatSession:
    conversation: Conversation
    top_k: int
    show_more: bool = False
    turns: list[ShownTurn] = field(default_factory=list)
    selected: int | None = None  # index of the turn whose sources are shown
    focus: int | None = None  # the citation whose card was last picked from the chat ([n])
    opened: int | None = None  # the citation whose article is open
    jobs: list[int] = field(default_factory=list)  # library jobs this session started and has not yet been told of
    undo: str | None = None  # the article this session removed, while its removal can still be undone
    window: DateWindow | None = None  # the publication window the settings ask in (undated articles kept)

    @classmethod
    def start(cls, assistant) -> "ChatSession":
        session = cls(Conversation(assistant), assistant.settings.top_k)
        session.conversation.assistant = None  # lent for each question only (see ask)
        return session

    def ask(self, assistant, question: str) -> ShownTurn:
        """Answer ``question`` as a follow-up of this chat; raises InputError (the chat is unchanged then)."""
        if len(self.turns) >= MAX_TURNS:
            raise InputError(f"this conversation has {MAX_TURNS} questions; start a new conversation")
        # The library's assistant of this moment, lent for the question only: kept between questions, an idle
        # session held the index it last asked alive after every rebuild since.
        self.conversation.assistant = assistant
        try:
            response = self.conversation.ask(question, k=self.top_k, window=self.window)
        finally:
            self.conversation.assistant = None
        turn = shown_turn(assistant, self.conversation.turns[-1].resolution, response)
        self.turns.append(turn)
        self.select(len(self.turns) - 1)
        return turn

    def select(self, number: int | None) -> None:
        self.selected, self.focus, self.opened = number, None, None

    def truncate(self, number: int) -> None:
        """Forget turn ``number`` and every later one (a retry or an edit asks again from there)."""
        del self.turns[number:]
        self.conversation.turns = [Turn(t.question, t.resolution, t.response, None)
                                   for t in self.turns[-self.conversation.max_turns:]]
        self.select(len(self.turns) - 1 if self.turns else None)

    def turn(self, number: object) -> ShownTurn:
        """The turn at index ``number`` (0 = the first question); InputError for anything else."""
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < len(self.turns):
            raise InputError(f"there is no question number {number!r} in this conversation "
                             f"(it has {len(self.turns)})")
        return self.turns[number]

    @property
    def shown(self) -> ShownTurn | None:
        return None if self.selected is None else self.turns[self.selected]

    def reset(self) -> None:
        self.conversation.reset()
        self.turns.clear()
        self.select(None)


def _words(text: str) -> list[str]:
    return "".join(c for c in text.casefold() if c.isalnum() or c.isspace()).split()


def shown_turn(assistant, resolution: Resolution, response: Response, vote: str | None = None) -> ShownTurn:
    """What the chat shows of ``response``: its answer's article title and sentence, looked up in ``assistant``."""
    answer = response.answer
    document = assistant.documents.get(answer.doc_id) if answer is not None else None
    sentence = assistant.sentence_of(answer) if document is not None else None
    text = document.text[sentence[0]:sentence[1]] if sentence is not None else ""
    return ShownTurn(response.question, resolution, response, document.title if document else "", sentence, text,
                     vote)
