"""Adding articles while the chat keeps answering: the real indexer in a background thread, then one swap."""

import shutil

import pytest

from qa.assistant import Assistant
from qa.config import Settings
from ui.library import DONE, INDEXING, Library

ARTICLE = ("Harbour news from Bergen\n"
           "The harbour master of Bergen, Ingrid Solheim, opened the new ferry terminal on Monday.\n"
           "She said the terminal would serve two million passengers a year.\n")


@pytest.fixture
def library_parts(tmp_path, seed_index, seeds_copy, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    return Assistant.load(index_dir, Settings(), embedder=embedder), index_dir, seeds_copy


def test_an_added_article_is_answerable_after_indexing_and_the_old_library_answers_meanwhile(tmp_path,
                                                                                            library_parts):
    assistant, index_dir, sources = library_parts
    library = Library(assistant, index_dir, [sources])
    upload = tmp_path / "bergen.txt"
    upload.write_text(ARTICLE, encoding="utf-8")
    result = library.add_files([upload])
    assert result.saved == ["bergen.txt"] and result.refused == []
    if library.busy:  # indexing runs in the background; until it is done the old assistant answers
        assert library.status.state == INDEXING and "bergen.txt" in library.status.message
        assert library.assistant is assistant
    assert library.wait(timeout=120)
    assert library.status.state == DONE
    assert library.status.message == "Added bergen.txt — you can ask about it now."
    fresh = library.assistant
    assert fresh is not assistant and fresh.embedder is assistant.embedder  # the model is not loaded twice
    assert set(fresh.documents) == set(assistant.documents) | {"bergen.txt"}
    assert library.status.articles == len(assistant.documents) + 1
    answer = fresh.answer("Who is the harbour master of Bergen?").answer
    assert answer.doc_id == "bergen.txt" and "Ingrid Solheim" in answer.text


def test_uploads_are_refused_when_the_sources_do_not_hold_the_indexed_articles(tmp_path, library_parts):
    assistant, index_dir, _ = library_parts
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    upload = tmp_path / "bergen.txt"
    upload.write_text(ARTICLE, encoding="utf-8")
    result = Library(assistant, index_dir, [elsewhere]).add_files([upload])
    assert result.saved == [] and result.refused[0].startswith("adding articles is off: 5 indexed article(s)")
    assert list(elsewhere.iterdir()) == []
    assert Library(assistant, index_dir, []).add_files([upload]).refused[0].startswith("adding articles is off")
