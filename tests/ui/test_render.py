"""What the chat shows: article text always escaped, offsets kept exactly, the answer bold in its sentence."""

import html
import re
from dataclasses import replace

from core.records import Answer, Citation, Document, Response
from qa.conversation import Mention, Resolution
from ui.render import (answer_markdown, article_html, cite_mark, conversation_markdown, copy_text, escape_markdown,
                       library_html, provenance, sources_html)
from ui.library import Article
from ui.session import ChatSession, ShownTurn

TEXT = ("Council news\n"
        "The statement quoted <script>alert(1)</script> and <img src=x onerror=\"alert(2)\"> on Tuesday.\n"
        "The clerk, Ann *Star* Lee, read it to the council.\n")
DOC = Document("council.txt", "/tmp/council.txt", "Council <b>news</b>", TEXT, "0" * 64)


def span(text: str) -> tuple[int, int]:
    start = TEXT.index(text)
    return start, start + len(text)


def citation(n: int, passage: str, answer: str | None) -> Citation:
    start, end = span(passage)
    inner = (passage.index(answer), passage.index(answer) + len(answer)) if answer else (None, None)
    return Citation(n, DOC.doc_id, DOC.title, start, end, passage, *inner, 0.5)


def shown(answer: str | None) -> ShownTurn:
    line1 = TEXT.splitlines()[1]
    line2 = TEXT.splitlines()[2]
    citations = (citation(1, line2, answer), citation(2, line1, None))
    found = Answer(answer, DOC.doc_id, *span(answer), 0.87, 1) if answer else None
    response = Response("Who is the clerk?", "Who is the clerk?", found, (found,) if found else (),
                        (1,) if found else (), citations, (), {"total": 12.3, "retrieve": 4.0, "read": 5.0})
    sentence = span(line2) if answer else None
    return ShownTurn("Who is the clerk?", Resolution("Who is the clerk?"), response, DOC.title if answer else "",
                     sentence, line2 if answer else "")


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_script_and_img_onerror_in_an_article_show_as_text_in_every_panel():
    turn = shown("Ann *Star* Lee")
    article = article_html(DOC, citation(2, TEXT.splitlines()[1], None))
    for output in (sources_html(turn), article, answer_markdown(turn), sources_html(shown(None))):
        assert "<script" not in output and "<img" not in output and "<b>" not in output
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in article


def test_the_article_panel_holds_every_character_and_marks_the_cited_offsets():
    cited = citation(1, TEXT.splitlines()[2], "Ann *Star* Lee")
    article = article_html(DOC, cited)
    body = article.split('<div class="qa-article-text">', 1)[1].rsplit("</div></div>", 1)[0]
    assert visible_text(body) == TEXT
    marked = re.search(r'<mark class="qa-passage" id="qa-passage">(.*)</mark>', body, re.S).group(1)
    assert visible_text(marked) == TEXT[cited.start:cited.end]
    assert '<mark class="qa-answer">Ann *Star* Lee</mark>' in marked


def test_the_answer_is_bold_inside_its_sentence_with_its_source_and_timings_only_under_details():
    turn = shown("Ann *Star* Lee")
    message = answer_markdown(turn)
    first, quote, source, details = message.split("\n\n")
    mark = cite_mark(turn.response.citations[0])
    assert first == (f"**{escape_markdown('Ann *Star* Lee')}** {mark} "
                     '<span class="qa-conf qa-likely" tabindex="0">likely<span class="qa-preview">confidence 0.87'
                     '</span></span>')
    assert quote.endswith(mark)
    assert html.unescape(quote.removesuffix(mark)) == ("> The clerk, <strong>Ann *Star* Lee</strong>, read it to the "
                                                      "council. ")
    assert visible_text(source) == "Council <b>news</b>"  # the title, escaped: shown as typed
    assert details.startswith("<details><summary>details</summary>")
    assert visible_text(details).startswith("detailsanswered in 12 ms (finding passages 4 ms, reading 5 ms) · "
                                            "confidence 0.87 · council.txt, characters ")
    assert "ms" not in visible_text(first + quote + source)


def test_a_low_confidence_answer_says_it_is_unsure_and_a_rewritten_follow_up_says_how_it_was_read():
    turn = shown("Ann *Star* Lee")
    unsure = replace(turn, response=replace(turn.response, answer=replace(turn.response.answer, score=0.31)),
                     resolution=Resolution("Who is the clerk of the council?", ()))
    message = answer_markdown(unsure, sure=0.5)
    assert message.startswith("I am not sure: **")
    assert 'unsure<span class="qa-preview">confidence 0.31</span></span>' in message
    assert "Read as: Who is the clerk of the council" in html.unescape(message)
    assert "Read as" not in answer_markdown(turn)  # read as typed: nothing to say


