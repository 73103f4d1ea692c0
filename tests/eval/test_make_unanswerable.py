"""Unanswerable questions made by rule: each made question has lost its support in the passage (real spaCy)."""

import random

from embeddings.analysis import parse, parse_many
from eval.make_unanswerable import antonym, entity_pool, make_variant, negation, swap

CONTEXT = ("The Russian delegation was led by Deputy Foreign Minister Sergei Kislyak at the talks in Budapest "
           "in 2007. It was the first meeting of the two sides that year.")


def test_swap_puts_in_a_value_of_the_same_kind_that_the_passage_lacks():
    question = "Who led the Russian delegation in 2007?"
    pool = entity_pool(parse_many(["Did the Chinese delegation arrive?", "What did the French say?",
                                   "Was it in 1999?"]))
    variant = swap(question, parse(question), CONTEXT, pool, random.Random(3))
    assert variant is not None and variant.rule == "swap"
    assert variant.replaced in ("Russian", "2007")
    assert variant.by.lower() not in CONTEXT.lower()
    assert variant.question == question.replace(variant.replaced, variant.by)


def test_a_year_moves_to_one_the_passage_does_not_hold():
    question = "Where did the talks take place in 2007?"
    variant = swap(question, parse(question), CONTEXT, {}, random.Random(0))
    assert variant is not None and variant.by.isdigit() and variant.by != "2007" and variant.by not in CONTEXT


def test_antonym_only_where_the_passage_never_says_the_opposite():
    assert antonym("What was the first meeting about?", CONTEXT).question == "What was the last meeting about?"
    assert antonym("What was the first meeting about?", CONTEXT + " The last one was in May.") is None


def test_negation_only_where_the_passage_holds_no_negation():
    question = "Who was elected president?"
    assert negation(question, parse(question), CONTEXT).question == "Who was not elected president?"
    assert negation(question, parse(question), CONTEXT + " He did not stay.") is None


def test_no_rule_applies_to_a_question_without_particulars_the_passage_supports():
    question = "What happened?"
    assert make_variant(question, parse(question), "It rained.", {}, random.Random(0)) is None
