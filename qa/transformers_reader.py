"""A reader for users who have an extractive QA model: ``--reader transformers:NAME_OR_PATH``.

It runs ``AutoModelForQuestionAnswering`` over the retrieved passages (long ones in overlapping windows) and turns
each predicted token span back into article offsets through the tokenizer's offset mapping:
``article offset = passage start + character offset inside the passage``. Nothing is downloaded: the model must
be a local folder or already in the local cache.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from core.config import Settings
from core.errors import InputError
from core.records import Answer, Hit
from qa.corpus import Corpus
from qa.question import QuestionAnalysis
from qa.reader import UNCALIBRATED_LIKELY, sigmoid

READ_HITS = 5
MAX_LENGTH = 384  # tokens per window, question included
STRIDE = 128  # tokens shared by consecutive windows of a long passage
MAX_ANSWER_TOKENS = 30
BEST_PER_WINDOW = 20  # start and end positions tried per window


def token_spans(starts: np.ndarray, ends: np.ndarray, first: int, last: int, best: int):
    """(start, end) token pairs of a window worth scoring: among the ``best`` start and end logits, inside the
    context tokens ``[first, last]``, in order and at most ``MAX_ANSWER_TOKENS`` long."""
    best_starts = [i for i in np.argsort(-starts)[:best] if first <= i <= last]
    best_ends = [i for i in np.argsort(-ends)[:best] if first <= i <= last]
    return [(s, e) for s in best_starts for e in best_ends if s <= e < s + MAX_ANSWER_TOKENS]


class TransformersReader:
    """``read(question, vector, hits, top_k)`` -> answers best first; the model loads on first use."""

    threshold = 0.5  # confidence is sigmoid(best span score - no-answer score)
    likely = UNCALIBRATED_LIKELY

    @classmethod
    def from_settings(cls, corpus: Corpus, settings: Settings, argument: str) -> TransformersReader:
        """``transformers:NAME_OR_PATH``: any local ``AutoModelForQuestionAnswering`` with a fast tokenizer."""
        return cls(corpus, argument)

    def __init__(self, corpus: Corpus, name_or_path: str):
        if not name_or_path:
            raise InputError("the transformers reader needs a model: --reader transformers:NAME_OR_PATH")
        self.corpus = corpus
        self.name_or_path = name_or_path
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.name_or_path, local_files_only=True)
            model = AutoModelForQuestionAnswering.from_pretrained(self.name_or_path, local_files_only=True)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot load QA model {self.name_or_path!r} from local files "
                             f"({type(error).__name__}); give a local folder with the model and its tokenizer") from None
        if not getattr(tokenizer, "is_fast", False):
            raise InputError(f"the tokenizer of {self.name_or_path!r} is not a fast tokenizer; offsets need one")
        model.eval()
        self._tokenizer, self._model = tokenizer, model

    def read(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit], top_k: int) -> list[Answer]:
        import torch

        chunks = [h.chunk for h in hits[:READ_HITS]]
        if not chunks:
            return []
        with self._lock:
            if self._model is None:
                self._load()
            encoded = self._tokenizer([question.text] * len(chunks), [c.text for c in chunks],
                                      truncation="only_second", max_length=MAX_LENGTH, stride=STRIDE,
                                      return_overflowing_tokens=True, return_offsets_mapping=True,
                                      padding=True, return_tensors="pt")
            offsets = encoded.pop("offset_mapping").tolist()
            window_chunk = encoded.pop("overflow_to_sample_mapping").tolist()
            sequence_ids = [encoded.sequence_ids(i) for i in range(len(window_chunk))]
            with torch.no_grad():
                output = self._model(**{k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask",
                                                                                  "token_type_ids")})
        starts, ends = output.start_logits.numpy(), output.end_logits.numpy()
        spans: dict[tuple[int, int], tuple[float, int]] = {}  # article span of a chunk -> (score, chunk_id)
        null_score = -math.inf
        for w, chunk_index in enumerate(window_chunk):
            chunk = chunks[chunk_index]
            context = [i for i, sid in enumerate(sequence_ids[w]) if sid == 1]
            if not context:
                continue
            null_score = max(null_score, float(starts[w, 0] + ends[w, 0]))
            for s, e in token_spans(starts[w], ends[w], context[0], context[-1], BEST_PER_WINDOW):
                char_start, char_end = offsets[w][s][0], offsets[w][e][1]
                if char_end <= char_start:
                    continue
                key = (chunk.start + char_start, chunk.start + char_end)
                score = float(starts[w, s] + ends[w, e])
                if key not in spans or score > spans[key][0]:
                    spans[key] = (score, chunk.chunk_id)
        return self._best(spans, null_score, chunks, top_k)

    def _best(self, spans, null_score: float, chunks, top_k: int) -> list[Answer]:
        by_id = {c.chunk_id: c for c in chunks}
        answers: list[Answer] = []
        for (start, end), (score, chunk_id) in sorted(spans.items(), key=lambda item: -item[1][0]):
            chunk = by_id[chunk_id]
            if any(a.doc_id == chunk.doc_id and start < a.end and a.start < end for a in answers):
                continue  # overlapping windows and passages propose the same words more than once
            text = self.corpus.data.documents[self.corpus.doc_index[chunk.doc_id]].text[start:end]
            margin = score - null_score if null_score > -math.inf else score
            confidence = sigmoid(margin)
            answers.append(Answer(text, chunk.doc_id, start, end, confidence, chunk_id))
            if len(answers) >= top_k:
                break
        return answers
