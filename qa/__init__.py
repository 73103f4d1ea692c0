"""Extractive question answering over news articles, with citations.

Importing this package is cheap; the model loads when the first question is asked.
"""

from core.errors import DocumentError, IndexFolderError, InputError, QAError

__all__ = ["Assistant", "DocumentError", "IndexFolderError", "InputError", "QAError"]


def __getattr__(name):
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(name)
