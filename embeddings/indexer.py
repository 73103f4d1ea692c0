"""Build or update an index folder from articles: load, clean, split into sentences, chunk, embed, write.

An update re-uses everything of a document whose bytes and body are unchanged (its analysis, chunks and
vectors), embeds only new or changed documents, and drops documents that are no longer among the sources.
spaCy parses articles only when the settings' reader needs it (the feature reader); switching to that reader on an
index built without the parse adds it to the unchanged documents without re-embedding anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from embeddings import dense_index
from core.config import Settings
from core.errors import DocumentError, QAError
from core.records import KINDS, Analysis, Chunk, Document
from embeddings.analysis import add_parse, analyse, body_blocks, sentences_within
from embeddings.chunker import Chunker
from embeddings.cleaner import body_spans, is_boilerplate, line_key, repeated_lines
from embeddings.embedder import Embedder
from embeddings.index_store import (IndexData, chunk_and_sentence_ranges, documents_read_before, prepare_build,
                                    read_index, write_index)
from embeddings.lexical import LexicalIndex
from embeddings.loader import load_paths, title_of


@dataclass
class IndexReport:
    index_dir: str
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)  # unchanged documents given the parse the reader needs
    embedded_texts: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"indexed {self.documents} articles ({self.chunks} chunks) into {self.index_dir} in "
                f"{self.seconds:.1f}s: {len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed, {len(self.unchanged)} unchanged"
                + (f", {len(self.skipped)} skipped" if self.skipped else "")
                + (f"; parsed {len(self.parsed)} for the feature reader" if self.parsed else ""))


@dataclass
class _Piece:
    """One document's share of the index, re-used or freshly made."""

    document: Document
    analysis: Analysis
    chunks: list[Chunk]
    chunk_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


def index_paths(paths: list[Path], index_dir: Path, settings: Settings | None = None,
                embedder: Embedder | None = None, leave_out: frozenset[str] = frozenset()) -> IndexReport:
    """Index every readable article under ``paths`` but those whose ids ``leave_out`` names; unreadable files are
    skipped and reported."""
    settings = Settings() if settings is None else settings
    loaded = load_paths([Path(p) for p in paths], settings.max_file_bytes, documents_read_before(index_dir))
    loaded.documents = [d for d in loaded.documents if d.doc_id not in leave_out]
    if not loaded.documents:
        reasons = f" ({'; '.join(loaded.skipped[:3])})" if loaded.skipped else ""
        raise DocumentError(f"no readable articles ({KINDS}) in {', '.join(map(str, paths))}{reasons}")
    report = index_documents(loaded.documents, index_dir, settings, embedder)
    report.skipped = loaded.skipped
    return report


def _previous(index_dir: Path, settings: Settings) -> IndexData | None:
    """The index already there, if it can be re-used; a damaged or foreign one is simply rebuilt."""
    try:
        return read_index(index_dir, settings)
    except QAError:
        return None


def index_documents(documents: list[Document], index_dir: Path, settings: Settings | None = None,
                    embedder: Embedder | None = None) -> IndexReport:
    """Make ``index_dir`` hold exactly ``documents``, re-using what an existing index has of them."""
    started = time.perf_counter()
    settings = Settings() if settings is None else settings
    embedder = Embedder(settings.embedding_model) if embedder is None else embedder
    index_dir = Path(index_dir)
    report = IndexReport(index_dir=str(index_dir))
    documents = sorted(documents, key=lambda d: d.doc_id)
    prepare_build(index_dir)
    previous = _previous(index_dir, settings)
    old = _pieces_of(previous) if previous is not None else {}

    repeated = repeated_lines([d.text for d in documents])
    pieces: list[_Piece] = []
    fresh: list[tuple[Document, list[tuple[int, int]]]] = []
    for document in documents:
        blocks = body_blocks(document.text, body_spans(document.text, repeated))
        document = _titled_from_body(document, blocks, repeated)
        before = old.get(document.doc_id)
        # Same bytes are not enough: a page's text is what the extractor made of them, and its metadata what the
        # loader's rules read, so a new extractor or rule re-embeds the article rather than keep stale offsets.
        if (before is not None and replace(before.document, path=document.path) == document
                and before.analysis.blocks == blocks):
            pieces.append(before)
            report.unchanged.append(document.doc_id)
        else:
            fresh.append((document, blocks))
            (report.changed if before is not None else report.added).append(document.doc_id)
    report.removed = sorted(set(old) - {d.doc_id for d in documents})
    if settings.needs_parse:
        report.parsed = _add_parse(pieces)

    if previous is not None and not fresh and not report.removed and not report.parsed:
        # Nothing to do: leave the index (and the model) alone.
        report.documents, report.chunks = len(previous.documents), len(previous.chunks)
        report.seconds = time.perf_counter() - started
        return report
    pieces.extend(_make_pieces(fresh, settings, embedder))
    report.embedded_texts = sum(len(p.analysis.sentences) for p in pieces[len(pieces) - len(fresh):])
    pieces.sort(key=lambda p: p.document.doc_id)
    dimension = previous.dimension if previous is not None and not fresh else embedder.dimension
    data = _assemble(pieces, settings, dimension)
    write_index(data, index_dir)
    report.documents, report.chunks = len(data.documents), len(data.chunks)
    report.seconds = time.perf_counter() - started
    return report


