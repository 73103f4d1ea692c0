"""Follow-up dialogues made by rule from single questions: what follow-up handling is tuned and measured on.

The gold dialogues are never tuned on, so choices about follow-ups need dialogues of their own. Two answerable
questions about one article become a two-turn dialogue when the second names something the first already named
(in its question or its gold answer); the second is then asked as a person would ask it after the first:

- ``person``: the name becomes "he"/"she" (his/her/him), the pronoun the article uses most near that name;
- ``place``: "in Geneva" becomes "there";
- ``thing``: an organisation, event, law or work ("the Korvan Dam") becomes "it" ("its").

The kind is counted, and with ``answer`` when the name was the first turn's answer ("Who led the delegation?" →
"Anna Petrova"; "What did she say?"). A question whose rewrite would leave it ambiguous (it already holds that
pronoun) is skipped. Everything here is general English; nothing is written for a particular question.

    python -m eval.make_followups eval/tune_news.json --out /tmp/followups_news.json
    python -m eval.make_followups eval/gold_qa.json --articles seeds --out /tmp/followups_seeds.json
    python -m eval.make_followups ../shared/qa-train/newsqa.json --out /tmp/followups_newsqa.json   (498)

The test split is never used. Output: a gold conversation file (``qa eval`` runs it against the index the
source's questions are asked on).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from eval.datasets import FORMAT_QA, GoldQuestion, load_gold

HELD_OUT_SPLIT = "test"
_PLACES = {"GPE", "LOC", "FAC"}
_THINGS = {"ORG", "EVENT", "LAW", "WORK_OF_ART", "PRODUCT"}
_MALE = re.compile(r"\b(he|his|him)\b", re.IGNORECASE)
_FEMALE = re.compile(r"\b(she|her|hers)\b", re.IGNORECASE)
_PRONOUNS = {"he", "she", "his", "her", "him", "it", "its", "there", "they", "them", "their"}
PER_ARTICLE = 6  # dialogues per article, so that long articles do not outweigh the rest


@dataclass(frozen=True)
class FollowUp:
    first: GoldQuestion
    second: GoldQuestion
    question: str  # the second question, asked as a follow-up
    kind: str  # person, place or thing, with "+answer" when it names the first turn's answer


def gender_near(name: str, text: str) -> str | None:
    """"he" or "she": the pronoun the sentences after ``name``'s mentions use most; None when neither or a tie."""
    last = name.split()[-1]
    male = female = 0
    for match in re.finditer(r"\b" + re.escape(last) + r"\b", text):
        window = text[match.end():match.end() + 300]
        male += len(_MALE.findall(window))
        female += len(_FEMALE.findall(window))
    if male == female:
        return None
    return "he" if male > female else "she"


def _mentioned(entity: str, first: GoldQuestion) -> tuple[bool, bool]:
    """Does the first turn name ``entity`` (in its question, in its answer)? A person counts by surname."""
    probe = entity.lower()
    in_question = probe in first.question.lower()
    in_answer = any(probe in a.lower() or (a and a.lower() in probe) for a in first.answers[:1])
    return in_question, in_answer


def _person_pronoun(token, gender: str) -> str:
    possessive = any(c.dep_ == "case" for c in token.children) or token.dep_ == "poss"
    if possessive:
        return "his" if gender == "he" else "her"
    if token.dep_ in ("dobj", "pobj", "iobj", "dative"):
        return "him" if gender == "he" else "her"
    return gender


