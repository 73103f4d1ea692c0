"""Present an ``EvalResult``: a compact table for the terminal, and a report folder.

``write_report`` writes ``report.json`` (metrics and every row), ``report.md`` (the index's article count and a
warning for articles the gold set does not name, what each metric means, summary tables overall, by split and by
type, the coverage–accuracy table, then every question with its answer beside the gold and ✓/✗),
``metrics_by_split.png`` (every metric, overall and per split), ``metrics_by_type.png``, ``coverage_accuracy.png``
(F1 of the answered questions against the share answered, as the confidence threshold moves) and, given a
previous ``report.json``, ``baseline_comparison.png`` plus a comparison table in the markdown. Every chart's legend spells out the abbreviations it uses.
Charts are drawn on matplotlib's Agg canvas directly (no pyplot), so no display or global backend is touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError, QAError
from eval.datasets import load_gold
from eval.metrics import CORRECT_F1, DIALOGUE_KEYS, LATENCY_KEYS, METRIC_KEYS, SCORE_KEYS
from eval.runner import KIND_CONVERSATIONS, EvalResult

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
SPLIT_CHART = "metrics_by_split.png"
TYPE_CHART = "metrics_by_type.png"
BASELINE_CHART = "baseline_comparison.png"
COVERAGE_CHART = "coverage_accuracy.png"

@dataclass(frozen=True)
class MetricLabel:
    short: str  # in tables and on charts
    name: str  # what the short form stands for, in the charts' key
    meaning: str  # how it is counted, in report.md


# One place for what every metric is called and means: report.md opens with them and every chart's key spells
# out the abbreviations, so a reader never has to guess what "NA-P" counts.
LABELS = {
    "em": MetricLabel("EM", "exact match", "share of answerable questions whose answer equals a gold answer once "
                      "both are normalised as SQuAD does (lower case, no punctuation, no a/an/the)"),
    "f1": MetricLabel("F1", "token-overlap F1", "overlap of the answer's words with the closest gold answer's "
                      "(harmonic mean of precision and recall), averaged over answerable questions; an abstention "
                      "scores 0"),
    "recall_at_1": MetricLabel("R@1", "retrieval recall@1", "share of answerable questions whose first retrieved "
                               "passage is in the gold article and holds a gold answer"),
    "recall_at_5": MetricLabel("R@5", "retrieval recall@5", "the same within the first five retrieved passages"),
    "mrr": MetricLabel("MRR", "mean reciprocal rank", "mean of 1/rank of the first such passage (0 when none is "
                       "retrieved)"),
    "citation_accuracy": MetricLabel("cite", "citation accuracy", "share of answered answerable questions whose "
                                     "answer's citation is a passage of the gold article holding a gold answer"),
    "no_answer_precision": MetricLabel("NA-P", "no-answer precision", "share of the abstentions (\"not found in the "
                                       "articles\") that are on questions the articles do not answer"),
    "no_answer_recall": MetricLabel("NA-R", "no-answer recall", "share of the unanswerable questions on which the "
                                    "assistant abstained"),
    "latency_ms_p50": MetricLabel("p50 ms", "median latency", "median time to answer one question, in milliseconds"),
    "latency_ms_p95": MetricLabel("p95 ms", "95th-percentile latency", "95th-percentile time to answer one question, "
                                  "in milliseconds"),
    "n_questions": MetricLabel("n", "questions", "number of questions (or conversation turns) scored"),
}
SHORT_NAMES = {key: label.short for key, label in LABELS.items()}
MARKS = {True: "✓", False: "✗"}
UNNAMED_SHOWN = 5  # articles the coverage warning names; the rest are counted


def _value(value, key: str = "") -> str:
    if value is None:
        return "n/a"
    if key == "n_questions" or key == "n_dialogues" or isinstance(value, bool):
        return str(value)
    if key.startswith("latency"):
        return f"{value:.1f}"
    if isinstance(value, (int, float)):
        return f"{value:.3f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain-text table with columns padded to their widest cell; the first column left-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _columns(metrics: dict) -> list[tuple[str, dict]]:
    """(name, metrics) for overall and each split."""
    return [("overall", metrics), *metrics.get("splits", {}).items()]


def format_summary(result: EvalResult) -> str:
    """A compact plain-text summary for the terminal: metrics overall and per split, then per question type."""
    metrics = result.metrics
    lines = [f"gold: {result.gold_path}  index: {result.index_dir}  questions: {metrics.get('n_questions', 0)}"]
    if result.kind == KIND_CONVERSATIONS:
        lines[0] += f"  dialogues: {metrics.get('n_dialogues', 0)}"
        lines.append(
            f"follow-up accuracy: {_value(metrics.get('followup_accuracy'))} overall, "
            f"{_value(metrics.get('followup_accuracy_after_first'))} after the first turn"
        )
    lines.append("")
    columns = _columns(metrics)
    lines += _table(
        ["metric", *(name for name, _ in columns)],
        [[key, *(_value(m.get(key), key) for _, m in columns)] for key in METRIC_KEYS],
    )
    by_type = metrics.get("by_type", {})
    if by_type:
        lines.append("")
        keys = [*SCORE_KEYS, "n_questions"]
        lines += _table(
            ["type", *(SHORT_NAMES[k] for k in keys)],
            [[qtype, *(_value(m.get(k), k) for k in keys)] for qtype, m in by_type.items()],
        )
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


# --- report.md ---------------------------------------------------------------------------------------------------


def _cell(text) -> str:
    """Text safe inside a markdown table cell."""
    if text is None:
        return ""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _answer_text(row: dict) -> str:
    return "(abstained)" if row["answer"] is None else row["answer"]


def _question_text(row: dict) -> str:
    """The question, and for a rewritten follow-up the self-contained question the assistant answered."""
    resolved = row.get("resolved_question")
    if "turn" in row and resolved and resolved != row["question"]:
        return f"{row['question']} → {resolved}"
    return row["question"]


def _gold_text(row: dict) -> str:
    return " / ".join(row["gold"]) if row["gold"] else "(unanswerable)"


def _delta(before, after, key: str) -> str:
    if not isinstance(before, (int, float)) or not isinstance(after, (int, float)):
        return ""
    if key in ("n_questions", "n_dialogues"):
        return f"{after - before:+d}"
    return f"{after - before:+.1f}" if key.startswith("latency") else f"{after - before:+.3f}"


@dataclass(frozen=True)
class Coverage:
    """The index's articles against the gold set's: how many the index holds, and which of them the gold set
    never names (no question is about them, yet they compete in retrieval)."""

    n_articles: int
    unnamed: tuple[str, ...]


def coverage_of(index_docs: Sequence[str], gold_docs: Sequence[str]) -> Coverage:
    named = set(gold_docs)
    return Coverage(len(index_docs), tuple(sorted(doc for doc in index_docs if doc not in named)))


def read_coverage(index_dir: str | Path, gold_path: str | Path) -> Coverage | None:
    """``coverage_of`` the index's manifest and the gold file; ``None`` when either cannot be read any more
    (a report written from a saved result, say), so the report says "unknown" rather than failing."""
    from embeddings.index_store import read_manifest  # numpy and FAISS's wrapper: only when a report is written

    try:
        manifest = read_manifest(Path(index_dir))
        gold = load_gold(gold_path)
    except QAError:
        return None
    return coverage_of([d["doc_id"] for d in manifest["documents"]], list(gold.documents))


def _coverage_lines(result: EvalResult, coverage: Coverage | None) -> list[str]:
    """The index line of report.md's head, and a warning when the index holds articles the gold set does not name:
    those are distractors the gold set's figures were not measured with, so runs on other indexes differ."""
    if coverage is None:
        return [f"- index: `{result.index_dir}` (article count unknown: its manifest or the gold file is unreadable)"]
    lines = [f"- index: `{result.index_dir}` ({coverage.n_articles} article{'s' * (coverage.n_articles != 1)})"]
    if coverage.unnamed:
        n = len(coverage.unnamed)
        shown = ", ".join(f"`{_cell(doc)}`" for doc in coverage.unnamed[:UNNAMED_SHOWN])
        more = f" and {n - UNNAMED_SHOWN} more" if n > UNNAMED_SHOWN else ""
        lines.append(f"- **warning: the index holds {n} article{'s' * (n != 1)} the gold set does not name** "
                     f"({shown}{more}); they compete with the gold articles in retrieval, so these figures are not "
                     f"those of an index of the gold articles alone")
    return lines


