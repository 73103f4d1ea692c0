"""Present an ``EvalResult``: a compact table for the terminal, and a report folder.

``write_report`` writes ``report.json`` (metrics and every row), ``report.md`` (summary tables overall, by split
and by type, then every question with its answer beside the gold and ✓/✗), ``metrics_by_type.png`` and, given a
previous ``report.json``, ``baseline_comparison.png`` plus a comparison table in the markdown.
Charts are drawn on matplotlib's Agg canvas directly (no pyplot), so no display or global backend is touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from eval.metrics import CORRECT_F1, METRIC_KEYS
from eval.runner import KIND_CONVERSATIONS, EvalResult
from qa.errors import InputError

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
TYPE_CHART = "metrics_by_type.png"
BASELINE_CHART = "baseline_comparison.png"

SCORE_KEYS = (
    "em",
    "f1",
    "recall_at_1",
    "recall_at_5",
    "mrr",
    "citation_accuracy",
    "no_answer_precision",
    "no_answer_recall",
)
LATENCY_KEYS = ("latency_ms_p50", "latency_ms_p95")
DIALOGUE_KEYS = ("followup_accuracy", "followup_accuracy_after_first", "n_dialogues")
SHORT_NAMES = {
    "em": "EM",
    "f1": "F1",
    "recall_at_1": "R@1",
    "recall_at_5": "R@5",
    "mrr": "MRR",
    "citation_accuracy": "cite",
    "no_answer_precision": "NA-P",
    "no_answer_recall": "NA-R",
    "latency_ms_p50": "p50 ms",
    "latency_ms_p95": "p95 ms",
    "n_questions": "n",
}
# The per-type chart shows these; the unanswerable type has only the no-answer ones.
TYPE_CHART_KEYS = ("em", "f1", "recall_at_5", "citation_accuracy", "no_answer_recall")
MARKS = {True: "✓", False: "✗"}


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


def render_markdown(result: EvalResult, baseline: dict | None = None) -> str:
    """The text of report.md (see the module docstring)."""
    metrics = result.metrics
    lines = [
        "# Evaluation report",
        "",
        f"- gold: `{result.gold_path}` ({result.gold_format or result.kind})",
        f"- index: `{result.index_dir}`",
        f"- questions: {metrics.get('n_questions', 0)}",
    ]
    if result.kind == KIND_CONVERSATIONS:
        lines += [
            f"- dialogues: {metrics.get('n_dialogues', 0)}",
            f"- follow-up accuracy: {_value(metrics.get('followup_accuracy'))} over all turns, "
            f"{_value(metrics.get('followup_accuracy_after_first'))} over turns after the first",
        ]
    lines += [f"- warning: {_cell(w)}" for w in result.warnings]

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
    if baseline is not None:
        lines += ["", "## Against the baseline", ""]
        rows = []
        dialogue_keys = [k for k in DIALOGUE_KEYS if k in metrics or k in baseline]
        for key in (*SCORE_KEYS, *LATENCY_KEYS, "n_questions", *dialogue_keys):
            before, after = baseline.get(key), metrics.get(key)
            rows.append([key, _value(before, key), _value(after, key), _delta(before, after, key)])
        lines += _md_table(["metric", "baseline", "this run", "change"], rows)

    lines += ["", "## Questions", ""]
    lines += [f"✓: F1 ≥ {CORRECT_F1} against the gold, or an abstention on an unanswerable question.", ""]
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
    lines += _md_table(header, rows)
    return "\n".join(lines) + "\n"


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


def draw_type_chart(metrics: dict, path: Path) -> Path:
    """A grouped bar chart of the main scores overall and for each question type."""
    groups = [("overall", metrics), *metrics.get("by_type", {}).items()]
    figure = _new_figure(max(6.0, 1.3 * len(groups) + 2), 4.5)
    axes = figure.add_subplot()
    _grouped_bars(
        axes,
        [f"{name}\n(n={m.get('n_questions', 0)})" for name, m in groups],
        [(SHORT_NAMES[k], [m.get(k) for _, m in groups]) for k in TYPE_CHART_KEYS],
    )
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("score")
    axes.set_title("qa eval: metrics by question type")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(TYPE_CHART_KEYS), frameon=False)
    figure.tight_layout()
    figure.savefig(path)
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
    figure.tight_layout()
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
    md_path.write_text(render_markdown(result, baseline), encoding="utf-8")
    written.append(md_path)
    written.append(draw_type_chart(result.metrics, out_dir / TYPE_CHART))
    if baseline is not None:
        written.append(draw_baseline_chart(result.metrics, baseline, out_dir / BASELINE_CHART))
    return written
