"""Training as the reader reads: tokenised groups point at the answer's tokens, and the shared loss is the
negative log-likelihood over every window of a question (hand-computed on tiny logits)."""

import math

import pytest

torch = pytest.importorskip("torch")

from eval.group_training import EncodedGroup, Piece, collate, encode, group_loss, split_pieces  # noqa: E402


@pytest.fixture(scope="module")
def tokenizer():
    from qa.reader_model import load_reader_model

    return load_reader_model(None)[0]


def test_the_answer_tokens_cover_exactly_the_answer(tokenizer):
    texts = ["The talks were held in Budapest.", "The Russian delegation was led by Sergei Kislyak."]
    answer = texts[1].index("Sergei Kislyak")
    groups = encode(tokenizer, ["Who led the Russian delegation?"], [texts],
                    [[(-1, -1), (answer, answer + len("Sergei Kislyak"))]], ["answerable"], ["test"], 64, 16)
    (group,) = groups
    assert len(group.pieces) == 2 and len(group.gold) == 1
    piece_index, start, end = group.gold[0]
    piece = group.pieces[piece_index]
    assert piece.window == 1
    assert texts[1][piece.offsets[start][0]:piece.offsets[end][1]] == "Sergei Kislyak"


def _piece(n: int) -> Piece:
    return Piece(tuple(range(1, n + 1)), (0,) * n, (1, n - 1), tuple((i, i + 1) for i in range(n)), 0)


def test_shared_loss_normalises_over_every_window_of_a_question():
    # Two pieces of 4 tokens, context tokens 1..3 each, so 2 x (3 + [CLS]) = 8 choices; with equal logits the
    # loss of one gold position is log 8, and of "no answer" ([CLS] of either piece) log 8 - log 2.
    answered = EncodedGroup((_piece(4), _piece(4)), ((1, 2, 2),), "answerable", "t")
    unanswered = EncodedGroup((_piece(4), _piece(4)), (), "swap", "t")
    for group, expected in ((answered, math.log(8)), (unanswered, math.log(4))):
        ids, types, mask, rows, allowed, gold_start, gold_end = collate([group], 0)
        zeros = torch.zeros(ids.shape)
        assert group_loss(zeros, zeros, rows, allowed, gold_start, gold_end).item() == pytest.approx(expected)


def test_window_objective_trains_each_piece_on_its_own():
    group = EncodedGroup((_piece(4), _piece(4)), ((1, 2, 3),), "answerable", "t")
    alone = split_pieces([group])
    assert [g.gold for g in alone] == [(), ((0, 2, 3),)]
    ids, types, mask, rows, allowed, gold_start, gold_end = collate(alone, 0)
    zeros = torch.zeros(ids.shape)
    assert group_loss(zeros, zeros, rows, allowed, gold_start, gold_end).item() == pytest.approx(math.log(4))
