"""The cross-validated comparison of confidence features (``eval.calibrate_reader.compare``)."""

import numpy as np

from eval.calibrate_reader import Asked, auc, compare, weigh


def _asked(n: int = 300, seed: int = 3) -> list[Asked]:
    """Questions of three candidates each: feature 0 tells the right answer and answerability, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    asked = []
    for i in range(n):
        answerable = i % 3 != 0
        quality = np.zeros(3)
        if answerable:
            quality[0] = 1.0
        signal = rng.normal(0, 1, 3) + np.where(quality > 0, 2.5, 0.0)
        features = np.column_stack([signal, rng.normal(0, 1, 3)])
        asked.append(Asked("made", answerable, features, quality, key=f"q{i}"))
    weigh(asked)
    return asked


def test_an_informative_feature_beats_noise_out_of_fold():
    table = compare(_asked(), ("signal", "noise"), {"signal": ("signal",), "noise": ("noise",),
                                                    "both": ("signal", "noise")})
    assert table["signal"]["auc"] > 0.85 > 0.65 > table["noise"]["auc"]
    assert table["signal"]["objective"] > table["noise"]["objective"] + 0.2
    assert table["signal"]["no_answer_recall"] > 0.5 and table["signal"]["no_answer_precision"] > 0.5
    assert table["both"]["questions"] == 300 and table["both"]["unanswerable"] == 100


def test_auc_counts_ties_half_and_needs_both_kinds():
    assert auc([(True, 0.9, 1.0), (False, 0.1, 0.0)]) == 1.0
    assert auc([(True, 0.5, 1.0), (False, 0.5, 0.0)]) == 0.5
    assert auc([(True, 0.5, 1.0)]) is None
