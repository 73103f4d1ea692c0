"""Every error raised on purpose is a ``QAError``, so the CLI and the UI show it as one line, never "internal error"."""

import json

import pytest

from core.errors import QAError
from core.records import Answer, Chunk, Document
from qa.citations import cite
from qa.feature_reader import WEIGHTS_FILE, load_weights


def test_reader_weights_fitted_for_other_features_are_a_qa_error(tmp_path):
    weights = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    weights["span_features"] = {"a_feature_we_do_not_compute": 1.0}
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(weights), encoding="utf-8")
    with pytest.raises(QAError, match="was fitted for other features; refit"):
        load_weights(path)


def test_an_answer_no_chunk_holds_is_a_qa_error_that_says_how_to_rebuild():
    document = Document("a.txt", "a.txt", "A", "Kislyak led it.", "0")
    chunk = Chunk(0, "a.txt", 0, 8, "Kislyak ", 2)
    answer = Answer("led it", "a.txt", 8, 14, 0.9, chunk_id=-1)
    with pytest.raises(QAError, match="no chunk of a.txt holds \\[8, 14\\).*rebuild it with `qa index`"):
        cite([answer], [], {"a.txt": document}, [chunk], top_k=1)

