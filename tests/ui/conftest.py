"""One real ``qa serve`` for the UI tests: a subprocess on a free port, over a copy of the seed index and a
temporary copy of seeds/, with its own uploads folder and feedback file (nothing lands in the repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.load_test import stop_server
from tests.conftest import REBUILD_WAIT_S, ROOT, SEEDS
from tests.live_server import free_port, wait_until_up

MAX_FILE_BYTES = 50_000  # small, so the size limit is cheap to hit


@dataclass
class UiServer:
    url: str
    sources: Path  # the articles folder (never written to)
    uploads: Path  # where the chat saves added articles
    index_dir: Path
    feedback: Path
    log: Path


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory, seed_index) -> UiServer:
    root = tmp_path_factory.mktemp("ui-server")
    sources = root / "articles"
    shutil.copytree(SEEDS, sources)
    index_dir = root / "index"
    shutil.copytree(seed_index, index_dir)  # the same articles: serving needs no re-embedding
    uploads = root / "uploads"
    feedback = root / "votes" / "feedback.jsonl"
    log = root / "serve.log"
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "QA_MAX_FILE_BYTES": str(MAX_FILE_BYTES)}
    env.pop("QA_AUTH", None)
    with open(log, "w") as handle:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--index", str(index_dir), "--port", str(port),
             "--articles", str(sources), "--uploads", str(uploads), "--feedback", str(feedback)],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process, log)
        yield UiServer(url, sources, uploads, index_dir, feedback, log)
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def wait_until_added():
    """``wait_until_added(client, name)``: poll the server's /status until ``name`` is indexed; returns the note."""

    def wait(client, name: str, timeout: float = REBUILD_WAIT_S) -> str:
        deadline = time.monotonic() + timeout
        note = ""
        while time.monotonic() < deadline:
            note = client.predict(api_name="/status")
            if name in note and "you can ask about" in note:
                return note
            if "qa-failed" in note:
                raise AssertionError(note)
            time.sleep(0.3)
        raise AssertionError(f"{name} was not indexed within {timeout:.0f}s; last note: {note!r}")

    return wait
