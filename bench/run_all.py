"""Run every benchmark, print one table against the targets, and write ``bench/RESULTS.md``.

    python -m bench.run_all [--index DIR] [--sizes 10k,100k,1M] [--articles 200] [--only ask,eval,...]
                            [--baseline bench/baseline.json] [--save-baseline]

Each benchmark runs as its own process (``python -m bench.bench_NAME --json FILE``), so one's memory and warm
caches never flatter another. The seeds index is brought up to date first with ``qa index seeds`` (a no-op when
it already is). With a baseline (the raw figures of an earlier run, saved by ``--save-baseline``), the summary
shows before and after side by side. Load average is recorded at the start and the end: figures taken while
other work ran on the same cores are slower and noisier, and the file says so.
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

from bench.bench_cold import BARE_NAME
from bench.common import DEFAULT_INDEX, ROOT, SEEDS, machine, python, table

BENCHES = ("ask", "busy", "eval", "cold", "index", "scale", "peer")
MODULES = {name: f"bench.bench_{name}" for name in BENCHES} | {"peer": "bench.peer_haystack"}
RESULTS = ROOT / "bench" / "RESULTS.md"
BASELINE = ROOT / "bench" / "baseline.json"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_bench(name: str, extra: list[str]) -> tuple[dict, str, float]:
    """Run the benchmark ``name`` (``MODULES``); its JSON figures, its printed tables, and its wall seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    started = time.perf_counter()
    print(f"== {MODULES[name]} {' '.join(extra)}", file=sys.stderr, flush=True)
    done = subprocess.run([python(), "-m", MODULES[name], "--json", str(out), *extra], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{MODULES[name]} failed with status {done.returncode}")
    figures = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    print(done.stdout, flush=True)
    return figures, done.stdout.strip(), seconds


Row = tuple[str, object, str, bool | None]  # measure, value, target, met


def summary_rows(results: dict) -> list[Row]:
    """``(measure, value, target, met)`` for every figure the issues set a target for, plus peak memory."""
    rows: list[Row] = []
    for name, section_rows in _SECTIONS:
        if results.get(name):
            rows += section_rows(results[name])
    return rows


def _ask_rows(ask: dict) -> list[Row]:
    p50, p95 = ask["stages_ms"]["wall"]["p50"], ask["stages_ms"]["wall"]["p95"]
    return [("warm ask p50 (ms)", p50, "<= 40", p50 <= 40), ("warm ask p95 (ms)", p95, "<= 80", p95 <= 80),
            ("warm ask peak RSS (MiB)", ask["peak_rss_mb"], "", None)]


def _busy_rows(busy: dict) -> list[Row]:
    rows: list[Row] = []
    for variant, figures in busy["variants"].items():
        quiet = figures["quiet"]
        for neighbour in (n for n in figures if n not in ("quiet", "threads", "environment")):
            p50, p95 = (round(figures[neighbour][p] / quiet[p], 2) for p in ("p50", "p95"))
            target = variant == "default" and neighbour == "2 loops"
            rows += [(f"warm ask p50 beside {neighbour} / quiet, {variant}", p50,
                      "<= 2.5" if target else "",
                      p50 <= 2.5 if target else None),
                     (f"warm ask p95 beside {neighbour} / quiet, {variant}", p95, "<= 3" if target else "",
                      p95 <= 3 if target else None)]
    return rows


def _eval_rows(ev: dict) -> list[Row]:
    return [("qa eval batch path (questions/s)", ev["qa_eval_qps"], ">= 30", ev["qa_eval_qps"] >= 30),
            ("answer_batch (questions/s)", ev["answer_batch_qps"], "", None),
            ("qa eval peak RSS (MiB)", ev["peak_rss_mb"], "", None)]


def _cold_rows(cold: dict) -> list[Row]:
    processes = cold["processes"]
    bare = processes.get(BARE_NAME) or processes["bare model load + encode"]  # the name in older runs
    return [("cold qa ask / bare floor", cold["ask_over_bare"], "<= 1.3", cold["ask_over_bare"] <= 1.3),
            ("cold qa ask (s)", processes["qa ask"]["median_s"], "", None),
            ("bare floor (s)", bare["median_s"], "", None),
            ("qa --help (s)", processes["qa --help"]["median_s"], "< 1", processes["qa --help"]["median_s"] < 1),
            ("cold qa ask peak RSS (MiB)", processes["qa ask"]["peak_rss_mb"], "", None),
            ("bare floor peak RSS (MiB)", bare["peak_rss_mb"], "", None)]


def _index_rows(index: dict) -> list[Row]:
    rows: list[Row] = []
    for row in index["rows"]:
        name = row["corpus"]
        rows += [(f"index build / bare encode, {name}", row["build_over_encode"], "<= 1.15",
                  row["build_over_encode"] <= 1.15),
                 (f"index build (s), {name}", row["build_s"], "", None),
                 (f"index build for the feature reader / bare encode, {name}",
                  row.get("features_build_over_encode"), "", None),
                 (f"sentence split P / R against spaCy's, {name}",
                  f"{row['split_precision']:.3f} / {row['split_recall']:.3f}" if "split_recall" in row else None,
                  "", None),
                 (f"index build peak RSS (MiB), {name}", row["build_peak_rss_mb"], "", None),
                 (f"bare encode peak RSS (MiB), {name}", row["bare_peak_rss_mb"], "", None)]
    return rows


def _scale_rows(scale: dict) -> list[Row]:
    rows: list[Row] = []
    for row in scale["rows"]:
        if not row["auto"]:
            continue
        label = f"{row['n']:,} chunks, {row['variant']} (auto)"
        p50, recall = row["latency_ms"]["p50"], row["recall_at_10"]
        large = row["n"] >= 1_000_000
        rows += [(f"dense search p50 (ms), {label}", p50, "<= 20" if large else "", p50 <= 20 if large else None),
                 (f"dense recall@10, {label}", round(recall, 3), ">= 0.95" if large else "",
                  recall >= 0.95 if large else None),
                 (f"dense index RSS mapped / read (MiB), {label}",
                  f"{row['rss_mapped_mb']:.0f} / {row['rss_read_mb']:.0f}", "reported", None)]
    for row in scale["rows"]:  # the index for corpora too large for float32 in memory
        if row["variant"] != "ivf-pq" or row["n"] < 1_000_000:
            continue
        label = f"{row['n']:,} chunks, ivf-pq + re-ranking (default pq_refine)"
        p50, recall, rss = row["latency_ms"]["p50"], row["recall_at_10"], row["rss_mapped_mb"]
        rows += [(f"dense search p50 (ms), {label}", p50, "<= 10", p50 <= 10),
                 (f"dense recall@10, {label}", round(recall, 3), ">= 0.95", recall >= 0.95),
                 (f"dense RSS mapped (MiB), {label}", round(rss), "<= 3072", rss <= 3072),
                 (f"dense build (s), {label}", row["build_s"], "reported", None)]
    return rows


def _peer_rows(peer: dict) -> list[Row]:
    rows: list[Row] = []
    for row in peer["rows"]:
        ratios, name = row["ours_over_haystack"], row["dataset"]
        rows += [(f"F1 ours / Haystack, {name}", ratios["f1"], ">= 1", ratios["f1"] >= 1),
                 (f"warm p50 ours / Haystack, {name}", ratios["latency_ms_p50"], "<= 0.5",
                  ratios["latency_ms_p50"] <= 0.5),
                 (f"index build ours / Haystack, {name}", ratios["build_s"], "<= 0.7", ratios["build_s"] <= 0.7)]
    return rows


# The benchmarks' sections in the order the summary lists them, each with the rows it gives.
_SECTIONS = (("ask", _ask_rows), ("busy", _busy_rows), ("eval", _eval_rows), ("cold", _cold_rows),
             ("index", _index_rows), ("scale", _scale_rows), ("peer", _peer_rows))


def summary_table(results: dict, baseline: dict | None) -> str:
    rows = summary_rows(results)
    mark = {True: "yes", False: "NO", None: ""}
    if baseline is None:
        return table(["measure", "value", "target", "met"], [[m, v, t, mark[ok]] for m, v, t, ok in rows])
    before = {m: v for m, v, _, _ in summary_rows(baseline["results"])}
    return table(["measure", "before", "after", "target", "met (after)"],
                 [[m, before.get(m), v, t, mark[ok]] for m, v, t, ok in rows])


NOTES = {
    "ask": "Every gold question asked alone, after one warm-up round, through `Assistant.answer`. Stages are the "
           "assistant's own `timings_ms` (`retrieve` is encode + dense + lexical + fusion); `wall` is timed "
           "around the call.",
    "busy": "The same warm questions quiet and beside CPU-bound neighbours (one and two `while True` loops, the "
            "reader trainer at its background priority), each variant of the thread settings in its own process; "
            "ratios are against that variant's own quiet figures. See the module's docstring for the variants.",
    "eval": "All gold questions at once through `Assistant.answer_batch`, and through `eval.runner.ask_questions` "
            "(the `qa eval` path: batches plus scoring), after one warm-up pass; median of 3 passes.",
    "cold": "Fresh processes timed from spawn to exit, after one untimed run of each so the files are in the OS "
            "cache. The bare floor loads the packaged all-MiniLM-L6-v2 and encodes the question, then loads the "
            "trained reader (base plus our weights) and reads one passage: the floor for any tool that answers "
            "with these two models.",
    "index": "Models loaded and warmed before the clock starts. `build` is `index_paths` with the default reader "
             "(read, clean, split sentences by rule, chunk, encode, BM25, write). The ratio divides it by a bare "
             "`model.encode` of the same sentences' texts in another fresh process (chunk vectors are the "
             "normalised means of their sentences'). The build for the feature reader adds spaCy's parse of "
             "every article; the split's agreement is the rule splitter's sentence ends against the full spaCy "
             "parse's. Peak memory is `ru_maxrss` of each process.",
    "scale": "Synthetic unit vectors (384 dimensions, 2,000 Zipf-sized Gaussian clusters in a 64-dimensional "
             "subspace plus noise: nearest-neighbour cosine ~0.8, unrelated ~0.0), 300 held-out question "
             "vectors. `auto` marks what the default `dense_index=auto` builds. Each index is saved and probed "
             "in a fresh process, memory-mapped as the app loads it: latency is single-question search for 20 "
             "chunks on one thread; recall@10 is against the exact flat search. `RSS mapped` is resident memory "
             "after the probe's searches (file pages in the OS cache, which the OS can reclaim); `RSS read` is "
             "the heap the same index takes when read without mapping. HNSW is built up to 100k "
             "(`--hnsw-max`). Above 3M chunks (`--memory-max`) the vectors (15 GB at 10M) are written to a "
             "memory-mapped file, as `chunk_vectors.npy` is, and only IVF-PQ is built: its FAISS file holds the "
             "codes (48 bytes a chunk) and a question re-ranks its `k x pq_refine` candidates by their exact "
             "vectors, read from that file; the true top 10 comes from a blockwise exact scan.",
    "peer": "The pipeline a Haystack user would build for the same job (haystack-ai in its own virtual "
            "environment, never a dependency): word-split passages, the same MiniLM embedder by path, BM25 and "
            "embedding retrieval joined by reciprocal rank fusion, and its extractive reader running our trained "
            "reader's weights (exported to a full Hugging Face folder). Each side in a fresh process; the same "
            "metric code scores both. See the module's docstring for every setting.",
}


def write_results(path: Path, run: dict, baseline: dict | None, outputs: dict[str, str]) -> None:
    info = run["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench.run_all` ({run['finished']}, {run['seconds']:.0f} s). "
        f"Code: commit {run['commit'] or '?'}{' with uncommitted changes' if run['dirty'] else ''}.",
        "",
        f"Machine: {info['cpu']} ({', '.join(info.get('flags') or ['no AVX2'])}), {info['cores']} cores, "
        f"{info['memory_gib']} GiB memory, Python {info['python']}.",
        f"Load average (1, 5, 15 min) at the start: {', '.join(map(str, run['load_start']))}; at the end: "
        f"{', '.join(map(str, run['load_end']))}. On {info['cores']} cores a load well above 1 means other work "
        "shared the CPU, and latencies are then slower and noisier than on a quiet machine.",
        "",
    ]
    if baseline is not None:
        lines += [f"Before: the run of {baseline['finished']} (commit {baseline['commit'] or '?'}"
                  f"{', uncommitted changes' if baseline['dirty'] else ''}; load at the start "
                  f"{', '.join(map(str, baseline['load_start']))}).", ""]
    lines += ["## Summary against the targets", "", summary_table(run["results"], baseline), ""]
    titles = {"ask": "Warm `ask`, by stage (`bench/bench_ask.py`)",
              "busy": "Warm `ask` beside busy neighbours (`bench/bench_busy.py`)",
              "eval": "Batch path (`bench/bench_eval.py`)",
              "cold": "Cold start (`bench/bench_cold.py`)", "index": "Index build (`bench/bench_index.py`)",
              "scale": "Dense index at scale, synthetic clustered vectors (`bench/bench_scale.py`)",
              "peer": "Beside Haystack, same models (`bench/peer_haystack.py`)"}
    for name, text in outputs.items():
        lines += [f"## {titles[name]}", "", NOTES[name], "", text, ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--only", default=",".join(BENCHES), help=f"some of {','.join(BENCHES)}")
    parser.add_argument("--sizes", default="10k,100k,1M,3M,10M", help="bench_scale corpus sizes")
    parser.add_argument("--pq-max", default="10M", help="bench_scale: largest size IVF-PQ is built for")
    parser.add_argument("--articles", type=int, default=200, help="bench_index: articles made from the seeds")
    parser.add_argument("--baseline", default=str(BASELINE), help="an earlier run's raw figures, shown as before")
    parser.add_argument("--save-baseline", action="store_true", help="save this run's figures as the baseline")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(BENCHES)}")

    started = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    qa = str(Path(python()).parent / "qa")
    subprocess.run([qa, "index", str(SEEDS), "--index", args.index], cwd=ROOT, check=True)
    extras = {"ask": ["--index", args.index],
              "busy": ["--index", args.index, "--variants", "default,before,spin10k"],
              "eval": ["--index", args.index], "cold": ["--index", args.index],
              "index": ["--articles", str(args.articles)], "scale": ["--sizes", args.sizes, "--pq-max", args.pq_max],
              "peer": []}
    results, outputs, seconds = {}, {}, {}
    for name in BENCHES:
        if name in chosen:
            results[name], outputs[name], seconds[name] = run_bench(name, extras[name])
    status = _git("status", "--porcelain", "--untracked-files=no")
    run = {"machine": machine(), "load_start": load_start, "load_end": [round(x, 2) for x in os.getloadavg()],
           "finished": time.strftime("%Y-%m-%d %H:%M"), "seconds": time.perf_counter() - started,
           "bench_seconds": {k: round(v, 1) for k, v in seconds.items()},
           "commit": _git("rev-parse", "--short", "HEAD"), "dirty": bool(status), "results": results}
    baseline_path = Path(args.baseline)
    baseline = None
    if baseline_path.exists() and not args.save_baseline:
        baseline = json.loads(baseline_path.read_text(encoding="utf-8"))
    print(summary_table(results, baseline))
    write_results(Path(args.out), run, baseline, outputs)
    if args.save_baseline:
        baseline_path.write_text(json.dumps(run, indent=1), encoding="utf-8")
    print(f"\nwrote {args.out} ({run['seconds']:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
