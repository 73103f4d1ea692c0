"""Every bad input, from the CLI, the Python API and the web chat alike, gets a clear one-line error and loses
nothing: the CLI exits 2 without a traceback, the API raises a QAError subclass, the server answers and keeps
serving. One table, one row per input and channel.

CLI rows run ``cli.main.main`` in this process (the real parser and library, minus the interpreter start-up); the rows
that need a real process (bytes in argv, a pipe that must not hang) run ``python -m cli.main``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from cli.main import main
from core.config import Settings
from core.errors import DocumentError, IndexFolderError, InputError, QAError
from embeddings.indexer import index_paths
from embeddings.loader import load_paths
from qa.assistant import Assistant
from qa.conversation import Conversation
from tests.conftest import ROOT
pytest.register_assert_rewrite("tests.live_server")
from tests.live_server import ask_raw, call_raw, reply_text  # noqa: E402

pytest_plugins = ["tests.live_server"]

GOOD_QUESTION = "Who led the Russian delegation in Budapest?"
MEGABYTE = "x" * 1_000_000


def _zip_bomb() -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("article.pdf", bytes(100_000_000))
    return packed.getvalue()


BAD_FILES = {  # name: (bytes or the size of a sparse file, the reason the loader gives)
    "binary.txt": (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20, "looks like a binary file"),
    "empty.txt": (b"", "is empty"),
    "cp1252.txt": ("Kislyak\u2019s \u201creply\u201d came on Monday.".encode("cp1252"), "is not UTF-8 (byte 0x92"),
    "huge.txt": (6_000_000, "over the 5,000,000-byte limit"),  # sparse files: refused by their size, unread
    "huge.html": (50_000_000, "is 50,000,000 bytes, over the 5,000,000-byte limit"),
    "archive.pdf": (_zip_bomb(), "is not a PDF (it does not start with %PDF-)"),  # 100 MB of zeros, never unpacked
}


@dataclass
class Env:
    """What a row may use: a scratch folder, the seed index, the shared assistant, pytest's helpers."""

    tmp: Path
    seed_index: Path
    assistant: Assistant
    request: pytest.FixtureRequest
    capsys: pytest.CaptureFixture
    monkeypatch: pytest.MonkeyPatch
    blocker: socket.socket | None = None  # a listening socket that keeps a port busy

    @property
    def server(self):
        return self.request.getfixturevalue("live_server")


@dataclass(frozen=True)
class Row:
    input: str  # the bad input, in words
    where: str  # cli, api or web
    expect: str  # a piece of the one-line message it must get
    run: Callable[[Env], str]  # returns the message (and checks the channel's own rules)


# --- the three channels -------------------------------------------------------------------------------------------

def cli(*argv: str, env: dict | None = None) -> Callable[[Env], str]:
    def run(e: Env) -> str:
        for name, value in (env or {}).items():
            e.monkeypatch.setenv(name, value)
        e.capsys.readouterr()
        args = [a.format(index=e.seed_index, tmp=e.tmp) for a in argv]
        try:
            code = main(args)
        except SystemExit as exit:  # argparse's way out, as in the real command
            code = exit.code
        err = e.capsys.readouterr().err
        assert code == 2, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        return err.strip()
    return run


def cli_process(*argv: str | bytes, prepare: Callable[[Env], None] | None = None) -> Callable[[Env], str]:
    def run(e: Env) -> str:
        if prepare is not None:
            prepare(e)
        args = [a.format(index=e.seed_index, tmp=e.tmp) if isinstance(a, str) else a for a in argv]
        result = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=ROOT,
                                timeout=120)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result.stderr.strip()
    return run


def api(call: Callable[[Env], object], error: type[QAError] = QAError) -> Callable[[Env], str]:
    def run(e: Env) -> str:
        with pytest.raises(error) as raised:
            call(e)
        return str(raised.value)
    return run


def web(message: object) -> Callable[[Env], str]:
    def run(e: Env) -> str:
        status, event, data = ask_raw(e.server, message)
        assert (status, event) == (200, "complete"), (status, event, data)
        return reply_text(data)
    return run


