"""The question encoder's arithmetic (``question_precision``): float32 on request, bfloat16 only where native."""

import numpy as np
import pytest

from core.config import Settings, load_settings
from core.errors import InputError
from embeddings.embedder import Embedder, native_bf16

QUESTIONS = ["Who led the Russian delegation in Budapest?", "When did Putin suspend the CFE Treaty?"]


def test_questions_are_encoded_as_articles_are_by_default(embedder):
    assert embedder.question_arithmetic == "float32"
    assert np.array_equal(embedder.encode_questions(QUESTIONS), embedder.encode(QUESTIONS))


def test_bfloat16_only_where_the_cpu_has_it(embedder):
    fast = Embedder(question_precision="bfloat16")
    fast._model = embedder.model  # the same loaded weights: only the arithmetic differs
    assert fast.question_arithmetic == ("bfloat16" if native_bf16() else "float32")
    assert np.all((fast.encode_questions(QUESTIONS) * embedder.encode(QUESTIONS)).sum(axis=1) > 0.9999)


def test_a_bad_question_precision_is_one_line_and_the_environment_reaches_it():
    with pytest.raises(InputError, match="question_precision must be one of"):
        Settings(question_precision="int8")
    assert load_settings({"QA_QUESTION_PRECISION": "float32"}).question_precision == "float32"
