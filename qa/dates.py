"""The publication window a question is asked in: ``--since``/``--until``, inclusive ISO dates.

Articles whose date is known and outside the window are left out. Articles of unknown date are kept, and their
citations say "date unknown": most articles never state their date in a form we can read, and leaving them out
silently turned answerable questions into "Not found" (issue 22). The response counts both, so a person sees
what the window did.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from core.errors import InputError
from core.records import Document, WindowCount


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
                raise InputError(f"--{name} must be a date like 2013-01-31. Currently, it is {value!r}",
                                 plain=f"“{value}”: a date must be written like 2013-01-31")
        if since and until and since > until:
            raise InputError(f"--since {since} is after --until {until}: no article can be in that window",
                             plain=f"{since} is after {until}: no article can be published between them")
        return cls(since or None, until or None)

    def holds(self, document: Document) -> bool:
        """Is ``document`` searched: inside the window, or of unknown date."""
        return not document.published or self.inside(document.published)

    def inside(self, published: str) -> bool:
        return (self.since is None or published >= self.since) and (self.until is None or published <= self.until)

    def count(self, documents) -> WindowCount:
        """How the window sorts ``documents``: inside, undated (kept), outside (left out)."""
        dates = [d.published for d in documents]
        inside = sum(1 for p in dates if p and self.inside(p))
        undated = sum(1 for p in dates if not p)
        return WindowCount(self.since, self.until, inside, undated, len(dates) - inside - undated)


def _is_date(value: str) -> bool:
    """YYYY-MM-DD and a real day (fromisoformat alone also takes "20130131" and "2013-W05-4")."""
    try:
        datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10
