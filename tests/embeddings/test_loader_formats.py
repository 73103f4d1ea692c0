"""Saved web pages and PDFs: the article text and metadata come out, the furniture and bad files stay out."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from format_fixtures import LAYOUTS, ascii_paragraphs, make_pdf, seed_paragraphs  # noqa: E402

from core.errors import DocumentError  # noqa: E402
from embeddings.loader import load_file, load_paths  # noqa: E402

MAX = 5_000_000


def flat(text: str) -> str:
    """Whitespace folded: trafilatura turns no-break spaces into spaces and joins a paragraph's lines."""
    return " ".join(text.split())


def write_page(tmp_path: Path, layout: str) -> tuple[Path, dict, list[str], list[str]]:
    page, metadata, body, furniture = LAYOUTS[layout]()
    # The ad-split page declares windows-1252 and is saved in it, as old sites are; the others are UTF-8.
    encoding = "windows-1252" if 'charset="windows-1252"' in page else "utf-8"
    path = tmp_path / f"{layout}.html"
    path.write_bytes(page.encode(encoding))
    return path, metadata, body, furniture


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_page_keeps_every_article_paragraph_and_none_of_its_furniture(tmp_path, layout):
    path, _, body, furniture = write_page(tmp_path, layout)
    document = load_file(path, path.name, MAX)
    for paragraph in body:
        assert flat(paragraph) in flat(document.text), paragraph[:60]
    for line in furniture:
        assert line.lower() not in document.text.lower(), line


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_page_gives_its_headline_date_author_and_site_as_typed_fields(tmp_path, layout):
    path, metadata, _, _ = write_page(tmp_path, layout)
    document = load_file(path, path.name, MAX)
    assert document.title == metadata["title"]
    assert document.published == metadata["published"]
    assert document.source == metadata["source"]
    # trafilatura writes names without the initials' full stops ("Stefan J Bos").
    assert document.author.replace(".", "") == metadata["author"].replace(".", "")
    assert document.pages == ()


def test_a_page_keeps_its_canonical_link_as_the_url(tmp_path):
    path, _, _, _ = write_page(tmp_path, "wordpress_blog")
    assert load_file(path, path.name, MAX).url == "https://www.bosnewslife.com/us-russia-missile-talks/"


def test_a_page_sha256_is_of_the_file_bytes_not_the_extracted_text(tmp_path):
    import hashlib

    path, _, _, _ = write_page(tmp_path, "news_site_json_ld")
    document = load_file(path, path.name, MAX)
    assert document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_page_declared_windows_1252_keeps_its_curly_quotes(tmp_path):
    path, _, _, _ = write_page(tmp_path, "split_by_ads")
    document = load_file(path, path.name, MAX)
    assert "what they’re calling their first “two-plus-two” talks" in document.text


def test_a_utf16_page_with_a_byte_order_mark_is_read(tmp_path):
    page, metadata, body, _ = LAYOUTS["news_site_json_ld"]()
    path = tmp_path / "utf16.htm"
    path.write_bytes(page.encode("utf-16"))  # Python writes the BOM
    document = load_file(path, path.name, MAX)
    assert document.title == metadata["title"] and flat(body[0]) in flat(document.text)


def test_a_pdf_round_trips_its_text_and_where_each_page_starts(tmp_path):
    pages = ascii_paragraphs("004_cdaeb251b5d86124.txt", 5, 3)
    path = tmp_path / "talks.pdf"
    path.write_bytes(make_pdf(pages, title="U.S., Russian Leaders Agree to Meet Again"))
    document = load_file(path, path.name, MAX)
    assert len(document.pages) == 3 and document.pages[0] == 0
    starts = list(document.pages) + [len(document.text) + 2]
    for i, paragraph in enumerate(pages):
        page_text = document.text[starts[i]:starts[i + 1] - 2]  # pages are joined by a blank line
        assert flat(page_text) == flat(paragraph)
        assert document.page_at(starts[i]) == i + 1 and document.page_at(starts[i + 1] - 3) == i + 1
    assert document.title == "U.S., Russian Leaders Agree to Meet Again"
    assert document.published == "2007-10-12" and document.url is None  # "MOSCOW, Oct. 12, 2007 -" opens page 1


