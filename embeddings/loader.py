"""Read articles from files and folders into ``Document`` records.

A ``.txt``/``.md`` article's text is the file exactly as decoded; a web page's is the article text trafilatura
extracts (embeddings/html_article.py), a PDF's its pages' text (embeddings/pdf_article.py). Either way every
offset the index keeps points into ``Document.text``, and ``sha256`` is of the file's bytes, which decide
re-indexing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import DocumentError
from core.records import ARTICLE_SUFFIXES, KINDS, PAGE_SUFFIXES, PDF_SUFFIXES, Document
from embeddings.html_article import extract_page
from embeddings.pdf_article import extract_pdf
from embeddings.text_metadata import (HEADLINE_WORDS, author_of, dateline_date, first_line, found_headline,
                                      source_of, without_dateline)

NAME_WORDS = 8  # an article without a headline is named by its file and this many of its first words
_BOMS = (("utf-8-sig", b"\xef\xbb\xbf"), ("utf-32", b"\xff\xfe\x00\x00"), ("utf-32", b"\x00\x00\xfe\xff"),
         ("utf-16", b"\xff\xfe"), ("utf-16", b"\xfe\xff"))


# What reads an article: these modules and libraries. Their fingerprint is kept with each Document, so a rebuild
# reads again only files whose bytes or rules changed (a PDF or a page takes 0.05-1 s; hashing its bytes, ~1 ms).
_PARSER_MODULES = ("loader.py", "text_metadata.py", "html_article.py", "pdf_article.py")
_PARSER_LIBRARIES = ("trafilatura", "pypdf")


# Kinds people try to add that are not read here, named as people know them.
_OTHER_KINDS = {".docx": "a Word document", ".doc": "a Word document", ".odt": "an OpenDocument text",
                ".rtf": "a rich-text document", ".epub": "an e-book", ".pages": "a Pages document",
                ".zip": "a zip archive"}


def not_an_article(name: str, strict: bool = True) -> str | None:
    """Why a file of this name cannot be added, in one line, or None where its kind is read. Not ``strict``
    (a file named on the command line): only the kinds above, since a text file may have any name."""
    suffix = Path(name).suffix.lower()
    if suffix in ARTICLE_SUFFIXES or (not strict and suffix not in _OTHER_KINDS):
        return None
    if suffix in _OTHER_KINDS:
        return (f"{name}: {_OTHER_KINDS[suffix]} can't be added; save it as PDF or plain text first (articles are "
                f"{KINDS})")
    kind = f"a {suffix} file" if suffix else "a file without an extension"
    return f"{name}: {kind} can't be added (articles are {KINDS})"


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one-line reasons, one per file left out
    reused: list[str] = field(default_factory=list)  # doc_ids taken as read before: same bytes, same rules


@functools.cache
def parser_fingerprint() -> str:
    """A digest of the code and library versions that turn a file into a Document."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _PARSER_MODULES:
        digest.update((here / name).read_bytes())
    for library in _PARSER_LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_article(data: bytes, name: str) -> str:
    """Decode a file's bytes: a BOM names the encoding, else UTF-8; anything else is refused, not guessed.

    Guessing a legacy code page silently corrupts names ("Lavrov" survives, "Kislyak's" curly quote does not),
    and a wrong answer copied from a corrupted text is worse than a clear refusal.
    """
    for encoding, bom in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise DocumentError(f"{name}: starts with a {encoding} byte-order mark but does not decode as it",
                                    plain=f"{name}: its text is damaged and cannot be read") from None
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: looks like a binary file (it contains NUL bytes), not a text article",
                            plain=f"{name}: is not a text file, so no article can be read from it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{name}: is not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            f"convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8`",
            plain=f"{name}: its text is not in UTF-8 (Unicode); save it as UTF-8 and add it again"
        ) from None


def readable_size(size: int) -> str:
    """A size as a reader of a web page says it: "101 bytes", "60 KB", "6.2 MB"."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"


def title_of(text: str, doc_id: str = "") -> str:
    """An article's name: its headline by general rules (embeddings/text_metadata.py); else its first line when
    that is short enough to be a name; else its file's name and its first words. A first sentence cut at 200
    characters made cards that looked alike and ended mid-word."""
    headline = found_headline(text)
    if headline is not None:
        return headline
    words = first_line(text).split()
    if len(words) <= HEADLINE_WORDS[1]:
        return " ".join(words)
    opening = " ".join(without_dateline(" ".join(words)).split()[:NAME_WORDS]) + " …"
    return f"{Path(doc_id).stem}: {opening}" if doc_id else opening


def make_document(doc_id: str, text: str, path: str = "", title: str | None = None) -> Document:
    """A Document for text that did not come from a file (SQuAD paragraphs, uploads)."""
    return Document(doc_id=doc_id, path=path, title=title_of(text, doc_id) if title is None else title, text=text,
                    sha256=sha256_hex(text.encode("utf-8")))


def load_file(path: Path, doc_id: str, max_bytes: int, read_before: Document | None = None) -> Document:
    """Load one article; raises DocumentError with a one-line reason. ``read_before``: the Document this file
    gave last time, returned as it is (at this path) when the bytes and the parser are the same."""
    try:
        doc_id.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name: it could not be written to the index or shown
        raise DocumentError(f"{doc_id.encode('utf-8', 'backslashreplace').decode()}: the file name is not UTF-8; "
                            f"rename the file") from None
    if refusal := not_an_article(doc_id, strict=False):
        raise DocumentError(refusal)
    try:
        if not path.is_file():  # a pipe or a device would block or never end
            raise DocumentError(f"{doc_id}: is not a regular file", plain=f"{doc_id}: is not a file")
        size = path.stat().st_size
        if size > max_bytes:
            # "is 5 MB; an article may be at most 5 MB" would read as no reason at all.
            said = readable_size(size) if readable_size(size) != readable_size(max_bytes) else f"{size:,} bytes"
            raise DocumentError(f"{doc_id}: is {size:,} bytes, over the {max_bytes:,}-byte limit for one article",
                                plain=f"{doc_id}: is {said}; an article may be at most {readable_size(max_bytes)}")
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
        if len(data) > max_bytes:
            raise DocumentError(f"{doc_id}: is over the {max_bytes:,}-byte limit for one article",
                                plain=f"{doc_id}: is larger than {readable_size(max_bytes)}, the most an article "
                                      f"may be")
    except OSError as error:
        raise DocumentError(f"{doc_id}: cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise DocumentError(f"{doc_id}: is empty")
    if unchanged(read_before, data):
        return replace(read_before, path=str(path))
    return document_of(data, doc_id, str(path), max_bytes)


def unchanged(read_before: Document | None, data: bytes) -> bool:
    """Whether ``read_before`` is what the current rules would make of ``data`` (same bytes, same parser)."""
    return (read_before is not None and read_before.parser == parser_fingerprint()
            and read_before.sha256 == sha256_hex(data))


def document_of(data: bytes, doc_id: str, path: str, max_chars: int) -> Document:
    """The Document for a file's bytes, read by its suffix; raises DocumentError with a one-line reason."""
    suffix = Path(doc_id).suffix.lower()
    sha, parser = sha256_hex(data), parser_fingerprint()
    if suffix in PAGE_SUFFIXES:
        page = extract_page(data, doc_id)
        return Document(doc_id=doc_id, path=path, title=page.title or title_of(page.text, doc_id), text=page.text,
                        sha256=sha, published=page.published, source=page.source or source_of(page.text),
                        author=page.author or author_of(page.text), url=page.url, parser=parser)
    if suffix in PDF_SUFFIXES:
        pdf = extract_pdf(data, doc_id, max_chars)
        # The dateline, as for plain text; never the file's creation date, which a browser's "Save as PDF" sets
        # to the day of saving, years after the article.
        return Document(doc_id=doc_id, path=path, title=pdf.title or title_of(pdf.text, doc_id), text=pdf.text,
                        sha256=sha, author=pdf.author or author_of(pdf.text), source=source_of(pdf.text),
                        pages=pdf.pages, published=dateline_date(pdf.text), parser=parser)
    text = decode_article(data, doc_id)
    if not text.strip():
        raise DocumentError(f"{doc_id}: is empty")
    return Document(doc_id=doc_id, path=path, title=title_of(text, doc_id), text=text, sha256=sha,
                    published=dateline_date(text), source=source_of(text), author=author_of(text), parser=parser)


def _article_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in ARTICLE_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def load_paths(paths: list[Path], max_bytes: int, read_before: Mapping[str, Document] | None = None) -> LoadResult:
    """Load every article under the given files and folders.

    ``doc_id`` is the path relative to the folder it was found in (a file named directly keeps its own name).
    A file that cannot be read is skipped with a reason, so one bad file loses nothing else; a path that does
    not exist is an error, since the user named it. ``read_before`` (by doc_id: an index's documents) spares
    reading again a file whose bytes and parser are unchanged.
    """
    result = LoadResult()
    seen: set[str] = set()
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise DocumentError(f"{root}: no such file or folder")
        if root.is_dir():
            try:
                files = [(f, f.relative_to(root).as_posix()) for f in _article_files(root)]
            except OSError as error:
                raise DocumentError(f"{root}: cannot be listed ({error.strerror or error})") from None
        else:
            files = [(root, root.name)]
        for file, doc_id in files:
            if doc_id in seen:
                result.skipped.append(f"{file}: another article already has the id {doc_id}")
                continue
            before = read_before.get(doc_id) if read_before else None
            try:
                document = load_file(file, doc_id, max_bytes, before)
                if before is not None and document.text is before.text:  # the same object: not read again
                    result.reused.append(doc_id)
                result.documents.append(document)
                seen.add(doc_id)
            except DocumentError as error:
                result.skipped.append(str(error))
    return result
