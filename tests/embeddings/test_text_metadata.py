"""Plain-text articles: the headline, the dateline's date, the source and the byline, read by general rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.loader import load_paths
from embeddings.text_metadata import author_of, dateline_date, headline_of, source_of, without_dateline

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

# Read by hand from each file. 000 and 003 carry no headline (they open with their first paragraph).
SEED_TITLES = {
    # No headline above the body: the file's name and the first words, not a sentence cut at 200 characters.
    "000_0027d40a27e5cdba.txt": "000_0027d40a27e5cdba: In a statement obtained by BosNewsLife News Center …",
    "001_039291e9fa94fbe8.txt": "Russia, U.S. fail to agree on key issues at defense talks",
    "002_c6aa0806ec42fcf8.txt": "Russia, U.S. agree to continue dialogue on missile defense",
    # Its first words after the dateline ("MOSCOW, August 8 (RIA Novosti) – ") every story of that wire opens with.
    "003_4de95c55ef39965f.txt": "003_4de95c55ef39965f: Russia’s Defense Ministry expressed hope on Thursday that …",
    "004_cdaeb251b5d86124.txt": "U.S., Russian Leaders Agree to Meet Again",
}
# 004's dateline has a year ("MOSCOW, Oct. 12, 2007 –"); 001's "12/10/2007 18:35 MOSCOW, October 12 (RIA
# Novosti)" could be either order alone, and its own "October 12" says which. The others give no year.
SEED_DATES = {"001_039291e9fa94fbe8.txt": "2007-10-12", "004_cdaeb251b5d86124.txt": "2007-10-12"}
# 000 names BosNewsLife only inside its first sentence, which no rule reads as a source.
SEED_SOURCES = {"001_039291e9fa94fbe8.txt": "RIA Novosti", "002_c6aa0806ec42fcf8.txt": "RIA Novosti",
                "003_4de95c55ef39965f.txt": "RIA Novosti", "004_cdaeb251b5d86124.txt": "American Forces Press Service"}


def test_every_seed_is_titled_with_its_headline():
    documents = load_paths([SEEDS], 5_000_000).documents
    assert {d.doc_id: d.title for d in documents} == SEED_TITLES


def test_a_seed_has_a_date_only_when_its_dateline_gives_a_full_one():
    documents = load_paths([SEEDS], 5_000_000).documents
    assert {d.doc_id: d.published for d in documents if d.published} == SEED_DATES


def test_a_seed_names_its_source_and_author_where_its_top_lines_do():
    documents = load_paths([SEEDS], 5_000_000).documents
    assert {d.doc_id: d.source for d in documents if d.source} == SEED_SOURCES
    assert {d.doc_id: d.author for d in documents if d.author} == {"004_cdaeb251b5d86124.txt": "Linda D. Kozaryn"}


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
    # A date that more of a sentence follows is an event the article reports, not the day it was published.
    ("(CNN) -- On February 12, 2009, Christopher Savoie received an e-mail.", None),
    ("Born on April 21, 1947, in Muskegon, he grew up in a trailer park.", None),
    ("The memo, dated May 30, 2005, was from the deputy.", None),
    ("(CNN Student News) -- September 23, 2009\nBody.", "2009-09-23"),
    ("Updated 10:35 AM EST, Tue March 3, 2009\nBody.", "2009-03-03"),
    ("Last updated: March 3, 2024\nBody.", "2024-03-03"),
    # Numeric dates: the order is certain only with a part over 12 or the article's own spelled-out day.
    ("12/10/2007 18:35 MOSCOW, October 12 (RIA Novosti) - Talks failed.", "2007-10-12"),
    ("12/10/2007 18:35 WASHINGTON, December 10 (Wire) - Talks failed.", "2007-12-10"),
    ("Published on 03/14/2024\nBody.", "2024-03-14"),
    ("Published: 14.03.2024\nBody.", "2024-03-14"),
    ("Published: 03/04/2024\nBody.", None),
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


@pytest.mark.parametrize("text, source, author", [
    ("MOSCOW, October 12 (RIA Novosti) - The talks failed.", "RIA Novosti", None),
    ("New York (CNN)  -- Rapper Lil Wayne will go to jail.", "CNN", None),
    ("(Travel + Leisure) -- With its tranquil beaches, Sylt.", "Travel + Leisure", None),
    ("12/10/2007 18:35 MOSCOW, October 12 (RIA Novosti) - Talks.", "RIA Novosti", None),
    # The publisher's name under the byline, and above the headline too.
    ("American Forces Press Service\n\nLeaders Agree to Meet Again\n\nBy Linda D. Kozaryn\nAmerican Forces Press "
     "Service\n\nMOSCOW, Oct. 12, 2007 – Leaders met.", "American Forces Press Service", "Linda D. Kozaryn"),
    ("Harbour plan approved\n\nBy Lukas Brenner, Meridian Press\n\nOSLO - The council voted.", "Meridian Press",
     "Lukas Brenner"),
    ("Harbour plan approved\n\nBy Lukas Brenner\n\nHELSINKI, June 11 - The council voted.", None, "Lukas Brenner"),
    ("By The Associated Press\nThe council voted.", None, None),
    # No source named: a place without an agency, a sentence in parentheses, a first paragraph.
    ("MADRID, Spain -- Ronaldinho was granted dual nationality.", None, None),
    ("In a statement obtained by BosNewsLife News Center in Budapest, the talks will go on.", None, None),
    ("The minister (who spoke briefly) - and others - left.", None, None),
])
def test_the_source_and_author_come_from_the_dateline_and_the_byline(text, source, author):
    assert (source_of(text), author_of(text)) == (source, author)


@pytest.mark.parametrize("line, expected", [
    ("MOSCOW, August 8 (RIA Novosti) – Russia’s ministry spoke.", "Russia’s ministry spoke."),
    ("WASHINGTON (CNN) -- There are no plans.", "There are no plans."),
    ("MOSCOW, Oct. 12, 2007 – U.S. and Russian leaders met.", "U.S. and Russian leaders met."),
    ("U.S. - Russia talks resume.", "U.S. - Russia talks resume."),  # no comma or agency: not a dateline
    ("In a statement obtained in Budapest, the talks go on.", "In a statement obtained in Budapest, the talks go on."),
])
def test_a_title_from_first_words_leaves_out_the_dateline(line, expected):
    assert without_dateline(line) == expected
