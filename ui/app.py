"""The Gradio chat: a conversation with history, each answer shown with its cited passages."""

from __future__ import annotations

from qa.conversation import Conversation
from qa.errors import QAError
from ui.render import answer_markdown

EXAMPLES = ["Who led the Russian delegation in Budapest?", "And who led the US delegation?",
            "When was that meeting?"]


def build_app(assistant):
    import gradio as gr

    def respond(message: str, history: list, conversation: Conversation | None):
        conversation = Conversation(assistant) if conversation is None or not history else conversation
        try:
            reply = answer_markdown(conversation.ask(message))
        except QAError as error:
            reply = f"⚠️ {error}"
        return reply, conversation

    with gr.Blocks(title="News QA") as app:
        gr.Markdown("## Ask the articles\nEvery answer is copied from an article, with numbered sources.")
        state = gr.State(None)
        gr.ChatInterface(respond, additional_inputs=[state], additional_outputs=[state], examples=None,
                         chatbot=gr.Chatbot(height=520, sanitize_html=True, label="Conversation"),
                         textbox=gr.Textbox(placeholder="Ask a question…", submit_btn=True))
    return app
