"""Durability: real ``qa index`` builds killed with SIGKILL at every stage of writing and at arbitrary moments
leave an index that loads and answers as before (or, once swapped, as after); the next build cleans up; and every
file of a real index, damaged in every way, is refused with one line naming it and the rebuild command."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import IndexFolderError
from embeddings.index_store import PAUSE_ENV, STAGES
from embeddings.indexer import index_paths
from qa.assistant import Assistant
from tests.conftest import ROOT
from tests.live_server import ARTICLES as LIVE_ARTICLES
from tests.live_server import write_articles

# Three of the live server's articles: no line in common, so none is taken for site furniture.
ARTICLES = {name: LIVE_ARTICLES[name] for name in ("budapest.txt", "harvest.txt", "bridge.txt")}
KEPT = ["budapest.txt", "harvest.txt"]  # the killed builds drop bridge.txt: an update that embeds nothing
QUESTION = "Who led the Russian delegation in Budapest?"
SWAPPED_FROM = STAGES.index("swapped")  # from this stage on, the new index is the one in place
TIMED_KILLS = 4
MUTATIONS = ("truncated", "first bit flipped", "middle bit flipped", "last bit flipped", "emptied",
             "swapped with the next file", "deleted")


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Path:
    return write_articles(tmp_path_factory.mktemp("articles"), ARTICLES)


@pytest.fixture(scope="module")
def previous(tmp_path_factory, articles, embedder) -> Path:
    """A folder whose ``index`` holds all three articles: the index every killed build must not lose."""
    parent = tmp_path_factory.mktemp("previous")
    index_paths([articles], parent / "index", embedder=embedder)
    return parent


def answer_key(index_dir: Path, embedder) -> tuple:
    """What a user sees: the articles, the answer with its offsets, and the cited passages."""
    assistant = Assistant.load(index_dir, Settings(), embedder=embedder)
    response = assistant.answer(QUESTION)
    answer = response.answer
    return (tuple(sorted(assistant.documents)),
            None if answer is None else (answer.text, answer.doc_id, answer.start, answer.end),
            tuple((c.doc_id, c.start, c.end) for c in response.citations))


@pytest.fixture(scope="module")
def keys(previous, articles, embedder, tmp_path_factory) -> dict[str, tuple]:
    """The answer key of the previous index and of the index an uninterrupted build makes."""
    after = tmp_path_factory.mktemp("after")
    shutil.copytree(previous, after, symlinks=True, dirs_exist_ok=True)
    index_paths([articles / name for name in KEPT], after / "index", embedder=embedder)
    old, new = answer_key(previous / "index", embedder), answer_key(after / "index", embedder)
    assert old != new and "bridge.txt" in old[0] and "bridge.txt" not in new[0]
    return {"old": old, "new": new}


def copy_of(previous: Path, target: Path, plain: bool = False) -> Path:
    """A copy of the previous index's folder; ``plain`` makes ``index`` a real folder instead of a link."""
    if plain:
        target.mkdir()
        shutil.copytree(previous / "index", target / "index")  # follows the link: a plain copy of the version
    else:
        shutil.copytree(previous, target, symlinks=True)
    return target / "index"


