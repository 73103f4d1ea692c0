"""Load test: concurrent ``gradio_client`` users asking a real ``qa serve`` the gold questions.

    python -m bench.load_test                          # 16 users for 60 s against a fresh server over .qa-index
    python -m bench.load_test --users 4 --seconds 10 --index DIR --json out.json
    python -m bench.load_test --url http://127.0.0.1:7860/ --pid PID    # a server already running

Each user is one browser tab: its own client and session, asking questions one after another. It reports
errors (a failed call, or a reply without an answer message; there must be none), latency p50/p95/p99 as a user
waits (queueing included), throughput, and the server's resident memory before and after. A reply the client
library lost on its side (``gradio_client`` raises CancelledError when its stream reader finishes before the
waiting call reads the last message) is counted apart, as ``client_dropped``, once the next reply shows that the
server did answer it; if the next reply does not, it is an error. Bounded: loopback
only, at most 64 users and 600 s; the server it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from bench.common import DEFAULT_INDEX, GOLD, ROOT, emit, machine, table

MAX_USERS = 64
MAX_SECONDS = 600
CHAT_API = "/chat"


@dataclass
class LoadReport:
    users: int
    seconds: float
    requests: int
    errors: int
    latency_ms: dict  # p50, p95, p99, max
    requests_per_second: float
    rss_start_mb: float | None = None  # the server's, after warm-up
    rss_end_mb: float | None = None
    rss_growth_mb: float | None = None
    client_dropped: int = 0  # replies the server sent and the client library lost (see the module's docstring)
    error_samples: list[str] = field(default_factory=list)  # the first few, one line each


def is_loopback_url(url: str) -> bool:
    from ui.server import is_loopback

    host = urlparse(url).hostname or ""
    return is_loopback(host)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ValueError(f"no memory figure for process {pid}")


def gold_questions() -> list[str]:
    return [q["question"] for q in json.loads(GOLD.read_text(encoding="utf-8"))["questions"]]


def _assistant_messages(result) -> int:
    """How many bot messages the returned chat holds (the chat is the list of role/content messages)."""
    outputs = result if isinstance(result, (list, tuple)) else [result]
    for output in outputs:
        if isinstance(output, list) and all(isinstance(m, dict) and "role" in m for m in output):
            return sum(m["role"] == "assistant" for m in output)
    return 0


def _user(url: str, questions: list[str], offset: int, deadline: float, latencies: list[float],
          errors: list[str], lock: threading.Lock, dropped: list[int]) -> None:
    from concurrent.futures import CancelledError

    from gradio_client import Client

    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    except Exception as error:  # noqa: BLE001 - a user who cannot connect is an error to report
        with lock:
            errors.append(f"connect: {type(error).__name__}: {' '.join(str(error).split())[:160]}")
        return
    answered, lost, i = 0, [], 0  # lost: questions whose reply the client library dropped, not yet accounted
    while time.monotonic() < deadline:
        question = questions[(offset + i) % len(questions)]
        i += 1
        started = time.perf_counter()
        messages = None
        try:
            result = client.predict(question, api_name=CHAT_API)
            messages = _assistant_messages(result)
            problem = None if messages == answered + len(lost) + 1 else "no answer message in the reply"
        except CancelledError:
            lost.append(question)
            continue
        except Exception as error:  # noqa: BLE001 - every failure counts, whatever it is
            problem = f"{type(error).__name__}: {' '.join(str(error).split())[:160]}"
        elapsed_ms = (time.perf_counter() - started) * 1000
        with lock:
            if problem is None:
                latencies.append(elapsed_ms)
                dropped[0] += len(lost)
                answered += 1 + len(lost)
            else:
                errors.extend(f"{q!r}: CancelledError" for q in lost)
                errors.append(f"{question!r}: {problem}")
                answered = answered if messages is None else messages  # count on from what the chat holds
            lost = []
    if lost:
        with lock:
            errors.extend(f"{q!r}: CancelledError" for q in lost)
    client.close()


def run_load(url: str, users: int = 16, seconds: float = 60.0, questions: list[str] | None = None,
             pid: int | None = None) -> LoadReport:
    """Drive the chat at ``url`` (loopback only) with ``users`` concurrent sessions for ``seconds``."""
    if not is_loopback_url(url):
        raise ValueError(f"the load test only sends traffic to this machine; {url} is not a loopback address")
    if not (1 <= users <= MAX_USERS and 0 < seconds <= MAX_SECONDS):
        raise ValueError(f"users must be 1..{MAX_USERS} and seconds 1..{MAX_SECONDS}")
    questions = gold_questions() if questions is None else questions
    latencies: list[float] = []
    errors: list[str] = []
    dropped = [0]
    lock = threading.Lock()
    rss_start = rss_mb(pid) if pid is not None else None
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=_user, args=(url, questions, u * 7, deadline, latencies, errors, lock, dropped),
                                daemon=True) for u in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)  # a call in flight at the deadline may finish late, but not forever
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        errors.append(f"{hung} users still waiting for a reply two minutes after the end")
    elapsed = time.monotonic() - started
    rss_end = rss_mb(pid) if pid is not None else None
    values = np.asarray(latencies or [np.nan])
    return LoadReport(
        users=users, seconds=round(elapsed, 1), requests=len(latencies) + len(errors) + dropped[0],
        errors=len(errors),
        latency_ms={name: round(float(np.percentile(values, q)), 1)
                    for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        requests_per_second=round(len(latencies) / elapsed, 2),
        rss_start_mb=rss_start, rss_end_mb=rss_end,
        rss_growth_mb=None if pid is None else round(rss_end - rss_start, 1),
        client_dropped=dropped[0], error_samples=errors[:5])


def start_server(index_dir: Path, extra: list[str] = ()) -> tuple[str, subprocess.Popen, Path]:
    """``qa serve`` (with ``extra`` arguments) on a free loopback port; returns its URL once it answers, the process
    and its log file."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = Path(tempfile.mkstemp(prefix="qa-serve-", suffix=".log")[1])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--index", str(index_dir), "--port",
                                    str(port), *extra], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited with {process.returncode}: {log.read_text()[-500:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return url, process, log
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise RuntimeError(f"qa serve did not answer within 300 s; its log: {log}")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (loopback only); default: start one")
    parser.add_argument("--pid", type=int, help="the running server's process id, to measure its memory")
    parser.add_argument("--index", default=str(DEFAULT_INDEX), help="index for the server it starts")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    process = None
    try:
        if args.url is None:
            url, process, _ = start_server(Path(args.index))
            pid = process.pid
        else:
            url, pid = args.url, args.pid
        report = run_load(url, args.users, args.seconds, pid=pid)
    except (ValueError, RuntimeError) as error:
        print(f"load_test: {error}", file=sys.stderr)
        return 2
    finally:
        if process is not None:
            stop_server(process)
    print(table(["users", "seconds", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s",
                 "server MB before", "after", "growth"],
                [[report.users, report.seconds, report.requests, report.errors, report.latency_ms["p50"],
                  report.latency_ms["p95"], report.latency_ms["p99"], report.latency_ms["max"],
                  report.requests_per_second, report.rss_start_mb, report.rss_end_mb, report.rss_growth_mb]]))
    for sample in report.error_samples:
        print(f"error: {sample}")
    emit({"load_test": asdict(report), "machine": machine()}, args.json)
    return 0 if report.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
