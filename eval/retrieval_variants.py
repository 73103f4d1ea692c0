"""Retrieval stages side by side: dense only, BM25 only, both fused, and fused with sentence re-scoring.

``qa eval GOLD --compare-retrieval`` runs the gold set once per variant (the same index, only switches in the
settings change) so a change to retrieval is judged against each stage alone.
"""

from __future__ import annotations

from dataclasses import replace

from core.config import Settings

VARIANTS = {
    "dense": {"dense": True, "lexical": False, "sentence_rescoring": False},
    "bm25": {"dense": False, "lexical": True, "sentence_rescoring": False},
    "fused (RRF)": {"dense": True, "lexical": True, "sentence_rescoring": False},
    "fused + sentences": {"dense": True, "lexical": True, "sentence_rescoring": True},
}
COLUMNS = ("recall_at_1", "recall_at_5", "mrr", "f1", "em")


def compare_retrieval(gold_path, index_dir, settings: Settings) -> list[tuple[str, dict]]:
    """(variant name, metrics) for each retrieval variant."""
    from eval.runner import evaluate

    return [(name, evaluate(gold_path, index_dir, replace(settings, **switches), progress=False).metrics)
            for name, switches in VARIANTS.items()]


def format_comparison(rows: list[tuple[str, dict]]) -> str:
    def cell(metrics: dict, key: str) -> str:
        value = metrics.get(key)
        return "  n/a" if value is None else f"{value:.3f}"

    lines = [f"{'retrieval':20s} {'split':6s} " + " ".join(f"{c:>11s}" for c in COLUMNS)]
    for name, metrics in rows:
        for split, values in [("all", metrics), *sorted(metrics.get("splits", {}).items())]:
            lines.append(f"{name:20s} {split:6s} " + " ".join(f"{cell(values, c):>11s}" for c in COLUMNS))
    return "\n".join(lines)
