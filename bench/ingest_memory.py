"""Peak memory of a labels-only ingestion against the size of its annotation file (issue 10 #5).

Writes a junk Charades-STA file of --mb megabytes (printable lines of 1..400 characters, every one a
`line_malformed` reject), runs `vrft ingest charades-sta --no-frames` on it in a subprocess and, as the
baseline in the same run, on a one-line file (the cost of Python, Beam and vrft themselves). Prints each
peak RSS, the peak over the file's size and the growth over the baseline per MB of input.

    .venv/bin/python bench/ingest_memory.py [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, real_data_dir  # noqa: E402


def junk(path: Path, size: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    alphabet = bytes(range(32, 127))
    with open(path, "wb") as f:
        written = 0
        while written < size:
            line = bytes(rng.choices(alphabet, k=rng.randint(1, 400))) + b"\n"
            f.write(line)
            written += len(line)


def peak_rss(annotations: Path, out: Path, durations: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one `vrft ingest` subprocess (its own rusage; ru_maxrss is KiB on Linux)."""
    cmd = [sys.executable, "-m", "vrft", "ingest", "charades-sta", "--annotations", str(annotations), "--durations",
           str(durations), "--out", str(out), "--no-frames", "--no-validate", "--allow-large"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, usage = os.wait4(proc.pid, 0)
    if proc.stderr.read().count(b"Traceback"):
        sys.exit("the ingestion failed")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    args = parser.parse_args()
    durations = real_data_dir() / "charades_sta" / "charades.json"
    if not durations.is_file():
        sys.exit(f"real data folder not found at {real_data_dir()} (set VRFT_REAL_DATA)")
    with tempfile.TemporaryDirectory(prefix="vrft-bench-mem-") as tmp:
        tmp_path = Path(tmp)
        big, one = tmp_path / "charades_sta_junk.txt", tmp_path / "charades_sta_one.txt"
        junk(big, int(args.mb * 2**20))
        one.write_text("93REJ 3.4 10.5##person drinking from a cup.\n")
        base, base_s = peak_rss(one, tmp_path / "one", durations)
        peak, peak_s = peak_rss(big, tmp_path / "big", durations)
    size = args.mb
    print(f"labels-only ingestion of {size:.0f} MB of junk lines (every line a reject), peak RSS of the process")
    print(f"  one-line file (baseline) {base:8.0f} MB  {base_s:6.1f} s")
    print(f"  {size:.0f} MB file            {peak:8.0f} MB  {peak_s:6.1f} s")
    print(f"  peak / file size: {peak / size:.2f}x; growth over the baseline: {(peak - base) / size:.2f} MB per MB of input")


if __name__ == "__main__":
    main()
