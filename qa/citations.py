"""Number the passages an answer rests on.

Citation 1 is the passage holding the best answer, then the passages of the other answers, then the closest
remaining passages, so the reader of an answer finds its source first. Offsets of the answer inside a citation are
differences of article offsets, never the result of searching the passage for the answer's words.
"""

from __future__ import annotations

from core.errors import IndexFolderError
from core.records import Answer, Chunk, Citation, Document, Hit


def cite(answers: list[Answer], hits: list[Hit], documents: dict[str, Document], chunks: list[Chunk],
         top_k: int) -> tuple[list[Citation], list[int]]:
    """Citations for the answers and hits, and the citation number of each answer."""
    citations: list[Citation] = []
    by_chunk: dict[int, int] = {}
    scores = {h.chunk.chunk_id: h.score for h in hits}

    def add(chunk: Chunk, answer: Answer | None) -> int:
        if chunk.chunk_id in by_chunk:
            return by_chunk[chunk.chunk_id]
        n = len(citations) + 1
        inside = answer is not None and chunk.start <= answer.start and answer.end <= chunk.end
        document = documents[chunk.doc_id]
        citations.append(Citation(
            n=n, doc_id=chunk.doc_id, title=document.title, start=chunk.start, end=chunk.end,
            text=chunk.text,
            answer_start=answer.start - chunk.start if inside else None,
            answer_end=answer.end - chunk.start if inside else None,
            score=scores.get(chunk.chunk_id, 0.0),
            published=document.published, source=document.source, author=document.author, url=document.url,
            # A PDF passage may run over a page break: the answer's own page is where a person looks for it.
            page=document.page_at(answer.start if inside else chunk.start),
        ))
        by_chunk[chunk.chunk_id] = n
        return n

    numbers = [add(_source_chunk(answer, hits, chunks), answer) for answer in answers]
    for hit in hits:
        if len(citations) >= top_k:
            break
        add(hit.chunk, None)
    return citations, numbers


def _source_chunk(answer: Answer, hits: list[Hit], chunks: list[Chunk]) -> Chunk:
    """The retrieved chunk the answer was read from, else any chunk of its article that contains it."""
    if 0 <= answer.chunk_id < len(chunks):
        return chunks[answer.chunk_id]
    for chunk in [h.chunk for h in hits] + chunks:
        if chunk.doc_id == answer.doc_id and chunk.start <= answer.start and answer.end <= chunk.end:
            return chunk
    # Only an index whose chunks no longer cover its articles gets here: the reader reads spans out of chunks.
    raise IndexFolderError(f"no chunk of {answer.doc_id} holds [{answer.start}, {answer.end}); the index does not "
                           f"match its articles, rebuild it with `qa index`")
