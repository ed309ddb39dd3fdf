"""Bench: one GRPO step on the tiny model, phase by phase; and the data phase read from training shards
against the same examples decoded from the video on the fly, the Qwen reference's way, in the same run.

    .venv/bin/python bench/train_step.py [--video PATH] [--examples 8] [--steps 6]

The video is --video, else the real Charades clip (found like tests/conftest.py finds the real data),
else a 30 s clip made with ffmpeg. The two data paths, per example, same examples, same process:
  vrft       Parquet row -> decode the stored JPEGs (uint8 frames) + the prompt tokens, grid and time per
             patch (train/inputs.py encode_example): no pixel math on the CPU.
  reference  decord decode of the planned frames + bicubic resize, then the model's processor on them
             (chat template, rescale + normalize + patchify in float on the CPU, tokens), told the fps.
             Its `do_resize=False` spares it a second resize the reference pays: the ratio is conservative.
The pixel math did not vanish, it moved: the trainer cuts the step's uint8 frames into the processor's
patch layout and rescales + normalizes them on the model's device (a GPU in real training: one transfer
of uint8 and two cheap ops) as its own phase, `normalize`. The table prints what that costs on this
machine's CPU for the same examples, and the ratio if it were paid on the CPU too (CPU-only training).
The step is timed on toy shards (small frames): the tiny model is for timing the loop, not the vision.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, real_data_dir  # noqa: E402


def reference_plan(total_frames: int, video_fps: float, height: int, width: int) -> tuple[list[int], int, int]:
    """Frame indices and the (height, width) the reference would feed: 2 fps, even count, pixel budget
    (the same rule ingestion plans with, pipelines.video.plan)."""
    from pipelines.video.plan import plan_frames

    plan = plan_frames(total_frames / video_fps, video_fps, width, height)
    return [min(total_frames - 1, round(t * video_fps)) for t in plan.timestamps], plan.height, plan.width


def decode_reference(path: str, indices: list[int], h: int, w: int):
    """Decode the planned frames and resize them as the reference does: [T, H, W, 3] uint8."""
    import decord
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    vr = decord.VideoReader(path, num_threads=1)
    frames = torch.from_numpy(vr.get_batch(indices).asnumpy()).permute(0, 3, 1, 2)     # [T, 3, H0, W0]
    frames = resize(frames, [h, w], interpolation=InterpolationMode.BICUBIC, antialias=True)
    return frames.permute(0, 2, 3, 1).contiguous().numpy()


def find_video(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    real = real_data_dir() / "videos" / "univtg" / "charades.mp4"
    if real.is_file():
        return real
    out = tmp / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=15:duration=30",
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def write_video_shard(path: Path, video: Path, count: int) -> tuple[dict, Path]:
    """Decode the video once (as ingestion does) and write `count` training rows that share its frames."""
    import decord
    from PIL import Image

    import schemas
    from train.synthetic_training_shards import QUERIES, write_shard

    vr = decord.VideoReader(str(video), num_threads=1)
    total, fps = len(vr), vr.get_avg_fps()
    height, width = vr[0].shape[:2]
    indices, h, w = reference_plan(total, fps, height, width)
    jpegs = []
    for frame in decode_reference(str(video), indices, h, w):
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=90)
        jpegs.append(buf.getvalue())
    duration = total / fps
    timestamps = [i / fps for i in indices]
    sampled_fps = len(indices) / duration
    entry = schemas.video_entry(schemas.frame_columns(jpegs, timestamps, sampled_fps, w, h))
    rows = []
    for i in range(count):
        sample = {"sample_id": f"bench-{i}", "task": "temporal_grounding", "dataset": "bench", "split": "train",
                  "video_key": video.stem, "query": QUERIES[i % len(QUERIES)], "duration": duration,
                  "span": {"start": 1.0, "end": min(5.0, duration)}}
        rows.append(schemas.training_row(sample, entry, index=i))
    write_shard(path, rows)
    plan = {"frames": len(indices), "height": h, "width": w, "fps": sampled_fps, "indices": indices,
            "kb_per_frame": sum(map(len, jpegs)) / len(jpegs) / 1024}
    return plan, path


def time_data_paths(model_dir: Path, shard: Path, video: Path, plan: dict) -> dict[str, dict[str, float]]:
    """Median seconds per example of each part of the two paths (and of normalizing the vrft patches)."""
    import torch

    from train.data import decode_row, iter_rows
    from train.inputs import device_pixels, encode_example, processor_inputs
    from train.model import load_processor

    proc = load_processor(str(model_dir))
    warm = decode_row(*next(iter_rows([shard])))
    encode_example(proc, warm), processor_inputs(proc, warm)  # warm-up (imports, caches)
    parts: dict[str, dict[str, list[float]]] = {
        "vrft": {"frames": [], "encode": [], "normalize (CPU)": []}, "reference": {"frames": [], "encode": []},
    }
    clock = time.perf_counter
    rows = iter_rows([shard])
    while True:
        t0 = clock()
        item = next(rows, None)  # Parquet read + JPEG decode
        if item is None:
            break
        ex = decode_row(*item)
        t1 = clock()
        fast = encode_example(proc, ex)
        t2 = clock()
        device_pixels([fast], torch.device("cpu"))  # what the step's 'normalize' phase does, on this CPU
        t3 = clock()
        parts["vrft"]["frames"].append(t1 - t0)
        parts["vrft"]["encode"].append(t2 - t1)
        parts["vrft"]["normalize (CPU)"].append(t3 - t2)

        t0 = clock()  # the same example, frames decoded from the video as the reference does
        ex.frames = decode_reference(str(video), plan["indices"], plan["height"], plan["width"])
        t1 = clock()
        processor_inputs(proc, ex)
        t2 = clock()
        parts["reference"]["frames"].append(t1 - t0)
        parts["reference"]["encode"].append(t2 - t1)
    return {path: {k: statistics.median(v) for k, v in times.items()} for path, times in parts.items()}


def print_data_paths(data: dict[str, dict[str, float]], examples: int) -> None:
    v, r = data["vrft"], data["reference"]
    print(f"data phase per example, median of {examples} examples, one worker (ms):")
    print(f"  {'':<11}{'frames':>10}{'encode':>10}{'data phase':>12}   frames: JPEG decode | video decode + resize;"
          f" encode: tokens | processor")
    vrft, ref = v["frames"] + v["encode"], r["frames"] + r["encode"]
    print(f"  {'vrft':<11}{v['frames'] * 1e3:10.1f}{v['encode'] * 1e3:10.1f}{vrft * 1e3:12.1f}")
    print(f"  {'reference':<11}{r['frames'] * 1e3:10.1f}{r['encode'] * 1e3:10.1f}{ref * 1e3:12.1f}")
    norm = v["normalize (CPU)"]
    print(f"  data phase speed-up: {ref / vrft:.1f}x (target >= 10x). The pixel math (patch layout, rescale,"
          f" normalize) moved to the step's 'normalize' phase on the model's device; on this CPU it costs"
          f" {norm * 1e3:.1f} ms per example, and paid there the speed-up would be {ref / (vrft + norm):.1f}x."
          f" In the loop the prefetch thread does the data phase ahead.")


def time_steps(model_dir: Path, tmp: Path, steps: int) -> dict[str, list[float]]:
    from train.config import load_config
    from train.synthetic_training_shards import write_toy_shards
    from train.trainer import GRPOTrainer

    write_toy_shards(tmp / "toy", rows=2 * (steps + 1), files=1)
    cfg = load_config(ROOT / "train" / "configs" / "tiny_cpu.yaml", [
        f"model.path={model_dir}", f"data.shards={tmp / 'toy'}", f"run.out={tmp / 'run'}", f"run.steps={steps + 1}",
        "data.prompts_per_step=2", "data.epochs=1", "rollout.group_size=4", "rollout.max_new_tokens=8",
        "optim.micro_batch_size=4", "loss.beta=0.04",
        "run.progress=false", "run.tensorboard=false", "run.sample_every=0", "run.save_every=0",
    ])

    def score(task, completions, truths, profile="default", weights=None):  # cheap and task-free
        total = [len(c) / 100 for c in completions]
        return SimpleNamespace(total=total, components={"length": total})

    trainer = GRPOTrainer(cfg, score_fn=score)
    history = trainer.train()[1:]  # drop the warm-up step
    keys = [k for k in history[0] if k.startswith("time/")] + ["step_seconds", "tokens_per_second"]
    return {k: [h.get(k, 0.0) for h in history] for k in keys}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video")
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args()

    from train.tiny_model import save_tiny_model

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model_dir = save_tiny_model(tmp / "tiny")
        video = find_video(args.video, tmp)
        plan, shard = write_video_shard(tmp / "video-shard" / "part-00000.parquet", video, args.examples)
        print(f"video {video.name}: {plan['frames']} frames of {plan['width']}x{plan['height']} at "
              f"{plan['fps']:.3f} fps, {plan['kb_per_frame']:.1f} KB per stored JPEG")
        data = time_data_paths(model_dir, shard, video, plan)
        print_data_paths(data, args.examples)

        times = time_steps(model_dir, tmp, args.steps)
        print(f"GRPO step on the tiny model (toy shards: 2 prompts x G=4, 8 new tokens; median of {args.steps} steps;"
              " a shared CPU makes single steps noisy):")
        for key, values in times.items():
            mean = statistics.median(values)
            unit = "tokens/s" if key == "tokens_per_second" else "ms"
            shown = mean if unit == "tokens/s" else mean * 1000
            print(f"  {key.removeprefix('time/'):<18} {shown:10.1f} {unit}")
        print("  (normalize = the step's uint8 frames to the model's device, patchified and normalized there; the"
              " device is this CPU here)")
        if not math.isfinite(times["step_seconds"][0]):
            raise SystemExit("bench failed")


if __name__ == "__main__":
    main()
