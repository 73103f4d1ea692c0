"""Articles in other formats for the loader tests, made from real paragraphs of seeds/: web pages in the furniture
of three common layouts (each returns the page, its metadata, its paragraphs and the furniture strings that must
not reach the extracted text), and PDFs written with fpdf2."""

from __future__ import annotations

import html
import json
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_paragraphs(name: str, first: int, count: int) -> list[str]:
    """``count`` paragraphs of a seed from the ``first``-th non-empty line on."""
    lines = [line.strip() for line in (SEEDS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[first:first + count]


def _p(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


COOKIE = "We use cookies to improve your experience. Accept all cookies"
MENU = ["Home", "World News", "Europe", "Contact us", "Donate to our newsroom"]


def wordpress_blog() -> tuple[str, dict, list[str], list[str]]:
    """A WordPress-style blog post: header menu, sidebar widgets, share buttons, related posts, comment form."""
    body = seed_paragraphs("000_0027d40a27e5cdba.txt", 0, 3)
    related = ["Gorbachev Criticizes Detention Opposition Leaders Before Ballot",
               "Russia Halfway, Ex-Soviet Leader Tells BosNewsLife"]
    comments = ["This is exactly what I feared would happen, thanks for reporting it.",
                "Another empire in the making, the Cold War never ended."]
    furniture = MENU + related + comments + [COOKIE, "Share on Facebook", "Tweet this story", "Recent Posts",
                                             "Leave a Reply", "Your email address will not be published",
                                             "Subscribe to our newsletter for weekly updates", "window.dataLayer"]
    page = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>US, Russia To Hold Missile Defense Talks In Budapest | BosNewsLife</title>
<meta property="og:site_name" content="BosNewsLife">
<meta property="og:title" content="US, Russia To Hold Missile Defense Talks In Budapest">
<meta property="article:published_time" content="2007-12-10T08:15:00+00:00">
<meta name="author" content="Stefan J. Bos">
<link rel="canonical" href="https://www.bosnewslife.com/us-russia-missile-talks/">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head><body class="post-template-default single single-post">
<div id="cookie-notice">{COOKIE}</div>
<header id="masthead" class="site-header"><p class="site-title"><a href="/">BosNewsLife</a></p>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
{"".join(f'<li class="menu-item"><a href="/{i}">{m}</a></li>' for i, m in enumerate(MENU))}
</ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-4242" class="post-4242 post type-post status-publish format-standard hentry category-europe">
<header class="entry-header"><h1 class="entry-title">US, Russia To Hold Missile Defense Talks In Budapest</h1>
<div class="entry-meta"><span class="posted-on">Posted on <time class="entry-date published"
 datetime="2007-12-10T08:15:00+00:00">December 10, 2007</time></span>
<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/stefan/">Stefan J. Bos</a>
</span></span></div></header>
<div class="entry-content">
{_p(body)}
</div>
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3><ul>
<li><a class="share-facebook" href="#">Share on Facebook</a></li><li><a class="share-twitter" href="#">Tweet this
 story</a></li></ul></div>
<div class="jp-relatedposts"><h3 class="jp-relatedposts-headline">Related</h3>
{"".join(f'<div class="jp-relatedposts-post"><a href="/r{i}">{r}</a></div>' for i, r in enumerate(related))}
</div></article>
<div id="comments" class="comments-area"><h2 class="comments-title">2 thoughts on this post</h2>
<ol class="comment-list">
{"".join(f'<li class="comment"><article class="comment-body"><footer class="comment-meta">reader{i}</footer>'
         f'<div class="comment-content"><p>{c}</p></div></article></li>' for i, c in enumerate(comments))}
</ol><div id="respond" class="comment-respond"><h3 id="reply-title">Leave a Reply</h3>
<form id="commentform"><p class="comment-notes">Your email address will not be published.</p>
<textarea name="comment"></textarea></form></div></div>
</main></div>
<aside id="secondary" class="widget-area"><section class="widget widget_recent_entries"><h2>Recent Posts</h2>
<ul><li><a href="/x">Church leaders meet in Prague</a></li></ul></section>
<section class="widget"><p>Subscribe to our newsletter for weekly updates</p></section></aside></div>
<footer class="site-footer"><p>Copyright 2007 BosNewsLife. All rights reserved.</p></footer>
<script>var _paq = window._paq = []; _paq.push(['trackPageView']);</script>
</body></html>"""
    metadata = {"title": "US, Russia To Hold Missile Defense Talks In Budapest", "published": "2007-12-10",
                "author": "Stefan J. Bos", "source": "BosNewsLife"}
    return page, metadata, body, furniture


def news_site_json_ld() -> tuple[str, dict, list[str], list[str]]:
    """A news site's article page whose metadata is in JSON-LD; a trending bar, a newsletter box, more stories."""
    body = seed_paragraphs("002_c6aa0806ec42fcf8.txt", 6, 5)
    headline = "Russia, U.S. agree to continue dialogue on missile defense"
    trending = ["Putin signs decree on army", "Oil prices climb again", "Weather: snow in Moscow"]
    more = ["Russia warns against radar deployment in Czech Republic",
            "NATO chief says missile shield is no threat"]
    furniture = trending + more + [COOKIE, "Sign up for our daily briefing", "Most read", "Follow us on Telegram",
                                   "All rights reserved", "googletag.cmd"]
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline,
          "datePublished": "2007-04-23T14:02:00+04:00", "dateModified": "2007-04-24T09:00:00+04:00",
          "author": [{"@type": "Person", "name": "Ivan Petrov"}],
          "publisher": {"@type": "Organization", "name": "Sputnik International",
                        "logo": {"@type": "ImageObject", "url": "https://example.org/logo.png"}},
          "mainEntityOfPage": "https://sputniknews.example/20070423/russia-us-dialogue.html"}
    page = f"""<!doctype html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{headline} - Sputnik International</title>
<script type="application/ld+json">{json.dumps(ld)}</script>
<script>var googletag = googletag || {{}}; googletag.cmd = googletag.cmd || [];</script>
<style>.banner {{ display: none; }}</style>
</head><body>
<div class="cookie-banner" role="dialog"><p>{COOKIE}</p><button>Accept</button></div>
<header><nav class="nav"><a href="/">Sputnik</a>{"".join(f' <a href="/s{i}">{m}</a>' for i, m in enumerate(MENU))}
</nav><div class="trending"><span>Trending:</span>{"".join(f'<a href="/t{i}">{t}</a> ' for i, t in
                                                            enumerate(trending))}</div></header>
<main><article class="article">
<div class="article__header"><h1 class="article__title">{headline}</h1>
<div class="article__info"><span class="article__date">23.04.2007</span></div></div>
<div class="article__body">
{_p(body)}
</div>
<div class="article__footer"><a href="https://t.me/x">Follow us on Telegram</a></div>
</article>
<aside class="newsletter"><h3>Sign up for our daily briefing</h3><input type="email"></aside>
<section class="more-stories"><h2>Most read</h2><ul>
{"".join(f'<li><a href="/m{i}">{m}</a></li>' for i, m in enumerate(more))}
</ul></section></main>
<footer><p>© 2007 Sputnik. All rights reserved.</p></footer></body></html>"""
    metadata = {"title": headline, "published": "2007-04-23", "author": "Ivan Petrov",
                "source": "Sputnik International"}
    return page, metadata, body, furniture


def split_by_ads() -> tuple[str, dict, list[str], list[str]]:
    """A government news service page whose article is cut by inline ads and an "also read" box."""
    body = seed_paragraphs("004_cdaeb251b5d86124.txt", 5, 6)
    ads = ["ADVERTISEMENT", "Refinance today and save up to 40 percent", "Click here to win a new car",
           "Sponsored content from our partners"]
    also = ["Gates Visits Troops in Iraq", "Pentagon Budget Request Sent to Congress"]
    furniture = ads + also + ["Also read", "Print this page", "adsbygoogle", "Defense.gov Home"]
    chunks = []
    for i, paragraph in enumerate(body):
        chunks.append(f"<p>{html.escape(paragraph, quote=False)}</p>")
        if i == 1:
            chunks.append(f'<div class="ad-slot" aria-hidden="true"><span>{ads[0]}</span>'
                          f'<a href="https://ads.example/1">{ads[1]}</a></div>'
                          '<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>')
        if i == 3:
            chunks.append(f'<div class="related-box"><h4>Also read</h4><ul>'
                          f'{"".join(f"<li><a href=/n{j}>{a}</a></li>" for j, a in enumerate(also))}</ul></div>')
        if i == 4:
            chunks.append(f'<div class="advert sponsored"><p>{ads[3]}</p><a href="https://ads.example/2">{ads[2]}'
                          f'</a></div>')
    page = f"""<html><head><meta charset="windows-1252">
<title>U.S., Russian Leaders Agree to Meet Again</title>
<meta name="description" content="Rice and Gates met Lavrov and Serdyukov in Moscow.">
<meta name="author" content="Linda D. Kozaryn">
<meta property="og:site_name" content="American Forces Press Service">
<meta name="date" content="2007-10-12">
</head><body>
<div id="top"><a href="/">Defense.gov Home</a> | <a href="/news">News</a> | <a href="#" onclick="print()">Print
 this page</a></div>
<div id="content"><h1>U.S., Russian Leaders Agree to Meet Again</h1>
<p class="byline">By Linda D. Kozaryn<br>American Forces Press Service</p>
{"".join(chunks)}
</div></body></html>"""
    metadata = {"title": "U.S., Russian Leaders Agree to Meet Again", "published": "2007-10-12",
                "author": "Linda D. Kozaryn", "source": "American Forces Press Service"}
    return page, metadata, body, furniture


LAYOUTS = {"wordpress_blog": wordpress_blog, "news_site_json_ld": news_site_json_ld, "split_by_ads": split_by_ads}


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def ascii_paragraphs(name: str, first: int, count: int) -> list[str]:
    """Seed paragraphs in the characters the PDF core fonts have (curly quotes made straight)."""
    table = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "\u00a0": " "})
    return [p.translate(table) for p in seed_paragraphs(name, first, count)]
