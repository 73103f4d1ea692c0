"""An ASGI middleware in front of the Gradio app: what the chat never needs is refused before Gradio sees it.

- Files: ``/file=`` routes serve only files inside Gradio's upload folder (a user's own upload), never a URL,
  the index, the sources, the code or anything else on the machine; ``/proxy=`` (for Hugging Face Spaces) is off.
- Size: a request body over its limit is refused with 413 (uploads have a larger limit than questions), so a
  megabyte question or a forged giant history costs nothing but the refusal.
- Files named in a call: an API call that names a file not uploaded to this server (``/etc/passwd`` as an
  article to add) is refused in one line; Gradio refused it with ``{"error": null}`` and a traceback in the log.
- Headers: ``nosniff`` and ``no-referrer`` on every response.
Refusals are one line of JSON ``{"error": "..."}``: no stack trace, no path that was not asked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote

_FILE_ROUTES = ("/file=", "/file/")
_API_CALLS = ("/call/", "/queue/join", "/run/")  # requests whose JSON body may name files
_EXTRA_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def _file_target(path: str) -> str | None:
    """The path a ``/file=`` route would serve (``/gradio_api/file=/tmp/x`` → ``/tmp/x``), else None."""
    for marker in _FILE_ROUTES:
        at = path.find(marker)
        if at != -1 and path[:at] in ("", "/gradio_api"):
            return path[at + len(marker):]
    return None


def _is_inside(target: str, folder: Path) -> bool:
    # unquote once more: Starlette decoded the URL once, and a double-encoded "%252e%252e" must not slip past.
    candidate = Path(unquote(target))
    if not candidate.is_absolute() or "\x00" in target:
        return False
    resolved = Path(os.path.realpath(candidate))  # follows links, folds "..": where the bytes really are
    return resolved.is_relative_to(folder)


def _foreign_file(value, folder: Path) -> str | None:
    """The name of a file that a call's JSON names (a ``{"path": ...}`` object) outside ``folder``, else None."""
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and not _is_inside(path, folder):
            return str(value.get("orig_name") or Path(path).name or path)
        value = list(value.values())
    if isinstance(value, list):
        return next((name for item in value if (name := _foreign_file(item, folder))), None)
    return None


class Guard:
    """``Guard(app, upload_folder=..., max_body_bytes=..., max_upload_bytes=...)``; see the module docstring."""

    def __init__(self, app, upload_folder: str, max_body_bytes: int, max_upload_bytes: int):
        self.app = app
        self.upload_folder = Path(os.path.realpath(upload_folder))
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if "/proxy=" in path:
            return await _refuse(send, 403, "this server does not proxy other sites")
        target = _file_target(path)
        if target is not None and not _is_inside(target, self.upload_folder):
            return await _refuse(send, 403, "file not allowed")
        limit = self.max_upload_bytes if path.rstrip("/").endswith("/upload") else self.max_body_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _refuse(send, 413, f"the request is larger than the {limit:,}-byte limit")
        received = 0
        started = refused = False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a body sent without Content-Length, or longer than it said
                    refused = True
                    if not started:
                        await _refuse(send, 413, f"the request is larger than the {limit:,}-byte limit")
                    return {"type": "http.disconnect"}  # the app stops reading, as if the client had gone
            return message

        async def send_with_headers(message):
            nonlocal started
            if refused:  # the client already has its answer
                return
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *_EXTRA_HEADERS]}
            await send(message)

        if scope.get("method") != "POST" or not any(marker in path for marker in _API_CALLS):
            return await self.app(scope, counted_receive, send_with_headers)
        # A call's body is small (max_body_bytes): read it whole, check the files it names, then hand it on.
        body = b""
        while True:
            message = await counted_receive()
            if message["type"] != "http.request":
                return  # the client left, or the body ran over its limit (refused above)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            foreign = _foreign_file(json.loads(body), self.upload_folder)
        except ValueError:
            foreign = None  # not JSON: Gradio answers that itself
        if foreign is not None:
            return await _refuse(send, 400, f"{foreign}: only files uploaded to this page can be added")
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replayed_receive():
            return pending.pop() if pending else await receive()

        await self.app(scope, replayed_receive, send_with_headers)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *_EXTRA_HEADERS]})
    await send({"type": "http.response.body", "body": body})
