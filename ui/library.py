"""The articles the chat answers from, and adding to them while the chat keeps answering.

``Library.assistant`` is the current ``Assistant``. ``add_files`` saves checked uploads into the first sources
folder and indexes in a background thread, one run at a time (files added meanwhile join the next run); the
old assistant keeps answering until the new index is written (atomically, by the indexer) and loaded, and is then
replaced by one attribute assignment under a lock, so a question sees either the old library or the new one.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from embeddings.loader import load_paths
from qa.errors import QAError
from ui.uploads import UploadResult, save_uploads

READY, INDEXING, DONE, FAILED = "ready", "indexing", "done", "failed"


@dataclass(frozen=True)
class IndexStatus:
    state: str  # READY, INDEXING, DONE or FAILED
    message: str  # one line for the user ("" when there is nothing to say)
    articles: int  # articles the chat answers from now
    passages: int


class Library:
    def __init__(self, assistant, index_dir: Path | None = None, sources: list[Path] | None = None):
        self._assistant = assistant
        self.index_dir = Path(assistant.index_dir if index_dir is None else index_dir)
        self.sources = [Path(p) for p in ([] if sources is None else sources)]
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._worker: threading.Thread | None = None
        self._status = self._make_status(READY, "")

    @property
    def assistant(self):
        return self._assistant  # one read of one attribute: never half of a swap

    @property
    def status(self) -> IndexStatus:
        return self._status

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _make_status(self, state: str, message: str, assistant=None) -> IndexStatus:
        assistant = self._assistant if assistant is None else assistant
        return IndexStatus(state, message, len(assistant.documents), len(assistant.data.chunks))

    def uploads_refusal(self) -> str | None:
        """Why articles cannot be added here, or ``None`` when they can.

        Indexing makes the index hold exactly the articles under ``sources``; if the index holds articles that are
        not there (the server was started with other folders), indexing would drop them, so uploads are refused.
        """
        if not self.sources:
            return "adding articles is off: the server was started without a sources folder (qa serve --sources)"
        folder = self.sources[0]
        if not folder.is_dir():
            return f"adding articles is off: the sources folder {folder} does not exist"
        try:
            present = {d.doc_id for d in load_paths(self.sources, self._assistant.settings.max_file_bytes).documents}
        except QAError as error:
            return f"adding articles is off: {error}"
        missing = sorted(set(self._assistant.documents) - present)
        if missing:
            return (f"adding articles is off: {len(missing)} indexed article(s) (e.g. {missing[0]}) are not in "
                    f"{', '.join(map(str, self.sources))}; start qa serve with --sources naming the folders the "
                    f"index was built from")
        return None

    def add_files(self, files: list[str | Path]) -> UploadResult:
        """Save the acceptable ``files`` and start indexing them; returns what was saved and what was refused."""
        refusal = self.uploads_refusal()
        if refusal is not None:
            return UploadResult(refused=[refusal])
        with self._lock:
            existing = set(self._assistant.documents) | set(self._pending)
        result = save_uploads(files, self.sources[0], existing, self._assistant.settings.max_file_bytes)
        if result.saved:
            self._start(result.saved)
        return result

    def _start(self, names: list[str]) -> None:
        with self._lock:
            self._pending.extend(names)
            self._status = self._make_status(INDEXING, f"Indexing {_names(self._pending)}…")
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="qa-indexer", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        from embeddings.indexer import index_paths

        while True:
            with self._lock:
                names, self._pending = self._pending, []
                if not names:
                    self._worker = None
                    return
                self._status = self._make_status(INDEXING, f"Indexing {_names(names)}…")
            old = self._assistant
            try:
                index_paths(self.sources, self.index_dir, old.settings, embedder=old.embedder)
                fresh = type(old).load(self.index_dir, old.settings, embedder=old.embedder)
            except QAError as error:
                self._set_failed(f"Could not add {_names(names)}: {error}")
                continue
            except Exception as error:  # noqa: BLE001 - the worker must report, never die silently
                traceback.print_exc(file=sys.stderr)
                self._set_failed(f"Could not add {_names(names)}: internal error ({type(error).__name__}); "
                                 f"the library is unchanged")
                continue
            added = [n for n in names if n in fresh.documents]
            left_out = [n for n in names if n not in fresh.documents]
            message = f"Added {_names(added)} — you can ask about {'it' if len(added) == 1 else 'them'} now." \
                if added else ""
            if left_out:
                message += f" Not indexed: {_names(left_out)}."
            with self._lock:
                self._assistant = fresh
                self._status = self._make_status(DONE if added else FAILED, message.strip(), fresh)

    def _set_failed(self, message: str) -> None:
        with self._lock:
            self._status = self._make_status(FAILED, " ".join(message.split()))

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until no indexing is running (tests and shutdown); False if it is still running at ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = self._worker
            if worker is None:
                return True
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        return self._worker is None


def _names(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"