def _definition_lines() -> list[str]:
    lines = ["", "## What the figures mean", ""]
    lines += [f"- **{label.short}** (`{key}`, {label.name}): {label.meaning}." for key, label in LABELS.items()]
    lines.append("- n/a: nothing to count (say, no-answer recall on a split without unanswerable questions).")
    return lines


def render_markdown(result: EvalResult, baseline: dict | None = None, coverage: Coverage | None = None) -> str:
    """The text of report.md (see the module docstring); ``coverage`` is the index's against the gold set's."""
    metrics = result.metrics
    lines = [
        "# Evaluation report",
        "",
        f"- gold: `{result.gold_path}` ({result.gold_format or result.kind})",
        *_coverage_lines(result, coverage),
        f"- questions: {metrics.get('n_questions', 0)}",
    ]
    if result.kind == KIND_CONVERSATIONS:
        lines += [
            f"- dialogues: {metrics.get('n_dialogues', 0)}",
            f"- follow-up accuracy: {_value(metrics.get('followup_accuracy'))} over all turns, "
            f"{_value(metrics.get('followup_accuracy_after_first'))} over turns after the first",
        ]
    lines += [f"- warning: {_cell(w)}" for w in result.warnings]
    lines += _definition_lines()

    columns = _columns(metrics)
    lines += ["", "## Summary", ""]
    lines += _md_table(
        ["metric", *(name for name, _ in columns)],
        [[key, *(_value(m.get(key), key) for _, m in columns)] for key in METRIC_KEYS],
    )
    for name, m in columns:
        if not m.get("by_type"):
            continue
        lines += ["", f"## By question type ({name})", ""]
        lines += _md_table(
            ["type", *(SHORT_NAMES[k] for k in METRIC_KEYS)],
            [[qtype, *(_value(t.get(k), k) for k in METRIC_KEYS)] for qtype, t in m["by_type"].items()],
        )
    lines += _coverage_curve_lines(metrics)
    if baseline is not None:
        lines += _baseline_lines(metrics, baseline)
    lines += _question_lines(result)
    return "\n".join(lines) + "\n"


