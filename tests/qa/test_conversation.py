"""Follow-up questions resolved from the earlier turns, in the library and in `qa chat`."""

import io

import pytest

from cli import main as cli
from core.errors import InputError
from core.records import Answer, Response
from embeddings.analysis import parse
from qa.conversation import CONTEXT_MARK, Conversation, Mention, Resolution, Turn, named_mentions, resolve

BUDAPEST_DOC = "000_0027d40a27e5cdba.txt"


def turn(question: str, answer: str | None = None, mentions: tuple[Mention, ...] = (), resolution=None) -> Turn:
    """An earlier turn as the conversation remembers it (the answer's offsets do not matter to resolution)."""
    found = Answer(answer, "a.txt", 0, len(answer), 0.9, 0) if answer is not None else None
    response = Response(question, question, found, (found,) if found else (), (1,) if found else (), (), ())
    return Turn(question, Resolution(question) if resolution is None else resolution, response, mentions)


def test_the_first_question_is_left_alone():
    assert resolve("When was that meeting?", [], parse) == Resolution("When was that meeting?")


def test_a_question_that_names_its_own_subject_starts_a_new_topic():
    history = [turn("Who led the Russian delegation in Budapest?", "Sergei Kislyak",
                    (Mention("Sergei Kislyak", "PERSON"),))]
    assert resolve("Where did Bush and Putin meet on July 2, 2007?", history, parse).text == \
        "Where did Bush and Putin meet on July 2, 2007?"
    assert resolve("What is the boiling point of mercury?", history, parse).text == \
        "What is the boiling point of mercury?"


def test_context_keeps_the_place_and_leaves_out_the_rival_answer_and_the_replaced_nation():
    history = [turn("Who led the Russian delegation in Budapest?", "Sergei Kislyak",
                    (Mention("Sergei Kislyak", "PERSON"),))]
    assert resolve("And who led the US delegation?", history, parse).text == \
        f"Who led the US delegation?{CONTEXT_MARK}Budapest"


def test_he_becomes_the_person_who_answered_a_who_question():
    history = [turn("Which former Soviet president criticized the US in Budapest?", "Mikhail Gorbachev",
                    (Mention("Mikhail Gorbachev", "PERSON"),))]
    resolution = resolve("What did he accuse the US of?", history, parse)
    assert resolution.question == "What did Mikhail Gorbachev accuse the US of?"


def test_his_becomes_a_possessive_of_the_person():
    history = [turn("Who said Russia expected the consultations to be constructive?", "Anatoly Antonov",
                    (Mention("Anatoly Antonov", "PERSON"),))]
    assert resolve("What is his job?", history, parse).question == "What is Anatoly Antonov's job?"


def test_he_and_there_become_the_person_and_place_the_previous_question_named():
    history = [turn("Why did Robert Gates go to Moscow in April 2007?", "to discuss the missile defense system")]
    assert resolve("Who did he meet there?", history, parse).question == "Who did Robert Gates meet in Moscow?"


def test_pronouns_look_back_past_a_turn_that_named_no_person():
    history = [turn("Who accused the US of backtracking in December 2007?", "Sergey Lavrov",
                    (Mention("Sergey Lavrov", "PERSON"),)),
               turn("What proposal had Washington withdrawn?", "constant monitoring of the facilities")]
    assert resolve("What else did the US reject, according to him?", history, parse).question == \
        "What else did the US reject, according to Sergey Lavrov?"


def test_an_answer_that_is_a_name_is_who_he_is_whatever_the_question_word():
    history = [turn("What football star was cleared of the charge?", "Steven Gerrard",
                    (Mention("Steven Gerrard", "PERSON"),))]
    assert resolve("What was his rationale?", history, parse).question == "What was Steven Gerrard's rationale?"
    clause = [turn("What did the report conclude?", "that Steven Gerrard acted alone and without any help",
                   (Mention("Steven Gerrard", "PERSON"),))]
    assert resolve("What did he say?", clause, parse).question == "What did he say?"


def test_a_name_typed_in_lower_case_is_found_as_its_article_writes_it(assistant):
    conversation = Conversation(assistant)
    conversation.ask("who did kislyak lead in budapest?")
    response = conversation.ask("what is his job?")
    assert conversation.turns[-1].resolution.question == "What is Sergei Kislyak's job?"
    assert "Deputy Foreign Minister" in response.answer.text
    assert [(m.text, m.label) for m in conversation.turns[0].named_mentions] == [("Sergei Kislyak", "PERSON")]


def test_a_question_that_capitalises_names_writes_a_lower_case_word_as_no_name(assistant):
    question = "Which arms pact did Putin threaten to walk away from in October 2007?"
    # The articles write "Strategic Arms Reduction Treaty": "arms" here is no name, so nothing rival comes in.
    assert named_mentions(assistant, question, assistant.answer(question), parse) == ()


