"""Reading gold files: our format, gold conversations, SQuAD v1.1 and v2.0, and bad files."""

import hashlib
import json

import pytest

from core.errors import InputError
from eval.datasets import infer_question_type, load_gold

OUR_GOLD = {
    "version": 1,
    "documents": {"000_a.txt": "ab" * 32},
    "questions": [
        {
            "id": "q001",
            "question": "Who led the Russian delegation?",
            "answers": ["Sergei Kislyak", "Deputy Foreign Minister Sergei Kislyak"],
            "doc": "000_a.txt",
            "type": "who",
            "split": "tune",
            "tags": ["entity"],
        },
        {"id": "q002", "question": "When are the talks?", "answers": ["Thursday"], "doc": "000_a.txt", "type": "when"},
        {"id": "q050", "question": "Who won the 2030 cup?", "answers": [], "doc": None, "type": "unanswerable",
         "split": "test"},
    ],
}

SQUAD_V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Danube",
            "paragraphs": [
                {
                    "context": "The Danube flows through Budapest.",
                    "qas": [
                        {"id": "a1", "question": "Which city does the Danube flow through?",
                         "answers": [{"text": "Budapest", "answer_start": 25},
                                     {"text": "Budapest", "answer_start": 25}],
                         "is_impossible": False},
                        {"id": "a2", "question": "Who built the Danube?", "answers": [], "is_impossible": True,
                         "plausible_answers": [{"text": "Budapest", "answer_start": 25}]},
                    ],
                },
                {"context": "It is 2,850 km long.", "qas": [
                    {"id": "a3", "question": "How many km long is it?",
                     "answers": [{"text": "2,850 km", "answer_start": 6}], "is_impossible": False}]},
            ],
        }
    ],
}


def _write(tmp_path, data, name="gold.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_our_format_reads_questions_answers_docs_types_splits_and_tags(tmp_path):
    gold = load_gold(_write(tmp_path, OUR_GOLD))
    assert gold.format == "qa" and gold.source_documents is None
    assert gold.documents == {"000_a.txt": "ab" * 32}
    first, second, impossible = gold.questions
    assert first.answers == ("Sergei Kislyak", "Deputy Foreign Minister Sergei Kislyak")
    assert (first.doc, first.type, first.split, first.tags) == ("000_a.txt", "who", "tune", ("entity",))
    assert second.split == "test"  # the default split
    assert impossible.answers == () and impossible.doc is None and not impossible.answerable


def test_squad_v2_paragraphs_become_documents_with_title_and_paragraph_number(tmp_path):
    gold = load_gold(_write(tmp_path, SQUAD_V2))
    assert gold.format == "squad-v2.0"
    docs = gold.source_documents
    assert [d.doc_id for d in docs] == ["Danube#0", "Danube#1"]
    assert docs[0].title == "Danube" and docs[0].text == "The Danube flows through Budapest."
    assert docs[0].sha256 == hashlib.sha256(b"The Danube flows through Budapest.").hexdigest()
    assert gold.documents == {d.doc_id: d.sha256 for d in docs}


def test_squad_questions_get_their_paragraph_as_gold_doc_and_is_impossible_as_unanswerable(tmp_path):
    a1, a2, a3 = load_gold(_write(tmp_path, SQUAD_V2)).questions
    assert (a1.answers, a1.doc, a1.type, a1.split) == (("Budapest",), "Danube#0", "where", "test")
    assert (a2.answers, a2.doc, a2.type) == ((), None, "unanswerable")  # plausible answers are not gold
    assert (a3.doc, a3.type) == ("Danube#1", "how-many")


def test_squad_v1_1_without_is_impossible_reads_as_v1(tmp_path):
    v1 = {"version": "1.1", "data": [{"title": "T", "paragraphs": [
        {"context": "Ada wrote it.", "qas": [{"id": "x", "question": "Who wrote it?",
                                               "answers": [{"text": "Ada", "answer_start": 0}]}]}]}]}
    gold = load_gold(_write(tmp_path, v1))
    assert gold.format == "squad-v1.1"
    assert gold.questions[0].answers == ("Ada",) and gold.questions[0].type == "who"


def test_a_squad_title_seen_twice_continues_its_paragraph_numbers(tmp_path):
    article = {"title": "T", "paragraphs": [{"context": "One.", "qas": []}]}
    gold = load_gold(_write(tmp_path, {"data": [article, article]}))
    assert [d.doc_id for d in gold.source_documents] == ["T#0", "T#1"]


def test_gold_conversations_read_dialogues_and_turns(tmp_path):
    data = {"version": 1, "dialogues": [{"id": "c01", "turns": [
        {"question": "Who led the Russian delegation?", "answers": ["Sergei Kislyak"], "doc": "000_a.txt"},
        {"question": "And the American one?", "answers": ["John C. Rood"], "doc": "000_a.txt"},
        {"question": "And the Chinese one?", "answers": [], "doc": None},
    ]}]}
    gold = load_gold(_write(tmp_path, data))
    assert gold.format == "conversations" and gold.questions == []
    (dialogue,) = gold.dialogues
    assert dialogue.id == "c01" and len(dialogue.turns) == 3
    assert dialogue.turns[0].type == "who" and dialogue.turns[2].type == "unanswerable"
    assert gold.documents == {"000_a.txt": None}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Who led the delegation?", "who"),
        ("In 1851, whom did the queen marry?", "who"),
        ("When do the talks start?", "when"),
        ("In what year was it built?", "when"),
        ("Where will the missiles be stationed?", "where"),
        ("Which country hosted the talks?", "where"),
        ("How many people died?", "how-many"),
        ("Why does Moscow object?", "why"),
        ("What does Washington want?", "what"),
        ("How did the talks end?", "what"),
        ("Name the minister.", "what"),
    ],
)
def test_question_type_is_inferred_from_the_question_word(question, expected):
    assert infer_question_type(question) == expected


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"something": 1}', "not a gold file"),
        ('{"version": 2, "questions": []}', "version"),
        ('{"version": 1, "questions": [{"id": "q1", "question": "Who?", "answers": ["X"], "doc": null}]}', "doc"),
        ('{"version": 1, "questions": [{"id": "q1", "question": "Who?", "answers": "X", "doc": "d"}]}', "answers"),
        ('{"version": 1, "questions": [{"id": "q1", "question": "Who?", "answers": [], "type": "who"}]}',
         "unanswerable"),
        ('{"version": 1, "questions": [{"id": "q1", "question": "Q?", "answers": ["X"], "doc": "d", "type": "how"}]}',
         "unknown type"),
        ('{"version": 1, "questions": [{"id": "q1", "question": "Q?", "answers": []},'
         ' {"id": "q1", "question": "Q?", "answers": []}]}', "duplicate id"),
        ('{"version": 1, "documents": {"a": null}, "questions": [{"id": "q1", "question": "Q?", "answers": ["X"],'
         ' "doc": "b"}]}', "not listed"),
        ('{"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": [{"id": "x", "question": "Q?",'
         ' "answers": []}]}]}]}', "is_impossible"),
        ('{"data": []}', "no paragraphs"),
    ],
)
def test_a_bad_gold_file_is_an_input_error_with_a_one_line_message(tmp_path, content, message):
    with pytest.raises(InputError) as error:
        load_gold(_write(tmp_path, content))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_gold_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_gold(tmp_path / "nowhere.json")
