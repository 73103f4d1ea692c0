"""The shipped trained reader: it loads offline from the package, answers with exact article spans, declines what
the articles do not say, keeps a quality floor on the gold tune split, and fails on a bad model file in one line."""

import json
import shutil
import subprocess
import sys

import pytest

from core.config import Settings
from core.errors import InputError
from qa.assistant import Assistant
from qa.reader_model import META, SHIPPED, WEIGHTS, load_reader_model
from qa.trained_reader import TrainedReader
from tests.conftest import assert_offsets_exact

ROOT = SHIPPED.parents[2]


def test_the_default_reader_is_the_shipped_trained_reader(assistant):
    assert isinstance(assistant.reader, TrainedReader)
    assert assistant.reader.folder == SHIPPED
    assert (SHIPPED / WEIGHTS).stat().st_size < 50_000_000


def test_it_answers_the_readme_question_with_the_exact_span(assistant):
    gold = json.loads((ROOT / "eval" / "gold_qa.json").read_text(encoding="utf-8"))["questions"][0]
    response = assistant.answer("who led the Russian delegation in Budapest?")
    assert response.answer is not None
    assert response.answer.text in gold["answers"]  # "Sergei Kislyak" or "Deputy Foreign Minister Sergei Kislyak"
    assert response.answer.doc_id == gold["doc"]
    text = assistant.documents[response.answer.doc_id].text
    assert text[response.answer.start:response.answer.end] == response.answer.text


def test_answers_and_citations_are_exact_article_slices(assistant):
    for question in ("When will the talks in Budapest take place?", "What did Gorbachev accuse the US of?",
                     "Where does Washington want to station the missile defense system?"):
        assert_offsets_exact(assistant.documents, assistant.answer(question))


def test_answers_are_distinct_spans(assistant):
    response = Assistant.load(assistant.index_dir, Settings(max_answers=5, abstain_threshold=0.0),
                              embedder=assistant.embedder).answer("Who met in Budapest?")
    spans = [(a.doc_id, a.start, a.end) for a in response.answers]
    for i, (doc, start, end) in enumerate(spans):
        assert not any(d == doc and start < e and s < end for d, s, e in spans[:i])
    scores = [a.score for a in response.answers]
    assert scores == sorted(scores, reverse=True)


def test_it_declines_what_the_articles_do_not_say(assistant):
    response = assistant.answer("What is the boiling point of liquid nitrogen?")
    assert response.answer is None
    assert response.citations  # the closest passages are still shown


def test_the_precision_is_a_setting_and_float32_gives_the_answers_bfloat16_gives(seed_index, embedder, assistant):
    exact = Assistant.load(seed_index, Settings(reader_precision="float32"), embedder=embedder)
    assert exact.reader.arithmetic == "float32"
    assert assistant.reader.arithmetic.startswith(("bfloat16", "float32 (this CPU has no native bfloat16)"))
    for question in ("who led the Russian delegation in Budapest?", "When did Bush and Putin meet in Kennebunkport?"):
        mine, theirs = exact.answer(question).answer, assistant.answer(question).answer
        assert (mine.doc_id, mine.start, mine.end) == (theirs.doc_id, theirs.start, theirs.end)
    with pytest.raises(InputError, match="reader_precision must be one of") as caught:
        Settings(reader_precision="float8")
    assert "\n" not in str(caught.value)


def test_how_many_passages_it_reads_is_a_setting(seed_index, embedder, assistant):
    assert assistant.reader.read_hits == 4  # the shipped reader's own (reader.json)
    fewer = Assistant.load(seed_index, Settings(read_passages=1), embedder=embedder)
    assert fewer.reader.read_hits == 1
    question = "who led the Russian delegation in Budapest?"
    hits = fewer.answer(question).hits
    vector = fewer.embedder.encode([question])[0]
    # One passage read: every window lies in the first passage's article, around its best sentence.
    windows = fewer.reader.windows(question, vector, hits, 120)
    assert len(windows) == 1 and fewer.corpus.data.documents[windows[0].doc].doc_id == hits[0].chunk.doc_id
    assert len(assistant.reader.windows(question, vector, hits, 120)) > 1
    with pytest.raises(InputError, match="read_passages must be >= 0") as caught:
        Settings(read_passages=-1)
    assert "\n" not in str(caught.value)


