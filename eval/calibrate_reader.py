"""Fit the trained reader's confidence (which candidate, how sure) and its abstain threshold on the tune sets.

    python -m eval.calibrate_reader [--reader qa/models/reader] [--gold eval/gold_qa.json] [--index .qa-index]
                                    [--tune eval/tune_news.json ...] [--dry-run]
    python -m eval.calibrate_reader --reader DIR --record "gold test=out.json" ...   # eval figures -> model card
    python -m eval.calibrate_reader --compare     # cross-validated: the margin alone against all the features

Questions: the gold set's ``split == "tune"`` (never its test split) asked of ``--index``, and every question of
each tuning file asked of an index of its own articles, built in a temporary folder; then each answerable one
again with its gold article left out of what is retrieved (kept only when no other article holds a gold answer),
which makes it unanswerable: that is what "related but not there" looks like to the reader; and each answerable
one that a rule of ``eval.make_unanswerable`` applies to, with a name, number or date swapped for one its article
lacks (or an antonym, or a negation): "on topic, but not supported". Every candidate span
is labelled with its F1 against the gold answers (0 outside the gold article); a logistic model over
``qa.trained_reader.FEATURES`` is fitted to those labels, each question weighing the same, so the confidence is
the expected F1 of the answer. The threshold is the
one that maximises the tune sets' mean score with abstention (an answer scores its F1, abstaining scores 1 on an
unanswerable question and 0 on an answerable one); the questions made unanswerable weigh a quarter of both. The
result goes into ``reader.json`` (and its model card). ``--record NAME=FILE`` copies the figures of a
``qa eval --json`` run (``FILE``; ``NAME`` ending in a split name, e.g. "gold test", takes that split) into the
model card instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.errors import QAError
from eval.datasets import load_gold
from eval.metrics import f1 as f1_score

L2 = 0.01
FOLDS = 5
# What ``--compare`` sets against the shipped features: the reader's margin over "no answer" alone, and its own
# scores without the retrieval and evidence features (the trust issue's "cheap evidence, only where it measures
# better").
COMPARED = {"margin alone": ("margin",), "reader scores": ("margin", "span_score", "best_null", "shared_margin")}
# "Likely" in the chat: the confidence from which the tune sets' answers reach this F1 (see ``likely_band``).
LIKELY_F1 = 0.85
# Questions made unanswerable outnumber the real ones of the tune sets almost one to one; left so, abstaining
# would look cheap. Together they weigh this share of the fit and of the threshold's objective.
VARIANT_SHARE = 0.25


@dataclass
class Asked:
    """One tune question as the reader saw it: its candidates' features and how good each would be."""

    source: str
    answerable: bool
    features: np.ndarray  # (candidates, features)
    quality: np.ndarray  # F1 with the gold in the gold article, 0 elsewhere
    variant: bool = False  # made unanswerable by leaving its article out
    weight: float = 1.0
    key: str = ""  # the question it was asked as or made from: its variants fall in the same fold of ``compare``


def ask(assistant, questions, source: str, without_gold: bool = False) -> list[Asked]:
    from core.records import Hit

    texts = [q.question for q in questions]
    vectors = assistant.embedder.encode_questions(texts)
    hit_lists = [r.hits for r in assistant.retriever.retrieve_batch(texts, vectors)]
    reader = assistant.reader
    asked = []
    for question, vector, hits in zip(questions, vectors, hit_lists):
        if without_gold:
            others = [d for d in assistant.documents.values() if d.doc_id != question.doc]
            if any(answer in d.text for d in others for answer in question.answers):
                continue
            hits = [Hit(h.chunk, h.score, i) for i, h in
                    enumerate((h for h in hits if h.chunk.doc_id != question.doc), start=1)]
        candidates = reader.candidates(question.question, vector, hits)
        answerable = question.answerable and not without_gold
        documents = assistant.data.documents
        quality = np.array([f1_score(documents[c.doc].text[c.start:c.end], question.answers)
                            if answerable and documents[c.doc].doc_id == question.doc else 0.0 for c in candidates])
        features = np.array([c.features for c in candidates]).reshape(len(candidates), len(reader.weights))
        asked.append(Asked(source + (" without its article" if without_gold else ""), answerable, features, quality,
                           without_gold, key=question.id))
    return asked


