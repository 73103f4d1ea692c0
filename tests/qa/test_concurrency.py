"""Concurrency: one Assistant shared by many threads answers exactly as it does alone, and a real ``qa serve``
under 16 concurrent ``gradio_client`` users answers every question (the short run of bench/load_test.py)."""

from __future__ import annotations

import json
import threading

import pytest

from bench.load_test import run_load
from tests.conftest import ROOT

pytest.register_assert_rewrite("tests.live_server")
pytest_plugins = ["tests.live_server"]

THREADS = 8
# Two batches, half the threads starting at each, so at any moment threads are in different batches and stages;
# 8 x 24 questions plus the serial 24 (8 x 150 was the slowest test of the suite: 131 s on an AVX2-only CPU).
QUESTIONS_PER_THREAD = 24
BATCH = 12
LOAD_USERS = 16
LOAD_SECONDS = 8


def answer_key(response) -> tuple:
    """What must not change under concurrency: every answer and citation, text and offsets."""
    return (response.resolved_question,
            tuple((a.text, a.doc_id, a.start, a.end) for a in response.answers),
            tuple((c.n, c.doc_id, c.start, c.end, c.answer_start, c.answer_end) for c in response.citations))


def test_eight_threads_sharing_one_assistant_give_exactly_the_serial_answers(assistant):
    gold = [q["question"] for q in json.loads((ROOT / "eval" / "gold_qa.json").read_text())["questions"]]
    questions = (gold + gold[::-1]) * (QUESTIONS_PER_THREAD // (2 * len(gold)) + 1)
    batches = [questions[i:i + BATCH] for i in range(0, QUESTIONS_PER_THREAD, BATCH)]
    # Batches are the unit of work, answered alone first; each thread then takes them in its own rotation, so at
    # any moment the threads are inside different batches, in the encoder, the retriever or the reader.
    serial = [[answer_key(r) for r in assistant.answer_batch(batch)] for batch in batches]
    results: dict[int, list] = {}
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            order = [(thread + i) % len(batches) for i in range(len(batches))]
            results[thread] = [(b, [answer_key(r) for r in assistant.answer_batch(batches[b])]) for b in order]
        except BaseException as error:  # noqa: BLE001 - reported below, with the thread's result missing
            failures.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == [] and len(results) == THREADS
    answered = 0
    for thread, done in results.items():
        for b, keys in done:
            assert keys == serial[b], f"thread {thread}, batch {b} differs from the serial answers"
            answered += len(keys)
    assert answered == THREADS * QUESTIONS_PER_THREAD


def test_sixteen_concurrent_web_users_get_every_answer_with_bounded_latency_and_memory(live_server):
    # A short first round loads the reader and fills the server's worker threads and their thread pools, so the
    # measured round's growth is what the load itself keeps, not the first question's one-off loading.
    run_load(live_server.url, users=LOAD_USERS, seconds=2)
    report = run_load(live_server.url, users=LOAD_USERS, seconds=LOAD_SECONDS, pid=live_server.pid)
    print(f"\nload: {report}")
    assert report.errors == 0, report.error_samples
    assert report.client_dropped <= max(1, report.requests // 50)  # the server answered them; the client lost them
    assert report.requests >= LOAD_USERS
    assert report.latency_ms["p50"] <= report.latency_ms["p95"] <= report.latency_ms["p99"] < 60_000
    assert report.rss_growth_mb < 300


def test_the_load_test_sends_nothing_beyond_this_machine():
    with pytest.raises(ValueError, match="loopback"):
        run_load("http://192.0.2.10:7860/", users=1, seconds=1)
    with pytest.raises(ValueError, match="users must be"):
        run_load("http://127.0.0.1:9/", users=1000, seconds=1)
