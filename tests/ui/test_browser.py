"""A person in a real browser (Debian's chromium, headless, driven by Playwright) against a real `qa serve`.

Screenshots go to $SCREENSHOT_DIR (default: screenshots/ at the repository root); their paths and the time from
pressing Enter to the answer shown are printed (pytest -s shows them, -rA lists them).
"""

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import KISLYAK, REBUILD_WAIT_S, ROOT, WAIT_S
from tests.ui.test_examples import BUDAPEST_EXAMPLES

pytest_plugins = ["tests.live_server"]  # a second server, over four short articles of which one is on Budapest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
WAIT_MS, REBUILD_MS = int(WAIT_S * 1000), int(REBUILD_WAIT_S * 1000)
expect.set_options(timeout=WAIT_MS)  # Playwright's own default is 5 s: a busy machine's follow-up ran out of it
SPRINGFIELD = ("Springfield council statement\n"
               "The council statement quoted <script>window.__pwned = 1</script> and "
               "<img src=x onerror=\"window.__pwned = 2\"> in its opening line on Tuesday.\n"
               "The town treasurer, Rosalind Achterberg, said the budget would be published in May.\n")


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, ui_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(ui_server.url)
    page.locator("#qa-question textarea").wait_for()
    yield page
    context.close()


def ask(page, question: str, expected: str) -> float:
    """Type ``question``, press Enter, wait until the newest answer shows ``expected``; seconds it took."""
    box = page.locator("#qa-question textarea")
    box.fill(question)
    answers = page.locator('#qa-chat [data-testid="bot"]')
    before = answers.count()
    started = time.perf_counter()
    box.press("Enter")
    expect(answers).to_have_count(before + 1)
    expect(answers.last).to_contain_text(expected)
    return time.perf_counter() - started


