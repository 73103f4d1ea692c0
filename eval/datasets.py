"""Gold sets: our question format, gold conversations, and SQuAD v1.1/v2.0 JSON, read into plain records.

``load_gold(path)`` detects the format from the top-level keys:
- ``{"version": 1, "documents": {...}, "questions": [...]}``        our gold set (DESIGN.md, "Gold-set format")
- ``{"version": 1, "dialogues": [{"id", "turns": [...]}, ...]}``   gold conversations
- ``{"version": "v2.0" | "1.1", "data": [...]}``                    SQuAD; each paragraph becomes a ``Document``

Every problem with a file is a ``core.errors.InputError`` with a one-line message that names the file and the item.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from core.errors import InputError
from core.records import Document

QuestionType = Literal["who", "when", "where", "what", "how-many", "why", "unanswerable"]
QUESTION_TYPES: tuple[QuestionType, ...] = get_args(QuestionType)
DEFAULT_SPLIT = "test"

FORMAT_QA = "qa"
FORMAT_CONVERSATIONS = "conversations"
FORMAT_SQUAD_V1 = "squad-v1.1"
FORMAT_SQUAD_V2 = "squad-v2.0"


@dataclass(frozen=True)
class GoldQuestion:
    """One gold question. ``answers`` is empty (and ``doc`` ``None``) when the articles do not answer it."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc: str | None
    type: QuestionType
    split: str = DEFAULT_SPLIT
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return len(self.answers) > 0


@dataclass(frozen=True)
class GoldTurn:
    """One turn of a gold conversation; the question may lean on earlier turns ("and the American one?")."""

    question: str
    answers: tuple[str, ...]
    doc: str | None
    type: QuestionType

    @property
    def answerable(self) -> bool:
        return len(self.answers) > 0


@dataclass(frozen=True)
class GoldDialogue:
    id: str
    turns: tuple[GoldTurn, ...]
    split: str = DEFAULT_SPLIT


@dataclass
class GoldSet:
    """What a gold file holds.

    ``documents`` maps each doc_id the gold set names to its sha256 (``None`` where the file does not say);
    ``source_documents`` are the articles themselves when the file carries them (SQuAD), else ``None``;
    ``questions`` is empty for a conversation file and ``dialogues`` empty for the others.
    """

    documents: dict[str, str | None]
    questions: list[GoldQuestion]
    source_documents: list[Document] | None = None
    dialogues: list[GoldDialogue] = field(default_factory=list)
    format: str = FORMAT_QA


_WHEN_NOUNS = {"year", "years", "date", "day", "month", "century", "decade", "time", "era", "period"}
_WHERE_NOUNS = {"city", "country", "town", "continent", "place", "region", "location", "village", "nation"}
_WORD = re.compile(r"[a-z]+")


def infer_question_type(question: str) -> QuestionType:
    """A question type from its first question word: who, when, where, how-many, why, or what (the rest).

    "what/which year|date|century..." is ``when`` and "what/which city|country|place..." is ``where``;
    "how many"/"how much" is ``how-many``; any other "how", "which" or a question without a question word is ``what``.
    """
    words = _WORD.findall(question.lower())
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in ("who", "whom", "whose"):
            return "who"
        if word in ("when", "where", "why"):
            return word
        if word == "how":
            return "how-many" if following in ("many", "much") else "what"
        if word in ("what", "which"):
            if following in _WHEN_NOUNS:
                return "when"
            if following in _WHERE_NOUNS:
                return "where"
            return "what"
    return "what"


def load_gold(path: str | Path) -> GoldSet:
    """Read a gold file in any of the three formats (see the module docstring).

    Raises ``InputError`` when the file is missing, not JSON, of no known format, or malformed.
    """
    path = Path(path)
    data = _read_json(path)
    if isinstance(data, dict) and "questions" in data:
        return _parse_qa(data, path)
    if isinstance(data, dict) and "dialogues" in data:
        return _parse_conversations(data, path)
    if isinstance(data, dict) and "data" in data:
        return _parse_squad(data, path)
    raise InputError(
        f"{path} is not a gold file: expected a JSON object with 'questions' (gold set), "
        "'dialogues' (gold conversations) or 'data' (SQuAD)"
    )


