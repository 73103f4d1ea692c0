"""Fetch a web page to index: http or https only, public addresses only, bounded in time and size.

The page is saved as a ``.html`` file named by its headline into an article folder, so the index can be rebuilt
offline and the page is read as any saved page is (``embeddings.html_article``). It is read once before it is kept,
in a separate process with a time and a memory limit (``embeddings.read_apart``): a page is a stranger's file.
A URL whose host resolves to a private, loopback, link-local or reserved address is refused, and so is a redirect
to one, unless ``allow_private_urls`` is set (intranets, tests): a link must not make the tool read the machine's
or the network's own services. The check resolves the name before connecting, so a name that re-resolves between
the check and the connection (DNS rebinding) is not covered; that needs a resolving proxy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import os
import re
import socket
import time
import uuid
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from core.config import Settings
from core.errors import DocumentError
from core.files import write_atomically
from core.records import Document
from embeddings.read_apart import load_file_apart

# One socket operation (connect, a read) may take this long; the whole fetch has Settings.fetch_seconds, checked
# between operations, so a server that trickles a byte at a time is cut off at the deadline, plus one operation.
STALL_S = 5.0
READ_BYTES = 65536
HTML_TYPES = ("text/html", "application/xhtml+xml")
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def is_url(text: str) -> bool:
    return "://" in text


def check_url(url: str, allow_private: bool) -> None:
    """Raise DocumentError (one line) for a URL the tool must not fetch."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:  # "[::1", a port that is not a number
        raise DocumentError(f"{url}: is not a valid link ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise DocumentError(f"{url}: only http and https links can be fetched")
    if not parts.hostname:
        raise DocumentError(f"{url}: the link names no host")
    if "@" in parts.netloc:  # "http://127.0.0.1:80@example.org/": which host is meant is a matter of parser
        raise DocumentError(f"{url}: links with a user name or password are not fetched")
    if "\\" in parts.netloc:
        raise DocumentError(f"{url}: is not a valid link (a backslash in the host)")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or None)}
    except (socket.gaierror, UnicodeError) as error:
        raise DocumentError(f"{url}: the host cannot be found ({error.__class__.__name__})",
                            plain=f"{url}: the site cannot be found") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not allow_private and not ip.is_global:
            raise DocumentError(f"{url}: {parts.hostname} is a private or loopback address ({ip}); set "
                                f"QA_ALLOW_PRIVATE_URLS=1 to fetch from this network",
                                plain=f"{url}: is on a private network, which this server does not fetch from")


class _Deadline:
    def __init__(self, url: str, seconds: float):
        self.url, self.seconds, self.at = url, seconds, time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise DocumentError(f"{self.url}: took longer than {self.seconds:g} s to fetch; try again later",
                                plain=f"{self.url}: the site took too long to answer")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_private: bool, deadline: _Deadline):
        self.allow_private, self.deadline = allow_private, deadline

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.deadline.check()
        check_url(newurl, self.allow_private)  # a public page must not redirect into the local network
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclasses.dataclass(frozen=True)
class Fetched:
    path: Path  # where the page was saved
    document: Document  # what it reads as there: the index need not read it again


def fetch_page(url: str, folder: Path, settings: Settings | None = None) -> Fetched:
    """Fetch ``url`` and save it into ``folder`` as a ``.html`` file named by its headline. Raises DocumentError."""
    settings = Settings() if settings is None else settings
    deadline = _Deadline(url, settings.fetch_seconds)
    check_url(url, settings.allow_private_urls)
    opener = urllib.request.build_opener(_CheckedRedirects(settings.allow_private_urls, deadline))
    request = urllib.request.Request(url, headers={"User-Agent": "news-qa/0.1 (+article fetch)",
                                                   "Accept": "text/html,application/xhtml+xml"})
    limit = settings.max_file_bytes
    try:
        with opener.open(request, timeout=min(STALL_S, settings.fetch_seconds)) as response:
            kind = response.headers.get_content_type()
            if kind not in HTML_TYPES:
                raise DocumentError(f"{url}: is {kind}, not a web page")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise DocumentError(f"{url}: is {int(declared):,} bytes, over the {limit:,}-byte limit")
            data = _read_body(response, limit + 1, deadline)
    except DocumentError:
        raise
    except urllib.error.HTTPError as error:
        raise DocumentError(f"{url}: the server answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DocumentError(f"{url}: cannot be fetched ({' '.join(str(reason).split())[:120]})") from None
    if len(data) > limit:
        raise DocumentError(f"{url}: is over the {limit:,}-byte limit for one article")
    # Where it came from, as browsers mark a saved page ("saved from url=(0042)https://…"): the library links back.
    data = saved_from_mark(url) + data
    temporary = folder / f".fetched-{uuid.uuid4().hex}.html"  # hidden: no index reads it
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(temporary, data)
        # Read as the index will before keeping it: a page without article text (or a body still compressed)
        # would otherwise stay in the folder, never listed, so nobody could remove it.
        document = _read(temporary, url, page_name(url), limit)
        # A page without a headline is titled "FILE: its first words" (loader.title_of), by the name read under.
        untitled = f"{Path(document.doc_id).stem}: "
        headline = None if document.title.startswith(untitled) else document.title
        path = folder / saved_name(url, headline, folder)
        os.replace(temporary, path)  # a page fetched again replaces its copy
    except OSError as error:
        raise DocumentError(f"{url}: could not be saved into {folder} ({error.strerror or error})") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    title = headline or f"{path.stem}: {document.title.removeprefix(untitled)}"
    return Fetched(path, dataclasses.replace(document, doc_id=path.name, path=str(path), title=title))


def _read(path: Path, url: str, name: str, limit: int) -> Document:
    try:
        return load_file_apart(path, name, limit)
    except DocumentError as error:
        raise DocumentError(f"{url}: {str(error).removeprefix(f'{name}: ')}",
                            plain=f"{url}: {error.plain.removeprefix(f'{name}: ')}") from None


def saved_from_mark(url: str) -> bytes:
    """The comment a browser puts atop a page it saves; html_article reads the address back from it."""
    return f"<!-- saved from url=({len(url):04d}){url} -->\n".encode()


def _read_body(response, limit: int, deadline: _Deadline) -> bytes:
    """Up to ``limit`` bytes of the body, whatever arrives at each read, until the deadline."""
    chunks, size = [], 0
    while size < limit:
        deadline.check()
        chunk = response.read1(min(READ_BYTES, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def page_name(url: str) -> str:
    """A stable file name for a URL: its host and path as words, and a short hash that tells similar ones apart."""
    parts = urllib.parse.urlsplit(url)
    return _named(f"{parts.hostname or ''}{parts.path}", url) or f"page-{_url_hash(url)}.html"


def saved_name(url: str, headline: str | None, folder: Path) -> str:
    """The page's file name: its headline as words (its address where it has none), and the address's short hash.
    A page fetched before keeps the name it was given, so its id in the library stays the same."""
    for earlier in folder.glob(f"*-{_url_hash(url)}.html"):
        return earlier.name
    return _named(headline or "", url) or page_name(url)


def _named(words: str, url: str) -> str:
    words = _SLUG.sub("-", words).strip("-")[:80].rstrip("-")
    return f"{words}-{_url_hash(url)}.html" if words else ""


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
