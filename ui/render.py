"""Turn responses into the Markdown and HTML the chat shows. Every character of article text is escaped.

Two escapes, for two places: ``escape`` (``html.escape``) for HTML panels, and ``escape_markdown`` for chat
messages, which Gradio renders as Markdown: there, ``*``, ``_``, ``[``, ``#``, ``$`` and the like in an article
would turn into formatting, links or maths, so every ASCII punctuation mark becomes a numeric character
reference, which Markdown shows as the character itself and never parses.
"""

from __future__ import annotations

import datetime
import html
import string
from collections import Counter
from dataclasses import replace
from urllib.parse import urlsplit

from core.records import Citation, Document, Response
from ui.library import Article, Job
from ui.session import ShownTurn

_MARKDOWN_SAFE = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
SNIPPET_CHARS = 160
CHAT_TITLE_CHARS = 60  # a title under an answer; many articles' "title" is their long first sentence
LIBRARY_ROWS = 200  # rows shown at once; a search narrows a large library


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def escape_markdown(text: str) -> str:
    """``text`` on one line (runs of white space folded to one space), safe anywhere in a Markdown message."""
    folded = " ".join(text.split())
    if folded and text[:1].isspace():
        folded = " " + folded
    if text[-1:].isspace():
        folded += " "
    return folded.translate(_MARKDOWN_SAFE)


def cite_mark(citation: Citation) -> str:
    """``[n]`` in a chat message: a link the page's script turns into "show source n" (keyboard reachable), and a
    preview of its source (headline · source · date, and the words around the answer) that shows on hover or focus,
    as cited-answer tools do. The preview is an element, not an attribute: the chat's sanitiser keeps only a few
    attributes (``class``, ``href``)."""
    n = citation.n
    preview = escape_markdown(f"{source_line(citation)} — “{_around_answer(citation)}”")
    return (f'<sup class="qa-cite-mark"><a href="#source-{n}" class="qa-cite">[{n}]</a>'
            f'<span class="qa-preview">{preview}</span></sup>')