def _read_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"gold file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"gold file is a folder, not a file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read gold file {path}: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def _check_version(data: dict, path: Path) -> None:
    if data.get("version") != 1:
        raise InputError(f"{path}: unsupported gold format version {data.get('version')!r} (expected 1)")


def _string(item: dict, key: str, where: str, *, optional: bool = False) -> str | None:
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value


def _answers(item: dict, where: str) -> tuple[str, ...]:
    answers = item.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise InputError(f"{where}: 'answers' must be a list of non-empty strings, got {answers!r}")
    return tuple(dict.fromkeys(answers))  # drop repeats, keep order


def _question_type(item: dict, question: str, answers: tuple[str, ...], where: str) -> str:
    qtype = item.get("type")
    if qtype is None:
        return infer_question_type(question) if answers else "unanswerable"
    if qtype not in QUESTION_TYPES:
        raise InputError(f"{where}: unknown type {qtype!r} (expected one of {', '.join(QUESTION_TYPES)})")
    if (qtype == "unanswerable") == bool(answers):
        raise InputError(f"{where}: type 'unanswerable' must go with empty 'answers' and only with them")
    return qtype


def _doc(item: dict, answers: tuple[str, ...], where: str) -> str | None:
    doc = _string(item, "doc", where, optional=True)
    if answers and doc is None:
        raise InputError(f"{where}: an answerable question needs its 'doc'")
    return doc


def _split(item: dict, where: str) -> str:
    split = item.get("split", DEFAULT_SPLIT)
    if not isinstance(split, str) or not split.strip():
        raise InputError(f"{where}: 'split' must be a non-empty string such as 'tune' or 'test', got {split!r}")
    return split


def _parse_qa(data: dict, path: Path) -> GoldSet:
    _check_version(data, path)
    documents = data.get("documents", {})
    if not isinstance(documents, dict) or not all(v is None or isinstance(v, str) for v in documents.values()):
        raise InputError(f"{path}: 'documents' must map doc ids to sha256 strings")
    raw_questions = data["questions"]
    if not isinstance(raw_questions, list):
        raise InputError(f"{path}: 'questions' must be a list")
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_questions):
        where = f"{path}: question {i + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where} must be an object, got {type(item).__name__}")
        qid, where = _unique_id(item, where, path, seen)
        question = _string(item, "question", where)
        answers = _answers(item, where)
        doc = _doc(item, answers, where)
        if doc is not None and documents and doc not in documents:
            raise InputError(f"{where}: doc {doc!r} is not listed in 'documents'")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InputError(f"{where}: 'tags' must be a list of strings, got {tags!r}")
        questions.append(
            GoldQuestion(
                id=qid,
                question=question,
                answers=answers,
                doc=doc,
                type=_question_type(item, question, answers, where),
                split=_split(item, where),
                tags=tuple(tags),
            )
        )
    all_documents = dict(documents)
    for q in questions:
        if q.doc is not None:
            all_documents.setdefault(q.doc, None)
    return GoldSet(documents=all_documents, questions=questions, format=FORMAT_QA)


def _parse_conversations(data: dict, path: Path) -> GoldSet:
    _check_version(data, path)
    raw_dialogues = data["dialogues"]
    if not isinstance(raw_dialogues, list):
        raise InputError(f"{path}: 'dialogues' must be a list")
    dialogues: list[GoldDialogue] = []
    documents: dict[str, str | None] = dict(data.get("documents") or {})
    seen: set[str] = set()
    for i, item in enumerate(raw_dialogues):
        where = f"{path}: dialogue {i + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where} must be an object, got {type(item).__name__}")
        did = _string(item, "id", where)
        where = f"{path}: dialogue {did}"
        if did in seen:
            raise InputError(f"{where}: duplicate id")
        seen.add(did)
        raw_turns = item.get("turns")
        if not isinstance(raw_turns, list) or not raw_turns:
            raise InputError(f"{where}: 'turns' must be a non-empty list")
        turns = []
        for j, turn in enumerate(raw_turns):
            turn_where = f"{where} turn {j + 1}"
            if not isinstance(turn, dict):
                raise InputError(f"{turn_where} must be an object, got {type(turn).__name__}")
            question = _string(turn, "question", turn_where)
            answers = _answers(turn, turn_where)
            doc = _doc(turn, answers, turn_where)
            if doc is not None:
                documents.setdefault(doc, None)
            turns.append(GoldTurn(question, answers, doc, _question_type(turn, question, answers, turn_where)))
        dialogues.append(GoldDialogue(id=did, turns=tuple(turns), split=_split(item, where)))
    return GoldSet(documents=documents, questions=[], dialogues=dialogues, format=FORMAT_CONVERSATIONS)


