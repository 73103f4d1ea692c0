"""The FAISS index follows the corpus size and the settings; it saves, maps back in, and still answers questions."""

import re
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from bench.synthetic import clustered_vectors, recall_at_k
from embeddings import dense_index
from core.config import Settings
from core.errors import IndexFolderError, InputError
from embeddings.index_store import read_index, read_manifest
from qa.assistant import Assistant
from tests.conftest import KISLYAK


@pytest.fixture(scope="module")
def clustered():
    """5,000 clustered unit vectors and 200 held-out questions from the same clusters."""
    vectors = clustered_vectors(5200, centres=200, seed=7)
    return vectors[:5000], vectors[5000:]


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def test_auto_is_exact_up_to_the_threshold_and_ivf_above_it():
    settings = Settings(dense_auto_threshold=2000)
    assert dense_index.choose(2000, 384, settings).kind == "flat"
    above = dense_index.choose(2001, 384, settings)
    assert above.kind == "ivf" and above.ivf_nlist == 45  # about sqrt(2001)
    assert dense_index.choose(40, 384, Settings()).factory() == "Flat"


def test_the_setting_overrides_the_size_and_names_the_faiss_index():
    assert dense_index.choose(50, 384, Settings(dense_index="hnsw", hnsw_m=16)).factory() == "HNSW16"
    assert dense_index.choose(10**6, 384, Settings(dense_index="flat")).factory() == "Flat"
    assert dense_index.choose(10**6, 384, Settings(vector_dtype="float16")).factory() == "IVF1000,SQfp16"
    assert dense_index.choose(10**6, 384, Settings(dense_index="hnsw", vector_dtype="pq")).factory() == \
        "HNSW32_PQ48x8np"
    # An IVF list needs 39 training vectors; fewer than that make one list, which is a flat scan.
    assert dense_index.choose(1000, 384, Settings(dense_index="ivf", ivf_nlist=4096)).ivf_nlist == 25
    assert dense_index.choose(20, 384, Settings(dense_index="ivf")).kind == "flat"


def test_pq_below_its_training_minimum_is_stored_as_float16():
    assert dense_index.choose(5000, 384, Settings(vector_dtype="pq")).dtype == "float16"
    assert dense_index.choose(dense_index.PQ_MIN_TRAINING, 384, Settings(vector_dtype="pq")).dtype == "pq"


def test_bad_dense_settings_are_refused_naming_the_value():
    with pytest.raises(InputError, match="dense_index must be one of auto, flat, hnsw, ivf. Currently, "
                                         "dense_index is 'annoy'"):
        Settings(dense_index="annoy")
    with pytest.raises(InputError, match="vector_dtype .* 'int8'"):
        Settings(vector_dtype="int8")
    with pytest.raises(InputError, match="nprobe must be a positive integer. Currently, nprobe is 0"):
        Settings(nprobe=0)
    with pytest.raises(InputError, match="pq_m must divide the embedding dimension 384. Currently, pq_m is 50"):
        dense_index.choose(20000, 384, Settings(vector_dtype="pq", pq_m=50))


def test_float16_search_agrees_with_exact_search(clustered):
    vectors, queries = clustered
    index = dense_index.build(vectors, Settings(dense_index="flat", vector_dtype="float16"))
    assert isinstance(index, faiss.IndexScalarQuantizer)
    scores, ids = index.search(queries, 10)
    exact = exact_top(vectors, queries)
    assert recall_at_k(ids, exact) >= 0.99
    assert np.allclose(scores[:, 0], np.einsum("ij,ij->i", queries, vectors[exact[:, 0]]), atol=2e-3)


def test_hnsw_finds_95_percent_of_the_exact_top_10_on_clustered_vectors(clustered):
    vectors, queries = clustered
    index = dense_index.build(vectors, Settings(dense_index="hnsw"))
    assert isinstance(index, faiss.IndexHNSWFlat) and index.hnsw.efSearch == Settings().ef_search
    _, ids = index.search(queries, 10)
    assert recall_at_k(ids, exact_top(vectors, queries)) >= 0.95


def test_ivf_finds_95_percent_of_the_exact_top_10_with_the_default_nprobe(clustered):
    vectors, queries = clustered
    index = dense_index.build(vectors, Settings(dense_auto_threshold=1000))
    ivf = faiss.extract_index_ivf(index)
    assert (ivf.nlist, ivf.nprobe) == (71, 32)
    _, ids = index.search(queries, 10)
    assert recall_at_k(ids, exact_top(vectors, queries)) >= 0.95


