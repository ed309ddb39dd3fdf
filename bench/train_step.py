"""Bench: one GRPO step on the tiny model, phase by phase; and the data phase read from training shards
against the same examples decoded from the video on the fly, the Qwen reference's way, in the same run.

    .venv/bin/python bench/train_step.py [--video PATH] [--examples 8] [--steps 4]

The video is --video, else the real Charades clip (found like tests/conftest.py finds the real data),
else a 30 s clip made with ffmpeg. Both data paths end in the same processor call; they differ in where
the frames come from: JPEGs stored once in a shard (vrft) or decord + resize per example (reference).
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
    from train.toy import QUERIES, write_shard

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
    rows = []
    for i in range(count):
        sample = {"sample_id": f"bench-{i}", "task": "temporal_grounding", "dataset": "bench", "split": "train",
                  "video_key": video.stem, "query": QUERIES[i % len(QUERIES)], "duration": duration,
                  "span": {"start": 1.0, "end": min(5.0, duration)}}
        rows.append(schemas.training_row(sample, jpegs, timestamps, sampled_fps, index=i))
    write_shard(path, rows)
    plan = {"frames": len(indices), "height": h, "width": w, "fps": sampled_fps, "indices": indices,
            "kb_per_frame": sum(map(len, jpegs)) / len(jpegs) / 1024}
    return plan, path


def time_data_paths(model_dir: Path, shard: Path, video: Path, plan: dict) -> dict[str, dict[str, float]]:
    """Seconds per example, split into getting the frames and the (shared) processor call."""
    from train.data import decode_row, iter_rows
    from train.inputs import encode_example
    from train.model import load_processor

    proc = load_processor(str(model_dir))
    encode_example(proc, decode_row(*next(iter_rows([shard]))))  # warm-up (imports, caches)
    out = {"vrft shards": {"frames": 0.0, "processor": 0.0}, "reference style": {"frames": 0.0, "processor": 0.0}}
    count = 0
    start = time.perf_counter()
    for index, row in iter_rows([shard]):  # Parquet read + JPEG decode
        ex = decode_row(index, row)
        mid = time.perf_counter()
        out["vrft shards"]["frames"] += mid - start
        encode_example(proc, ex)
        start = time.perf_counter()
        out["vrft shards"]["processor"] += start - mid

        t0 = time.perf_counter()  # the same example, frames decoded from the video as the reference does
        ex.frames = decode_reference(str(video), plan["indices"], plan["height"], plan["width"])
        t1 = time.perf_counter()
        encode_example(proc, ex)
        t2 = time.perf_counter()
        out["reference style"]["frames"] += t1 - t0
        out["reference style"]["processor"] += t2 - t1
        count += 1
        start = time.perf_counter()
    return {path: {k: v / count for k, v in parts.items()} for path, parts in out.items()}


def time_steps(model_dir: Path, tmp: Path, steps: int) -> dict[str, list[float]]:
    from train.config import load_config
    from train.toy import write_toy_shards
    from train.trainer import GRPOTrainer

    write_toy_shards(tmp / "toy", rows=2 * (steps + 1), files=1)
    cfg = load_config(ROOT / "train" / "configs" / "tiny_cpu.yaml", [
        f"model.path={model_dir}", f"data.shards={tmp / 'toy'}", f"run.out={tmp / 'run'}", f"run.steps={steps + 1}",
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
        print(f"data phase per example, {args.examples} examples, one thread (ms):")
        print(f"  {'':<18}{'frames':>10}{'processor':>12}{'inputs':>10}")
        for path, parts in data.items():
            print(f"  {path:<18}{parts['frames'] * 1e3:10.1f}{parts['processor'] * 1e3:12.1f}"
                  f"{(parts['frames'] + parts['processor']) * 1e3:10.1f}")
        v, r = data["vrft shards"], data["reference style"]
        print(f"  speed-up: frames {r['frames'] / v['frames']:.1f}x (target >= 10x); whole inputs "
              f"{(r['frames'] + r['processor']) / (v['frames'] + v['processor']):.1f}x. In the loop the prefetch "
              f"thread does both ahead of time: see 'data' below.")

        times = time_steps(model_dir, tmp, args.steps)
        print(f"GRPO step on the tiny model (toy shards: 2 prompts x G=4, 8 new tokens; median of {args.steps} steps;"
              " a shared CPU makes single steps noisy):")
        for key, values in times.items():
            mean = statistics.median(values)
            unit = "tokens/s" if key == "tokens_per_second" else "ms"
            shown = mean if unit == "tokens/s" else mean * 1000
            print(f"  {key.removeprefix('time/'):<18} {shown:10.1f} {unit}")
        if not math.isfinite(times["step_seconds"][0]):
            raise SystemExit("bench failed")


if __name__ == "__main__":
    main()
