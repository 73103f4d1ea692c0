"""Read a file a stranger gave (an upload to the chat) in a separate process with a time and a memory limit.

A crafted PDF or page can make its parser run for minutes or grow by gigabytes below every cap the parser itself
knows (pypdf's per-stream limit let 12 pages of 70 MB of zeros through; 100k text operators took 74 s), and memory
a Python process once takes it rarely gives back. Read in a child, such a file costs at most ``seconds`` and
``memory_bytes``, and whatever it took ends with the child. Plain text is read here: decoding is bounded by the
file's size.

    python -m embeddings.read_apart PATH DOC_ID MAX_BYTES MEMORY_BYTES   (the child: one Document as JSON)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from core.errors import DocumentError
from core.records import TEXT_SUFFIXES, Document
from embeddings.loader import load_file

READ_SECONDS = 30.0
READ_MEMORY_BYTES = 2_000_000_000  # address space of the child, its libraries included (~0.3 GB of it)
_OUT_OF_MEMORY = 3  # the child's exit status when the memory limit stopped it


def load_file_apart(path: Path, doc_id: str, max_bytes: int, seconds: float = READ_SECONDS,
                    memory_bytes: int = READ_MEMORY_BYTES) -> Document:
    """``load_file`` with its limits; raises DocumentError with a one-line reason."""
    if Path(doc_id).suffix.lower() in TEXT_SUFFIXES:
        return load_file(path, doc_id, max_bytes)
    command = [sys.executable, "-m", "embeddings.read_apart", str(path), doc_id, str(max_bytes), str(memory_bytes)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"{doc_id}: took longer than {seconds:g} s to read, so it was left out",
                            plain=f"{doc_id}: took too long to read, so it was not added") from None
    if done.returncode == _OUT_OF_MEMORY:
        raise DocumentError(f"{doc_id}: needs more than {memory_bytes / 1e9:g} GB of memory to read, so it was "
                            f"left out", plain=f"{doc_id}: is too large to read, so it was not added")
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        said = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit status {done.returncode}"])
        raise DocumentError(f"{doc_id}: its reader stopped ({said[-1][:120]})",
                            plain=f"{doc_id}: could not be read") from None
    if "error" in reply:
        raise DocumentError(reply["error"], plain=reply["plain"])
    return Document.from_json(reply["document"])


def main(argv: list[str]) -> int:
    path, doc_id, max_bytes, memory_bytes = argv
    resource.setrlimit(resource.RLIMIT_AS, (int(memory_bytes), int(memory_bytes)))
    try:
        reply = {"document": asdict(load_file(Path(path), doc_id, int(max_bytes)))}
    except DocumentError as error:
        reply = {"error": str(error), "plain": error.plain}
    except MemoryError:
        return _OUT_OF_MEMORY
    sys.stdout.write(json.dumps(reply))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
