"""The ``qa`` command as a user runs it: a real process, the real model, the real index."""

import json
import os
import pty
import re
import subprocess
import sys
from dataclasses import replace

from cli import main as cli
from tests.conftest import ROOT

QA = [sys.executable, "-m", "cli.main"]


def run_qa(*args, cwd=ROOT):
    return subprocess.run([*QA, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_ask_json_answers_the_budapest_question_with_a_cited_exact_span(seed_index, assistant):
    result = run_qa("ask", "who led the Russian delegation in Budapest?", "--index", str(seed_index), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    answer = output["answer"]
    assert "Kislyak" in answer["text"]
    assert answer["doc_id"] == "000_0027d40a27e5cdba.txt"
    article = assistant.documents[answer["doc_id"]].text
    assert article[answer["start"]:answer["end"]] == answer["text"]
    citation = output["citations"][answer["citation"] - 1]
    assert citation["text"] == article[citation["start"]:citation["end"]]
    assert citation["text"][citation["answer_start"]:citation["answer_end"]] == answer["text"]
    assert set(output) == {"question", "answer", "answers", "citations", "timings_ms"}
    assert set(output["timings_ms"]) >= {"retrieve", "read", "total"}
    assert set(citation) == {"n", "doc_id", "title", "start", "end", "text", "answer_start", "answer_end", "score",
                             "published", "source", "author", "url", "page"}


def test_help_lists_every_command():
    result = run_qa("--help")
    assert result.returncode == 0
    for command in ("index", "ask", "chat", "eval", "serve"):
        assert command in result.stdout
    for command in ("index", "ask", "chat", "eval", "serve"):
        assert run_qa(command, "--help").returncode == 0


def test_empty_question_is_a_one_line_error_with_status_2(seed_index):
    result = run_qa("ask", "   ", "--index", str(seed_index))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("qa: the question is empty")
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_index_is_a_one_line_error(tmp_path):
    result = run_qa("ask", "who?", "--index", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "no index at" in result.stderr and "Traceback" not in result.stderr


def test_index_command_reports_added_and_unchanged(seeds_copy, tmp_path):
    index_dir = tmp_path / "index"
    first = run_qa("index", str(seeds_copy), "--index", str(index_dir))
    assert first.returncode == 0, first.stderr
    assert "5 added" in first.stdout
    again = run_qa("index", str(seeds_copy), "--index", str(index_dir))
    assert "5 unchanged" in again.stdout
    # What the chat added and removed beside this index is kept so by a re-index, as the chat's rebuilds keep it.
    uploads = tmp_path / "index-uploads"
    uploads.mkdir()
    (uploads / "bergen.txt").write_text("Harbour news\nThe harbour master of Bergen, Ingrid Solheim, opened the "
                                        "new ferry terminal on Monday.\n", encoding="utf-8")
    (uploads / ".removed.json").write_text('["001_039291e9fa94fbe8.txt"]', encoding="utf-8")
    kept = run_qa("index", str(seeds_copy), "--index", str(index_dir))
    assert "1 added, 0 changed, 1 removed, 4 unchanged" in kept.stdout, kept.stdout + kept.stderr


BUDAPEST = "who led the Russian delegation in Budapest?"


def test_ask_prints_answer_passages_and_a_labelled_timing_and_no_loading_line_into_a_pipe(seed_index):
    result = run_qa("ask", BUDAPEST, "--index", str(seed_index), "-k", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "Kislyak" in lines[0] and "[1]" in lines[0]
    # The file is named once: the headline-less article's name does not repeat it.
    card = "[1] 000_0027d40a27e5cdba.txt — In a statement obtained by BosNewsLife News Center …  (score "
    assert any(line.startswith(card) for line in lines)
    assert any("Sergei Kislyak]" in line for line in lines)  # the answer marked inside its passage
    assert re.fullmatch(r"answered in \d+ ms", lines[-1])
    assert cli.LOADING not in result.stderr


def test_a_terminal_sees_the_loading_line_while_the_model_loads_and_then_it_is_erased(seed_index):
    terminal, stderr = pty.openpty()
    process = subprocess.Popen([*QA, "ask", BUDAPEST, "--index", str(seed_index)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    os.close(stderr)
    stdout, _ = process.communicate(timeout=300)
    shown = _read_all(terminal)
    assert process.returncode == 0
    assert shown.startswith(cli.LOADING) and shown.endswith("\r\x1b[K")
    assert "Kislyak" in stdout and cli.LOADING not in stdout


def test_an_article_s_terminal_escapes_never_reach_the_terminal(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "escapes.txt").write_text(
        "Harbour news from Bergen\nThe harbour master of Bergen, Ingrid \x1b[2JSolheim\x1b]0;owned\x07, opened the "
        "new ferry terminal on Monday.\nShe said it would serve two million passengers a year.\n", encoding="utf-8")
    index = str(tmp_path / "index")
    assert run_qa("index", str(articles), "--index", index).returncode == 0
    terminal, stdout = pty.openpty()
    process = subprocess.Popen([*QA, "ask", "Who is the harbour master of Bergen?", "--index", index], cwd=ROOT,
                               stdout=stdout, stderr=subprocess.PIPE, text=True)
    os.close(stdout)
    _, stderr = process.communicate(timeout=300)
    shown = _read_all(terminal)
    assert process.returncode == 0, stderr
    assert "Solheim" in shown and "owned" in shown  # the text is kept, the sequences' control characters are not
    assert "\x1b" not in shown and "\x07" not in shown


def _read_all(fd: int) -> str:
    """What a pty's other end received; Linux answers EIO once the writer has closed it."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return data.decode("utf-8")


def test_chat_shows_each_answer_in_its_sentence_with_one_source_and_its_timing(seed_index):
    result = subprocess.run([*QA, "chat", "--index", str(seed_index)], input=f"{BUDAPEST}\nand the American one?\n\n",
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line.removeprefix("you> ") for line in result.stdout.splitlines()]  # input() prompts on stdout
    assert "    The Russian delegation was to be led by [Deputy Foreign Minister Sergei Kislyak]." in lines
    assert any(line.startswith("(understood as: ") for line in lines)
    assert any(line.strip().endswith("[John C. Rood].") for line in lines)  # the follow-up's sentence
    sources = [line for line in lines if re.match(r"\[\d+\] ", line)]
    assert [s.split()[0] for s in sources] == ["[1]", "[1]"]  # one source a turn, the answer's own
    assert sum(bool(re.fullmatch(r"answered in \d+ ms", line)) for line in lines) == 2


def test_chat_sources_lists_that_many_passages_and_zero_lists_none(assistant):
    response = assistant.answer(BUDAPEST)
    three = cli.format_turn(response, assistant, sources=3).splitlines()
    assert [line.split()[0] for line in three if line.startswith("[")] == ["[1]", "[2]", "[3]"]
    start, end = assistant.sentence_of(response.answer)
    sentence = assistant.documents[response.answer.doc_id].text[start:end]
    assert three[1].strip().replace("[", "").replace("]", "") == " ".join(sentence.split())
    assert cli.format_turn(response, assistant, sources=0).splitlines() == three[:2]


def test_chat_wraps_the_sentence_to_the_terminal_and_says_when_it_is_unsure(assistant):
    response = assistant.answer(BUDAPEST)
    wrapped = cli.format_turn(response, assistant, sources=0, width=40).splitlines()
    assert len(wrapped) > 2 and all(len(line) <= 40 and line.startswith("    ") for line in wrapped[1:])
    one_line = cli.format_turn(response, assistant, sources=0).splitlines()[1]
    assert " ".join(line.strip() for line in wrapped[1:]) == one_line.strip()
    def scored(score):
        return cli.format_turn(replace(response, answer=replace(response.answer, score=score)), assistant, 0)

    assert scored(assistant.sure_confidence() - 0.01).startswith("I am not sure: Deputy")
    assert scored(assistant.sure_confidence()).startswith("Deputy")


def test_chat_sources_must_be_a_whole_number(seed_index):
    result = run_qa("chat", "--index", str(seed_index), "--sources", "-1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "qa chat: argument --sources: expected a whole number of 0 or more, got '-1' (see qa chat --help)"]
