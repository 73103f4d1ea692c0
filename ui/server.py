"""``qa serve``: load the index once and serve the chat on a local port."""

from __future__ import annotations

import socket
from pathlib import Path

from qa.config import Settings
from qa.errors import InputError


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line before Gradio would print a traceback about the port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise InputError(f"port {port} on {host} is in use; stop the other server or pass --port") from None


def serve(index_dir: Path, host: str, port: int, settings: Settings, sources: list[Path]) -> int:
    from qa.assistant import Assistant
    from ui.app import build_app

    if not 0 < port < 65536:
        raise InputError(f"port must be between 1 and 65535. Currently, port is {port}")
    check_port_free(host, port)
    assistant = Assistant.load(index_dir, settings)
    app = build_app(assistant)
    print(f"serving {len(assistant.documents)} articles on http://{host}:{port}", flush=True)
    app.queue(default_concurrency_limit=4).launch(server_name=host, server_port=port, show_error=False,
                                                  quiet=True, footer_links=[])
    return 0
