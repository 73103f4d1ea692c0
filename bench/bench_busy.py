"""Warm questions on a busy machine: p50/p95 quiet and beside CPU-bound neighbours, side by side in one run.

    python -m bench.bench_busy [--index DIR] [--questions 40] [--variants default,before] [--train-data FILE]
                               [--json OUT]

Each variant is a child process with its own environment (OpenMP reads its wait policy once, when it loads):
``default`` is the shipped setting (core/threads.py: passive waits, one pool sized to the usable cores),
``before`` libgomp's own default (300,000 spins before a waiting thread sleeps: what the project shipped before),
``spin10k`` a short spin (``GOMP_SPINCOUNT=10000``), ``one`` one thread (``QA_THREADS=1``).
Inside a child the index is loaded and warmed once, then the same questions are timed quiet, beside one and two
``while True`` loops and beside the project's own reader trainer (two threads, niced, as ``eval.train_reader``
runs in the background). Ratios are against the same child's quiet figures, so each variant is compared with
itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DEFAULT_INDEX, GOLD, ROOT, emit, machine, percentiles, python, start_busy_loops, stop, table

VARIANTS = {
    "default": {},
    "before": {"GOMP_SPINCOUNT": "300000"},  # libgomp's own default; core.threads leaves a variable it finds
    "spin10k": {"GOMP_SPINCOUNT": "10000"},
    "one": {"QA_THREADS": "1"},
}
TRAIN_DATA = ROOT.parent / "shared" / "qa-train" / "newsqa.json"
NEIGHBOURS = ("quiet", "1 loop", "2 loops", "trainer")


def _start(neighbour: str, train_data: Path, scratch: Path) -> list[subprocess.Popen]:
    """Start ``neighbour``'s processes and return once they are busy."""
    if neighbour == "quiet":
        return []
    if neighbour.endswith("loop") or neighbour.endswith("loops"):
        return start_busy_loops(int(neighbour.split()[0]))
    log = scratch / "trainer.log"
    trainer = subprocess.Popen(
        [python(), "-m", "eval.train_reader", "--data", str(train_data), "--out", str(scratch / "trainer"),
         "--minutes", "30", "--threads", "2", "--batch", "16", "--checkpoint-minutes", "1000"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while "windows" not in log.read_text(errors="replace"):  # its windows are made: the step loop starts now
        if trainer.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the trainer did not start: {log.read_text(errors='replace')[-500:]}")
        time.sleep(1)
    time.sleep(5)
    return [trainer]


def measure(args) -> dict:
    """In this process: load, warm, then time the questions beside each neighbour in turn."""
    from eval.datasets import load_gold
    from qa.assistant import Assistant

    assistant = Assistant.load(args.index)
    questions = [q.question for q in load_gold(GOLD).questions][:args.questions]
    for question in questions:
        assistant.answer(question)
    variables = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS")
    result = {"threads": _threads(), "environment": {k: os.environ.get(k) for k in variables}}
    with tempfile.TemporaryDirectory() as scratch:
        for neighbour in args.neighbours.split(","):
            processes = _start(neighbour, Path(args.train_data), Path(scratch))
            try:
                walls = []
                for question in questions:
                    started = time.perf_counter()
                    assistant.answer(question)
                    walls.append((time.perf_counter() - started) * 1000)
            finally:
                stop(processes)
            result[neighbour] = percentiles(walls)
    return result


def _threads() -> dict:
    import faiss
    import torch

    return {"torch": torch.get_num_threads(), "torch_interop": torch.get_num_interop_threads(),
            "faiss": faiss.omp_get_max_threads()}


def _child(variant: str, args) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "KMP_", "QA_THREADS"))}
    env |= VARIANTS[variant]
    print(f"== {variant}", file=sys.stderr, flush=True)
    subprocess.run([python(), "-m", "bench.bench_busy", "--measure", "--json", str(out), "--index", args.index,
                    "--questions", str(args.questions), "--neighbours", args.neighbours,
                    "--train-data", str(args.train_data)], cwd=ROOT, env=env, check=True)
    figures = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--questions", type=int, default=40, help="gold questions timed beside each neighbour")
    parser.add_argument("--variants", default="default,before")
    parser.add_argument("--neighbours", default=",".join(NEIGHBOURS))
    parser.add_argument("--train-data", default=str(TRAIN_DATA), help="what the trainer neighbour trains on")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.measure:
        result = measure(args)
        emit(result, args.json)
        return result

    result = {"machine": machine(), "questions": args.questions,
              "variants": {v: _child(v, args) for v in args.variants.split(",")}}
    rows = []
    for variant, figures in result["variants"].items():
        quiet = figures["quiet"]
        for neighbour in args.neighbours.split(","):
            p50, p95 = figures[neighbour]["p50"], figures[neighbour]["p95"]
            rows.append([variant, neighbour, p50, p95, round(p50 / quiet["p50"], 2), round(p95 / quiet["p95"], 2)])
    print(f"warm questions beside busy neighbours ({args.questions} gold questions each; {result['machine']['cpu']}, "
          f"{', '.join(result['machine']['flags'])}, {result['machine']['cores']} cores)")
    print(table(["variant", "beside", "p50 ms", "p95 ms", "p50 x quiet", "p95 x quiet"], rows))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
