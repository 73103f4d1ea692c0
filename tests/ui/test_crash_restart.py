"""A real ``qa serve`` killed with SIGKILL while it indexes an upload, then started again: the upload is neither
lost nor stuck, the library and the index agree, and the start says in one line what it did."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

from gradio_client import Client, handle_file

from bench.load_test import stop_server
from tests.conftest import ROOT, SEEDS
from tests.live_server import free_port, wait_until_up

FERRY = ("Ferry news from Leeford\nThe new ferry of Leeford, the Kestrel, sails on Monday, the harbour master "
         "Ingrid Solheim said.\n")


def start(root, index_dir, sources, uploads, log_name):
    port = free_port()
    log = root / log_name
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("QA_AUTH", None)
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--index", str(index_dir), "--port", str(port),
             "--articles", str(sources), "--uploads", str(uploads), "--feedback", str(root / "feedback.jsonl")],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    wait_until_up(url, process, log)
    return process, url, log


def test_a_server_killed_while_it_indexes_an_upload_brings_it_in_at_the_next_start(tmp_path, seed_index):
    sources, index_dir, uploads = tmp_path / "articles", tmp_path / "index", tmp_path / "uploads"
    shutil.copytree(SEEDS, sources)
    shutil.copytree(seed_index, index_dir)
    ferry = tmp_path / "incoming" / "ferry.txt"
    ferry.parent.mkdir()
    ferry.write_text(FERRY, encoding="utf-8")

    process, url, _ = start(tmp_path, index_dir, sources, uploads, "first.log")
    try:
        Client(url, verbose=False).predict([handle_file(ferry)], api_name="/add_articles")
        os.killpg(process.pid, signal.SIGKILL)  # the upload is saved; its rebuild is running or about to
        process.wait()
    finally:
        if process.poll() is None:
            stop_server(process)
    assert (uploads / "ferry.txt").read_text(encoding="utf-8") == FERRY  # saved before the kill: never lost

    process, url, log = start(tmp_path, index_dir, sources, uploads, "second.log")
    try:
        client = Client(url, verbose=False)
        _, chat, *_ = client.predict("Who is the harbour master of Leeford?", api_name="/chat")
        assert "Ingrid Solheim" in str(chat[-1]["content"])
        assert "ferry.txt" in client.predict("", api_name="/library")  # listed, and it can be removed
        started = log.read_text(encoding="utf-8")
        print(f"\nrestart after kill -9: {started.strip().splitlines()[:3]}")
        # Either the kill came before the rebuild swapped the index (the start brings it in, and says so) or after.
        assert "adding and removing articles is off" not in started
        assert "brought the index up to date" in started or "serving 6 articles" in started
    finally:
        stop_server(process)