def test_quality_floor_on_the_gold_tune_split(seed_index):
    from eval.runner import run_eval

    result = run_eval(ROOT / "eval" / "gold_qa.json", seed_index, Settings(), progress=False)
    tune = result.metrics["splits"]["tune"]
    assert tune["f1"] >= 0.75, tune


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "reader"
    shutil.copytree(SHIPPED, folder)
    return folder


def test_a_damaged_weights_file_is_one_error_naming_it(model_copy):
    path = model_copy / WEIGHTS
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(InputError, match=str(path)):
        load_reader_model(model_copy)


def test_a_missing_model_file_is_one_error_naming_it(model_copy):
    (model_copy / WEIGHTS).unlink()
    with pytest.raises(InputError, match=str(model_copy / WEIGHTS)):
        load_reader_model(model_copy)
    (model_copy / META).unlink()
    with pytest.raises(InputError, match=str(model_copy / META)):
        load_reader_model(model_copy)


def test_weights_changed_after_training_fail_their_checksum(model_copy):
    path = model_copy / WEIGHTS
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum"):
        load_reader_model(model_copy)


def test_the_cli_names_a_bad_reader_folder_in_one_line(seed_index, tmp_path):
    result = subprocess.run([sys.executable, "-m", "cli.main", "ask", "who met?", "--index", str(seed_index),
                             "--reader", f"trained:{tmp_path / 'nothing'}"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(tmp_path / "nothing" / META) in lines[0], result.stderr


def test_training_a_few_steps_makes_a_loadable_reader(tmp_path, seed_index, embedder):
    from eval.train_reader import main

    context = ("The Russian delegation was led by Deputy Foreign Minister Sergei Kislyak. The talks took place in "
               "Budapest on December 13.")
    qas = [{"id": "toy-1", "question": "Who led the Russian delegation?", "is_impossible": False,
            "answers": [{"text": "Sergei Kislyak", "answer_start": context.index("Sergei Kislyak")}]},
           {"id": "toy-2", "question": "Where did the talks take place?", "is_impossible": False,
            "answers": [{"text": "Budapest", "answer_start": context.index("Budapest")}]},
           {"id": "toy-3", "question": "What did the talks cost?", "is_impossible": True, "answers": []}]
    data = tmp_path / "toy.json"
    data.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}), encoding="utf-8")
    out = tmp_path / "model"
    assert main(["--data", str(data), "--out", str(out), "--max-steps", "2", "--batch", "2",
                 "--minutes", "2", "--threads", "1"]) == 0
    meta = json.loads((out / META).read_text(encoding="utf-8"))
    assert meta["training"][0]["steps"] == 2
    assert meta["training"][0]["sources"]["toy"]["questions"] == 3
    assert "## Training run 1" in (out / "README.md").read_text(encoding="utf-8")
    assert not (out / "checkpoint").exists()
    reader = Assistant.load(seed_index, Settings(reader=f"trained:{out}", abstain_threshold=0.0),
                            embedder=embedder)
    assert_offsets_exact(reader.documents, reader.answer("who led the Russian delegation in Budapest?"))


