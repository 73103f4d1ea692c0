"""Training data as the reader reads: for each question, the windows it would see at answer time.

    python -m eval.reading_groups --data ../shared/qa-train/train.json --data ../shared/qa-train/newsqa.json \
        --holdout-questions 300 --news-holdout 400 --news-holdout-out /tmp/newsqa_holdout.json --out DIR

The contexts of every training file become the articles of one index (built with the project's own indexer), and
every question is asked of it with the project's own retriever; ``TrainedReader.windows`` then picks the windows,
as at answer time. A group is one question with its windows and, when one of them holds it, the answer. Groups:

- ``answerable``: the retrieved windows; where none holds the answer, the last is replaced by the window around
  the answer's sentence (the reader must learn the answer, not that retrieval missed).
- ``hard negative``: the same question over the retrieved windows that do not hold the answer text.
- ``swap``/``antonym``/``negation`` (``eval.make_unanswerable``) and ``unanswerable`` (the data's own): the
  window around the original answer (or the first one) plus the retrieved ones; no window may hold a swapped-in
  value, so no window supports the made question.

The tune sets (gold tune split over the seeds' index, ``eval/tune_news.json`` over its own) become ``dev`` groups
with their gold answers, plus a rule-made variant of each, so a training run can be judged on them where the
training runs (no retrieval needed there). Written to ``--out``: ``documents.json.gz`` (doc id -> text),
``groups.jsonl.gz``, ``dev.jsonl.gz`` and ``summary.json`` (counts per kind). Nothing here is committed: the
training data is read by path and the output goes outside the project.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from core.errors import QAError
from eval.make_unanswerable import entity_pool, make_variant
from eval.train_reader import TrainQuestion, read_squad, split_holdout, write_squad

BATCH = 256


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m eval.reading_groups", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--index", type=Path, help="where to build (or find) the training articles' index")
    parser.add_argument("--holdout-questions", type=int, default=300, help="whole articles of the first file kept out")
    parser.add_argument("--holdout-out", type=Path, help="where to write the first file's held-out questions")
    parser.add_argument("--news-holdout", type=int, default=400,
                        help="questions of whole newsqa stories kept out (a held-out news set)")
    parser.add_argument("--news-holdout-out", type=Path)
    parser.add_argument("--unanswerable", type=float, default=0.35,
                        help="share of answerable questions given a made unanswerable variant (where a rule applies)")
    parser.add_argument("--hard-negatives", type=float, default=0.25)
    parser.add_argument("--gold", default="eval/gold_qa.json")
    parser.add_argument("--seeds-index", default=".qa-index")
    parser.add_argument("--tune", nargs="*", default=["eval/tune_news.json"])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, help="first N questions only (a quick run)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    try:
        return build(_arguments(argv))
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _log(started: float, message: str) -> None:
    print(f"[{time.time() - started:6.0f} s] {message}", flush=True)


def held_out(args, rng_seed: int) -> tuple[list[TrainQuestion], list[TrainQuestion], int]:
    """Training questions, the held-out newsqa ones (whole stories), and how many of the first file were held out."""
    questions: list[TrainQuestion] = []
    news_held: list[TrainQuestion] = []
    first_held = 0
    for i, path in enumerate(args.data):
        found = read_squad(path)
        if i == 0 and args.holdout_questions:
            found, held = split_holdout(found, args.holdout_questions, rng_seed)
            first_held = len(held)
            if args.holdout_out is not None:
                write_squad(held, args.holdout_out)
        if any(q.source == "newsqa" for q in found) and args.news_holdout:
            found, held = split_holdout(found, args.news_holdout, rng_seed)
            news_held += held
        questions += found
    return questions, news_held, first_held


def write_news_holdout(held: list[TrainQuestion], path: Path, seed: int) -> dict:
    """The held-out news questions and, for each that a rule applies to, its unanswerable variant."""
    from embeddings.analysis import parse_many

    docs = parse_many([q.question for q in held])
    pool = entity_pool(docs)
    rng = random.Random(seed)
    made = []
    kinds: Counter = Counter()
    for q, doc in zip(held, docs):
        variant = make_variant(q.question, doc, q.context, pool, rng)
        if variant is not None:
            kinds[variant.rule] += 1
            made.append(TrainQuestion(variant.question, q.context, None, "", q.source, q.article))
    write_squad(held + made, path)
    return {"answerable": len(held), "made unanswerable": dict(kinds)}


def build(args) -> int:
    started = time.time()
    rng = random.Random(args.seed)
    questions, news_held, first_held = held_out(args, args.seed)
    if args.limit:
        questions = questions[:args.limit]
    if args.news_holdout_out is not None and news_held:
        counts = write_news_holdout(news_held, args.news_holdout_out, args.seed)
        _log(started, f"held-out news set -> {args.news_holdout_out}: {counts}")
    _log(started, f"{len(questions)} training questions")

    from embeddings.analysis import load_nlp

    nlp = load_nlp()
    with nlp.select_pipes(enable=["tok2vec", "tagger", "attribute_ruler", "ner"]):
        docs = list(nlp.pipe((q.question for q in questions), batch_size=256))
    pool = entity_pool(docs)
    variants = []
    for q, doc in zip(questions, docs):
        if q.answer_start is not None and rng.random() < args.unanswerable:
            variant = make_variant(q.question, doc, q.context, pool, rng)
            if variant is not None:
                variants.append((q, variant))
    _log(started, f"made {len(variants)} unanswerable variants: {dict(Counter(v.rule for _, v in variants))}")

    assistant, doc_ids = _training_index(args, questions, started)
    groups = _groups(assistant, doc_ids, questions, variants, args.hard_negatives, rng, started)
    dev = _dev_groups(args, assistant.embedder, rng, started)
    args.out.mkdir(parents=True, exist_ok=True)
    texts = {d.doc_id: d.text for d in assistant.data.documents}
    with gzip.open(args.out / "documents.json.gz", "wt", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    for name, items in (("groups", groups), ("dev", dev)):
        with gzip.open(args.out / f"{name}.jsonl.gz", "wt", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    summary = {"groups": dict(Counter(g["kind"] for g in groups)), "dev": dict(Counter(g["kind"] for g in dev)),
               "windows": sum(len(g["windows"]) for g in groups),
               "sources": dict(Counter(g["source"] for g in groups)),
               "held_out": {"first file": first_held, "newsqa": len(news_held)}}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    _log(started, f"wrote {args.out}: {summary}")
    return 0


def _training_index(args, questions: list[TrainQuestion], started: float):
    """An index of every training context (one article each), built once and reused by a later run."""
    from core.config import load_settings
    from embeddings.embedder import Embedder
    from embeddings.indexer import index_documents
    from embeddings.loader import make_document
    from qa.assistant import Assistant

    settings = load_settings()
    contexts = list(dict.fromkeys(q.context for q in questions))
    doc_ids = {context: f"c{i:06d}" for i, context in enumerate(contexts)}
    index_dir = args.index or Path(tempfile.mkdtemp(prefix="train-index-"))
    if not (index_dir / "manifest.json").exists():
        _log(started, f"indexing {len(contexts)} training contexts into {index_dir}")
        embedder = Embedder(settings.embedding_model, batch_size=128, bfloat16_articles=True)
        index_documents([make_document(doc_ids[c], c) for c in contexts], index_dir, settings, embedder=embedder)
    assistant = Assistant.load(index_dir, settings)
    missing = [c for c in contexts if doc_ids[c] not in assistant.documents]
    if missing:
        raise QAError(f"the index at {index_dir} is of other contexts ({len(missing)} missing); remove it")
    _log(started, f"index ready: {len(assistant.data.chunks)} passages")
    return assistant, doc_ids


def _asked(assistant, texts: list[str]):
    """(vector, hits, windows) per question, in batches."""
    reader = assistant.reader
    tokenizer = _tokenizer(reader)
    for first in range(0, len(texts), BATCH):
        batch = texts[first:first + BATCH]
        vectors = assistant.embedder.encode_questions(batch)
        for text, vector, retrieval in zip(batch, vectors, assistant.retriever.retrieve_batch(batch, vectors)):
            budget = reader.max_length - len(tokenizer(text, add_special_tokens=False)["input_ids"]) - 3
            yield vector, retrieval.hits, reader.windows(text, vector, retrieval.hits, budget), budget


def _tokenizer(reader):
    from qa.trained_reader import model_for

    return model_for(reader.folder, reader.precision)[0]


def _groups(assistant, doc_ids, questions, variants, hard_negatives: float, rng, started: float) -> list[dict]:
    reader = assistant.reader
    corpus = reader.corpus
    texts = [d.text for d in assistant.data.documents]
    first_sentence = {}
    for i, s in enumerate(corpus.sentences):
        first_sentence.setdefault(s.doc, i)

    def around(doc: int, offset: int | None, budget: int):
        # Sentences of one article are consecutive, so the search starts at its first.
        i = first_sentence[doc]
        if offset is not None:
            while i + 1 < len(corpus.sentences) and corpus.sentences[i + 1].doc == doc \
                    and corpus.sentences[i + 1].start <= offset:
                i += 1
        return reader.window_around(i, budget)

    def spans(windows):
        return [[assistant.data.documents[w.doc].doc_id, w.start, w.end] for w in windows]

    asks = [(q, None) for q in questions] + [(q, v) for q, v in variants]
    groups = []
    for n, ((q, variant), (_, _, windows, budget)) in enumerate(
            zip(asks, _asked(assistant, [v.question if v else q.question for q, v in asks]))):
        doc = corpus.doc_index[doc_ids[q.context]]
        base = {"question": q.question, "source": q.source}
        if variant is None and q.answer_start is not None:
            a_start, a_end = q.answer_start, q.answer_start + len(q.answer_text)
            holds = [w for w in windows if w.doc == doc and w.start <= a_start and a_end <= w.end]
            if not holds:
                windows = windows[:-1] + [around(doc, a_start, budget)] if windows else [around(doc, a_start, budget)]
            groups.append({**base, "kind": "answerable", "windows": spans(windows),
                           "answer": [doc_ids[q.context], a_start, a_end]})
            if rng.random() < hard_negatives:
                lacking = [w for w in windows if q.answer_text.lower() not in texts[w.doc][w.start:w.end].lower()]
                if lacking:
                    groups.append({**base, "kind": "hard negative", "windows": spans(lacking), "answer": None})
        else:
            own = around(doc, q.answer_start, budget)
            others = [w for w in windows if not (w.doc == own.doc and w.start < own.end and own.start < w.end)]
            if variant is not None:
                others = [w for w in others if variant.by.lower() not in texts[w.doc][w.start:w.end].lower()]
            kind = variant.rule if variant is not None else "unanswerable"
            groups.append({**base, "question": variant.question if variant else q.question, "kind": kind,
                           "windows": spans([own] + others[:reader.read_hits - 1]), "answer": None})
        if (n + 1) % 5000 == 0:
            _log(started, f"{n + 1} of {len(asks)} questions read")
    return groups


def _dev_groups(args, embedder, rng, started: float) -> list[dict]:
    """The tune sets as the reader reads them, with gold answers, and a rule-made variant of each."""
    from core.config import load_settings
    from embeddings.analysis import parse_many
    from embeddings.indexer import index_documents
    from eval.datasets import load_gold
    from qa.assistant import Assistant

    settings = load_settings()
    gold = load_gold(args.gold)
    sets = [(Assistant.load(args.seeds_index, settings, embedder=embedder),
             [q for q in gold.questions if q.split == "tune"], "gold tune")]
    folder = Path(tempfile.mkdtemp(prefix="tune-index-"))
    for i, path in enumerate(args.tune):
        tuning = load_gold(path)
        index_documents(tuning.source_documents, folder / str(i), settings, embedder=embedder)
        sets.append((Assistant.load(folder / str(i), settings, embedder=embedder), list(tuning.questions), path))
    dev = []
    for assistant, items, name in sets:
        docs = parse_many([q.question for q in items])
        pool = entity_pool(docs)
        made = []
        for q, doc in zip(items, docs):
            if q.answerable and q.doc in assistant.documents:
                variant = make_variant(q.question, doc, assistant.documents[q.doc].text, pool, rng)
                if variant is not None:
                    made.append((q, variant))
        asks = [(q.question, q.answers if q.answerable else [], "tune" if q.answerable else "unanswerable", None)
                for q in items] + [(v.question, [], v.rule, v.by) for _, v in made]
        for (text, answers, kind, value), (_, _, windows, _) in zip(asks, _asked(assistant, [a[0] for a in asks])):
            documents = assistant.data.documents
            if value is not None:
                windows = [w for w in windows if value.lower() not in documents[w.doc].text[w.start:w.end].lower()]
            dev.append({"question": text, "set": name, "kind": kind, "answers": list(answers),
                        "windows": [[documents[w.doc].doc_id, w.start, w.end] for w in windows],
                        "texts": [documents[w.doc].text[w.start:w.end] for w in windows]})
        _log(started, f"dev: {name}: {len(items)} questions, {len(made)} made unanswerable")
    return dev


if __name__ == "__main__":
    sys.exit(main())
