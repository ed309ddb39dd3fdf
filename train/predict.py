"""Predictions to evaluate: a model's greedy answers on evaluation shards, or a trivial baseline's.

Predictions go to OUT/predictions.jsonl one batch at a time, so a long run that stops can resume where
it was (`predict_model` skips the sample ids already there). A baseline ("whole-video",
"copy-first-box") goes through exactly the same path as a model: its predictions are rendered as
answers in the task's contract and read back by the profile (`train.eval_report`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from pipelines import storage
from rewards.answers import floor_answer
from train.config import ModelConfig
from train.data import Example, decode_row, iter_rows, shard_files
from train.eval_items import EvalItem

BASELINES = ("whole-video", "copy-first-box")
PREDICTIONS = "predictions.jsonl"


# ---- the predictions file (resumable) ---------------------------------------------------------------


def load_predictions(path: Path) -> dict[str, str]:
    """sample_id -> completion from a predictions file. A line torn by a killed run is dropped from
    the file (rewritten atomically), so the next append starts on a line of its own."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    text = path.read_text(encoding="utf-8")
    kept = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        out[row["sample_id"]] = row["completion"]
        kept.append(line)
    clean = "".join(line + "\n" for line in kept)
    if clean != text:
        storage.write_text(str(path), clean)
    return out


def append_predictions(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.flush()


# ---- a baseline -------------------------------------------------------------------------------------


def baseline_predictions(items: Sequence[EvalItem], baseline: str) -> dict[str, str]:
    """sample_id -> the baseline's answer, for the items whose task has that floor."""
    out = {}
    for item in items:
        text = floor_answer(item.task, item.truth, baseline)
        if text is not None:
            out[item.sample_id] = text
    return out


# ---- a model ----------------------------------------------------------------------------------------


def greedy_config(model, max_new_tokens: int):
    """Greedy decoding with every field set (unset fields would come from the checkpoint's config)."""
    from transformers import GenerationConfig  # transformers and torch load only when a model runs

    from train.rollout import vision_token_ids

    base = model.generation_config
    return GenerationConfig(
        do_sample=False, num_beams=1, num_return_sequences=1, max_new_tokens=max_new_tokens, repetition_penalty=1.0,
        no_repeat_ngram_size=0, suppress_tokens=vision_token_ids(model), eos_token_id=base.eos_token_id,
        pad_token_id=base.pad_token_id, use_cache=True,
    )


def batches(data: Path, skip: set[str], size: int) -> Iterator[list[Example]]:
    """Decoded examples not yet predicted, `size` at a time, in shard order."""
    batch = []
    for index, row in iter_rows(shard_files(str(data))):
        if row["sample_id"] in skip:
            continue
        batch.append(decode_row(index, row))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_model(model_dir: Path, data: Path, out: Path, batch_size: int = 4, max_new_tokens: int | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Generate for every example of `data` not yet in OUT/predictions.jsonl; returns all predictions.
    `max_new_tokens`: None = the length the model was trained with (vrft's training config beside it),
    else the training default (1024)."""
    import torch  # torch, transformers and the model code load only when a model runs (`vrft eval --baseline` needs none)

    from train.checkpoint import trained_max_new_tokens
    from train.inputs import check_against_processor, encode_example
    from train.model import load_model, load_processor
    from train.rollout import generate

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    model = load_model(ModelConfig(path=str(model_dir)), dtype).to(device).eval()
    processor = load_processor(str(model_dir))
    check_against_processor(processor)  # pixels are made on the device: they must be the processor's
    max_new_tokens = max_new_tokens or trained_max_new_tokens(model_dir)
    config = greedy_config(model, max_new_tokens)
    path = out / PREDICTIONS
    done = load_predictions(path)
    for batch in batches(data, set(done), batch_size):
        prompts = [encode_example(processor, ex) for ex in batch]
        texts = generate(model, processor, prompts, config, device).texts
        rows = [{"sample_id": ex.sample_id, "task": ex.task, "completion": t} for ex, t in zip(batch, texts)]
        append_predictions(path, rows)
        done.update((r["sample_id"], r["completion"]) for r in rows)
        if progress:
            progress(len(rows))
    return done
