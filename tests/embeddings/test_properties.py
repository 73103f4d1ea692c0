"""Properties of loading, cleaning and chunking on arbitrary Unicode (Hypothesis; 700 examples a run).

Whatever the article, every chunk is the article's own slice, chunks start strictly later one after another, no
character of the body is lost, no chunk is empty or over its limits, and the same input gives the same chunks.
No embedding model is needed: the chunker's token limits are met with cl100k, and spaCy finds the sentences.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import DocumentError
from embeddings.analysis import analyse, body_blocks
from embeddings.chunker import Chunker, count_cl100k
from embeddings.cleaner import body_spans, lines_of
from embeddings.indexer import _sentences_by_block
from embeddings.loader import decode_article, make_document

# Pieces that have broken text tools before: CRLF and other line breaks, combining marks, astral emoji and
# modifiers, a letter whose lower case is longer ("İ"), ligatures, curly quotes, no-break spaces, control codes.
PIECES = ["The", "minister", "said", "talks", "İstanbul", "İ", "e\u0301", "\u0301", "😀", "👍🏽", "🇺🇦", "Kislyak’s",
          "“quoted”", "ß", "ﬁ", "3.5", "START-1", "—", ".", "!", "?", ",", ":", " ", "  ", "\t", "\n", "\r\n",
          "\n\n", "\r", "\u2028", "\u2029", "\u00a0", "\u3000", "\x0b", "\x0c", "\x85", "\u200b", "\ufeff", "مرحبا",
          "東京", "Москва"]
ANY_CHAR = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be in a decoded file
pieces = st.one_of(st.sampled_from(PIECES), st.text(ANY_CHAR, max_size=6))
articles = st.one_of(
    st.lists(pieces, max_size=80).map("".join),
    st.tuples(st.text(ANY_CHAR, max_size=30), st.integers(2, 30)).map(lambda t: t[0] * t[1]),  # repetitive
    st.sampled_from(["", " ", "\n", "\r\n\r\n", " \t\u2028\u3000 "]),  # empty and white space only
    st.lists(st.sampled_from(["Officials met in Vienna on Friday.", "Prices fell!", "Why?", "\n", "\r\n\r\n",
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", " "]),
             max_size=40).map(" ".join),  # sentences, paragraphs and a "word" too long for any chunk
)
_NOT_BREAK = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]")
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def check_chunks(text: str, blocks: list[tuple[int, int]], chunks, max_tokens: int) -> None:
    """The chunk contract, for any article."""
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "starts strictly increase"
    for chunk in chunks:
        assert chunk.text == text[chunk.start:chunk.end]
        assert chunk.text.strip(), "no chunk is empty"
        assert chunk.n_tokens == count_cl100k(chunk.text) <= max_tokens
        assert any(s <= chunk.start and chunk.end <= e for s, e in blocks), "a chunk stays inside one body block"
    covered = [False] * len(text)
    for chunk in chunks:
        covered[chunk.start:chunk.end] = [True] * (chunk.end - chunk.start)
    lost = [i for s, e in blocks for i in range(s, e) if not covered[i] and not text[i].isspace()]
    assert lost == [], f"body characters in no chunk: {[text[i] for i in lost[:10]]}"


@settings(FAST, max_examples=200)
@given(articles, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_decoding_gives_back_the_text_exactly_or_refuses_a_binary(text, encoding):
    # UTF-16 of a text that opens with U+0000 starts FF FE 00 00, which is UTF-32's byte-order mark: the same
    # bytes are a UTF-32 file too, so no decoder can tell them apart. Not an article anyone saves.
    assume(not (encoding == "utf-16" and text.startswith("\x00")))
    data = text.encode(encoding)
    try:
        decoded = decode_article(data, "a.txt")
    except DocumentError as error:
        assert encoding in ("utf-8", "utf-8-sig") and "\x00" in text and "\n" not in str(error)
        return
    # A leading BOM names the encoding and is not part of the text; everything else comes back unchanged.
    assert decoded == (text.removeprefix("\ufeff") if encoding == "utf-8" else text)


@settings(FAST, max_examples=200)
@given(articles)
def test_body_spans_are_trimmed_non_blank_lines_in_order(text):
    spans = body_spans(text)
    assert spans == body_spans(text)
    lines = {(line.start, line.end) for line in lines_of(text)}
    for (start, end), following in zip(spans, spans[1:] + [(len(text) + 1, 0)]):
        assert 0 <= start < end <= len(text) and end <= following[0]
        assert (start, end) in lines
        piece = text[start:end]
        assert piece == piece.strip() and not _NOT_BREAK.search(piece)
    if not text.strip():
        assert spans == []


@settings(FAST, max_examples=180)
@given(articles, st.integers(4, 48), st.integers(0, 2))
def test_chunks_of_analysed_articles_keep_every_body_character_at_its_offset(text, max_tokens, overlap):
    blocks = body_blocks(text, body_spans(text))
    analysis = analyse("a.txt", text, blocks)
    document = make_document("a.txt", text)
    chunker = Chunker(max_tokens=max_tokens, overlap_sentences=overlap)
    chunks = chunker.split(document, _sentences_by_block(analysis))
    check_chunks(text, blocks, chunks, max_tokens)
    assert chunks == chunker.split(document, _sentences_by_block(analyse("a.txt", text, blocks)))


def _line_sentences(text: str, blocks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Each block's lines as its sentences: a cheap stand-in for spaCy that still gives exact spans."""
    return [[(line.start + s, line.end + s) for line in lines_of(text[s:e])] for s, e in blocks]