def start_build(index_dir: Path, articles: Path, pause_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop(PAUSE_ENV, None)
    if pause_at is not None:
        env[PAUSE_ENV] = pause_at
    return subprocess.Popen([sys.executable, "-m", "cli.main", "index", *[str(articles / n) for n in KEPT],
                             "--index", str(index_dir)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_paused(build: subprocess.Popen, stage: str) -> None:
    """Read the build's stderr until it says it stopped at ``stage`` (imports may warn before that)."""
    seen = []
    for line in build.stderr:
        if line.strip() == f"qa: paused at {stage}":
            return
        seen.append(line)
    raise AssertionError(f"the build never paused at {stage}: {''.join(seen)[-2000:]}")


def leftovers(index_dir: Path) -> list[str]:
    """Everything beside the index but the index and the version it links to."""
    keep = {index_dir.name, index_dir.resolve().name}
    return sorted(p.name for p in index_dir.parent.iterdir() if p.name not in keep)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()


def check_after_kill(index_dir, articles, embedder, keys, expected: set[str]) -> list[str]:
    """The index answers as one of ``expected``; a real build then leaves nothing stale. Returns the leftovers
    the killed build had left."""
    assert answer_key(index_dir, embedder) in {keys[e] for e in expected}
    stale = leftovers(index_dir)
    index_paths([articles / name for name in KEPT], index_dir, embedder=embedder)
    assert leftovers(index_dir) == []
    assert answer_key(index_dir, embedder) == keys["new"]
    return stale


@pytest.mark.parametrize("plain", [False, True], ids=["linked-index", "plain-folder-index"])
def test_a_build_killed_at_every_stage_leaves_a_loadable_index_answering_the_same(
        plain, previous, articles, embedder, keys, tmp_path):
    stages = STAGES if not plain else STAGES[SWAPPED_FROM - 3:SWAPPED_FROM + 1]
    stale_seen = 0
    for stage in stages:
        index_dir = copy_of(previous, tmp_path / stage, plain)
        build = start_build(index_dir, articles, pause_at=stage)
        wait_paused(build, stage)
        expected = {"new"} if STAGES.index(stage) >= SWAPPED_FROM else {"old"}
        # While the build is stopped mid-way, a reader sees a whole index, never half of one.
        assert answer_key(index_dir, embedder) in {keys[e] for e in expected}
        kill(build)
        stale_seen += bool(check_after_kill(index_dir, articles, embedder, keys, expected))
    assert stale_seen >= len(stages) - 3  # most stages leave something behind, and the next build removed it


def test_builds_killed_after_arbitrary_delays_leave_the_old_or_the_new_index(previous, articles, embedder, keys,
                                                                             tmp_path):
    timing_dir = copy_of(previous, tmp_path / "timing")
    started = time.monotonic()
    build = start_build(timing_dir, articles)
    assert build.wait(timeout=120) == 0, build.stderr.read()
    build.stderr.close()
    duration = time.monotonic() - started
    for i in range(TIMED_KILLS):
        index_dir = copy_of(previous, tmp_path / f"kill-{i}")
        build = start_build(index_dir, articles)
        time.sleep(duration * (0.45 + 0.6 * i / TIMED_KILLS))  # spread over the end of the run, where it writes
        kill(build)
        check_after_kill(index_dir, articles, embedder, keys, {"old", "new"})


def mutate(folder: Path, name: str, mutation: str, files: list[str]) -> None:
    path = folder / name
    data = path.read_bytes()
    if mutation == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif mutation.endswith("bit flipped"):
        at = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[mutation.split()[0]]
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:])
    elif mutation == "emptied":
        path.write_bytes(b"")
    elif mutation == "swapped with the next file":
        other = folder / files[(files.index(name) + 1) % len(files)]
        other_data = other.read_bytes()
        other.write_bytes(data)
        path.write_bytes(other_data)
    elif mutation == "deleted":
        path.unlink()


def test_every_damaged_index_file_is_refused_naming_the_file_and_the_rebuild_command(previous, embedder, tmp_path):
    version = (previous / "index").resolve()
    files = sorted(p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file())
    assert "manifest.json" in files and "dense.faiss" in files and any(f.startswith("lexical/") for f in files)
    failures = []
    for name in files:
        for mutation in MUTATIONS:
            index_dir = tmp_path / f"{name.replace('/', '_')}-{mutation.replace(' ', '_')}"
            shutil.copytree(version, index_dir)
            mutate(index_dir, name, mutation, files)
            try:
                Assistant.load(index_dir, Settings(), embedder=embedder)
                failures.append(f"{name} {mutation}: loaded")
                continue
            except IndexFolderError as error:
                message = str(error)
            named = [name]
            if mutation.startswith("swapped"):
                named.append(files[(files.index(name) + 1) % len(files)])
            if "\n" in message or "qa index" not in message or not any(n in message for n in named):
                failures.append(f"{name} {mutation}: {message}")
            shutil.rmtree(index_dir)
    assert failures == []
    assert len(files) * len(MUTATIONS) >= 70