def web_body(body: Callable[[Env], bytes], status: int) -> Callable[[Env], str]:
    def run(e: Env) -> str:
        api_name, _ = e.server.endpoint()
        code, _, text = call_raw(e.server.url, api_name, body(e))
        assert code == status, (code, text)
        return json.loads(text)["error"]
    return run


# --- what some rows set up ----------------------------------------------------------------------------------------

def folder_of_bad_files(e: Env) -> Path:
    folder = e.tmp / "bad"
    folder.mkdir(exist_ok=True)
    for name, (data, _) in BAD_FILES.items():
        if isinstance(data, int):
            with open(folder / name, "wb") as handle:
                handle.truncate(data)
        else:
            (folder / name).write_bytes(data)
    return folder


def foreign_index(e: Env) -> Path:
    folder = e.tmp / "foreign"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "someone else's tool", "files": []}))
    return folder


def fifo(e: Env) -> None:
    os.mkfifo(e.tmp / "pipe.txt")


def undecodable_name(e: Env) -> Path:
    folder = e.tmp / "names"
    folder.mkdir(exist_ok=True)
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"The cafe opened on Monday in Paris after a long renovation.\n")
    return folder


def busy_port(e: Env) -> str:
    e.blocker = socket.socket()
    e.blocker.bind(("127.0.0.1", 0))
    e.blocker.listen()
    return str(e.blocker.getsockname()[1])


def index_into_file(e: Env) -> None:
    target = e.tmp / "notes.txt"
    target.write_text("my notes\n")
    index_paths([ROOT / "seeds"], target)


def oversized_history(e: Env) -> bytes:
    turn = {"role": "user", "content": "Who led the delegation? " * 40}
    return json.dumps({"data": [GOOD_QUESTION, [turn] * 10_000]}).encode()


