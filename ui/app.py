"""The Gradio chat: ask, see the answer in its sentence, open the cited article, ask a follow-up, keep a library.

``build_app`` lays out the page (``_layout``) and wires each part to ``ChatApp`` methods (``_wire_*``). The named
endpoints (for ``gradio_client`` and scripts) are:

- ``/chat`` (message) → the box's text, the chat, the Sources panel, a notice
- ``/open_source`` (n) → the whole article of source ``n`` of the shown answer, and a notice
- ``/feedback`` (turn, vote) → a notice; ``turn`` counts questions from 0, ``vote`` is "up" or "down"
- ``/new_conversation`` () → an empty chat; ``/add_articles`` (files) → the note beside the upload box (what is
  being indexed, one line for each file refused); ``/status`` () → that note now ("Indexing x.txt…", "Added
  x.txt — you can ask about it now."); ``/remove_article`` (doc_id) → the note, with its undo;
  ``/undo_removal`` (doc_id) → the note (only right after that session's removal, as the page's Undo)
- ``/library`` (query) → the library panel

The chat history lives on the server (one ``ChatSession`` per browser tab), so a request carries one question,
never the whole history; a copy kept in the browser (``gr.BrowserState``) brings it back after a reload.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from core.records import KINDS
from embeddings.loader import readable_size
from ui.feedback import FeedbackLog
from ui.handlers import ChatApp
from ui.library import Library
from ui.past_chats import choices, filed, read_past
from ui.render import article_placeholder, conversation_markdown, sources_html
from ui.session import MAX_SOURCES
from ui.style import ARTICLE_JS, LIBRARY_JS, NOTE_JS, SOURCES_JS

FEEDBACK_FILE = "feedback.jsonl"
POLL_SECONDS = 1.0
TITLE = "News QA"
SAVED_KEY = "news-qa-conversation"
PAST_KEY = "news-qa-past-conversations"
# The browser encrypts the saved chat with this. It is no secret from the browser's user (the page carries it);
# it is fixed so that a saved conversation survives a restart of the server.
SAVED_SECRET = "news-qa-saved-conversation-v1"


def default_feedback_path(index_dir: Path) -> Path:
    """``feedback.jsonl`` next to the index folder (``.qa-index`` → ``./feedback.jsonl``)."""
    return Path(index_dir).absolute().parent / FEEDBACK_FILE


@dataclass
class Page:
    """The page's components, as ``_layout`` made them."""

    session: gr.State
    saved: gr.BrowserState
    past: gr.BrowserState  # the conversations "New conversation" filed away (ui/past_chats.py)
    chatbot: gr.Chatbot
    box: gr.Textbox
    notice: gr.HTML
    examples: gr.Examples | None  # None where no example fits the library
    new_button: gr.Button
    export: gr.DownloadButton
    past_list: gr.Dropdown
    reopen: gr.Button
    forget: gr.Button
    top_k: gr.Dropdown
    show_more: gr.Checkbox
    since: gr.Textbox
    until: gr.Textbox
    tabs: gr.Tabs
    sources: gr.HTML
    article: gr.HTML
    library_line: gr.HTML
    uploads: gr.File
    library_note: gr.HTML
    url: gr.Textbox
    fetch: gr.Button
    search: gr.Textbox
    library: gr.HTML
    timer: gr.Timer


def build_app(library: Library, feedback_path: Path | None = None):
    """The chat over ``library`` (its articles folders and uploads folder, indexed into its index folder); votes
    go to ``feedback_path`` (default ``default_feedback_path(library.index_dir)``). Pass ``CSS`` to
    ``launch(css=...)``."""
    feedback = FeedbackLog(default_feedback_path(library.index_dir) if feedback_path is None else feedback_path)
    chat_app = ChatApp(library, feedback)
    exports = Path(tempfile.mkdtemp(prefix="qa-exports-"))
    with gr.Blocks(title=TITLE) as app:
        page = _layout(chat_app)
        _wire_conversation(page, chat_app, exports)
        _wire_sources(page, chat_app)
        _wire_settings(page, chat_app, exports)
        _wire_library(page, chat_app)
        _wire_reload(app, page, chat_app, exports)
    return app


