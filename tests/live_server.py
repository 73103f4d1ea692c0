"""A real ``qa serve`` over a tiny index, started once per test session and shared by the modules that name this
plugin (``pytest_plugins = ["tests.live_server"]``), so the web tests pay for one server start, not one each.

The helpers speak Gradio's HTTP API directly (``/gradio_api/call/<endpoint>``), which is how a browser or a script
reaches the chat, and which lets tests send what ``gradio_client`` refuses to encode (lone surrogates, nulls).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.load_test import stop_server
from tests.conftest import REBUILD_WAIT_S, ROOT, WAIT_S

# Four short articles with no line in common (so none is taken for site furniture); the last carries markup that
# must reach the browser as text.
ARTICLES = {
    "budapest.txt": "Arms talks in Budapest\nDeputy Foreign Minister Sergei Kislyak led the Russian delegation at the "
                    "talks in Budapest on Thursday.\nThe American side was led by John Rood, the acting under "
                    "secretary of state.\n",
    "harvest.txt": "Harvest report from Iowa\nFarmers in Iowa harvested a record crop of corn this autumn, officials "
                   "said on Monday.\nPrices fell by nine percent as the grain elevators filled up.\n",
    "bridge.txt": "Bridge opening in Lisbon\nThe mayor of Lisbon opened the new river bridge on Saturday after four "
                  "years of work.\nEngineers said the bridge can carry forty thousand cars a day.\n",
    "markup.txt": "Council statement on markup\nThe council statement quoted <script>window.__pwned = 1</script> and "
                  "<img src=x onerror=\"window.__pwned = 2\"> in its opening line on Tuesday.\nThe clerk said the "
                  "statement was published by the council of Springfield.\n",
}


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT/
    pid: int
    index_dir: Path
    sources: Path

    def endpoint(self) -> tuple[str, bool]:
        """The chat's API name and whether its message is a dict (a multimodal box) rather than a string."""
        return chat_endpoint(self.url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = REBUILD_WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"qa serve did not answer on {url} within {timeout:.0f}s")


def chat_endpoint(url: str) -> tuple[str, bool]:
    """Find the chat among the app's named endpoints: the one whose first parameter is the message."""
    info = httpx.get(f"{url}gradio_api/info", timeout=WAIT_S).json()["named_endpoints"]
    for preferred in ("/chat", "/respond"):
        if preferred in info:
            first = info[preferred]["parameters"][0]
            return preferred.lstrip("/"), first["python_type"]["type"].startswith("dict")
    for name, spec in info.items():
        params = spec["parameters"]
        if params and params[0].get("parameter_name") == "message":
            return name.lstrip("/"), params[0]["python_type"]["type"].startswith("dict")
    raise AssertionError(f"no chat endpoint among {sorted(info)}")


def call_raw(url: str, api_name: str, body: bytes, timeout: float = REBUILD_WAIT_S) -> tuple[int, str, object]:
    """POST a raw JSON body to an endpoint and read the result: (HTTP status, event, data).

    The event is ``complete`` or ``error`` for a call that ran; for a refused request it is ``""`` and data is the
    response text.
    """
    response = httpx.post(f"{url}gradio_api/call/{api_name}", content=body,
                          headers={"content-type": "application/json"}, timeout=timeout)
    if response.status_code != 200:
        return response.status_code, "", response.text
    event_id = response.json()["event_id"]
    stream = httpx.get(f"{url}gradio_api/call/{api_name}/{event_id}", timeout=timeout).text
    event, data = "", None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            data = json.loads(line.split(":", 1)[1])
    return 200, event, data


def ask_raw(server: LiveServer, message: object) -> tuple[int, str, object]:
    """Send one chat message (any JSON value) as a browser would."""
    api_name, multimodal = server.endpoint()
    if multimodal and isinstance(message, str):
        message = {"text": message, "files": []}
    return call_raw(server.url, api_name, json.dumps({"data": [message]}).encode("utf-8"))


def reply_text(data: object) -> str:
    """Every string in a call's outputs, joined: the chat, the notice, the sources. Which output carries an error
    or an answer is the UI's business; that the user sees it somewhere is the contract tested here."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        return " ".join(reply_text(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return " ".join(reply_text(v) for v in data)
    return ""


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def live_sources(tmp_path_factory) -> Path:
    return write_articles(tmp_path_factory.mktemp("live-articles"), ARTICLES)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, live_sources, embedder) -> LiveServer:
    """``qa serve`` on a free loopback port over an index of ARTICLES; killed at the end of the session."""
    from embeddings.indexer import index_paths

    index_dir = tmp_path_factory.mktemp("live-index") / "index"
    index_paths([live_sources], index_dir, embedder=embedder)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("QA_AUTH", None)
    log = index_dir.parent / "serve.log"  # a file, not a pipe: a full pipe would stall the server
    with open(log, "w") as log_handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--index", str(index_dir), "--port", str(port),
             "--articles", str(live_sources)],
            cwd=ROOT, env=env, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process, log)
        yield LiveServer(url, process.pid, index_dir, live_sources)
    finally:
        stop_server(process)