def made_unanswerable(owner, questions, seed: int = 13):
    """Each answerable question that a rule of ``eval.make_unanswerable`` applies to, made unanswerable (a name,
    number or date swapped for one its article lacks, an antonym, a negation), as a gold question without answers."""
    import random

    from embeddings.analysis import parse_many
    from eval.make_unanswerable import entity_pool, make_variant

    answerable = [q for q in questions if q.answerable and q.doc in owner.documents]
    docs = parse_many([q.question for q in answerable])
    pool, rng = entity_pool(docs), random.Random(seed)
    made = []
    for q, doc in zip(answerable, docs):
        variant = make_variant(q.question, doc, owner.documents[q.doc].text, pool, rng)
        if variant is not None:
            made.append(replace(q, question=variant.question, answers=(), doc=None,
                                type="unanswerable"))
    return made


def precision_recall(results: list[tuple[bool, float, float]], weights: list[float]) -> list[dict]:
    """"Not in the articles" as the threshold moves: its precision and recall, and the share answered."""
    curve = []
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        abstained = np.array([c < t for _, c, _ in results])
        unanswerable = np.array([not a for a, _, _ in results])
        w = np.asarray(weights)
        hit = float(w[abstained & unanswerable].sum())
        curve.append({"threshold": float(t), "precision": round(hit / max(float(w[abstained].sum()), 1e-9), 4),
                      "recall": round(hit / max(float(w[unanswerable].sum()), 1e-9), 4),
                      "answered": round(float(w[~abstained].sum() / w.sum()), 4)})
    return curve


def likely_band(results: list[tuple[bool, float, float]], threshold: float) -> dict:
    """The lowest confidence (at or above the abstain threshold) from which the answered questions' F1 reaches
    ``LIKELY_F1`` (an unanswerable question answered scores 0), with that F1 and the share it answers."""
    chosen = {"threshold": 1.0, "f1": None, "answered": 0.0}
    for t in sorted({round(c, 3) for _, c, _ in results if c >= threshold}):
        answered = [q if a else 0.0 for a, c, q in results if c >= t]
        value = float(np.mean(answered))
        if value >= LIKELY_F1:
            return {"threshold": t, "f1": round(value, 4), "answered": round(len(answered) / len(results), 4)}
    return chosen


def weigh(asked: list[Asked]) -> None:
    """Originals weigh 1; the variants together ``VARIANT_SHARE`` of the whole."""
    originals = sum(1 for a in asked if not a.variant)
    variants = len(asked) - originals
    for a in asked:
        a.weight = originals * VARIANT_SHARE / (1 - VARIANT_SHARE) / variants if a.variant and variants else 1.0


