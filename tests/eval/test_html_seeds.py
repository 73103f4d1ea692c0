"""The seeds saved as web pages answer the gold set as the plain-text seeds do: the page extractor keeps the
article and drops the page around it, and every answer and citation still points into the extracted text."""

from __future__ import annotations

import html
import json

from core.config import Settings
from embeddings.indexer import index_paths
from eval.runner import run_eval
from qa.assistant import Assistant
from tests.conftest import ROOT, SEEDS, assert_offsets_exact

GOLD = ROOT / "eval" / "gold_qa.json"
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | World News Desk</title>
<meta property="og:site_name" content="World News Desk">
<script>window.dataLayer = [];</script></head>
<body><header><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div></header>
<main><article><h1>{title}</h1>
{paragraphs}
</article>
<aside class="related"><h2>Related stories</h2><ul><li><a href="/a">Markets rally on hopes of a deal</a></li>
<li><a href="/b">Storm season ends early this year</a></li></ul></aside></main>
<footer><p>Share this story: Facebook Twitter Email</p><p>© World News Desk. All rights reserved.</p></footer>
</body></html>
"""


def as_page(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    return PAGE.format(title=html.escape(lines[0]), paragraphs=paragraphs)


def test_the_seeds_as_web_pages_give_the_same_answers_on_the_gold_set(tmp_path, embedder, seed_index):
    pages = tmp_path / "pages"
    pages.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        (pages / seed.with_suffix(".html").name).write_text(as_page(seed.read_text(encoding="utf-8")),
                                                            encoding="utf-8")
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    gold["documents"] = {doc.replace(".txt", ".html"): None for doc in gold["documents"]}
    for question in gold["questions"]:
        if question.get("doc"):
            question["doc"] = question["doc"].replace(".txt", ".html")
    gold_path = tmp_path / "gold_html.json"
    gold_path.write_text(json.dumps(gold), encoding="utf-8")
    index = tmp_path / "index"
    report = index_paths([pages], index, embedder=embedder)
    assert report.documents == 5 and not report.skipped
    assistant = Assistant.load(index, Settings(), embedder=embedder)
    for document in assistant.documents.values():
        assert "Related stories" not in document.text and "cookies" not in document.text
        assert document.source == "World News Desk"

    on_pages = run_eval(gold_path, index, Settings(), progress=False)
    on_text = run_eval(GOLD, seed_index, Settings(), progress=False)
    assert abs(on_pages.metrics["em"] - on_text.metrics["em"]) <= 0.02, (on_pages.metrics["em"],
                                                                        on_text.metrics["em"])
    for question in [q["question"] for q in gold["questions"][:10]]:
        response = assistant.answer(question)
        assert_offsets_exact(assistant.documents, response)
        assert all(citation.source == "World News Desk" for citation in response.citations)
