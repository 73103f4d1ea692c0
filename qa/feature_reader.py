"""The default extractive reader: pick the answer sentence, then the answer span in it, with fitted weights.

Reading is two decisions, scored as ``log P(sentence) + log P(span | sentence)``:
- which of the best retrieved sentences holds the answer (its cosine and lexical overlap with the question, its
  passage's rank, whether it holds a span of the expected type near the question's words);
- which candidate of that sentence is the answer (``qa.span_features``: type, position among the question's
  words in the text and the parse, overlap with the question, length).
Keeping the two apart lets a few dozen tuning questions fit each decision well; one model over every span of
every sentence mixes them up. Candidates come from the analysis stored at index time, so only the question is
parsed. Weights, confidence calibration and the abstain threshold come from ``python -m eval.fit_reader``
(tuning split only) and live in ``reader_weights.json``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import InputError
from core.records import Answer, Document, Hit
from embeddings.lexical import tokenize
from qa.candidates import Candidate, ParsedCorpus
from qa.corpus import Corpus
from qa.question import QuestionAnalysis
from qa.reader import UNCALIBRATED_LIKELY, sigmoid
from qa.retriever import SENTENCE_LEXICAL_WEIGHT
from qa.span_features import SPAN_FEATURES, SpanView, describe, focus_positions, span_features, view_question

WEIGHTS_FILE = Path(__file__).with_name("reader_weights.json")
READ_HITS = 5  # passages whose sentences are read
READ_SENTENCES = 10  # best sentences whose candidates are scored
SENTENCE_FEATURES = ("cosine", "lexical", "passage_rank", "top", "margin", "has_type", "best_local", "best_clause",
                     "focus_coverage", "has_wh_verb", "best_span")
# What the confidence is calibrated on: how sure the reader is between the options it saw, and how well the
# answer's sentence covers the question at all (a question about a "Chinese delegation" when no article says
# "Chinese" is not answered by the best sentence about delegations).
CONFIDENCE_FEATURES = ("log_probability", "relevance", "type_match", "coverage", "unseen", "names_missing",
                       "sentence_local", "sentence_span")
_NORMALISE = re.compile(r"\W+")


@dataclass
class Reading:
    """What the reader considered for one question: sentences, candidates and their features."""

    sentences: list[int]  # global sentence indices
    sentence_features: np.ndarray  # (sentences, SENTENCE_FEATURES)
    relevance: np.ndarray  # each sentence's retrieval score (cosine + lexical overlap)
    candidates: list[Candidate]
    candidate_sentence: np.ndarray  # index into ``sentences`` for each candidate
    span_features: np.ndarray  # (candidates, SPAN_FEATURES)
    coverage: np.ndarray  # each sentence's share of the question's idf mass
    unseen: float  # share of the question's idf mass in words no article has
    names: tuple[str, ...] = ()  # the question's named entities, lower case


def load_weights(path: Path = WEIGHTS_FILE) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if list(data["sentence_features"]) != list(SENTENCE_FEATURES) or \
            list(data["span_features"]) != list(SPAN_FEATURES) or \
            list(data.get("calibration", {}).get("features", CONFIDENCE_FEATURES)) != list(CONFIDENCE_FEATURES):
        raise InputError(f"{path} was fitted for other features; refit with `python -m eval.fit_reader`")
    return data


def log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max()
    return shifted - np.log(np.exp(shifted).sum())


class FeatureReader:
    """``read(question, vector, hits, top_k)`` -> answers best first, each a span of its article."""

    @classmethod
    def from_settings(cls, corpus: Corpus, settings: Settings, argument: str) -> FeatureReader:
        """``features``: the weights shipped in ``reader_weights.json``; it takes no argument."""
        if argument:
            raise InputError(f"unknown reader {settings.reader!r}; the feature reader is named 'features' alone")
        return cls(corpus)

    def __init__(self, corpus: Corpus, weights: dict | None = None):
        self.corpus = ParsedCorpus(corpus)
        self._views: dict[int, list[SpanView]] = {}  # sentence -> its candidates' views, made on first use
        self.set_weights(load_weights() if weights is None else weights)

    def set_weights(self, weights: dict) -> None:
        self.sentence_weights = np.asarray(weights["sentence_weights"], dtype=np.float64)
        self.span_weights = np.asarray(weights["span_weights"], dtype=np.float64)
        calibration = weights.get("calibration", {})
        neutral = [1.0] + [0.0] * (len(CONFIDENCE_FEATURES) - 1)  # confidence from the answer's probability alone
        self.calibration_weights = np.asarray(calibration.get("weights", neutral), dtype=np.float64)
        self.calibration_bias = float(calibration.get("bias", 0.0))
        self.threshold = float(weights.get("abstain_threshold", 0.0))
        self.likely = UNCALIBRATED_LIKELY

    def consider(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit]) -> Reading | None:
        """The best sentences of the retrieved passages and every candidate in them, with features."""
        corpus = self.corpus
        passage_rank: dict[int, int] = {}
        for hit in hits[:READ_HITS]:
            first, last = corpus.chunk_sentences[hit.chunk.chunk_id]
            for s in range(first, last):
                passage_rank.setdefault(s, hit.rank)
        if not passage_rank:
            return None
        ids = np.fromiter(passage_rank, dtype=np.int64)
        cosines = corpus.data.sentence_vectors[ids] @ vector
        terms = frozenset(tokenize(question.text))
        overlaps = np.array([corpus.lexical_overlap(terms, int(s)) for s in ids])
        relevance = cosines + SENTENCE_LEXICAL_WEIGHT * overlaps  # the retriever's sentence score
        order = np.argsort(-relevance, kind="stable")[:READ_SENTENCES]
        best = float(relevance[order[0]])
        sentences, sentence_rows, candidates, owners, span_rows = [], [], [], [], []
        col = {name: i for i, name in enumerate(SPAN_FEATURES)}
        qv = view_question(corpus, question)
        focus, wh_verb = qv.focus, qv.wh_key
        for position in order:
            s = int(ids[position])
            positions = focus_positions(corpus, qv, s)
            rows = [span_features(qv, view, positions) for view in self._views_of(s)]
            typed = [r for r in rows if r[col["type_match"]] or r[col["reason_clause"]] or r[col["type_noun"]]]
            sentence_rows.append([
                float(cosines[position]), float(overlaps[position]), 1.0 / passage_rank[s],
                float(relevance[position] >= best - 1e-9), best - float(relevance[position]),
                float(bool(typed)),
                max((r[col["local_overlap_wide"]] for r in typed), default=0.0),
                max((r[col["clause_overlap"]] for r in typed), default=0.0),
                len(focus & corpus.sentences[s].lemmas) / max(len(focus), 1),
                float(bool(wh_verb) and wh_verb in corpus.sentences[s].lemmas),
                0.0,  # best_span: filled by ``scores`` from the span model
            ])
            for c, row in zip(corpus.candidates[s], rows):
                candidates.append(c)
                owners.append(len(sentences))
                span_rows.append(row)
            sentences.append(s)
        if not candidates:
            return None
        coverage = np.array([sum(qv.idf[f] for f in focus & corpus.sentences[s].lemmas) / qv.mass
                             for s in sentences])
        unseen = sum(idf for f, idf in qv.idf.items() if f not in corpus.lemma_idf) / qv.mass
        reading = Reading(sentences, np.array(sentence_rows), relevance[order], candidates, np.array(owners),
                          np.array(span_rows), coverage, unseen, tuple(text for text, _ in question.entities))
        self._add_agreement(reading)
        return reading

    def _views_of(self, s: int) -> list[SpanView]:
        views = self._views.get(s)
        if views is None:
            views = self._views[s] = describe(self.corpus, s)
        return views

    def fill_best_span(self, reading: Reading) -> np.ndarray:
        """Give each sentence the score of its best span, so a sentence is chosen for the answer it holds; returns
        the span logits."""
        span_logits = reading.span_features @ self.span_weights
        best = np.full(len(reading.sentences), -1e9)
        np.maximum.at(best, reading.candidate_sentence, span_logits)
        reading.sentence_features[:, SENTENCE_FEATURES.index("best_span")] = np.maximum(best, -50.0)
        return span_logits

    def scores(self, reading: Reading) -> np.ndarray:
        """``log P(sentence) + log P(span | sentence)`` for every candidate."""
        span_logits = self.fill_best_span(reading)
        sentence_log_p = log_softmax(reading.sentence_features @ self.sentence_weights)
        span_log_p = np.empty_like(span_logits)
        for i in range(len(reading.sentences)):
            mask = reading.candidate_sentence == i
            if mask.any():
                span_log_p[mask] = log_softmax(span_logits[mask])
        return sentence_log_p[reading.candidate_sentence] + span_log_p

    def confidence_inputs(self, reading: Reading, scores: np.ndarray, position: int) -> np.ndarray:
        type_column = SPAN_FEATURES.index("type_match")
        local_column, span_column = SENTENCE_FEATURES.index("best_local"), SENTENCE_FEATURES.index("best_span")
        owner = reading.candidate_sentence[position]
        # The question's names that the answer's article never mentions: "the Chinese delegation in Budapest"
        # read against an article about Budapest that has no Chinese delegation.
        article = self.corpus.lower_texts[self.corpus.sentences[reading.sentences[owner]].doc]
        missing = sum(name not in article for name in reading.names) / len(reading.names) if reading.names else 0.0
        # How well the answer's sentence holds a span of the asked type among the question's words, and how good
        # its best span is: low for a question whose answer the articles do not give.
        sentence = reading.sentence_features[owner]
        return np.array([scores[position], reading.relevance[owner], reading.span_features[position, type_column],
                         reading.coverage[owner], reading.unseen, missing, sentence[local_column],
                         sentence[span_column]])

    def read(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit], top_k: int) -> list[Answer]:
        reading = self.consider(question, vector, hits)
        if reading is None:
            return []
        scores = self.scores(reading)
        answers: list[Answer] = []
        taken: list[tuple[int, int, int]] = []
        texts: set[str] = set()
        for position in np.argsort(-scores, kind="stable"):
            c = reading.candidates[int(position)]
            doc = self._doc_of(reading, int(position))
            key = _NORMALISE.sub(" ", self.corpus.data.documents[doc].text[c.start:c.end].lower()).strip()
            # Overlapping spans of one passage, or the same words from two passages, are one answer.
            if key in texts or any(d == doc and c.start < e and s < c.end for d, s, e in taken):
                continue
            logit = float(self.confidence_inputs(reading, scores, int(position)) @ self.calibration_weights)
            confidence = sigmoid(logit + self.calibration_bias)
            if answers:  # a lower-ranked answer is never shown as surer than the one above it
                confidence = min(confidence, answers[-1].score)
            answers.append(self._answer(doc, c, confidence, hits))
            taken.append((doc, c.start, c.end))
            texts.add(key)
            if len(answers) >= top_k:
                break
        return answers

    def document_of(self, reading: Reading, position: int) -> Document:
        """The article candidate ``position`` of ``reading`` stands in."""
        return self.corpus.data.documents[self._doc_of(reading, position)]

    def _doc_of(self, reading: Reading, position: int) -> int:
        return self.corpus.sentences[reading.sentences[reading.candidate_sentence[position]]].doc

    def _answer(self, doc: int, c: Candidate, confidence: float, hits: list[Hit]) -> Answer:
        document = self.corpus.data.documents[doc]
        chunk_id = next((h.chunk.chunk_id for h in hits if h.chunk.doc_id == document.doc_id
                         and h.chunk.start <= c.start and c.end <= h.chunk.end), -1)
        return Answer(document.text[c.start:c.end], document.doc_id, c.start, c.end, confidence, chunk_id)

    def _add_agreement(self, reading: Reading) -> None:
        """How many other sentences hold the same words: independent passages agreeing is evidence."""
        column = SPAN_FEATURES.index("agreement")
        sentences_by_text: dict[str, set[int]] = {}
        keys = []
        for position, (c, owner) in enumerate(zip(reading.candidates, reading.candidate_sentence)):
            text = self.document_of(reading, position).text[c.start:c.end]
            key = _NORMALISE.sub(" ", text.lower()).strip()
            keys.append(key)
            sentences_by_text.setdefault(key, set()).add(reading.sentences[owner])
        for i, key in enumerate(keys):
            reading.span_features[i, column] = math.log(len(sentences_by_text[key]))
