"""The listwise fit behind the reader's weights, on lists whose answer a known feature marks."""

from pathlib import Path

import numpy as np

from eval.fit_reader import bounds_for, fit_weights


def _lists(rng, n=60):
    lists = []
    for _ in range(n):
        x = rng.normal(size=(6, 3))
        right = int(rng.integers(6))
        x[:, 0] = 0.0
        x[right, 0] = 1.0  # feature 0 marks the answer; feature 1 is noise
        x[:, 2] = -x[:, 0] + rng.normal(scale=0.1, size=6)  # feature 2 points the other way
        target = np.zeros(6)
        target[right] = 1.0
        lists.append((x, target))
    return lists


def test_fit_puts_the_mass_on_the_marked_option():
    lists = _lists(np.random.default_rng(0))
    w = fit_weights(lists)
    assert w[0] > 1.0 and w[2] < 0.0
    hits = sum(int(np.argmax(x @ w)) == int(np.argmax(t)) for x, t in lists)
    assert hits == len(lists)


def test_sign_bounds_hold_even_against_the_data():
    w = fit_weights(_lists(np.random.default_rng(1)), bounds=[(None, None), (None, None), (0.0, None)])
    assert w[2] >= 0.0 and w[0] > 0.0


def test_bounds_follow_the_feature_names():
    assert bounds_for(["type_match", "question_overlap", "log_length"]) == [(0.0, None), (None, 0.0), (None, None)]


def test_a_missing_tuning_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    from eval.fit_reader import main

    out = tmp_path / "weights.json"
    gold = Path(__file__).resolve().parents[2] / "eval" / "gold_qa.json"
    assert main(["--gold", str(gold), "--tune", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "missing.json" in error and error.count("\n") == 1
    assert not out.exists()
