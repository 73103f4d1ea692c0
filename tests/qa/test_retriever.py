"""Retrieval on real indexes: the hybrid finds names BM25 alone would, and copies do not crowd out sources."""

import shutil

from core.config import Settings
from embeddings.indexer import index_paths
from qa.assistant import Assistant


def test_hybrid_retrieval_puts_the_answer_passage_first(assistant):
    hits = assistant.answer("Which interceptor missiles did the US drop plans to deploy in Poland?").hits
    assert "SM-3 IIB" in hits[0].chunk.text


def test_a_duplicated_article_does_not_crowd_out_other_sources(seeds_copy, tmp_path, embedder):
    original = seeds_copy / "000_0027d40a27e5cdba.txt"
    shutil.copy(original, seeds_copy / "copy_of_000.txt")
    index_paths([seeds_copy], tmp_path / "index", embedder=embedder)
    assistant = Assistant.load(tmp_path / "index", Settings(), embedder=embedder)
    hits = assistant.answer("who led the Russian delegation in Budapest?", k=5).hits
    texts = [h.chunk.text for h in hits]
    assert len(texts) == len(set(texts))  # the copy's passages are dropped, not listed twice
    assert {h.chunk.doc_id for h in hits[:5]} - {"000_0027d40a27e5cdba.txt", "copy_of_000.txt"}


def test_each_stage_can_be_switched_off(seed_index, embedder):
    question = "Who was Russia's defense minister at the 2013 2+2 consultations in Washington?"
    for switches in ({"dense": False}, {"lexical": False}, {"sentence_rescoring": False}):
        assistant = Assistant.load(seed_index, Settings(**switches), embedder=embedder)
        assert assistant.answer(question).hits


def test_a_follow_up_prefers_the_article_it_leans_on_only_when_the_bonus_is_on(seed_index, embedder):
    question = "When did the two sides meet?"
    plain = Assistant.load(seed_index, Settings(), embedder=embedder)
    leaning = Assistant.load(seed_index, Settings(followup_article_bonus=1.0), embedder=embedder)
    docs = sorted(plain.documents)
    unpreferred = plain.answer(question).hits
    target = next(d for d in docs if d != unpreferred[0].chunk.doc_id)
    assert [h.chunk.chunk_id for h in plain.answer_batch([question], prefer=[target])[0].hits] == \
        [h.chunk.chunk_id for h in unpreferred]  # bonus 0: the preference changes nothing
    hits = leaning.answer_batch([question], prefer=[target])[0].hits
    n_target = sum(1 for c in leaning.data.chunks if c.doc_id == target)
    assert {h.chunk.doc_id for h in hits[:min(n_target, len(hits))]} == {target}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.chunk.chunk_id for h in leaning.answer_batch([question], prefer=[None])[0].hits] == \
        [h.chunk.chunk_id for h in unpreferred]


def test_a_year_the_question_names_lifts_the_articles_published_that_year_only_when_the_bonus_is_on(seed_index,
                                                                                                 embedder):
    plain = Assistant.load(seed_index, Settings(), embedder=embedder)
    lifting = Assistant.load(seed_index, Settings(year_bonus=5.0), embedder=embedder)
    dated = {d.doc_id for d in plain.documents.values() if d.published and d.published.startswith("2007")}
    assert dated  # the seeds' two articles dated 2007-10-12
    question = "What did the ministers discuss in 2007?"
    lifted = lifting.answer(question).hits
    assert {h.chunk.doc_id for h in lifted[:3]} <= dated
    assert [h.chunk.chunk_id for h in plain.answer(question).hits] != [h.chunk.chunk_id for h in lifted]
    for other in ("What did the ministers discuss in 1999?", "What did the ministers discuss?"):
        assert [h.chunk.chunk_id for h in lifting.answer(other).hits] == \
            [h.chunk.chunk_id for h in plain.answer(other).hits]
