"""Fit the feature reader's weights, its confidence calibration and its abstain threshold on tuning questions.

    python -m eval.fit_reader [--gold eval/gold_qa.json] [--index .qa-index] [--tune eval/tune_news.json ...]
                              [--out qa/reader_weights.json]

The questions with ``split == "tune"`` of the gold set are used, never its test split, together with every
question of the extra tuning files: SQuAD-format news articles written for fitting (``eval/tune_news.json``, 290
questions over 24 articles), each file indexed on its own in a temporary folder. The weights are fitted listwise:
for each question, a softmax over its candidates should put its mass on the spans that match a gold answer
(target proportional to F1 with the gold, in the gold document), which is exactly how the reader uses them
(it takes the best-scoring span). Confidence is then a Platt scaling of the best span's score against "this
answer is right", unanswerable questions included, and the abstain threshold maximises the tuning accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.datasets import load_gold
from eval.metrics import f1 as f1_score

L2 = 0.01
TARGET_POWER = 4  # targets F1**4: a span that is the answer, not one that merely contains it


@dataclass
class Example:
    """One tuning question as the reader sees it, with a target for every sentence and candidate."""

    question: object  # eval.datasets.GoldQuestion
    reader: object  # the qa.feature_reader.FeatureReader of the index it was asked of
    reading: object  # qa.feature_reader.Reading, or None when nothing was retrieved
    spans: list[str]
    span_targets: np.ndarray  # F1 with the gold (in the gold document) ** TARGET_POWER
    sentence_targets: np.ndarray  # the best span target in each sentence
    weight: float = 1.0  # in the fit: each source of tuning questions weighs the same, however many it has


def examples(assistant, questions) -> list[Example]:
    from embeddings.analysis import parse
    from qa.question import analyse_question

    reader = assistant.reader
    texts = [q.question for q in questions]
    vectors = assistant.embedder.encode_questions(texts)
    hit_lists = [r.hits for r in assistant.retriever.retrieve_batch(texts, vectors)]
    result = []
    for question, vector, hits in zip(questions, vectors, hit_lists):
        reading = reader.consider(analyse_question(question.question, parse), vector, hits)
        if reading is None:
            result.append(Example(question, reader, None, [], np.zeros(0), np.zeros(0)))
            continue
        spans, targets = [], np.zeros(len(reading.candidates))
        for i, c in enumerate(reading.candidates):
            doc = reader.document_of(reading, i)
            spans.append(doc.text[c.start:c.end])
            if question.answers and doc.doc_id == question.doc:
                targets[i] = f1_score(spans[-1], question.answers) ** TARGET_POWER
        sentence_targets = np.zeros(len(reading.sentences))
        np.maximum.at(sentence_targets, reading.candidate_sentence, targets)
        result.append(Example(question, reader, reading, spans, targets, sentence_targets))
    return result


# Directions known before any data: a span that repeats the question, or whose clause names a different entity,
# is less likely the answer; the expected type, the question's words around it, its slot are more likely. Fixing
# the signs lets a few dozen questions fit the sizes without flipping a sign by chance.
NON_NEGATIVE = {"type_match", "type_partial", "type_noun", "type_noun_near", "reason_clause", "reason_marker",
                "local_overlap", "local_overlap_wide", "clause_overlap", "title_overlap", "preposition_match",
                "place_preposition", "manner_word", "wh_role", "verb_link", "cosine", "lexical", "passage_rank",
                "has_type", "best_local", "best_clause", "focus_coverage", "best_span"}
NON_POSITIVE = {"question_overlap", "all_in_question", "entity_conflict", "type_entity_mismatch", "modifier",
                "margin"}


def bounds_for(names) -> list[tuple[float | None, float | None]]:
    return [(0.0, None) if n in NON_NEGATIVE else (None, 0.0) if n in NON_POSITIVE else (None, None) for n in names]


def fit_weights(lists: list[tuple], l2: float = L2, bounds=None) -> np.ndarray:
    """Listwise softmax regression with an L2 penalty, minimised with L-BFGS (small, smooth, convex).

    Each list is (features, targets) or (features, targets, weight) for the options of one decision; the softmax
    of ``features @ w`` should put its mass where the targets do.
    """
    from scipy.optimize import minimize

    lists = [(item[0], item[1] / item[1].sum(), item[2] if len(item) > 2 else 1.0)
             for item in lists if len(item[1]) and item[1].max() > 0]
    scale = np.maximum(np.abs(np.vstack([x for x, _, _ in lists])).max(axis=0), 1e-6)
    scaled = [(x / scale, t, weight) for x, t, weight in lists]
    total = sum(weight for _, _, weight in scaled)
    start = np.zeros(scale.shape[0])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = 0.5 * l2 * float(w @ w), l2 * w
        for x, target, weight in scaled:
            logits = x @ w
            shifted = logits - logits.max()
            log_z = np.log(np.exp(shifted).sum())
            p = np.exp(shifted - log_z)
            value -= weight * float(target @ (shifted - log_z)) / total
            gradient = gradient + weight * (x.T @ (p - target)) / total
        return value, gradient

    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    return result.x / scale


def fit_reader(items: list[Example], l2: float = L2) -> tuple[np.ndarray, np.ndarray]:
    """Span weights from the spans of answer sentences; then sentence weights from every question's sentences,
    each sentence knowing the score of its best span under the fitted span weights. The readers of the examples
    get the weights."""
    from qa.feature_reader import SENTENCE_FEATURES, SPAN_FEATURES

    span_lists = []
    for e in items:
        if e.reading is None:
            continue
        for i in np.flatnonzero(e.sentence_targets > 0):
            mask = e.reading.candidate_sentence == i
            span_lists.append((e.reading.span_features[mask], e.span_targets[mask], e.weight))
    span_weights = fit_weights(span_lists, l2, bounds_for(SPAN_FEATURES))
    readers = list({id(e.reader): e.reader for e in items}.values())
    for reader in readers:
        reader.span_weights = span_weights
    sentence_lists = []
    for e in items:
        if e.reading is not None and e.sentence_targets.max(initial=0) > 0:
            e.reader.fill_best_span(e.reading)
            sentence_lists.append((e.reading.sentence_features, e.sentence_targets, e.weight))
    sentence_weights = fit_weights(sentence_lists, l2, bounds_for(SENTENCE_FEATURES))
    for reader in readers:
        reader.sentence_weights = sentence_weights
    return sentence_weights, span_weights


def calibrate(items: list[Example], extra=()) -> tuple[np.ndarray, float, float, dict]:
    """Logistic calibration of the best answer's evidence against correctness, then the threshold.

    ``extra`` are questions made unanswerable (``unanswerable_variants``); they join the calibration. The
    threshold maximises what a user gets on the real tuning questions: an answer's F1 when one is given, 1 for
    declining an unanswerable question.
    """
    from scipy.optimize import minimize

    from qa.feature_reader import CONFIDENCE_FEATURES

    rows, quality, answerable = [], [], []
    for e in [*items, *extra]:
        if e.reading is None:
            rows.append(np.zeros(len(CONFIDENCE_FEATURES)))
            quality.append(0.0)
        else:
            scores = e.reader.scores(e.reading)
            top = int(np.argmax(scores))
            rows.append(e.reader.confidence_inputs(e.reading, scores, top))
            quality.append(f1_score(e.spans[top], e.question.answers) if e.question.answers else 0.0)
        answerable.append(bool(e.question.answers))
    x, quality, answerable = np.array(rows), np.array(quality), np.array(answerable)
    y = (quality >= 0.5).astype(float)

    def loss(params: np.ndarray) -> float:
        z = x @ params[:-1] + params[-1]
        return float(np.mean(np.logaddexp(0, z) - y * z) + 0.01 * params[:-1] @ params[:-1])

    params = minimize(loss, np.zeros(x.shape[1] + 1), method="L-BFGS-B").x
    confidences = 1 / (1 + np.exp(-(x @ params[:-1] + params[-1])))
    # The threshold is chosen on the real tuning questions only, in their real mix of answerable and not: the
    # made-up unanswerable ones would otherwise make declining look far more often right than it is.
    real = np.arange(len(y)) < len(items)
    weights = np.array([e.weight for e in items])
    thresholds = np.linspace(0.0, 0.95, 96)
    utilities = np.array([np.average(np.where(answerable, np.where(confidences >= t, quality, 0.0),
                                              confidences < t)[real], weights=weights) for t in thresholds])
    best = int(np.argmax(utilities))
    return params[:-1], float(params[-1]), float(thresholds[best]), {
        "tune_utility": round(float(utilities[best]), 4),
        "calibration_questions": int(len(y)), "unanswerable_questions": int((~answerable).sum())}


def weights_json(sentence_weights, span_weights, calibration_weights, bias, threshold, **info) -> dict:
    from qa.feature_reader import CONFIDENCE_FEATURES, SENTENCE_FEATURES, SPAN_FEATURES

    def rounded(values):
        return [round(float(v), 5) for v in values]

    return {"sentence_features": list(SENTENCE_FEATURES), "sentence_weights": rounded(sentence_weights),
            "span_features": list(SPAN_FEATURES), "span_weights": rounded(span_weights),
            "calibration": {"features": list(CONFIDENCE_FEATURES), "weights": rounded(calibration_weights),
                            "bias": round(bias, 5)},
            "abstain_threshold": round(threshold, 4), **info}


def unanswerable_variants(assistant, questions, index_root: Path, settings) -> list[Example]:
    """Tuning questions made unanswerable: each asked of an index without its gold article (kept only when no
    other article holds a gold answer). They teach the confidence what "related but not there" looks like."""
    from embeddings.indexer import index_documents
    from qa.assistant import Assistant

    documents = list(assistant.documents.values())
    variants = []
    for removed in documents:
        kept = [d for d in documents if d.doc_id != removed.doc_id]
        asked = [q for q in questions if q.doc == removed.doc_id
                 and not any(answer in d.text for d in kept for answer in q.answers)]
        if not asked:
            continue
        index_dir = index_root / f"without-{len(variants)}"
        index_documents(kept, index_dir, settings, embedder=assistant.embedder)
        reduced = Assistant.load(index_dir, settings, embedder=assistant.embedder)
        reduced.reader.set_weights(weights_json(assistant.reader.sentence_weights, assistant.reader.span_weights,
                                                [0.0], 0.0, 0.0))
        for example in examples(reduced, asked):
            example.question = replace(example.question, answers=(), doc=None)
            example.span_targets = np.zeros_like(example.span_targets)
            example.sentence_targets = np.zeros_like(example.sentence_targets)
            variants.append(example)
    return variants


def tuning_file(gold, index_dir: Path, settings, embedder) -> tuple[object, list[Example]]:
    """An assistant over a SQuAD-format tuning file's own articles, and every question of the file asked of it."""
    from embeddings.indexer import index_documents
    from qa.assistant import Assistant

    index_documents(gold.source_documents, index_dir, settings, embedder=embedder)
    assistant = Assistant.load(index_dir, settings, embedder=embedder)
    return assistant, examples(assistant, gold.questions)


