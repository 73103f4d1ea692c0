"""Consistency checks for the hand-written gold sets in eval/.

Only json/hashlib/pathlib are used, so these tests run without the QA stack.
"""

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
GOLD_QA = ROOT / "eval" / "gold_qa.json"
GOLD_CONV = ROOT / "eval" / "gold_conversations.json"

TYPES = {"who", "when", "where", "what", "how-many", "why", "unanswerable"}
SPLITS = {"tune", "test"}
TAGS = {"paraphrase", "disambiguation"}
SITE_FURNITURE = (
    "LEAVE A REPLY",
    "GlobalSecurity.org mailing list",
    "UNITED24",
    "Subscribe",
    "Newsfeed",
    "Please enter your",
    "Post a Comment",
)

_cache = {}


def _load(path):
    if path not in _cache:
        _cache[path] = json.loads(path.read_text(encoding="utf-8"))
    return _cache[path]


def _qa():
    return _load(GOLD_QA)


def _questions():
    return _qa()["questions"]


def _dialogues():
    return _load(GOLD_CONV)["dialogues"]


def _turns():
    return [(d["id"], i, t) for d in _dialogues() for i, t in enumerate(d["turns"])]


def _seed_texts():
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def _all_items():
    """(label, item) for every question and every conversation turn."""
    items = [(q["id"], q) for q in _questions()]
    items += [(f"{cid} turn {i + 1}", t) for cid, i, t in _turns()]
    return items


# ---------------------------------------------------------------- documents


def test_document_hashes_equal_sha256_of_seed_files():
    documents = _qa()["documents"]
    seeds = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SEEDS.glob("*.txt")}
    assert seeds, "no seed articles found"
    assert documents == seeds


def test_every_named_document_is_a_listed_seed():
    documents = _qa()["documents"]
    for label, item in _all_items():
        if item["doc"] is not None:
            assert item["doc"] in documents, f"{label}: unknown doc {item['doc']!r}"


# ---------------------------------------------------------------- answers (both files)


def test_every_answer_occurs_verbatim_in_some_seed_article():
    texts = list(_seed_texts().values())
    for label, item in _all_items():
        for answer in item["answers"]:
            assert any(answer in t for t in texts), f"{label}: {answer!r} is in no article"


def test_named_document_contains_at_least_one_answer():
    texts = _seed_texts()
    for label, item in _all_items():
        if item["doc"] is not None:
            assert any(a in texts[item["doc"]] for a in item["answers"]), label


def test_every_answer_occurs_verbatim_in_its_document():
    texts = _seed_texts()
    for label, item in _all_items():
        for answer in item["answers"]:
            assert answer in texts[item["doc"]], f"{label}: {answer!r} not in {item['doc']}"


def test_answers_are_listed_shortest_first():
    for label, item in _all_items():
        lengths = [len(a) for a in item["answers"]]
        assert lengths == sorted(lengths), f"{label}: {item['answers']}"


def test_answers_are_distinct_trimmed_nonempty_strings():
    for label, item in _all_items():
        answers = item["answers"]
        assert len(set(answers)) == len(answers), label
        for a in answers:
            assert isinstance(a, str) and a and a == a.strip(), f"{label}: {a!r}"


def test_answerable_items_have_a_document_and_answers():
    for label, item in _all_items():
        if item["doc"] is not None:
            assert item["answers"], label
        else:
            assert item["answers"] == [], label


def test_no_answer_is_site_furniture():
    for label, item in _all_items():
        for a in item["answers"]:
            for junk in SITE_FURNITURE:
                assert junk.lower() not in a.lower(), f"{label}: {a!r}"


def test_questions_are_nonempty_and_end_with_question_mark():
    for label, item in _all_items():
        q = item["question"]
        assert isinstance(q, str) and q.strip() == q and q.endswith("?"), f"{label}: {q!r}"


# ---------------------------------------------------------------- gold_qa.json


def test_gold_qa_has_version_1():
    assert _qa()["version"] == 1


