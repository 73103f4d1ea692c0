"""The index folder: write it atomically, read it back only after checking it.

Layout (all read back without pickle):
    manifest.json          format version, model, dimension, build settings, documents, a sha256 of every file
    documents.jsonl        one Document per line, the article text included, so citations never need the sources
    chunks.jsonl           one Chunk per line, in index order (FAISS and BM25 row i is chunk i)
    analysis.jsonl         one Analysis per document: sentences, tokens, entities, noun chunks
    chunk_vectors.npy      float32 (chunks x dimension), kept so an update re-embeds only what changed
    sentence_vectors.npy   float32 (sentences x dimension), sentences in document then analysis order
    dense.faiss            the FAISS index over the chunk vectors (its kind: embeddings/dense_index.py)
    lexical/               bm25s arrays (npy) and vocabulary (json)

``DIR`` is a symbolic link to a versioned sibling folder. A build writes a new version beside it, fsyncs it, and
swaps the link with one ``rename``, which is atomic: a reader sees the old index or the new one, never half of
one, and a build killed at any moment leaves the old one in place. Leftovers are removed by the next build.
Builds into one parent folder take turns (an flock on the folder), so two at once cannot delete each other's work.

``manifest.json`` carries a sha256 of its own canonical form and of every other file; a truncated, flipped, empty or
swapped file is refused, naming the file, before any parser reads it.

Test hook: with ``QA_INDEX_PAUSE_AT=STAGE`` a build stops at that stage of ``write_index`` (saying so on stderr)
until it is killed, so a test can SIGKILL it at an exact point. Stages are listed in ``STAGES``.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from embeddings import dense_index
from core.config import INDEX_FORMAT_VERSION, Settings
from core.errors import IndexFolderError
from core.records import Analysis, Chunk, Document
from embeddings.lexical import LexicalIndex

MANIFEST = "manifest.json"
_VERSION_MARK = ".v-"
_TEMP_MARK = ".tmp-"
_SELF_DIGEST = "manifest_sha256"
PAUSE_ENV = "QA_INDEX_PAUSE_AT"
STAGES = ("locked", "temp-created", "data-written", "data-synced", "manifest-written", "version-renamed",
          "link-created", "swapped", "cleaned")


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


def _stage(name: str) -> None:
    """The test hook: stop here while ``QA_INDEX_PAUSE_AT`` names this stage, so a test can kill the build."""
    if os.environ.get(PAUSE_ENV) == name:
        print(f"qa: paused at {name}", file=sys.stderr, flush=True)
        time.sleep(600)


def _manifest_digest(manifest: dict) -> str:
    """sha256 of the manifest's canonical JSON without its own digest: any change to any value shows."""
    body = {k: v for k, v in manifest.items() if k != _SELF_DIGEST}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


class _BuildLock:
    """An exclusive flock on the folder that holds DIR, released by the kernel even when the build is killed."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        self.fd = os.open(self.folder, os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # closing the descriptor releases the lock


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
    """Remove temporary folders and links of killed builds, and versions no longer linked."""
    current = index_dir.resolve() if index_dir.is_symlink() else None
    for path in _siblings(index_dir, _TEMP_MARK) + _siblings(index_dir, _VERSION_MARK):
        if path.is_symlink():  # a link made just before a killed swap; rmtree refuses links
            path.unlink(missing_ok=True)
        elif path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)


def _check_target(index_dir: Path) -> None:
    """DIR may be a link, nothing, an empty folder or an index folder; anything else is the user's and stays."""
    if index_dir.exists() and not index_dir.is_symlink():
        if not index_dir.is_dir():
            raise IndexFolderError(f"{index_dir} is a file, not an index folder; choose another --index")
        if any(index_dir.iterdir()) and not (index_dir / MANIFEST).exists():
            raise IndexFolderError(f"{index_dir} exists and is not an index folder; choose another --index")