def main(argv: list[str] | None = None) -> int:
    from core.errors import QAError

    try:
        return fit(argv)
    except QAError as error:  # a missing index, an unreadable gold or tuning file: one line, nothing written
        print(f"error: {error}", file=sys.stderr)
        return 2


def fit(argv: list[str] | None = None) -> int:
    import tempfile

    from core.config import FEATURE_READER, load_settings
    from qa.assistant import Assistant
    from qa.feature_reader import CONFIDENCE_FEATURES, SENTENCE_FEATURES, SPAN_FEATURES, WEIGHTS_FILE, load_weights

    parser = argparse.ArgumentParser(prog="python -m eval.fit_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", default="eval/gold_qa.json")
    parser.add_argument("--index", default=".qa-index")
    parser.add_argument("--tune", nargs="*", default=["eval/tune_news.json"], help="SQuAD-format tuning files")
    parser.add_argument("--out", default=str(WEIGHTS_FILE))
    args = parser.parse_args(argv)
    gold = load_gold(args.gold)
    tune = [q for q in gold.questions if q.split == "tune"]
    tuning_sets = [load_gold(path) for path in args.tune]  # read first: a bad file fails before minutes of work
    settings = load_settings().with_overrides(reader=FEATURE_READER)  # these weights are the feature reader's
    try:
        load_weights()
    except ValueError:  # the features changed since the last fit: start from neutral weights
        WEIGHTS_FILE.write_text(json.dumps(weights_json(np.zeros(len(SENTENCE_FEATURES)), np.zeros(len(SPAN_FEATURES)),
                                                        np.zeros(len(CONFIDENCE_FEATURES)), 0.0, 0.0)),
                                encoding="utf-8")
    assistant = Assistant.load(args.index, settings)
    with tempfile.TemporaryDirectory() as folder:
        sources = [(assistant, examples(assistant, tune))]
        sources += [tuning_file(tuning, Path(folder) / f"tune-{i}", settings, assistant.embedder)
                    for i, tuning in enumerate(tuning_sets)]
        items = [e for _, asked in sources for e in asked]
        for _, asked in sources:  # the gold tuning split counts as much as each tuning file, however long
            for e in asked:
                e.weight = len(items) / (len(sources) * len(asked))
        sentence_weights, span_weights = fit_reader(items)
        extra = [e for i, (owner, asked) in enumerate(sources)
                 for e in unanswerable_variants(owner, [x.question for x in asked if x.question.answers],
                                                Path(folder) / f"variants-{i}", settings)]
        calibration_weights, bias, threshold, info = calibrate(items, extra)
    fitted_on = ", ".join([f"{args.gold} split=tune ({len(tune)} questions)", *args.tune])
    data = weights_json(sentence_weights, span_weights, calibration_weights, bias, threshold,
                        fitted_on=f"{fitted_on}: {len(items)} questions, {len(extra)} made unanswerable", **info)
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: threshold {threshold:.2f}, {info}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
