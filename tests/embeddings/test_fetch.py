"""Fetching a page to index: served from a loopback HTTP server, never the internet."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time

import pytest

from core.config import Settings
from core.errors import DocumentError
from embeddings.fetch import check_url, fetch_page, page_name, saved_from_mark
from embeddings.loader import load_file
from tests.conftest import ROOT

ARTICLE = ("<html><head><title>Talks resume in Budapest</title><meta property='og:site_name' content='Desk'>"
           "</head><body><nav>Home | World</nav><article><h1>Talks resume in Budapest</h1>"
           "<p>The Russian delegation was led by Deputy Foreign Minister Sergei Kislyak, officials said on Friday."
           "</p><p>The US side was led by John C. Rood, who spoke to reporters after the meeting ended.</p>"
           "</article></body></html>").encode()
UNTITLED = ("<html><body><article><p>The Russian delegation was led by Deputy Foreign Minister Sergei Kislyak, "
            "officials said on Friday, after two days of talks that both sides called useful and frank.</p><p>The US "
            "side was led by John C. Rood, who spoke to reporters after the meeting ended on Friday evening.</p>"
            "</article></body></html>").encode()
ALLOWED = Settings(allow_private_urls=True, max_file_bytes=10_000)


class Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/article":
            self._send(200, "text/html; charset=utf-8", ARTICLE)
        elif self.path == "/untitled":
            self._send(200, "text/html", UNTITLED)
        elif self.path == "/big":
            self._send(200, "text/html", b"<p>" + b"x" * 20_000 + b"</p>")
        elif self.path == "/no-article":
            self._send(200, "text/html", b"<html><head><title>Menu</title></head><body><nav>Home</nav></body></html>")
        elif self.path == "/image":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n")
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/trickle":  # a byte every 0.1 s for up to 60 s, as a stalling server sends
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "600")
            self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:  # the client hung up at its deadline
                pass
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.end_headers()
        else:
            self._send(404, "text/plain", b"no")

    def _send(self, code, kind, body):
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_loopback_page_is_refused_unless_private_urls_are_allowed(site, tmp_path):
    with pytest.raises(DocumentError, match="private or loopback address.*QA_ALLOW_PRIVATE_URLS=1"):
        fetch_page(f"{site}/article", tmp_path)
    fetched = fetch_page(f"{site}/article", tmp_path, ALLOWED)
    saved = fetched.path
    # The page as served, under the mark a browser puts atop a page it saves: the library links back to it.
    assert saved.parent == tmp_path and saved.suffix == ".html"
    assert saved.read_bytes() == saved_from_mark(f"{site}/article") + ARTICLE
    assert fetched.document == load_file(saved, saved.name, 5_000_000)  # read once, as the index would read it
    assert fetched.document.url == f"{site}/article" and fetched.document.title == "Talks resume in Budapest"
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]  # no temporary file left
    moved = fetch_page(f"{site}/moved", tmp_path, ALLOWED)  # a redirect inside is followed
    assert moved.path.read_bytes().endswith(ARTICLE)


def test_a_page_is_named_by_its_headline_and_keeps_its_name_when_fetched_again(site, tmp_path):
    first = fetch_page(f"{site}/article", tmp_path, ALLOWED).path
    assert first.name.startswith("Talks-resume-in-Budapest-") and first.name != page_name(f"{site}/article")
    again = fetch_page(f"{site}/article", tmp_path, ALLOWED)
    assert again.path == first and again.document.doc_id == first.name and len(list(tmp_path.iterdir())) == 1
    untitled = fetch_page(f"{site}/untitled", tmp_path, ALLOWED)  # no headline: named by its address
    assert untitled.path.name == page_name(f"{site}/untitled")
    assert untitled.document.title.startswith(f"{untitled.path.stem}: The Russian delegation was led by")


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.org/a", "only http and https"),
    ("http://10.0.0.1/x", "private or loopback"),
    ("http://169.254.169.254/latest/meta-data", "private or loopback"),
    ("http://[::1]/", "private or loopback"),
    ("http:///nohost", "names no host"),
    ("http://127.0.0.1:7943@127.0.0.1/", "user name or password"),
    ("http://127.0.0.1:7943\\@127.0.0.1/", "user name or password"),
    ("http://127.0.0.1:notaport/", "not a valid link"),
    ("http://[::1/", "not a valid link"),
])
def test_links_that_must_not_be_fetched_are_refused_in_one_line(url, message):
    with pytest.raises(DocumentError, match=message) as error:
        check_url(url, allow_private=False)
    assert "\n" not in str(error.value)


def test_a_redirect_out_of_http_a_non_page_a_huge_page_and_a_404_are_refused(site, tmp_path):
    for path, message in (("/to-file", "Redirection to url 'file:///etc/passwd' is not allowed"), ("/image", "is image/png, not a web page"),
                          ("/big", "over the 10,000-byte limit"), ("/gone", "answered 404")):
        with pytest.raises(DocumentError, match=message) as error:
            fetch_page(f"{site}{path}", tmp_path, ALLOWED)
        assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-saved
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DocumentError, match="could not be saved into") as error:
        fetch_page(f"{site}/article", tmp_path / "file", ALLOWED)
    assert "\n" not in str(error.value)


def test_a_page_that_is_not_an_article_is_refused_and_nothing_is_left_in_the_folder(site, tmp_path):
    # Saved first and indexed later, such a page stayed in the uploads folder, unlisted and beyond removal.
    with pytest.raises(DocumentError, match=f"^{site}/no-article: ") as error:
        fetch_page(f"{site}/no-article", tmp_path, ALLOWED)
    assert "\n" not in str(error.value) and "no-article.html" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_trickles_bytes_is_cut_off_at_the_fetch_deadline(site, tmp_path):
    # Every read returned within the socket timeout, so before a total deadline this fetch ran for a minute.
    with pytest.raises(DocumentError, match=r"took longer than 1\.5 s to fetch"):
        fetch_page(f"{site}/trickle", tmp_path, Settings(allow_private_urls=True, fetch_seconds=1.5))
    assert list(tmp_path.iterdir()) == []


def test_qa_index_fetches_a_link_saves_it_and_indexes_it(site, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    run = [sys.executable, "-m", "cli.main", "index", str(folder), f"{site}/article", "--index", str(tmp_path / "i")]
    env = {"QA_ALLOW_PRIVATE_URLS": "1", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "indexed 1 articles" in result.stdout and len(list(folder.glob("*.html"))) == 1
    alone = [sys.executable, "-m", "cli.main", "index", f"{site}/moved", "--index", str(tmp_path / "i")]
    result = subprocess.run(alone, capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert result.returncode == 0, result.stderr  # no folder named: saved where the chat saves, seeds indexed too
    saved = [p.name for p in (tmp_path / "i-uploads").iterdir()]
    assert len(saved) == 1 and saved[0].startswith("Talks-resume-in-Budapest-")
    assert "indexed 6 articles" in result.stdout
    refused = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=300,
                             env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert refused.returncode == 2 and "private or loopback" in refused.stderr
    assert refused.stderr.count("\n") == 1
