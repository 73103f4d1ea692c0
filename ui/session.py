"""One browser's chat: the conversation, what was shown for each turn, and that person's settings.

Gradio keeps one ``ChatSession`` per browser tab (``gr.State``). The assistant is passed to each question rather
than kept, because the library may swap in a new one after articles are added; the history carries over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.conversation import Conversation
from qa.errors import InputError
from qa.records import Answer, Response

MAX_TURNS = 500  # a tab kept open for a day; bounds what one session holds in memory


@dataclass
class ShownTurn:
    """A question and its response as the chat shows them."""

    question: str  # as typed
    response: Response
    title: str  # the title of the answer's article ("" when there is no answer)
    sentence: tuple[int, int] | None  # article offsets of the sentence(s) holding the answer
    sentence_text: str  # article_text[sentence[0]:sentence[1]]
    vote: str | None = None  # "up", "down" or None


@dataclass
class ChatSession:
    conversation: Conversation
    top_k: int
    show_more: bool = False
    turns: list[ShownTurn] = field(default_factory=list)
    selected: int | None = None  # index of the turn whose sources are shown

    @classmethod
    def start(cls, assistant) -> "ChatSession":
        return cls(Conversation(assistant), assistant.settings.top_k)

    def ask(self, assistant, question: str) -> ShownTurn:
        """Answer ``question`` as a follow-up of this chat; raises InputError (the chat is unchanged then)."""
        if len(self.turns) >= MAX_TURNS:
            raise InputError(f"this conversation has {MAX_TURNS} questions; start a new conversation")
        self.conversation.assistant = assistant
        response = self.conversation.ask(question, k=self.top_k)
        answer = response.answer
        title = assistant.documents[answer.doc_id].title if answer is not None else ""
        sentence = answer_sentence(assistant, answer)
        text = assistant.documents[answer.doc_id].text[sentence[0]:sentence[1]] if sentence is not None else ""
        turn = ShownTurn(response.question, response, title, sentence, text)
        self.turns.append(turn)
        self.selected = len(self.turns) - 1
        return turn

    def turn(self, number: object) -> ShownTurn:
        """The turn at index ``number`` (0 = the first question); InputError for anything else."""
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < len(self.turns):
            raise InputError(f"there is no question number {number!r} in this conversation "
                             f"(it has {len(self.turns)})")
        return self.turns[number]

    def reset(self) -> None:
        self.conversation.reset()
        self.turns.clear()
        self.selected = None


def answer_sentence(assistant, answer: Answer | None) -> tuple[int, int] | None:
    """The article offsets of the sentence holding ``answer`` (of all of them, if it runs over a boundary)."""
    if answer is None or answer.doc_id not in assistant.corpus.doc_index:
        return None
    sentences = assistant.data.analyses[assistant.corpus.doc_index[answer.doc_id]].sentences
    covering = [(s, e) for s, e in sentences if s < answer.end and answer.start < e]
    if not covering:
        return None
    return min(covering[0][0], answer.start), max(covering[-1][1], answer.end)
