"""The ``qa`` command: parse arguments, call the library, format the result. No retrieval or reading here.

Exit status: 0 on success, 2 on bad input (a one-line message on stderr, never a traceback), 1 on a fault of
ours (one line too; ``QA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

from core.errors import QAError
from core.records import ARTICLE_SUFFIXES

DEFAULT_INDEX = ".qa-index"
DEFAULT_SOURCES = ["seeds"]


def one_line(text: object) -> str:
    """A message on one line, whatever it quotes (a file name with a newline, a parser's multi-line error)."""
    return " ".join(str(text).split())


# Control characters but the line breaks and tabs we print ourselves: an article's "\x1b[2J" or "\x1b]0;...\x07"
# must reach the terminal as nothing, not clear the screen or retitle the window (--json escapes them already).
_CONTROLS = dict.fromkeys([c for c in range(32) if chr(c) not in "\n\t"] + list(range(127, 160)))


def printable(text: str) -> str:
    """``text`` without the control characters a terminal would act on."""
    return text.translate(_CONTROLS)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """argparse prints the usage and then the error; one line that points to --help is clearer."""
        self.exit(2, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def _settings(args):
    from core.config import load_settings

    overrides = {}
    if getattr(args, "reader", None) is not None:
        overrides["reader"] = args.reader
    if getattr(args, "model", None) is not None:
        overrides["embedding_model"] = args.model
    return load_settings().with_overrides(**overrides)


def cmd_index(args) -> int:
    """Index the named files and folders (seeds/ when none is named) and the chat's uploads folder beside the index,
    so a re-index keeps what was added in the chat and leaves out what was removed there, as the chat's own
    rebuilds do. A fetched page is saved into the first folder named, else into the uploads folder."""
    from embeddings.fetch import fetch_page, is_url
    from embeddings.indexer import index_paths
    from ui.library import default_uploads_dir, removed_ids

    settings = _settings(args)
    urls = [p for p in args.paths or () if is_url(p)]
    named = [Path(p) for p in args.paths or () if not is_url(p)]
    sources = named or [Path(p) for p in DEFAULT_SOURCES]
    uploads = Path(settings.uploads_dir) if settings.uploads_dir else default_uploads_dir(Path(args.index))
    folders = [p for p in named if p.is_dir()]  # never the default seeds/: only a folder the person named
    for url in urls:  # saved first, so a rebuild needs no network
        print(f"fetched {url} -> {fetch_page(url, folders[0] if folders else uploads, settings).path}",
              file=sys.stderr)
    if uploads.is_dir() and uploads.resolve() not in {p.resolve() for p in sources}:
        sources.append(uploads)
    report = index_paths(sources, Path(args.index), settings, leave_out=frozenset(removed_ids(uploads)))
    for reason in report.skipped:
        print(f"skipped: {one_line(reason)}", file=sys.stderr)
    print(report.summary())
    return 0


LOADING = "loading the model…"
CHAT_SOURCES = 1  # `qa chat` shows the answer's own passage; --sources N for more


def _load(args):
    """The assistant with its models loaded. While they load, a terminal's stderr shows "loading the model…",
    erased once they are in; pipes and logs get nothing (the line is for a person waiting, not for a script)."""
    from qa.assistant import Assistant

    terminal = sys.stderr.isatty()
    if terminal:
        print(LOADING, end="", file=sys.stderr, flush=True)
    try:
        assistant = Assistant.load(args.index, _settings(args))
        # The models load on the first question: one untimed question now, so "answered in" times the answer.
        assistant.answer("warm up")
    finally:
        if terminal:
            print("\r\033[K", end="", file=sys.stderr, flush=True)  # back to the line's start, clear it
    return assistant


def _marked(text: str, start: int | None, end: int | None) -> str:
    """``text`` on one line with ``text[start:end]`` in [brackets] (unmarked when ``start`` is None)."""
    if start is not None:
        text = f"{text[:start]}[{text[start:end]}]{text[end:]}"
    return " ".join(text.split())


def _source_line(citation, dated: bool = False) -> str:
    """One passage's line; ``dated``: asked in a publication window, where an undated article says so."""
    # A headline-less article is named "FILE: its first words"; the line names the file already.
    title = citation.title.removeprefix(f"{Path(citation.doc_id).stem}: ")
    title = title if len(title) <= 70 else title[:69].rstrip() + "…"
    when = f", {citation.published}" if dated and citation.published else ", date unknown" if dated else ""
    return f"[{citation.n}] {citation.doc_id} — {title}  (score {citation.score:.2f}{when})"


def _answer_line(response, sure: float | None = None) -> str:
    """The answer, its citation and confidence; below ``sure`` it says so first, as the web chat does."""
    if response.answer is None:
        return "Not found in the articles. The closest passages:"
    doubt = "I am not sure: " if sure is not None and response.answer.score < sure else ""
    return f"{doubt}{response.answer.text}  [{response.answer_citations[0]}]  (confidence {response.answer.score:.2f})"


def answered_in(response) -> str:
    return f"answered in {response.timings_ms['total']:.0f} ms"


def format_response(response) -> str:
    """``qa ask``'s answer: the span, the other answers, and the numbered passages with the answer in [brackets]."""
    lines = [_answer_line(response)]
    for other, n in zip(response.answers[1:], response.answer_citations[1:]):
        lines.append(f"  also: {other.text}  [{n}]  ({other.score:.2f})")
    for c in response.citations:
        lines.append(f"\n{_source_line(c, response.window is not None)}\n    "
                     + _marked(c.text, c.answer_start, c.answer_end))
    if response.window is not None:
        lines.append(f"\n{response.window.describe()}")
    return "\n".join(lines)


def format_turn(response, assistant, sources: int = CHAT_SOURCES, width: int | None = None) -> str:
    """``qa chat``'s answer, short: the span, the article's sentence that holds it (answer in [brackets]), and
    one line for each of the first ``sources`` passages (citation 1 is the answer's own). The sentence is wrapped
    to ``width`` columns when one is given (a terminal's)."""
    lines = [_answer_line(response, assistant.sure_confidence())]
    sentence = assistant.sentence_of(response.answer)
    if sentence is not None:
        a = response.answer
        text = _marked(assistant.documents[a.doc_id].text[sentence[0]:sentence[1]], a.start - sentence[0],
                       a.end - sentence[0])
        lines.append(textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    ") if width
                     else "    " + text)
    lines += [_source_line(c) for c in response.citations[:sources]]
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from qa.dates import DateWindow

    window = DateWindow.of(args.since, args.until)  # a bad date is refused before anything loads
    response = _load(args).answer(args.question, k=args.k, window=window)
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
    else:
        print(printable(format_response(response)))
        print(f"\n{answered_in(response)}")
    return 0


def cmd_chat(args) -> int:
    from qa.conversation import Conversation

    assistant = _load(args)
    conversation = Conversation(assistant)
    sources = 0 if args.no_citations else args.sources
    try:
        import readline  # noqa: F401  (input() then edits the line and recalls earlier questions with the arrows)
    except ImportError:  # not every Python has it; the chat works without
        pass
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    print("Ask about the articles; an empty line or Ctrl-D ends the chat.", file=sys.stderr)
    while True:
        try:
            question = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if not question.strip():
            return 0
        try:
            # k: enough citations for the sources asked for (None: the settings' number).
            response = conversation.ask(question, k=sources if sources > 0 else None)
        except QAError as error:
            print(f"qa: {one_line(error)}", file=sys.stderr)
            continue
        if response.resolved_question != response.question:
            print(printable(f"(understood as: {response.resolved_question})"))
        print(printable(format_turn(response, assistant, sources, width)))
        print(answered_in(response))


def cmd_eval(args) -> int:
    from eval.report import format_summary, load_baseline, write_report
    from eval.runner import evaluate

    if args.compare_retrieval:
        from eval.retrieval_variants import compare_retrieval, format_comparison

        print(format_comparison(compare_retrieval(args.gold, args.index, _settings(args))))
        return 0
    if args.baseline:
        load_baseline(args.baseline)  # a bad baseline fails now, not after the whole run
    result = evaluate(args.gold, args.index, _settings(args), progress=not args.no_progress)
    if args.json:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(json.dumps(result.metrics, ensure_ascii=False))
    else:
        print(format_summary(result))
    if args.report:
        for path in write_report(result, Path(args.report), args.baseline):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from ui.server import serve

    return serve(index_dir=Path(args.index), host=args.host, port=args.port, settings=_settings(args),
                 articles=[Path(p) for p in (args.articles or DEFAULT_SOURCES)], share=args.share, auth=args.auth,
                 feedback=Path(args.feedback) if args.feedback is not None else None,
                 uploads=Path(args.uploads) if args.uploads is not None else None)


def _count(text: str) -> int:
    """A whole number of 0 or more, for argparse (which makes the ArgumentTypeError a one-line usage error)."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qa", description="Ask questions about a folder of news articles; every answer is a span copied from "
                               "an article, with numbered citations.",
        epilog="Example: qa index seeds/ && qa ask \"who led the Russian delegation in Budapest?\"")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = _command(sub, "index", f"build or update the index from {'/'.join(ARTICLE_SUFFIXES)} articles (unchanged "
                               "files are not re-embedded)", cmd_index)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files, folders or http(s) links to index (default: seeds/), with the chat's uploads; a "
                        "fetched page is saved into the first folder, else into the uploads folder")
    for name, help_text, func, arguments in (
            ("ask", "answer one question", cmd_ask, _ask_arguments),
            ("chat", "a conversation in the terminal (follow-up questions work)", cmd_chat, _chat_arguments),
            ("eval", "score a gold set (ours or SQuAD v1.1/v2.0 JSON)", cmd_eval, _eval_arguments),
            ("serve", "start the chat web app", cmd_serve, _serve_arguments)):
        p = _command(sub, name, help_text, func)
        p.add_argument("--reader", metavar="NAME",
                       help="'trained' (default: the shipped model), 'trained:FOLDER' (one made by "
                            "eval.train_reader), 'features', or 'transformers:NAME_OR_PATH' for a QA model you have")
        arguments(p)
    return parser


def _command(sub, name: str, help_text: str, func) -> argparse.ArgumentParser:
    """A subcommand with the options every command takes: the index folder and the embedding model."""
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(func=func)
    p.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=f"index folder (default {DEFAULT_INDEX})")
    p.add_argument("--model", metavar="NAME_OR_PATH",
                   help="sentence-transformers model (default: the packaged all-MiniLM-L6-v2)")
    return p


def _ask_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print one JSON object (the documented format)")
    p.add_argument("-k", type=int, default=None, metavar="N", help="number of citations (default 5)")
    p.add_argument("--since", metavar="YYYY-MM-DD",
                   help="leave out articles published before this date (articles of unknown date are kept, marked)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="leave out articles published after this date")


def _chat_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", type=_count, default=CHAT_SOURCES, metavar="N",
                   help=f"cited passages listed under each answer (default {CHAT_SOURCES})")
    p.add_argument("--no-citations", action="store_true", help="print answers only (as --sources 0)")


def _eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("gold", metavar="GOLD", help="eval/gold_qa.json, eval/gold_conversations.json or SQuAD")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.add_argument("--report", metavar="OUT_DIR", help="write report.json, report.md and charts here")
    p.add_argument("--baseline", metavar="REPORT_JSON", help="a previous report.json to compare with")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--compare-retrieval", action="store_true",
                   help="print recall@1/@5, MRR, F1 for dense, BM25, fused and fused+sentence retrieval")


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--share", action="store_true", help="also make a public Gradio link (needs a login)")
    p.add_argument("--auth", metavar="USER:PASSWORD",
                   help="require this login; QA_AUTH=USER:PASSWORD does the same without showing it in ps. "
                        "Needed for a --host other machines can reach, and for --share")
    p.add_argument("--articles", "--sources", nargs="*", metavar="DIR", dest="articles",
                   help="the article folders the index is built from (default seeds); never written to")
    p.add_argument("--uploads", metavar="DIR",
                   help="where articles added in the chat are saved (default: INDEX-uploads next to the index, "
                        "or QA_UPLOADS_DIR)")
    p.add_argument("--feedback", metavar="FILE",
                   help="where thumbs up/down are appended as JSON lines (default: feedback.jsonl next to the "
                        "index folder)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except QAError as error:
        print(f"qa: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # the system refused: a full disk, a folder we may not write
        print(f"qa: {one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a bug of ours still gets one line, not a wall of traceback
        if os.environ.get("QA_DEBUG"):
            raise
        print(f"qa: internal error ({type(error).__name__}: {one_line(error)[:200]}); "
              f"run with QA_DEBUG=1 to see where", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
