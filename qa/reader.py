"""What a reader is: the contract every reader keeps, and the one table ``make_reader`` picks them from.

A reader is given the analysed question, its vector and the retrieved passages, and returns answers best first,
each a span of its article (``Answer.text == article_text[start:end]``) with a confidence in [0, 1]. Its
``threshold`` is the confidence under which the assistant says the articles do not answer (unless the settings
name one). It is built from the corpus, the settings and the argument after the name in ``--reader NAME:ARGUMENT``.

A new reader is one module with a class that keeps ``Reader`` and one entry in ``READERS``.
"""

from __future__ import annotations

import importlib
import math
from typing import Protocol, runtime_checkable

import numpy as np

from core.config import Settings
from core.errors import InputError
from core.records import Answer, Hit
from qa.corpus import Corpus
from qa.question import QuestionAnalysis


@runtime_checkable
class Reader(Protocol):
    threshold: float  # abstain below this confidence
    likely: float  # from this confidence on an answer is called "likely" (a measured accuracy where calibrated)

    @classmethod
    def from_settings(cls, corpus: Corpus, settings: Settings, argument: str) -> Reader:
        """The reader for an index; ``argument`` is what follows ``NAME:`` in ``settings.reader`` ("" if nothing).
        Raises ``InputError`` for an argument it cannot use. Cheap: models load on the first question."""

    def read(self, question: QuestionAnalysis, vector: np.ndarray, hits: list[Hit], top_k: int) -> list[Answer]:
        """At most ``top_k`` answers, best first; none when the passages hold nothing worth answering."""


# A reader whose confidence was not measured against an accuracy calls "likely" what it finds more likely than not.
UNCALIBRATED_LIKELY = 0.5

# name -> (module, class, how ``--reader`` names it). Modules are imported only when their reader is chosen, so
# choosing one never loads another's dependencies (spaCy, transformers).
READERS = {
    "trained": ("qa.trained_reader", "TrainedReader", "'trained', 'trained:PATH'"),
    "features": ("qa.feature_reader", "FeatureReader", "'features'"),
    "transformers": ("qa.transformers_reader", "TransformersReader", "'transformers:NAME_OR_PATH'"),
}


def make_reader(corpus: Corpus, settings: Settings) -> Reader:
    """The reader ``settings.reader`` names (``NAME`` or ``NAME:ARGUMENT``, NAME a key of ``READERS``)."""
    name, _, argument = settings.reader.partition(":")
    if name not in READERS:
        usages = [usage for _, _, usage in READERS.values()]
        raise InputError(f"unknown reader {settings.reader!r}; use {', '.join(usages[:-1])} or {usages[-1]}")
    module, class_name, _ = READERS[name]
    return getattr(importlib.import_module(module), class_name).from_settings(corpus, settings, argument)


def sigmoid(logit: float) -> float:
    """The logistic function, clamped so a wild logit neither overflows nor reaches exactly 0 or 1."""
    return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))
