"""The Gradio chat: ask, see the answer in its sentence, open the cited article, ask a follow-up.

``build_app`` lays out the page and wires each control to a ``ChatApp`` method. The named endpoints (for
``gradio_client`` and scripts) are:

- ``/chat`` (message) → the box's text, the chat, the Sources panel, a notice
- ``/open_source`` (n) → the whole article of source ``n`` of the shown answer, and a notice
- ``/feedback`` (turn, vote) → a notice; ``turn`` counts questions from 0, ``vote`` is "up" or "down"
- ``/new_conversation`` () → an empty chat; ``/add_articles`` (files) → a notice for each file refused (the
  others are indexed in the background); ``/status`` () → the indexing note ("Indexing x.txt…", "Added x.txt —
  you can ask about it now.")

The chat history lives on the server (one ``ChatSession`` per browser tab), so a request carries one question,
never the whole history.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from embeddings.loader import ARTICLE_SUFFIXES, KINDS
from ui.feedback import FeedbackLog
from ui.handlers import ChatApp
from ui.library import Library
from ui.render import article_placeholder, library_line, sources_html, status_html
from ui.style import ARTICLE_JS, SOURCES_JS

EXAMPLES = ["Who led the Russian delegation in Budapest?", "And who led the US delegation?",
            "When was that meeting?", "When was the original CFE Treaty signed?",
            "Where did Russia and NATO first agree to cooperate on missile defense?"]
FEEDBACK_FILE = "feedback.jsonl"
STATUS_SECONDS = 1.0
TITLE = "News QA"


def default_feedback_path(index_dir: Path) -> Path:
    """``feedback.jsonl`` next to the index folder (``.qa-index`` → ``./feedback.jsonl``)."""
    return Path(index_dir).absolute().parent / FEEDBACK_FILE


def build_app(assistant, index_dir: Path | None = None, sources: list[Path] | None = None,
              feedback_path: Path | None = None):
    """The chat for ``assistant``. Uploads are saved into ``sources[0]`` and indexed into ``index_dir`` (the
    assistant's own by default); votes go to ``feedback_path`` (default ``default_feedback_path(index_dir)``).
    Pass ``CSS`` to ``launch(css=...)``."""
    library = Library(assistant, index_dir, sources)
    feedback = FeedbackLog(default_feedback_path(library.index_dir) if feedback_path is None else feedback_path)
    chat_app = ChatApp(library, feedback)
    settings = assistant.settings

    with gr.Blocks(title=TITLE) as app:
        session = gr.State(None)
        shown_status = gr.State(None)
        with gr.Column(elem_id="qa-header"):
            gr.Markdown("# Ask the news articles\nEvery answer is copied word for word from an article, with "
                        "numbered sources you can open. Follow-up questions work (\"And who led the US "
                        "delegation?\").")
        note = status_html(library.status)
        banner = gr.HTML(note, label="Indexing note", elem_id="qa-banner", visible=bool(note))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                # No per-message copy button: it would copy the Markdown source with its character references;
                # "Copy answer" in Sources copies clean text. No LaTeX: "$$" in an article is text.
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False, elem_id="qa-chat", height=560, buttons=[],
                    latex_delimiters=[], sanitize_html=True, feedback_options=("Like", "Dislike"),
                    placeholder="**Ask about the news articles.** Type a question below or pick an example.")
                box = gr.Textbox(placeholder="Ask a question about the articles and press Enter", label="Question",
                                 show_label=False, submit_btn="Ask", autofocus=True, elem_id="qa-question",
                                 lines=1, max_lines=4)
                notice = gr.HTML("", label="Notice", elem_id="qa-notice")
                examples = gr.Examples(EXAMPLES, inputs=[box], label="Examples (click one)")
                with gr.Row():
                    new_button = gr.Button("New conversation", size="sm", variant="secondary",
                                           elem_id="qa-new")
                with gr.Accordion("Settings", open=False):
                    top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="Sources to show (top-k)",
                                      info="How many passages each answer lists; applies to the next question.")
                    show_more = gr.Checkbox(value=False, label="Show more answers",
                                            info="Also list the other candidate answers, with confidence.")
            with gr.Column(scale=2, min_width=340):
                with gr.Tabs(selected="sources") as tabs:
                    with gr.Tab("Sources", id="sources"):
                        sources_panel = gr.HTML(sources_html(None), label="Sources", js_on_load=SOURCES_JS,
                                                elem_id="qa-sources")
                    with gr.Tab("Article", id="article"):
                        article = gr.HTML(article_placeholder(), label="Article", js_on_load=ARTICLE_JS,
                                          elem_id="qa-article")
                library_info = gr.HTML(library_line(library.status))
                with gr.Accordion("Add articles", open=False, elem_id="qa-add"):
                    uploads = gr.File(label=f"Drop articles: text, web pages or PDFs ({KINDS}; up to "
                                            f"{settings.max_file_bytes / 1_000_000:g} MB each)",
                                      file_count="multiple", file_types=list(ARTICLE_SUFFIXES), type="filepath")
                    upload_notice = gr.HTML("", label="Upload notice")
        # Hidden inputs of the endpoints that scripts call with plain values.
        source_number = gr.Number(visible=False, precision=0)
        turn_number = gr.Number(visible=False, precision=0)
        vote_value = gr.Textbox(visible=False)
        hidden_open = gr.Button(visible=False)
        hidden_vote = gr.Button(visible=False)
        timer = gr.Timer(STATUS_SECONDS)

        def chat(message: str, session):
            return *chat_app.ask(message, session), gr.Tabs(selected="sources")

        chat_outputs = [box, chatbot, session, sources_panel, notice, tabs]
        box.submit(chat, [box, session], chat_outputs, api_name="chat")
        examples.load_input_event.then(chat, [box, session], chat_outputs, api_visibility="private")

        def open_source(n: int, session):
            html, message = chat_app.open_source(n, session)
            if not html:
                return gr.skip(), message, gr.skip()
            return html, "", gr.Tabs(selected="article")

        def open_clicked(session, event: gr.EventData):
            return open_source(getattr(event, "n", None), session)

        source_outputs = [article, notice, tabs]
        hidden_open.click(open_source, [source_number, session], source_outputs, api_name="open_source")
        sources_panel.click(open_clicked, [session], source_outputs, api_visibility="private")

        def feedback_vote(turn: int, vote: str, session):
            return chat_app.vote(turn, vote, session)

        def liked(session, event: gr.LikeData):
            index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
            vote = "up" if event.liked is True or event.liked == "Like" else "down"
            return chat_app.vote(_turn_of(index), vote, session)

        hidden_vote.click(feedback_vote, [turn_number, vote_value, session], [notice], api_name="feedback")
        chatbot.like(liked, [session], [notice], api_visibility="private")

        def selected(session, event: gr.SelectData):
            index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
            html, session = chat_app.select_turn(index, session)
            return html, session, gr.Tabs(selected="sources")

        chatbot.select(selected, [session], [sources_panel, session, tabs], api_visibility="private")

        def new_conversation(session):
            messages, session, html, message = chat_app.new_conversation(session)
            return messages, session, html, message, article_placeholder(), gr.Tabs(selected="sources")

        new_button.click(new_conversation, [session], [chatbot, session, sources_panel, notice, article, tabs],
                         api_name="new_conversation")
        chatbot.clear(new_conversation, [session], [chatbot, session, sources_panel, notice, article, tabs],
                      api_visibility="private")
        top_k.change(chat_app.set_top_k, [top_k, session], [session], api_visibility="private")
        show_more.change(chat_app.set_show_more, [show_more, session], [chatbot, session],
                         api_visibility="private")

        def banner_update(status):
            html = status_html(status)
            return gr.HTML(html, visible=bool(html))

        def add_articles(files: list[str] | None):
            return None, chat_app.add_articles(files)

        def show_status():
            return banner_update(library.status)

        uploads.upload(add_articles, [uploads], [uploads, upload_notice], api_name="add_articles").then(
            show_status, None, [banner], api_visibility="private", show_progress="hidden")

        def status() -> str:
            return status_html(library.status)

        def tick(shown):
            current = library.status
            if current == shown:
                return gr.skip(), gr.skip(), shown
            return banner_update(current), library_line(current), current

        gr.api(status, api_name="status")
        timer.tick(tick, [shown_status], [banner, library_info, shown_status], api_visibility="private",
                   queue=False, show_progress="hidden")
    return app


def _turn_of(message_index: int) -> int:
    """Messages alternate question, answer: message 2n+1 is the answer to question n."""
    return int(message_index) // 2
