"""The batch path in questions per second: all gold questions through ``Assistant.answer_batch``, and through
``eval.runner.ask_questions`` (what ``qa eval`` runs: batches plus scoring), after one warm-up pass.

    python -m bench.bench_eval [--index DIR] [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import DEFAULT_INDEX, GOLD, emit, machine, peak_rss_mb, table


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--rounds", type=int, default=3, help="timed passes; the median is reported")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from eval.datasets import load_gold
    from eval.runner import ask_questions
    from qa.assistant import Assistant

    assistant = Assistant.load(args.index)
    gold = load_gold(GOLD)
    questions = [q.question for q in gold.questions]
    assistant.answer_batch(questions)  # warm-up
    batch_s, eval_s = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        assistant.answer_batch(questions)
        batch_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        ask_questions(assistant, gold.questions, progress=False)
        eval_s.append(time.perf_counter() - started)
    n = len(questions)
    result = {"machine": machine(), "questions": n, "rounds": args.rounds,
              "answer_batch_qps": round(n / statistics.median(batch_s), 1),
              "qa_eval_qps": round(n / statistics.median(eval_s), 1), "peak_rss_mb": peak_rss_mb()}
    print(f"batch path over {n} gold questions, median of {args.rounds} rounds")
    print(table(["path", "questions/s"], [["Assistant.answer_batch", result["answer_batch_qps"]],
                                          ["eval.runner.ask_questions (qa eval)", result["qa_eval_qps"]]]))
    emit(result, args.json)
    return result


if __name__ == "__main__":
    main()