def test_question_ids_are_unique():
    ids = [q["id"] for q in _questions()]
    assert len(ids) == len(set(ids))


def test_question_texts_are_unique():
    texts = [q["question"].lower() for q in _questions()]
    assert len(texts) == len(set(texts))


def test_first_question_is_the_budapest_example():
    q = _questions()[0]
    assert q["id"] == "q001"
    assert q["question"].lower() == "who led the russian delegation in budapest?"
    assert "Sergei Kislyak" in q["answers"]
    assert q["doc"] == "000_0027d40a27e5cdba.txt"


def test_types_are_in_the_allowed_set():
    for q in _questions():
        assert q["type"] in TYPES, q["id"]


def test_splits_and_tags_are_in_the_allowed_sets():
    for q in _questions():
        assert q["split"] in SPLITS, q["id"]
        assert isinstance(q["tags"], list) and set(q["tags"]) <= TAGS, q["id"]


def test_unanswerable_questions_have_no_answers_and_no_doc():
    for q in _questions():
        if q["type"] == "unanswerable":
            assert q["answers"] == [] and q["doc"] is None, q["id"]
        else:
            assert q["answers"] and q["doc"] is not None, q["id"]


def test_there_are_at_least_80_questions():
    assert len(_questions()) >= 80


def test_there_are_at_least_15_paraphrase_questions():
    assert sum("paraphrase" in q["tags"] for q in _questions()) >= 15


def test_there_are_at_least_8_disambiguation_questions():
    assert sum("disambiguation" in q["tags"] for q in _questions()) >= 8


def test_there_are_at_least_8_unanswerable_questions():
    assert sum(q["type"] == "unanswerable" for q in _questions()) >= 8


def test_every_type_is_used():
    assert {q["type"] for q in _questions()} == TYPES


def test_about_one_third_of_questions_are_held_out_for_test():
    qs = _questions()
    share = sum(q["split"] == "test" for q in qs) / len(qs)
    assert 0.25 <= share <= 0.40, share


def test_every_type_and_tag_appears_in_both_splits():
    qs = _questions()
    for t in TYPES:
        assert {q["split"] for q in qs if q["type"] == t} == SPLITS, t
    for tag in TAGS:
        assert {q["split"] for q in qs if tag in q["tags"]} == SPLITS, tag


# ---------------------------------------------------------------- gold_conversations.json


def test_gold_conversations_has_version_1():
    assert _load(GOLD_CONV)["version"] == 1


def test_there_are_at_least_15_dialogues():
    assert len(_dialogues()) >= 15


def test_dialogue_ids_are_unique():
    ids = [d["id"] for d in _dialogues()]
    assert len(ids) == len(set(ids))


def test_every_dialogue_has_two_to_four_turns():
    for d in _dialogues():
        assert 2 <= len(d["turns"]) <= 4, d["id"]


def test_at_least_two_conversation_turns_are_unanswerable():
    assert sum(t["doc"] is None and t["answers"] == [] for _, _, t in _turns()) >= 2


def test_some_dialogues_change_to_another_article():
    switching = [
        d["id"]
        for d in _dialogues()
        if len({t["doc"] for t in d["turns"] if t["doc"] is not None}) > 1
    ]
    assert switching


def test_first_dialogue_is_the_budapest_example():
    d = _dialogues()[0]
    assert d["id"] == "c01"
    doc = "000_0027d40a27e5cdba.txt"
    assert d["turns"] == [
        {"question": "Who led the Russian delegation in Budapest?",
         "answers": ["Sergei Kislyak", "Deputy Foreign Minister Sergei Kislyak"], "doc": doc},
        {"question": "And who led the US delegation?",
         "answers": ["John C. Rood",
                     "Acting Under Secretary of State for Arms Control and International Security, John C. Rood"],
         "doc": doc},
        {"question": "When was that meeting?", "answers": ["December 13", "Thursday, December 13"], "doc": doc},
    ]
