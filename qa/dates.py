"""The publication window a question is asked in: ``--since``/``--until``, inclusive ISO dates.

An article is inside the window only when its date is known and falls in it: asked for "since 2013", an article
of unknown date is not evidence of what was said since 2013.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from core.errors import InputError
from core.records import Document


@dataclass(frozen=True)
class DateWindow:
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None

    @classmethod
    def of(cls, since: str | None, until: str | None) -> "DateWindow | None":
        """The window, or None when neither end is given; raises InputError for a date that is not YYYY-MM-DD or
        an empty window."""
        if not since and not until:
            return None
        for name, value in (("since", since), ("until", until)):
            if value and not _is_date(value):
                raise InputError(f"--{name} must be a date like 2013-01-31. Currently, it is {value!r}")
        if since and until and since > until:
            raise InputError(f"--since {since} is after --until {until}: no article can be in that window")
        return cls(since or None, until or None)

    def holds(self, document: Document) -> bool:
        published = document.published
        if not published:
            return False
        return (self.since is None or published >= self.since) and (self.until is None or published <= self.until)


def _is_date(value: str) -> bool:
    """YYYY-MM-DD and a real day (fromisoformat alone also takes "20130131" and "2013-W05-4")."""
    try:
        datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10