ROWS = [
    # Questions, through all three doors.
    Row("empty question", "cli", "the question is empty", cli("ask", "", "--index", "{index}")),
    Row("empty question", "api", "the question is empty", api(lambda e: e.assistant.answer(""), InputError)),
    Row("empty question", "web", "the question is empty", web("")),
    Row("white space only", "cli", "the question is empty", cli("ask", " \t\n ", "--index", "{index}")),
    Row("white space only", "api", "the question is empty", api(lambda e: e.assistant.answer(" \t\u2028 "))),
    Row("white space only", "web", "the question is empty", web(" \t\r\n ")),
    Row("zero-width characters only", "cli", "the question is empty",
        cli("ask", "\u200b\u200c\u200d\u2060\ufeff", "--index", "{index}")),
    Row("zero-width characters only", "api", "the question is empty",
        api(lambda e: e.assistant.answer("\u200b\u200d\ufeff"))),
    Row("zero-width characters only", "web", "the question is empty", web("\u200b\u200c\u200d\ufeff")),
    Row("control characters only", "cli", "the question is empty", cli("ask", "\x01\x07\x1b\x7f", "--index", "{index}")),
    Row("control characters and NUL", "api", "the question is empty",
        api(lambda e: Conversation(e.assistant).ask("\x00\x01\x1b\x7f"))),
    Row("control characters and NUL", "web", "the question is empty", web("\x00\x01\x07\x1b")),
    Row("lone surrogates (bytes that are not UTF-8 in argv)", "cli", "the question is empty",
        cli_process("ask", b"\xed\xa0\x80\xff", "--index", "{index}")),
    Row("lone surrogates", "api", "the question is empty", api(lambda e: e.assistant.answer("\ud800 \udfff"))),
    Row("lone surrogates", "web", "the question is empty", web("\ud800")),
    Row("emoji only", "cli", "has no letters or digits", cli("ask", "🙂🚀👍🏽", "--index", "{index}")),
    Row("emoji only", "api", "has no letters or digits", api(lambda e: e.assistant.answer("🇺🇦❓"))),
    Row("emoji only", "web", "has no letters or digits", web("🙂🚀👍🏽")),
    Row("a 100 KB question (argv's limit is 128 KB)", "cli", "100,000 characters long; the limit is 2,000",
        cli("ask", "y" * 100_000, "--index", "{index}")),
    Row("a 1 MB question", "api", "1,000,000 characters long; the limit is 2,000",
        api(lambda e: e.assistant.answer(MEGABYTE))),
    Row("a 1 MB question", "web", "1,000,000 characters long; the limit is 2,000", web(MEGABYTE)),
    Row("None as the question", "api", "a question must be text, not NoneType", api(lambda e: e.assistant.answer(None))),
    Row("null as the question", "web", "a question must be text, not NoneType", web(None)),
    Row("a number as the question", "api", "not int", api(lambda e: Conversation(e.assistant).ask(42))),
    Row("bytes as the question", "api", "not bytes", api(lambda e: e.assistant.answer(b"who?"))),
    Row("a list as the question", "api", "not list", api(lambda e: e.assistant.answer_batch([["who?"]]))),
    Row("a forged request carrying a 9 MB history", "web", "larger than the 8,000,000-byte limit",
        web_body(oversized_history, 413)),
    Row("zero citations", "cli", "k must be a positive integer", cli("ask", GOOD_QUESTION, "-k", "0", "--index", "{index}")),
    Row("zero citations", "api", "k must be a positive integer", api(lambda e: e.assistant.answer(GOOD_QUESTION, k=0))),
    # Articles: folders and files.
    Row("a missing folder", "cli", "no such file or folder", cli("index", "{tmp}/nowhere", "--index", "{tmp}/i")),
    Row("a missing folder", "api", "no such file or folder",
        api(lambda e: load_paths([e.tmp / "nowhere"], 5_000_000), DocumentError)),
    Row("an empty folder", "cli", "no readable articles (.txt, .md, .html, .htm, .pdf)", cli("index", "{tmp}", "--index", "{tmp}/i")),
    Row("a folder of binary, empty, non-UTF-8 and huge files", "api", "no readable articles (.txt, .md, .html, .htm, .pdf)",
        api(lambda e: index_paths([folder_of_bad_files(e)], e.tmp / "i"), DocumentError)),
    Row("an unreadable file", "api", "mem: cannot be read (Input/output error)",
        api(lambda e: index_paths([Path("/proc/self/mem")], e.tmp / "i"), DocumentError)),
    Row("a pipe named as an article (must not hang)", "cli", "pipe.txt: is not a regular file",
        cli_process("index", "{tmp}/pipe.txt", "--index", "{tmp}/i", prepare=fifo)),
    Row("a file name that is not UTF-8", "api", "the file name is not UTF-8",
        api(lambda e: index_paths([undecodable_name(e)], e.tmp / "i"), DocumentError)),
    # Indexes.
    Row("a missing index", "cli", "no index at", cli("ask", GOOD_QUESTION, "--index", "{tmp}/none")),
    Row("a missing index", "api", "no index at", api(lambda e: Assistant.load(e.tmp / "none"), IndexFolderError)),
    Row("a foreign index", "api", "is not a manifest of this tool",
        api(lambda e: Assistant.load(foreign_index(e)), IndexFolderError)),
    Row("an index of a different model", "cli", "built with embedding_model=",
        cli("ask", GOOD_QUESTION, "--index", "{index}", env={"QA_EMBEDDING_MODEL": "/models/another"})),
    Row("an index of a different model", "api", "built with embedding_model=",
        api(lambda e: Assistant.load(e.seed_index, Settings(embedding_model="/models/another")), IndexFolderError)),
    Row("an index of other chunk settings", "cli", "chunk_tokens=160",
        cli("ask", GOOD_QUESTION, "--index", "{index}", env={"QA_CHUNK_TOKENS": "99"})),
    Row("the articles folder as --index", "cli", "exists and is not an index folder",
        cli("index", str(ROOT / "seeds"), "--index", str(ROOT / "seeds"))),
    Row("a file as --index", "api", "is a file, not an index folder", api(index_into_file, IndexFolderError)),
    # The server.
    Row("a port in use", "cli", "is not available", lambda e: cli("serve", "--port", busy_port(e), "--index",
                                                                   "{index}")(e)),
    Row("0.0.0.0 without a login", "cli", "lets other machines reach the chat",
        cli("serve", "--host", "0.0.0.0", "--index", "{index}")),
    Row("a share link without a login", "cli", "a public share link needs a login", cli("serve", "--share")),
    Row("a login without a password", "cli", "a login must look like user:password",
        cli("serve", "--host", "0.0.0.0", env={"QA_AUTH": "admin"})),
    Row("a port out of range", "cli", "port must be between 1 and 65535", cli("serve", "--port", "70000")),
    # Settings and arguments.
    Row("a setting that is not a number", "cli", "QA_TOP_K has a bad value",
        cli("ask", GOOD_QUESTION, env={"QA_TOP_K": "many"})),
    Row("a settings file that is missing", "cli", "cannot read settings file",
        cli("ask", GOOD_QUESTION, env={"QA_CONFIG": "/nonexistent/qa.json"})),
    Row("no question at all", "cli", "the following arguments are required: question", cli("ask")),
    Row("a count that is not a number", "cli", "invalid int value", cli("ask", GOOD_QUESTION, "-k", "lots")),
]