def _coverage_curve_lines(metrics: dict) -> list[str]:
    """Selective answering: how good the answers are when only the most confident share is given."""
    curve = metrics.get("coverage_curve") or []
    if not curve:
        return []
    lines = ["", "## Coverage and accuracy", "",
             "Answering only the questions whose best answer is at least as confident as the threshold: the share "
             "answered, and the F1 of those answers (an unanswerable question answered scores 0).", ""]
    return lines + _md_table(["answered", "threshold", "F1 of the answered", "questions"],
                             [[f"{p['coverage']:.0%}", f"{p['threshold']:.3f}", f"{p['f1']:.3f}", str(p["answered"])]
                              for p in curve])


def coverage_figure(metrics: dict):
    """F1 of the answered questions against the share answered, overall and per split."""
    figure = _new_figure(7, 4.5)
    axes = figure.add_subplot()
    for name, m in [("overall", metrics), *metrics.get("splits", {}).items()]:
        curve = m.get("coverage_curve") or []
        if curve:
            axes.plot([p["coverage"] for p in curve], [p["f1"] for p in curve], marker="o", markersize=3,
                      label=f"{name} (n={m.get('n_questions', 0)})")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("share of questions answered (the most confident first)")
    axes.set_ylabel("F1 of the answered questions")
    axes.set_title("qa eval: coverage against accuracy")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    return figure


