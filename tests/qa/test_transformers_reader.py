"""The transformer reader's plumbing, with a tiny randomly initialised QA model built here (its answers are noise;
what is tested is that whatever it picks is an exact article span, top-k holds, and long passages do not crash)."""

import pytest

from core.config import Settings
from qa.assistant import Assistant
from tests.conftest import assert_offsets_exact


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, embedder) -> str:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from embeddings.embedder import resolve_model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-qa")
    # The packaged embedder's WordPiece tokenizer is a real fast tokenizer with offsets, and it is on disk.
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(Settings().embedding_model), local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def reader_assistant(seed_index, embedder, tiny_model):
    settings = Settings(reader=f"transformers:{tiny_model}", abstain_threshold=0.0, max_answers=4)
    return Assistant.load(seed_index, settings, embedder=embedder)


def test_transformer_answers_are_exact_article_spans(reader_assistant):
    response = reader_assistant.answer("who led the Russian delegation in Budapest?")
    assert response.answers
    assert_offsets_exact(reader_assistant.documents, response)


def test_transformer_reader_keeps_top_k_distinct_answers(reader_assistant):
    response = reader_assistant.answer("When were the Budapest talks held?")
    assert 1 <= len(response.answers) <= 4
    spans = [(a.doc_id, a.start, a.end) for a in response.answers]
    assert len(set(spans)) == len(spans)
    assert all(0.0 <= a.score <= 1.0 for a in response.answers)


def test_transformer_reader_reads_passages_longer_than_its_window(tmp_path, embedder, tiny_model):
    from embeddings.indexer import index_paths

    long_article = " ".join(f"Sentence {i} says the envoy met officials in Vienna on day {i}." for i in range(120))
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "long.txt").write_text(long_article, encoding="utf-8")
    # Chunks of 600 cl100k tokens are longer than the reader's 384-token window, so windows overlap.
    settings = Settings(reader=f"transformers:{tiny_model}", abstain_threshold=0.0, chunk_tokens=600)
    index_paths([tmp_path / "articles"], tmp_path / "index", settings, embedder=embedder)
    assistant = Assistant.load(tmp_path / "index", settings, embedder=embedder)
    response = assistant.answer("Where did the envoy meet officials?")
    for answer in response.answers:
        assert long_article[answer.start:answer.end] == answer.text


def test_unknown_model_path_is_a_clear_error(seed_index, embedder, tmp_path):
    from core.errors import InputError

    assistant = Assistant.load(seed_index, Settings(reader=f"transformers:{tmp_path / 'nope'}"), embedder=embedder)
    with pytest.raises(InputError, match="cannot load QA model"):
        assistant.answer("who?")
