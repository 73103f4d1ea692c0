"""The default reader: our fine-tuned MiniLM (``qa/models/reader``, see ``qa.reader_model``) over windows around
the best sentences of the retrieved passages.

For each of the first ``READ_HITS`` passages, the window starts at the passage's best sentence for the question
(cosine plus idf-weighted overlap, as the retriever ranks them) and grows by neighbouring sentences of the article
until it fills the tokens the model was trained on; windows of one article that overlap are merged. All windows
of a question go through the model in one batch. A span's raw score means little across windows, so each
candidate is described by its margin over its own window's no-answer score (trained with distractor windows to
mean "not in this passage"), its raw score, the best window's no-answer score, and the retrieval evidence (the
passage's rank and score gap, the answer sentence's cosine with the question) and its length in words; one
logistic model over these,
fitted by ``python -m eval.calibrate_reader`` on the tune sets, ranks the candidates and is the confidence.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import InputError
from core.records import Answer, Hit
from core.threads import on_compute_thread
from embeddings.embedder import native_bf16
from embeddings.lexical import tokenize
from qa.conversation import CONTEXT_MARK
from qa.corpus import Corpus
from qa.question import QuestionAnalysis
from qa.reader import UNCALIBRATED_LIKELY, sigmoid
from qa.reader_model import SHIPPED, load_reader_model, read_meta
from qa.span_edges import complete, trim
from qa.support import coverage, expected_kind, kind_match, particulars
from qa.transformers_reader import token_spans

# Defaults of reader.json's "inference" (eval.calibrate_reader records the values it was fitted with).
# Passages read, unless reader.json says otherwise: the shipped one reads 4, which left the tune sets' F1 with
# abstention as it was (0.785 gold tune, 0.730 against 0.732 tune_news) for a fifth less reading.
READ_HITS = 5
MAX_LENGTH = 160  # tokens per window, question included: what the model was trained on
PRECISION = "float32"  # or "bfloat16" (same tune F1, 2.5x faster where the CPU has it) or "int8" (0.09 F1 lower)
STRIDE = 64  # tokens shared by consecutive windows of a merged window that is too long
MAX_QUESTION_TOKENS = 48
BEST_PER_WINDOW = 12  # start and end positions tried per window
CANDIDATES = 20  # candidate spans kept per question, best margin first
SENTENCE_LEXICAL_WEIGHT = 1.0  # as the retriever's sentence score
FEATURES = ("margin", "span_score", "best_null", "log_rank", "score_gap", "sentence_cosine", "log_words",
            "shared_margin", "sentence_particulars", "window_particulars", "kind_match")
# Before calibration: rank by margin alone, and answer when the span beats "no answer" in its window.
NEUTRAL = {"features": list(FEATURES), "weights": [1.0] + [0.0] * (len(FEATURES) - 1), "bias": 0.0, "threshold": 0.5}

_MODELS: dict[str, tuple] = {}  # folder -> (tokenizer, model): loaded once per process, shared by assistants
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Window:
    doc: int  # index into data.documents
    start: int  # article offsets
    end: int
    rank: int  # the best retrieval rank among the passages it covers
    score: float  # that passage's retrieval score


@dataclass(frozen=True)
class SpanCandidate:
    doc: int
    start: int
    end: int
    chunk_id: int
    features: np.ndarray  # in FEATURES order


def model_for(folder: Path, precision: str = "float32"):
    """(tokenizer, model, lock), loaded once per folder and precision. ``int8``: the linear layers quantised
    dynamically (weights int8, activations quantised on the fly), 3x faster on one core than float32."""
    key = f"{folder.resolve()}:{precision}"
    with _MODELS_LOCK:
        if key not in _MODELS:
            tokenizer, model = load_reader_model(folder)
            model.eval()
            if precision == "int8":
                import warnings

                import torch

                with warnings.catch_warnings():  # torch announces a new home for this API; it works as it is
                    warnings.simplefilter("ignore")
                    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            elif _bf16(precision):
                import torch

                # Autocast would cast every linear layer's weights to bfloat16 on every call; cast once instead
                # (the same logits, 1 ms a question less, half the memory for those weights).
                for module in model.modules():
                    if isinstance(module, torch.nn.Linear):
                        module.to(torch.bfloat16)
                # PyTorch's fused attention is slower than plain matmuls for 32-wide heads on the CPU in bfloat16
                # (27.4 against 30.0 ms for four windows of 160 tokens).
                model.set_attn_implementation("eager")
            elif precision not in ("float32", "bfloat16"):
                raise InputError(f"reader precision must be float32, bfloat16 or int8. Currently, it is {precision!r}")
            # One lock for the tokenizer and the model: a fast tokenizer keeps its padding and truncation settings
            # between calls, so a plain call in one thread un-pads another thread's batch.
            _MODELS[key] = (tokenizer, model, threading.RLock())
        return _MODELS[key]


class TrainedReader:
    """``read(question, vector, hits, top_k)`` -> answers best first; the model loads on first use."""

    @classmethod
    def from_settings(cls, corpus: Corpus, settings: Settings, argument: str) -> TrainedReader:
        """``trained`` reads with the shipped model, ``trained:FOLDER`` with one made by ``eval.train_reader``."""
        return cls(corpus, argument or None, settings.reader_precision or None, settings.read_passages or None)

    def __init__(self, corpus: Corpus, folder: str | Path | None = None, precision: str | None = None,
                 read_hits: int | None = None):
        self.corpus = corpus
        self.folder = SHIPPED if folder is None else Path(folder)
        meta = read_meta(self.folder)  # cheap, and a missing or damaged model fails when the assistant starts
        self.set_calibration(meta.get("calibration") or NEUTRAL)
        inference = meta.get("inference", {})
        self.read_hits = read_hits or int(inference.get("read_hits", READ_HITS))
        self.max_length = int(inference.get("max_length", MAX_LENGTH))
        self.precision = precision or str(inference.get("precision", PRECISION))
        self._sentence_tokens: dict[int, int] = {}

    def set_calibration(self, calibration: dict) -> None:
        if list(calibration.get("features", [])) != list(FEATURES):
            raise InputError(f"the reader calibration in {self.folder} is for other features; refit it with "
                             f"`python -m eval.calibrate_reader`")
        self.weights = np.asarray(calibration["weights"], dtype=np.float64)
        self.bias = float(calibration["bias"])
        self.threshold = float(calibration["threshold"])
        self.likely = float(calibration.get("likely", {}).get("threshold", UNCALIBRATED_LIKELY))

    def read(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit], top_k: int) -> list[Answer]:
        candidates = self.candidates(question.text, vector, hits, question.context)
        scored = sorted(((self.confidence(c), c) for c in candidates), key=lambda item: -item[0])
        answers: list[Answer] = []
        for confidence, c in scored:
            if any(a.doc_id == self._doc_id(c.doc) and c.start < a.end and a.start < c.end for a in answers):
                continue  # overlapping windows propose the same words more than once
            text = self.corpus.data.documents[c.doc].text[c.start:c.end]
            answers.append(Answer(text, self._doc_id(c.doc), c.start, c.end, confidence, c.chunk_id))
            if len(answers) >= top_k:
                break
        return answers

    @property
    def arithmetic(self) -> str:
        """What the model computes in on this CPU: bfloat16 asked for falls back to float32 where not native."""
        if self.precision == "bfloat16":
            return "bfloat16" if _bf16(self.precision) else "float32 (this CPU has no native bfloat16)"
        return self.precision

    def confidence(self, candidate: SpanCandidate) -> float:
        logit = float(candidate.features @ self.weights) + self.bias
        return sigmoid(logit)

    def _doc_id(self, doc: int) -> str:
        return self.corpus.data.documents[doc].doc_id

    # -- windows ------------------------------------------------------------------------------------------------

    def windows(self, question: str, vector: np.ndarray, hits: list[Hit], budget: int) -> list[Window]:
        corpus = self.corpus
        terms = frozenset(tokenize(question))
        found: list[Window] = []
        for hit in hits[:self.read_hits]:
            chunk = hit.chunk
            first, last = corpus.chunk_sentences[chunk.chunk_id]
            doc = corpus.doc_index[chunk.doc_id]
            if last <= first:
                found.append(Window(doc, chunk.start, chunk.end, hit.rank, hit.score))
                continue
            cosines = corpus.data.sentence_vectors[first:last] @ vector
            best = first + int(np.argmax([float(c) + SENTENCE_LEXICAL_WEIGHT * corpus.lexical_overlap(terms, first + i)
                                          for i, c in enumerate(cosines)]))
            found.append(self.window_around(best, budget, hit.rank, hit.score))
        return _merge(found)

    def window_around(self, sentence: int, budget: int, rank: int = 1, score: float = 0.0) -> Window:
        """The sentence, grown by its article's neighbours (the one before first: what "he" and "the talks" refer
        to) while they fit in ``budget`` tokens."""
        corpus = self.corpus
        doc = corpus.sentences[sentence].doc
        lo, hi = sentence, sentence + 1
        used = self._tokens(sentence)
        grew = True
        while grew:
            grew = False
            for step in (-1, 1):
                s = lo - 1 if step < 0 else hi
                if 0 <= s < len(corpus.sentences) and corpus.sentences[s].doc == doc \
                        and used + self._tokens(s) <= budget:
                    used += self._tokens(s)
                    lo, hi = (s, hi) if step < 0 else (lo, s + 1)
                    grew = True
        return Window(doc, corpus.sentences[lo].start, corpus.sentences[hi - 1].end, rank, score)

    def _tokens(self, sentence: int) -> int:
        if sentence not in self._sentence_tokens:
            s = self.corpus.sentences[sentence]
            tokenizer, _, lock = model_for(self.folder, self.precision)
            text = self.corpus.data.documents[s.doc].text[s.start:s.end]
            with lock:
                self._sentence_tokens[sentence] = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._sentence_tokens[sentence]

    # -- spans --------------------------------------------------------------------------------------------------

    def candidates(self, question: str, vector: np.ndarray, hits: list[Hit], context: str = "") -> list[SpanCandidate]:
        """Every window's best spans with their features, best margin first, at most ``CANDIDATES``. A follow-up's
        ``context`` (the earlier turns' terms) is read after the question, as retrieval reads it, so the model and
        the window's sentence find the turn's subject; the question's particulars are its own."""
        import torch

        if not hits:
            return []
        texts = self.corpus.data.documents
        asked, kind = particulars(question), expected_kind(question)

        def forward():  # on the process's one compute thread (core.threads), with the model's lock
            tokenizer, model, lock = model_for(self.folder, self.precision)
            with lock, torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                              enabled=_bf16(self.precision)):
                asked_text = cut_question(tokenizer, f"{question}{CONTEXT_MARK}{context}" if context else question)
                question_tokens = len(tokenizer(asked_text, add_special_tokens=False)["input_ids"])
                windows = self.windows(asked_text, vector, hits, self.max_length - question_tokens - 3)
                encoded = tokenizer([asked_text] * len(windows), [texts[w.doc].text[w.start:w.end] for w in windows],
                                    truncation="only_second", max_length=self.max_length, stride=STRIDE,
                                    return_overflowing_tokens=True, return_offsets_mapping=True, padding=True,
                                    return_tensors="pt")
                offsets = encoded.pop("offset_mapping").tolist()
                owner = encoded.pop("overflow_to_sample_mapping").tolist()
                sequence_ids = [encoded.sequence_ids(i) for i in range(len(owner))]
                # The process's one pool (core.threads), shared with the question encoder: resizing it here for
                # each question raced with the encoder and rebuilt OpenMP's team every time.
                output = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"],
                               token_type_ids=encoded["token_type_ids"])
            return (windows, offsets, owner, sequence_ids, output.start_logits.float().numpy(),
                    output.end_logits.float().numpy())

        windows, offsets, owner, sequence_ids, starts, ends = on_compute_thread(forward)
        nulls = starts[:, 0] + ends[:, 0]
        best_null = float(nulls.min())
        # "None of these passages": the no-answer of every window together, as a reader trained with one
        # normalisation over a question's windows means it (eval.group_training).
        shared_null = float(np.logaddexp.reduce(nulls))
        top_score = hits[0].score
        spans: dict[tuple[int, int, int], tuple[float, float, int]] = {}  # (doc, start, end) -> margin, score, w
        for w, window_index in enumerate(owner):
            window = windows[window_index]
            context = [i for i, sid in enumerate(sequence_ids[w]) if sid == 1]
            if not context:
                continue
            for s, e in token_spans(starts[w], ends[w], context[0], context[-1], BEST_PER_WINDOW):
                char_start, char_end = trim(texts[window.doc].text, window.start + offsets[w][s][0],
                                             window.start + offsets[w][e][1])
                if char_end <= char_start:
                    continue
                score = float(starts[w, s] + ends[w, e])
                margin = score - float(nulls[w])
                key = (window.doc, char_start, char_end)
                if key not in spans or margin > spans[key][0]:
                    spans[key] = (margin, score, window_index)
        ranked = sorted(spans.items(), key=lambda item: -item[1][0])[:CANDIDATES]
        result = []
        # Candidates share a few windows: each window's share of the question's particulars is counted once.
        window_coverage = {i: coverage(asked, texts[w.doc].text[w.start:w.end]) for i, w in enumerate(windows)}
        for (doc, start, end), (margin, score, window_index) in ranked:
            window = windows[window_index]
            text = texts[doc].text
            sentence = self._sentence_at(doc, start)
            cosine, sentence_text = 0.0, None
            if sentence is not None:
                s = self.corpus.sentences[sentence]
                start, end = complete(text, start, end, (s.start, s.end))
                cosine, sentence_text = float(self.corpus.data.sentence_vectors[sentence] @ vector), text[s.start:s.end]
            features = np.array([margin, score, best_null, math.log(window.rank), top_score - window.score, cosine,
                                 math.log(1 + len(text[start:end].split())), score - shared_null,
                                 coverage(asked, text[start:end] if sentence_text is None else sentence_text),
                                 window_coverage[window_index], kind_match(kind, text[start:end])])
            result.append(SpanCandidate(doc, start, end, self._chunk_at(doc, start, hits), features))
        return result

    def _sentence_at(self, doc: int, offset: int) -> int | None:
        first, last = self.corpus.sentence_ranges[doc]
        for i in range(first, last):
            if self.corpus.sentences[i].start <= offset < self.corpus.sentences[i].end:
                return i
        return None

    def _chunk_at(self, doc: int, offset: int, hits: list[Hit]) -> int:
        """The retrieved passage that holds the answer (the best-ranked one), else the article's chunk that does:
        the citation must show the words, and a window can reach past its passage."""
        doc_id = self._doc_id(doc)
        for hit in hits:
            if hit.chunk.doc_id == doc_id and hit.chunk.start <= offset < hit.chunk.end:
                return hit.chunk.chunk_id
        first, last = self.corpus.chunk_ranges[doc]
        for chunk in self.corpus.data.chunks[first:last]:
            if chunk.start <= offset < chunk.end:
                return chunk.chunk_id
        return hits[0].chunk.chunk_id


def _bf16(precision: str) -> bool:
    """bfloat16 where the CPU computes it natively; emulated it would be slower than float32."""
    return precision == "bfloat16" and native_bf16()


def _merge(windows: list[Window]) -> list[Window]:
    """Windows of one article that overlap or touch become one, keeping the better rank."""
    merged: list[Window] = []
    for w in sorted(windows, key=lambda w: (w.doc, w.start)):
        last = merged[-1] if merged else None
        if last is not None and last.doc == w.doc and w.start <= last.end:
            better = last if last.rank <= w.rank else w
            merged[-1] = Window(w.doc, last.start, max(last.end, w.end), better.rank, better.score)
        else:
            merged.append(w)
    return sorted(merged, key=lambda w: w.rank)


def cut_question(tokenizer, question: str) -> str:
    """The question cut to ``MAX_QUESTION_TOKENS`` (a longer one leaves no room for the passage)."""
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(encoded["input_ids"]) <= MAX_QUESTION_TOKENS:
        return question
    return question[:encoded["offset_mapping"][MAX_QUESTION_TOKENS - 1][1]]
