"""Plain-text articles: the headline and the dateline's date, read by general rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.loader import load_paths
from embeddings.text_metadata import dateline_date, headline_of

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

# Read by hand from each file. 000 and 003 carry no headline (they open with their first paragraph).
SEED_TITLES = {
    # No headline above the body: the file's name and the first words, not a sentence cut at 200 characters.
    "000_0027d40a27e5cdba.txt": "000_0027d40a27e5cdba: In a statement obtained by BosNewsLife News Center …",
    "001_039291e9fa94fbe8.txt": "Russia, U.S. fail to agree on key issues at defense talks",
    "002_c6aa0806ec42fcf8.txt": "Russia, U.S. agree to continue dialogue on missile defense",
    "003_4de95c55ef39965f.txt": "003_4de95c55ef39965f: MOSCOW, August 8 (RIA Novosti) – Russia’s Defense …",
    "004_cdaeb251b5d86124.txt": "U.S., Russian Leaders Agree to Meet Again",
}
# Only 004 has a dateline with a year ("MOSCOW, Oct. 12, 2007 –"); 001's "12/10/2007" could be either order.
SEED_DATES = {"004_cdaeb251b5d86124.txt": "2007-10-12"}


def test_every_seed_is_titled_with_its_headline():
    documents = load_paths([SEEDS], 5_000_000).documents
    assert {d.doc_id: d.title for d in documents} == SEED_TITLES


def test_a_seed_has_a_date_only_when_its_dateline_gives_a_full_one():
    documents = load_paths([SEEDS], 5_000_000).documents
    assert {d.doc_id: d.published for d in documents if d.published} == SEED_DATES


def test_the_indexer_keeps_the_headline_titles(seed_index):
    from core.config import Settings
    from embeddings.index_store import read_index

    data = read_index(seed_index, Settings())
    assert {d.doc_id: d.title for d in data.documents} == SEED_TITLES


@pytest.mark.parametrize("text, expected", [
    ("MOSCOW, Oct. 12, 2007 – Leaders met.", "2007-10-12"),
    ("December 10, 2007\nThe talks went on.", "2007-12-10"),
    ("Posted 2007-12-10 by staff\nBody.", "2007-12-10"),
    ("LONDON, 3 March 2013 (Reuters) - Ministers met.", "2013-03-03"),
    ("Sept. 5, 2013\nBody.", "2013-09-05"),
    ("MOSCOW, August 8 (RIA Novosti) – no year here.", None),
    ("February 30, 2007\nNo such day.", None),
    ("Headline\n" + "The body mentions, deep in a long sentence about many other things, that the treaty of "
     "December 8, 1987 was signed.", None),
])
def test_a_dateline_gives_the_date(text, expected):
    assert dateline_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    # Site name, section and tagline above the headline.
    ("- Example News\nWorld\nThe latest news and stories from the world. Stay tuned.\n\nMayor opens the new bridge"
     " in Oslo\n\nThe mayor of Oslo opened a bridge on Monday.", "Mayor opens the new bridge in Oslo"),
    # A banner ending in "!", then the publisher's name, which the article repeats under the byline.
    ("Donate now to support our work!\n\nCity Press Service\n\nCouncil Votes to Expand Harbour\n\nBy A. Writer\n"
     "City Press Service\n\nOSLO - The council voted.", "Council Votes to Expand Harbour"),
    # A teaser ending in an ellipsis is not a headline.
    ("Read the full story of the vote in the council…\nCouncil votes on harbour plans today\nBody.",
     "Council votes on harbour plans today"),
    # No headline above the body: the first line, as before; a "related" link below the body is not taken.
    ("The council voted on Monday to expand the harbour, after a debate that lasted most of the night and ended "
     "with a narrow majority for the plan to build two new piers.\n\nRelated: Mayor Opens New Bridge in Oslo",
     "The council voted on Monday to expand the harbour, after a debate that lasted most of the night and ended "
     "with a narrow majority for the plan to build two new piers."),
    ("  First line  \nsecond", "First line"),
    ("", ""),
])
def test_a_headline_is_found_below_the_site_furniture(text, expected):
    assert headline_of(text) == expected
