"""Ingest benchmark: the video stage against one ffmpeg process doing the same work.

For every real video: `process_video` (probe, plan, decode in a warm worker, verify, resize,
JPEG) against one `ffmpeg` process that decodes, keeps 2 fps, resizes to the same frame size and
writes JPEG, on the same file in the same run. Rounds alternate which goes first; per-video
times are medians. Prints per-video times and ratios and the overall ratio (target <= 1.5).

    .venv/bin/python bench/ingest.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, real_data_dir  # noqa: E402

import ffmpeg  # noqa: E402

from pipelines.video import FramePolicy, VideoError, process_video  # noqa: E402
from pipelines.video import decord_job  # noqa: E402
from pipelines.video.worker import default_pool  # noqa: E402



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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
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


if __name__ == "__main__":
    main()
