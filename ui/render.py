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

from qa.records import Citation, Document, Response
from ui.library import DONE, FAILED, INDEXING, IndexStatus
from ui.session import ShownTurn

_MARKDOWN_SAFE = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
SNIPPET_CHARS = 160


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


def cite_mark(n: int) -> str:
    return f"<sup>[{n}]</sup>"


def question_markdown(question: str) -> str:
    return escape_markdown(question)


def _bold_span(text: str, start: int, end: int, escaper) -> str:
    """``text`` with ``[start, end)`` in <strong>; each piece escaped on its own so the tags stay tags."""
    return f"{escaper(text[:start])}<strong>{escaper(text[start:end])}</strong>{escaper(text[end:])}".strip()


def answer_markdown(turn: ShownTurn, show_more: bool = False) -> str:
    """The chat message for one turn: the answer in bold with its citation marker, the sentence it comes from,
    other answers when asked for, and small print (how the question was understood, confidence, timings).
    "Not found in the articles" when the reader abstains, with the closest passages."""
    response = turn.response
    lines = []
    if response.answer is None:
        lines.append("**Not found in the articles.** These passages come closest (open them under Sources):")
        lines.append("\n".join(f"- {cite_mark(c.n)} “{escape_markdown(_snippet(c.text))}” "
                               f"<small>{escape_markdown(c.doc_id)}</small>" for c in response.citations[:3]))
    else:
        answer, n = response.answer, response.answer_citations[0]
        lines.append(f"**{escape_markdown(answer.text)}** {cite_mark(n)}")
        if turn.sentence is not None:
            start, end = answer.start - turn.sentence[0], answer.end - turn.sentence[0]
            sentence = _bold_span(turn.sentence_text, start, end, escape_markdown)
            lines.append(f"> {sentence} {cite_mark(n)}")
        if show_more and len(response.answers) > 1:
            others = " · ".join(f"{escape_markdown(a.text)} {cite_mark(m)} ({a.score:.2f})"
                                for a, m in zip(response.answers[1:], response.answer_citations[1:]))
            lines.append(f"Other possible answers: {others}")
    lines.append(f"<small>{small_print(response)}</small>")
    return "\n\n".join(lines)


def small_print(response: Response) -> str:
    parts = []
    if response.resolved_question != response.question:
        parts.append(f"understood as “{escape_markdown(response.resolved_question)}”")
    if response.answer is not None:
        parts.append(f"confidence {response.answer.score:.2f}")
    timings = response.timings_ms
    if "total" in timings:
        detail = ", ".join(f"{name} {timings[name]:.0f} ms" for name in ("retrieve", "read") if name in timings)
        parts.append(f"{timings['total']:.0f} ms" + (f" ({detail})" if detail else ""))
    return " · ".join(parts)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
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
    quote = " ".join(turn.sentence_text.split())
    return f"{answer.text}\n“{quote}”\n— {short_title(turn.title)} ({answer.doc_id})"


def short_title(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + " …"


def sources_html(turn: ShownTurn | None) -> str:
    """The Sources panel for one turn: the answer with a copy button, then one card per citation."""
    if turn is None:
        return ('<div class="qa-empty">Ask a question: the passages each answer comes from appear here, and '
                'clicking one opens the whole article.</div>')
    response = turn.response
    parts = ['<div class="qa-sources">']
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
    answer_numbers = set(response.answer_citations)
    for c in response.citations:
        badge = '<span class="qa-badge">answer</span>' if c.n in answer_numbers else ""
        parts.append(
            f'<div class="qa-source" role="button" tabindex="0" data-n="{c.n}" '
            f'title="Open the whole article with this passage highlighted">'
            f'<div class="qa-source-head"><span class="qa-n">{c.n}</span>'
            f'<span class="qa-title">{escape(c.title)}</span>{badge}</div>'
            f'<div class="qa-meta">{_known(provenance(c.source, c.published, c.page))}'
            f'<code>{escape(c.doc_id)}</code> · relevance {c.score:.2f}</div>'
            f'<div class="qa-passage">{passage_html(c)}</div>'
            f'<div class="qa-open">Open article ›</div></div>')
    parts.append("</div>")
    return "".join(parts)


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
            f'<code>{escape(document.doc_id)}</code> · source [{citation.n}] · characters '
            f'{start:,}–{end:,}</div></div>'
            f'<div class="qa-article-text">{escape(text[:start])}<mark class="qa-passage" id="qa-passage">{inner}'
            f'</mark>{escape(text[end:])}</div></div>')


def article_placeholder() -> str:
    return '<div class="qa-empty">Click a source to read its whole article here.</div>'


def status_html(status: IndexStatus) -> str:
    """The note above the chat while articles are being added, and after."""
    if status.state == INDEXING:
        return (f'<div class="qa-status qa-indexing" role="status"><span class="qa-spinner"></span>'
                f'{escape(status.message)} You can keep asking meanwhile.</div>')
    if status.state == DONE:
        return f'<div class="qa-status qa-done" role="status">✓ {escape(status.message)}</div>'
    if status.state == FAILED:
        return f'<div class="qa-status qa-failed" role="alert">{escape(status.message)}</div>'
    return ""


def library_line(status: IndexStatus) -> str:
    return (f'<div class="qa-library">Answering from {status.articles:,} article{"s" * (status.articles != 1)} '
            f'({status.passages:,} passages)</div>')


def notice_html(message: str, kind: str = "error") -> str:
    """A one-line message ("" clears it); ``kind`` is "error" or "info"."""
    if not message:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<div class="qa-notice qa-{kind}" role="{role}">{escape(" ".join(message.split()))}</div>'