def _layout(chat_app: ChatApp) -> Page:
    settings = chat_app.library.assistant.settings
    fitting, hint = chat_app.first_help()
    session = gr.State(None)
    saved = gr.BrowserState(None, storage_key=SAVED_KEY, secret=SAVED_SECRET)
    past = gr.BrowserState([], storage_key=PAST_KEY, secret=SAVED_SECRET)
    with gr.Column(elem_id="qa-header"):
        gr.Markdown("# Ask the news articles\nEvery answer is copied word for word from an article, with "
                    "numbered sources you can open. Ask follow-up questions as you would a person.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            # Gradio's own copy button would copy the Markdown source with its character references; each answer
            # carries a Copy button of ours (ui/style.py) instead. No LaTeX: "$$" in an article is text.
            chatbot = gr.Chatbot(
                label="Conversation", show_label=False, elem_id="qa-chat", height=560, buttons=[],
                latex_delimiters=[], sanitize_html=True, feedback_options=("Like", "Dislike"), editable="user",
                placeholder=hint)
            box = gr.Textbox(placeholder="Ask a question about the articles and press Enter", label="Question",
                             show_label=False, submit_btn="Ask", autofocus=True, elem_id="qa-question",
                             lines=1, max_lines=4)
            notice = gr.HTML("", label="Notice", elem_id="qa-notice")
            examples = gr.Examples(fitting, inputs=[box], label="Examples (click one)") if fitting else None
            with gr.Row():
                new_button = gr.Button("New conversation", size="sm", variant="secondary", elem_id="qa-new")
                export = gr.DownloadButton("Export", value=None, size="sm", variant="secondary",
                                           elem_id="qa-export", interactive=False)
            with gr.Accordion("Past conversations", open=False, elem_id="qa-past"):
                past_list = gr.Dropdown([], value=None, label="Past conversations", show_label=False,
                                        elem_id="qa-past-list", info="Kept in this browser; New conversation "
                                                                     "files the current one here.")
                with gr.Row():
                    reopen = gr.Button("Open", size="sm", variant="secondary", elem_id="qa-past-open")
                    forget = gr.Button("Delete", size="sm", variant="secondary", elem_id="qa-past-delete")
            with gr.Accordion("Settings", open=False):
                # A list to pick from, not a slider's number box: nothing out of range can be typed.
                top_k = gr.Dropdown(list(range(1, MAX_SOURCES + 1)), value=min(settings.top_k, MAX_SOURCES),
                                    label="Sources to show", elem_id="qa-top-k",
                                    info="How many passages each answer lists; applies to the next question.")
                show_more = gr.Checkbox(value=False, label="Show more answers",
                                        info="Also list the other candidate answers.")
                with gr.Row():
                    since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="qa-since",
                                       info="Leaves out articles dated before; undated ones are kept, marked.")
                    until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="qa-until",
                                       info="Leaves out articles dated after. Press Enter to apply.")
        with gr.Column(scale=2, min_width=340):
            with gr.Tabs(selected="sources") as tabs:
                with gr.Tab("Sources", id="sources"):
                    sources = gr.HTML(sources_html(None), label="Sources", js_on_load=SOURCES_JS,
                                      elem_id="qa-sources")
                with gr.Tab("Article", id="article"):
                    article = gr.HTML(article_placeholder(), label="Article", js_on_load=ARTICLE_JS,
                                      elem_id="qa-article")
                with gr.Tab("Library", id="library", elem_id="qa-library-tab"):
                    # No file_types and no Gradio size limit: Gradio refused with a passing toast in other units
                    # ("4.8 Mb"); every refusal is the library's own note, in the label's units (the request
                    # size guard in ui/server.py still bounds what is received).
                    uploads = gr.File(label=f"Add articles: text, web pages or PDFs ({KINDS}; up to "
                                            f"{readable_size(settings.max_file_bytes)} each)",
                                      file_count="multiple", type="filepath", elem_id="qa-upload", height=120)
                    library_note = gr.HTML("", label="Library note", js_on_load=NOTE_JS, elem_id="qa-library-note")
                    with gr.Row(equal_height=True):
                        url = gr.Textbox(placeholder="https://… a news page to add", show_label=False,
                                         label="Web page address", scale=4, elem_id="qa-url")
                        fetch = gr.Button("Add page", size="sm", scale=1, elem_id="qa-fetch")
                    search = gr.Textbox(placeholder="Search the library: titles and text", show_label=False,
                                        label="Search the library", elem_id="qa-search")
                    library = gr.HTML(chat_app.library_panel(), label="Library", js_on_load=LIBRARY_JS,
                                      elem_id="qa-library")
            library_line = gr.HTML(chat_app.library_line(), elem_id="qa-library-line")
    return Page(session, saved, past, chatbot, box, notice, examples, new_button, export, past_list, reopen, forget,
                top_k, show_more, since, until, tabs, sources, article, library_line, uploads, library_note, url,
                fetch, search, library, gr.Timer(POLL_SECONDS, active=False))


