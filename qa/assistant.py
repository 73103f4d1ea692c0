"""The one pipeline object the CLI, the UI and the evaluation share, so they always agree.

``Assistant.load(index_dir)`` reads an index folder once; ``answer_batch`` does the work (one encoder call for
all questions), and ``answer`` is ``answer_batch([question])[0]``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.config import Settings, load_settings
from core.errors import IndexFolderError, InputError
from core.records import Answer, Document, Response
from embeddings.analysis import add_parse, load_nlp, parse, parse_many, sentences_within
from embeddings.embedder import Embedder
from embeddings.index_store import IndexData, read_index
from qa.citations import cite
from qa.corpus import Corpus
from qa.dates import DateWindow
from qa.question import analyse_question, unparsed_question
from qa.reader import make_reader
from qa.retriever import Retriever
from qa.validate import clean_question


_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-parse")
_LOG = logging.getLogger(__name__)


def _timed(function, *args):
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


def _with_parse(data: IndexData, index_dir: Path | None) -> IndexData:
    """The index with spaCy's parse of every article, which only the feature reader reads: an index built for
    another reader lacks it, and gets it here, in memory, once per start (``qa index`` stores it)."""
    missing = sum(not a.parsed for a in data.analyses)
    if not missing:
        return data
    _LOG.warning("the index at %s holds no parse for the feature reader; parsing %d articles now (run `qa index` "
                 "with QA_READER=features to store it)", index_dir or "(memory)", missing)
    return replace(data, analyses=add_parse([(a, d.text) for a, d in zip(data.analyses, data.documents)]))


class Assistant:
    def __init__(self, data: IndexData, settings: Settings | None = None, embedder: Embedder | None = None,
                 index_dir: Path | None = None):
        self.settings = load_settings() if settings is None else settings
        if data.embedding_model != self.settings.embedding_model:
            raise IndexFolderError(f"the index was built with {data.embedding_model!r} but the settings name "
                                   f"{self.settings.embedding_model!r}; rebuild it with `qa index`")
        self.data = _with_parse(data, index_dir) if self.settings.needs_parse else data
        self.index_dir = index_dir
        self.embedder = Embedder(self.settings.embedding_model, threads=self.settings.threads,
                                 question_precision=self.settings.question_precision) if embedder is None else embedder
        self.corpus = Corpus(self.data)
        self.retriever = Retriever(self.corpus, self.settings)
        self.reader = make_reader(self.corpus, self.settings)
        self.documents: dict[str, Document] = {d.doc_id: d for d in data.documents}
        self._analyses = {d.doc_id: a for d, a in zip(self.data.documents, self.data.analyses)}
        if self.settings.needs_parse:
            # spaCy loads in the parser's thread while the first question loads the embedder: a cold `qa ask`
            # pays for the slower of the two, not both.
            _PARSER.submit(load_nlp)

    @classmethod
    def load(cls, index_dir: str | Path, settings: Settings | None = None,
             embedder: Embedder | None = None) -> "Assistant":
        settings = load_settings() if settings is None else settings
        data = read_index(Path(index_dir), settings)
        return cls(data, settings, embedder, Path(index_dir))

    def document(self, doc_id: str) -> Document | None:
        """The indexed article ``doc_id``, or ``None`` when the index does not hold it."""
        return self.documents.get(doc_id)

    def sure_confidence(self) -> float:
        """From this confidence on an answer is "likely": the settings' value, else the reader's measured band."""
        value = self.settings.sure_confidence
        return self.reader.likely if value is None else value

    def passage_counts(self) -> dict[str, int]:
        """How many passages each article was split into, by doc_id."""
        return dict(Counter(chunk.doc_id for chunk in self.data.chunks))

    def sentence_of(self, answer: Answer | None) -> tuple[int, int] | None:
        """The article offsets of the sentence holding ``answer`` (of all of them, if it runs over a boundary);
        ``None`` for no answer, or one outside the index's sentences."""
        analysis = None if answer is None else self._analyses.get(answer.doc_id)
        if analysis is None:
            return None
        first, last = sentences_within(analysis.sentences, answer.start, answer.end)
        if last <= first:
            return None
        # A span that reaches past its sentences (white space the rule left out) still shows whole.
        return min(analysis.sentences[first][0], answer.start), max(analysis.sentences[last - 1][1], answer.end)

    def entities_near(self, answer: Answer) -> list[tuple[int, int, str]]:
        """Labelled entities ``(start, end, label)`` of the answer's article, in text order, around ``answer``: all of
        the article's from index time where the index holds the parse, else those of the answer's sentence, parsed
        now (the answer alone is too short to label reliably). Empty for an article the index does not hold."""
        analysis = self._analyses.get(answer.doc_id)
        if analysis is None:
            return []
        if analysis.parsed:
            return analysis.entities
        start, end = self.sentence_of(answer) or (answer.start, answer.end)
        text = self.documents[answer.doc_id].text
        return [(start + e.start_char, start + e.end_char, e.label_) for e in parse(text[start:end]).ents]

    def answer(self, question: str, k: int | None = None, window: DateWindow | None = None) -> Response:
        return self.answer_batch([question], k, window=window)[0]

    def answer_batch(self, questions: list[str], k: int | None = None, originals: list[str] | None = None,
                     read_as: list[str] | None = None, window: DateWindow | None = None,
                     contexts: list[str] | None = None, prefer: list[str | None] | None = None) -> list[Response]:
        """Answer self-contained questions. ``originals`` are the questions as the user typed them, when a
        conversation rewrote them, ``read_as`` the rewritten questions without the context terms appended
        for retrieval (what the question asks, not the context's names) and ``contexts`` those terms, which a
        reader may read beside the question (the trained reader does, to find the turn's passage); ``k``
        overrides the number of citations; ``window`` keeps retrieval to articles published in it; ``prefer`` names,
        per question, the article a follow-up leans on (see ``Retriever.retrieve_batch``)."""
        started = time.perf_counter()
        top_k = self.settings.top_k if k is None else k
        if not isinstance(top_k, int) or top_k <= 0:
            raise InputError(f"k must be a positive integer. Currently, k is {top_k!r}")
        cleaned = [clean_question(q, self.settings.max_question_chars) for q in questions]
        if not cleaned:
            return []
        originals = cleaned if originals is None else originals
        read = cleaned if read_as is None else [clean_question(q, self.settings.max_question_chars) for q in read_as]
        # Parsing (spaCy, for the feature reader only) and encoding (torch) are independent and both run outside
        # the GIL: on two cores they overlap, and a question costs the longer of the two rather than their sum.
        parsing = _PARSER.submit(_timed, parse_many, read) if self.settings.needs_parse else None
        encode_started = time.perf_counter()
        vectors = self.embedder.encode_questions(cleaned)
        encode_ms = (time.perf_counter() - encode_started) * 1000 / len(cleaned)
        if parsing is not None:
            docs, parse_seconds = parsing.result()
            analyses = [analyse_question(q, lambda _, doc=doc: doc) for q, doc in zip(read, docs)]
        else:
            parse_seconds, analyses = 0.0, [unparsed_question(q) for q in read]
        if contexts is not None:
            analyses = [replace(a, context=c) for a, c in zip(analyses, contexts)]
        parse_ms = parse_seconds * 1000 / len(cleaned)
        front_ms = (time.perf_counter() - started) * 1000 / len(cleaned)  # parse and encode, overlapped
        allowed = None if window is None else frozenset(  # asked once an article, not once a passage
            i for d, document in enumerate(self.data.documents) if window.holds(document)
            for i in range(*self.corpus.chunk_ranges[d]))
        retrievals = self.retriever.retrieve_batch(cleaned, vectors, allowed, prefer)
        counted = None if window is None else window.count(self.documents.values())
        responses = []
        for i, question in enumerate(cleaned):
            response = self._respond(originals[i], question, analyses[i], vectors[i], retrievals[i].hits, top_k,
                                     {"parse": parse_ms, "encode": encode_ms, "front": front_ms,
                                      **retrievals[i].timings_ms})
            responses.append(response if counted is None else replace(response, window=counted))
        return responses

    def _respond(self, original: str, question: str, analysis, vector: np.ndarray, hits, top_k: int,
                 timings: dict) -> Response:
        started = time.perf_counter()
        answers = self.reader.read(analysis, vector, hits, self.settings.max_answers)
        threshold = self.settings.abstain_threshold
        threshold = self.reader.threshold if threshold is None else threshold
        withheld = None
        if answers and answers[0].score < threshold:
            withheld, answers = answers[0], []
        read_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        citations, numbers = cite(answers, hits, self.documents, self.data.chunks, top_k)
        cite_ms = (time.perf_counter() - started) * 1000
        timings = {**timings, "read": read_ms, "cite": cite_ms}
        timings["retrieve"] = timings["encode"] + timings["dense"] + timings["lexical"] + timings["fusion"]
        timings["total"] = (timings.pop("front") + timings["dense"] + timings["lexical"] + timings["fusion"]
                             + read_ms + cite_ms)
        return Response(
            question=original, resolved_question=question, answer=answers[0] if answers else None,
            answers=tuple(answers), answer_citations=tuple(numbers), citations=tuple(citations),
            hits=tuple(hits), timings_ms=timings, withheld=withheld,
        )
