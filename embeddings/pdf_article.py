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
    from pypdf import PdfReader  # imported here: loading .txt articles should not pay for it

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is encrypted; save an unprotected copy to index it")
        if len(reader.pages) > MAX_PAGES:
            raise DocumentError(f"{name}: has {len(reader.pages):,} pages, over the {MAX_PAGES:,}-page limit")
        texts: list[str] = []
        length = 0
        for page in reader.pages:
            texts.append(page.extract_text() or "")
            length += len(texts[-1]) + len(PAGE_SEPARATOR)
            if length > max_chars:
                raise DocumentError(f"{name}: its text runs past the {max_chars:,}-character limit for one article")
        metadata = reader.metadata
    except DocumentError:
        raise
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
