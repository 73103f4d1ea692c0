"""The index folder: write it atomically, read it back only after checking it.

Layout (all read back without pickle):
    manifest.json          format version, model, dimension, build settings, documents, a sha256 of every file
    documents.jsonl        one Document per line, the article text included, so citations never need the sources
    chunks.jsonl           one Chunk per line, in index order (FAISS and BM25 row i is chunk i)
    analysis.jsonl         one Analysis per document: sentences, tokens, entities, noun chunks
    chunk_vectors.npy      float32 (chunks x dimension), kept so an update re-embeds only what changed
    sentence_vectors.npy   float32 (sentences x dimension), sentences in document then analysis order
    dense.faiss            the FAISS index over the chunk vectors
    lexical/               bm25s arrays (npy) and vocabulary (json)

``DIR`` is a symbolic link to a versioned sibling folder. A build writes a new version beside it, fsyncs it, and
swaps the link with one ``rename``, which is atomic: a reader sees the old index or the new one, never half of
one, and a build killed at any moment leaves the old one in place. Leftovers are removed by the next build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from embeddings.analysis import Analysis
from embeddings.lexical import LexicalIndex
from qa.config import INDEX_FORMAT_VERSION, Settings
from qa.errors import IndexFolderError
from qa.records import Chunk, Document

MANIFEST = "manifest.json"
_VERSION_MARK = ".v-"
_TEMP_MARK = ".tmp-"


@dataclass
class IndexData:
    """Everything an index folder holds, in memory."""

    embedding_model: str
    dimension: int
    build_settings: dict
    documents: list[Document]
    chunks: list[Chunk]
    analyses: list[Analysis]  # parallel to documents
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    dense: object  # faiss.Index
    lexical: LexicalIndex


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it with `qa index PATH --index {index_dir}`"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _sibling_name(index_dir: Path, mark: str, stamp: str = "") -> str:
    """Versions and temporary folders live beside DIR, hidden: ``.NAME.v-STAMP`` (``.qa-index.v-STAMP``)."""
    name = index_dir.name if index_dir.name.startswith(".") else f".{index_dir.name}"
    return f"{name}{mark}{stamp}"


def _siblings(index_dir: Path, mark: str) -> list[Path]:
    parent = index_dir.parent
    prefix = _sibling_name(index_dir, mark)
    return [p for p in parent.iterdir() if p.name.startswith(prefix)] if parent.exists() else []


def clean_leftovers(index_dir: Path) -> None:
    """Remove temporary folders of killed builds and versions no longer linked."""
    current = index_dir.resolve() if index_dir.is_symlink() else None
    for path in _siblings(index_dir, _TEMP_MARK) + _siblings(index_dir, _VERSION_MARK):
        if path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)


def write_index(data: IndexData, index_dir: Path) -> None:
    """Write ``data`` as the index at ``index_dir``, replacing any previous index atomically."""
    import faiss

    index_dir = Path(index_dir).absolute()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if index_dir.exists() and not index_dir.is_symlink():
        if any(index_dir.iterdir()) and not (index_dir / MANIFEST).exists():
            raise IndexFolderError(f"{index_dir} exists and is not an index folder; choose another --index")
    clean_leftovers(index_dir)
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    temp = index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, stamp)
    temp.mkdir()
    _write_jsonl(temp / "documents.jsonl", (asdict(d) for d in data.documents))
    _write_jsonl(temp / "chunks.jsonl", (asdict(c) for c in data.chunks))
    _write_jsonl(temp / "analysis.jsonl", (a.to_json() for a in data.analyses))
    np.save(temp / "chunk_vectors.npy", np.ascontiguousarray(data.chunk_vectors, dtype=np.float32))
    np.save(temp / "sentence_vectors.npy", np.ascontiguousarray(data.sentence_vectors, dtype=np.float32))
    faiss.write_index(data.dense, str(temp / "dense.faiss"))
    data.lexical.save(temp / "lexical")
    files = sorted(p for p in temp.rglob("*") if p.is_file())
    for path in files:
        _fsync(path)
    chunk_ranges, sentence_ranges = chunk_and_sentence_ranges(data)
    manifest = {
        "format_version": INDEX_FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedding_model": data.embedding_model,
        "dimension": data.dimension,
        "build_settings": data.build_settings,
        "dense_index": type(data.dense).__name__,
        "counts": {"documents": len(data.documents), "chunks": len(data.chunks),
                   "sentences": int(data.sentence_vectors.shape[0])},
        "documents": [{"doc_id": d.doc_id, "path": d.path, "sha256": d.sha256, "chunks": chunk_ranges[i],
                       "sentences": sentence_ranges[i]} for i, d in enumerate(data.documents)],
        "files": {p.relative_to(temp).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256_file(p)}
                  for p in files},
    }
    (temp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    _fsync(temp / MANIFEST)
    _fsync(temp)
    version = index_dir.parent / _sibling_name(index_dir, _VERSION_MARK, stamp)
    temp.rename(version)
    link = index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, f"link-{stamp}")
    link.symlink_to(version.name)
    if index_dir.exists() and not index_dir.is_symlink():
        # A plain folder (an index copied here by hand) cannot be swapped atomically; move it aside first.
        index_dir.rename(index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, f"old-{stamp}"))
    link.rename(index_dir)
    _fsync(index_dir.parent)
    clean_leftovers(index_dir)


def chunk_and_sentence_ranges(data: IndexData) -> tuple[list[list[int]], list[list[int]]]:
    chunk_ranges, sentence_ranges = [], []
    chunk_cursor = sentence_cursor = 0
    by_doc: dict[str, int] = {}
    for chunk in data.chunks:
        by_doc[chunk.doc_id] = by_doc.get(chunk.doc_id, 0) + 1
    for document, analysis in zip(data.documents, data.analyses):
        n_chunks, n_sentences = by_doc.get(document.doc_id, 0), len(analysis.sentences)
        chunk_ranges.append([chunk_cursor, chunk_cursor + n_chunks])
        sentence_ranges.append([sentence_cursor, sentence_cursor + n_sentences])
        chunk_cursor += n_chunks
        sentence_cursor += n_sentences
    return chunk_ranges, sentence_ranges


def read_manifest(index_dir: Path) -> dict:
    index_dir = Path(index_dir)
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexFolderError(f"no index at {index_dir}; build one with `qa index PATH --index {index_dir}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexFolderError(f"{path} is unreadable ({type(error).__name__}); {rebuild_hint(index_dir)}") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexFolderError(f"{path} is not a manifest of this tool; {rebuild_hint(index_dir)}")
    return manifest


def check_compatible(manifest: dict, settings: Settings, index_dir: Path) -> None:
    """Refuse an index built under other settings, naming expected and actual values."""
    expected = {"format_version": INDEX_FORMAT_VERSION, **settings.build_settings()}
    actual = {"format_version": manifest.get("format_version"), **manifest.get("build_settings", {})}
    for key, value in expected.items():
        if actual.get(key) != value:
            raise IndexFolderError(
                f"the index at {index_dir} was built with {key}={actual.get(key)!r} but the settings say "
                f"{key}={value!r}; {rebuild_hint(index_dir)}"
            )


def verify_files(manifest: dict, index_dir: Path) -> None:
    """Check every file against the manifest's size and sha256 before any parser reads it."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexFolderError(f"{index_dir / MANIFEST} lists no files; {rebuild_hint(index_dir)}")
    for name, expected in files.items():
        path = index_dir / name
        if not path.is_file():
            raise IndexFolderError(f"{path} is missing; {rebuild_hint(index_dir)}")
        if path.stat().st_size != expected.get("bytes") or _sha256_file(path) != expected.get("sha256"):
            raise IndexFolderError(f"{path} is damaged (its checksum does not match the manifest); "
                                   f"{rebuild_hint(index_dir)}")


