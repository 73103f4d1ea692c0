"""Web safety of a real ``qa serve``: loopback by default, no public address or share link without a login, no
file served but a user's own uploads, no stack trace in any response, size and type limits on uploads, and article
markup shown as text, never run."""

from __future__ import annotations

import html
import http.client
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REBUILD_WAIT_S, ROOT, WAIT_S

pytest.register_assert_rewrite("tests.live_server")
from tests.live_server import ask_raw, call_raw, free_port, reply_text  # noqa: E402
from ui.library import Library  # noqa: E402
from ui.server import check_exposure, is_loopback, launch  # noqa: E402

pytest_plugins = ["tests.live_server"]

SECRET = "qa-secret-7f3e9b1c"  # the content of a file no request may read
# What each protected place holds, to recognise it in a response body.
MARKERS = ("root:x:0:0", SECRET, "manifest_sha256", "Kislyak led the Russian delegation", "The one place for settings",
           'name = "news-qa"', "HF_HUB_OFFLINE")
TRACE = re.compile(r"Traceback|File \"/|line \d+, in ")


def raw_get(server, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    """GET exactly ``path`` (no client-side clean-up of ``..`` or encodings, as httpx would do)."""
    host, port = server.url.split("//")[1].strip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_S)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text(SECRET)
    return path


