"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, then one rename: a reader sees the old file
    or the new one, never half of one. The temporary name is hidden (the loader skips it) and unique to this
    write, so two writers at once never write into each other's file (one name per process lost removals)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(temporary, "xb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the folder may not even be one
            temporary.unlink()
        raise
