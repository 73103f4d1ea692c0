"""The chat kept in the browser: what comes back after a reload is the same conversation, follow-ups included,
and a value the browser sends back altered is refused whole."""

import copy
import json

import pytest

from core.errors import InputError
from qa.dates import DateWindow
from ui.past_chats import PAST_KEPT, choices, filed, read_past
from ui.saved_chat import SAVED_TURNS, restored, saved
from ui.session import ChatSession


@pytest.fixture(scope="module")
def chat(assistant):
    session = ChatSession.start(assistant)
    session.top_k, session.show_more = 3, True
    session.ask(assistant, "Who led the Russian delegation in Budapest?")
    session.ask(assistant, "What is the recipe for a good pizza dough?")
    session.turns[0].vote = "up"
    session.select(0)
    session.opened = 1
    session.window = DateWindow.of("2013-01-01", None)
    return session


def test_a_reloaded_chat_shows_the_same_turns_settings_and_selection_and_follow_ups_still_work(chat, assistant):
    value = json.loads(json.dumps(saved(chat)))  # through the browser as JSON
    back = restored(value, assistant)
    assert (back.top_k, back.show_more, back.selected, back.opened, back.window) == (3, True, 0, 1, chat.window)
    assert [(t.question, t.response.to_json(), t.vote, t.sentence, t.sentence_text, t.title) for t in back.turns] \
        == [(t.question, t.response.to_json(), t.vote, t.sentence, t.sentence_text, t.title) for t in chat.turns]
    back.ask(assistant, "Who led the Russian delegation in Budapest?")
    follow_up = back.ask(assistant, "And who led the US delegation?")
    assert follow_up.response.answer is not None and "Rood" in follow_up.response.answer.text


@pytest.mark.parametrize("change", [
    lambda v: v.update(version=99),
    lambda v: v.update(top_k=True),  # JSON's true is not a number
    lambda v: v.update(top_k=0),
    lambda v: v.update(top_k=10_000),  # more than the menu offers: every later answer failed inside it
    lambda v: v.update(selected=7),
    lambda v: v.update(opened=99),  # a citation the selected answer does not have
    lambda v: v.update(since="2013-13-01"),
    lambda v: v["turns"][0].update(vote="sideways"),
    lambda v: v["turns"][0]["answers"][0].update(start="12"),
    lambda v: v["turns"][0]["citations"][0].update(extra=1),
    lambda v: v["turns"][0].update(answer_citations=[42]),
    lambda v: v["turns"][0]["context"].append({"text": "x"}),
    lambda v: v.pop("turns"),
], ids=["version", "bool-number", "zero-k", "huge-k", "selected", "opened", "bad-date", "vote", "offset-type", "extra-field", "citation-number",
        "mention", "missing"])
def test_an_altered_saved_chat_is_refused_with_one_line(chat, assistant, change):
    value = copy.deepcopy(saved(chat))
    change(value)
    with pytest.raises(InputError, match="^the conversation saved in this browser cannot be read"):
        restored(value, assistant)
    with pytest.raises(InputError):
        restored("not a conversation", assistant)


def test_only_the_latest_turns_are_kept_in_the_browser(chat, assistant):
    long = ChatSession.start(assistant)
    long.turns = [chat.turns[1]] * (SAVED_TURNS + 5)
    long.select(SAVED_TURNS + 4)
    value = saved(long)
    assert len(value["turns"]) == SAVED_TURNS and value["selected"] == SAVED_TURNS - 1


def test_past_conversations_file_the_one_left_newest_first_and_keep_only_entries_that_read(chat, assistant):
    past = filed([], chat)
    assert [(e["title"], e["questions"]) for e in past] == [("Who led the Russian delegation in Budapest?", 2)]
    assert filed(past, ChatSession.start(assistant)) == past  # an empty conversation is not filed
    for _ in range(PAST_KEPT + 2):
        past = filed(past, chat)
    assert len(past) == PAST_KEPT
    value = json.loads(json.dumps(past))  # through the browser as JSON
    assert read_past(value) == past
    assert choices(value)[0] == (f"Who led the Russian delegation in Budapest? · 2 questions · {value[0]['when']}", 0)
    broken = [{"title": 1}, "x", {**value[0], "questions": True}, {**value[0], "extra": 1}, value[1]]
    assert read_past(broken) == [value[1]] and read_past("not a list") == [] and read_past(None) == []
    back = restored(value[0]["chat"], assistant)  # reopening checks the conversation itself in full
    assert [t.question for t in back.turns] == [t.question for t in chat.turns] and back.turns[0].vote == "up"
