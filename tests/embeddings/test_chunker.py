import pytest

from core.errors import InputError
from embeddings.analysis import analyse, body_blocks
from embeddings.chunker import Chunker, count_cl100k
from embeddings.cleaner import body_spans
from embeddings.indexer import _sentences_by_block
from embeddings.loader import make_document

TRICKY = ("Talks resume\r\n\r\nThe delegation\u00a0arrived in Geneva on Monday.\tIt met “its counterparts” at noon. "
          "Officials said 🚀 progress was “slow but real.”\r\n\r\nA second paragraph follows here, with emoji 🇺🇦 "
          "and a curly apostrophe in Russia’s reply.\r\nThen a line that continues it without a break!\r\n")


def _chunks(text, chunker):
    document = make_document("t.txt", text)
    analysis = analyse("t.txt", text, body_blocks(text, body_spans(text)))
    return document, chunker.split(document, _sentences_by_block(analysis))


def test_chunk_text_equals_article_slice_on_tricky_text():
    document, chunks = _chunks(TRICKY, Chunker(max_tokens=20, overlap_sentences=1))
    assert len(chunks) >= 3
    for chunk in chunks:
        assert chunk.text == document.text[chunk.start:chunk.end]
        assert chunk.text == chunk.text.strip()


def test_chunk_offsets_are_exact_on_every_seed(assistant):
    for chunk in assistant.data.chunks:
        assert chunk.text == assistant.documents[chunk.doc_id].text[chunk.start:chunk.end]


def test_chunks_stay_under_the_token_limit_and_overlap_by_a_sentence():
    text = " ".join(f"Sentence number {i} says that the talks went on for a while." for i in range(40))
    _, chunks = _chunks(text, Chunker(max_tokens=60, overlap_sentences=1))
    assert all(c.n_tokens <= 60 for c in chunks)
    for previous, current in zip(chunks, chunks[1:]):
        assert current.start < previous.end  # the last sentence of one chunk opens the next
        assert current.start > previous.start


def test_seed_chunks_fit_the_configured_size(assistant):
    limit = assistant.settings.chunk_tokens
    assert all(count_cl100k(c.text) == c.n_tokens <= limit for c in assistant.data.chunks)


def test_no_chunk_is_longer_than_the_embedder_reads(embedder):
    # One enormous sentence, words the embedder splits into many pieces, and one word with no spaces.
    text = ("Zbigniew Brzezinski's Übersetzungsprobleme " * 120 + ". " + "x" * 3000 + ".")
    chunker = Chunker(max_tokens=10_000, model_tokens=embedder.count_tokens, model_max_tokens=embedder.max_tokens)
    document, chunks = _chunks(text, chunker)
    assert chunks
    assert max(embedder.count_tokens([c.text for c in chunks])) <= embedder.max_tokens
    for chunk in chunks:
        assert chunk.text == document.text[chunk.start:chunk.end]


def test_seed_chunks_fit_the_embedder(assistant, embedder):
    assert max(embedder.count_tokens([c.text for c in assistant.data.chunks])) <= embedder.max_tokens


def test_max_tokens_must_be_positive():
    with pytest.raises(InputError, match="max_tokens must be greater than 0"):
        Chunker(max_tokens=0)