def fit(asked: list[Asked], n_features: int) -> tuple[np.ndarray, float]:
    """Logistic regression of each candidate's F1 (a soft label: an exact span beats one that merely holds the
    answer), each question weighing the same."""
    from scipy.optimize import minimize

    rows = [(a.features, a.quality, a.weight / len(a.quality)) for a in asked if len(a.quality)]
    x = np.vstack([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    w = np.concatenate([np.full(len(r[1]), r[2]) for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale

    def loss(params):
        logits = z @ params[:-1] + params[-1]
        p = 1.0 / (1.0 + np.exp(-logits))
        value = -np.sum(w * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))) / w.sum()
        gradient_logits = w * (p - y) / w.sum()
        gradient = np.concatenate([z.T @ gradient_logits + L2 * params[:-1], [gradient_logits.sum()]])
        return value + 0.5 * L2 * float(params[:-1] @ params[:-1]), gradient

    result = minimize(loss, np.zeros(n_features + 1), jac=True, method="L-BFGS-B")
    weights = result.x[:-1] / scale
    bias = float(result.x[-1] - (mean / scale) @ result.x[:-1])
    return weights, bias


def outcomes(asked: list[Asked], weights: np.ndarray, bias: float) -> list[tuple[bool, float, float]]:
    """(answerable, best confidence, F1 of the best candidate) per question."""
    result = []
    for a in asked:
        if not len(a.quality):
            result.append((a.answerable, 0.0, 0.0))
            continue
        logits = a.features @ weights + bias
        best = int(np.argmax(logits))
        result.append((a.answerable, float(1 / (1 + np.exp(-logits[best]))), float(a.quality[best])))
    return result


def choose_threshold(results: list[tuple[bool, float, float]], weights: list[float]) -> tuple[float, float]:
    def score(t: float) -> float:
        return float(np.average([(q if c >= t else 0.0) if answerable else (0.0 if c >= t else 1.0)
                                 for answerable, c, q in results], weights=weights))

    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    scores = [score(t) for t in grid]
    best = int(np.argmax(scores))
    return float(grid[best]), scores[best]


def auc(results: list[tuple[bool, float, float]]) -> float | None:
    """How often an answerable question is more confident than an unanswerable one (ties count half)."""
    yes = np.array([c for a, c, _ in results if a])
    no = np.array([c for a, c, _ in results if not a])
    if not len(yes) or not len(no):
        return None
    return round(float(((yes[:, None] > no[None, :]).sum() + 0.5 * (yes[:, None] == no[None, :]).sum())
                       / (len(yes) * len(no))), 4)


def compare(asked: list[Asked], names: tuple[str, ...], subsets: dict[str, tuple[str, ...]],
            folds: int = FOLDS) -> dict[str, dict]:
    """Each subset of the features fitted and thresholded on all folds but one and judged on that one, for every
    fold: the out-of-fold objective (as ``choose_threshold`` scores it), "not in the articles" precision and
    recall, answerable F1 and AUC over the questions asked as written (the made variants count in fitting only).
    A question and the variants made from it share a fold."""
    fold_of = [zlib.crc32(a.key.encode()) % folds for a in asked]
    table = {}
    for label, subset in subsets.items():
        columns = [names.index(name) for name in subset]
        narrowed = [replace(a, features=a.features[:, columns]) for a in asked]
        judged: list[tuple[bool, float, float] | None] = [None] * len(asked)
        decided = [False] * len(asked)
        for k in range(folds):
            train = [a for a, f in zip(narrowed, fold_of) if f != k]
            weights, bias = fit(train, len(columns))
            threshold, _ = choose_threshold(outcomes(train, weights, bias), [a.weight for a in train])
            held = [i for i, f in enumerate(fold_of) if f == k]
            for i, result in zip(held, outcomes([narrowed[i] for i in held], weights, bias)):
                judged[i], decided[i] = result, result[1] >= threshold
        weights = [a.weight for a in asked]
        objective = np.average([(q if d else 0.0) if a else (0.0 if d else 1.0)
                                for (a, _, q), d in zip(judged, decided)], weights=weights)
        real = [(r, d) for r, d, a in zip(judged, decided, asked) if not a.variant]
        abstained = sum(1 for (a, _, _), d in real if not d)
        caught = sum(1 for (a, _, _), d in real if not d and not a)
        unanswerable = sum(1 for (a, _, _), _ in real if not a)
        table[label] = {"objective": round(float(objective), 4),
                        "f1_answerable": _mean([q if d else 0.0 for (a, _, q), d in real if a]),
                        "no_answer_precision": round(caught / max(abstained, 1), 4),
                        "no_answer_recall": round(caught / max(unanswerable, 1), 4),
                        "auc": auc([r for r, _ in real]), "questions": len(real), "unanswerable": unanswerable}
    return table


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def summary(results: list[tuple[bool, float, float]], threshold: float) -> dict:
    answerable = [(c, q) for a, c, q in results if a]
    abstained = [c < threshold for _, c, _ in results]
    unanswerable = [not a for a, _, _ in results]
    correct = sum(1 for x, u in zip(abstained, unanswerable) if x and u)
    return {"questions": len(results), "f1_answerable": _mean([q if c >= threshold else 0.0
                                                                  for c, q in answerable]),
            "f1_if_never_abstaining": _mean([q for _, q in answerable]),
            "no_answer_precision": round(correct / max(sum(abstained), 1), 4),
            "no_answer_recall": round(correct / max(sum(unanswerable), 1), 4)}


def main(argv: list[str] | None = None) -> int:
    try:
        return calibrate(argv)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def record(folder: Path, items: list[str]) -> None:
    from qa.reader_model import read_meta, write_meta

    meta = read_meta(folder)
    rows = meta.setdefault("evaluation", {})
    for item in items:
        name, _, path = item.partition("=")
        try:
            metrics = json.loads(Path(path).read_text(encoding="utf-8"))
            metrics = metrics.get("splits", {}).get(name.rsplit(" ", 1)[-1], metrics)
            rows[name] = {"em": metrics["em"], "f1": metrics["f1"], "recall@5": metrics["recall_at_5"],
                          "citation_accuracy": metrics["citation_accuracy"],
                          "no_answer_precision": metrics["no_answer_precision"] or 0.0,
                          "no_answer_recall": metrics["no_answer_recall"] or 0.0, "questions": metrics["n_questions"]}
        except (OSError, ValueError, KeyError, AttributeError) as error:
            raise QAError(f"cannot read {path} as `qa eval --json` output: {type(error).__name__}") from None
    write_meta(folder, meta)


def _arguments(argv: list[str] | None, shipped: Path) -> argparse.Namespace:
    """The command line; ``shipped`` (the default reader) is passed in, as its module loads only for a run."""
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", type=Path, default=shipped, help="a folder made by eval.train_reader")
    parser.add_argument("--gold", default="eval/gold_qa.json")
    parser.add_argument("--index", default=".qa-index")
    parser.add_argument("--tune", nargs="*", default=["eval/tune_news.json"], help="SQuAD-format tuning files")
    parser.add_argument("--max-length", type=int, help="tokens per window at inference (default: as recorded)")
    parser.add_argument("--read-hits", type=int, help="passages read per question (default: as recorded)")
    parser.add_argument("--precision", choices=("float32", "bfloat16", "int8"),
                        help="how the model computes at inference (default: as recorded)")
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    parser.add_argument("--compare", action="store_true",
                        help="cross-validate the margin alone, the reader's scores and all features; write nothing")
    parser.add_argument("--record", action="append", metavar="NAME=FILE",
                        help="put the figures of a `qa eval --json` output into the model card (no fitting)")
    return parser.parse_args(argv)


def calibrate(argv: list[str] | None = None) -> int:
    from core.config import load_settings
    from embeddings.indexer import index_documents
    from qa.assistant import Assistant
    from qa.reader_model import SHIPPED, read_meta, write_meta
    from qa.trained_reader import FEATURES

    args = _arguments(argv, SHIPPED)
    if args.record:
        record(args.reader, args.record)
        return 0
    gold = load_gold(args.gold)
    tune = [q for q in gold.questions if q.split == "tune"]
    tuning_sets = [(path, load_gold(path)) for path in args.tune]  # a bad file fails before minutes of work
    settings = load_settings().with_overrides(reader=f"trained:{args.reader}")
    meta = read_meta(args.reader)
    inference = {**meta.get("inference", {}), **{k: v for k, v in (("max_length", args.max_length),
                                                                   ("read_hits", args.read_hits),
                                                                   ("precision", args.precision)) if v is not None}}
    if meta.get("calibration") and meta["calibration"].get("features") != list(FEATURES):
        # A calibration of other features would stop the reader from loading; it is what this run replaces.
        meta.pop("calibration")
        write_meta(args.reader, meta)
    assistant = Assistant.load(args.index, settings)
    sources = [(f"{args.gold} split=tune", assistant, tune)]
    with tempfile.TemporaryDirectory() as folder:
        for i, (path, tuning) in enumerate(tuning_sets):
            index_dir = Path(folder) / f"tune-{i}"
            index_documents(tuning.source_documents, index_dir, settings, embedder=assistant.embedder)
            sources.append((path, Assistant.load(index_dir, settings, embedder=assistant.embedder),
                            list(tuning.questions)))
        asked = []
        for name, owner, questions in sources:
            for key, value in inference.items():  # tried here, recorded below with the calibration
                setattr(owner.reader, key, value)
            asked += ask(owner, questions, name)
            asked += ask(owner, [q for q in questions if q.answerable], name, without_gold=True)
            for made in ask(owner, made_unanswerable(owner, questions), name + " made unanswerable"):
                made.variant = True
                asked.append(made)
    weigh(asked)
    if args.compare:
        subsets = {**COMPARED, "all (shipped)": tuple(FEATURES)}
        print(json.dumps(compare(asked, tuple(FEATURES), subsets), indent=1))
        return 0
    weights, bias = fit(asked, len(FEATURES))
    results = outcomes(asked, weights, bias)
    threshold, objective = choose_threshold(results, [a.weight for a in asked])
    by_source = {}
    for name in dict.fromkeys(a.source for a in asked):
        chosen = [r for a, r in zip(asked, results) if a.source == name]
        by_source[name] = summary(chosen, threshold)
    calibration = {"features": list(FEATURES), "weights": [round(float(v), 6) for v in weights],
                   "bias": round(bias, 6), "threshold": threshold, "objective": round(objective, 4),
                   "fitted_on": [name for name, _, _ in sources], "questions": len(asked), "tune": by_source,
                   "no_answer_curve": precision_recall(results, [a.weight for a in asked]),
                   "likely": likely_band([r for a, r in zip(asked, results) if not a.variant], threshold)}
    print(json.dumps(calibration, indent=1))
    if not args.dry_run:
        meta["calibration"] = calibration
        meta["inference"] = inference
        write_meta(args.reader, meta)
        print(f"wrote the calibration into {args.reader}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