def _pdf_with(content: bytes, pages: int = 1) -> bytes:
    """A PDF whose every page draws ``content`` (compressed) in Helvetica: a few lines make either kind of bomb."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        stream = DecodedStreamObject()
        stream.set_data(content)
        page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_decompression_bomb_and_a_text_bomb_are_refused_in_one_line(tmp_path):
    zeros = tmp_path / "zeros.pdf"  # 2 pages of 20 MB of zeros each, 40 KB on disk
    zeros.write_bytes(_pdf_with(b"0" * 20_000_000, pages=2))
    assert zeros.stat().st_size < 100_000
    with pytest.raises(DocumentError, match=r"^zeros\.pdf: its pages expand past 30 MB when decompressed"):
        load_file(zeros, zeros.name, MAX)
    text = tmp_path / "text.pdf"  # 8,000 text operators: 120,000 characters on one page from 5 KB
    text.write_bytes(_pdf_with(b"BT /F1 12 Tf 72 720 Td " + b"(Budapest talks ) Tj " * 8_000 + b"ET"))
    with pytest.raises(DocumentError, match=r"^text\.pdf: page 1 holds 120,000 characters, over the 100,000"):
        load_file(text, text.name, MAX)


def test_a_pdf_is_dated_by_its_dateline_and_never_by_when_the_file_was_made(tmp_path):
    path = tmp_path / "leeford.pdf"
    path.write_bytes(make_pdf(["Harbour council backs the new ferry\nLEEFORD, Nov. 2, 2023 - The harbour council "
                               "voted on Thursday to fund a second ferry.", "The ferry will run from May."]))
    assert load_file(path, path.name, MAX).published == "2023-11-02"
    undated = tmp_path / "undated.pdf"  # fpdf2 stamps today's creation date, as "Save as PDF" does
    undated.write_bytes(make_pdf(["Harbour council backs the new ferry\nThe harbour council voted to fund a ferry."]))
    assert load_file(undated, undated.name, MAX).published is None


def test_a_text_or_pdf_article_names_its_source_and_author_from_its_byline_and_dateline(tmp_path):
    top = ("Harbour council backs the new ferry\n\nBy Ana Lind\n\nLEEFORD, Nov. 2, 2023 (Coast Wire) - The harbour "
           "council voted on Thursday to fund a second ferry.")
    text = tmp_path / "ferry.txt"
    text.write_text(top + "\n\nThe ferry will run from May.\n", encoding="utf-8")
    pdf = tmp_path / "ferry.pdf"
    pdf.write_bytes(make_pdf([top, "The ferry will run from May."]))
    for path in (text, pdf):
        document = load_file(path, path.name, MAX)
        assert (document.source, document.author, document.published) == ("Coast Wire", "Ana Lind", "2023-11-02")


def test_a_pdf_without_a_title_is_titled_from_its_text(tmp_path):
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf(["Russia, U.S. agree to continue dialogue\n" + ascii_paragraphs(
        "002_c6aa0806ec42fcf8.txt", 7, 1)[0]]))
    assert load_file(path, path.name, MAX).title == "Russia, U.S. agree to continue dialogue"


def test_a_pdf_title_that_names_a_file_is_not_taken_for_the_headline(tmp_path):
    path = tmp_path / "word.pdf"
    path.write_bytes(make_pdf(["Rice met Lavrov in Moscow\nThe talks went on into the night."],
                              title="Microsoft Word - talks_final.docx"))
    assert load_file(path, path.name, MAX).title == "Rice met Lavrov in Moscow"


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf(["A secret page about the talks in Budapest."]))))
    writer.encrypt("secret", algorithm="RC4-128")  # RC4 needs no optional crypto package
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(40, 40, 40)
    pdf.rect(20, 20, 100, 60, style="F")  # a drawn shape, like a scan: no text layer
    return bytes(pdf.output())


def truncated_pdf() -> bytes:
    data = make_pdf(["A page that will be cut in half by a broken download."] * 3)
    return data[: len(data) // 2]


BAD_INPUTS = [
    ("junk.html", lambda: os.urandom(2048) + b"\x00" * 16, "binary"),
    ("script.html", lambda: b"<html><head><script>var a = 1; for (;;) {}</script></head><body><script>"
                            b"document.write('<p>' + 'x' * 10 + '</p>')</script></body></html>", "no article text"),
    ("blank.html", lambda: b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text"),
    ("plain.htm", lambda: b"just words, no markup", "no HTML markup"),
    ("random.pdf", lambda: os.urandom(4096), "not a PDF"),
    ("fake.pdf", lambda: b"%PDF-1.7\n" + os.urandom(4096), "cannot be read"),
    ("cut.pdf", truncated_pdf, "cannot be read|no text layer"),
    ("locked.pdf", encrypted_pdf, "encrypted"),
    ("scan.pdf", image_only_pdf, "no text layer"),
]


@pytest.mark.parametrize("name, make, reason", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_a_bad_page_or_pdf_is_skipped_with_a_one_line_reason(tmp_path, name, make, reason):
    (tmp_path / name).write_bytes(make())
    (tmp_path / "good.txt").write_text("A good article about the Budapest talks.", encoding="utf-8")
    result = load_paths([tmp_path], MAX)
    assert [d.doc_id for d in result.documents] == ["good.txt"]
    (skipped,) = result.skipped
    assert skipped.startswith(f"{name}: ") and "\n" not in skipped
    assert any(part in skipped for part in reason.split("|")), skipped


def test_a_pdf_over_the_size_limit_is_skipped_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.pdf"
    path.write_bytes(make_pdf(["Page text."] * 5))
    with pytest.raises(DocumentError, match="over the .*-byte limit"):
        load_file(path, path.name, 1000)


def test_a_pdf_whose_text_runs_past_the_limit_is_skipped(tmp_path):
    path = tmp_path / "long.pdf"
    data = make_pdf(["word " * 400] * 3)
    path.write_bytes(data)
    with pytest.raises(DocumentError, match="character limit"):
        load_file(path, path.name, max(len(data), 2000))


def test_a_folder_of_pages_and_pdfs_loads_beside_text(tmp_path):
    for layout in LAYOUTS:
        write_page(tmp_path, layout)
    (tmp_path / "talks.pdf").write_bytes(make_pdf(ascii_paragraphs("004_cdaeb251b5d86124.txt", 5, 2)))
    (tmp_path / "note.txt").write_text("MOSCOW, Oct. 12, 2007 – Rice met Lavrov.", encoding="utf-8")
    result = load_paths([tmp_path], MAX)
    assert result.skipped == []
    assert [d.doc_id for d in result.documents] == ["news_site_json_ld.html", "note.txt", "split_by_ads.html",
                                                    "talks.pdf", "wordpress_blog.html"]


def test_a_stranger_s_file_is_read_apart_within_a_time_and_a_memory_limit(tmp_path):
    from embeddings.read_apart import load_file_apart

    ferry = tmp_path / "ferry.pdf"
    ferry.write_bytes(make_pdf(["Harbour council backs the new ferry\nLEEFORD, Nov. 2, 2023 - The harbour council "
                                "voted on Thursday to fund a second ferry.", "The ferry will run from May."]))
    assert load_file_apart(ferry, ferry.name, MAX) == load_file(ferry, ferry.name, MAX)  # the same Document
    slow = tmp_path / "slow.pdf"  # 100,000 text operators: seconds of pypdf's work before any cap can say no
    slow.write_bytes(_pdf_with(b"BT /F1 12 Tf 72 720 Td " + b"(Budapest talks ) Tj " * 100_000 + b"ET"))
    with pytest.raises(DocumentError, match=r"^slow\.pdf: took longer than 0\.5 s to read, so it was left out$"):
        load_file_apart(slow, slow.name, MAX, seconds=0.5)
    heavy = tmp_path / "heavy.pdf"  # 25 MB of zeros, under the 30 MB cap on what its pages may expand to
    heavy.write_bytes(_pdf_with(b"0" * 25_000_000))
    with pytest.raises(DocumentError, match=r"^heavy\.pdf: needs more than 0\.08 GB of memory to read") as caught:
        load_file_apart(heavy, heavy.name, MAX, memory_bytes=80_000_000)
    assert caught.value.plain == "heavy.pdf: is too large to read, so it was not added"
    assert load_file_apart(ferry, ferry.name, MAX).published == "2023-11-02"  # and the next file reads as ever