def probe_paths(server, secret: Path) -> list[str]:
    upload_parent = Path(_upload_folder(server)).parent
    port = server.url.rstrip("/").rsplit(":", 1)[1]
    targets = [
        "/etc/passwd", "../../../../../../etc/passwd", "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        f"{server.index_dir}/manifest.json", f"{server.index_dir.resolve()}/dense.faiss",
        f"{server.sources}/budapest.txt", f"{ROOT}/core/config.py", f"{ROOT}/pyproject.toml", "core/config.py",
        "/proc/self/environ", str(secret), f"{_upload_folder(server)}/../{secret.parent.name}/secret.txt",
        f"{upload_parent}/{secret.parent.name}/secret.txt", f"http://127.0.0.1:{port}/config", "file:///etc/passwd",
        "/etc/passwd%00.txt",
    ]
    paths = [f"{prefix}{target}" for prefix in ("/file=", "/gradio_api/file=") for target in targets]
    return paths + [
        "/gradio_api/file/etc/passwd", f"/gradio_api/file/{ROOT}/pyproject.toml", "/static/../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd", "/svelte/../../../../etc/passwd",
        f"/gradio_api/proxy=http://127.0.0.1:{port}/config", "/proxy=http://127.0.0.1/",
        "//etc/passwd", "/gradio_api/file=\\etc\\passwd",
        "/custom_component/x/client/y/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ]


def _upload_folder(server) -> str:
    """Where Gradio keeps uploads, learned by uploading a file."""
    if not hasattr(server, "upload_folder"):
        paths = upload(server, "probe.txt", b"An uploaded probe.\n").json()
        server.upload_folder = str(Path(paths[0]).parent.parent)
    return server.upload_folder


def upload(server, name: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}gradio_api/upload", files={"files": (name, data)}, timeout=REBUILD_WAIT_S)


def test_the_server_listens_on_loopback_only(live_server):
    port = int(live_server.url.rstrip("/").rsplit(":", 1)[1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                listening.add(address)
    assert listening == {"0100007F"}  # 127.0.0.1, and nothing on IPv6


def test_a_public_address_or_a_share_link_needs_a_login():
    for host in ("0.0.0.0", "::", "192.168.1.20", "news.example.org", ""):
        with pytest.raises(Exception, match="login|--auth"):
            check_exposure(host, share=False, auth=None)
        check_exposure(host, share=False, auth=("reader", "s3cret"))
    with pytest.raises(Exception, match="share link needs a login"):
        check_exposure("127.0.0.1", share=True, auth=None)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert is_loopback(host)
        check_exposure(host, share=False, auth=None)


def test_a_login_guards_every_route_when_set(assistant, seed_index, tmp_path):
    from gradio_client import Client

    port = free_port()
    app = launch(Library(assistant, seed_index, [tmp_path / "articles"], tmp_path / "uploads"), host="127.0.0.1",
                 port=port, auth=("reader", "s3cret"), block=False, feedback=tmp_path / "feedback.jsonl")
    url = f"http://127.0.0.1:{port}/"
    try:
        for path in ("config", "gradio_api/info", "gradio_api/file=/etc/passwd"):
            assert httpx.get(url + path, timeout=WAIT_S).status_code in (401, 403), path
        assert httpx.post(url + "login", data={"username": "reader", "password": "wrong"}).status_code >= 400
        client = Client(url, auth=("reader", "s3cret"), verbose=False)
        result = client.predict("Who led the Russian delegation in Budapest?", api_name="/chat")
        assert "Kislyak" in reply_text(result)
    finally:
        app.close()


def test_no_file_outside_the_uploads_is_served_on_any_of_many_paths(live_server, secret_file):
    paths = probe_paths(live_server, secret_file)
    assert len(paths) >= 30
    served = []
    for path in paths:
        status, body, _ = raw_get(live_server, path)
        text = body.decode("utf-8", "replace")
        if status < 400 or any(marker in text for marker in MARKERS) or TRACE.search(text):
            served.append(f"{path} -> {status} {text[:80]!r}")
    assert served == []


def test_an_upload_is_served_back_but_never_as_a_page(live_server):
    text_path = upload(live_server, "note.txt", b"A plain note.\n").json()[0]
    status, body, headers = raw_get(live_server, f"/gradio_api/file={text_path}")
    assert (status, body) == (200, b"A plain note.\n")
    assert headers["x-content-type-options"] == "nosniff"
    html_path = upload(live_server, "page.html", b"<script>window.__pwned = 3</script>").json()[0]
    status, _, headers = raw_get(live_server, f"/gradio_api/file={html_path}")
    assert status == 200 and "text/html" not in headers["content-type"]
    assert headers.get("content-disposition", "").startswith("attachment")


def test_a_call_naming_a_file_not_uploaded_here_is_refused_in_one_line(live_server, secret_file):
    for path, name in ((str(secret_file), "notes.txt"), ("/etc/passwd", None),
                       (f"{live_server.sources}/../../../etc/passwd", "passwd.txt")):
        file = {"path": path, "meta": {"_type": "gradio.FileData"}} | ({"orig_name": name} if name else {})
        code, event, text = call_raw(live_server.url, "add_articles", json.dumps({"data": [[file]]}).encode())
        assert code == 400 and event == "", text
        assert json.loads(text) == {"error": f"{name or 'passwd'}: only files uploaded to this page can be added"}
    # A call that names nothing outside still reaches the app: the guard hands the body on whole.
    code, event, result = call_raw(live_server.url, "add_articles", json.dumps({"data": [[]]}).encode())
    assert code == 200 and event in ("complete", "error"), result
    code, event, result = ask_raw(live_server, "Who led the Russian delegation in Budapest?")
    assert code == 200 and "Kislyak" in reply_text(result)


def test_uploads_over_the_size_limit_or_of_the_wrong_type_are_refused(live_server):
    # One file over the article limit is stored for the moment and refused by the app's own check, in the page's
    # own words and units (Gradio's own limit was a passing toast in other units).
    path = upload(live_server, "big.txt", b"a" * 5_000_001).json()[0]
    payload = {"data": [[{"path": path, "orig_name": "big.txt", "meta": {"_type": "gradio.FileData"}}]]}
    code, event, result = call_raw(live_server.url, "add_articles", json.dumps(payload).encode())
    assert code == 200 and "big.txt: is 5,000,001 bytes; an article may be at most 5 MB" in reply_text(result)
    # A body declared as huge is refused before any of it is read.
    host, port = live_server.url.split("//")[1].strip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_S)
    connection.putrequest("POST", "/gradio_api/upload")
    connection.putheader("Content-Length", "900000000")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and b"limit" in response.read()
    connection.close()
    # A body that never says its length is counted as it arrives.
    def nine_megabytes():
        yield b'{"data": ["'
        for _ in range(9):
            yield b"x" * 1_000_000
        yield b'"]}'

    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT_S)
    connection.request("POST", "/gradio_api/call/chat", body=nine_megabytes(),
                       headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413 and b"8,000,000-byte limit" in response.read()
    connection.close()
    for name, data in (("page.html", b"<html><script>alert(1)</script></html>"), ("tool.exe", b"MZ\x90\x00" * 50),
                       ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)):
        path = upload(live_server, name, data).json()[0]
        payload = {"data": [[{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}]]}
        code, event, result = call_raw(live_server.url, "add_articles", json.dumps(payload).encode())
        message = reply_text(result) if event == "complete" else json.dumps(result)
        refused = ("can't be added (articles are .txt" in html.unescape(message)
                   or "no article text was found" in message)
        assert code == 200 and refused, message
        assert not TRACE.search(message)
    assert sorted(p.name for p in live_server.sources.iterdir()) == ["bridge.txt", "budapest.txt", "harvest.txt",
                                                                    "markup.txt"]


def fetch(method: str, url: str, **kwargs) -> tuple[int, str]:
    """Status and body, keeping what arrived when the server cuts a stream short (Gradio does, for an unknown
    event id): a cut-off body must not carry a stack trace either."""
    body = b""
    with httpx.stream(method, url, timeout=WAIT_S, **kwargs) as response:
        try:
            for chunk in response.iter_bytes():
                body += chunk
        except httpx.RemoteProtocolError:
            pass
    return response.status_code, body.decode("utf-8", "replace")


def test_malformed_requests_get_short_errors_without_stack_traces(live_server):
    url = live_server.url
    answers = [
        fetch("POST", f"{url}gradio_api/call/chat", content=b"{not json", headers={"content-type": "application/json"}),
        fetch("POST", f"{url}gradio_api/call/chat", json={"data": "a string, not a list"}),
        fetch("POST", f"{url}gradio_api/call/no_such_endpoint", json={"data": ["who?"]}),
        fetch("POST", f"{url}gradio_api/queue/join", json={"fn_index": 99999, "data": [], "session_hash": "x"}),
        fetch("GET", f"{url}gradio_api/call/chat/not-an-event"),
        fetch("POST", f"{url}gradio_api/upload", content=b"no multipart here"),
        fetch("GET", f"{url}gradio_api/no/such/route"),
    ]
    for status, text in answers:
        assert status != 500 or text.strip() == "Internal Server Error", text[:300]
        assert not TRACE.search(text) and len(text) < 2000, text[:300]
    status, event, data = ask_raw(live_server, "Who led the Russian delegation in Budapest?")
    assert "Kislyak" in reply_text(data)


def test_article_markup_reaches_the_browser_as_text_and_never_runs(live_server):
    from playwright.sync_api import sync_playwright

    question = "What did the council statement quote?"
    _, _, data = ask_raw(live_server, question)
    shown = reply_text(data)
    assert "council" in shown
    assert "<script>window" not in shown and 'onerror="window' not in shown
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(live_server.url)
            box = page.locator("#qa-question textarea")
            box.fill(question)
            box.press("Enter")
            source = page.locator("#qa-sources .qa-source", has_text="markup.txt").first
            source.wait_for(timeout=REBUILD_WAIT_S * 1000)
            source.click()  # the whole article, markup and all
            page.locator("#qa-article .qa-article-text").wait_for(timeout=WAIT_S * 1000)
            time.sleep(0.5)  # an onerror handler would have run by now
            assert "<script>" in page.locator("#qa-article .qa-article-text").inner_text()
            assert page.evaluate("window.__pwned") is None and dialogs == []
        finally:
            browser.close()
