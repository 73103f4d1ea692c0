"""The default extractive reader: score answer candidates with features and a fitted linear model.

Candidates (entities, noun phrases, numbers and clauses) come from the analysis done at index time; only their
question-dependent features are computed here: does the span carry the expected type, how relevant is its
sentence (dense and lexical), how close is it to the question's words in the sentence and in the parse, does it
merely repeat the question, how long is it, how many passages agree on it. The weights and the abstain threshold
are fitted on the tuning part of the gold set (``python -m eval.fit_reader``) and kept in ``reader_weights.json``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.corpus import KINDS, Candidate, Corpus
from qa.question import QuestionAnalysis
from qa.records import Answer, Hit

WEIGHTS_FILE = Path(__file__).with_name("reader_weights.json")
READ_HITS = 5  # chunks whose sentences are read
READ_SENTENCES = 6  # best sentences whose candidates are scored
FEATURES = (
    "bias", "type_match", "type_partial", "type_noun", "no_type", "reason_clause", "reason_marker",
    *(f"kind_{k}" for k in KINDS),
    "sentence_cos", "sentence_overlap", "sentence_top", "chunk_rank",
    "question_overlap", "all_in_question", "proximity", "log_length", "long", "agreement", "verb_link",
    "subject", "object", "type_entity_mismatch",
)
_NORMALISE = re.compile(r"\W+")
_STRONG_REASON = {"because", "since", "to", "considering", "order", "bid", "aim"}


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    sentence: int  # global sentence index
    features: np.ndarray


def load_weights(path: Path = WEIGHTS_FILE) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if list(data["features"]) != list(FEATURES):
        raise ValueError(f"{path} was fitted for other features; refit with `python -m eval.fit_reader`")
    return data


class FeatureReader:
    """``read(question, vector, hits)`` -> answers best first, each a span of its article."""

    def __init__(self, corpus: Corpus, weights: dict | None = None):
        self.corpus = corpus
        weights = load_weights() if weights is None else weights
        self.weights = np.asarray(weights["weights"], dtype=np.float64)
        self.threshold = float(weights.get("abstain_threshold", 0.0))

    def candidates(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit]) -> list[Scored]:
        """Every candidate in the best sentences, with its feature vector (used by fitting too)."""
        corpus = self.corpus
        chunk_rank: dict[int, int] = {}
        for hit in hits[:READ_HITS]:
            first, last = corpus.chunk_sentences[hit.chunk.chunk_id]
            for s in range(first, last):
                chunk_rank.setdefault(s, hit.rank)
        if not chunk_rank:
            return []
        sentence_ids = np.fromiter(chunk_rank, dtype=np.int64)
        cosines = corpus.data.sentence_vectors[sentence_ids] @ vector
        focus = set(question.focus)
        overlaps = np.array([len(focus & corpus.sentences[s].lemmas) / max(len(focus), 1) for s in sentence_ids])
        relevance = cosines + 0.5 * overlaps
        order = np.argsort(-relevance, kind="stable")[:READ_SENTENCES]
        best = float(relevance[order[0]])
        scored: list[Scored] = []
        for position in order:
            s = int(sentence_ids[position])
            for candidate in corpus.candidates[s]:
                features = self._features(question, candidate, s, float(cosines[position]),
                                          float(overlaps[position]), float(relevance[position]) >= best - 1e-9,
                                          chunk_rank[s])
                scored.append(Scored(candidate, s, features))
        self._add_agreement(scored)
        return scored

    def read(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit], top_k: int) -> list[Answer]:
        scored = self.candidates(question, vector, hits)
        if not scored:
            return []
        logits = np.stack([s.features for s in scored]) @ self.weights
        answers: list[Answer] = []
        taken: list[tuple[int, int, int]] = []
        texts: set[str] = set()
        for position in np.argsort(-logits, kind="stable"):
            item = scored[int(position)]
            c, doc = item.candidate, self.corpus.sentences[item.sentence].doc
            key = _NORMALISE.sub(" ", self.corpus.data.documents[doc].text[c.start:c.end].lower()).strip()
            # Overlapping spans of one passage, or the same words from two passages, are one answer.
            if key in texts or any(d == doc and c.start < e and s < c.end for d, s, e in taken):
                continue
            confidence = 1.0 / (1.0 + math.exp(-float(logits[position])))
            answers.append(self._answer(doc, c, confidence, hits))
            taken.append((doc, c.start, c.end))
            texts.add(key)
            if len(answers) >= top_k:
                break
        return answers

    def _answer(self, doc: int, c: Candidate, confidence: float, hits: list[Hit]) -> Answer:
        document = self.corpus.data.documents[doc]
        chunk_id = next((h.chunk.chunk_id for h in hits if h.chunk.doc_id == document.doc_id
                         and h.chunk.start <= c.start and c.end <= h.chunk.end), -1)
        return Answer(document.text[c.start:c.end], document.doc_id, c.start, c.end, confidence, chunk_id)

    def _features(self, q: QuestionAnalysis, c: Candidate, s: int, cosine: float, overlap: float, top: bool,
                  rank: int) -> np.ndarray:
        corpus = self.corpus
        sentence = corpus.sentences[s]
        analysis = corpus.data.analyses[sentence.doc]
        lemmas = corpus.lemmas_lower[sentence.doc]
        focus = set(q.focus)
        span_lemmas = [lemmas[t] for t in range(c.first_token, c.last_token) if analysis.pos[t] not in ("PUNCT",)]
        content = [lemma for lemma in span_lemmas if lemma.isalnum() or "-" in lemma]
        in_question = sum(lemma in focus for lemma in content) / max(len(content), 1)
        ent_labels = {analysis.ent_type[t] for t in range(c.first_token, c.last_token)} - {""}
        type_match = float(bool(q.labels) and c.kind == "entity" and c.label in q.labels)
        type_partial = float(bool(q.labels) and not type_match and bool(ent_labels & q.labels))
        mismatch = float(bool(q.labels) and c.kind == "entity" and c.label not in q.labels)
        head_lemma = lemmas[c.head]
        outer_head = analysis.head[c.head]
        type_noun = float(bool(q.type_noun) and (head_lemma == q.type_noun or lemmas[outer_head] == q.type_noun
                                                  or q.type_noun in span_lemmas))
        reason = q.answer_type == "reason"
        # Distance in tokens from the span to the nearest question word in its sentence.
        distance = min((abs(t - c.first_token) if t < c.first_token else abs(t - c.last_token + 1)
                        for t in range(sentence.first_token, sentence.last_token)
                        if lemmas[t] in focus and not (c.first_token <= t < c.last_token)), default=40)
        # Does the span hang (within two steps) from a question word: "led by Kislyak" for "who led".
        node, verb_link = c.head, 0.0
        for _ in range(3):
            node = analysis.head[node]
            if lemmas[node] in focus or (q.main_verb and lemmas[node] == q.main_verb):
                verb_link = 1.0
                break
        dep = analysis.dep[c.head]
        length = c.last_token - c.first_token
        values = {
            "bias": 1.0,
            "type_match": type_match,
            "type_partial": type_partial,
            "type_noun": type_noun,
            "no_type": float(not q.labels and not q.type_noun and not reason),
            "reason_clause": float(reason and c.kind == "clause"),
            "reason_marker": float(reason and c.marker in _STRONG_REASON),
            **{f"kind_{k}": float(c.kind == k) for k in KINDS},
            "sentence_cos": cosine,
            "sentence_overlap": overlap,
            "sentence_top": float(top),
            "chunk_rank": 1.0 / rank,
            "question_overlap": in_question,
            "all_in_question": float(in_question >= 0.999),
            "proximity": math.exp(-distance / 4.0),
            "log_length": math.log1p(length),
            "long": float(length > 12),
            "agreement": 0.0,
            "verb_link": verb_link,
            "subject": float(dep in ("nsubj", "nsubjpass")),
            "object": float(dep in ("dobj", "pobj", "attr", "appos", "oprd")),
            "type_entity_mismatch": mismatch,
        }
        return np.array([values[name] for name in FEATURES], dtype=np.float64)

    def _add_agreement(self, scored: list[Scored]) -> None:
        """How many other sentences hold the same words: independent passages agreeing is evidence."""
        column = FEATURES.index("agreement")
        sentences_by_text: dict[str, set[int]] = {}
        keys = []
        for item in scored:
            c = item.candidate
            text = self.corpus.data.documents[self.corpus.sentences[item.sentence].doc].text[c.start:c.end]
            key = _NORMALISE.sub(" ", text.lower()).strip()
            keys.append(key)
            sentences_by_text.setdefault(key, set()).add(item.sentence)
        for item, key in zip(scored, keys):
            item.features[column] = math.log(len(sentences_by_text[key]))
