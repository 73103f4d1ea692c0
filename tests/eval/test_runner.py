"""The runner's orchestration with a stand-in assistant (no model): batching, dialogues, index checks."""

import json

import pytest

from eval import runner
from core.errors import IndexFolderError, InputError
from core.records import Answer, Chunk, Citation, Document, Hit, Response
from eval.datasets import GoldDialogue, GoldQuestion, GoldSet, GoldTurn
from eval.runner import ask_dialogues, ask_questions, check_documents, run_conversations, run_eval

TEXT = "Talks are on Thursday. The Russian delegation is led by Sergei Kislyak."


def _response(question, answer_text):
    answer = None
    if answer_text is not None:
        start = TEXT.index(answer_text)
        answer = Answer(answer_text, "a.txt", start, start + len(answer_text), 0.9, 0)
    citation = Citation(1, "a.txt", "A", 0, len(TEXT), TEXT, None, None, 0.8)
    hit = Hit(Chunk(0, "a.txt", 0, len(TEXT), TEXT, 12), 0.8, 1)
    return Response(question, question, answer, (answer,) if answer else (), (1,) if answer else (), (citation,),
                    (hit,), {"total": 5.0})


class FakeAssistant:
    """Answers "Sergei Kislyak" to questions with "Russian" in them, abstains otherwise; records batch sizes."""

    def __init__(self):
        self.batches = []

    def answer_batch(self, questions):
        self.batches.append(len(questions))
        return [_response(q, "Sergei Kislyak" if "Russian" in q else None) for q in questions]


def _question(i, answers=("Sergei Kislyak",)):
    return GoldQuestion(f"q{i}", f"Who led the Russian delegation? ({i})", tuple(answers),
                        "a.txt" if answers else None, "who" if answers else "unanswerable", "test")


def test_questions_are_asked_in_batches_and_scored_in_order():
    assistant = FakeAssistant()
    questions = [_question(i) for i in range(70)]
    rows = ask_questions(assistant, questions, progress=False)
    assert assistant.batches == [32, 32, 6]
    assert [r["id"] for r in rows] == [q.id for q in questions]
    assert all(r["em"] == 1.0 and r["retrieval_rank"] == 1 and r["citation_correct"] for r in rows)


def test_progress_never_writes_to_stdout(capsys):
    ask_questions(FakeAssistant(), [_question(1)], progress=True)
    assert capsys.readouterr().out == ""


class FakeConversation:
    """Resolves "And ..." follow-ups by remembering the last question's topic."""

    def __init__(self):
        self.history = []

    def ask(self, question):
        self.history.append(question)
        topic = self.history[0]
        return _response(question, "Sergei Kislyak" if "Russian" in topic and "And" in question else
                         ("Thursday" if "When" in question else None))


def test_each_dialogue_gets_a_fresh_conversation_and_turns_are_numbered_from_one():
    gold = GoldSet(documents={"a.txt": None}, questions=[], format="conversations", dialogues=[
        GoldDialogue("c01", (GoldTurn("When are the talks?", ("Thursday",), "a.txt", "when"),
                             GoldTurn("And who leads the Russian side?", ("Sergei Kislyak",), "a.txt", "who"))),
        GoldDialogue("c02", (GoldTurn("Who won the cup?", (), None, "unanswerable"),)),
    ])
    started = []

    def start():
        started.append(FakeConversation())
        return started[-1]

    rows = ask_dialogues(gold, start, progress=False)
    assert len(started) == 2 and started[1].history == ["Who won the cup?"]
    assert [(r["id"], r["dialogue"], r["turn"]) for r in rows] == [("c01.1", "c01", 1), ("c01.2", "c01", 2),
                                                                   ("c02.1", "c02", 1)]
    # the stand-in only answers the follow-up when the dialogue opened about the Russians: it did not
    assert [r["correct"] for r in rows] == [True, False, True]


def test_gold_documents_missing_from_the_index_are_an_error_naming_them():
    gold = GoldSet(documents={"a.txt": None, "gone.txt": None}, questions=[])
    index_docs = {"a.txt": Document("a.txt", "a.txt", "A", TEXT, "0" * 64)}
    with pytest.raises(IndexFolderError, match="gone.txt"):
        check_documents(gold, index_docs, "idx")


def test_changed_documents_and_answers_not_in_their_document_are_warnings():
    gold = GoldSet(documents={"a.txt": "1" * 64}, questions=[_question(1), _question(2, answers=("Putin",))])
    index_docs = {"a.txt": Document("a.txt", "a.txt", "A", TEXT, "0" * 64)}
    warnings = check_documents(gold, index_docs, "idx")
    assert warnings == ["a.txt changed since the gold set was written (sha256 differs)",
                        "q2: no gold answer occurs in a.txt"]


def _gold_file(tmp_path, data):
    path = tmp_path / "gold.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_our_gold_set_without_an_index_asks_to_run_qa_index(tmp_path):
    gold = _gold_file(tmp_path, {"version": 1, "questions": []})
    with pytest.raises(IndexFolderError, match="run `qa index` first"):
        run_eval(gold, tmp_path / "no-index")


def test_run_eval_refuses_a_conversation_file_and_run_conversations_a_question_file(tmp_path):
    with pytest.raises(InputError, match="conversations"):
        run_eval(_gold_file(tmp_path, {"version": 1, "dialogues": []}), tmp_path / "idx")
    with pytest.raises(InputError, match="not a gold conversation file"):
        run_conversations(_gold_file(tmp_path, {"version": 1, "questions": []}), tmp_path / "idx")


def test_evaluate_dispatches_on_the_gold_format(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(runner, "_run_question_set", lambda gold, *rest: calls.append(("questions", gold.format)))
    monkeypatch.setattr(runner, "_run_dialogue_set", lambda gold, *rest: calls.append(("dialogues", gold.format)))
    runner.evaluate(_gold_file(tmp_path, {"version": 1, "dialogues": []}), tmp_path / "idx")
    runner.evaluate(_gold_file(tmp_path, {"version": 1, "questions": []}), tmp_path / "idx")
    assert calls == [("dialogues", "conversations"), ("questions", "qa")]