def _around_answer(citation: Citation) -> str:
    """About ``SNIPPET_CHARS`` of the passage around its answer (the passage's opening where it has none)."""
    text = citation.text
    if citation.answer_start is None or len(text) <= SNIPPET_CHARS:
        return _snippet(text)
    middle = (citation.answer_start + citation.answer_end) // 2
    start = max(0, min(middle - SNIPPET_CHARS // 2, len(text) - SNIPPET_CHARS))
    words = text[start:start + SNIPPET_CHARS].split()
    cut_end = start + SNIPPET_CHARS < len(text)
    # Whole words only: the first and last may be cut, unless the passage starts or ends there.
    kept = words[(1 if start else 0):(-1 if cut_end else len(words))]
    return ("… " if start else "") + " ".join(kept) + (" …" if cut_end else "")


def question_markdown(question: str) -> str:
    return escape_markdown(question)


def _bold_span(text: str, start: int, end: int, escaper) -> str:
    """``text`` with ``[start, end)`` in <strong>; each piece escaped on its own so the tags stay tags."""
    return f"{escaper(text[:start])}<strong>{escaper(text[start:end])}</strong>{escaper(text[end:])}".strip()


def confidence_word(score: float, sure: float) -> str:
    """"likely" or "unsure", with the number on hover or focus (an element: the chat's sanitiser drops ``title``)."""
    word = "likely" if score >= sure else "unsure"
    return (f'<span class="qa-conf qa-{word}" tabindex="0">{word}<span class="qa-preview">confidence {score:.2f}'
            f'</span></span>')


def answer_markdown(turn: ShownTurn, show_more: bool = False, sure: float = 0.5) -> str:
    """The chat message for one turn, in plain words: the answer in bold with its citation and how sure it is
    (below ``sure``: "I am not sure: …"), the sentence it comes from, its source, other answers when asked for,
    how a follow-up was read when that differs from what was typed, and a collapsed details line. "Not found in
    the articles" when the reader abstains, with the closest passages."""
    response = turn.response
    lines = []
    if response.answer is None:
        lines.append("**Not found in the articles.** These passages come closest:")
        lines.append("\n".join(f"- {cite_mark(c)} “{escape_markdown(_snippet(c.text))}” "
                               f"<small>{escape_markdown(short_title(c.title, CHAT_TITLE_CHARS))}</small>"
                               for c in response.citations[:3]))
    else:
        answer, n = response.answer, response.answer_citations[0]
        cited = next(c for c in response.citations if c.n == n)
        doubt = "I am not sure: " if answer.score < sure else ""
        lines.append(f"{doubt}**{escape_markdown(answer.text)}** {cite_mark(cited)} "
                     f"{confidence_word(answer.score, sure)}")
        if turn.sentence is not None:
            start, end = answer.start - turn.sentence[0], answer.end - turn.sentence[0]
            sentence = _bold_span(turn.sentence_text, start, end, escape_markdown)
            lines.append(f"> {sentence} {cite_mark(cited)}")
        lines.append(f'<span class="qa-src">{escape_markdown(source_line(cited))}</span>')
        if show_more and len(response.answers) > 1:
            by_n = {c.n: c for c in response.citations}
            others = " · ".join(f"{escape_markdown(a.text)} {cite_mark(by_n[m])} {confidence_word(a.score, sure)}"
                                for a, m in zip(response.answers[1:], response.answer_citations[1:]))
            lines.append(f"Other possible answers: {others}")
    if turn.read_as is not None:
        lines.append(f'<span class="qa-read-as">Read as: {escape_markdown(turn.read_as)}</span>')
    if response.window is not None:
        lines.append(f'<span class="qa-window">{escape_markdown(response.window.describe())}</span>')
    lines.append(f"<details><summary>details</summary>{escape_markdown(details_line(response))}</details>"
                 f'<button type="button" class="qa-copy-message" title="Copy the answer, its sentence and its '
                 f'source">Copy</button>')
    return "\n\n".join(lines)


def source_line(citation: Citation) -> str:
    """"Title · source · 10 Dec 2007": the article an answer comes from, as a reader names it."""
    return " · ".join(part for part in (short_title(citation.title, CHAT_TITLE_CHARS),
                                        provenance(citation.source, citation.published, citation.page)) if part)


def details_line(response: Response) -> str:
    """What a curious user may open: timings, the answer's confidence and where it sits in its article."""
    parts = []
    timings = response.timings_ms
    if "total" in timings:
        detail = ", ".join(f"{label} {timings[name]:.0f} ms" for name, label in
                           (("retrieve", "finding passages"), ("read", "reading")) if name in timings)
        parts.append(f"answered in {timings['total']:.0f} ms" + (f" ({detail})" if detail else ""))
    answer = response.answer
    if answer is not None:
        parts.append(f"confidence {answer.score:.2f}")
        parts.append(f"{answer.doc_id}, characters {answer.start:,}–{answer.end:,}")
    return " · ".join(parts)


def _snippet(text: str) -> str:
    text = _one_line(text)
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def passage_html(citation: Citation) -> str:
    """The passage, its answer span in <mark>; every character of article text goes through escape()."""
    text = citation.text
    if citation.answer_start is None:
        return escape(text)
    return (escape(text[:citation.answer_start]) + "<mark>" + escape(text[citation.answer_start:citation.answer_end])
            + "</mark>" + escape(text[citation.answer_end:]))


def copy_text(turn: ShownTurn) -> str:
    """What "Copy answer" puts on the clipboard: the answer, its sentence and its source, as plain text."""
    answer = turn.response.answer
    if answer is None:
        return ""
    quote = _one_line(turn.sentence_text)
    return f"{answer.text}\n“{quote}”\n— {short_title(turn.title)} ({answer.doc_id})"


def short_title(title: str, limit: int = 90) -> str:
    title = _one_line(title)
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + " …"


def card_order(turn: ShownTurn) -> list[Citation]:
    """The answer's own passage first, then the rest by relevance (not the alternative answers' passages first,
    as the citation numbers have them); an article's passages together, where its best one stands, so several
    passages of one article read as one source."""
    citations = sorted(turn.response.citations, key=lambda c: -c.score)
    if turn.response.answer is not None:
        first = turn.response.answer_citations[0]
        citations = [c for c in citations if c.n == first] + [c for c in citations if c.n != first]
    by_article: dict[str, list[Citation]] = {}
    for c in citations:
        by_article.setdefault(c.doc_id, []).append(c)
    return [c for cards in by_article.values() for c in cards]


def sources_html(turn: ShownTurn | None, show_more: bool = False, focus: int | None = None) -> str:
    """The Sources panel for one turn: the answer with a copy button, then one card per citation.

    Only the answer's own card is badged "answer" and shows its span marked; a card holding another candidate
    answer is badged "also", and marks it, only when the chat shows other answers (``show_more``). ``focus`` is
    the card picked from the chat (``[n]``), which the page scrolls to.
    """
    if turn is None:
        return ('<div class="qa-empty">Ask a question: the passages each answer comes from appear here, and '
                'clicking one opens the whole article.</div>')
    response = turn.response
    parts = [f'<div class="qa-sources" data-focus="{"" if focus is None else focus}">']
    if response.answer is None:
        parts.append(f'<div class="qa-answer-box qa-none"><div class="qa-label">For “{escape(turn.question)}”</div>'
                     f'<div class="qa-answer-text">Not found in the articles</div>'
                     f'<div class="qa-hint">The closest passages are below; click one to read its article.</div>'
                     f'</div>')
    else:
        copy = escape(copy_text(turn))
        parts.append(f'<div class="qa-answer-box"><div class="qa-label">Answer to “{escape(turn.question)}”</div>'
                     f'<div class="qa-answer-text">{escape(response.answer.text)} '
                     f'<span class="qa-n">{response.answer_citations[0]}</span></div>'
                     f'<button type="button" class="qa-copy" data-copy="{copy}">Copy answer</button>'
                     f'<div class="qa-hint">Click a source to read the whole article.</div></div>')
    first = response.answer_citations[0] if response.answer is not None else None
    others = set(response.answer_citations[1:]) if show_more else set()
    cards = card_order(turn)
    passages = Counter(c.doc_id for c in cards)
    for i, c in enumerate(cards):
        if passages[c.doc_id] > 1 and (i == 0 or cards[i - 1].doc_id != c.doc_id):
            parts.append(f'<div class="qa-group">{passages[c.doc_id]} passages of '
                         f'<span class="qa-group-title">{escape(short_title(c.title, CHAT_TITLE_CHARS))}</span></div>')
        badge = ('<span class="qa-badge">answer</span>' if c.n == first else
                 '<span class="qa-badge qa-also">also</span>' if c.n in others else "")
        marked = c if c.n == first or c.n in others else replace(c, answer_start=None, answer_end=None)
        parts.append(
            f'<div class="qa-source{" qa-focus" if c.n == focus else ""}" role="button" tabindex="0" '
            f'data-n="{c.n}" id="qa-source-{c.n}" title="Open the whole article with this passage highlighted">'
            f'<div class="qa-source-head"><span class="qa-n">{c.n}</span>'
            f'<span class="qa-title">{escape(c.title)}</span>{badge}</div>'
            f'<div class="qa-meta">{_known(_card_provenance(c, response.window is not None))}'
            f'<code>{escape(c.doc_id)}</code></div>'
            f'<div class="qa-passage">{passage_html(marked)}</div>'
            f'<div class="qa-open">Open article ›</div></div>')
    parts.append("</div>")
    return "".join(parts)


def _card_provenance(citation: Citation, windowed: bool) -> str:
    """A card's "source · date · p. N"; asked in a publication window, an undated article says so."""
    known = provenance(citation.source, citation.published, citation.page)
    if windowed and not citation.published:
        known = " · ".join(part for part in (known, "date unknown") if part)
    return known


def provenance(source: str | None, published: str | None, page: int | None = None) -> str:
    """"World News Desk · 10 Dec 2007 · p. 3": what is known of where and when, empty when nothing is."""
    parts = [source] if source else []
    if published:
        try:
            day = datetime.date.fromisoformat(published)
            parts.append(f"{day.day} {day:%b %Y}")
        except ValueError:
            parts.append(published)
    if page is not None:
        parts.append(f"p. {page}")
    return " · ".join(parts)


def _known(text: str) -> str:
    return f"{escape(text)} · " if text else ""


def article_html(document: Document, citation: Citation) -> str:
    """The whole article, escaped, with the cited passage marked (``#qa-passage``) and its answer inside it."""
    text = document.text
    start, end = citation.start, citation.end
    if citation.answer_start is not None:
        inner = (escape(text[start:start + citation.answer_start]) + '<mark class="qa-answer">'
                 + escape(text[start + citation.answer_start:start + citation.answer_end]) + "</mark>"
                 + escape(text[start + citation.answer_end:end]))
    else:
        inner = escape(text[start:end])
    return (f'<div class="qa-article"><div class="qa-article-head">'
            f'<div class="qa-article-title">{escape(document.title)}</div>'
            f'<div class="qa-meta">{_known(provenance(document.source, document.published, citation.page))}'
            f'<code>{escape(document.doc_id)}</code> · source [{citation.n}]</div></div>'
            f'<div class="qa-article-text">{escape(text[:start])}<mark class="qa-passage" id="qa-passage">{inner}'
            f'</mark>{escape(text[end:])}</div></div>')


def article_placeholder() -> str:
    return '<div class="qa-empty">Click a source to read its whole article here.</div>'


def job_html(job: Job | None, undo: str | None = None) -> str:
    """The note beside the upload box about this session's last change to the library ("" when there is none);
    ``undo`` names a removed article whose removal can still be undone."""
    if job is None:
        return ""
    if job.state == "indexing":
        return (f'<div class="qa-status qa-indexing" role="status"><span class="qa-spinner"></span>'
                f'{escape(job.message)} You can keep asking meanwhile.</div>')
    if job.state == "failed":
        return f'<div class="qa-status qa-failed" role="alert">{escape(job.message)}</div>'
    button = (f' <button type="button" class="qa-undo" data-doc="{escape(undo)}">Undo</button>'
              if undo is not None else "")
    return f'<div class="qa-status qa-done" role="status">✓ {escape(job.message)}{button}</div>'


def library_line(articles: int, passages: int) -> str:
    return (f'<div class="qa-library-line">Answering from {articles:,} article{"s" * (articles != 1)} '
            f'({passages:,} passages)</div>')


def library_html(articles: list[Article], query: str = "", can_remove: bool = True,
                 limit: int = LIBRARY_ROWS, texts: dict[str, str] | None = None) -> str:
    """The library panel: the articles whose title, file name or text (``texts``, by doc_id) holds ``query``,
    each with a remove button. A person looks for "missile" in what the articles say, not only in their names."""
    wanted = _one_line(query).casefold()
    texts = {} if texts is None else texts
    found = [a for a in articles if wanted in a.title.casefold() or wanted in a.doc_id.casefold()
             or wanted in " ".join(texts.get(a.doc_id, "").split()).casefold()]
    count = (f"{len(articles):,} article{'s' * (len(articles) != 1)}" if not wanted else
             f"{len(found):,} of {len(articles):,} articles match “{escape(query.strip())}”")
    rows = []
    for article in found[:limit]:
        meta = [provenance(article.source, article.published), f"{article.passages:,} passages"]
        if article.added is not None:
            meta.append(f"added {datetime.datetime.fromtimestamp(article.added):%-d %b %Y %H:%M}")
        remove = (f'<button type="button" class="qa-remove" data-doc="{escape(article.doc_id)}" '
                  f'aria-label="Remove {escape(article.title)}">Remove</button>' if can_remove else "")
        rows.append(f'<li class="qa-article-row"><div class="qa-row-text"><div class="qa-title">'
                    f'{escape(article.title)}</div><div class="qa-meta">{_known(" · ".join(m for m in meta if m))}'
                    f'<code>{escape(article.doc_id)}</code>{_address_link(article.url)}</div></div>{remove}</li>')
    more = (f'<div class="qa-hint">{len(found) - limit:,} more: search to narrow the list.</div>'
            if len(found) > limit else "")
    return (f'<div class="qa-library"><div class="qa-label">{count}</div>'
            f'<ul class="qa-article-list">{"".join(rows)}</ul>{more}</div>')


def _address_link(url: str | None) -> str:
    """" · from example.com", linking to the page a fetched article came from; only http(s) addresses are links."""
    parsed = urlsplit(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return ""
    return (f' · from <a class="qa-from" href="{escape(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f'{escape(parsed.hostname)}</a>')


def notice_html(message: str, kind: str = "error") -> str:
    """A one-line message ("" clears it); ``kind`` is "error" or "info"."""
    if not message:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<div class="qa-notice qa-{kind}" role="{role}">{escape(_one_line(message))}</div>'


def conversation_markdown(session, sure: float = 0.5, now: datetime.datetime | None = None) -> str:
    """The conversation as a Markdown file a person keeps: each question, its answer with its sentence and how
    sure it is, and the numbered sources with where each passage sits in its article, so every quote can be
    checked."""
    now = datetime.datetime.now() if now is None else now
    lines = ["# Conversation with News QA", "",
             f"Exported {now:%-d %b %Y %H:%M} · {len(session.turns)} question{'s' * (len(session.turns) != 1)}", ""]
    for number, turn in enumerate(session.turns, 1):
        response = turn.response
        lines += [f"## {number}. {_export_line(turn.question)}", ""]
        if turn.read_as is not None:
            lines += [f"Read as: {_export_line(turn.read_as)}", ""]
        if response.answer is None:
            lines += ["Not found in the articles. The closest passages are below.", ""]
        else:
            answer = response.answer
            word = "likely" if answer.score >= sure else "unsure"
            lines += [f"**Answer:** {_export_line(answer.text)} [{response.answer_citations[0]}] — {word} "
                      f"(confidence {answer.score:.2f})", ""]
            if turn.sentence_text:
                lines += [f"> {_export_line(turn.sentence_text)}", ""]
        lines.append("Sources:")
        for c in response.citations:
            lines.append(f"- [{c.n}] {_export_line(source_line(c))} — {_export_line(c.doc_id)}, "
                         f"characters {c.start:,}–{c.end:,}")
            lines.append(f"  > {_export_line(c.text)}")
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _export_line(text: str) -> str:
    """One line of the exported file: markup in an article (``<script>``, ``<img onerror>``) stays text in the
    viewers that render a Markdown file's HTML, and still reads plainly in an editor."""
    return html.escape(_one_line(text), quote=False)
