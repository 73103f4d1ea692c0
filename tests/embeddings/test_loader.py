import pytest

from core.errors import DocumentError
from embeddings.loader import decode_article, load_paths, title_of


def test_doc_id_is_path_relative_to_the_indexed_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Title A\n\nBody.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("# Title B\nBody.", encoding="utf-8")
    (tmp_path / "ignored.docx").write_bytes(b"PK\x03\x04")
    result = load_paths([tmp_path], max_bytes=10_000)
    assert [d.doc_id for d in result.documents] == ["a.txt", "sub/b.md"]


def test_text_is_kept_exactly_as_read(tmp_path):
    raw = "Headline\r\n\tTabbed “quoted” text\u00a0with nbsp 🚀 and CRLF.\r\n"
    (tmp_path / "x.txt").write_bytes(raw.encode("utf-8"))
    (document,) = load_paths([tmp_path], max_bytes=10_000).documents
    assert document.text == raw
    assert document.title == "Headline"


def test_without_a_headline_the_title_is_a_short_first_line_or_the_file_and_its_first_words():
    assert title_of("\n\n   \n  First line  \nsecond") == "First line"
    opening = ("In a statement obtained by BosNewsLife News Center in Budapest, the US State Department said the "
               "talks Thursday will involve a US delegation.\nMore.")
    assert title_of(opening, "000_0027d40a27e5cdba.txt") == \
        "000_0027d40a27e5cdba: In a statement obtained by BosNewsLife News Center …"


def test_byte_order_marks_name_the_encoding():
    assert decode_article("hello".encode("utf-16"), "x") == "hello"
    assert decode_article(b"\xef\xbb\xbfhello", "x") == "hello"


def test_non_utf8_file_is_refused_with_a_clear_message():
    with pytest.raises(DocumentError, match=r"x.txt: is not UTF-8 .*iconv"):
        decode_article("café".encode("latin-1"), "x.txt")


def test_binary_file_is_refused():
    with pytest.raises(DocumentError, match="binary"):
        decode_article(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "x.png")


def test_bad_files_are_skipped_with_reasons_and_good_ones_kept(tmp_path):
    (tmp_path / "good.txt").write_text("A good article.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "huge.txt").write_text("x" * 2000, encoding="utf-8")
    result = load_paths([tmp_path], max_bytes=1000)
    assert [d.doc_id for d in result.documents] == ["good.txt"]
    assert len(result.skipped) == 3
    assert all("\n" not in reason for reason in result.skipped)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(DocumentError, match="no such file or folder"):
        load_paths([tmp_path / "nope"], max_bytes=1000)


def test_a_file_whose_bytes_and_parser_are_unchanged_is_not_read_again(tmp_path):
    from dataclasses import replace

    from embeddings.loader import parser_fingerprint
    from tests.embeddings.format_fixtures import make_pdf, wordpress_blog

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "blog.html").write_text(wordpress_blog()[0], encoding="utf-8")
    (folder / "ferry.pdf").write_bytes(make_pdf(["Harbour council backs the new ferry\nLEEFORD, Nov. 2, 2023 - "
                                                 "The council voted to fund a second ferry."]))
    (folder / "note.txt").write_text("Council votes\nThe council voted on Monday.\n", encoding="utf-8")
    first = load_paths([folder], 5_000_000)
    assert first.reused == [] and {d.parser for d in first.documents} == {parser_fingerprint()}
    before = {d.doc_id: d for d in first.documents}

    again = load_paths([folder], 5_000_000, before)
    assert sorted(again.reused) == ["blog.html", "ferry.pdf", "note.txt"]
    assert again.documents == first.documents
    assert all(d.text is before[d.doc_id].text for d in again.documents)  # taken as it was, not parsed again

    # Changed bytes, or a Document another parser made (older rules), are read again; a moved folder keeps the rest.
    (folder / "note.txt").write_text("Council votes\nThe council voted on Tuesday.\n", encoding="utf-8")
    before["blog.html"] = replace(before["blog.html"], parser="older rules")
    moved = tmp_path / "moved"
    folder.rename(moved)
    third = load_paths([moved], 5_000_000, before)
    assert third.reused == ["ferry.pdf"]
    documents = {d.doc_id: d for d in third.documents}
    assert "Tuesday" in documents["note.txt"].text
    assert documents["blog.html"] == replace(first.documents[0], path=str(moved / "blog.html"))
    assert {d.path for d in third.documents} == {str(moved / name) for name in ("blog.html", "ferry.pdf", "note.txt")}


def test_qa_index_reads_again_only_what_changed(tmp_path, embedder):
    from embeddings.index_store import documents_read_before
    from embeddings.indexer import index_paths

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Council votes\nThe council voted on Monday to fund a ferry.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Bridge opens\nThe mayor opened the bridge on Saturday.\n", encoding="utf-8")
    index_paths([folder], tmp_path / "index", embedder=embedder)
    (folder / "b.txt").write_text("Bridge opens\nThe mayor opened the bridge on Sunday.\n", encoding="utf-8")
    loaded = load_paths([folder], 5_000_000, documents_read_before(tmp_path / "index"))
    assert loaded.reused == ["a.txt"]
    assert documents_read_before(tmp_path / "nothing-here") == {}


def test_a_document_of_a_kind_not_read_here_is_named_plainly_and_a_text_file_of_any_name_is_read(tmp_path):
    word, rich, notes = tmp_path / "report.docx", tmp_path / "memo.rtf", tmp_path / "NOTES"
    word.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    rich.write_text("{\\rtf1 The council voted.}", encoding="utf-8")
    notes.write_text("Council notes\nThe council voted on Monday.\n", encoding="utf-8")
    result = load_paths([word, rich, notes], 5_000_000)
    assert [d.doc_id for d in result.documents] == ["NOTES"]
    assert result.skipped == [
        "report.docx: a Word document can't be added; save it as PDF or plain text first (articles are .txt, .md, "
        ".html, .htm, .pdf)",
        "memo.rtf: a rich-text document can't be added; save it as PDF or plain text first (articles are .txt, .md, "
        ".html, .htm, .pdf)"]