@pytest.fixture
def env(tmp_path, seed_index, assistant, request, capsys, monkeypatch) -> Env:
    e = Env(tmp_path, seed_index, assistant, request, capsys, monkeypatch)
    yield e
    if e.blocker is not None:
        e.blocker.close()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.where}: {r.input}" for r in ROWS])
def test_bad_input_gets_a_clear_one_line_error(row: Row, env: Env):
    message = row.run(env)
    assert row.expect in message, message
    assert "\n" not in message.strip() and "Traceback" not in message
    if row.where == "web":  # and the server goes on answering
        _, _, data = ask_raw(env.server, GOOD_QUESTION)
        assert "Kislyak" in reply_text(data)


def test_the_table_covers_every_channel_and_at_least_25_inputs():
    assert len(ROWS) >= 25 and {r.where for r in ROWS} == {"cli", "api", "web"}
    assert len({r.input for r in ROWS}) >= 25


def test_bad_files_among_articles_are_skipped_with_reasons_and_the_good_ones_kept(env, embedder, capsys):
    folder = folder_of_bad_files(env)
    (folder / "good.txt").write_text("Talks in Vienna\nOfficials met in Vienna on Friday to discuss arms control.\n",
                                     encoding="utf-8")
    index_dir = env.tmp / "index"
    report = index_paths([folder], index_dir, embedder=embedder)
    assert report.added == ["good.txt"]
    assert sorted(reason.split(":")[0] for reason in report.skipped) == sorted(BAD_FILES)
    capsys.readouterr()
    # The CLI says the same, one line per file; good.txt is unchanged now, so no model is loaded.
    assert main(["index", str(folder), "--index", str(index_dir)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(BAD_FILES) and all(line.startswith("skipped: ") for line in lines)
    for name, (_, reason) in BAD_FILES.items():
        assert any(name in line and reason in line for line in lines), (name, lines)


def test_indexing_into_a_folder_of_articles_deletes_nothing(env, capsys):
    folder = env.tmp / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Officials met in Vienna on Friday.\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert main(["index", str(folder), "--index", str(folder)]) == 2
    assert "is not an index folder" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in env.tmp.iterdir()) == ["articles"]


def test_a_long_conversation_keeps_only_the_last_turns(assistant):
    conversation = Conversation(assistant, max_turns=3)
    for question in ["Who led the Russian delegation in Budapest?", "And the American one?", "When was that?",
                     "Where did the talks take place?", "Who is Sergei Kislyak?"]:
        conversation.ask(question)
    assert len(conversation.turns) == 3
