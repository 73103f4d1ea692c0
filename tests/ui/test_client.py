"""The chat's functions through gradio_client against a real `qa serve` (see conftest.ui_server)."""

import html
import json
import re

import pytest
from gradio_client import Client, handle_file

from tests.conftest import KISLYAK, SEEDS
from tests.ui.conftest import MAX_FILE_BYTES

BUDAPEST = "Who led the Russian delegation in Budapest?"
BUDAPEST_DOC = "000_0027d40a27e5cdba.txt"
MARKUP_ARTICLE = ("Springfield council statement on markup\n"
                  "The council statement quoted <script>window.__pwned = 1</script> and "
                  "<img src=x onerror=\"window.__pwned = 2\"> in its opening line on Tuesday.\n"
                  "The clerk, Margaret Okonkwo, said the statement was published by the council of Springfield.\n"
                  "Residents asked about the *asterisks*, [brackets](http://example.com) and $$x$$ in it.\n")


def new_client(server) -> Client:
    return Client(server.url, verbose=False)  # one client is one browser tab: its own conversation


def last_message(chat: list[dict]) -> str:
    """The last chat message's Markdown with character references decoded (article text arrives as "&#46;")."""
    content = chat[-1]["content"]
    text = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
    return html.unescape(text)


def article_text_of(article_html: str) -> str:
    """The article as the reader sees it: the text panel's content without tags, entities decoded."""
    body = article_html.split('<div class="qa-article-text">', 1)[1].rsplit("</div></div>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def stored(server) -> list[str]:
    """The files of the articles and uploads folders."""
    return sorted(str(p.relative_to(server.sources.parent)) for folder in (server.sources, server.uploads)
                  if folder.exists() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def budapest(ui_server):
    """One tab that asked the Budapest question: (client, outputs of /chat)."""
    client = new_client(ui_server)
    return client, client.predict(BUDAPEST, api_name="/chat")


def test_chat_shows_the_answer_in_bold_in_its_sentence_with_a_citation_marker(budapest):
    _, (box, chat, sources, notice) = budapest
    assert box == "" and notice == ""
    message = last_message(chat)
    mark = re.match(rf"\*\*{KISLYAK}\*\* (<sup.*?</sup>) <span class=\"qa-conf", message).group(1)
    assert re.fullmatch(r'<sup class="qa-cite-mark"><a href="#source-1" class="qa-cite">\[1\]</a>'
                        r'<span class="qa-preview">[^<>]+</span></sup>', mark)
    assert re.search(rf"> The Russian delegation was to be led by (Deputy Foreign Minister )?<strong>{KISLYAK}</strong>",
                     message)
    assert re.search(r"<details><summary>details</summary>answered in \d+ ms", message)  # timings, folded away


def test_sources_panel_lists_the_cited_passage_with_the_answer_highlighted(budapest):
    _, (_, _, sources, _) = budapest
    assert BUDAPEST_DOC in sources
    assert re.search(rf"<mark>{KISLYAK}</mark>", sources)
    assert re.search(r'data-n="1"', sources) and 'class="qa-badge">answer' in sources
    assert re.search(rf'data-copy="{KISLYAK}', sources)


def test_opening_a_source_shows_the_whole_article_with_the_passage_marked(budapest):
    client, _ = budapest
    article, notice = client.predict(1, api_name="/open_source")
    assert notice == ""
    text = (SEEDS / BUDAPEST_DOC).read_text(encoding="utf-8")
    assert article_text_of(article) == text  # the whole article, every character, nothing added
    passage = re.search(r'<mark class="qa-passage" id="qa-passage">(.*?)</mark>(?!.*</mark>)', article, re.S)
    assert re.search(rf'<mark class="qa-answer">{KISLYAK}</mark>', passage.group(1))


def test_a_follow_up_in_the_same_tab_answers_rood(ui_server):
    client = new_client(ui_server)
    client.predict(BUDAPEST, api_name="/chat")
    _, chat, sources, _ = client.predict("And who led the US delegation?", api_name="/chat")
    message = last_message(chat)
    assert message.startswith("**John C. Rood**")
    assert "Read as: Who led the US delegation? — " in message  # read with the earlier turn's terms: it says so
    assert "<mark>John C. Rood</mark>" in sources
    _, chat, _, _ = client.predict("What did he say?", api_name="/chat")
    assert "Read as: What did John C. Rood say?" in last_message(chat)  # "he", as the assistant took it
    other_tab = new_client(ui_server)  # another tab has no history: the same words are not a follow-up there
    _, chat, _, _ = other_tab.predict("What did he say?", api_name="/chat")
    assert "Read as" not in last_message(chat)


def test_a_thumbs_up_is_appended_to_the_feedback_file_with_offsets(ui_server):
    client = new_client(ui_server)
    client.predict(BUDAPEST, api_name="/chat")
    thanks = html.unescape(client.predict(0, "up", api_name="/feedback"))
    assert f"Thanks: your vote (helpful) on “{BUDAPEST}” is saved." in thanks and 'role="status"' in thanks
    lines = [json.loads(line) for line in ui_server.feedback.read_text(encoding="utf-8").splitlines()]
    vote = lines[-1]
    assert vote["vote"] == "up" and vote["question"] == BUDAPEST and vote["doc_id"] == BUDAPEST_DOC
    text = (SEEDS / BUDAPEST_DOC).read_text(encoding="utf-8")
    assert text[vote["start"]:vote["end"]] == vote["answer"] and re.fullmatch(KISLYAK, vote["answer"])
    assert vote["timestamp"].endswith("+00:00")


def test_a_vote_on_a_question_not_asked_or_a_bad_vote_is_a_one_line_notice(ui_server):
    client = new_client(ui_server)
    assert "there is no question number 0" in client.predict(0, "up", api_name="/feedback")
    client.predict(BUDAPEST, api_name="/chat")
    assert "a vote must be 'up' or 'down'" in html.unescape(client.predict(0, "sideways", api_name="/feedback"))


def test_an_empty_question_is_a_notice_and_the_chat_loses_nothing(ui_server):
    client = new_client(ui_server)
    client.predict(BUDAPEST, api_name="/chat")
    box, chat, sources, notice = client.predict("  ", api_name="/chat")
    assert box == "  "  # the typed text stays in the box
    assert "the question is empty" in notice
    log = ui_server.log.read_text(encoding="utf-8")  # the server log has the same one line, and no traceback
    assert "user error: the question is empty: type a question with words in it" in log and "Traceback" not in log
    assert len(chat) == 2 and re.match(rf"\*\*{KISLYAK}\*\*", last_message(chat))
    assert re.search(rf"<mark>{KISLYAK}</mark>", sources)


def test_a_question_the_articles_do_not_answer_says_not_found_and_offers_passages(ui_server):
    client = new_client(ui_server)
    _, chat, sources, _ = client.predict("What is the recipe for a good pizza dough?", api_name="/chat")
    assert last_message(chat).startswith("**Not found in the articles.**")
    assert "Not found in the articles" in sources and sources.count('class="qa-source"') >= 3
    assert "qa-copy" not in sources  # nothing to copy


def test_an_uploaded_article_is_answerable_once_indexed_and_its_markup_shows_as_text(ui_server, wait_until_added,
                                                                                   tmp_path):
    upload = tmp_path / "council.md"
    upload.write_text(MARKUP_ARTICLE, encoding="utf-8")
    client = new_client(ui_server)
    note = client.predict([handle_file(upload)], api_name="/add_articles")
    assert "council.md" in note and "qa-error" not in note
    assert "you can ask about it now" in wait_until_added(client, "council.md")
    assert (ui_server.uploads / "council.md").read_text(encoding="utf-8") == MARKUP_ARTICLE
    assert not (ui_server.sources / "council.md").exists() and not (SEEDS / "council.md").exists()
    assert new_client(ui_server).predict(api_name="/status") == ""  # another tab is not told

    _, chat, sources, _ = client.predict("Who is the clerk of the Springfield council?", api_name="/chat")
    assert "Margaret Okonkwo" in last_message(chat) and "council.md" in sources
    article, _ = client.predict(1, api_name="/open_source")
    assert "<script" not in article and "<img" not in article
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in article
    assert article_text_of(article) == MARKUP_ARTICLE
    raw = chat[-1]["content"] if isinstance(chat[-1]["content"], str) else chat[-1]["content"][0]["text"]
    assert "<script" not in raw and "[brackets]" not in raw and "*" not in raw.replace("**", "")


def test_uploads_of_the_wrong_type_too_large_or_taken_names_are_refused_one_line_each(ui_server, tmp_path):
    too_large = tmp_path / "huge.txt"
    too_large.write_text("Big news.\n" * (MAX_FILE_BYTES // 10 + 1), encoding="utf-8")
    binary = tmp_path / "notes.txt"
    binary.write_bytes(b"\x00\x01binary")
    taken = tmp_path / BUDAPEST_DOC
    taken.write_text("A different article under a name the library already has.\n", encoding="utf-8")
    before = stored(ui_server)
    client = new_client(ui_server)
    refused = client.predict([handle_file(p) for p in (binary, taken)], api_name="/add_articles")
    assert "notes.txt: is not a text file, so no article can be read from it" in refused
    assert "NUL" not in refused  # plain words in the page; the CLI names the bytes
    assert f"{BUDAPEST_DOC}: an article of that name is already in the library" in refused
    # The library's own limit and note, in the units of the upload box's label (not a client-side error).
    refused = client.predict([handle_file(too_large)], api_name="/add_articles")
    assert f"huge.txt: is {MAX_FILE_BYTES + 10:,} bytes; an article may be at most 50 KB" in refused
    assert stored(ui_server) == before
    assert (ui_server.sources / BUDAPEST_DOC).read_bytes() == (SEEDS / BUDAPEST_DOC).read_bytes()


def test_a_page_address_the_server_may_not_fetch_is_refused_in_plain_words(ui_server):
    client = new_client(ui_server)
    outputs = client.predict("http://127.0.0.1:9/news/story", api_name="/fetch_page")
    text = html.unescape(" ".join(str(part) for part in outputs))
    assert "http://127.0.0.1:9/news/story: is on a private network, which this server does not fetch from" in text
    assert "QA_ALLOW_PRIVATE_URLS" not in text  # the CLI names the setting; the page does not
