"""Articles added from the chat: check each uploaded file and save it into the uploads folder.

A file is accepted when its name ends in one of ``ARTICLE_SUFFIXES`` (text, web page, PDF), it is at most ``max_bytes`` long, it reads as the
indexer would read it (UTF-8 or a byte-order mark, no NUL bytes, not empty), and no article of that name is in
the library yet. An accepted file is written under a hidden temporary name and then linked to its real name, so
the indexer never sees half a file and an existing article is never overwritten.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DocumentError
from core.records import Document
from embeddings.loader import not_an_article
from embeddings.read_apart import load_file_apart

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class UploadResult:
    saved: list[str] = field(default_factory=list)  # file names, as doc_ids in the first sources folder
    refused: list[str] = field(default_factory=list)  # one-line reasons, one per file left out
    read: dict[str, Document] = field(default_factory=dict)  # what each saved file was read as: not read again


def safe_name(original: str) -> str:
    """A plain file name for an upload: no folders, no leading dot, only letters, digits, ``._ -``.

    "../../etc/x.txt" becomes "x.txt" and "Ünïcode news.md" becomes "_n_code news.md": the name is shown in
    citations and used as the article's id, so it must be readable and unable to point anywhere else.
    """
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    stem = _UNSAFE.sub("_", stem).strip(" .") or "article"
    suffix = suffix.lower() if dot else ""
    return f"{stem[:MAX_NAME_CHARS]}.{suffix}" if dot else stem[:MAX_NAME_CHARS]


def check_upload(path: Path, name: str, existing: set[str], max_bytes: int) -> Document:
    """What ``path`` reads as, joining the library as ``name``; DocumentError (one line, naming the file) where it
    may not. A PDF or a page is read in a separate process with a time and a memory limit (read_apart)."""
    if refusal := not_an_article(name):
        raise DocumentError(refusal)
    if name in existing:
        raise DocumentError(f"{name}: an article of that name is already in the library; rename the file to add it")
    return load_file_apart(path, name, max_bytes)  # size, regular file, encoding, emptiness: the indexer's own


def save_uploads(files: list[str | Path], folder: Path, existing: set[str], max_bytes: int) -> UploadResult:
    """Check ``files`` (paths whose names are the user's file names) and save the good ones into ``folder``.

    ``existing`` holds the names already taken (the library's doc_ids). One bad file never stops the others.
    """
    result = UploadResult()
    taken = set(existing)
    for file in files:
        path = Path(file)
        name = safe_name(path.name)
        try:
            document = check_upload(path, name, taken, max_bytes)
            _save(path.read_bytes(), folder / name)
        except DocumentError as error:
            result.refused.append(error.plain)
            continue
        except OSError as error:
            result.refused.append(f"{name}: could not be saved ({error.strerror or error})")
            continue
        taken.add(name)
        result.saved.append(name)
        result.read[name] = document
    return result


def _save(data: bytes, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")  # hidden: the loader skips it
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)  # fails if the name exists: never overwrite an article
        except FileExistsError:
            raise DocumentError(f"{target.name}: a file of that name is already in the library; rename the file "
                                f"to add it") from None
        except OSError:  # a file system without hard links: check, then rename (a narrow race, not a crash)
            if target.exists():
                raise DocumentError(f"{target.name}: a file of that name is already in the library") from None
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
