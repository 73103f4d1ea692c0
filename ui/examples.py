"""What the page offers before the first question: example questions only where the library can answer them, and
otherwise its newest headlines.

The examples are questions about the seeds. Shown over a person's own folder they invite a question its articles
cannot answer, so an example is offered only where one article holds its names and most of its words. That is a
general test, not a list of libraries: the same question fits a folder that holds the seeds, or any article about
the Budapest talks.
"""

from __future__ import annotations

import re

from core.records import Document
from embeddings.lexical import tokenize
from qa.support import particulars
from ui.library import Article
from ui.render import escape_markdown, provenance

# Real first questions about the seeds (none leans on an earlier one), short enough for their buttons.
EXAMPLES = ("Who led the Russian delegation in Budapest?", "When will the Budapest talks take place?",
            "When was the original CFE Treaty signed?", "What does Moscow say is the real aim of the shield?")
NEWEST = 3  # headlines named when no example fits
WORDS_HELD = 0.5


def fitting_examples(documents: list[Document], examples: tuple[str, ...] = EXAMPLES) -> list[str]:
    """The examples that one article of ``documents`` fits: it names every particular of the question (its names
    and numbers) and holds at least ``WORDS_HELD`` of its words (their stems, stop words left out), each at the
    start of a word ("talk" in "talks"). An answer is rarely worded as its question ("When will the Budapest talks
    take place?" is answered by "the talks Thursday, December 13"), so not every word is asked for."""
    texts = [document.text.casefold() for document in documents]
    return [example for example in examples if any(_fits(example, text) for text in texts)]


def _fits(example: str, text: str) -> bool:
    def held(word: str) -> bool:
        return re.search(rf"\b{re.escape(word)}", text) is not None

    stems = tokenize(example)
    return all(map(held, particulars(example))) and sum(map(held, stems)) >= WORDS_HELD * len(stems)


def first_question_hint(examples: list[str], articles: list[Article]) -> str:
    """The chat's placeholder: where to start, and with no example to pick, the library's newest headlines (by
    publication date, then by when their files were saved)."""
    if examples:
        return "**Ask about the news articles.** Type a question below or pick an example."
    if not articles:
        return "**Ask about the news articles.** The library is empty: add articles in the Library tab."
    newest = sorted(articles, key=lambda a: (a.published or "", a.added or 0.0), reverse=True)[:NEWEST]
    lines = [f"- {escape_markdown(' · '.join(part for part in (a.title, provenance(a.source, a.published)) if part))}"
             for a in newest]
    return (f"**Ask about the news articles.** Type a question below. The newest of the {len(articles):,} "
            f"article{'s' * (len(articles) != 1)}:\n" + "\n".join(lines))
