"""Warm ``ask`` latency: every gold question asked alone through ``Assistant.answer``, split by stage.

    python -m bench.bench_ask [--index DIR] [--rounds 3] [--json OUT]

The index and models are loaded and one round of questions is asked before timing (warm: what a user of the
chat sees after the first question). Stage times are the assistant's own ``Response.timings_ms``; ``wall`` is
measured around the call, so whatever the stages do not account for shows as ``wall`` minus ``total``.
"""

from __future__ import annotations

import argparse
import time

from bench.common import DEFAULT_INDEX, GOLD, emit, machine, peak_rss_mb, percentiles, table

# Shown first, in pipeline order; any other key the assistant reports is shown after them, before "total".
STAGES = ("parse", "encode", "dense", "lexical", "fusion", "read", "cite")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX))
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the gold questions")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from eval.datasets import load_gold
    from qa.assistant import Assistant

    started = time.perf_counter()
    assistant = Assistant.load(args.index)
    questions = [q.question for q in load_gold(GOLD).questions]
    for question in questions:  # warm-up: model, spaCy and every lazily built table
        assistant.answer(question)
    load_and_warm_s = time.perf_counter() - started
    timed: list[tuple[float, dict]] = []
    for _ in range(args.rounds):
        for question in questions:
            t0 = time.perf_counter()
            response = assistant.answer(question)
            timed.append(((time.perf_counter() - t0) * 1000, dict(response.timings_ms)))
    encoding = _question_precisions(assistant.embedder, questions, args.rounds)
    keys = {key for _, timings in timed for key in timings}
    names = [s for s in STAGES if s in keys] + sorted(keys - set(STAGES) - {"total"}) + ["total", "wall"]
    samples = {name: [wall if name == "wall" else float(t.get(name, 0.0)) for wall, t in timed] for name in names}
    result = {"machine": machine(), "questions": len(questions), "rounds": args.rounds,
              "stages_ms": {name: percentiles(values) for name, values in samples.items()},
              "question_encoding_ms": encoding,
              "load_and_warm_s": round(load_and_warm_s, 2), "peak_rss_mb": peak_rss_mb()}
    rows = [[name, result["stages_ms"][name]["p50"], result["stages_ms"][name]["p95"]] for name in samples]
    print(f"warm ask over {len(questions)} gold questions x {args.rounds} rounds (peak RSS "
          f"{result['peak_rss_mb']:.0f} MiB)")
    print(table(["stage", "p50 ms", "p95 ms"], rows))
    print("one question encoded, by question_precision (taken in turns):")
    print(table(["precision", "p50 ms", "p95 ms"], [[k, v["p50"], v["p95"]] for k, v in encoding.items()]))
    emit(result, args.json)
    return result


def _question_precisions(embedder, questions: list[str], rounds: int) -> dict:
    """One question at a time through ``encode_questions`` under each ``question_precision``, in turns so that
    both see the same machine; bfloat16 computes as float32 where the CPU lacks it (the result says so)."""
    kept = embedder.question_precision
    samples: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    try:
        for _ in range(rounds):
            for question in questions:
                for precision in samples:
                    embedder.question_precision = precision
                    t0 = time.perf_counter()
                    embedder.encode_questions([question])
                    samples[precision].append((time.perf_counter() - t0) * 1000)
        embedder.question_precision = "bfloat16"
        native = embedder.question_arithmetic == "bfloat16"
    finally:
        embedder.question_precision = kept
    return {precision if native or precision == "float32" else "bfloat16 (not native: float32)": percentiles(v)
            for precision, v in samples.items()}


if __name__ == "__main__":
    main()