def test_only_the_answers_own_card_is_badged_and_comes_first_the_rest_by_relevance():
    line0, line1, line2 = TEXT.splitlines()
    found = Answer("Ann *Star* Lee", DOC.doc_id, *span("Ann *Star* Lee"), 0.8, 0)
    other = Answer("Tuesday", DOC.doc_id, *span("Tuesday"), 0.4, 1)
    citations = (replace(citation(1, line2, "Ann *Star* Lee"), score=0.2),
                 replace(citation(2, line1, "Tuesday"), score=0.5), replace(citation(3, line0, None), score=0.9))
    response = Response("Who?", "Who?", found, (found, other), (1, 2), citations, (), {})
    turn = ShownTurn("Who?", Resolution("Who?"), response, DOC.title, span(line2), line2)
    panel = sources_html(turn)
    assert re.findall(r'data-n="(\d)"', panel) == ["1", "3", "2"]
    assert panel.count('class="qa-badge') == 1 and "<mark>Tuesday</mark>" not in panel
    shown_more = sources_html(turn, show_more=True, focus=3)
    assert shown_more.count('class="qa-badge">answer') == 1 and shown_more.count("qa-also") == 1
    assert "<mark>Tuesday</mark>" in shown_more and 'class="qa-source qa-focus" role="button" tabindex="0" data-n="3"' \
        in shown_more


def test_an_article_s_passages_sit_together_under_one_line_that_counts_them():
    line0, line1, line2 = TEXT.splitlines()
    found = Answer("Ann *Star* Lee", DOC.doc_id, *span("Ann *Star* Lee"), 0.8, 0)
    elsewhere = replace(citation(2, line0, None), doc_id="other.txt", title="Other news", score=0.9)
    citations = (replace(citation(1, line2, "Ann *Star* Lee"), score=0.2), elsewhere,
                 replace(citation(3, line1, None), score=0.5))
    response = Response("Who?", "Who?", found, (found,), (1,), citations, (), {})
    panel = sources_html(ShownTurn("Who?", Resolution("Who?"), response, DOC.title, span(line2), line2))
    assert re.findall(r'data-n="(\d)"', panel) == ["1", "3", "2"]  # the answer's article's two, then the other
    assert panel.count('class="qa-group"') == 1
    assert f'2 passages of <span class="qa-group-title">{html.escape(DOC.title)}</span>' in panel


def test_library_search_finds_a_word_of_the_text_not_only_of_the_title():
    rows = [Article("a.txt", "Talks in Budapest", None, None, 3, None, False),
            Article("b.txt", "Harvest report", None, None, 2, None, False)]
    texts = {"a.txt": "The Russian delegation discussed missile\ndefence.", "b.txt": "Corn prices fell."}
    panel = library_html(rows, "Missile  defence", texts=texts)
    assert "1 of 2 articles match" in panel and "Talks in Budapest" in panel and "Harvest report" not in panel
    assert "0 of 2 articles match" in library_html(rows, "missile")  # without the texts: names only


def test_the_library_links_a_fetched_page_to_its_address_and_nothing_else():
    rows = [Article("a.html", "Talks", None, None, 3, 2.0, True, 'https://news.example/a?x=1&y="2"'),
            Article("b.html", "Harvest", None, None, 2, 1.0, True, "javascript:alert(1)")]
    panel = library_html(rows)
    assert (' · from <a class="qa-from" href="https://news.example/a?x=1&amp;y=&quot;2&quot;" target="_blank" '
            'rel="noopener noreferrer nofollow">news.example</a>') in panel
    assert "javascript:" not in panel and panel.count('class="qa-from"') == 1


def test_markdown_and_maths_characters_in_article_text_are_never_formatting():
    raw = "*bold* _it_ [link](http://x.y) # head $$x$$ <b> `code` 1. item | a ~ b"
    escaped = escape_markdown(raw)
    assert not re.search(r"[*_\[\]()#$<>`|~]", escaped.replace("&#", ""))
    assert html.unescape(escaped) == raw