def _chat(messages: list[dict], session) -> gr.Chatbot:
    """The chat with each answer's thumbs as that turn's vote, so a reload or a reopened conversation shows them."""
    votes = [{"up": "Like", "down": "Dislike"}.get(t.vote) for t in session.turns] if session is not None else []
    return gr.Chatbot(value=messages, feedback_value=votes)


def _past_list(past: list[dict]) -> gr.Dropdown:
    return gr.Dropdown(choices=choices(past), value=None)


def _export(chat_app: ChatApp, session, exports: Path) -> gr.DownloadButton:
    """The Export button with the conversation as a Markdown file; disabled while there is nothing to export (a
    click then did nothing at all)."""
    if session is None or not session.turns:
        return gr.DownloadButton(value=None, interactive=False)
    path = exports / f"{id(session):x}" / "conversation.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(conversation_markdown(session, chat_app.sure), encoding="utf-8")
    return gr.DownloadButton(value=str(path), interactive=True)


def _wire_conversation(page: Page, chat_app: ChatApp, exports: Path) -> None:
    """Asking, retrying, editing the last question, starting over, votes."""
    shown = [page.box, page.chatbot, page.session, page.sources, page.notice, page.library_note, page.tabs,
             page.saved, page.export, page.library_line]

    def after(session, box, chat, sources, notice):
        return (box, _chat(chat, session), session, sources, notice, chat_app.settle(session),
                gr.Tabs(selected="sources"),
                chat_app.saved(session), _export(chat_app, session, exports), chat_app.library_line())

    def ask(message: str, session):
        box, chat, session, sources, notice = chat_app.ask(message, chat_app.session(session))
        return after(session, box, chat, sources, notice)

    def retry(session, event: gr.RetryData):
        session = chat_app.session(session)
        number = _index(event.index) // 2
        question = session.turns[number].question if 0 <= number < len(session.turns) else ""
        return after(session, *_without_session(chat_app.ask_again(number, question, session)))

    def edit(session, event: gr.EditData):
        session = chat_app.session(session)
        return after(session, *_without_session(chat_app.ask_again(_index(event.index) // 2, str(event.value),
                                                                   session)))

    page.box.submit(ask, [page.box, page.session], shown, api_visibility="private")
    if page.examples is not None:
        page.examples.load_input_event.then(ask, [page.box, page.session], shown, api_visibility="private")
    page.chatbot.retry(retry, [page.session], shown, api_visibility="private")
    page.chatbot.edit(edit, [page.session], shown, api_visibility="private")
    api_ask = gr.Button(visible=False)
    api_ask.click(chat_app.ask, [page.box, page.session], [page.box, page.chatbot, page.session, page.sources,
                                                           page.notice], api_name="chat")

    def new_conversation(session, past):
        past = filed(read_past(past), chat_app.session(session))  # before the reset empties it
        chat, session, sources = chat_app.new_conversation(session)
        return (_chat(chat, session), session, sources, "", chat_app.settle(session), article_placeholder(),
                gr.Tabs(selected="sources"), chat_app.saved(session), _export(chat_app, None, exports), past,
                _past_list(past))

    new_outputs = [page.chatbot, page.session, page.sources, page.notice, page.library_note, page.article,
                   page.tabs, page.saved, page.export, page.past, page.past_list]
    page.new_button.click(new_conversation, [page.session, page.past], new_outputs, api_name="new_conversation")
    page.chatbot.clear(new_conversation, [page.session, page.past], new_outputs, api_visibility="private")

    def liked(session, event: gr.LikeData):
        vote = "up" if event.liked is True or event.liked == "Like" else "down"
        return chat_app.vote(_index(event.index) // 2, vote, session), chat_app.saved(chat_app.session(session))

    turn_number = gr.Number(visible=False, precision=0)
    vote_value = gr.Textbox(visible=False)
    api_vote = gr.Button(visible=False)
    api_vote.click(chat_app.vote, [turn_number, vote_value, page.session], [page.notice], api_name="feedback")
    page.chatbot.like(liked, [page.session], [page.notice, page.saved], api_visibility="private")


def _wire_sources(page: Page, chat_app: ChatApp) -> None:
    """Picking an earlier answer, a source card, or ``[n]`` in an answer."""
    outputs = [page.sources, page.article, page.notice, page.tabs, page.session, page.saved, page.library_note]

    def shown(session, sources, article, notice, opened):
        return (sources, article or gr.skip(), notice, gr.Tabs(selected="article" if opened else "sources"),
                session, chat_app.saved(session), chat_app.settle(session))

    def clicked(session, event: gr.EventData):
        session = chat_app.session(session)
        if _sent(event, "cite") is not None:
            return shown(session, *chat_app.cite(_sent(event, "turn"), _sent(event, "cite"), session))
        article, notice = chat_app.open_source(_sent(event, "n"), session)
        return shown(session, chat_app.sources(session), article, notice, bool(article))

    def selected(session, event: gr.SelectData):
        sources, session = chat_app.select_turn(_index(event.index), session)
        return shown(session, sources, "", "", False)

    page.sources.click(clicked, [page.session], outputs, api_visibility="private")
    page.chatbot.select(selected, [page.session], outputs, api_visibility="private")
    source_number = gr.Number(visible=False, precision=0)
    api_open = gr.Button(visible=False)
    api_open.click(chat_app.open_source, [source_number, page.session], [page.article, page.notice],
                   api_name="open_source")


def _wire_settings(page: Page, chat_app: ChatApp, exports: Path) -> None:
    def top_k(k, session):
        session = chat_app.set_top_k(k, session)
        return session, chat_app.saved(session), "", chat_app.settle(session)

    def show_more(show, session):
        chat, session, sources = chat_app.set_show_more(show, session)
        return (_chat(chat, session), session, sources, chat_app.saved(session), _export(chat_app, session, exports),
                "", chat_app.settle(session))

    page.top_k.change(top_k, [page.top_k, page.session], [page.session, page.saved, page.notice, page.library_note],
                      api_visibility="private")

    def window(since, until, session):
        notice, session = chat_app.set_window(since, until, session)
        return session, chat_app.saved(session), notice

    for box in (page.since, page.until):
        for event in (box.submit, box.blur):
            event(window, [page.since, page.until, page.session], [page.session, page.saved, page.notice],
                  api_visibility="private")
    page.show_more.change(show_more, [page.show_more, page.session],
                          [page.chatbot, page.session, page.sources, page.saved, page.export, page.notice,
                           page.library_note],
                          api_visibility="private")


def _wire_library(page: Page, chat_app: ChatApp) -> None:
    """Uploads, fetched pages, removal with undo, search, and polling this session's changes until indexed."""
    changed = [page.library_note, page.session, page.timer, page.notice]

    def polling(session) -> gr.Timer:
        return gr.Timer(active=chat_app.indexing(session))

    def add(files, session):
        note, session = chat_app.add_articles(files, session)
        return None, note, session, polling(session), ""

    def fetch(url, session):
        box, note, session = chat_app.fetch_page(url, session)
        return box, note, session, polling(session), ""

    def library_clicked(session, event: gr.EventData):
        note, session = chat_app.remove(_sent(event, "remove"), session)
        return note, session, polling(session), ""

    def undo_clicked(session, event: gr.EventData):
        note, session = chat_app.undo(_sent(event, "undo"), session)
        return note, session, polling(session), ""

    ticked = [page.library_note, page.timer, page.library, page.library_line, page.chatbot,
              *([page.examples.dataset] if page.examples else [])]

    def tick(session, query):
        note = chat_app.library_note(chat_app.session(session))
        if chat_app.indexing(session):
            return note, gr.Timer(active=True), *[gr.skip()] * (len(ticked) - 2)
        fitting, hint = chat_app.first_help()  # the examples and the placeholder follow the library
        examples = [gr.Dataset(samples=[[q] for q in fitting], visible=bool(fitting))] if page.examples else []
        return (note, gr.Timer(active=False), chat_app.library_panel(query), chat_app.library_line(),
                gr.Chatbot(placeholder=hint), *examples)

    page.uploads.upload(add, [page.uploads, page.session], [page.uploads, *changed], api_visibility="private",
                        show_progress="hidden")
    fetch_outputs = [page.url, *changed]
    page.fetch.click(fetch, [page.url, page.session], fetch_outputs, api_name="fetch_page")
    page.url.submit(fetch, [page.url, page.session], fetch_outputs, api_visibility="private")
    page.library.click(library_clicked, [page.session], changed, api_visibility="private")
    page.library_note.click(undo_clicked, [page.session], changed, api_visibility="private")
    page.search.change(chat_app.library_panel, [page.search], [page.library], api_name="library",
                       show_progress="hidden")
    page.timer.tick(tick, [page.session, page.search], ticked,
                    api_visibility="private", show_progress="hidden")

    files = gr.File(visible=False, file_count="multiple", type="filepath")
    api_add = gr.Button(visible=False)
    api_add.click(chat_app.add_articles, [files, page.session], [page.library_note, page.session],
                  api_name="add_articles")
    doc_id = gr.Textbox(visible=False)
    api_remove = gr.Button(visible=False)
    api_remove.click(chat_app.remove, [doc_id, page.session], [page.library_note, page.session],
                     api_name="remove_article")
    api_undo = gr.Button(visible=False)
    api_undo.click(chat_app.undo, [doc_id, page.session], [page.library_note, page.session], api_name="undo_removal")

    def status(session) -> str:
        return chat_app.library_note(chat_app.session(session))

    api_status = gr.Button(visible=False)
    api_status.click(status, [page.session], [page.library_note], api_name="status", queue=False)


def _wire_reload(app: gr.Blocks, page: Page, chat_app: ChatApp, exports: Path) -> None:
    """A reload brings back the conversation, its settings and the open source, from the browser's copy; a past
    conversation comes back the same way when it is reopened."""
    shown = [page.session, page.chatbot, page.sources, page.article, page.tabs, page.top_k, page.show_more,
             page.since, page.until, page.export, page.saved]

    def showing(session, article: str, reopened: bool) -> tuple:
        # On a reload, an unset date is skipped: the load may finish after a person has begun typing a date.
        dates = (getattr(session.window, end, None) or ("" if reopened else gr.skip()) for end in ("since", "until"))
        return (session, _chat(chat_app.messages(session), session), chat_app.sources(session),
                article or article_placeholder(), gr.Tabs(selected="article" if article else "sources")
                if article or reopened else gr.skip(), session.top_k, session.show_more, *dates,
                _export(chat_app, session, exports), chat_app.saved(session))

    def restore(value, past):
        session, article = chat_app.restore(value)
        return (*showing(session, article, False), chat_app.library_panel(), chat_app.library_line(),
                _past_list(read_past(past)))

    app.load(restore, [page.saved, page.past], [*shown, page.library, page.library_line, page.past_list],
             api_visibility="private")

    def reopen(index, session, past):
        session, article, past, notice = chat_app.reopen(index, session, past)
        return (*showing(session, article, True), past, _past_list(past), notice)

    def forget(index, past):
        past, notice = chat_app.delete_past(index, past)
        return past, _past_list(past), notice

    page.reopen.click(reopen, [page.past_list, page.session, page.past], [*shown, page.past, page.past_list,
                                                                          page.notice], api_visibility="private")
    page.forget.click(forget, [page.past_list, page.past], [page.past, page.past_list, page.notice],
                      api_visibility="private")


def _sent(event: gr.EventData, key: str):
    """What the page's script sent with a ``trigger('click', {...})`` (``None`` when it sent no ``key``)."""
    data = event._data  # noqa: SLF001 - Gradio's EventData keeps the sent object here
    return data.get(key) if isinstance(data, dict) else None


def _index(index) -> int:
    """A chat event's message index (Gradio gives a number, or a pair for multimodal messages)."""
    return int(index[0] if isinstance(index, (list, tuple)) else index)


def _without_session(result: tuple) -> tuple:
    """``ChatApp.ask``'s (box, chat, session, sources, notice) as ``after`` takes it: (box, chat, sources, notice)."""
    box, chat, _, sources, notice = result
    return box, chat, sources, notice
