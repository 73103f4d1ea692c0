"""Synthetic unit vectors shaped like sentence embeddings, for measuring FAISS indexes at sizes we cannot embed.

Uniform noise would make every approximate index look bad (in 384 dimensions all random points are equally far
apart, so "the ten nearest" is arbitrary) or trivially good. Embeddings of real text are clustered by topic and
vary along far fewer directions than they have. So: a mixture of ``centres`` Gaussian clusters in a
``latent``-dimensional space, cluster sizes falling off like topic frequencies (Zipf), mapped into ``dimension``
by a random orthonormal projection, plus small noise in every direction, then L2-normalised. With the defaults
a point's nearest neighbour has cosine ~0.8 and unrelated points ~0.0, as with all-MiniLM-L6-v2 on news.
"""

from __future__ import annotations

import numpy as np

BLOCK = 100_000  # rows made at a time, so a million rows never need more than the output's memory


def clustered_vectors(n: int, dimension: int = 384, centres: int = 2000, latent: int = 64, spread: float = 0.5,
                      noise: float = 0.14, seed: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """``(n, dimension)`` float32 unit rows; the same arguments always give the same rows. ``out`` (e.g. a
    memory-mapped file) receives them instead of a new array, for corpora larger than memory."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((centres, latent)).astype(np.float32)
    basis, _ = np.linalg.qr(rng.standard_normal((dimension, latent)))
    projection = np.ascontiguousarray(basis.T, dtype=np.float32)  # latent x dimension, orthonormal rows
    weights = 1.0 / np.arange(1, centres + 1) ** 0.8
    weights /= weights.sum()
    out = np.empty((n, dimension), dtype=np.float32) if out is None else out
    for start in range(0, n, BLOCK):
        rows = min(BLOCK, n - start)
        cluster = rng.choice(centres, size=rows, p=weights)
        points = means[cluster] + spread * rng.standard_normal((rows, latent), dtype=np.float32)
        block = points @ projection + noise * rng.standard_normal((rows, dimension), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + rows] = block
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """The ids of each query's ``k`` largest inner products, a block of rows at a time (memory-mapped rows are
    read once, in order)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 10 * BLOCK):
        scores = queries @ np.asarray(vectors[start:start + 10 * BLOCK]).T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if scores.shape[1] > k else \
            np.broadcast_to(np.arange(scores.shape[1]), (len(queries), scores.shape[1]))
        scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        ids = np.concatenate([best_ids, top + start], axis=1)
        order = np.argsort(-scores, axis=1)[:, :k]
        best_scores, best_ids = np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)
    return best_ids


def recall_at_k(found: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's exact top ``k`` ids that the approximate search also returned in its top ``k``."""
    hits = sum(len(set(f[:k].tolist()) & set(e[:k].tolist())) for f, e in zip(found, exact))
    return hits / (k * len(exact)) if len(exact) else 1.0
