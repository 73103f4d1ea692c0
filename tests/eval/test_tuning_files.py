"""The SQuAD-format files of our own: the encyclopedia paragraphs (reported, never fitted) and the news tuning
set (fitted). Every answer must sit at its offset, and the tuning articles must not be the seeds."""

import json
from pathlib import Path

import pytest

from eval.datasets import load_gold

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "eval" / "squad_encyclopedia.json", ROOT / "eval" / "tune_news.json"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_answer_is_the_text_at_its_offset(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    checked = 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                assert bool(qa.get("is_impossible")) == (not qa["answers"]), qa["id"]
                for answer in qa["answers"]:
                    start = answer["answer_start"]
                    assert context[start:start + len(answer["text"])] == answer["text"], qa["id"]
                    checked += 1
    assert checked > 40


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_loads_with_unique_ids_and_some_unanswerable_questions(path):
    gold = load_gold(path)
    assert len({q.id for q in gold.questions}) == len(gold.questions)
    assert 0 < sum(not q.answers for q in gold.questions) < len(gold.questions) / 3


def test_news_tuning_set_is_large_and_not_made_of_the_seeds():
    gold = load_gold(ROOT / "eval" / "tune_news.json")
    assert len(gold.questions) >= 250 and len(gold.source_documents) >= 20
    seed_lines = {line.strip() for p in (ROOT / "seeds").glob("*.txt")
                  for line in p.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 40}
    assert not any(line.strip() in seed_lines for d in gold.source_documents for line in d.text.splitlines())
