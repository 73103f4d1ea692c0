"""Small helpers the benchmark scripts share: percentiles, memory, child processes, the machine, JSON output.

Each ``bench_*`` script prints a table for a person and, given ``--json PATH``, writes the same figures as one
JSON object for ``bench.run_all``. Benchmarks print figures; they are not tests and assert nothing.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold_qa.json"
SEEDS = ROOT / "seeds"
DEFAULT_INDEX = ROOT / ".qa-index"
BUDAPEST = "who led the Russian delegation in Budapest?"


def percentiles(values_ms: list[float]) -> dict:
    """``{"p50": ..., "p95": ..., "n": ...}`` in milliseconds, rounded for printing."""
    if not values_ms:
        return {"p50": None, "p95": None, "n": 0}
    array = np.asarray(values_ms, dtype=float)
    return {"p50": round(float(np.percentile(array, 50)), 3), "p95": round(float(np.percentile(array, 95)), 3),
            "n": len(values_ms)}


def start_busy_loops(count: int) -> list[subprocess.Popen]:
    """``count`` CPU-bound neighbours (``while True: pass``), each its own process; kill them when done."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
        process.wait()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ``ru_maxrss`` in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> dict:
    """Resident memory now: ``total``, ``anon`` (heap) and ``file`` (mapped files) in MiB, from /proc."""
    fields = {"VmRSS": "total", "RssAnon": "anon", "RssFile": "file"}
    result = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            result[fields[key]] = round(int(value.split()[0]) / 1024, 1)
    return result


def run_child(command: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``command`` to completion: wall seconds from spawn to exit, its own peak RSS (MiB), output, status.

    ``os.wait4`` gives the child's own rusage, so each run's peak memory is its own, not the maximum over all
    children so far (which is what ``RUSAGE_CHILDREN`` would give). Output goes to files, not pipes, so the
    child never blocks on a full pipe while we wait for it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, wait_status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        return {"seconds": seconds, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "status": process.returncode,
                "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}


# The instruction sets that decide which precision runs fast: figures from machines that differ here are not one
# machine's figures.
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def machine() -> dict:
    """CPU model and instruction sets, core count, total memory, Python and the date; the load average says how
    quiet it was."""
    cpu, flags = "unknown", set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and cpu == "unknown":
            cpu = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return {"cpu": cpu, "flags": [f for f in CPU_FLAGS if f in flags], "cores": os.cpu_count(),
            "memory_gib": round(memory_kb / 2**20, 1),
            "python": platform.python_version(), "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def emit(result: dict, json_path: str | None) -> None:
    """Write ``result`` where ``--json`` asked (``-`` for stdout)."""
    if json_path is None:
        return
    text = json.dumps(result, indent=1)
    if json_path == "-":
        print(text)
    else:
        Path(json_path).write_text(text, encoding="utf-8")


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table; ``None`` prints as a dash."""
    def cell(value) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def python() -> str:
    return sys.executable
