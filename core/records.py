"""The record types that flow from the loader to the UI.

Every ``start``/``end`` is a half-open ``[start, end)`` character offset into the original article text
(``Document.text``), computed while splitting and never recovered afterwards by searching for a string: the same
words can occur twice in an article, and only the offsets say which occurrence a citation points at.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field


# The files an article is read from: text as it is, saved web pages, PDFs (``embeddings.loader`` reads each its way).
TEXT_SUFFIXES = (".txt", ".md")
PAGE_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
ARTICLE_SUFFIXES = TEXT_SUFFIXES + PAGE_SUFFIXES + PDF_SUFFIXES
KINDS = ", ".join(ARTICLE_SUFFIXES)  # as messages list them


@dataclass(frozen=True)
class Document:
    """One article: its text exactly as decoded from a .txt/.md file, or as extracted from a web page or a PDF."""

    doc_id: str  # path relative to the folder it was indexed from, with "/" separators
    path: str
    title: str
    text: str
    sha256: str  # of the file's bytes, so an unchanged file is never re-embedded
    # Provenance as typed fields, not a free-form dict, so a citation can say where and when without guessing keys.
    published: str | None = None  # ISO date, YYYY-MM-DD
    source: str | None = None  # site or publisher
    author: str | None = None
    url: str | None = None
    pages: tuple[int, ...] = ()  # PDFs: the offset in ``text`` where each page starts; empty for other formats
    # The rules that read it (embeddings.loader.parser_fingerprint): a file whose bytes and rules are unchanged is
    # not read again on a rebuild. Not part of equality: new rules that read the same article re-embed nothing.
    parser: str = field(default="", compare=False)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset``, or ``None`` when the document has no pages."""
        if not self.pages:
            return None
        return max(1, bisect_right(self.pages, offset))

    @classmethod
    def from_json(cls, row: dict) -> Document:
        """A Document read back from the index; an index written before the metadata fields existed has none."""
        row = dict(row)
        row["pages"] = tuple(row.get("pages") or ())  # JSON has lists; a frozen record keeps a tuple
        return cls(**row)


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned passage; ``text == document.text[start:end]``."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    n_tokens: int  # cl100k tokens


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk; ``rank`` counts from 1."""

    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class Answer:
    """A span copied from an article: ``text == article_text[start:end]``."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float  # confidence in [0, 1]
    chunk_id: int


@dataclass(frozen=True)
class Citation:
    """A numbered passage shown to the user; ``answer_start``/``answer_end`` index into ``text``.

    They are ``None`` for a passage cited as context that holds no answer.
    """

    n: int
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    answer_start: int | None
    answer_end: int | None
    score: float
    # The cited article's provenance, copied from its Document; ``page`` is the 1-based PDF page of the answer when
    # the passage holds it, else the page the passage starts on.
    published: str | None = None
    source: str | None = None
    author: str | None = None
    url: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class WindowCount:
    """How a publication window (``--since``/``--until``) sorted the articles: ``inside`` it, of ``undated``
    articles (kept, and their citations marked "date unknown") and ``outside`` it (left out)."""

    since: str | None
    until: str | None
    inside: int
    undated: int
    outside: int

    def describe(self) -> str:
        """One line a person reads beside the answer."""
        span = f"{self.since or '…'} – {self.until or '…'}"
        return (f"published {span}: {self.inside} article{'s' * (self.inside != 1)} inside, {self.undated} of "
                f"unknown date kept (marked \"date unknown\"), {self.outside} outside left out")


@dataclass(frozen=True)
class Response:
    """Everything the assistant says about one question.

    ``answer`` is the best answer, or ``None`` when the articles do not answer the question; ``answers`` are the
    kept answers best first (``answers[0] is answer`` when there is one); ``citations`` number the passages;
    ``answer_citations[i]`` is the citation number of ``answers[i]``; ``hits`` are the retrieved chunks in order.
    """

    question: str
    resolved_question: str  # the self-contained question after follow-up resolution
    answer: Answer | None
    answers: tuple[Answer, ...]
    answer_citations: tuple[int, ...]
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The best span when it was held back under the threshold ("not in the articles"): what a lower threshold
    # would have answered, which the evaluation's coverage curve needs. Never shown as an answer.
    withheld: Answer | None = None
    window: WindowCount | None = None  # the publication window the question was asked in, if any

    def to_json(self) -> dict:
        """The object ``qa ask --json`` prints (the contract in DESIGN.md)."""

        def answer_json(answer: Answer, n: int) -> dict:
            return {
                "text": answer.text,
                "doc_id": answer.doc_id,
                "start": answer.start,
                "end": answer.end,
                "score": round(answer.score, 4),
                "citation": n,
            }

        answers = [answer_json(a, n) for a, n in zip(self.answers, self.answer_citations)]
        citations = []
        for c in self.citations:
            item = asdict(c)
            item["score"] = round(c.score, 4)
            citations.append(item)
        result = {
            "question": self.question,
            "answer": answers[0] if self.answer is not None else None,
            "answers": answers,
            "citations": citations,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }
        if self.window is not None:
            result["window"] = asdict(self.window)
        return result


@dataclass
class Analysis:
    """One article's analysis. Spans are ``[start, end)`` offsets into the article text.

    Tokens are parallel lists; ``head`` is the index of the head token in this article's token list. ``parsed``
    says whether spaCy's part (tokens, entities, noun chunks) is there; blocks and sentences always are.
    """

    doc_id: str
    blocks: list[tuple[int, int]] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    noun_chunks: list[tuple[int, int]] = field(default_factory=list)
    token_start: list[int] = field(default_factory=list)
    token_end: list[int] = field(default_factory=list)
    lemma: list[str] = field(default_factory=list)
    pos: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    dep: list[str] = field(default_factory=list)
    head: list[int] = field(default_factory=list)
    ent_type: list[str] = field(default_factory=list)
    parsed: bool = False

    def to_json(self) -> dict:
        if not self.parsed:
            return {"doc_id": self.doc_id, "blocks": self.blocks, "sentences": self.sentences, "parsed": False}
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict) -> "Analysis":
        data = dict(data)
        if not data.get("parsed"):  # written without the parse: the lists are left out of the file
            data = {k: v for k, v in data.items() if k in ("doc_id", "blocks", "sentences")}
        for key in ("blocks", "sentences", "noun_chunks"):
            data[key] = [tuple(span) for span in data.get(key, [])]
        data["entities"] = [tuple(e) for e in data.get("entities", [])]
        return cls(**data)
