"""Ingest benchmark: the video stage against one ffmpeg process doing the same work, and what
ingesting at scale on Dataflow would cost.

For every real video: `process_video` (probe, plan, decode in a warm worker, verify, resize,
JPEG) against one `ffmpeg` process that decodes, keeps 2 fps, resizes to the same frame size and
writes JPEG, on the same file in the same run. Rounds alternate which goes first; per-video
times are medians. Prints per-video times and ratios and the overall ratio (target <= 1.5).

Then the cost projection: the CPU-seconds (user + system, of this process, its decoder worker and the
ffprobe it runs) the video stage spends per second of video, measured over all real videos (median of
the rounds; the worker's start-up, measured apart, is left out), and from it the vCPU-hours, wall time
and cost of ingesting `--video-hours` of video on `--workers` Dataflow workers, at the prices given as
flags (defaults: Dataflow's listed batch prices, see PRICES). It assumes the decoders keep every
vCPU busy and leaves out reading annotations, writing Parquet, shuffles and worker start-up.

    .venv/bin/python bench/ingest.py [--rounds 3] [--video-hours 1000] [--workers 10] [--vcpu-hour 0.056] ...
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, real_data_dir  # noqa: E402

import ffmpeg  # noqa: E402

from pipelines.video import FramePolicy, VideoError, process_video  # noqa: E402
from pipelines.video import decord_job  # noqa: E402
from pipelines.video.worker import WorkerPool, default_pool  # noqa: E402

# Dataflow batch worker prices in us-central1 (Iowa), USD per hour, as published at
# https://cloud.google.com/dataflow/pricing in its 2024 listing (vCPU, memory GB, standard persistent
# disk GB). This machine cannot reach the page: check them there and pass current ones with the flags.
PRICES = {"vcpu_hour": 0.056, "gb_hour": 0.003557, "pd_gb_hour": 0.000054}


def real_videos(real: Path) -> list[Path]:
    files = sorted(p for p in (real / "videos").rglob("*") if p.is_file())
    return files + sorted((real / "video_r1_style" / "videos").glob("*.mp4"))


def ffmpeg_baseline(path: Path, width: int, height: int, policy: FramePolicy) -> int:
    """One ffmpeg process: decode, fps filter, bicubic resize, JPEG out. Returns the frame count."""
    cmd = (
        ffmpeg.input(str(path))
        .video.filter("fps", fps=policy.target_fps)
        .filter("scale", width, height, flags="bicubic")
        .output("pipe:", format="image2pipe", vcodec="mjpeg", **{"q:v": 2})
        .global_args("-nostdin", "-v", "error")
        .compile()
    )
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return out.count(b"\xff\xd9")  # JPEG end markers


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children that have exited."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cpu_per_video_second(videos: list[Path], policy: FramePolicy) -> tuple[float, float]:
    """(CPU-seconds, video-seconds) of one pass of the video stage over `videos`, on a worker of its
    own that is closed at the end (so its CPU time is counted), less the worker's start-up."""
    pool = WorkerPool(size=1)
    start = cpu_seconds()
    pool.call(decord_job.ready)
    pool.close()
    startup = cpu_seconds() - start
    pool = WorkerPool(size=1)
    start, seconds = cpu_seconds(), 0.0
    for v in videos:
        try:
            seconds += process_video(v, policy, pool=pool)["duration"]
        except VideoError:
            pass  # a rejected video's work counts; it adds no video-seconds
    pool.close()
    return cpu_seconds() - start - startup, seconds


@dataclass(frozen=True)
class Projection:
    vcpu_hours: float
    wall_hours: float
    cost_vcpu: float
    cost_memory: float
    cost_disk: float

    @property
    def cost(self) -> float:
        return self.cost_vcpu + self.cost_memory + self.cost_disk


