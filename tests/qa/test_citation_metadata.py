"""Typed provenance: Documents carry date, source, author, url and PDF page starts into the index and onto every
citation, and an index written before these fields existed still reads."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from core.records import Answer, Chunk, Document, Hit, Response
from qa.citations import cite

TEXT = "Page one tells of the talks.\n\nPage two names Sergei Kislyak.\n\nPage three ends it."
PAGES = (0, 30, 62)
PDF = Document("talks.pdf", "/x/talks.pdf", "Talks", TEXT, "0" * 64, published="2007-12-10", source="Agency",
               author="A. Writer", url="https://example.org/talks", pages=PAGES)
CITATION_KEYS = {"n", "doc_id", "title", "start", "end", "text", "answer_start", "answer_end", "score",
                 "published", "source", "author", "url", "page"}


def test_old_constructors_still_work_and_leave_the_metadata_unknown():
    document = Document("a.txt", "a.txt", "A", "Text.", "0" * 64)
    assert (document.published, document.source, document.author, document.url, document.pages) == \
        (None, None, None, None, ())
    assert document.page_at(3) is None


def test_a_document_round_trips_through_its_json_row():
    row = json.loads(json.dumps(asdict(PDF)))
    assert row["pages"] == list(PAGES)
    assert Document.from_json(row) == PDF


def test_a_row_written_before_the_metadata_fields_reads_with_nulls():
    row = {"doc_id": "a.txt", "path": "a.txt", "title": "A", "text": "Text.", "sha256": "0" * 64}
    document = Document.from_json(row)
    assert document.published is None and document.url is None and document.pages == ()


def test_page_at_is_the_one_based_page_an_offset_falls_on():
    assert TEXT[PAGES[1]:].startswith("Page two") and TEXT[PAGES[2]:].startswith("Page three")
    assert [PDF.page_at(o) for o in (0, 29, 30, 61, 62, len(TEXT))] == [1, 1, 2, 2, 3, 3]


def _response(document: Document, first: str = "Page two", last: str = "Page three") -> Response:
    start = document.text.index(first)
    end = document.text.index(last) - 2
    chunk = Chunk(0, document.doc_id, start, end, document.text[start:end], 8)
    a_start = document.text.index("Sergei")
    answer = Answer("Sergei Kislyak", document.doc_id, a_start, a_start + 14, 0.9, 0)
    hits = [Hit(chunk, 1.2, 1)]
    citations, numbers = cite([answer], hits, {document.doc_id: document}, [chunk], top_k=3)
    return Response("who?", "who?", answer, (answer,), tuple(numbers), tuple(citations), tuple(hits))


def test_a_citation_carries_its_article_metadata_and_the_page_it_starts_on():
    (citation,) = _response(PDF).to_json()["citations"]
    assert set(citation) == CITATION_KEYS
    assert citation["text"] == TEXT[citation["start"]:citation["end"]]
    assert (citation["published"], citation["source"], citation["author"], citation["url"], citation["page"]) == \
        ("2007-12-10", "Agency", "A. Writer", "https://example.org/talks", 2)


def test_a_passage_over_a_page_break_is_cited_at_its_answer_s_page():
    # The passage starts on page 1, the answer is on page 2: "p. 1" sent the reader to the wrong page.
    (citation,) = _response(PDF, first="Page one", last="Page three").to_json()["citations"]
    assert PDF.page_at(citation["start"]) == 1 and citation["answer_start"] is not None
    assert citation["page"] == 2


def test_a_plain_text_citation_has_every_key_with_nulls():
    document = Document("a.txt", "a.txt", "A", TEXT, "0" * 64)
    (citation,) = _response(document).to_json()["citations"]
    assert set(citation) == CITATION_KEYS
    assert all(citation[k] is None for k in ("published", "source", "author", "url", "page"))


def test_the_index_stores_the_metadata_of_pages_and_pdfs(tmp_path, embedder):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "embeddings"))
    from format_fixtures import ascii_paragraphs, make_pdf, news_site_json_ld

    from core.config import Settings
    from embeddings.index_store import read_index
    from embeddings.indexer import index_paths
    from embeddings.loader import load_paths

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "sputnik.html").write_text(news_site_json_ld()[0], encoding="utf-8")
    (articles / "talks.pdf").write_bytes(make_pdf(ascii_paragraphs("004_cdaeb251b5d86124.txt", 5, 3)))
    report = index_paths([articles], tmp_path / "index", embedder=embedder)
    assert report.skipped == []
    data = read_index(tmp_path / "index", Settings())
    stored = {d.doc_id: d for d in data.documents}
    loaded = {d.doc_id: d for d in load_paths([articles], 5_000_000).documents}
    for doc_id, document in loaded.items():
        assert asdict(stored[doc_id]) | {"title": document.title} == asdict(document)
    assert stored["sputnik.html"].published == "2007-04-23" and stored["sputnik.html"].source == "Sputnik International"
    assert len(stored["talks.pdf"].pages) == 3
    for chunk in data.chunks:
        assert chunk.text == stored[chunk.doc_id].text[chunk.start:chunk.end]
    # Indexing the same files again re-embeds nothing.
    again = index_paths([articles], tmp_path / "index", embedder=embedder)
    assert sorted(again.unchanged) == ["sputnik.html", "talks.pdf"]
