from embeddings.cleaner import body_spans, repeated_lines

FURNITURE_IN_SEEDS = ["LEAVE A REPLY", "Please enter your comment!", "Join the GlobalSecurity.org mailing list",
                      "UNITED24 - Make a charitable donation", "Subscribe", "Newsfeed", "log in or register",
                      "No comments :", "Post a Comment", "Заголовок открываемого материала"]


def _body(text, repeated=frozenset()):
    return [text[s:e] for s, e in body_spans(text, repeated)]


def test_seed_furniture_stays_out_of_every_chunk(assistant):
    for chunk in assistant.data.chunks:
        for furniture in FURNITURE_IN_SEEDS:
            assert furniture not in chunk.text, (chunk.doc_id, furniture)


def test_seed_article_sentences_are_kept(assistant):
    text = " ".join(c.text for c in assistant.data.chunks)
    assert "The Russian delegation was to be led by Deputy Foreign Minister Sergei Kislyak." in text
    assert "Lavrov called for a “holistic approach”" in text


def test_short_lines_without_sentence_punctuation_are_furniture():
    text = "Home\nWorld News\nThe minister arrived in Paris on Monday for two days of talks.\nShare\n"
    assert _body(text) == ["The minister arrived in Paris on Monday for two days of talks."]


def test_boilerplate_phrases_mark_short_lines_but_not_prose():
    text = ("Sign up for our daily newsletter!\n"
            "The newsletter of the ministry, published on Monday, said the talks would resume in the spring.\n"
            "Click here to read more.\n")
    assert _body(text) == [text.splitlines()[1]]


def test_lines_repeated_across_articles_are_furniture():
    a = "Officials met in Geneva on Friday to discuss the treaty.\nCopyright Example Media Group, every day.\n"
    b = "The talks ended without a deal, diplomats said.\nCopyright Example Media Group, every day.\n"
    repeated = repeated_lines([a, b])
    assert _body(a, repeated) == ["Officials met in Geneva on Friday to discuss the treaty."]


def test_lines_in_another_script_are_furniture():
    text = "The delegation arrived late on Tuesday evening.\nПодпишитесь на наш канал сегодня.\n"
    assert _body(text) == ["The delegation arrived late on Tuesday evening."]


def test_offsets_point_into_the_original_text():
    text = "  Home \r\n\r\n  The talks, held in Vienna, lasted six hours.  \r\nMenu"
    (span,) = body_spans(text)
    assert text[span[0]:span[1]] == "The talks, held in Vienna, lasted six hours."


def test_an_article_of_only_short_lines_is_kept_whole():
    text = "Peace talks\nResumed today"
    assert _body(text) == ["Peace talks", "Resumed today"]


def test_bylines_are_kept_though_short():
    text = "Home\nBy Jane Q. Doe\nThe talks ended on Friday without a deal.\n"
    assert _body(text) == ["By Jane Q. Doe", "The talks ended on Friday without a deal."]