def shoot(page, folder: Path, name: str) -> Path:
    path = folder / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def test_ask_open_the_source_follow_up_and_get_an_abstention(page, ui_server, screenshots):
    seconds = ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    answer = page.locator('#qa-chat [data-testid="bot"]').last
    expect(answer.locator("strong").first).to_have_text(re.compile(f"^{KISLYAK}$"))
    expect(answer.locator("blockquote")).to_contain_text("The Russian delegation was to be led by")
    cited = page.locator("#qa-sources .qa-source").first
    expect(cited.locator("mark")).to_have_text(re.compile(f"^{KISLYAK}$"))
    expect(cited).to_contain_text("000_0027d40a27e5cdba.txt")
    shoot(page, screenshots, "1-answer.png")

    cited.click()
    passage = page.locator("#qa-article #qa-passage")
    expect(passage).to_be_visible()
    expect(passage.locator("mark.qa-answer")).to_have_text(re.compile(f"^{KISLYAK}$"))
    expect(passage).to_be_in_viewport()
    shoot(page, screenshots, "2-article.png")

    follow_up = ask(page, "And who led the US delegation?", "Rood")
    visible = page.locator("#qa-chat").inner_text()  # what a person sees: a closed details line hides its text
    assert not re.search(r"\d\s*ms\b", visible) and "characters" not in visible
    answer = page.locator('#qa-chat [data-testid="bot"]').last
    expect(answer).to_contain_text("Read as: Who led the US delegation? — ")  # read with the first turn's terms
    expect(page.get_by_role("tab", name="Sources")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-sources .qa-source mark").first).to_have_text("John C. Rood")
    shoot(page, screenshots, "3-follow-up.png")

    ask(page, "What is the recipe for a good pizza dough?", "Not found in the articles")
    expect(page.locator("#qa-sources")).to_contain_text("Not found in the articles")
    shoot(page, screenshots, "4-abstention.png")
    print(f"Enter to answer shown: {seconds * 1000:.0f} ms (first question), {follow_up * 1000:.0f} ms (follow-up)")
    assert seconds < 10 and follow_up < 10


def test_a_follow_up_leaning_on_two_earlier_turns_gets_the_date_and_says_how_it_was_read(page, screenshots):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    ask(page, "And the American one?", "Rood")
    ask(page, "When did they meet?", "December 13")
    answer = page.locator('#qa-chat [data-testid="bot"]').last
    expect(answer.locator("strong").first).to_have_text("December 13")
    expect(answer).to_contain_text("Read as: When did they meet? — John C. Rood")
    shoot(page, screenshots, "3b-follow-up-read-as.png")


def test_thumbs_up_copy_answer_and_a_passage_at_the_end_of_an_article_scrolled_into_view(page, ui_server,
                                                                                           screenshots):
    ask(page, "When was the original CFE Treaty signed?", "1990")
    page.locator('#qa-chat button[aria-label="Like"]').last.click()
    deadline = time.monotonic() + 10
    votes = []
    while time.monotonic() < deadline and not votes:
        lines = ui_server.feedback.read_text(encoding="utf-8").splitlines() if ui_server.feedback.exists() else []
        votes = [v for v in map(json.loads, lines) if v["question"] == "When was the original CFE Treaty signed?"]
        time.sleep(0.1)
    assert votes and votes[-1]["vote"] == "up" and votes[-1]["answer"] is not None
    expect(page.locator("#qa-notice")).to_contain_text(
        "Thanks: your vote (helpful) on “When was the original CFE Treaty signed?” is saved.")
    page.locator("#qa-sources .qa-copy").click()
    expect(page.locator("#qa-sources .qa-copy")).to_have_text("Copied ✓")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith(votes[-1]["answer"] + "\n“") and "001_039291e9fa94fbe8.txt" in copied

    page.locator("#qa-sources .qa-source").first.click()  # the treaty's passage closes a long article
    passage = page.locator("#qa-article #qa-passage")
    expect(passage.locator("mark.qa-answer")).to_have_text("1990")
    expect(passage).to_be_in_viewport()
    assert page.locator("#qa-article .qa-article").evaluate("panel => panel.scrollTop") > 0
    shoot(page, screenshots, "6-passage-scrolled-into-view.png")


def test_an_article_added_in_the_browser_is_answerable_and_its_markup_stays_text(page, ui_server, screenshots,
                                                                                  tmp_path):
    upload = tmp_path / "springfield.txt"
    upload.write_text(SPRINGFIELD, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(upload))
    note = page.locator("#qa-library-note")
    expect(note).to_contain_text("springfield.txt", timeout=WAIT_MS)
    expect(note).to_contain_text("Added springfield.txt — you can ask about it now", timeout=REBUILD_MS)
    ask(page, "Who is the town treasurer of Springfield?", "Rosalind Achterberg")
    page.locator("#qa-sources .qa-source").first.click()
    expect(page.locator("#qa-article")).to_contain_text("<script>window.__pwned = 1</script>")
    expect(page.locator("#qa-article")).to_contain_text('<img src=x onerror="window.__pwned = 2">')
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#qa-article img, #qa-article script").count() == 0
    shoot(page, screenshots, "5-added-article.png")


def test_an_example_click_asks_it_and_the_settings_change_sources_and_answers_shown(page):
    answers = page.locator('#qa-chat [data-testid="bot"]')
    page.get_by_role("button", name="When was the original CFE Treaty signed?").click()
    expect(answers).to_have_count(1)
    expect(answers.last).to_contain_text("1990")
    expect(page.locator("#qa-question textarea")).to_have_value("")

    page.get_by_text("Settings").click()
    page.get_by_label("Show more answers").check()
    expect(answers.last).to_contain_text("Other possible answers")
    sources = page.locator("#qa-top-k input")
    sources.click()
    page.get_by_role("option", name="2", exact=True).click()
    time.sleep(1.0)  # the setting is saved by its own event
    ask(page, "Where did Bush and Putin meet on July 2, 2007?", "Kennebunkport")
    expect(page.locator("#qa-sources .qa-source")).to_have_count(2)


def test_the_chat_s_date_window_keeps_undated_articles_marked_and_says_what_it_did(page, screenshots):
    # 3 of the 5 seeds state no date we can read: a window that left them out answered "Not found" (issue 22).
    page.get_by_text("Settings").click()
    since = page.locator("#qa-since textarea, #qa-since input").first
    since.fill("2013-01-01")
    since.press("Enter")
    time.sleep(1.0)  # the setting is saved by its own event
    ask(page, "Who is the Russian defense minister?", "2 outside left out")
    # Other tests of this server may have added undated articles by now.
    expect(bots(page).last).to_contain_text(re.compile(r"0 articles inside, \d+ of unknown date kept"))
    expect(page.locator("#qa-sources .qa-source").first.locator(".qa-meta")).to_contain_text("date unknown")
    shoot(page, screenshots, "12-date-window.png")
    since.fill("2013-13-01")
    since.press("Enter")
    expect(page.locator("#qa-notice")).to_contain_text("“2013-13-01”: a date must be written like 2013-01-31")


def bots(page):
    return page.locator('#qa-chat [data-testid="bot"]')


def test_a_new_answer_brings_its_own_card_to_the_top_of_the_sources_and_only_it_is_badged(page, screenshots):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    panel = page.locator("#qa-sources .qa-sources")
    panel.evaluate("panel => { panel.scrollTop = panel.scrollHeight; }")
    assert panel.evaluate("panel => panel.scrollTop") > 0
    ask(page, "When was the original CFE Treaty signed?", "1990")
    expect(page.locator("#qa-sources .qa-source").first.locator("mark")).to_have_text("1990")
    time.sleep(0.3)
    assert panel.evaluate("panel => panel.scrollTop") == 0
    expect(page.locator("#qa-sources .qa-badge")).to_have_count(1)
    expect(page.locator("#qa-sources .qa-source").first.locator(".qa-badge")).to_have_text("answer")
    shoot(page, screenshots, "7-second-answer-sources-at-top.png")


def test_n_in_an_answer_opens_its_card_then_its_article_from_the_keyboard_too(page, screenshots):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    ask(page, "When was the original CFE Treaty signed?", "1990")
    first = bots(page).first.locator("a.qa-cite").first  # [1] of the earlier answer
    first.focus()
    page.keyboard.press("Enter")
    card = page.locator("#qa-sources .qa-source.qa-focus")
    expect(card).to_have_attribute("data-n", "1")
    expect(card.locator("mark")).to_have_text(re.compile(f"^{KISLYAK}$"))  # the earlier answer's sources
    expect(card).to_be_in_viewport()
    shoot(page, screenshots, "8-cite-opens-card.png")
    first.click()
    expect(page.get_by_role("tab", name="Article")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-article #qa-passage mark.qa-answer")).to_have_text(re.compile(f"^{KISLYAK}$"))


def test_copy_retry_and_edit_on_the_chat_messages(page):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    bots(page).last.locator(".qa-copy-message").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    lines = copied.splitlines()
    assert re.fullmatch(KISLYAK, lines[0]) and "The Russian delegation was to be led by" in lines[1]
    assert "[1]" not in copied and "details" not in copied and "likely" not in copied
    page.locator('#qa-chat button[aria-label="Retry"]').last.click()
    time.sleep(1.5)
    expect(bots(page)).to_have_count(1)
    expect(bots(page).last).to_contain_text("Kislyak")
    page.locator('#qa-chat [data-testid="user"]').last.hover()
    page.locator('#qa-chat button[aria-label="Edit"]').last.click()
    editor = page.locator("#qa-chat textarea").last
    editor.fill("When was the original CFE Treaty signed?")
    page.locator('#qa-chat button[aria-label="Submit"]').click()
    expect(bots(page)).to_have_count(1)
    expect(bots(page).last).to_contain_text("1990")


def test_the_conversation_its_settings_and_the_open_source_come_back_after_a_reload(page, screenshots):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    ask(page, "And who led the US delegation?", "Rood")
    page.get_by_text("Settings").click()
    page.get_by_label("Show more answers").check()
    expect(bots(page).last).to_contain_text("Other possible answers")
    page.locator("#qa-sources .qa-source").first.click()
    expect(page.locator("#qa-article #qa-passage")).to_be_visible()
    time.sleep(0.5)
    page.reload()
    expect(bots(page)).to_have_count(2)
    expect(bots(page).last).to_contain_text("Other possible answers")
    expect(page.get_by_role("tab", name="Article")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-article #qa-passage mark.qa-answer")).to_have_text("John C. Rood")
    shoot(page, screenshots, "9-after-reload.png")
    ask(page, "When was that meeting?", "")  # the history came back too: a follow-up still leans on it
    page.locator("#qa-new").click()
    expect(bots(page)).to_have_count(0)
    page.reload()
    page.locator("#qa-question textarea").wait_for()
    time.sleep(1.0)
    expect(bots(page)).to_have_count(0)


def test_a_vote_stays_shown_after_a_reload_and_past_conversations_reopen_and_delete(page, screenshots):
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    page.locator('#qa-chat button[aria-label="Like"]').last.click()
    expect(page.locator("#qa-notice")).to_contain_text("Thanks: your vote (helpful)")
    time.sleep(0.5)  # the browser's copy is written after the vote's reply
    page.reload()
    expect(bots(page)).to_have_count(1)
    expect(page.locator('#qa-chat button[aria-label="Liked"]')).to_have_count(1)  # the thumb as it was left

    page.locator("#qa-new").click()  # files this conversation away
    expect(bots(page)).to_have_count(0)
    ask(page, "When was the original CFE Treaty signed?", "1990")
    page.get_by_text("Past conversations").first.click()
    past = page.locator("#qa-past-list input")
    past.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Who led the Russian delegation in Budapest? · 1 question · ")
    options.first.click()
    page.locator("#qa-past-open").click()
    expect(bots(page)).to_have_count(1)
    expect(bots(page).first).to_contain_text("Kislyak")
    expect(page.locator('#qa-chat button[aria-label="Liked"]')).to_have_count(1)
    ask(page, "And who led the US delegation?", "Rood")  # a reopened conversation goes on: follow-ups lean on it
    shoot(page, screenshots, "17-past-conversation-reopened.png")

    past.click()  # the conversation left when this one was reopened is now the one filed
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("When was the original CFE Treaty signed? · 1 question · ")
    options.first.click()
    page.locator("#qa-past-delete").click()
    time.sleep(0.5)
    page.reload()  # kept in the browser: the deletion holds over a reload, and so does the reopened chat
    expect(bots(page)).to_have_count(2)
    page.get_by_text("Past conversations").first.click()
    page.locator("#qa-past-list input").click()
    expect(page.get_by_role("option")).to_have_count(0)


def test_export_downloads_the_conversation_with_its_citations(page, tmp_path):
    export = page.locator("#qa-export")
    expect(export).to_be_disabled()  # nothing to export yet: a click did nothing at all
    ask(page, "Who led the Russian delegation in Budapest?", "Kislyak")
    expect(export).to_be_enabled()
    with page.expect_download() as download:
        page.locator("#qa-export").click()
    path = tmp_path / "conversation.md"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Conversation with News QA")
    assert "## 1. Who led the Russian delegation in Budapest?" in text
    assert re.search(f"\\*\\*Answer:\\*\\* {KISLYAK} \\[1\\]", text)
    assert "- [1] " in text and "000_0027d40a27e5cdba.txt, characters " in text


def test_upload_notes_sit_beside_the_upload_box_belong_to_one_session_and_a_removal_can_be_undone(
        page, browser, ui_server, screenshots, tmp_path):
    page.get_by_role("tab", name="Library").click()
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02binary")
    page.locator("#qa-upload input[type=file]").set_input_files(str(binary))
    note = page.locator("#qa-library-note")
    expect(note.locator(".qa-notice")).to_contain_text("scan.txt: is not a text file")
    expect(page.locator("#qa-upload")).to_be_visible()
    upload_box, note_box = page.locator("#qa-upload").bounding_box(), note.locator(".qa-notice").bounding_box()
    assert 0 <= note_box["y"] - (upload_box["y"] + upload_box["height"]) < 60  # right under the box
    expect(note).to_be_in_viewport()
    shoot(page, screenshots, "10-upload-error-beside-the-box.png")

    article = tmp_path / "harbour_news.txt"
    article.write_text("Harbour news\nThe harbour master of Tromso, Kari Nordmann, said on Monday that the new "
                       "quay opens in June.\n", encoding="utf-8")
    page.locator("#qa-upload input[type=file]").set_input_files(str(article))
    expect(note).to_contain_text("Added harbour_news.txt", timeout=REBUILD_MS)
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(ui_server.url)
    other.get_by_role("tab", name="Library").click()
    expect(other.locator("#qa-library")).to_contain_text("harbour_news.txt")  # the library is shared...
    expect(other.locator("#qa-library-note")).to_have_text("")  # ...what this person did is not

    page.locator("#qa-search input, #qa-search textarea").first.fill("harbour")
    expect(page.locator("#qa-library .qa-article-row")).to_have_count(1)
    page.locator("#qa-library .qa-remove").click()
    expect(note).to_contain_text("Removed harbour_news.txt", timeout=REBUILD_MS)
    assert not (ui_server.uploads / "harbour_news.txt").exists()
    shoot(page, screenshots, "11-removed-with-undo.png")
    note.locator(".qa-undo").click()
    expect(note).to_contain_text("Restored harbour_news.txt", timeout=REBUILD_MS)
    assert (ui_server.uploads / "harbour_news.txt").exists()
    ask(page, "Who is the harbour master of Tromso?", "Kari Nordmann")
    expect(note).to_have_text("")  # the next action clears it
    other.context.close()


def test_the_examples_are_first_questions_that_fit_their_buttons(page):
    buttons = page.locator("button", has_text=re.compile(r"\?$"))
    expect(buttons.first).to_be_visible()  # the examples render after the question box
    assert buttons.count() >= 3
    for i in range(buttons.count()):
        assert buttons.nth(i).evaluate("b => b.scrollWidth <= b.clientWidth + 1"), buttons.nth(i).inner_text()


def test_the_library_shows_the_source_and_date_each_seed_states(page, screenshots):
    page.get_by_role("tab", name="Library").click()
    rows = page.locator("#qa-library .qa-article-row")
    # From "By Linda D. Kozaryn / American Forces Press Service" and "MOSCOW, Oct. 12, 2007 –".
    expect(rows.filter(has_text="U.S., Russian Leaders Agree to Meet Again")).to_contain_text(
        "American Forces Press Service · 12 Oct 2007")
    # From "12/10/2007 18:35 MOSCOW, October 12 (RIA Novosti) -": the spelled-out day says which order.
    expect(rows.filter(has_text="Russia, U.S. fail to agree on key issues")).to_contain_text(
        "RIA Novosti · 12 Oct 2007")
    expect(rows.filter(has_text="Russia, U.S. agree to continue dialogue")).to_contain_text("RIA Novosti · ")
    shoot(page, screenshots, "13-library-sources-and-dates.png")


def test_a_library_is_offered_only_the_examples_that_fit_it(browser, live_server, screenshots):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = context.new_page()
        other.set_default_timeout(WAIT_MS)
        other.goto(live_server.url)
        other.locator("#qa-question textarea").wait_for()
        buttons = other.locator("button", has_text=re.compile(r"\?$"))
        expect(buttons).to_have_count(len(BUDAPEST_EXAMPLES))
        assert sorted(buttons.all_inner_texts()) == sorted(BUDAPEST_EXAMPLES)
        expect(other.locator("#qa-library-line")).to_contain_text("Answering from 4 articles")
        shoot(other, screenshots, "14-examples-that-fit.png")
    finally:
        context.close()


def test_hovering_a_citation_previews_its_headline_source_date_and_the_words_around_the_answer(page, screenshots):
    ask(page, "Who was Russia's defense minister at the October 2007 two-plus-two talks?", "Serdyukov")
    mark = bots(page).last.locator("sup.qa-cite-mark").first
    preview = mark.locator(".qa-preview")
    expect(preview).to_be_hidden()
    mark.locator("a.qa-cite").hover()
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("U.S., Russian Leaders Agree to Meet Again · American Forces Press Service · "
                                    "12 Oct 2007 — “")
    expect(preview).to_contain_text("Serdyukov")
    shoot(page, screenshots, "15-citation-preview.png")
    page.mouse.move(5, 5)
    expect(preview).to_be_hidden()
    mark.locator("a.qa-cite").focus()  # from the keyboard too
    expect(preview).to_be_visible()
    badge = bots(page).last.locator(".qa-conf").first  # "likely" or "unsure", and on hover how sure
    expect(badge.locator(".qa-preview")).to_be_hidden()
    badge.hover()
    expect(badge.locator(".qa-preview")).to_have_text(re.compile(r"^confidence 0\.\d\d$"))


def test_every_refusal_is_the_library_s_own_note_in_the_label_s_units(page, screenshots, tmp_path):
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#qa-upload")).to_contain_text("up to 50 KB each")
    word = tmp_path / "minutes.docx"
    word.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    long = tmp_path / "long.txt"
    long.write_text("Harbour news\n" + "The quay opens in June. " * 3000, encoding="utf-8")  # 72,013 bytes
    page.locator("#qa-upload input[type=file]").set_input_files([str(word), str(long)])
    note = page.locator("#qa-library-note")
    expect(note).to_contain_text("minutes.docx: a Word document can't be added; save it as PDF or plain text first")
    expect(note).to_contain_text("long.txt: is 72 KB; an article may be at most 50 KB")
    expect(page.locator(".toast-body, [data-testid='toast-body']")).to_have_count(0)  # no passing toast of Gradio's
    shoot(page, screenshots, "16-refusals-in-one-place.png")
