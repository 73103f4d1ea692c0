"""The FAISS index over chunk vectors: which kind the corpus size calls for, building it, saving and loading it.

Every kind ranks by inner product, which for our unit-length vectors is cosine similarity.

Kinds (``Settings.dense_index``):
    flat   exact search over every vector; the right choice while a scan is cheap (``auto`` up to
           ``Settings.dense_auto_threshold`` chunks: about 10 ms per question on one core at 100,000 chunks).
    ivf    inverted lists: k-means cells trained on a sample, a question scans ``nprobe`` of them. Builds in
           under half a minute at a million chunks on 2 cores, which matters because every ``qa index``
           rebuilds the FAISS index; 4 ms a question there, recall@10 0.998 (bench/RESULTS.md).
    hnsw   a navigable small-world graph: the fastest queries, but the slowest build on few cores (7.5 s at
           100,000 chunks against IVF's 1.6 s).
Vector storage (``Settings.vector_dtype``):
    float32  as embedded.
    float16  half the memory (FAISS's fp16 scalar quantiser); rankings differ from float32 only in near-ties.
    pq       product quantisation, ``pq_m`` bytes per vector, for the scan. PQ codes alone find only about
             two thirds of the true top 10 of clustered news vectors, so the best ``k * pq_refine`` are re-ranked
             by their exact vectors (``Reranked``): the index folder's ``chunk_vectors.npy``, whose candidate
             rows a question reads from the file; the FAISS file holds only the codes (FAISS's own RFlat would
             keep a second copy of every vector in the file, and all of it in memory: 4.5 GB at 3M chunks).
             It needs ``PQ_MIN_TRAINING`` vectors to train its 256-centroid codebooks; a smaller corpus is stored
             as float16 instead, which at that size costs under 8 MB anyway.

The index loads memory-mapped when ``Settings.mmap_index`` is on (FAISS maps flat codes, HNSW storage and IVF
lists read-only): its pages are shared with the OS cache and only the ones a search touches become resident.
A memory-mapped index is read-only; the indexer always builds a fresh one instead of adding to a loaded one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import DenseIndexKind, Settings, VectorDtype
from core.errors import InputError

MIN_PER_LIST = 39  # FAISS's k-means wants at least this many training vectors per centroid
IVF_TRAIN_PER_LIST = 64  # training sample per IVF list: enough for stable cells, and k-means stays fast
IVF_TRAIN_ITERATIONS = 10  # FAISS's default is 25; with 10, recall@10 at 1M chunks is still 0.998 (bench_scale)
PQ_BITS = 8
PQ_MIN_TRAINING = MIN_PER_LIST * (1 << PQ_BITS)  # 9,984
PQ_TRAIN_ITERATIONS = 10  # per codebook, as for IVF: the re-ranking by exact vectors absorbs coarser codes
PQ_TRAIN_MAX = 20_000  # PQ codebooks stop improving long before a million training vectors; training is slow
_SAMPLE_SEED = 0  # the training sample is drawn the same way every build, so a rebuild gives the same index
ADD_BLOCK = 100_000  # vectors added at a time: a memory-mapped corpus larger than memory is never read whole


@dataclass(frozen=True)
class DenseSpec:
    """A resolved choice: what ``build`` makes for a corpus of a given size (never ``auto``)."""

    kind: DenseIndexKind  # never "auto"
    dtype: VectorDtype
    hnsw_m: int
    ivf_nlist: int  # lists actually built (0 unless kind is ivf)
    pq_m: int

    def factory(self) -> str:
        """The ``faiss.index_factory`` description, e.g. ``IVF1000,SQfp16`` or ``HNSW32_PQ48x8np``."""
        # "np": no polysemous training, which takes minutes and serves only Hamming-distance filtering.
        codes = {"float32": "Flat", "float16": "SQfp16", "pq": f"PQ{self.pq_m}x{PQ_BITS}np"}[self.dtype]
        if self.kind == "flat":
            scan = codes
        elif self.kind == "ivf":
            scan = f"IVF{self.ivf_nlist},{codes}"
        else:
            scan = f"HNSW{self.hnsw_m}" + ("" if self.dtype == "float32" else f"_{codes}")
        return scan


def choose(n_vectors: int, dimension: int, settings: Settings | None = None) -> DenseSpec:
    """The index the settings call for over ``n_vectors`` vectors of ``dimension``.

    ``auto`` is exact (flat) up to ``dense_auto_threshold`` vectors and IVF above. IVF gets ``ivf_nlist`` lists
    (0: about the square root of the corpus size), never more than one per ``MIN_PER_LIST`` vectors. Raises
    InputError for a setting FAISS cannot build (``pq_m`` must divide the dimension).
    """
    settings = Settings() if settings is None else settings  # Settings has checked the names already
    kind = settings.dense_index
    if kind == "auto":
        kind = "flat" if n_vectors <= settings.dense_auto_threshold else "ivf"
    dtype = settings.vector_dtype
    if dtype == "pq":
        if dimension % settings.pq_m:
            raise InputError(f"pq_m must divide the embedding dimension {dimension}. "
                             f"Currently, pq_m is {settings.pq_m}")
        if n_vectors < PQ_MIN_TRAINING:
            dtype = "float16"
    if kind == "ivf" and n_vectors < MIN_PER_LIST:
        kind = "flat"  # too few vectors for more than one list, and one list is a flat scan
    nlist = 0
    if kind == "ivf":
        wanted = settings.ivf_nlist if settings.ivf_nlist > 0 else round(math.sqrt(max(n_vectors, 1)))
        nlist = max(1, min(wanted, n_vectors // MIN_PER_LIST))
    return DenseSpec(kind, dtype, settings.hnsw_m, nlist, settings.pq_m)


class Reranked:
    """A PQ index whose best ``k * factor`` candidates are re-ranked by their exact inner products with the
    question, read from ``vectors`` (row i is id i). When those are a memory-mapped file, the candidates' rows are
    read from it with ``pread`` rather than through the mapping: a page fault maps the 64 KB around each touched
    row, so a few hundred questions would make the whole file resident (4.4 GB at 3M chunks), while reads keep
    the process at its heap (the OS cache still holds the rows it reads often)."""

    def __init__(self, scan, vectors: np.ndarray, factor: int):
        self.scan, self.vectors, self.factor = scan, vectors, factor
        self._file = _RowFile.of(vectors)

    @property
    def ntotal(self) -> int:
        return self.scan.ntotal

    @property
    def d(self) -> int:
        return self.scan.d

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        _, candidates = self.scan.search(queries, k * self.factor)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, (query, found) in enumerate(zip(queries, candidates)):
            found = np.sort(found[found >= 0])  # rows in file order
            exact = (self._file.rows(found) if self._file is not None else self.vectors[found]) @ query
            order = np.argsort(-exact)[:k]
            scores[row, :len(order)], ids[row, :len(order)] = exact[order], found[order]
        return scores, ids


class _RowFile:
    """Rows of a memory-mapped float32 matrix, read from its file."""

    def __init__(self, path: str, offset: int, dimension: int):
        import os

        self.fd = os.open(path, os.O_RDONLY)
        self.offset, self.dimension, self.row_bytes = offset, dimension, dimension * 4

    @classmethod
    def of(cls, vectors: np.ndarray) -> "_RowFile | None":
        """The file behind ``vectors`` when they are a whole memory-mapped float32 matrix, else None."""
        base = vectors
        while base is not None and not isinstance(base, np.memmap):
            base = base.base
        if base is None or getattr(base, "filename", None) is None or base.dtype != np.float32 \
                or vectors.shape[1:] != base.shape[1:] or not base.flags.c_contiguous \
                or vectors.__array_interface__["data"][0] != base.__array_interface__["data"][0]:
            return None
        return cls(base.filename, base.offset, base.shape[1])

    def rows(self, ids: np.ndarray) -> np.ndarray:
        import os

        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for i, row in enumerate(ids.tolist()):
            out[i] = np.frombuffer(os.pread(self.fd, self.row_bytes, self.offset + row * self.row_bytes),
                                   dtype=np.float32)
        return out

    def __del__(self):
        import os

        try:
            os.close(self.fd)
        except (OSError, AttributeError):
            pass


def build(vectors: np.ndarray, settings: Settings | None = None):
    """A FAISS index over ``vectors`` (float32, unit rows; row i gets id i), tuned for searching.

    Trained kinds (IVF, PQ) learn from a fixed-seed sample of the vectors, so the same vectors give the same index.
    """
    import faiss

    settings = Settings() if settings is None else settings
    n, dimension = vectors.shape
    spec = choose(n, dimension, settings)
    if spec.kind == "flat" and spec.dtype == "float32":
        index = faiss.IndexFlatIP(dimension)  # the exact baseline; no factory indirection
    else:
        # HNSW with PQ codes is built for L2 whatever metric is asked for; on unit vectors
        # |a - b|^2 = 2 - 2 cos(a, b), so it ranks exactly as inner product would (its scores are distances).
        index = faiss.index_factory(dimension, spec.factory(), faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.cp.niter = IVF_TRAIN_ITERATIONS
        pq = _product_quantiser(index)
        if pq is not None:
            pq.cp.niter = PQ_TRAIN_ITERATIONS
        limit = IVF_TRAIN_PER_LIST * spec.ivf_nlist if spec.kind == "ivf" else n
        if spec.dtype == "pq":
            limit = max(limit, PQ_TRAIN_MAX) if spec.kind == "ivf" else PQ_TRAIN_MAX
        threads = faiss.omp_get_max_threads()
        if spec.dtype == "pq":
            # PQ training is pq_m small k-means runs; with two threads their synchronisation costs more than it
            # saves (3.5 s on one thread, 17 s on two, for 20,000 vectors on a busy 2-core machine).
            faiss.omp_set_num_threads(1)
        try:
            index.train(np.ascontiguousarray(_sample(vectors, limit), dtype=np.float32))
        finally:
            faiss.omp_set_num_threads(threads)
    for start in range(0, n, ADD_BLOCK):
        index.add(np.ascontiguousarray(vectors[start:start + ADD_BLOCK], dtype=np.float32))
    if spec.dtype == "pq":
        index = Reranked(index, vectors, settings.pq_refine)
    tune(index, settings)
    return index


def _sample(vectors: np.ndarray, limit: int) -> np.ndarray:
    if len(vectors) <= limit:
        return vectors
    rows = np.random.default_rng(_SAMPLE_SEED).choice(len(vectors), size=limit, replace=False)
    return vectors[np.sort(rows)]


def tune(index, settings: Settings | None = None) -> None:
    """Set the query-time breadth (``nprobe`` for IVF, ``ef_search`` for HNSW, ``pq_refine`` for PQ)."""
    import faiss

    settings = Settings() if settings is None else settings
    ivf = faiss.try_extract_index_ivf(_scan(index))
    if ivf is not None:
        ivf.nprobe = min(settings.nprobe, ivf.nlist)
    if isinstance(index, Reranked):
        index.factor = settings.pq_refine
    scan = _scan(index)
    if isinstance(scan, faiss.IndexHNSW):
        scan.hnsw.efSearch = settings.ef_search


def _product_quantiser(index):
    """The ProductQuantizer inside a PQ index of any kind, else None."""
    import faiss

    scan = _scan(index)
    if isinstance(scan, faiss.IndexHNSW):
        scan = faiss.downcast_index(scan.storage)
    ivf = faiss.try_extract_index_ivf(scan)
    if ivf is not None:
        scan = faiss.downcast_index(ivf)
    return getattr(scan, "pq", None)


def _scan(index):
    """The index that does the first pass (the PQ index inside a re-ranking wrapper, else the index itself)."""
    return index.scan if isinstance(index, Reranked) else index


def save(index, path: Path) -> None:
    """Write the FAISS part; a ``Reranked`` index's vectors are the caller's to keep (``chunk_vectors.npy``)."""
    import faiss

    faiss.write_index(_scan(index), str(path))


def load(path: Path, settings: Settings | None = None, vectors: np.ndarray | None = None):
    """Read an index written by ``save``, memory-mapped and read-only when ``settings.mmap_index``, and tune it.
    A PQ index is re-ranked by ``vectors`` (the vectors it was built from), which it then needs."""
    import faiss

    settings = Settings() if settings is None else settings
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if settings.mmap_index else 0
    index = faiss.read_index(str(path), flags)
    if _product_quantiser(index) is not None:
        if vectors is None:
            raise InputError(f"{path} holds PQ codes, which are re-ranked by the exact vectors; none were given")
        index = Reranked(index, vectors, settings.pq_refine)
    tune(index, settings)
    return index


def describe(index) -> str:
    """A short human description, e.g. ``IndexIVFScalarQuantizer (nlist=1000, nprobe=32)``."""
    import faiss

    details = []
    scan = _scan(index)
    ivf = faiss.try_extract_index_ivf(scan)
    if ivf is not None:
        details += [f"nlist={ivf.nlist}", f"nprobe={ivf.nprobe}"]
    if isinstance(scan, faiss.IndexHNSW):
        details.append(f"efSearch={scan.hnsw.efSearch}")
    if isinstance(index, Reranked):
        details.append(f"re-ranks k x {index.factor} by exact vectors")
    name = type(index).__name__ if scan is index else f"{type(scan).__name__}+{type(index).__name__}"
    return name + (f" ({', '.join(details)})" if details else "")
