"""core.memory: the server's heap settings reach glibc."""

import ctypes.util
import subprocess
import sys
from pathlib import Path

import pytest

GLIBC = (ctypes.util.find_library("c") or "").startswith("libc.so")


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_threads_share_the_capped_heaps(tmp_path):
    # In a child: the cap holds for the rest of the process it is set in, and the suite runs on many threads.
    script = """
import threading
from core.memory import fewer_heaps
assert fewer_heaps(1)
blocks = []
def grow():
    blocks.append(bytearray(100_000))
threads = [threading.Thread(target=grow) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
stream = libc.fopen(sys.argv[1].encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
"""
    report = tmp_path / "malloc_info.xml"
    subprocess.run([sys.executable, "-c", script, str(report)], check=True, cwd=Path(__file__).parents[1])
    assert report.read_text().count("<heap nr=") == 1

