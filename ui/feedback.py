"""Thumbs up/down on answers, appended to a JSON-lines file (one object a line, never rewritten).

Each line: ``timestamp`` (UTC, ISO 8601), ``vote`` ("up" or "down"), ``question`` as typed, ``resolved_question``,
``answer`` (``null`` for "not found"), ``doc_id``, ``start``, ``end`` (the answer's offsets in its article),
``score``, ``citations`` (the doc_ids shown, in order). Lines are written whole under a lock, so two votes at once
never interleave.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from core.errors import InputError, QAError
from core.records import Response

VOTES = ("up", "down")


class FeedbackLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, response: Response, vote: str, now: datetime | None = None) -> dict:
        """Append one vote on ``response``; returns the line written. Raises InputError for a bad vote."""
        if vote not in VOTES:
            raise InputError(f"a vote must be 'up' or 'down'. Currently, vote is {vote!r}")
        answer = response.answer
        line = {
            "timestamp": (datetime.now(timezone.utc) if now is None else now).isoformat(timespec="seconds"),
            "vote": vote,
            "question": response.question,
            "resolved_question": response.resolved_question,
            "answer": None if answer is None else answer.text,
            "doc_id": None if answer is None else answer.doc_id,
            "start": None if answer is None else answer.start,
            "end": None if answer is None else answer.end,
            "score": None if answer is None else round(answer.score, 4),
            "citations": [c.doc_id for c in response.citations],
        }
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "ab") as handle:
                    handle.write(data)  # one write of one line: O_APPEND keeps it whole
            except OSError as error:
                raise QAError(f"could not save the vote to {self.path}: {error.strerror or error}") from None
        return line
