"""How many threads the compute runtimes use and how they wait: one place, set before torch and FAISS load.

PyTorch and FAISS each bring a copy of GNU OpenMP (libgomp), sized to every core, whose idle threads spin at each
barrier before they sleep (300,000 turns: milliseconds). Beside another busy process on two cores, a spinning
thread holds the core that the thread it waits for needs: warm questions went from 47 ms quiet to 388 ms beside
one busy loop and a p95 of 2 s beside two (bench/bench_busy.py). Waiting passively, they took 66-74 ms beside the
same neighbours, against 76 ms quiet: a quiet question pays about 1.6x for it (every barrier of a forward pass
sleeps and wakes), which ``GOMP_SPINCOUNT=10000`` buys back on a machine known to be idle (README).

libgomp reads its environment once, when it loads, so ``prepare`` runs when ``core`` is imported, before anything
of ours imports torch or faiss. A variable already set is kept: a person's choice wins.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

THREADS_VARIABLE = "QA_THREADS"  # also Settings.threads' own override (core.config)
# The standard one (libgomp and LLVM's OpenMP both obey it), libgomp's own and LLVM/Intel OpenMP's: set any, and
# the others stay as the runtime has them.
WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


COMPUTE_THREAD = "qa-compute"
_compute: ThreadPoolExecutor | None = None
_compute_lock = threading.Lock()


def usable_cores() -> int:
    """The cores this process may run on (a container's or ``taskset``'s limit, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def thread_count(setting: int = 0, environ: dict | None = None) -> int:
    """``setting`` when positive, else ``QA_THREADS`` when it is a positive integer, else the usable cores."""
    if setting > 0:
        return setting
    raw = (os.environ if environ is None else environ).get(THREADS_VARIABLE, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else usable_cores()


def prepare(environ: dict | None = None) -> None:
    """Set the runtimes' environment: passive waits, pools of ``thread_count()``, no tokenizer pool."""
    environ = os.environ if environ is None else environ
    if not any(name in environ for name in WAIT_VARIABLES):
        environ["OMP_WAIT_POLICY"] = "PASSIVE"
    environ.setdefault("OMP_NUM_THREADS", str(thread_count(environ=environ)))
    # The Rust tokenizers' own pool: a question is a few dozen tokens, and its threads would spin beside ours.
    environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def apply(setting: int = 0) -> int:
    """Size PyTorch's and FAISS's pools to ``thread_count(setting)`` (one pool for the encoder and the reader:
    they take turns, never run at once) and return it. Cheap to call again."""
    import faiss
    import torch

    threads = thread_count(setting)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        try:  # nothing of ours runs torch ops side by side; allowed only before the first inter-op work
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    faiss.omp_set_num_threads(threads)
    return threads


def on_compute_thread(function, *args, **kwargs):
    """``function(*args, **kwargs)`` run on the process's one compute thread: what it returns, or what it raises.

    Every model forward pass runs there. Each thread that runs torch keeps buffers of its own (oneDNN's scratch,
    the allocator's per-thread arenas) for good: 16 threads asking at once left a process 285 MB larger, and a
    server's 40 request threads grew it by half a gigabyte (bench/soak.py); funnelled through one thread, the same
    questions left it 4 MB larger. The passes ran one at a time already (each model has its lock), so no question
    waits longer for it.
    """
    global _compute
    if threading.current_thread().name.startswith(COMPUTE_THREAD):
        return function(*args, **kwargs)
    with _compute_lock:
        if _compute is None:
            _compute = ThreadPoolExecutor(1, thread_name_prefix=COMPUTE_THREAD)
    return _compute.submit(function, *args, **kwargs).result()
