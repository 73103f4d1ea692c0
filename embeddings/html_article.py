"""The article inside a saved web page: its main text and metadata, extracted with trafilatura.

trafilatura (Apache-2.0) is built for news pages: it leaves out navigation, comments, share bars, related links
and cookie banners, and reads the headline, date, author and site name from the page's metadata (JSON-LD, Open
Graph, ``<meta>``) before guessing from the markup. The extracted text becomes the Document's ``text``, so every
offset the index keeps points into it, not into the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import DocumentError
from embeddings.text_metadata import metadata_line

# A page declares its encoding in its first bytes (HTML5 asks for the first 1024; old pages are looser).
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# When a page has no article, trafilatura falls back to whatever text it holds ("Home", a lone menu); a shortest
# news brief is a sentence, so fewer words than this is no article.
MIN_ARTICLE_WORDS = 8
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SAVED_FROM = re.compile(r"<!-- saved from url=\(\d+\)(https?://[^\s<>\"]+?) -->")
# Inline ads and sponsored boxes that trafilatura keeps when they sit inside the article's container (it drops
# the common "ad-slot" kinds itself): pruned by the words ad networks and templates put in class and id names.
_AD_WORDS = ("advert", "sponsor", "promo", "gpt-ad", "dfp-", "outbrain", "taboola")
PRUNE_ADS = [f"//*[contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{w}')"
             f" or contains(translate(@id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{w}')]"
             for w in _AD_WORDS]


@dataclass(frozen=True)
class PageArticle:
    """What a web page says about its article; ``None`` where the page does not say."""

    text: str
    title: str | None
    published: str | None  # YYYY-MM-DD
    author: str | None
    source: str | None
    url: str | None


def decode_page(data: bytes, name: str) -> str:
    """A page's text: its BOM, else its ``<meta charset>``, else UTF-8, else Windows-1252 (the web's default).

    Unlike a plain-text article, a page names its own encoding, and browsers fall back to Windows-1252, so the
    same fallback reads what a browser would show. Binary junk with an ``.html`` name is refused.
    """
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{name}: looks like a binary file (it contains NUL bytes), not a web page",
                            plain=f"{name}: is not a web page, so no article can be read from it")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:  # an unknown charset name: fall through to the defaults
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def extract_page(data: bytes, name: str) -> PageArticle:
    """The article in a page's bytes; raises DocumentError (one line) when the page holds no article text."""
    html = decode_page(data, name)
    if "<" not in html:
        raise DocumentError(f"{name}: holds no HTML markup, so no article could be found in it")
    import trafilatura  # imported here: loading .txt articles should not pay for lxml and its friends

    try:
        result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                             include_tables=False, prune_xpath=PRUNE_ADS,
                                             date_extraction_params={"original_date": True})
    except MemoryError:  # the reader's limit (read_apart), not a page that cannot be parsed
        raise
    except Exception as error:  # noqa: BLE001 - whatever the parser trips on, the page is skipped, not the run
        raise DocumentError(f"{name}: the page could not be parsed ({type(error).__name__})",
                            plain=f"{name}: the page could not be read") from None
    text = (result.text or "").strip() if result is not None else ""
    if len(text.split()) < MIN_ARTICLE_WORDS:
        raise DocumentError(f"{name}: no article text was found in the page")
    return PageArticle(text=text, title=metadata_line(result.title), published=_date(result.date),
                       author=metadata_line(result.author), source=metadata_line(result.sitename),
                       url=metadata_line(result.url) or _saved_from(html))


def _saved_from(html: str) -> str | None:
    """The address a browser (or ``qa index URL``) noted atop a page it saved: ``<!-- saved from url=(0042)… -->``."""
    match = _SAVED_FROM.search(html, 0, 2048)
    return match.group(1) if match else None


def _date(value: str | None) -> str | None:
    match = _ISO_DATE.match(value or "")
    return match.group(0) if match else None