def _baseline_lines(metrics: dict, baseline: dict) -> list[str]:
    """The table of this run's metrics against a previous report's."""
    rows = []
    dialogue_keys = [k for k in DIALOGUE_KEYS if k in metrics or k in baseline]
    for key in (*SCORE_KEYS, *LATENCY_KEYS, "n_questions", *dialogue_keys):
        before, after = baseline.get(key), metrics.get(key)
        rows.append([key, _value(before, key), _value(after, key), _delta(before, after, key)])
    return ["", "## Against the baseline", "", *_md_table(["metric", "baseline", "this run", "change"], rows)]


def _question_lines(result: EvalResult) -> list[str]:
    """One row per question: what was asked, the gold, the answer and whether it counts as right."""
    header = ["id", "type", "split", "question", "gold", "answer", "F1", "cited document", "right"]
    rows = [
        [
            row["id"],
            row["type"],
            row["split"],
            _question_text(row),
            _gold_text(row),
            _answer_text(row),
            "—" if row["f1"] is None else _value(row["f1"]),
            row.get("cited_doc") or "",
            MARKS[bool(row["correct"])],
        ]
        for row in result.rows
    ]
    return ["", "## Questions", "", f"✓: F1 ≥ {CORRECT_F1} against the gold, or an abstention on an unanswerable "
            "question.", "", *_md_table(header, rows)]


# --- charts ------------------------------------------------------------------------------------------------------


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _grouped_bars(axes, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> None:
    """Bars per group, one per series; a missing value (None) draws no bar."""
    n = max(len(series), 1)
    width = 0.8 / n
    for s, (label, values) in enumerate(series):
        xs = [g + (s - (n - 1) / 2) * width for g in range(len(groups))]
        heights = [0.0 if v is None else v for v in values]
        bars = axes.bar(xs, heights, width, label=label)
        for x, bar, value in zip(xs, bars, values):
            if value is None:
                bar.set_visible(False)
            elif value == 0:
                # A zero bar has no height: mark it, so 0 reads differently from n/a (no bar, no mark).
                axes.annotate("0", (x, 0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    axes.set_xticks(range(len(groups)))
    axes.set_xticklabels(groups)


def _spelled(key: str) -> str:
    """A chart's legend entry: the abbreviation and what it stands for ("NA-P = no-answer precision")."""
    return f"{LABELS[key].short} = {LABELS[key].name}"


def _abbreviation_key(figure, keys: Sequence[str]) -> None:
    """A legend along the figure's foot that spells out every abbreviation its tick labels use."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none") for _ in keys]  # text only: the bars' colours are the series'
    figure.legend(handles, [_spelled(k) for k in keys], loc="lower center", ncol=5, frameon=False, handlelength=0,
                  handletextpad=0, fontsize=8)


def split_figure(metrics: dict):
    """Every metric overall and for each split, beside each other: scores (left), latencies (right), and a key
    to the abbreviations below; the split's question count is in its legend entry."""
    columns = [(f"{name} (n={m.get('n_questions', 0)})", m) for name, m in _columns(metrics)]
    figure = _new_figure(12, 5.5)
    scores, latency = figure.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]})
    _grouped_bars(scores, [SHORT_NAMES[k] for k in SCORE_KEYS],
                  [(label, [m.get(k) for k in SCORE_KEYS]) for label, m in columns])
    scores.set_ylim(0, 1.05)
    scores.set_ylabel("score")
    scores.set_title("scores")
    scores.legend(loc="upper right", fontsize=8)
    _grouped_bars(latency, [SHORT_NAMES[k] for k in LATENCY_KEYS],
                  [(label, [m.get(k) for k in LATENCY_KEYS]) for label, m in columns])
    latency.set_ylabel("ms per question")
    latency.set_title("latency")
    figure.suptitle("qa eval: every metric, overall and per split")
    _abbreviation_key(figure, [*SCORE_KEYS, *LATENCY_KEYS])
    figure.tight_layout(rect=(0, 0.1, 1, 1))  # the foot is the key's
    return figure


def draw_split_chart(metrics: dict, path: Path) -> Path:
    split_figure(metrics).savefig(path)
    return path


