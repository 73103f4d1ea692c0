"""Evaluation: a gold set in, metrics and a report out.

- ``eval.metrics``  — small pure functions (SQuAD normalisation, EM, F1, recall@k, MRR, no-answer precision/recall,
  percentiles) and ``summarize``, which turns scored rows into the metrics dict ``qa eval --json`` prints.
- ``eval.datasets`` — ``load_gold``: our gold format, gold conversations, SQuAD v1.1/v2.0.
- ``eval.scoring``  — one ``Response`` against one gold question → one row (pure).
- ``eval.runner``   — ``evaluate``/``run_eval``/``run_conversations``: build or load the index, ask, score.
- ``eval.report``   — ``format_summary`` for the terminal, ``write_report`` for report.json/report.md/charts.

Importing this package is cheap: nothing here loads torch or matplotlib until a run or a chart needs it.
"""