def read_index(index_dir: Path, settings: Settings) -> IndexData:
    """Load and check an index folder; raises IndexFolderError with the command that rebuilds it."""
    import faiss

    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    check_compatible(manifest, settings, index_dir)
    verify_files(manifest, index_dir)
    try:
        documents = [Document(**row) for row in _read_jsonl(index_dir / "documents.jsonl")]
        chunks = [Chunk(**row) for row in _read_jsonl(index_dir / "chunks.jsonl")]
        analyses = [Analysis.from_json(row) for row in _read_jsonl(index_dir / "analysis.jsonl")]
        chunk_vectors = np.load(index_dir / "chunk_vectors.npy", allow_pickle=False)
        sentence_vectors = np.load(index_dir / "sentence_vectors.npy", allow_pickle=False)
        dense = faiss.read_index(str(index_dir / "dense.faiss"))
        lexical = LexicalIndex.load(index_dir / "lexical")
    except Exception as error:  # noqa: BLE001 - whatever the parser says, the cure is a rebuild
        raise IndexFolderError(f"the index at {index_dir} cannot be read ({type(error).__name__}: "
                               f"{str(error)[:120]}); {rebuild_hint(index_dir)}") from None
    data = IndexData(manifest["embedding_model"], int(manifest["dimension"]), manifest["build_settings"], documents,
                     chunks, analyses, chunk_vectors, sentence_vectors, dense, lexical)
    _check_consistent(data, manifest, index_dir)
    return data


def _check_consistent(data: IndexData, manifest: dict, index_dir: Path) -> None:
    """All parts must describe the same chunks: a mismatch means the folder was assembled from two builds."""
    n_chunks, n_sentences = len(data.chunks), sum(len(a.sentences) for a in data.analyses)
    problems = []
    if [d.doc_id for d in data.documents] != [d["doc_id"] for d in manifest.get("documents", [])]:
        problems.append("documents differ from the manifest")
    if [a.doc_id for a in data.analyses] != [d.doc_id for d in data.documents]:
        problems.append("analyses differ from documents")
    if data.chunk_vectors.shape != (n_chunks, data.dimension) or data.dense.ntotal != n_chunks:
        problems.append(f"{n_chunks} chunks but {data.dense.ntotal} vectors")
    if data.sentence_vectors.shape[0] != n_sentences:
        problems.append(f"{n_sentences} sentences but {data.sentence_vectors.shape[0]} sentence vectors")
    if data.dense.d != data.dimension:
        problems.append(f"dimension {data.dense.d} in FAISS but {data.dimension} in the manifest")
    if [c.chunk_id for c in data.chunks] != list(range(n_chunks)):
        problems.append("chunk ids are not 0..n-1")
    if problems:
        raise IndexFolderError(f"the index at {index_dir} is inconsistent ({'; '.join(problems)}); "
                               f"{rebuild_hint(index_dir)}")