def test_a_killed_training_run_resumes_from_its_checkpoint(tmp_path):
    from eval.train_reader import main

    context = "Anna Petrova led the Valdorian delegation to Geneva in March."
    qas = [{"id": f"toy-{i}", "question": q, "is_impossible": False,
            "answers": [{"text": a, "answer_start": context.index(a)}]}
           for i, (q, a) in enumerate([("Who led the delegation?", "Anna Petrova"), ("Where to?", "Geneva"),
                                       ("When?", "March")])]
    data = tmp_path / "toy.json"
    data.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}), encoding="utf-8")
    out = tmp_path / "model"
    common = ["--data", str(data), "--out", str(out), "--batch", "2", "--minutes", "2", "--threads", "1"]
    # A checkpoint after every step; keep-checkpoint stands in for a run killed before it wrote its model.
    assert main(common + ["--max-steps", "2", "--checkpoint-minutes", "0", "--keep-checkpoint"]) == 0
    state = json.loads((out / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    assert state["step"] == 2
    assert main(common + ["--max-steps", "3"]) == 0
    assert json.loads((out / META).read_text(encoding="utf-8"))["training"][0]["steps"] == 3


def test_a_training_file_of_another_shape_or_a_damaged_checkpoint_is_one_line(tmp_path, capsys):
    from eval.train_reader import main

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"qas": []}]}]}))
    assert main(["--data", str(bad), "--out", str(tmp_path / "m"), "--max-steps", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    good = tmp_path / "good.json"
    context = "Anna Petrova led the delegation."
    good.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "toy-1", "question": "Who led it?", "answers": [{"text": "Anna Petrova", "answer_start": 0}]}]}]}]}))
    checkpoint = tmp_path / "m" / "checkpoint"
    checkpoint.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.safetensors"):
        (checkpoint / name).write_bytes(b"\x00" * 100)
    (checkpoint / "state.json").write_text("{}")
    assert main(["--data", str(good), "--out", str(tmp_path / "m"), "--max-steps", "1", "--batch", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(checkpoint) in err and "damaged" in err


def test_training_as_it_reads_makes_a_loadable_reader(tmp_path, seed_index, embedder):
    """eval.reading_groups asks the toy questions of an index of their contexts, makes an unanswerable variant,
    and eval.train_reader --groups trains on those windows with one normalisation per question."""
    from eval.reading_groups import main as make_groups
    from eval.train_reader import main as train

    contexts = ["The Russian delegation was led by Deputy Foreign Minister Sergei Kislyak. The talks took place "
                "in Budapest on December 13, 2007.",
                "The US delegation was led by John C. Rood. Washington wants to station a missile shield in Poland."]
    qas = [[("Who led the Russian delegation?", "Sergei Kislyak"), ("Where did the talks take place?", "Budapest"),
            ("When did the talks take place in 2007?", "December 13, 2007")],
           [("Who led the US delegation?", "John C. Rood"), ("Where does Washington want a shield?", "Poland")]]
    data = tmp_path / "toy.json"
    data.write_text(json.dumps({"version": "v2.0", "data": [{"title": f"t{i}", "paragraphs": [{"context": c, "qas": [
        {"id": f"toy-{i}-{j}", "question": q, "is_impossible": False,
         "answers": [{"text": a, "answer_start": c.index(a)}]} for j, (q, a) in enumerate(qas[i])]}]}
        for i, c in enumerate(contexts)]}), encoding="utf-8")
    groups = tmp_path / "groups"
    assert make_groups(["--data", str(data), "--out", str(groups), "--holdout-questions", "0", "--news-holdout", "0",
                        "--unanswerable", "1.0", "--hard-negatives", "1.0", "--seeds-index", str(seed_index),
                        "--tune"]) == 0
    summary = json.loads((groups / "summary.json").read_text(encoding="utf-8"))
    assert summary["groups"]["answerable"] == 5 and sum(summary["groups"].values()) > 5
    assert summary["dev"]["tune"] > 0  # the gold tune split, read over the seeds
    out = tmp_path / "model"
    assert train(["--groups", str(groups), "--out", str(out), "--max-steps", "2", "--batch", "4", "--minutes", "2",
                  "--threads", "1", "--max-length", "160", "--stride", "64"]) == 0
    meta = json.loads((out / META).read_text(encoding="utf-8"))
    assert meta["training"][0]["hyperparameters"]["objective"] == "shared"
    assert meta["training"][0]["groups"]["answerable"] == 5
    reader = Assistant.load(seed_index, Settings(reader=f"trained:{out}", abstain_threshold=0.0),
                            embedder=embedder)
    assert_offsets_exact(reader.documents, reader.answer("who led the Russian delegation in Budapest?"))