def project(cpu_per_video_s: float, video_hours: float, workers: int, vcpus: int, memory_gb: float, disk_gb: float,
            vcpu_hour: float, gb_hour: float, pd_gb_hour: float) -> Projection:
    """vCPU-hours = video-hours x CPU-s per video-s; the workers run until those are done, all vCPUs busy,
    and are billed for their vCPUs, memory and disk over that time."""
    vcpu_hours = video_hours * cpu_per_video_s
    wall = vcpu_hours / (workers * vcpus)
    return Projection(vcpu_hours, wall, vcpu_hours * vcpu_hour, workers * wall * memory_gb * gb_hour,
                      workers * wall * disk_gb * pd_gb_hour)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--video-hours", type=float, default=1000.0,
                        help="video to ingest in the projection (default 1000 h)")
    parser.add_argument("--workers", type=int, default=10, help="Dataflow workers (default 10)")
    parser.add_argument("--worker-vcpus", type=int, default=4, help="vCPUs per worker (default 4: n1-standard-4)")
    parser.add_argument("--worker-memory-gb", type=float, default=15.0,
                        help="memory per worker (default 15 GB: n1-standard-4)")
    parser.add_argument("--worker-disk-gb", type=float, default=25.0, help="persistent disk per worker (default 25 GB)")
    parser.add_argument("--vcpu-hour", type=float, default=PRICES["vcpu_hour"],
                        help=f"USD per vCPU-hour (default {PRICES['vcpu_hour']}: Dataflow batch, us-central1)")
    parser.add_argument("--gb-hour", type=float, default=PRICES["gb_hour"],
                        help=f"USD per GB-hour of memory (default {PRICES['gb_hour']}: Dataflow batch, us-central1)")
    parser.add_argument("--pd-gb-hour", type=float, default=PRICES["pd_gb_hour"],
                        help=f"USD per GB-hour of standard persistent disk (default {PRICES['pd_gb_hour']})")
    args = parser.parse_args()
    real = real_data_dir()
    if not (real / "README.md").is_file():
        sys.exit(f"real data folder not found at {real} (set VRFT_REAL_DATA)")
    policy = FramePolicy()
    start_s, _ = timed(default_pool().call, decord_job.ready)
    print(f"worker start (once per process, not counted below): {start_s:.2f} s")

    videos = real_videos(real)
    ours: dict[Path, list[float]] = {v: [] for v in videos}
    base: dict[Path, list[float]] = {v: [] for v in videos}
    rows: dict[Path, dict | VideoError] = {}
    counts: dict[Path, int] = {}
    for r in range(args.rounds):
        for v in videos:
            def run_ours() -> None:
                try:
                    t, rows[v] = timed(process_video, v, policy)
                except VideoError as e:
                    t, rows[v] = 0.0, e
                ours[v].append(t)

            def run_base() -> None:
                row = rows.get(v)
                if isinstance(row, dict):
                    t, counts[v] = timed(ffmpeg_baseline, v, row["frame_width"], row["frame_height"], policy)
                    base[v].append(t)

            if r % 2 == 0 or v not in rows:
                run_ours()
                run_base()
            else:
                run_base()
                run_ours()

    print(f"\n{'video':48} {'frames':>6} {'size':>9} {'ours s':>7} {'ffmpeg s':>8} {'ratio':>6}")
    total_ours = total_base = 0.0
    ratios = []
    for v in videos:
        name = str(v.relative_to(real))
        row = rows[v]
        if isinstance(row, VideoError):
            print(f"{name:48} rejected: {row.reason}")
            continue
        o, b = statistics.median(ours[v]), statistics.median(base[v])
        total_ours, total_base = total_ours + o, total_base + b
        ratios.append(o / b)
        size = f"{row['frame_width']}x{row['frame_height']}"
        print(f"{name:48} {len(row['frames']):>3}/{counts[v]:<3}{size:>9} {o:7.3f} {b:8.3f} {o / b:6.2f}")
    print(f"\noverall (sum of medians): ours {total_ours:.2f} s, ffmpeg {total_base:.2f} s, ratio {total_ours / total_base:.2f}")
    print(f"per-video ratio: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}  (target <= 1.5)")

    passes = [cpu_per_video_second(videos, policy) for _ in range(args.rounds)]
    cpu_s, video_s = sorted(passes, key=lambda p: p[0] / p[1])[len(passes) // 2]
    rate = cpu_s / video_s
    p = project(rate, args.video_hours, args.workers, args.worker_vcpus, args.worker_memory_gb, args.worker_disk_gb,
                args.vcpu_hour, args.gb_hour, args.pd_gb_hour)
    print(f"\ncost projection ({datetime.date.today()}, {machine()})")
    print(f"video stage: {cpu_s:.1f} CPU-s for {video_s:.1f} video-s = {rate:.4f} CPU-s per video-second "
          f"(median of {args.rounds} passes over {len(videos)} videos)")
    print(f"{args.video_hours:,.0f} video-hours: {p.vcpu_hours:,.1f} vCPU-hours; on {args.workers} workers x "
          f"{args.worker_vcpus} vCPU ({args.worker_memory_gb:g} GB memory, {args.worker_disk_gb:g} GB disk): "
          f"wall time {p.wall_hours:,.2f} h")
    print(f"cost: ${p.cost:,.2f} = vCPU ${p.cost_vcpu:,.2f} (${args.vcpu_hour}/vCPU-h) + memory ${p.cost_memory:,.2f} "
          f"(${args.gb_hour}/GB-h) + disk ${p.cost_disk:,.2f} (${args.pd_gb_hour}/GB-h)")


if __name__ == "__main__":
    main()
