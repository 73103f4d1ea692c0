"""The ground floor: what every stage shares (record types, the error tree, settings). It imports nothing of ours.

Importing it sets the compute runtimes' environment (``core.threads.prepare``): OpenMP reads it once, when torch or
faiss first loads, and every module of ours imports ``core`` before either.
"""

from core import threads as _threads

_threads.prepare()
