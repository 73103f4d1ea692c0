"""Soak: clients asking, uploading, removing and undoing against a real ``qa serve`` for minutes, with one kill -9
and a restart in the middle; then every upload must be listed and answerable, removed, or refused with a reason,
and the library must agree with the index.

    python -m bench.soak                        # 8 clients, 600 s, the kill at 300 s
    python -m bench.soak --clients 4 --seconds 60 --json soak.json

Each client is one browser tab (its own ``gradio_client`` session). Its next action is drawn (seeded): ask a gold
question or about one of its own uploads (60%), upload a new article that names a made-up harbour master (20%),
remove one of its uploads (10%), and right after a removal, undo it half of the time (an undo lasts until the
tab's next action). While the server is down, a call fails; the client waits, reconnects as a reloaded tab would,
and its failed call counts apart ("during the restart"). An upload whose call failed may or may not have been
saved before the kill: at the end it must be either listed and answerable or absent, never listed and unanswerable.
Loopback only; the server's resident memory is sampled every 5 s. Not part of ``make test``: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import SEEDS, emit, machine, percentiles, table
from bench.load_test import gold_questions, rss_mb, start_server, stop_server

SYLLABLES = ["ka", "vel", "dor", "mi", "sun", "tra", "bel", "lo", "ran", "qui", "zen", "har", "mo", "fi", "gal"]


def made_up(number: int, parts: int) -> str:
    """A word no article holds, one for each number below 15**parts: "Kaveldor". Drawn at random, two of a
    thousand uploads shared a town, and its question then had two right answers."""
    syllables = []
    for _ in range(parts):
        number, digit = divmod(number, len(SYLLABLES))
        syllables.append(SYLLABLES[digit])
    return "".join(syllables).capitalize()


def person(number: int) -> str:
    """A made-up name that never spells a town: "Kavelmison Dorsunson". Names of four syllables had been other
    uploads' towns, so a town's question found the article its name was in as well as its own (no town ends in
    "son": no syllable does)."""
    return f"{made_up(number * 7 % 3375, 3)}son {made_up(number * 13 % 3375, 3)}son"


@dataclass
class Upload:
    name: str
    town: str
    master: str
    state: str = "uncertain"  # listed, refused, removed, or uncertain: its last call failed (done or not)
    reason: str = ""

    @property
    def question(self) -> str:
        return f"Who is the harbour master of {self.town}?"

    def text(self) -> str:
        return (f"Harbour news from {self.town}\nThe harbour master of {self.town}, {self.master}, opened the new "
                f"ferry terminal on Monday. She said the terminal would serve a million passengers a year.\n")


@dataclass
class Shared:
    url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict = field(default_factory=lambda: {"ask": [], "upload": [], "remove": [], "undo": []})
    errors: list = field(default_factory=list)
    refusals: list = field(default_factory=list)  # a person's request refused with a reason: not a fault
    restart_failures: int = 0
    requests: int = 0
    down: bool = False


def _answer_text(result) -> str:
    chat = result[1] if isinstance(result, (list, tuple)) and len(result) > 1 else []
    return str(chat[-1]["content"]) if chat else ""


def _note(result) -> str:
    """The library note of a reply (the API returns the outputs that are not session state)."""
    return str(result[0] if isinstance(result, (list, tuple)) else result)


def _client(shared: Shared):
    from gradio_client import Client

    while True:
        while shared.down:
            time.sleep(0.5)
        try:
            return Client(shared.url, verbose=False, analytics_enabled=False, download_files=False)
        except Exception:  # noqa: BLE001 - the server is starting: try again
            time.sleep(1.0)


def _client_loop(number: int, shared: Shared, deadline: float, folder: Path, uploads: list[Upload]) -> None:
    from gradio_client import handle_file

    rng = random.Random(number)
    questions = gold_questions()
    client = _client(shared)
    undo: Upload | None = None
    made = 0
    while time.monotonic() < deadline:
        listed = [u for u in uploads if u.state == "listed"]
        roll = rng.random()
        if undo is not None and roll < 0.5:
            kind = "undo"
        elif roll < 0.6:
            kind = "ask"
        elif roll < 0.8:
            kind = "upload"
        else:
            kind = "remove" if listed else "ask"
        started = time.perf_counter()
        problem = None
        try:
            if kind == "ask":
                mine = [u for u in listed if rng.random() < 0.3]
                question = mine[0].question if mine else rng.choice(questions)
                if not _answer_text(client.predict(question, api_name="/chat")):
                    problem = f"{question!r}: no answer message"
            elif kind == "upload":
                made += 1
                unique = number * 1000 + made  # clients < 32 and uploads < 1000 each: below 15**4
                upload = Upload(f"soak-{number}-{made}.txt", made_up(unique, 4), person(unique))
                uploads.append(upload)
                path = folder / upload.name
                path.write_text(upload.text(), encoding="utf-8")
                note = _note(client.predict([handle_file(path)], api_name="/add_articles"))
                upload.state, upload.reason = ("listed", "") if "Indexing" in note or "Added" in note \
                    else ("refused", " ".join(note.split())[:160])
            elif kind == "remove":
                upload = rng.choice(listed)
                note = _note(client.predict(upload.name, api_name="/remove_article"))
                if "qa-error" in note:  # refused: still being indexed, or changes are off
                    undo = None  # the attempt was this tab's next action all the same
                    with shared.lock:
                        shared.refusals.append(" ".join(note.split())[:160])
                else:
                    upload.state, undo = "removed", upload
            else:
                note = _note(client.predict(undo.name, api_name="/undo_removal"))
                if "can no longer" in note:
                    problem = f"undo {undo.name}: {' '.join(note.split())[:160]}"
                else:
                    undo.state = "listed"
            if kind != "remove":
                undo = None  # any other action of this tab ends its undo
        except Exception as error:  # noqa: BLE001 - every failure counts, whatever it is
            if kind in ("upload", "remove", "undo"):
                (uploads[-1] if kind == "upload" else upload if kind == "remove" else undo).state = "uncertain"
            if shared.down or "Connect" in type(error).__name__ or "connect" in str(error).lower():
                with shared.lock:
                    shared.restart_failures += 1
                    shared.requests += 1
                client, undo = _client(shared), None  # a reloaded tab: a new session
                continue
            problem = f"{kind}: {type(error).__name__}: {' '.join(str(error).split())[:160]}"
        elapsed = (time.perf_counter() - started) * 1000
        with shared.lock:
            shared.requests += 1
            if problem is None:
                shared.latencies[kind].append(elapsed)
            else:
                shared.errors.append(problem)
    client.close()


def _sample_rss(process_of, samples: list, stop_at: threading.Event, started: float) -> None:
    while not stop_at.wait(5.0):
        process = process_of()
        try:
            samples.append((round(time.monotonic() - started), rss_mb(process.pid)))
        except (OSError, ValueError):  # the server is being restarted
            pass


def _final_check(url: str, uploads: list[Upload], index_dir: Path, articles: Path, upload_dir: Path) -> dict:
    """Every upload's end state as the server shows it, and whether the index holds exactly the folders' articles."""
    from gradio_client import Client

    from embeddings.indexer import documents_read_before
    from ui.library import removed_ids
    from ui.session import MAX_TURNS

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    counts = {"listed and answerable": 0, "listed, cited, answered from another": 0, "listed, not answerable": 0,
              "removed and gone": 0,
              "removed, still listed": 0, "refused with a reason": 0, "added, not listed": 0,
              "call cut by the kill, then listed": 0, "call cut by the kill, then absent": 0}
    missed = []  # what the chat said to a listed upload's question it did not answer
    for number, upload in enumerate(uploads, 1):
        if number % MAX_TURNS == 0:  # a fresh conversation before this one refuses a question
            client.close()
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        shown = f"<code>{upload.name}</code>" in client.predict(upload.name, api_name="/library")
        if shown and upload.state in ("listed", "uncertain"):
            # Hundreds of uploads differ only in their made-up names: a question may be answered from a sibling
            # while its own article is among the cited passages (in the index and found), which is no loss.
            reply = client.predict(upload.question, api_name="/chat")
            cited = upload.name in str(reply[2] if isinstance(reply, (list, tuple)) and len(reply) > 2 else "")
            outcome = ("listed and answerable" if upload.master in _answer_text(reply) else
                       "listed, cited, answered from another" if cited else "listed, not answerable")
            counts[outcome] += 1
            if outcome != "listed and answerable" and len(missed) < 5:
                missed.append(f"{upload.name} {upload.question!r} -> {_answer_text(reply)[:300]!r}")
        if upload.state == "uncertain":
            counts[f"call cut by the kill, then {'listed' if shown else 'absent'}"] += 1
        elif upload.state == "refused":
            counts["refused with a reason"] += 1
        elif upload.state == "removed":
            counts["removed, still listed" if shown else "removed and gone"] += 1
        elif not shown:
            counts["added, not listed"] += 1
    client.close()
    on_disk = {p.name for p in upload_dir.iterdir() if p.is_file() and not p.name.startswith(".")}
    on_disk |= {p.name for p in articles.iterdir() if p.is_file()} - removed_ids(upload_dir)
    indexed = set(documents_read_before(index_dir))
    return {"uploads": counts, "missed": missed, "index_agrees_with_folders": indexed == on_disk,
            "only_in_index": sorted(indexed - on_disk)[:5], "only_in_folders": sorted(on_disk - indexed)[:5]}


def _wait_idle(url: str, seconds: float = 300.0) -> None:
    """Until the library has no rebuild running (a fresh session's status is empty; the log says "indexing")."""
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    probe = f"soak-probe-{int(time.time())}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # a search answers from the assistant now: wait until two agree
        first = client.predict(probe, api_name="/library")
        time.sleep(5.0)
        if client.predict(probe, api_name="/library") == first and first:
            break
    client.close()


def _ask_once_each(url: str, clients: int) -> None:
    """One gold question from each of ``clients`` tabs at once: a fresh server warmed as the soak's was."""
    from gradio_client import Client

    questions = gold_questions()

    def ask(i: int) -> None:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.predict(questions[i % len(questions)], api_name="/chat")
        client.close()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_soak(clients: int, seconds: float, kill_at: float) -> dict:
    root = Path(tempfile.mkdtemp(prefix="qa-soak-"))
    articles, index_dir, upload_dir, incoming = root / "articles", root / "index", root / "uploads", root / "in"
    shutil.copytree(SEEDS, articles)
    incoming.mkdir()
    subprocess.run([sys.executable, "-m", "cli.main", "index", str(articles), "--index", str(index_dir)],
                   check=True, capture_output=True)
    extra = ["--articles", str(articles), "--uploads", str(upload_dir), "--feedback", str(root / "votes.jsonl")]
    url, process, log = start_server(index_dir, extra)
    holder = {"process": process}
    shared = Shared(url)
    from gradio_client import Client

    warm = Client(url, verbose=False)
    warm.predict("who led the Russian delegation in Budapest?", api_name="/chat")
    warm.close()
    rss_start = rss_mb(process.pid)
    samples: list = []
    stop_at = threading.Event()
    started = time.monotonic()
    sampler = threading.Thread(target=_sample_rss, args=(lambda: holder["process"], samples, stop_at, started),
                               daemon=True)
    sampler.start()
    uploads: list[list[Upload]] = [[] for _ in range(clients)]
    deadline = started + seconds
    threads = [threading.Thread(target=_client_loop, args=(c, shared, deadline, incoming, uploads[c]), daemon=True)
               for c in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, started + kill_at - time.monotonic()))
    shared.down = True
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    rss_before_kill = max((mb for _, mb in samples), default=None)
    restarted = time.monotonic()
    url, process, log = start_server(index_dir, extra)
    holder["process"], shared.url, shared.down = process, url, False
    restart_s = round(time.monotonic() - restarted, 1)
    first_lines = log.read_text(encoding="utf-8").strip().splitlines()[:3]
    rss_restart = rss_mb(process.pid)
    for thread in threads:
        thread.join(timeout=seconds + 300)
    _wait_idle(url)
    stop_at.set()
    every = [u for group in uploads for u in group]
    check = _final_check(url, every, index_dir, articles, upload_dir)
    rss_end = rss_mb(process.pid)
    stop_server(process)
    # What the same library costs a server that never saw the load: the index grew from 5 articles meanwhile.
    url, process, _ = start_server(index_dir, extra)
    _ask_once_each(url, clients)
    rss_fresh = rss_mb(process.pid)
    stop_server(process)
    shutil.rmtree(root, ignore_errors=True)
    return {"clients": clients, "seconds": seconds, "kill_at_s": kill_at, "requests": shared.requests,
            "errors": len(shared.errors), "error_samples": shared.errors[:5], "refusals": len(shared.refusals),
            "refusal_samples": shared.refusals[:3],
            "failed_during_restart": shared.restart_failures, "restart_s": restart_s, "restart_log": first_lines,
            "latency_ms": {kind: percentiles(values) for kind, values in shared.latencies.items()},
            "rss_mb": {"first_start": rss_start, "peak_before_kill": rss_before_kill, "after_restart": rss_restart,
                       "end": rss_end, "fresh_server_same_library": rss_fresh,
                       "end_vs_fresh": round(rss_end / rss_fresh, 3)},
            "rss_series": samples, "end_state": check, "machine": machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--kill-at", type=float, default=None, help="seconds in (default: half way)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 32 and 10 <= args.seconds <= 1800):
        parser.error("clients must be 1..32 and seconds 10..1800")
    result = run_soak(args.clients, args.seconds, args.seconds / 2 if args.kill_at is None else args.kill_at)
    rows = [[kind, f["n"], f["p50"], f["p95"]] for kind, f in result["latency_ms"].items()]
    print(table(["action", "n", "p50 ms", "p95 ms"], rows))
    print(table(["end state", "uploads"], [[k, v] for k, v in result["end_state"]["uploads"].items()]))
    print(f"requests {result['requests']}, errors {result['errors']}, failed during the restart "
          f"{result['failed_during_restart']}; restart {result['restart_s']} s: {result['restart_log']}")
    print(f"index agrees with the folders: {result['end_state']['index_agrees_with_folders']}; RSS MB "
          f"{result['rss_mb']}")
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