def prepare_build(index_dir: Path) -> None:
    """Every build starts here, before any work: refuse a DIR that is not an index (IndexFolderError), and remove
    what killed builds left beside it, under the build lock, so even a build with nothing to write leaves the
    folder clean. Cleaning is best effort: a folder that cannot be locked is left as it is."""
    index_dir = Path(index_dir).absolute()
    _check_target(index_dir)
    try:
        if index_dir.parent.is_dir():
            with _BuildLock(index_dir.parent):
                clean_leftovers(index_dir)
    except OSError:
        pass


def write_index(data: IndexData, index_dir: Path) -> None:
    """Write ``data`` as the index at ``index_dir``, replacing any previous index atomically.

    Raises IndexFolderError when ``index_dir`` holds something other than an index (it is never overwritten) or
    cannot be written; whatever happens, no temporary folder is left behind by a build that returns.
    """
    index_dir = Path(index_dir).absolute()
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        with _BuildLock(index_dir.parent):
            _stage("locked")
            try:
                _write_locked(data, index_dir)
            finally:
                clean_leftovers(index_dir)  # a failed build leaves nothing; a good one, no old version
            _stage("cleaned")
    except OSError as error:
        raise IndexFolderError(f"cannot write the index at {index_dir} ({error.strerror or error})") from None


def _write_locked(data: IndexData, index_dir: Path) -> None:
    _check_target(index_dir)
    clean_leftovers(index_dir)
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    temp = index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, stamp)
    temp.mkdir()
    _stage("temp-created")
    _write_jsonl(temp / "documents.jsonl", (asdict(d) for d in data.documents))
    _write_jsonl(temp / "chunks.jsonl", (asdict(c) for c in data.chunks))
    _write_jsonl(temp / "analysis.jsonl", (a.to_json() for a in data.analyses))
    np.save(temp / "chunk_vectors.npy", np.ascontiguousarray(data.chunk_vectors, dtype=np.float32))
    np.save(temp / "sentence_vectors.npy", np.ascontiguousarray(data.sentence_vectors, dtype=np.float32))
    dense_index.save(data.dense, temp / "dense.faiss")
    data.lexical.save(temp / "lexical")
    _stage("data-written")
    files = sorted(p for p in temp.rglob("*") if p.is_file())
    for path in files + sorted(p for p in temp.rglob("*") if p.is_dir()):
        _fsync(path)  # data before names: the renames below must never publish a file the disk has not got
    _stage("data-synced")
    chunk_ranges, sentence_ranges = chunk_and_sentence_ranges(data)
    manifest = {
        "format_version": INDEX_FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedding_model": data.embedding_model,
        "dimension": data.dimension,
        "build_settings": data.build_settings,
        "dense_index": dense_index.describe(data.dense),
        "counts": {"documents": len(data.documents), "chunks": len(data.chunks),
                   "sentences": int(data.sentence_vectors.shape[0])},
        "documents": [{"doc_id": d.doc_id, "path": d.path, "sha256": d.sha256, "chunks": chunk_ranges[i],
                       "sentences": sentence_ranges[i]} for i, d in enumerate(data.documents)],
        "files": {p.relative_to(temp).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256_file(p)}
                  for p in files},
    }
    manifest[_SELF_DIGEST] = _manifest_digest(manifest)
    (temp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    _fsync(temp / MANIFEST)
    _fsync(temp)
    _stage("manifest-written")
    version = index_dir.parent / _sibling_name(index_dir, _VERSION_MARK, stamp)
    temp.rename(version)
    _fsync(index_dir.parent)
    _stage("version-renamed")
    link = index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, f"link-{stamp}")
    link.symlink_to(version.name)
    _stage("link-created")
    if index_dir.exists() and not index_dir.is_symlink():
        # A plain folder (an index copied here by hand) cannot be replaced by one rename: exchange the two in one
        # step where the system can, else move it aside first (a kill between the two renames loses the old one).
        if not _exchange(link, index_dir):
            index_dir.rename(index_dir.parent / _sibling_name(index_dir, _TEMP_MARK, f"old-{stamp}"))
            link.rename(index_dir)
    else:
        link.rename(index_dir)
    _fsync(index_dir.parent)
    _stage("swapped")


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
    if manifest.get(_SELF_DIGEST) != _manifest_digest(manifest):
        what = "has no checksum (an older format)" if _SELF_DIGEST not in manifest else "is damaged (its checksum " \
               "does not match its contents)"
        raise IndexFolderError(f"{path} {what}; {rebuild_hint(index_dir)}")
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
        if Path(name).is_absolute() or ".." in Path(name).parts or not isinstance(expected, dict):
            raise IndexFolderError(f"{index_dir / MANIFEST} names a file outside the index ({name!r}); "
                                   f"{rebuild_hint(index_dir)}")
        if not path.is_file():
            raise IndexFolderError(f"{path} is missing; {rebuild_hint(index_dir)}")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            said = expected.get("bytes")
            raise IndexFolderError(f"{path} is damaged ({size:,} bytes where the manifest says "
                                   f"{f'{said:,}' if isinstance(said, int) else repr(said)}); "
                                   f"{rebuild_hint(index_dir)}")
        if _sha256_file(path) != expected.get("sha256"):
            raise IndexFolderError(f"{path} is damaged (its checksum does not match the manifest); "
                                   f"{rebuild_hint(index_dir)}")