def rewrite(second, first: GoldQuestion, article: str, people: frozenset[str]) -> tuple[str, str] | None:
    """The parsed ``second`` question asked after ``first``: (question, kind), or None when nothing is shared.

    Every entity the first turn named is replaced (one of each kind, so that each pronoun has one referent), and a
    date it named is left out ("in October 2007"), as a person leaves out what was just said. ``people``: the
    words of the names the article's own parse labels as persons (a question's parse is less sure: "Caledran
    Railways" is no "she")."""
    if {t.lower_ for t in second} & _PRONOUNS:
        return None
    edits: dict[str, tuple[int, int, str]] = {}  # kind -> (start token, end token, replacement)
    from_answer = False
    for ent in second.ents:
        if ent.label_ == "PERSON" and ent[-1].text not in people:
            continue
        in_question, in_answer = _mentioned(ent.text if ent.label_ != "PERSON" else ent[-1].text, first)
        if not (in_question or in_answer):
            continue
        start, end = ent.start, ent.end
        before = second[start - 1] if start > 0 else None
        if ent.label_ == "PERSON":
            gender = gender_near(ent.text, article)
            if gender is None:
                continue
            while start > 1 and second[start - 1].pos_ == "PROPN" and second[start - 1].text[:1].isupper():
                start -= 1  # a title goes with the name: "Sen. Lieberman" is "he", not "Sen. he"
            after = second[end] if end < len(second) and second[end].dep_ == "case" else None
            edit = (start, end + (after is not None),
                    _person_pronoun(ent.root if after is None else after.head, gender)), "person"
        elif (ent.label_ in _PLACES and before is not None and before.lower_ in ("in", "at")
              and before.head.pos_ != "PROPN"):  # not "the Conventional Forces in Europe treaty"
            edit = (start - 1, end, "there"), "place"
        elif (ent.label_ in _THINGS and before is not None and before.lower_ == "the"
              and ent.root.dep_ not in ("compound", "amod", "nmod")):  # "the CFE Treaty", not "the CFE pact"
            possessive = end < len(second) and second[end].dep_ == "case"
            edit = (start - 1, end + possessive, "its" if possessive else "it"), "thing"
        elif (ent.label_ == "DATE" and in_question and before is not None and before.lower_ in ("in", "on")
              and end < len(second) and second[end].is_punct):  # a trailing "in October 2007?"
            edit = (start - 1, end, ""), "date"
        else:
            continue
        if edit[1] not in edits:
            edits[edit[1]] = edit[0]
            from_answer |= in_answer and not in_question
    if not edits or set(edits) == {"date"}:
        return None
    pieces, position = [], 0
    for start, end, word in sorted(edits.values()):
        pieces.append(second[position:start].text_with_ws + (f"{word} " if word else ""))
        position = end
    text = re.sub(r"\s+([?.,!])", r"\1", ("".join(pieces) + second[position:].text).strip())
    text = re.sub(r"\s{2,}", " ", text)
    return text[:1].upper() + text[1:], "+".join(sorted(edits)) + ("+answer" if from_answer else "")


def make_followups(questions: list[GoldQuestion], articles: dict[str, str], nlp, seed: int = 0,
                   per_article: int = PER_ARTICLE) -> list[FollowUp]:
    """Two-turn follow-ups from answerable questions of one article, at most ``per_article`` per article. The
    caller leaves held-out questions out."""
    by_doc: dict[str, list[GoldQuestion]] = {}
    for q in questions:
        if q.answerable and q.doc in articles:
            by_doc.setdefault(q.doc, []).append(q)
    rng = random.Random(seed)
    made: list[FollowUp] = []
    for doc, group in sorted(by_doc.items()):
        parsed = dict(zip((q.id for q in group), nlp.pipe(q.question for q in group)))
        labels = Counter((t.text, e.label_ == "PERSON") for e in nlp(articles[doc]).ents for t in e)
        people = frozenset(word for (word, person), n in labels.items() if person and n >= labels[word, False])
        pairs = [(a, b) for a in group for b in group if a.id != b.id]
        rng.shuffle(pairs)
        used: set[str] = set()
        found = []
        for first, second in pairs:
            if second.id in used or len(found) >= per_article:
                continue
            rewritten = rewrite(parsed[second.id], first, articles[doc], people)
            if rewritten is not None:
                used.add(second.id)
                found.append(FollowUp(first, second, *rewritten))
        made.extend(found)
    return made


def as_gold_file(followups: list[FollowUp], source: str) -> dict:
    """A gold conversation file (``eval.datasets`` format); each turn keeps the question it was made from."""
    return {"version": 1, "source": source, "dialogues": [
        {"id": f"f{i + 1:03d}", "kind": f.kind, "turns": [
            {"question": f.first.question, "answers": list(f.first.answers), "doc": f.first.doc},
            {"question": f.question, "answers": list(f.second.answers), "doc": f.second.doc,
             "made_from": f.second.question}]} for i, f in enumerate(followups)]}


def _articles(gold, articles_dir: str | None) -> dict[str, str]:
    if gold.source_documents is not None:
        return {d.doc_id: d.text for d in gold.source_documents}
    if articles_dir is None:
        raise InputError("this gold file carries no articles; name their folder with --articles")
    folder = Path(articles_dir)
    return {doc: (folder / doc).read_text(encoding="utf-8", errors="replace")
            for doc in gold.documents if (folder / doc).is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gold", help="a question gold file (ours or SQuAD); its test split is never used")
    parser.add_argument("--articles", help="the folder of the articles a gold file of ours names")
    parser.add_argument("--out", required=True, help="where to write the gold conversation file")
    parser.add_argument("--per-article", type=int, default=PER_ARTICLE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from embeddings.analysis import load_nlp

    try:
        gold = load_gold(args.gold)
        # A SQuAD file has no splits: naming it says it may be tuned on. Ours keeps its test split out.
        questions = [q for q in gold.questions if gold.format != FORMAT_QA or q.split != HELD_OUT_SPLIT]
        followups = make_followups(questions, _articles(gold, args.articles), load_nlp(), args.seed,
                                   args.per_article)
        Path(args.out).write_text(json.dumps(as_gold_file(followups, args.gold), indent=1, ensure_ascii=False)
                                  + "\n", encoding="utf-8")
    except (InputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    kinds = Counter(f.kind for f in followups)
    print(f"{len(followups)} follow-ups written to {args.out}: "
          + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
