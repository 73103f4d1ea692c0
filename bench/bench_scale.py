"""How the dense index scales: build time, memory, single-question latency and recall@10 against exact search.

    python -m bench.bench_scale [--sizes 10k,100k,1M] [--variants flat,hnsw,...] [--json OUT]

For each size, synthetic clustered vectors (``bench.synthetic``; embedding a million real chunks would take
hours here) are indexed by every variant through ``embeddings.dense_index.build``, the same code ``qa index``
runs. The exact (flat) index gives the true top 10 of each held-out question vector. Each saved index is then
probed in a fresh process, which is what a loaded app sees: it maps the index (``mmap_index``, the default),
times single-question searches for ``retrieve_k`` chunks on one thread, measures recall@10 over all questions,
and reports resident memory (mapped pages touched by the searches, and the heap an unmapped load takes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import emit, machine, percentiles, python, rss_mb, run_child, table
from bench.synthetic import clustered_vectors, exact_top, recall_at_k

DIMENSION = 384
# Variant name -> the settings that build it. "auto" is not a row of its own: the table marks the row it picks.
VARIANTS = {
    "flat": {"dense_index": "flat"},
    "hnsw": {"dense_index": "hnsw"},
    "hnsw-fp16": {"dense_index": "hnsw", "vector_dtype": "float16"},
    "ivf": {"dense_index": "ivf"},
    "ivf-fp16": {"dense_index": "ivf", "vector_dtype": "float16"},
    "ivf-pq": {"dense_index": "ivf", "vector_dtype": "pq"},
    "ivf-pq-r16": {"dense_index": "ivf", "vector_dtype": "pq", "pq_refine": 16},  # re-ranks half as many
    "ivf-pq-np64": {"dense_index": "ivf", "vector_dtype": "pq", "nprobe": 64},  # scans twice as many lists
    "ivf-pq-np64-r64": {"dense_index": "ivf", "vector_dtype": "pq", "nprobe": 64, "pq_refine": 64},
}
GRAPH_VARIANTS = ("hnsw", "hnsw-fp16")  # slow to build on few cores: only up to --hnsw-max
PQ_VARIANTS = ("ivf-pq", "ivf-pq-r16", "ivf-pq-np64", "ivf-pq-np64-r64")  # codebook training and encoding take a while: only up to --pq-max
LATENCY_SECONDS = 15.0  # a slow variant (flat at 1M) stops timing after this long, with at least 20 questions


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def settings_for(variant: str):
    from core.config import Settings

    return Settings(**VARIANTS[variant])


def auto_variant(n: int) -> str:
    """The row ``dense_index=auto`` (the default) builds at this size."""
    from embeddings import dense_index
    from core.config import Settings

    return dense_index.choose(n, DIMENSION, Settings()).kind  # float32 by default: the variant of that name


def probe(index_path: Path, queries_path: Path, truth_path: Path, variant: str, latency_queries: int) -> dict:
    """In a fresh process: map the index (and, for PQ, the vectors it re-ranks by, as the app maps
    ``chunk_vectors.npy``), time single searches on one thread, recall@10, resident memory."""
    import faiss

    from embeddings import dense_index

    settings = settings_for(variant)
    queries = np.load(queries_path)
    truth = np.load(truth_path) if truth_path.exists() else None
    k = settings.retrieve_k
    before = rss_mb()
    vectors_path = _vectors_path(index_path)
    vectors = np.load(vectors_path, mmap_mode="r") if vectors_path.exists() else None
    index = dense_index.load(index_path, settings, vectors)
    loaded = rss_mb()
    faiss.omp_set_num_threads(1)  # one question is one thread's work; more threads only add OpenMP overhead
    index.search(queries[:1], k)  # the first search pays one-off setup
    latencies, started = [], time.perf_counter()
    for i in range(min(latency_queries, len(queries))):
        t0 = time.perf_counter()
        index.search(queries[i:i + 1], k)
        latencies.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() - started > LATENCY_SECONDS and len(latencies) >= 20:
            break
    searched = rss_mb()
    recall = None
    if truth is not None:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        _, ids = index.search(queries, k)
        recall = recall_at_k(ids, truth, 10)
    del index
    heap_before = rss_mb()
    unmapped = dense_index.load(index_path, replace(settings, mmap_index=False), vectors)
    heap = rss_mb()["anon"] - heap_before["anon"]
    del unmapped
    return {"latency_ms": percentiles(latencies), "recall_at_10": recall,
            "rss_mapped_mb": round(searched["total"] - before["total"], 1),
            "rss_after_load_mb": round(loaded["total"] - before["total"], 1), "rss_read_mb": round(heap, 1)}


def _vectors_path(index_path: Path) -> Path:
    return index_path.with_suffix(".vectors.npy")


def _generate(rows: int, memory_map: Path | None, seed: int) -> np.ndarray:
    """Clustered vectors, written into a memory-mapped file at ``memory_map`` when given (a corpus too large to
    hold in memory), else in memory."""
    if memory_map is None:
        return clustered_vectors(rows, DIMENSION, seed=seed)
    data = np.lib.format.open_memmap(memory_map, mode="w+", dtype=np.float32, shape=(rows, DIMENSION))
    clustered_vectors(rows, DIMENSION, seed=seed, out=data)
    return data


def _probe(path: Path, variant: str, n: int, queries_path: Path, truth_path: Path, latency_queries: int) -> dict:
    """Search the saved index in a fresh process (so its memory is its own) and return what was measured."""
    child = run_child([python(), "-m", "bench.bench_scale", "--probe", str(path), "--queries-file",
                       str(queries_path), "--truth-file", str(truth_path), "--variant", variant,
                       "--latency-queries", str(latency_queries)])
    if child["status"] != 0:
        raise SystemExit(f"probe of {variant} at {n} failed:\n{child['stderr'][-2000:]}")
    measured = json.loads(child["stdout"].strip().splitlines()[-1])
    if variant == "flat":
        measured["recall_at_10"] = 1.0  # it is the reference
    return measured


def run_size(n: int, variants: list[str], work: Path, n_queries: int, latency_queries: int, hnsw_max: int,
             pq_max: int, memory_max: int) -> list:
    """Every variant at ``n`` chunks. Above ``memory_max`` the vectors are written to a memory-mapped file and
    only IVF-PQ is built (the others hold every vector in memory), the true top 10 found by a blockwise scan."""
    import faiss

    from embeddings import dense_index

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core
    started = time.perf_counter()
    large = n > memory_max
    data = _generate(n + n_queries, work / f"{n}-all.npy" if large else None, seed=n % 9973)
    vectors, queries = data[:n], np.array(data[n:])
    generate_s = time.perf_counter() - started
    queries_path, truth_path = work / f"{n}-queries.npy", work / f"{n}-truth.npy"
    np.save(queries_path, queries)
    truth_path.unlink(missing_ok=True)
    truth_s = 0.0
    if large:
        started = time.perf_counter()
        np.save(truth_path, exact_top(vectors, queries, 10))
        truth_s = time.perf_counter() - started
        variants = [v for v in variants if v in PQ_VARIANTS]
    rows = []
    auto = auto_variant(n)
    for variant in (variants if large else ["flat"] + [v for v in variants if v != "flat"]):  # flat: the truth
        if (variant in GRAPH_VARIANTS and n > hnsw_max) or (variant in PQ_VARIANTS and n > pq_max):
            continue
        settings = settings_for(variant)
        started = time.perf_counter()
        index = dense_index.build(vectors, settings)
        build_s = time.perf_counter() - started
        path = work / f"{n}-{variant}.faiss"
        dense_index.save(index, path)
        if isinstance(index, dense_index.Reranked) and not large:
            np.save(_vectors_path(path), vectors)  # what the app keeps as chunk_vectors.npy
        elif isinstance(index, dense_index.Reranked):
            os.link(work / f"{n}-all.npy", _vectors_path(path))  # the extra query rows at the end are never ids
        if variant == "flat":
            started = time.perf_counter()
            np.save(truth_path, index.search(queries, 10)[1])
            truth_s = time.perf_counter() - started
        description = dense_index.describe(index)
        del index
        measured = _probe(path, variant, n, queries_path, truth_path, latency_queries)
        rows.append({"n": n, "variant": variant, "auto": variant == auto, "index": description,
                     "build_s": round(build_s, 2), "file_mb": round(path.stat().st_size / 2**20, 1),
                     "generate_s": round(generate_s, 1), "truth_s": round(truth_s, 1), **measured})
        path.unlink()
        _vectors_path(path).unlink(missing_ok=True)
        print(format_rows(rows[-1:], header=False), file=sys.stderr, flush=True)  # progress
    del data
    (work / f"{n}-all.npy").unlink(missing_ok=True)
    return rows


def format_rows(rows: list[dict], header: bool = True) -> str:
    headers = ["chunks", "index", "auto", "build s", "file MB", "RSS mapped MB", "RSS read MB", "p50 ms",
               "p95 ms", "recall@10"]
    body = [[f"{r['n']:,}", r["index"], "yes" if r["auto"] else "", r["build_s"], r["file_mb"], r["rss_mapped_mb"],
             r["rss_read_mb"], r["latency_ms"]["p50"], r["latency_ms"]["p95"],
             None if r["recall_at_10"] is None else round(r["recall_at_10"], 3)] for r in rows]
    text = table(headers, body)
    return text if header else "\n".join(text.splitlines()[2:])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M")
    parser.add_argument("--variants", default="flat,hnsw,hnsw-fp16,ivf,ivf-fp16,ivf-pq")
    parser.add_argument("--queries", type=int, default=300, help="held-out question vectors for recall")
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--hnsw-max", default="100k", help="largest size HNSW is built for (its build is slow)")
    parser.add_argument("--pq-max", default="100k", help="largest size IVF-PQ is built for")
    parser.add_argument("--memory-max", default="3M",
                        help="larger sizes are generated into a memory-mapped file and only IVF-PQ is built")
    parser.add_argument("--json")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    parser.add_argument("--truth-file", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(Path(args.probe), Path(args.queries_file), Path(args.truth_file), args.variant,
                               args.latency_queries)))
        return {}
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        for n in sizes:
            rows.extend(run_size(n, variants, Path(work), args.queries, args.latency_queries,
                                 parse_size(args.hnsw_max), parse_size(args.pq_max), parse_size(args.memory_max)))
    result = {"machine": machine(), "rows": rows, "seconds": round(time.perf_counter() - started, 1),
              "queries": args.queries}
    print(format_rows(rows))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
