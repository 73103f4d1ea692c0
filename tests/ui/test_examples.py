"""Before the first question: the seeds' example questions only where the library fits them, else its newest
headlines. Real articles, a real index and the real Gradio app."""

from __future__ import annotations

from core.config import Settings
from embeddings.indexer import index_paths
from embeddings.loader import make_document
from qa.assistant import Assistant
from tests.live_server import ARTICLES, write_articles
from ui.app import build_app
from ui.examples import EXAMPLES, first_question_hint, fitting_examples
from ui.feedback import FeedbackLog
from ui.handlers import ChatApp
from ui.library import Article, Library

BUDAPEST_EXAMPLES = ["Who led the Russian delegation in Budapest?", "When will the Budapest talks take place?"]


def test_every_example_fits_the_seeds(assistant):
    assert fitting_examples(list(assistant.documents.values())) == list(EXAMPLES)


def test_an_example_fits_only_an_article_with_its_names_and_most_of_its_words():
    documents = [make_document(name, text) for name, text in ARTICLES.items()]
    # One short article on the Budapest talks fits the two questions about them, not the CFE Treaty's or Moscow's.
    assert fitting_examples(documents) == BUDAPEST_EXAMPLES
    without = [d for d in documents if d.doc_id != "budapest.txt"]
    assert fitting_examples(without) == []
    # Its names in two different articles are not one article that fits.
    split = [make_document("a.txt", "The Russian delegation was led by a deputy minister."),
             make_document("b.txt", "Talks in Budapest were held on Thursday.")]
    assert "Who led the Russian delegation in Budapest?" not in fitting_examples(split)


def article(title: str, published: str | None = None, added: float | None = None, source: str | None = None):
    return Article(f"{title}.txt", title, source, published, 3, added, False)


def test_with_no_example_the_hint_names_the_newest_articles_by_date_then_by_when_they_were_saved():
    articles = [article("Old treaty signed", "2001-05-01"), article("Harbour vote *today*", "2024-03-02", 5.0,
                                                                      "Coast Wire"),
                article("Undated but just saved", None, 99.0), article("Undated and older", None, 1.0),
                article("Budget passed", "2023-11-30")]
    hint = first_question_hint([], articles)
    assert hint.splitlines()[0].endswith("The newest of the 5 articles:")
    # Markdown in a title is shown as text: every punctuation mark is a character reference.
    assert hint.splitlines()[1:] == ["- Harbour vote &#42;today&#42; · Coast Wire · 2 Mar 2024",
                                     "- Budget passed · 30 Nov 2023", "- Old treaty signed · 1 May 2001"]
    assert "pick an example" in first_question_hint(["Who?"], articles)
    assert "The library is empty" in first_question_hint([], [])


def test_a_page_over_articles_the_examples_do_not_fit_offers_none_and_shows_their_headlines(tmp_path, embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_articles(folder, {name: ARTICLES[name] for name in ("harvest.txt", "bridge.txt")})
    index_paths([folder], tmp_path / "index", embedder=embedder)
    assistant = Assistant.load(tmp_path / "index", Settings(), embedder=embedder)
    app = build_app(Library(assistant, folders=[folder], uploads_dir=tmp_path / "uploads"),
                    feedback_path=tmp_path / "feedback.jsonl")
    components = app.get_config_file()["components"]
    assert not any(c["type"] == "dataset" for c in components)  # gr.Examples renders as a dataset
    chat = next(c for c in components if c["props"].get("elem_id") == "qa-chat")
    assert chat["props"]["placeholder"].splitlines()[1:] == ["- Bridge opening in Lisbon", "- Harvest report from Iowa"]


def test_the_examples_and_the_hint_follow_the_library_as_articles_are_added_and_removed(tmp_path, embedder):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_articles(folder, {name: ARTICLES[name] for name in ("harvest.txt", "budapest.txt")})
    index_paths([folder], tmp_path / "index", embedder=embedder)
    library = Library(Assistant.load(tmp_path / "index", Settings(), embedder=embedder), tmp_path / "index",
                      [folder], uploads_dir=tmp_path / "uploads")
    chat_app = ChatApp(library, FeedbackLog(tmp_path / "feedback.jsonl"))
    assert chat_app.first_help()[0] == BUDAPEST_EXAMPLES
    library.remove("budapest.txt")
    assert library.wait()
    fitting, hint = chat_app.first_help()
    assert fitting == [] and hint.splitlines()[1:] == ["- Harvest report from Iowa"]
    bridge = tmp_path / "in" / "bridge.txt"
    bridge.parent.mkdir()
    write_articles(bridge.parent, {"bridge.txt": ARTICLES["bridge.txt"]})
    library.add_files([bridge])
    assert library.wait()
    assert chat_app.first_help()[1].splitlines()[1] == "- Bridge opening in Lisbon"  # newest first
