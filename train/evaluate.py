"""Evaluation: generate on evaluation shards, read the answers with a reward profile, and report the
metrics of each task by label type with the trivial floors computed on the same data beside them.

Predictions go to OUT/predictions.jsonl one batch at a time, so a long run that stops can resume where
it was (`evaluate_model` skips the sample ids already there). A baseline ("whole-video",
"copy-first-box") goes through exactly the same path as a model: its predictions are rendered as
answers in the task's contract and read back by the profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

Truth = Mapping[str, Any]
BASELINES = ("whole-video", "copy-first-box")


@dataclass
class EvalItem:
    sample_id: str
    task: str
    truth: dict[str, Any]


@dataclass
class Report:
    profile: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> {"n", "metrics", "floor", "floor_name"}

    def to_json(self) -> dict[str, Any]:
        return {"profile": self.profile, "tasks": self.tasks}


# ---- reading evaluation data --------------------------------------------------------------------


def read_items(data: Path) -> list[EvalItem]:
    """Sample ids, tasks and truths from training-format shards or from an ingestion folder (samples/)."""
    import pyarrow.parquet as pq

    from schemas import ground_truth

    data = Path(data)
    if (data / "samples").is_dir():
        rows = pq.read_table(data / "samples").to_pylist()
        return [EvalItem(r["sample_id"], r["task"], ground_truth(r)) for r in rows]
    from train.data import shard_files

    out = []
    for f in shard_files(str(data)):
        for r in pq.read_table(f, columns=["sample_id", "task", "reward_model"]).to_pylist():
            out.append(EvalItem(r["sample_id"], r["task"], json.loads(r["reward_model"]["ground_truth"])))
    return out


# ---- metrics ------------------------------------------------------------------------------------


def score_predictions(items: Sequence[EvalItem], completions: Mapping[str, str], profile: str) -> Report:
    """Per task: metrics of the completions read by `profile`, and the trivial floors on the same items."""
    from rewards import evaluate, floor_names, floor_predictions, get_profile
    from schemas import get_task

    prof = get_profile(profile)
    report = Report(profile)
    by_task: dict[str, list[EvalItem]] = {}
    for item in items:
        if item.sample_id in completions:
            by_task.setdefault(item.task, []).append(item)
    for task, group in sorted(by_task.items()):
        decl, truths = get_task(task), [i.truth for i in group]
        preds = [prof.read(decl, completions[i.sample_id], i.truth).predictions for i in group]
        floors, names = floor_predictions(task, truths), floor_names(task)
        floor = evaluate(task, floors, truths, include_given=prof.include_given) if floors else {}
        report.tasks[task] = {
            "n": len(group),
            "metrics": evaluate(task, preds, truths, include_given=prof.include_given),
            "floor": {comp: values for comp, values in floor.items() if comp in names},
            "floor_name": names,
        }
    return report


def write_metrics(report: Report, out: Path, title: str) -> Path:
    """OUT/metrics.json and OUT/metrics.md; returns the JSON's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps({"title": title, **report.to_json()}, indent=2))
    (out / "metrics.md").write_text(markdown(report, title))
    return out / "metrics.json"


def markdown(report: Report, title: str) -> str:
    lines = [f"## {title}", "", f"profile: `{report.profile}`", "",
             "| task | n | component | metric | value | floor |", "|---|---|---|---|---|---|"]
    for task, entry in report.tasks.items():
        for comp, values in entry["metrics"].items():
            floor = entry["floor"].get(comp, {})
            name = entry["floor_name"].get(comp, "")
            for metric, value in values.items():
                f = f"{floor[metric]:.3f} ({name})" if metric in floor and metric != "unparsed" else ""
                lines.append(f"| {task} | {entry['n']} | {comp} | {metric} | {value:.3f} | {f} |")
    return "\n".join(lines) + "\n"


# ---- predictions file (resumable) ---------------------------------------------------------------


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
        tmp = path.with_suffix(".tmp")
        tmp.write_text(clean, encoding="utf-8")
        tmp.replace(path)
    return out


def append_predictions(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.flush()


def baseline_predictions(items: Sequence[EvalItem], baseline: str) -> dict[str, str]:
    from rewards.answers import floor_answer

    out = {}
    for item in items:
        text = floor_answer(item.task, item.truth, baseline)
        if text is not None:
            out[item.sample_id] = text
    return out


# ---- generation ---------------------------------------------------------------------------------


def greedy_config(model, max_new_tokens: int):
    """Greedy decoding with every field set (unset fields would come from the checkpoint's config)."""
    from transformers import GenerationConfig

    from train.rollout import vision_token_ids

    base = model.generation_config
    return GenerationConfig(
        do_sample=False, num_beams=1, num_return_sequences=1, max_new_tokens=max_new_tokens, repetition_penalty=1.0,
        no_repeat_ngram_size=0, suppress_tokens=vision_token_ids(model), eos_token_id=base.eos_token_id,
        pad_token_id=base.pad_token_id, use_cache=True,
    )


def batches(data: Path, skip: set[str], size: int) -> Iterator[list]:
    """Decoded examples not yet predicted, `size` at a time, in shard order."""
    from train.data import decode_row, iter_rows, shard_files

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


def evaluate_model(model_dir: Path, data: Path, out: Path, batch_size: int = 4, max_new_tokens: int | None = None,
                   progress=None) -> dict[str, str]:
    """Generate for every example of `data` not yet in OUT/predictions.jsonl; returns all predictions.
    `max_new_tokens`: None = the length the model was trained with (vrft's training config beside it),
    else the training default (1024)."""
    import torch

    from train.checkpoint import trained_max_new_tokens
    from train.inputs import check_against_processor, encode_example
    from train.model import load_model, load_processor
    from train.rollout import generate

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    model = load_model(_model_cfg(model_dir), dtype).to(device).eval()
    processor = load_processor(str(model_dir))
    check_against_processor(processor)  # pixels are made on the device: they must be the processor's
    max_new_tokens = max_new_tokens or trained_max_new_tokens(model_dir)
    config = greedy_config(model, max_new_tokens)
    path = out / "predictions.jsonl"
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


def _model_cfg(model_dir: Path):
    from train.config import ModelConfig

    return ModelConfig(path=str(model_dir))