def _parse_squad(data: dict, path: Path) -> GoldSet:
    # Imported here: the loader reads web pages and PDFs, which the metrics (and a training machine) never need.
    from embeddings.loader import make_document

    articles = data["data"]
    if not isinstance(articles, list):
        raise InputError(f"{path}: SQuAD 'data' must be a list of articles")
    source_documents: list[Document] = []
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    paragraphs_per_title: dict[str, int] = {}
    has_impossible = False
    for a, article in enumerate(articles):
        where = f"{path}: article {a + 1}"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise InputError(f"{where}: expected an object with a 'paragraphs' list")
        title = article.get("title")
        title = title if isinstance(title, str) and title.strip() else f"article{a + 1}"
        for paragraph in article["paragraphs"]:
            # A title seen twice continues its numbering, so doc ids stay unique.
            i = paragraphs_per_title.get(title, 0)
            paragraphs_per_title[title] = i + 1
            doc_id = f"{title}#{i}"
            p_where = f"{path}: paragraph {doc_id}"
            if not isinstance(paragraph, dict):
                raise InputError(f"{p_where} must be an object")
            context = _string(paragraph, "context", p_where)
            source_documents.append(make_document(doc_id, context, title=title))
            qas = paragraph.get("qas", [])
            if not isinstance(qas, list):
                raise InputError(f"{p_where}: 'qas' must be a list")
            for qa in qas:
                question, impossible = _squad_question(qa, doc_id, p_where, path, seen)
                has_impossible = has_impossible or impossible
                questions.append(question)
    if not source_documents:
        raise InputError(f"{path}: the SQuAD file holds no paragraphs")
    version = str(data.get("version", ""))
    squad_format = FORMAT_SQUAD_V2 if has_impossible or version.lstrip("v").startswith("2") else FORMAT_SQUAD_V1
    return GoldSet(
        documents={d.doc_id: d.sha256 for d in source_documents},
        questions=questions,
        source_documents=source_documents,
        format=squad_format,
    )


def _squad_question(qa: object, doc_id: str, p_where: str, path: Path, seen: set[str]) -> tuple[GoldQuestion, bool]:
    """One SQuAD question of paragraph ``doc_id`` (its id added to ``seen``), and whether it is marked impossible."""
    if not isinstance(qa, dict):
        raise InputError(f"{p_where}: each of 'qas' must be an object")
    qid, q_where = _unique_id(qa, p_where, path, seen)
    question = _string(qa, "question", q_where)
    impossible = bool(qa.get("is_impossible", False))
    raw_answers = [] if impossible else qa.get("answers", [])
    if not isinstance(raw_answers, list) or not all(
        isinstance(x, dict) and isinstance(x.get("text"), str) and x["text"].strip() for x in raw_answers
    ):
        raise InputError(f"{q_where}: 'answers' must be a list of objects with a non-empty 'text'")
    answers = tuple(dict.fromkeys(x["text"] for x in raw_answers))
    if not impossible and not answers:
        raise InputError(f"{q_where}: no answers, and it is not marked is_impossible")
    gold = GoldQuestion(
        id=qid,
        question=question,
        answers=answers,
        doc=doc_id if answers else None,
        type=infer_question_type(question) if answers else "unanswerable",
        split=DEFAULT_SPLIT,
    )
    return gold, impossible


def _unique_id(item: dict, where: str, path: Path, seen: set[str]) -> tuple[str, str]:
    """A question's id, added to ``seen`` (a duplicate is an InputError), and where it is, for messages."""
    qid = _string(item, "id", where)
    where = f"{path}: question {qid}"
    if qid in seen:
        raise InputError(f"{where}: duplicate id")
    seen.add(qid)
    return qid, where