@settings(FAST, max_examples=200)
@given(articles, st.integers(4, 48), st.integers(8, 40))
def test_chunks_fit_a_smaller_model_limit_without_losing_anything(text, max_tokens, model_max):
    # The model's own tokenizer counts differently from cl100k; here a stricter count stands for it.
    def model_tokens(texts):
        return [count_cl100k(t) + 2 for t in texts]

    blocks = body_blocks(text, body_spans(text))
    document = make_document("a.txt", text)
    chunker = Chunker(max_tokens=max_tokens, overlap_sentences=1, model_tokens=model_tokens,
                      model_max_tokens=model_max)
    chunks = chunker.split(document, _line_sentences(text, blocks))
    check_chunks(text, blocks, chunks, max_tokens)
    assert all(n <= model_max or len(c.text) == 1 for c, n in zip(chunks, model_tokens([c.text for c in chunks])))
    assert chunks == chunker.split(document, _line_sentences(text, blocks))


# Generated web pages: paragraphs of the pieces above, escaped, with inline markup, entities, scripts, styles and
# comments around them. Whatever trafilatura keeps becomes the Document's text, and every offset points into it.
SCRIPT_WORDS = "scriptwordsnevershown"
inline = st.sampled_from(["<b>", "</b>", "<a href='/x?a=1&amp;b=2'>", "</a>", "<br>", "&amp;", "&nbsp;", "&#8217;",
                          "&lt;", "&gt;", "&quot;", "<!-- a comment -->", "<span class='x'>", "</span>", "<i>", "</i>"])
paragraph = st.lists(st.one_of(pieces.map(lambda p: p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")),
                               inline, st.sampled_from(["Officials met in Vienna on Friday.", "Prices fell sharply."])),
                     min_size=1, max_size=30).map("".join)
pages = st.tuples(st.text(ANY_CHAR, max_size=40), st.lists(paragraph, min_size=1, max_size=12),
                  st.sampled_from(["", f"<script>var a = '{SCRIPT_WORDS}';</script>", "<style>p {color: red}</style>",
                                   "<nav>Home | World | Sport</nav>"])).map(
    lambda t: (f"<html><head><title>{t[0].replace('<', '&lt;')}</title>{t[2]}</head><body><article>"
               + "".join(f"<p>{p}</p>" for p in t[1]) + f"</article>{t[2]}</body></html>"))


@settings(FAST, max_examples=120)
@given(pages, st.sampled_from(["utf-8", "utf-16", "windows-1252"]))
def test_a_generated_web_page_reads_as_text_whose_chunks_and_sentences_are_its_exact_slices(html, encoding):
    from embeddings.loader import document_of

    data = (html if encoding == "utf-8" else html.replace("<head>", f"<head><meta charset='{encoding}'>"))
    try:
        data = data.encode(encoding)
    except UnicodeEncodeError:
        data = data.encode("utf-8")
    try:
        document = document_of(data, "page.html", "page.html", 1_000_000)
    except DocumentError as error:  # no article in it: refused in one line
        assert "\n" not in str(error) and str(error).startswith("page.html: ")
        return
    text = document.text
    assert text.strip() and SCRIPT_WORDS not in text  # no script, style or markup reaches the text
    blocks = body_blocks(text, body_spans(text))
    analysis = analyse("page.html", text, blocks)
    for start, end in (s for block in _sentences_by_block(analysis) for s in block):
        assert 0 <= start < end <= len(text) and text[start:end].strip() == text[start:end]
    chunks = Chunker(max_tokens=24, overlap_sentences=1).split(document, _sentences_by_block(analysis))
    check_chunks(text, blocks, chunks, 24)
