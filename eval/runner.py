"""Run a gold set through the assistant: make sure there is an index, ask every question, score, aggregate.

``evaluate`` is what ``qa eval`` calls; it dispatches on the gold file's format to ``run_eval`` (a question gold set
or SQuAD) or ``run_conversations`` (gold dialogues). Questions go through ``Assistant.answer_batch``, the same path
the CLI and the UI use, in batches, with a progress bar on stderr (never stdout: ``--json`` output stays clean).

The model-heavy modules (``qa.assistant``, ``embeddings.indexer``) are imported only when a run starts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings, load_settings
from core.errors import IndexFolderError, InputError
from eval.datasets import FORMAT_CONVERSATIONS, GoldQuestion, GoldSet, load_gold
from eval.metrics import summarize, summarize_dialogues
from eval.scoring import score_response

BATCH_SIZE = 32
MANIFEST = "manifest.json"

KIND_QUESTIONS = "questions"
KIND_CONVERSATIONS = "conversations"


@dataclass
class EvalResult:
    """The outcome of one run.

    ``metrics`` is the dict ``qa eval --json`` prints (see ``eval.metrics.summarize``); ``rows`` holds one dict per
    question or turn (see ``eval.scoring``); ``warnings`` are one-line notes about the gold set against the index
    (say, an article changed since the gold answers were written).
    """

    metrics: dict
    rows: list[dict]
    gold_path: str
    index_dir: str
    kind: str = KIND_QUESTIONS
    gold_format: str = ""
    warnings: list[str] = field(default_factory=list)


def evaluate(
    gold_path: str | Path, index_dir: str | Path, settings: Settings | None = None, progress: bool = True
) -> EvalResult:
    """Run any gold file: gold dialogues through ``run_conversations``, anything else through ``run_eval``."""
    gold = load_gold(gold_path)
    if gold.format == FORMAT_CONVERSATIONS:
        return _run_dialogue_set(gold, Path(gold_path), Path(index_dir), settings, progress)
    return _run_question_set(gold, Path(gold_path), Path(index_dir), settings, progress)


def run_eval(
    gold_path: str | Path, index_dir: str | Path, settings: Settings | None = None, progress: bool = True
) -> EvalResult:
    """Ask every question of a gold set (our format or SQuAD v1.1/v2.0) and score the answers.

    For SQuAD, when ``index_dir`` holds no index yet, one is built there from the file's paragraphs first; every
    question is then asked against the whole index (open-domain). For our format the index must exist.
    Raises ``InputError`` for a bad gold file or a conversation file, ``IndexFolderError`` for a missing index or
    one that lacks the gold documents.
    """
    gold = load_gold(gold_path)
    if gold.format == FORMAT_CONVERSATIONS:
        raise InputError(f"{gold_path} holds gold conversations; run it with run_conversations (or evaluate)")
    return _run_question_set(gold, Path(gold_path), Path(index_dir), settings, progress)


def run_conversations(
    gold_path: str | Path, index_dir: str | Path, settings: Settings | None = None, progress: bool = True
) -> EvalResult:
    """Run each gold dialogue through a fresh ``Conversation`` and score every turn.

    ``metrics`` holds the usual keys over all turns plus ``n_dialogues``, ``followup_accuracy`` and
    ``followup_accuracy_after_first`` (see ``eval.metrics.summarize_dialogues``).
    Raises ``InputError`` for a file that is not gold conversations, ``IndexFolderError`` as ``run_eval``.
    """
    gold = load_gold(gold_path)
    if gold.format != FORMAT_CONVERSATIONS:
        raise InputError(f"{gold_path} is not a gold conversation file (expected a 'dialogues' list)")
    return _run_dialogue_set(gold, Path(gold_path), Path(index_dir), settings, progress)


def _run_question_set(gold: GoldSet, gold_path: Path, index_dir: Path, settings, progress: bool) -> EvalResult:
    settings = load_settings() if settings is None else settings
    if gold.source_documents is not None and not (index_dir / MANIFEST).exists():
        from embeddings.indexer import index_documents

        index_documents(list(gold.source_documents), index_dir, settings)
    assistant = _load_assistant(index_dir, settings)
    warnings = check_documents(gold, assistant.documents, index_dir)
    rows = ask_questions(assistant, gold.questions, progress=progress)
    return EvalResult(
        metrics=summarize(rows),
        rows=rows,
        gold_path=str(gold_path),
        index_dir=str(index_dir),
        kind=KIND_QUESTIONS,
        gold_format=gold.format,
        warnings=warnings,
    )


def _run_dialogue_set(gold: GoldSet, gold_path: Path, index_dir: Path, settings, progress: bool) -> EvalResult:
    from qa.conversation import Conversation

    settings = load_settings() if settings is None else settings
    assistant = _load_assistant(index_dir, settings)
    warnings = check_documents(gold, assistant.documents, index_dir)
    rows = ask_dialogues(gold, lambda: Conversation(assistant), progress=progress)
    return EvalResult(
        metrics=summarize_dialogues(rows),
        rows=rows,
        gold_path=str(gold_path),
        index_dir=str(index_dir),
        kind=KIND_CONVERSATIONS,
        gold_format=gold.format,
        warnings=warnings,
    )


def _load_assistant(index_dir: Path, settings: Settings):
    if not (index_dir / MANIFEST).exists():
        raise IndexFolderError(f"no index at {index_dir}; run `qa index` first")
    from qa.assistant import Assistant

    assistant = Assistant.load(index_dir, settings)
    # Load the model and spaCy now, so the first batch's latency measures answering, not start-up.
    assistant.answer("warm up")
    return assistant


def check_documents(gold: GoldSet, documents: dict, index_dir: str | Path) -> list[str]:
    """Compare the gold set's documents with the index's (``doc_id -> Document``).

    Raises ``IndexFolderError`` when gold documents are missing from the index (every question on them would
    silently score 0). Returns warnings for documents whose sha256 differs from the gold set's, and for gold
    questions none of whose answers occurs in their document's text.
    """
    missing = sorted(doc for doc in gold.documents if doc not in documents)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        hint = (
            "pass --index with a new folder to build one from the SQuAD file"
            if gold.source_documents is not None
            else "index the articles the gold set was written for with `qa index`"
        )
        raise IndexFolderError(f"the index at {index_dir} lacks {len(missing)} gold document(s): {shown}; {hint}")
    warnings = []
    for doc, sha in gold.documents.items():
        if sha is not None and documents[doc].sha256 != sha:
            warnings.append(f"{doc} changed since the gold set was written (sha256 differs)")
    for q in _gold_items(gold):
        if q.answerable and not any(a in documents[q.doc].text for a in q.answers):
            warnings.append(f"{q.id}: no gold answer occurs in {q.doc}")
    return warnings


def _gold_items(gold: GoldSet) -> list[GoldQuestion]:
    if gold.format == FORMAT_CONVERSATIONS:
        return [q for dialogue in gold.dialogues for _, q in _dialogue_questions(dialogue)]
    return list(gold.questions)


def _progress_bar(total: int, unit: str, progress: bool):
    from tqdm import tqdm

    # disable=None lets tqdm stay quiet when stderr is not a terminal (logs, CI, pytest).
    return tqdm(total=total, unit=unit, desc="qa eval", file=sys.stderr, disable=None if progress else True)


def ask_questions(assistant, questions: Sequence[GoldQuestion], progress: bool = True) -> list[dict]:
    """Answer ``questions`` with ``assistant.answer_batch`` in batches of ``BATCH_SIZE``; one scored row each."""
    rows: list[dict] = []
    with _progress_bar(len(questions), "q", progress) as bar:
        for start in range(0, len(questions), BATCH_SIZE):
            batch = questions[start : start + BATCH_SIZE]
            responses = assistant.answer_batch([q.question for q in batch])
            if len(responses) != len(batch):
                raise RuntimeError(f"answer_batch returned {len(responses)} responses for {len(batch)} questions")
            rows.extend(score_response(q, r) for q, r in zip(batch, responses))
            bar.update(len(batch))
    return rows


def _dialogue_questions(dialogue) -> list[tuple[int, GoldQuestion]]:
    return [
        (
            n,
            GoldQuestion(
                id=f"{dialogue.id}.{n}",
                question=turn.question,
                answers=turn.answers,
                doc=turn.doc,
                type=turn.type,
                split=dialogue.split,
            ),
        )
        for n, turn in enumerate(dialogue.turns, start=1)
    ]


def ask_dialogues(gold: GoldSet, start_conversation: Callable[[], object], progress: bool = True) -> list[dict]:
    """Ask each dialogue's turns in order through a fresh conversation (``start_conversation()``, with ``ask``).

    Rows carry ``dialogue`` (its id) and ``turn`` (counting from 1) besides the usual keys; a row's ``id`` is
    ``"<dialogue>.<turn>"``.
    """
    rows: list[dict] = []
    n_turns = sum(len(d.turns) for d in gold.dialogues)
    with _progress_bar(n_turns, "turn", progress) as bar:
        for dialogue in gold.dialogues:
            conversation = start_conversation()
            for n, question in _dialogue_questions(dialogue):
                row = score_response(question, conversation.ask(question.question))
                rows.append({**row, "dialogue": dialogue.id, "turn": n})
                bar.update(1)
    return rows
