"""spaCy runs only for the reader that reads its parse: the trained reader's index and questions never load it,
and switching to the feature reader adds the parse without re-embedding anything."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys

import numpy as np

from core.config import FEATURE_READER, Settings
from embeddings.index_store import read_index
from embeddings.indexer import index_paths
from qa.assistant import Assistant
from qa.conversation import Conversation, answer_mentions
from tests.conftest import ROOT, SEEDS

BUDAPEST = "Who led the Russian delegation in Budapest?"


def test_the_default_index_stores_sentences_and_no_parse(seed_index):
    data = read_index(seed_index, Settings())
    assert data.analyses and not any(a.parsed or a.token_start or a.entities for a in data.analyses)
    assert all(a.sentences for a in data.analyses)
    rows = [json.loads(line) for line in (seed_index / "analysis.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(set(row) == {"doc_id", "blocks", "sentences", "parsed"} for row in rows)


def test_a_cold_ask_with_the_trained_reader_never_imports_spacy(seed_index):
    script = ("import sys; from cli.main import main; code = main(['ask', %r, '--index', %r]); "
              "print('SPACY' if 'spacy' in sys.modules else 'NO-SPACY'); sys.exit(code)") % (BUDAPEST, str(seed_index))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Kislyak" in result.stdout
    assert result.stdout.strip().endswith("NO-SPACY")


def test_the_feature_reader_on_an_index_without_the_parse_parses_in_memory_and_says_so(seed_index, embedder,
                                                                                       caplog):
    with caplog.at_level(logging.WARNING):
        assistant = Assistant.load(seed_index, Settings(reader=FEATURE_READER), embedder=embedder)
    assert "holds no parse for the feature reader" in caplog.text and "QA_READER=features" in caplog.text
    assert all(a.parsed and a.token_start for a in assistant.data.analyses)
    response = assistant.answer(BUDAPEST)
    assert response.answer is not None and "Kislyak" in response.answer.text
    text = assistant.documents[response.answer.doc_id].text
    assert text[response.answer.start:response.answer.end] == response.answer.text
    assert not any(a.parsed for a in read_index(seed_index, Settings()).analyses)  # the folder is left alone


def test_indexing_for_the_feature_reader_adds_the_parse_and_re_embeds_nothing(seed_index, embedder, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir, symlinks=True)
    before = read_index(index_dir, Settings())
    report = index_paths([SEEDS], index_dir, Settings(reader=FEATURE_READER), embedder=embedder)
    assert sorted(report.parsed) == sorted(d.doc_id for d in before.documents)
    assert report.embedded_texts == 0 and not report.added and not report.changed
    assert "parsed 5 for the feature reader" in report.summary()
    after = read_index(index_dir, Settings())
    assert all(a.parsed and a.entities for a in after.analyses)
    assert [a.sentences for a in after.analyses] == [a.sentences for a in before.analyses]
    assert np.array_equal(after.chunk_vectors, before.chunk_vectors)
    assert np.array_equal(after.sentence_vectors, before.sentence_vectors)
    again = index_paths([SEEDS], index_dir, Settings(reader=FEATURE_READER), embedder=embedder)
    assert not again.parsed and not again.added and not again.changed
    # Back to the trained reader: the stored parse stays and nothing is rebuilt.
    back = index_paths([SEEDS], index_dir, Settings(), embedder=embedder)
    assert not back.parsed and not back.added and all(a.parsed for a in read_index(index_dir, Settings()).analyses)


def test_answer_entities_come_from_the_answers_sentence_when_the_index_holds_no_parse(assistant):
    response = Conversation(assistant).ask(BUDAPEST)
    assert response.answer is not None
    mentions = answer_mentions(assistant, response.answer)
    assert any(m.label == "PERSON" and "Kislyak" in m.text for m in mentions), mentions
    text = assistant.documents[response.answer.doc_id].text
    assert all(m.text in text for m in mentions)


def test_a_follow_up_question_looks_up_the_previous_answers_entities_only_then(assistant):
    conversation = Conversation(assistant)
    conversation.ask(BUDAPEST)
    assert conversation.turns[-1].answer_mentions is None  # one question parses nothing
    second = conversation.ask("What did he say about the talks?")
    assert [m.text for m in conversation.turns[0].answer_mentions] == ["Sergei Kislyak"]  # looked up for the follow-up
    assert second.resolved_question.startswith("What did Sergei Kislyak say about the talks?")
