"""The articles the chat answers from: list them, add to them and remove from them while the chat keeps answering.

The library is every article of its folders except the removed ones. The folders are the articles folders that
``qa serve --articles`` names (never written to) and the uploads folder (``Settings.uploads_dir``, by default
``INDEX-uploads`` beside the index), where uploaded and fetched articles are saved. Removing an uploaded article
moves its file to ``.removed/`` in the uploads folder until the remover's next action (so it can be undone), then
deletes it; removing an article of an articles folder lists its id in ``.removed.json`` there instead. Hidden
names are never indexed.

Every change is a numbered job. Jobs only change files and then ask for a rebuild; one background thread rebuilds
the index from the folders as they then are (the indexer re-embeds only new articles and writes atomically), so
jobs queued meanwhile share one rebuild. The old assistant answers until the new one is loaded, and is then
replaced by one attribute assignment: a question sees either the old library or the new one. The browser session
that started a job asks for its state by number, so what one person did is never shown to another.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.errors import DocumentError, InputError, QAError
from core.files import write_atomically
from core.memory import give_back_memory
from core.records import Document
from embeddings.loader import load_paths
from ui.uploads import UploadResult, save_uploads

JobState = Literal["indexing", "done", "failed"]
REMOVED_FILE = ".removed.json"
TRASH_FOLDER = ".removed"
UPLOADS_SUFFIX = "-uploads"


def default_uploads_dir(index_dir: Path) -> Path:
    """``.qa-index`` → ``.qa-index-uploads``, beside it: never inside the index, which is replaced whole."""
    index_dir = Path(index_dir).absolute()
    return index_dir.with_name(index_dir.name + UPLOADS_SUFFIX)


def removed_ids(uploads: Path) -> set[str]:
    """The articles-folder articles removed in the chat (listed in the uploads folder): no rebuild brings them back."""
    try:
        return set(json.loads((uploads / REMOVED_FILE).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, TypeError) as error:
        raise DocumentError(f"{uploads / REMOVED_FILE} cannot be read ({error})") from None


@dataclass(frozen=True)
class Job:
    number: int
    state: JobState
    message: str  # one line for the person who started it


@dataclass(frozen=True)
class Article:
    """One row of the library panel."""

    doc_id: str
    title: str
    source: str | None
    published: str | None
    passages: int
    added: float | None  # when its file was saved (seconds since the epoch), if it can be told
    uploaded: bool  # in the uploads folder, so removing it deletes the file
    url: str | None = None  # the address a fetched page came from


@dataclass
class _Pending:
    number: int
    done: str  # the message once the rebuild has run
    expected: list[str] = field(default_factory=list)  # doc_ids that must be in the library afterwards


class Library:
    def __init__(self, assistant, index_dir: Path | None = None, folders: list[Path] | None = None,
                 uploads_dir: Path | None = None):
        self._assistant = assistant
        self.index_dir = Path(assistant.index_dir if index_dir is None else index_dir)
        self.folders = [Path(p) for p in ([] if folders is None else folders)]
        configured = assistant.settings.uploads_dir
        self.uploads = Path(uploads_dir if uploads_dir is not None else configured or
                            default_uploads_dir(self.index_dir))
        self._lock = threading.Lock()
        # The removal list is read, changed and written whole; two removals at once must not both read the old one.
        self._removed_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._jobs: dict[int, Job] = {}
        self._worker: threading.Thread | None = None
        self._refusal: str | None = None
        self._checked = False
        self._catalog: tuple[object, list[Article]] | None = None
        # Uploads as they were read apart when saved (ui/uploads.py): a rebuild does not read them again here.
        self._read_apart: dict[str, Document] = {}
        self._read_apart_lock = threading.Lock()
        # Removals not undone by the last start were final: their sessions are gone. One made just before a crash
        # may still be in the index: it is not foreign to these folders, and the start's sync drops it.
        trash = self.uploads / TRASH_FOLDER
        self._final_removals = frozenset(p.name for p in trash.iterdir()) if trash.is_dir() else frozenset()
        shutil.rmtree(trash, ignore_errors=True)

    @property
    def assistant(self):
        return self._assistant  # one read of one attribute: never half of a swap

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def job(self, number: int) -> Job | None:
        return self._jobs.get(number)

    # What is in it.

    def articles(self) -> list[Article]:
        """Every article the chat answers from now, the newest added first (what a person just added is at the
        top), then by title; computed once per loaded index."""
        assistant = self._assistant
        if self._catalog is not None and self._catalog[0] is assistant:
            return self._catalog[1]
        passages = assistant.passage_counts()
        uploads = os.path.realpath(self.uploads)
        rows = []
        for document in assistant.documents.values():
            path = os.path.realpath(document.path)
            try:
                added = os.stat(path).st_mtime
            except OSError:
                added = None
            rows.append(Article(document.doc_id, document.title, document.source, document.published,
                                passages.get(document.doc_id, 0), added,
                                os.path.dirname(path) == uploads, document.url))
        rows.sort(key=lambda a: (-(a.added or 0.0), a.title.casefold(), a.doc_id))
        self._catalog = (assistant, rows)
        return rows

    # Changes.

    def changes_refusal(self) -> str | None:
        """Why articles cannot be added or removed here, or ``None`` when they can.

        A rebuild makes the index hold exactly the articles of the folders; if the index holds articles that are
        not there (the server was started with other folders), a rebuild would drop them, so changes are off.
        """
        with self._lock:
            if not self._checked:
                self._refusal, _ = self._find_refusal()
                self._checked = True
            return self._refusal

    def _find_refusal(self) -> tuple[str | None, list[Document]]:
        """(why changes are off or ``None``, the articles of the folders): one read of every file serves both."""
        if not self.folders:
            return "adding and removing articles is off: this server was started without an articles folder", []
        try:
            self.uploads.mkdir(parents=True, exist_ok=True)
            documents = self._load().documents
        except (OSError, QAError) as error:
            return f"adding and removing articles is off: {getattr(error, 'strerror', None) or error}", []
        foreign = sorted(set(self._assistant.documents) - {d.doc_id for d in documents} - self._final_removals
                         - self._gone_uploads())
        if foreign:
            return (f"adding and removing articles is off: {len(foreign)} article(s) of the index (e.g. "
                    f"{foreign[0]}) are not in the folders this server was started with"), documents
        return None, documents

    def _gone_uploads(self) -> set[str]:
        """Indexed articles whose file was in the uploads folder and is gone: removed, and forgotten (the remover's
        next action) before the rebuild that drops them was swapped in, as a kill then leaves them. The folder is
        the library's own, so they are not another folder's articles: the start's sync drops them."""
        return {a.doc_id for a in self.articles() if a.uploaded and a.added is None}  # no file to date it by

    def check_changes(self) -> None:
        """Raise InputError (one line) when articles cannot be added or removed here."""
        refusal = self.changes_refusal()
        if refusal is not None:
            raise InputError(refusal)

    def add_files(self, files: list[str | Path]) -> tuple[int | None, UploadResult]:
        """Save the acceptable ``files`` into the uploads folder and start indexing them: (job number or None
        when nothing was saved, what was saved and refused)."""
        refusal = self.changes_refusal()
        if refusal is not None:
            return None, UploadResult(refused=[refusal])
        existing = set(self._assistant.documents) | self._queued_names()
        result = save_uploads(files, self.uploads, existing, self._assistant.settings.max_file_bytes)
        with self._read_apart_lock:
            self._read_apart.update(result.read)
        if not result.saved:
            return None, result
        number = self._submit(f"Added {_names(result.saved)} — you can ask about "
                              f"{'it' if len(result.saved) == 1 else 'them'} now.", result.saved)
        return number, result

    def add_saved(self, document: Document) -> int:
        """Index ``document``, read from a file already saved into the uploads folder (a fetched page)."""
        self.check_changes()
        with self._read_apart_lock:
            self._read_apart[document.doc_id] = document
        return self._submit(f"Added “{document.title}” — you can ask about it now.", [document.doc_id])

    def remove(self, doc_id: str) -> int:
        """Take ``doc_id`` out of the library (undo with ``restore`` until ``forget``); returns the job number."""
        self.check_changes()
        article = next((a for a in self.articles() if a.doc_id == doc_id), None)
        if article is None:
            raise InputError(f"{doc_id} is not in the library")
        if len(self._assistant.documents) <= 1:
            raise InputError("the library needs at least one article; add another before removing this one")
        try:
            if article.uploaded:
                trash = self.uploads / TRASH_FOLDER
                trash.mkdir(exist_ok=True)
                os.replace(self.uploads / doc_id, trash / doc_id)
            else:
                self._change_removed(lambda removed: removed | {doc_id})
        except OSError as error:
            raise DocumentError(f"{doc_id} could not be removed ({error.strerror or error})") from None
        return self._submit(f"Removed {doc_id}.", [])

    def restore(self, doc_id: str) -> int:
        """Undo ``remove(doc_id)``; returns the job number."""
        self.check_changes()
        trashed = self.uploads / TRASH_FOLDER / doc_id
        try:
            if trashed.is_file():
                os.replace(trashed, self.uploads / doc_id)
            elif not self._change_removed(lambda removed: removed - {doc_id}):
                raise InputError(f"{doc_id} can no longer be restored")
        except OSError as error:
            raise DocumentError(f"{doc_id} could not be restored ({error.strerror or error})") from None
        return self._submit(f"Restored {doc_id}.", [doc_id])

    def forget(self, doc_id: str) -> None:
        """The undo of removing ``doc_id`` has passed: delete its file for good (articles folders keep theirs)."""
        (self.uploads / TRASH_FOLDER / doc_id).unlink(missing_ok=True)

    def sync(self) -> int:
        """Make the index hold the library's articles now (``qa serve`` at start: uploads made while the index was
        rebuilt from the articles folders alone); returns how many articles were added or dropped."""
        refusal, documents = self._find_refusal()
        with self._lock:
            self._refusal, self._checked = refusal, True
        if refusal is not None:
            return 0
        wanted = self._without_removed(documents)
        changed = len({d.doc_id for d in wanted} ^ set(self._assistant.documents))
        if changed:
            self._rebuild(wanted)
        return changed

    # The background rebuild.

    def _queued_names(self) -> set[str]:
        with self._lock:
            return {name for pending in self._queue for name in pending.expected}

    def _submit(self, done: str, expected: list[str]) -> int:
        with self._lock:
            number = len(self._jobs) + 1
            self._jobs[number] = Job(number, "indexing", f"Indexing {_names(expected)}…" if expected
                                     else "Updating the library…")
            self._queue.append(_Pending(number, done, list(expected)))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="qa-indexer", daemon=True)
                self._worker.start()
        return number

    def _work(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._worker = None
                    return
            try:
                self._rebuild()
            except QAError as error:
                self._finish(batch, failed=f"The library is unchanged: {error}")
                continue
            except Exception as error:  # noqa: BLE001 - the worker must report, never die silently
                traceback.print_exc(file=sys.stderr)
                self._finish(batch, failed=f"The library is unchanged: internal error ({type(error).__name__})")
                continue
            self._finish(batch)

    def _finish(self, batch: list[_Pending], failed: str | None = None) -> None:
        documents = self._assistant.documents
        with self._lock:
            for pending in batch:
                missing = [name for name in pending.expected if name not in documents]
                if failed is not None:
                    self._jobs[pending.number] = Job(pending.number, "failed", " ".join(failed.split()))
                elif missing:
                    self._jobs[pending.number] = Job(pending.number, "failed",
                                                     f"Could not add {_names(missing)}.")
                else:
                    self._jobs[pending.number] = Job(pending.number, "done", pending.done)

    def _rebuild(self, documents: list[Document] | None = None) -> None:
        """Index ``documents`` (by default the library's articles as the folders hold them now) and swap in the
        assistant that answers from them."""
        from embeddings.indexer import index_documents

        old = self._assistant
        documents = self._without_removed(self._load().documents) if documents is None else documents
        if not documents:
            raise DocumentError("the library would be empty")
        index_documents(documents, self.index_dir, old.settings, embedder=old.embedder)
        fresh = type(old).load(self.index_dir, old.settings, embedder=old.embedder)
        self._assistant = fresh
        del old
        give_back_memory()

    def _without_removed(self, documents: list[Document]) -> list[Document]:
        removed = self._removed()
        return [d for d in documents if d.doc_id not in removed]

    def _load(self):
        """The folders' articles now; a file unchanged since the index read it is not read again."""
        assistant = self._assistant
        with self._read_apart_lock:  # once indexed, an upload is read back from the index (and its text freed here)
            self._read_apart = {k: d for k, d in self._read_apart.items() if k not in assistant.documents}
            read_before = {**self._read_apart, **assistant.documents}
        return load_paths([*self.folders, self.uploads], assistant.settings.max_file_bytes, read_before)

    def _removed(self) -> set[str]:
        return removed_ids(self.uploads)

    def _change_removed(self, change) -> bool:
        """Apply ``change`` (a set of ids to a set of ids) to the removal list, one change at a time, and write it
        whole; False when it changed nothing."""
        with self._removed_lock:
            removed = self._removed()
            changed = change(removed)
            if changed == removed:
                return False
            write_atomically(self.uploads / REMOVED_FILE, json.dumps(sorted(changed), ensure_ascii=False).encode())
            return True

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no rebuild is running (tests and shutdown); False if it is still running at ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = self._worker
            if worker is None:
                return True
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        return self._worker is None


def _names(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"
