"""A person in a real browser (Debian's chromium, headless, driven by Playwright) against a real `qa serve`.

Screenshots go to $SCREENSHOT_DIR (default: screenshots/ at the repository root); their paths and the time from
pressing Enter to the answer shown are printed (pytest -s shows them, -rA lists them).
"""

import json
import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import KISLYAK, ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
TIMEOUT_MS = 30_000
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
    page.set_default_timeout(TIMEOUT_MS)
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
    expect(page.locator('#qa-chat [data-testid="bot"]').last).to_contain_text("understood as")
    expect(page.get_by_role("tab", name="Sources")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#qa-sources .qa-source mark").first).to_have_text("John C. Rood")
    shoot(page, screenshots, "3-follow-up.png")

    ask(page, "What is the recipe for a good pizza dough?", "Not found in the articles")
    expect(page.locator("#qa-sources")).to_contain_text("Not found in the articles")
    shoot(page, screenshots, "4-abstention.png")
    print(f"Enter to answer shown: {seconds * 1000:.0f} ms (first question), {follow_up * 1000:.0f} ms (follow-up)")
    assert seconds < 10 and follow_up < 10


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
    page.get_by_text("Add articles").click()
    page.locator("#qa-add input[type=file]").set_input_files(str(upload))
    expect(page.locator("#qa-banner")).to_contain_text("springfield.txt", timeout=TIMEOUT_MS)
    expect(page.locator("#qa-banner")).to_contain_text("Added springfield.txt — you can ask about it now",
                                                       timeout=120_000)
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
    slider = page.locator("input[type=number]").first  # the top-k slider's number box
    slider.fill("2")
    slider.press("Enter")
    time.sleep(1.0)  # the setting is saved by its own event
    ask(page, "Where did Bush and Putin meet on July 2, 2007?", "Kennebunkport")
    expect(page.locator("#qa-sources .qa-source")).to_have_count(2)
