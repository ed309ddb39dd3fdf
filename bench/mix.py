"""`vrft mix` at scale: time and peak memory of the streaming join against a naive pandas join.

For each size (default 25k, 50k, 100k synthetic samples, 4 samples per video, 4 JPEG frames of
56x56 each) it builds an ingestion folder, then runs in fresh subprocesses (so each peak RSS is
that run's own): the streaming mix (`pipelines.mix.run_mix`, one source, shuffled, 512 rows per
shard) and the naive way (pandas reads samples and videos whole, merges, shuffles, renders rows,
writes one file). Prints seconds and peak RSS for both, their ratios, and how the streaming peak
changes with size (it should not grow with the data; the labels of the chosen rows are the only
thing held for the whole run).

    .venv/bin/python bench/mix.py [--sizes 25000,50000,100000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

TASKS = ("temporal_grounding", "video_qa")


def peak_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the parent through exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def build(folder: Path, n: int) -> None:
    from pipelines.synthetic_ingested import synthetic_dataset

    if not (folder / "manifest.json").exists():
        synthetic_dataset(str(folder), n, n // 4, TASKS, n_frames=4, size=(56, 56))


def stream(data: str, out: str) -> dict:
    from pipelines.mix import parse_recipe, run_mix

    base = peak_mb()
    t0 = time.perf_counter()
    m = run_mix(parse_recipe({"sources": [{"path": data}], "seed": 0, "rows_per_shard": 512}, "/"), out).manifest
    return {"seconds": time.perf_counter() - t0, "rows": m["rows"], "base_mb": base}


def naive(data: str, out: str) -> dict:
    import glob

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import schemas

    def plain(v):
        return v.tolist() if isinstance(v, np.ndarray) else v

    base = peak_mb()
    t0 = time.perf_counter()
    samples = pd.concat([pd.read_parquet(f) for f in sorted(glob.glob(f"{data}/samples/*.parquet"))])
    videos = pd.concat([pd.read_parquet(f) for f in sorted(glob.glob(f"{data}/videos/*.parquet"))])
    columns = ["video_key", "frames", "timestamps", "sampled_fps", "frame_width", "frame_height", "frame_crc32"]
    joined = samples.merge(videos[columns], on="video_key")
    joined = joined.sample(frac=1.0, random_state=0)
    rows = []
    for i, r in enumerate(joined.to_dict("records")):
        r = {k: plain(v) for k, v in r.items()}
        rows.append(schemas.training_row(r, schemas.video_entry(r), think=True, index=i))
    os.makedirs(out, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schemas.training_schema()), f"{out}/part-00000.parquet")
    return {"seconds": time.perf_counter() - t0, "rows": len(rows), "base_mb": base}


def worker(kind: str, data: str, out: str) -> None:
    if kind == "build":
        return build(Path(data), int(out))
    result = (stream if kind == "stream" else naive)(data, out)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


def subprocess_run(kind: str, data: Path, out: str) -> str:
    res = subprocess.run([sys.executable, __file__, "--worker", kind, "--data", str(data), "--out", out],
                         capture_output=True, text=True, cwd=ROOT)
    if res.returncode:
        raise SystemExit(f"{kind} worker failed:\n{res.stderr[-3000:]}")
    return res.stdout


def measure(kind: str, data: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    stdout = subprocess_run(kind, data, str(out))
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="25000,50000,100000")
    p.add_argument("--work", help="folder for the synthetic data (kept; default: a temporary folder)")
    p.add_argument("--worker", choices=("build", "stream", "naive"), help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.data, args.out)
    work = Path(args.work or tempfile.mkdtemp(prefix="vrft-bench-mix-"))
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        data = work / f"n{n}"
        t0 = time.perf_counter()
        subprocess_run("build", data, str(n))   # in its own process: this one stays small
        built = time.perf_counter() - t0
        s = measure("stream", data, work / "out")
        v = measure("naive", data, work / "out")
        assert s["rows"] == v["rows"] == n
        rows.append((n, s, v))
        print(f"n={n:>7,}: data built in {built:.0f} s | streaming {s['seconds']:.1f} s, peak {s['peak_mb']:.0f} MB "
              f"(after imports {s['base_mb']:.0f}) | naive pandas {v['seconds']:.1f} s, peak {v['peak_mb']:.0f} MB "
              f"(after imports {v['base_mb']:.0f})", flush=True)
    print()
    print(f"{'samples':>9} {'stream s':>9} {'naive s':>8} {'time ratio':>10} {'stream MB':>10} {'naive MB':>9} {'mem ratio':>9}")
    for n, s, v in rows:
        print(f"{n:>9,} {s['seconds']:>9.1f} {v['seconds']:>8.1f} {s['seconds'] / v['seconds']:>10.2f} "
              f"{s['peak_mb']:>10.0f} {v['peak_mb']:>9.0f} {s['peak_mb'] / v['peak_mb']:>9.2f}")
    (n0, s0, _), (n1, s1, _) = rows[0], rows[-1]
    print(f"\nstreaming peak RSS, {n1:,} vs {n0:,} samples: {s1['peak_mb'] / s0['peak_mb']:.2f}x for {n1 / n0:.0f}x the data"
          f" (above the post-import baseline: {s0['peak_mb'] - s0['base_mb']:.0f} MB -> {s1['peak_mb'] - s1['base_mb']:.0f} MB)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