def test_a_fragment_swaps_the_entity_of_the_same_kind():
    history = [turn("Where did the diplomats meet on September 10?", "Paris", (Mention("Paris", "GPE"),))]
    resolution = resolve("And on July 30?", history, parse)
    assert resolution.question == "Where did the diplomats meet on July 30?"
    assert "September 10" not in resolution.text


def test_a_fragment_with_a_question_word_takes_the_rest_of_the_previous_question():
    history = [turn("When was the original CFE Treaty signed?", "1990", (Mention("1990", "DATE"),))]
    assert resolve("By how many countries?", history, parse).question == \
        "By how many countries was the original CFE Treaty signed?"


def test_that_meeting_carries_the_previous_answer_and_places_as_context():
    history = [turn("When did Russia and NATO agree to cooperate?", "November 2010",
                    (Mention("November 2010", "DATE"),)),
               turn("Where did Russia and NATO first agree to cooperate on missile defense?", "Lisbon",
                    (Mention("Lisbon", "GPE"),))]
    resolution = resolve("When was that?", history, parse)
    terms = [m.text for m in resolution.context]
    assert terms[0] == "Lisbon" and {"Russia", "NATO"} <= set(terms)


def test_that_meeting_stands_for_no_person_so_the_previous_answer_stays_out():
    history = [turn("Who led the Russian delegation in Budapest?", "Sergei Kislyak",
                    (Mention("Sergei Kislyak", "PERSON"),)),
               turn("And who led the US delegation?", "John C. Rood", (Mention("John C. Rood", "PERSON"),),
                    resolution=Resolution("Who led the US delegation?", (Mention("Budapest", "GPE"),)))]
    assert resolve("When was that meeting?", history, parse).text == f"When was that meeting?{CONTEXT_MARK}US, Budapest"


def test_and_alone_asks_the_previous_question_again():
    previous = Resolution("Who led the US delegation?", (Mention("Budapest", "GPE"),))
    history = [turn("And who led the US delegation?", "John C. Rood", resolution=previous)]
    assert resolve("And?", history, parse) == previous


def test_follow_up_about_the_us_delegation_answers_rood(assistant):
    conversation = Conversation(assistant)
    first = conversation.ask("Who led the Russian delegation in Budapest?")
    assert "Kislyak" in first.answer.text
    second = conversation.ask("And who led the US delegation?")
    assert second.question == "And who led the US delegation?"
    assert "Rood" in second.answer.text
    assert second.answer.doc_id == BUDAPEST_DOC


def test_that_meeting_is_answered_from_the_budapest_article(assistant):
    conversation = Conversation(assistant)
    conversation.ask("Who led the Russian delegation in Budapest?")
    conversation.ask("And who led the US delegation?")
    third = conversation.ask("When was that meeting?")
    assert "Budapest" in third.resolved_question
    assert third.answer is not None and third.answer.doc_id == BUDAPEST_DOC
    assert third.citations[third.answer_citations[0] - 1].doc_id == BUDAPEST_DOC


def test_a_bad_question_raises_and_loses_no_history(assistant):
    conversation = Conversation(assistant)
    conversation.ask("Who led the Russian delegation in Budapest?")
    with pytest.raises(InputError):
        conversation.ask("   ")
    assert [t.question for t in conversation.turns] == ["Who led the Russian delegation in Budapest?"]


def test_history_keeps_only_the_last_max_turns(assistant):
    conversation = Conversation(assistant, max_turns=2)
    for question in ("Who led the Russian delegation in Budapest?", "When was the original CFE Treaty signed?",
                     "Where did Bush and Putin meet on July 2, 2007?"):
        conversation.ask(question)
    assert [t.question for t in conversation.turns] == ["When was the original CFE Treaty signed?",
                                                        "Where did Bush and Putin meet on July 2, 2007?"]


def test_qa_chat_in_the_terminal_resolves_the_same_follow_up(seed_index, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Who led the Russian delegation in Budapest?\n"
                                                 "And who led the US delegation?\n\n"))
    assert cli.main(["chat", "--index", str(seed_index), "--no-citations"]) == 0
    output = capsys.readouterr().out
    assert "Kislyak" in output
    assert f"(understood as: Who led the US delegation?{CONTEXT_MARK}Budapest)" in output
    assert "Rood" in output.split("understood as")[1]


def test_there_is_the_place_where_things_happened_not_the_country_that_acted():
    history = [turn("Why did Germany send engineers to Kenya in 2016?", "to build a bridge")]
    assert resolve("How long did the engineers stay there?", history, parse).question == \
        "How long did the engineers stay in Kenya?"