def _link_target(index_dir: Path) -> str | None:
    try:
        return os.readlink(index_dir)
    except OSError:  # not a link (a plain folder, or nothing)
        return None


def documents_read_before(index_dir: Path) -> dict[str, Document]:
    """The index's documents by doc_id, as the loader's ``read_before``; empty where there is no readable index.
    Only a shortcut: the loader takes one only where its file's bytes and parser are unchanged. It keeps the title
    the indexer gave it (a first body line in place of site furniture), which a new read would give again."""
    try:
        return {d.doc_id: d for d in map(Document.from_json, _read_jsonl(Path(index_dir) / "documents.jsonl"))}
    except (OSError, ValueError, TypeError):
        return {}


def read_index(index_dir: Path, settings: Settings) -> IndexData:
    """Load and check an index folder; raises IndexFolderError with the command that rebuilds it.

    A build may swap the link while this reads (every open follows it afresh), so a read the swap overlapped is
    thrown away and done again: the result always comes from one version, never half of two.
    """
    index_dir = Path(index_dir)
    for _ in range(3):
        before = _link_target(index_dir)
        try:
            data = _read_version(index_dir, settings)
        except IndexFolderError:
            if _link_target(index_dir) == before:
                raise
            continue
        if _link_target(index_dir) == before:
            return data
    raise IndexFolderError(f"the index at {index_dir} kept changing while it was read; try again")


def _read_version(index_dir: Path, settings: Settings) -> IndexData:
    manifest = read_manifest(index_dir)
    check_compatible(manifest, settings, index_dir)
    verify_files(manifest, index_dir)
    try:
        documents = [Document.from_json(row) for row in _read_jsonl(index_dir / "documents.jsonl")]
        chunks = [Chunk(**row) for row in _read_jsonl(index_dir / "chunks.jsonl")]
        analyses = [Analysis.from_json(row) for row in _read_jsonl(index_dir / "analysis.jsonl")]
        # Mapped, the vectors cost resident memory only for the rows a question touches (the FAISS index already
        # holds them all); asarray drops the memmap subclass, whose per-operation overhead the hot path would pay.
        mmap_mode = "r" if settings.mmap_index else None
        chunk_vectors = np.asarray(np.load(index_dir / "chunk_vectors.npy", allow_pickle=False, mmap_mode=mmap_mode))
        sentence_vectors = np.asarray(np.load(index_dir / "sentence_vectors.npy", allow_pickle=False,
                                              mmap_mode=mmap_mode))
        dense = dense_index.load(index_dir / "dense.faiss", settings, chunk_vectors)
        lexical = LexicalIndex.load(index_dir / "lexical")
    except Exception as error:  # noqa: BLE001 - whatever the parser says, the cure is a rebuild
        detail = " ".join(str(error).split())[:120]  # parsers' messages can span lines; ours are one line
        raise IndexFolderError(f"the index at {index_dir} cannot be read ({type(error).__name__}: "
                               f"{detail}); {rebuild_hint(index_dir)}") from None
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
