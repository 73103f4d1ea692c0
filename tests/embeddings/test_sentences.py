"""The rule-based sentence splitter: where news sentences end and where they do not, and exact offsets."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from embeddings.sentences import sentences_of, split_block


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in split_block(text, 0, len(text))]


def test_a_point_before_a_capital_ends_a_sentence_and_quotes_stay_with_it():
    text = 'The talks ended. "We agreed," he said. Then they left! Why? Nobody knows.'
    assert split(text) == ["The talks ended.", '"We agreed," he said.', "Then they left!", "Why?", "Nobody knows."]


def test_abbreviations_initials_and_acronyms_do_not_end_a_sentence():
    text = ("Mr. Gates met Gen. Baluyevsky on Oct. 12 in Moscow. John F. Kennedy spoke. The U.S. Defense "
            "Secretary left at 5 p.m. Monday.")
    assert split(text) == ["Mr. Gates met Gen. Baluyevsky on Oct. 12 in Moscow.", "John F. Kennedy spoke.",
                           "The U.S. Defense Secretary left at 5 p.m. Monday."]


def test_a_lower_case_word_after_the_point_continues_the_sentence():
    assert split("He said the deal was done. and then left.") == ["He said the deal was done. and then left."]


def test_sentences_run_together_without_a_space_are_split():
    assert split("I kept it in mind.I have two of them.") == ["I kept it in mind.", "I have two of them."]


def test_a_headline_line_and_a_blank_line_end_sentences_but_wrapped_prose_does_not():
    text = ("Russia and U.S. agree to talk\n"
            "Moscow and Washington will continue a dialogue on missile defense plans in Europe, a diplomat said\n"
            "after a meeting between the Russian president and the U.S. defense secretary on Monday in Moscow.\n"
            "\n"
            "Next paragraph here")
    assert split(text) == [
        "Russia and U.S. agree to talk",
        "Moscow and Washington will continue a dialogue on missile defense plans in Europe, a diplomat said\n"
        "after a meeting between the Russian president and the U.S. defense secretary on Monday in Moscow.",
        "Next paragraph here"]


def test_a_piece_without_letters_or_digits_joins_a_neighbour():
    assert split("The end.\n\n—") == ["The end.\n\n—"]
    assert split("***\n\nThe start.") == ["***\n\nThe start."]
    assert split(" ... \n -- ") == ["... \n --"]


def test_sentences_of_covers_every_block():
    text = "One here. Two here.\n\nSkip this furniture\n\nThree here."
    blocks = [(0, 19), (text.index("Three"), len(text))]
    assert [text[s:e] for s, e in sentences_of(text, blocks)] == ["One here.", "Two here.", "Three here."]


words = st.sampled_from(["the", "Talks", "U.S.", "Mr.", "ended.", "Why?", "5", "p.m.", '"Yes,"', "in", "Moscow!",
                         "and", "he", "said.", "F.", "mind.I", "—"])
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  ", "\t"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(words, separators), min_size=1, max_size=40), st.integers(0, 5))
def test_sentences_are_trimmed_ordered_slices_that_keep_every_word(pieces, pad):
    text = " " * pad + "".join(w + s for w, s in pieces)
    spans = split_block(text, pad, len(text))
    assert all(pad <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # in order, disjoint
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    covered = "".join(text[s:e] for s, e in spans)
    assert [c for c in covered if not c.isspace()] == [c for c in text if not c.isspace()]  # nothing falls between
