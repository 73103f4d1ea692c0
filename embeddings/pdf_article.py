"""The text of a PDF, page by page, with the offset where each page starts.

pypdf (BSD-3-Clause, pure Python, maintained) reads the text layer; its licence sits with ours and it needs no
compiled library. A PDF without a text layer (a scan) has nothing to cite, so it is refused rather than guessed at
with OCR.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from core.errors import DocumentError
from embeddings.text_metadata import metadata_line

PAGE_SEPARATOR = "\n\n"  # a paragraph break: the sentence splitter never runs a sentence across two pages
# A title field that names the file the PDF was made from ("Microsoft Word - talks.docx") is not a headline.
_FILE_TITLE = re.compile(r"^Microsoft \w+ - |\.(?:docx?|pdf|odt|rtf|txt|tex|indd|qxd|pages)$", re.IGNORECASE)
MAX_PAGES = 2000  # a news article is a few pages; a bigger file is a book or an attack, not an article
# Bombs: a few KB of compressed zeros or of repeated text operators expand to hundreds of MB or millions of
# characters (issue 23: 27 s and 940 MB kept, or 4.8M characters and 74 s of indexing). A news page's content is
# tens of KB and under 20,000 characters; these caps are far above that and far below the harm.
MAX_EXPANDED_BYTES = 30_000_000  # every page's content streams together, decompressed
MAX_PAGE_CHARS = 100_000


@dataclass(frozen=True)
class PdfArticle:
    text: str
    pages: tuple[int, ...]  # offset in ``text`` where each page starts
    title: str | None
    author: str | None


def extract_pdf(data: bytes, name: str, max_chars: int) -> PdfArticle:
    """Pages' text joined by a blank line; raises DocumentError (one line) for an encrypted, corrupt or image-only
    PDF, or one whose text runs past ``max_chars``."""
    if not data.startswith(b"%PDF-"):
        raise DocumentError(f"{name}: is not a PDF (it does not start with %PDF-)", plain=f"{name}: is not a PDF")
    from pypdf import apply_configuration  # imported here: loading .txt articles should not pay for it

    expands_too_far = DocumentError(f"{name}: its pages expand past {MAX_EXPANDED_BYTES // 1_000_000} MB when "
                                    f"decompressed; not indexed", plain=f"{name}: the PDF is too large inside")
    # pypdf's own caps on one decompressed stream are 75 MB; one stream may not be more than the whole file may.
    caps = {f"{kind}_maximum_output_length": MAX_EXPANDED_BYTES for kind in ("zlib", "lzw", "run_length")}
    with apply_configuration(**caps):
        return _extract(data, name, max_chars, expands_too_far)


def _extract(data: bytes, name: str, max_chars: int, expands_too_far: DocumentError) -> PdfArticle:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is encrypted; save an unprotected copy to index it")
        if len(reader.pages) > MAX_PAGES:
            raise DocumentError(f"{name}: has {len(reader.pages):,} pages, over the {MAX_PAGES:,}-page limit")
        texts: list[str] = []
        length = expanded = 0
        for number, page in enumerate(reader.pages, 1):
            contents = page.get_contents()
            expanded += len(contents.get_data()) if contents is not None else 0
            if expanded > MAX_EXPANDED_BYTES:
                raise expands_too_far
            texts.append(page.extract_text() or "")
            if len(texts[-1]) > MAX_PAGE_CHARS:
                raise DocumentError(f"{name}: page {number} holds {len(texts[-1]):,} characters, over the "
                                    f"{MAX_PAGE_CHARS:,}-character limit for one page; not indexed")
            length += len(texts[-1]) + len(PAGE_SEPARATOR)
            if length > max_chars:
                raise DocumentError(f"{name}: its text runs past the {max_chars:,}-character limit for one article")
        metadata = reader.metadata
    except (DocumentError, MemoryError):  # out of memory is the reader's limit (read_apart), not a damaged file
        raise
    except LimitReachedError:
        raise expands_too_far from None
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on damaged files; each means "skip it"
        detail = " ".join(str(error).split())[:80]
        raise DocumentError(f"{name}: the PDF cannot be read ({type(error).__name__}: {detail})",
                            plain=f"{name}: the PDF is damaged and cannot be read") from None
    if not any(t.strip() for t in texts):
        raise DocumentError(f"{name}: the PDF has no text layer (scanned or image-only); nothing to index")
    pages, offset = [], 0
    for text in texts:
        pages.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    title = _field(metadata, "title")
    return PdfArticle(text=PAGE_SEPARATOR.join(texts), pages=tuple(pages),
                      title=None if title is None or _FILE_TITLE.search(title) else title,
                      author=_field(metadata, "author"))


def _field(metadata, key: str) -> str | None:
    try:
        value = getattr(metadata, key, None) if metadata is not None else None
    except Exception:  # noqa: BLE001 - a damaged info dictionary loses its metadata, not the article
        return None
    return metadata_line(value)
