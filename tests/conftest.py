"""Shared fixtures: the real model, spaCy and an index of the seeds, each made once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Every wait for the page, a server or a rebuild, in one place. Generous, so a busy machine (a training run beside
# the suite) makes a test slower, never red; a hang still ends. QA_TEST_WAIT_S scales them all on a slower machine.
WAIT_S = float(os.environ.get("QA_TEST_WAIT_S", "30"))  # a page element, an answer, one request
REBUILD_WAIT_S = 8 * WAIT_S  # a server started, an upload indexed, a removal applied
# The README question's gold answers (eval/gold_qa.json q001), as a pattern: the reader may give either.
KISLYAK = r"(?:Deputy Foreign Minister )?Sergei Kislyak"


def assert_offsets_exact(documents: dict, response) -> None:
    """The offsets contract for one response: every answer and every citation is its article's slice, and an
    answer's offsets inside its citation mark the answer's words."""
    for answer in response.answers:
        assert documents[answer.doc_id].text[answer.start:answer.end] == answer.text
    for citation in response.citations:
        assert documents[citation.doc_id].text[citation.start:citation.end] == citation.text
    for answer, n in zip(response.answers, response.answer_citations):
        citation = response.citations[n - 1]
        assert citation.doc_id == answer.doc_id
        assert citation.text[answer.start - citation.start:answer.end - citation.start] == answer.text


@pytest.fixture(scope="session")
def embedder():
    from embeddings.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> Path:
    """An index of seeds/ built once; tests that change an index copy the seeds first."""
    from embeddings.indexer import index_paths

    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    index_paths([SEEDS], index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def assistant(seed_index, embedder):
    from core.config import Settings
    from qa.assistant import Assistant

    return Assistant.load(seed_index, Settings(), embedder=embedder)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target
