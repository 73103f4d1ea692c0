"""``qa serve``: load the index once and serve the chat on a local port, safe by default.

- It binds 127.0.0.1. An address other machines can reach (0.0.0.0, ::, a LAN address, a host name) or a public
  share link is refused unless a login is set: ``QA_AUTH=user:password`` in the environment (which keeps the
  password out of ``ps``) or ``--auth user:password``.
- It serves no file but a user's own uploads and caps request and upload sizes (ui/guard.py); the index, the
  sources and this code are also on Gradio's own blocked list.
- Errors reach the browser as the app's one-line messages; ``show_error=False`` keeps tracebacks in the server log.
- Gradio's usage analytics are off, so nothing about the questions or the articles leaves the machine.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path

from core.config import Settings
from core.errors import InputError
from core.memory import fewer_heaps

AUTH_ENV = "QA_AUTH"
CODE_ROOT = Path(__file__).resolve().parents[1]
# A question is at most a few KB, but the browser sends the whole chat history with each message; 8 MB is
# hundreds of turns, and bounds what a forged request can make the server parse.
MAX_REQUEST_BYTES = 8_000_000
UPLOAD_FILES_PER_REQUEST = 10
CONCURRENCY = 4  # answers computed at once; the encoder and the parser take turns anyway
QUEUE_SIZE = 256  # requests waiting beyond this are turned away instead of piling up in memory


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` as a login pair; ``None`` or an empty string means no login."""
    if value is None or value == "":
        return None
    user, colon, password = value.partition(":")
    if not colon or not user or not password:
        raise InputError(f"a login must look like user:password (from --auth or {AUTH_ENV}); got {len(value)} "
                         f"characters without that shape")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name could resolve to anything
        return False


def check_exposure(host: str, share: bool, auth: tuple[str, str] | None) -> None:
    """Refuse to let anyone but this machine's users reach the chat without a login."""
    if auth is not None:
        return
    if share:
        raise InputError(f"a public share link needs a login: set {AUTH_ENV}=user:password or pass --auth")
    if not is_loopback(host):
        raise InputError(f"--host {host} lets other machines reach the chat; set {AUTH_ENV}=user:password or pass "
                         f"--auth to require a login, or use --host 127.0.0.1")


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line before Gradio would print a traceback about the port."""
    if not 0 < port < 65536:
        raise InputError(f"port must be between 1 and 65535. Currently, port is {port}")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the real server will: a port left in TIME_WAIT by a stopped server is free to bind, one that is
        # listening is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as error:
            raise InputError(f"port {port} on {host} is not available ({error.strerror or error}); stop the other "
                             f"server or pass --port") from None


def launch(library, *, host: str, port: int, auth: tuple[str, str] | None = None, share: bool = False,
           block: bool = True, feedback: Path | None = None):
    """Build the chat for ``library`` (a ``ui.library.Library``) and serve it. With ``block=False`` it returns the
    running Gradio app (call ``.close()`` on it); tests use that to serve in-process."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio.utils import get_upload_folder
    from starlette.middleware import Middleware

    from ui.app import build_app
    from ui.guard import Guard
    from ui.style import CSS, theme

    max_file = library.assistant.settings.max_file_bytes
    guard = Middleware(Guard, upload_folder=get_upload_folder(), max_body_bytes=MAX_REQUEST_BYTES,
                       max_upload_bytes=max_file * UPLOAD_FILES_PER_REQUEST + 100_000)
    blocked = {str(Path(p).absolute()) for p in [library.index_dir, *library.folders, library.uploads, CODE_ROOT]}
    blocked |= {os.path.realpath(p) for p in blocked}
    app = build_app(library, feedback_path=feedback)
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    app.launch(server_name=host, server_port=port, auth=auth, share=share, show_error=False, quiet=True,
               footer_links=[], css=CSS, theme=theme(), blocked_paths=sorted(blocked),
               app_kwargs={"middleware": [guard]}, prevent_thread_lock=not block)
    return app


def _log_user_errors() -> None:
    """A user's mistake goes to the server log as the one line the user saw (ui/handlers.py logs it)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    chat_log = logging.getLogger("qa.chat")
    chat_log.addHandler(handler)
    chat_log.setLevel(logging.INFO)
    chat_log.propagate = False


def serve(index_dir: Path, host: str, port: int, settings: Settings, articles: list[Path], share: bool = False,
          auth: str | None = None, feedback: Path | None = None, uploads: Path | None = None) -> int:
    """``qa serve``: check the address and login, load the index, bring in articles uploaded while it was rebuilt
    without them, warm the models, serve until stopped."""
    from qa.assistant import Assistant
    from ui.library import Library

    fewer_heaps()  # before the request threads start
    login = parse_auth(os.environ.get(AUTH_ENV) if auth is None else auth)
    _log_user_errors()
    check_exposure(host, share, login)
    check_port_free(host, port)
    library = Library(Assistant.load(index_dir, settings), index_dir, articles, uploads)
    changed = library.sync()  # after a crash mid-change too: the folders as they are now are what is meant
    if changed:
        print(f"brought the index up to date with {', '.join(map(str, articles))} and {library.uploads}: {changed} "
              f"article(s) added or dropped", flush=True)
    refusal = library.changes_refusal()  # what sync found, not read again
    if refusal is not None:
        print(f"note: {refusal}; start qa serve with --articles naming the folders the index was built from",
              file=sys.stderr, flush=True)
    assistant = library.assistant
    # Load the embedder and spaCy now: the first user should not wait seconds for them.
    assistant.answer("What happened?")
    arithmetic = getattr(assistant.reader, "arithmetic", None)  # the trained reader's, chosen for this CPU
    print(f"serving {len(assistant.documents)} articles on http://{host}:{port}"
          + (f" (the reader computes in {arithmetic}, the question encoder in "
             f"{assistant.embedder.question_arithmetic})" if arithmetic else ""), flush=True)
    launch(library, host=host, port=port, auth=login, share=share, feedback=feedback)
    return 0
