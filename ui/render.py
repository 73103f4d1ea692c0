"""Turn a Response into the HTML and Markdown the chat shows. Article text is always escaped."""

from __future__ import annotations

import html

from qa.records import Citation, Response


def highlight(citation: Citation) -> str:
    """The passage as HTML, its answer span marked; every character of article text goes through escape()."""
    text = citation.text
    if citation.answer_start is None:
        return html.escape(text)
    return (html.escape(text[: citation.answer_start]) + "<mark>"
            + html.escape(text[citation.answer_start: citation.answer_end]) + "</mark>"
            + html.escape(text[citation.answer_end:]))


def answer_markdown(response: Response) -> str:
    """The chat message for one answer: the span in bold with its citation marker, then the sources."""
    if response.answer is None:
        head = "**Not found in the articles.** The closest passages:"
    else:
        head = f"**{html.escape(response.answer.text)}** [{response.answer_citations[0]}]"
    sources = "\n".join(
        f"<details><summary>[{c.n}] {html.escape(c.title)} — <code>{html.escape(c.doc_id)}</code> "
        f"(score {c.score:.2f})</summary><p>{highlight(c)}</p></details>"
        for c in response.citations
    )
    timing = f"<small>{response.timings_ms.get('total', 0.0):.0f} ms</small>"
    return f"{head}\n\n{sources}\n\n{timing}"