def _titled_from_body(document: Document, blocks: list[tuple[int, int]], repeated: frozenset[str]) -> Document:
    """Title an article by its first body line when its first line is site furniture ("UNITED24 - Make a
    donation") or a site name ("- Sputnik International"); a headline stays the title, short as it is."""
    if not blocks or not (is_boilerplate(document.title, repeated) or len(line_key(document.title).split()) < 3):
        return document
    line = document.text[blocks[0][0]:blocks[0][1]].splitlines()[0].strip()
    return replace(document, title=title_of(line, document.doc_id)) if line else document


def _add_parse(pieces: list[_Piece]) -> list[str]:
    """Give every piece's analysis spaCy's parse; the documents that lacked it."""
    missing = [p.document.doc_id for p in pieces if not p.analysis.parsed]
    for piece, analysis in zip(pieces, add_parse([(p.analysis, p.document.text) for p in pieces])):
        piece.analysis = analysis  # add_parse passes an analysis that has the parse through as it is
    return missing


def _pieces_of(data: IndexData) -> dict[str, _Piece]:
    chunk_ranges, sentence_ranges = chunk_and_sentence_ranges(data)
    pieces = {}
    for i, (document, analysis) in enumerate(zip(data.documents, data.analyses)):
        (c0, c1), (s0, s1) = chunk_ranges[i], sentence_ranges[i]
        pieces[document.doc_id] = _Piece(document, analysis, data.chunks[c0:c1], data.chunk_vectors[c0:c1],
                                         data.sentence_vectors[s0:s1])
    return pieces


def _sentences_by_block(analysis: Analysis) -> list[list[tuple[int, int]]]:
    grouped: list[list[tuple[int, int]]] = [[] for _ in analysis.blocks]
    block = 0
    for start, end in analysis.sentences:
        while block + 1 < len(analysis.blocks) and start >= analysis.blocks[block][1]:
            block += 1
        grouped[block].append((start, end))
    return grouped


def _make_pieces(fresh: list[tuple[Document, list[tuple[int, int]]]], settings: Settings,
                 embedder: Embedder) -> list[_Piece]:
    if not fresh:
        return []
    analyses = [analyse(d.doc_id, d.text, blocks) for d, blocks in fresh]
    if settings.needs_parse:
        analyses = add_parse([(a, d.text) for a, (d, _) in zip(analyses, fresh)])
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_sentences,
                      model_tokens=embedder.count_tokens, model_max_tokens=embedder.max_tokens)
    pieces = [_Piece(d, a, chunker.split(d, _sentences_by_block(a))) for (d, _), a in zip(fresh, analyses)]
    # Only sentences are encoded: a chunk's vector is the normalised mean of its sentences' vectors. The reader
    # and the re-scoring need sentence vectors anyway, and encoding chunks too would double the build for no
    # gain in what retrieval finds (measured on eval/gold_qa.json: recall@1/@5 unchanged).
    sentence_texts = [p.document.text[s:e] for p in pieces for s, e in p.analysis.sentences]
    sentence_vectors = embedder.encode(sentence_texts)
    cursor = 0
    for piece in pieces:
        piece.sentence_vectors = sentence_vectors[cursor: cursor + len(piece.analysis.sentences)]
        cursor += len(piece.analysis.sentences)
        piece.chunk_vectors = _chunk_vectors(piece, embedder)
    return pieces


def _chunk_vectors(piece: _Piece, embedder: Embedder) -> np.ndarray:
    vectors = np.zeros((len(piece.chunks), piece.sentence_vectors.shape[1]), dtype=np.float32)
    for i, chunk in enumerate(piece.chunks):
        first, last = sentences_within(piece.analysis.sentences, chunk.start, chunk.end)
        if last > first:
            mean = piece.sentence_vectors[first:last].mean(axis=0)
            vectors[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        else:  # no sentence inside (cannot happen for sentence-aligned chunks); encode the chunk itself
            vectors[i] = embedder.encode([chunk.text])[0]
    return vectors


def _assemble(pieces: list[_Piece], settings: Settings, dimension: int) -> IndexData:
    chunks: list[Chunk] = []
    for piece in pieces:
        first = len(chunks)
        chunks.extend([replace(c, chunk_id=first + i) for i, c in enumerate(piece.chunks)])
    chunk_vectors = _stack([p.chunk_vectors for p in pieces], dimension)
    sentence_vectors = _stack([p.sentence_vectors for p in pieces], dimension)
    dense = dense_index.build(chunk_vectors, settings)  # exact or approximate by corpus size and settings
    return IndexData(
        embedding_model=settings.embedding_model,
        dimension=dimension,
        build_settings=settings.build_settings(),
        documents=[p.document for p in pieces],
        chunks=chunks,
        analyses=[p.analysis for p in pieces],
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        dense=dense,
        lexical=LexicalIndex.build([c.text for c in chunks]),
    )


def _stack(arrays: list[np.ndarray | None], dimension: int) -> np.ndarray:
    arrays = [a for a in arrays if a is not None and len(a)]
    if not arrays:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(arrays), dtype=np.float32)