def test_pq_codes_reranked_by_exact_vectors_find_95_percent_of_the_exact_top_10():
    vectors = clustered_vectors(dense_index.PQ_MIN_TRAINING + 200, centres=200, seed=11)
    vectors, queries = vectors[:-200], vectors[-200:]
    settings = Settings(dense_index="flat", vector_dtype="pq")
    index = dense_index.build(vectors, settings)
    assert isinstance(index, dense_index.Reranked) and index.factor == settings.pq_refine
    scores, ids = index.search(queries, 10)
    assert recall_at_k(ids, exact_top(vectors, queries)) >= 0.95
    assert np.allclose(scores, np.einsum("qd,qkd->qk", queries, vectors[ids]), atol=1e-5)  # exact, best first
    assert (np.diff(scores, axis=1) <= 0).all()


def test_a_saved_pq_index_keeps_only_codes_and_maps_the_vectors_it_re_ranks_by(tmp_path):
    vectors = clustered_vectors(dense_index.PQ_MIN_TRAINING + 100, centres=200, seed=12)
    vectors, queries = vectors[:-100], vectors[-100:]
    settings = Settings(dense_index="ivf", vector_dtype="pq")
    built = dense_index.build(vectors, settings)
    path, vectors_path = tmp_path / "pq.faiss", tmp_path / "vectors.npy"
    dense_index.save(built, path)
    np.save(vectors_path, vectors)
    assert path.stat().st_size < vectors.nbytes / 4  # codes, not a second copy of the vectors
    mapped = np.load(vectors_path, mmap_mode="r")
    loaded = dense_index.load(path, settings, mapped)
    assert np.array_equal(loaded.search(queries, 10)[1], built.search(queries, 10)[1])
    with pytest.raises(InputError, match="re-ranked by the exact vectors"):
        dense_index.load(path, settings)


def _mapped(path: Path) -> bool:
    return str(path) in Path("/proc/self/maps").read_text()


@pytest.mark.parametrize("kind, dtype", [("flat", "float32"), ("ivf", "float16"), ("hnsw", "float16")])
def test_save_and_load_round_trip_memory_mapped_or_read(clustered, tmp_path, kind, dtype):
    vectors, queries = clustered
    settings = Settings(dense_index=kind, vector_dtype=dtype, nprobe=8, ef_search=40)
    built = dense_index.build(vectors[:2000], settings)
    path = tmp_path / f"{kind}.faiss"
    dense_index.save(built, path)
    expected = built.search(queries, 10)[1]
    mapped = dense_index.load(path, settings)
    assert _mapped(path)  # the file is mapped, not copied into the heap
    read = dense_index.load(path, replace(settings, mmap_index=False))
    for index in (mapped, read):
        assert type(index) is type(built) and index.ntotal == 2000
        assert np.array_equal(index.search(queries, 10)[1], expected)
    assert dense_index.describe(mapped) == dense_index.describe(built)  # nprobe / efSearch set again on load
    del mapped
    assert not _mapped(path)


def test_the_manifest_records_the_dense_settings_and_a_change_is_refused(seed_index):
    manifest = read_manifest(seed_index)
    assert manifest["dense_index"] == "IndexFlatIP"
    assert {k: manifest["build_settings"][k] for k in ("dense_index", "vector_dtype", "pq_m")} == \
        {"dense_index": "auto", "vector_dtype": "float32", "pq_m": 48}
    with pytest.raises(IndexFolderError, match="built with dense_index='auto' but the settings say "
                                               "dense_index='hnsw'.*qa index"):
        read_index(seed_index, Settings(dense_index="hnsw"))


@pytest.mark.parametrize("kind, dtype", [("flat", "float32"), ("hnsw", "float16"), ("ivf", "float32")])
def test_the_seeds_still_answer_the_budapest_question(seed_index, embedder, kind, dtype):
    data = read_index(seed_index, Settings())
    settings = Settings(dense_index=kind, vector_dtype=dtype)
    data.dense = dense_index.build(data.chunk_vectors, settings)
    response = Assistant(data, settings, embedder=embedder).answer("who led the Russian delegation in Budapest?")
    assert response.answer is not None and re.fullmatch(KISLYAK, response.answer.text)
    assert response.answer.doc_id == "000_0027d40a27e5cdba.txt"
