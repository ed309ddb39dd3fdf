"""Reward-labeling speed: `vrft label`'s Beam job against the same generation and scoring in a plain loop.

Both label the same training shards (toy rows: 4 frames of 56x84, a grounding query) with the same model,
sampling settings, seeds and profile, start to finish in this process (model load included):
  loop       plan the units, read and encode each unit's samples, `sample` (the handler's own function)
             `--batch-size` prompts at a time, score each sample's completions, write one label table;
  pipeline   `run_label` on Beam's FnApiRunner (Create, Reshuffle, read, RunInference, score, write a part
             per unit, manifest).
Prints completions scored per second of each and the pipeline/loop time ratio (Beam's overhead), median
of --rounds (alternating which goes first). On a GPU the model is a random Qwen2.5-VL of --hidden size.

    .venv/bin/python bench/label.py [--samples 32] [--group-size 8] [--max-new-tokens 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import labels  # noqa: E402
from pipelines.parquet import write_rows  # noqa: E402
from rewards.group_stats import group_stats, score_completions  # noqa: E402
from train.label import handler  # noqa: E402
from train.label.inputs import plan, read_unit  # noqa: E402
from train.label.job import run_label  # noqa: E402
from train.label.settings import LabelConfig, LabelSettings  # noqa: E402
from train.config import ModelConfig, RewardConfig, RolloutConfig  # noqa: E402
from train.synthetic_training_shards import toy_row, write_shard  # noqa: E402
from train.tiny_model import save_tiny_model  # noqa: E402


def loop(data: str, out: str, s: LabelSettings) -> int:
    """The same work without Beam; returns completions scored."""
    from train.inputs import encode_example

    loaded = handler.load(s)
    rows, done = [], 0
    for unit in plan(data, s.think).units:
        prompts = [encode_example(loaded.processor, ex) for ex in read_unit(unit) if not isinstance(ex, tuple)]
        for at in range(0, len(prompts), s.batch_size):
            batch = prompts[at:at + s.batch_size]
            for p, c in zip(batch, handler.sample(loaded, batch, s.seed)):
                ex = p.example
                scored = score_completions(ex.task, c.texts, ex.truth, s.profile, s.weights.get(ex.task))
                rows.append({"sample_id": ex.sample_id, "task": ex.task, "model": s.model_fingerprint, "profile": s.profile,
                             "group_size": s.group_size, "seed": s.seed,
                             **group_stats(ex.task, scored, c.tokens, c.truncated)})
                done += len(c.texts)
    write_rows(str(Path(out) / "labels.parquet"), sorted(rows, key=lambda r: r["sample_id"]), labels.label_schema())
    return done


def pipeline(data: str, out: str, s: LabelSettings) -> int:
    result = run_label(data, str(Path(out) / "labels"), s, ["--direct_num_workers=1"])
    return result.manifest["samples"]["labelled"] * s.group_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rows-per-group", type=int, default=8, help="shard row group size: the unit of work")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vrft-bench-label-"))
    try:
        model = save_tiny_model(work / "model", seed=0)
        (work / "shards").mkdir()
        write_shard(work / "shards" / "part-00000.parquet", [toy_row(i) for i in range(args.samples)], args.rows_per_group)
        cfg = LabelConfig(ModelConfig(path=str(model)), RolloutConfig(group_size=args.group_size, top_k=50,
                          max_new_tokens=args.max_new_tokens), RewardConfig(profile="default"))
        s = LabelSettings.of(cfg, "bench", seed=0, batch_size=args.batch_size)
        times: dict[str, list[float]] = {"loop": [], "pipeline": []}
        counts: dict[str, int] = {}
        for r in range(args.rounds):
            for name in (("loop", "pipeline") if r % 2 == 0 else ("pipeline", "loop")):
                out = tempfile.mkdtemp(prefix=f"vrft-bench-{name}-", dir=work)
                start = time.perf_counter()
                counts[name] = (loop if name == "loop" else pipeline)(str(work / "shards"), out, s)
                times[name].append(time.perf_counter() - start)
        assert counts["loop"] == counts["pipeline"] == args.samples * args.group_size, counts
        import torch

        where = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
        print(f"tiny model on {where}: {args.samples} samples x G {args.group_size}, {args.max_new_tokens} new tokens, "
              f"batches of {args.batch_size}, units of {args.rows_per_group} rows, median of {args.rounds} rounds")
        for name, ts in times.items():
            t = statistics.median(ts)
            print(f"  {name:9s} {t:7.2f} s  {counts[name] / t:8.1f} completions/s")
        ratio = statistics.median(times["pipeline"]) / statistics.median(times["loop"])
        print(f"  pipeline / loop time: {ratio:.2f} (target <= 1.2)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