def test_a_citation_mark_previews_its_source_and_the_words_around_the_answer():
    before, after = "The council met for hours. " * 8, " Then everyone went home to sleep." * 8
    passage = before + "The clerk, Ann <Lee>, read it." + after
    cited = Citation(3, "c.txt", "Council *votes*", 0, len(passage), passage, passage.index("Ann"),
                     passage.index("Ann") + len("Ann <Lee>"), 0.5, "2007-12-10", "City \"Wire\"")
    mark = cite_mark(cited)
    preview = re.fullmatch(r'<sup class="qa-cite-mark"><a href="#source-3" class="qa-cite">\[3\]</a>'
                           r'<span class="qa-preview">([^<>]*)</span></sup>', mark).group(1)
    assert not re.search(r"[<>*]", preview)  # article text is safe in the Markdown message
    shown_text = html.unescape(preview)
    assert shown_text.startswith('Council *votes* · City "Wire" · 10 Dec 2007 — “… ')
    assert "The clerk, Ann <Lee>, read it." in shown_text and shown_text.endswith(" …”")
    assert len(shown_text) < len(passage) / 2
    # A short passage is quoted whole.
    short = Citation(1, "c.txt", "T", 0, 9, "Ann read.", 0, 3, 0.5)
    assert html.unescape(re.search(r'"qa-preview">([^<>]*)<', cite_mark(short)).group(1)) == "T — “Ann read.”"


def test_an_abstention_says_not_found_and_lists_the_closest_passages():
    message = answer_markdown(shown(None))
    assert message.startswith("**Not found in the articles.**")
    assert all(cite_mark(c) in message for c in shown(None).response.citations[:2])
    panel = sources_html(shown(None))
    assert "Not found in the articles" in panel and panel.count('class="qa-source"') == 2


def test_a_follow_up_read_with_earlier_terms_says_so_found_or_not():
    leaning = Resolution("Who is the clerk?", (Mention("Ann Lee", "PERSON"), Mention("Springfield", "GPE")))
    for answer in ("Ann *Star* Lee", None):
        message = html.unescape(answer_markdown(replace(shown(answer), resolution=leaning)))
        assert "Read as: Who is the clerk? — Ann Lee, Springfield" in message


def test_copy_answer_carries_the_answer_its_sentence_and_its_source():
    assert copy_text(shown("Ann *Star* Lee")) == ("Ann *Star* Lee\n“The clerk, Ann *Star* Lee, read it to the "
                                                  "council.”\n— Council <b>news</b> (council.txt)")
    assert 'data-copy="Ann *Star* Lee\n“The clerk' in sources_html(shown("Ann *Star* Lee"))
    assert copy_text(shown(None)) == ""


def test_source_cards_and_the_article_say_where_and_when_it_was_published_when_known():
    assert provenance("World <News>", "2007-12-10", 3) == "World <News> · 10 Dec 2007 · p. 3"
    assert provenance(None, None) == ""
    turn = shown("Ann *Star* Lee")
    dated = replace(turn, response=replace(turn.response, citations=tuple(
        replace(c, source="World <News>", published="2007-12-10") for c in turn.response.citations)))
    cards = visible_text(sources_html(dated))
    assert cards.count("World <News> · 10 Dec 2007 · council.txt") == 2  # escaped in the page, shown as typed
    assert "<News>" not in sources_html(dated)
    article = article_html(replace(DOC, source="World <News>", published="2007-12-10"), dated.response.citations[0])
    assert "World <News> · 10 Dec 2007 · council.txt · source [1]" in visible_text(article)
    assert "characters" not in visible_text(article)  # offsets are for the details line and the export
    assert "10 Dec 2007" not in visible_text(sources_html(turn))  # nothing made up when nothing is known


def test_the_export_holds_each_question_its_answer_and_its_sources_with_their_offsets():
    session = ChatSession(conversation=None, top_k=5, turns=[shown("Ann *Star* Lee"), shown(None)])
    text = conversation_markdown(session, sure=0.5)
    assert text.startswith("# Conversation with News QA\n\nExported ") and "· 2 questions" in text
    assert "## 1. Who is the clerk?" in text and "## 2. Who is the clerk?" in text
    assert "**Answer:** Ann *Star* Lee [1] — likely (confidence 0.87)" in text
    assert "> The clerk, Ann *Star* Lee, read it to the council." in text
    first = TEXT.splitlines()[2]
    start = TEXT.index(first)
    assert f"- [1] Council &lt;b&gt;news&lt;/b&gt; — council.txt, characters {start:,}–{start + len(first):,}" in text
    assert "<b>" not in text  # an article's markup stays text in viewers that render a Markdown file's HTML
    assert "Not found in the articles." in text