def type_figure(metrics: dict):
    """Every score overall and for each question type, one bar a score, the legend spelling out each."""
    groups = [("overall", metrics), *metrics.get("by_type", {}).items()]
    figure = _new_figure(max(8.0, 1.8 * len(groups) + 2), 5.0)
    axes = figure.add_subplot()
    _grouped_bars(
        axes,
        [f"{name}\n(n={m.get('n_questions', 0)})" for name, m in groups],
        [(_spelled(k), [m.get(k) for _, m in groups]) for k in SCORE_KEYS],
    )
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.set_title("qa eval: metrics by question type")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, frameon=False, fontsize=8)
    figure.tight_layout()
    return figure


def draw_type_chart(metrics: dict, path: Path) -> Path:
    type_figure(metrics).savefig(path)
    return path


def draw_baseline_chart(metrics: dict, baseline: dict, path: Path) -> Path:
    """Side-by-side bars of the scores (left) and latencies (right) of a baseline run and this one."""
    figure = _new_figure(11, 4.5)
    scores, latency = figure.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]})
    _grouped_bars(
        scores,
        [SHORT_NAMES[k] for k in SCORE_KEYS],
        [("baseline", [baseline.get(k) for k in SCORE_KEYS]), ("this run", [metrics.get(k) for k in SCORE_KEYS])],
    )
    scores.set_ylim(0, 1.05)
    scores.set_ylabel("score")
    scores.set_title("scores")
    scores.legend()
    _grouped_bars(
        latency,
        ["p50", "p95"],
        [("baseline", [baseline.get(k) for k in LATENCY_KEYS]), ("this run", [metrics.get(k) for k in LATENCY_KEYS])],
    )
    latency.set_ylabel("ms per question")
    latency.set_title("latency")
    figure.suptitle("qa eval: this run against the baseline")
    _abbreviation_key(figure, [*SCORE_KEYS, *LATENCY_KEYS])
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    figure.savefig(path)
    return path


# --- the folder --------------------------------------------------------------------------------------------------


def load_baseline(path: str | Path) -> dict:
    """The metrics of a previous run: a report.json (its ``metrics``) or the object ``qa eval --json`` printed.

    Raises ``InputError`` when the file cannot be read or holds no metrics.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline report not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read baseline report {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"baseline report {path} is not valid JSON: {error.msg} at line {error.lineno}") from None
    if isinstance(data, dict) and isinstance(data.get("metrics"), dict):
        data = data["metrics"]
    if not isinstance(data, dict) or not any(key in data for key in SCORE_KEYS):
        raise InputError(f"baseline report {path} holds no metrics (expected a report.json from `qa eval --report`)")
    return data


def report_json(result: EvalResult) -> dict:
    """The object report.json holds."""
    return {
        "gold": result.gold_path,
        "gold_format": result.gold_format,
        "index": result.index_dir,
        "kind": result.kind,
        "metrics": result.metrics,
        "warnings": list(result.warnings),
        "questions": result.rows,
    }


def write_report(result: EvalResult, out_dir: str | Path, baseline_path: str | Path | None = None) -> list[Path]:
    """Write report.json, report.md and the charts into ``out_dir`` (created if needed); return the written paths.

    Given ``baseline_path`` (a previous report.json), also compare against it: a table in report.md and
    ``baseline_comparison.png``. Raises ``InputError`` for an unreadable baseline (before anything is written).
    """
    baseline = load_baseline(baseline_path) if baseline_path is not None else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = out_dir / REPORT_JSON
    json_path.write_text(json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(json_path)
    md_path = out_dir / REPORT_MD
    coverage = read_coverage(result.index_dir, result.gold_path)
    md_path.write_text(render_markdown(result, baseline, coverage), encoding="utf-8")
    written.append(md_path)
    written.append(draw_split_chart(result.metrics, out_dir / SPLIT_CHART))
    written.append(draw_type_chart(result.metrics, out_dir / TYPE_CHART))
    coverage_figure(result.metrics).savefig(out_dir / COVERAGE_CHART)
    written.append(out_dir / COVERAGE_CHART)
    if baseline is not None:
        written.append(draw_baseline_chart(result.metrics, baseline, out_dir / BASELINE_CHART))
    return written
