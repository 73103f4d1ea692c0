"""Follow-up dialogues made by rule (real spaCy): the second question leans on the first as a person's would."""

import json

from embeddings.analysis import load_nlp
from eval.datasets import GoldQuestion, load_gold
from eval.make_followups import as_gold_file, gender_near, main, make_followups

ARTICLE = ("Deputy Foreign Minister Anna Petrova led the Valdorian delegation at the talks in Geneva on Tuesday. "
           "She said the two sides would meet again in April, and her deputy, Tomas Herceg, agreed. He said "
           "his government wanted guarantees. Petrova told reporters that she expected progress.")


def _question(qid, question, answer, split="tune"):
    return GoldQuestion(qid, question, (answer,), "talks.txt", "other", split)


def test_the_pronoun_is_the_one_the_article_uses_near_the_name():
    assert gender_near("Anna Petrova", ARTICLE) == "she"
    assert gender_near("Tomas Herceg", ARTICLE) == "he"
    assert gender_near("Nobody Here", ARTICLE) is None


def test_a_name_the_first_turn_answered_becomes_a_pronoun_and_a_place_it_named_becomes_there():
    questions = [_question("a", "Who led the Valdorian delegation?", "Anna Petrova"),
                 _question("b", "When did Anna Petrova say the sides would meet again?", "in April"),
                 _question("c", "Which delegation did Petrova lead in Geneva?", "the Valdorian delegation"),
                 _question("d", "What did the talks in Geneva decide?", "to meet again")]
    made = {f.second.id: f for f in make_followups(questions, {"talks.txt": ARTICLE}, load_nlp(), per_article=10)}
    assert made["b"].question == "When did she say the sides would meet again?"
    assert "person" in made["b"].kind
    assert "there" in made["c"].question or "she" in made["c"].question.lower()
    for followup in made.values():
        assert followup.first.doc == followup.second.doc and followup.first.id != followup.second.id
        assert followup.question != followup.second.question


def test_a_title_goes_with_the_name_it_stands_before():
    questions = [_question("a", "Who led the Valdorian delegation?", "Anna Petrova"),
                 _question("b", "What did Minister Anna Petrova tell reporters?", "that she expected progress")]
    made = make_followups(questions, {"talks.txt": ARTICLE}, load_nlp(), per_article=10)
    assert [f.question for f in made if f.second.id == "b"] == ["What did she tell reporters?"]


def test_the_file_is_a_gold_conversation_file_and_the_test_split_stays_out(tmp_path):
    gold = tmp_path / "gold.json"
    (tmp_path / "talks.txt").write_text(ARTICLE, encoding="utf-8")
    rows = [("a", "Who led the Valdorian delegation?", "Anna Petrova", "tune"),
            ("b", "When did Anna Petrova say the sides would meet again?", "in April", "tune"),
            ("c", "What did Anna Petrova tell reporters?", "that she expected progress", "test")]
    gold.write_text(json.dumps({"version": 1, "documents": {"talks.txt": None}, "questions": [
        {"id": i, "question": q, "answers": [a], "doc": "talks.txt", "split": s} for i, q, a, s in rows]}))
    out = tmp_path / "followups.json"
    assert main([str(gold), "--articles", str(tmp_path), "--out", str(out)]) == 0
    dialogues = load_gold(out).dialogues
    assert dialogues and all(len(d.turns) == 2 for d in dialogues)
    asked = {t.question for d in dialogues for t in d.turns} | {
        t["made_from"] for d in json.loads(out.read_text())["dialogues"] for t in d["turns"] if "made_from" in t}
    assert "What did Anna Petrova tell reporters?" not in asked


def test_without_articles_the_command_says_so_in_one_line(tmp_path, capsys):
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps({"version": 1, "questions": [
        {"id": "a", "question": "Who?", "answers": ["x"], "doc": "x.txt"}]}))
    assert main([str(gold), "--out", str(tmp_path / "out.json")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (tmp_path / "x.txt").write_text("An article.", encoding="utf-8")
    assert main([str(gold), "--articles", str(tmp_path), "--out", str(tmp_path / "no" / "out.json")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert as_gold_file([], "x") == {"version": 1, "source": "x", "dialogues": []}
