"""Label-only ingestion speed on Charades-STA train (12,408 queries), against an in-process baseline.

Three ways to the same samples, measured in the same run (median of --rounds):
  baseline   the adapter + normalization as a plain Python loop, then one Parquet write (no Beam);
  pipeline   `vrft ingest charades-sta --no-frames` through Beam's FnApiRunner (read, draft,
             normalize, shard, sort, write samples and rejects, manifest), start to finish.
Prints records/s of each and the pipeline/baseline time ratio (the cost of running on Beam).

    .venv/bin/python bench/ingest_labels.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, real_data_dir  # noqa: E402

import schemas  # noqa: E402
from pipelines.ingest import IngestConfig, run_ingest  # noqa: E402
from pipelines.parquet import write_rows  # noqa: E402
from pipelines.normalize import RepairPolicy, normalize  # noqa: E402
from pipelines.sources import Rejected, SourceOptions, get_adapter  # noqa: E402



def baseline(source: SourceOptions, out: str) -> int:
    adapter, policy, rows, n = get_adapter("charades-sta"), RepairPolicy(), [], 0
    for rec in adapter.read(source):
        n += 1
        try:
            rows.append(normalize(adapter.draft(rec), rec, policy))
        except Rejected:
            pass
    rows.sort(key=lambda r: r["sample_id"])
    write_rows(os.path.join(out, "samples.parquet"), rows, schemas.samples_schema())
    return n


def pipeline(source: SourceOptions, out: str) -> int:
    result = run_ingest(IngestConfig("charades-sta", source, out, frames=False), ["--direct_num_workers=1"])
    return result.manifest["counts"]["input"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    real = real_data_dir() / "charades_sta"
    source = SourceOptions((str(real / "charades_sta_train.txt"),), durations=str(real / "charades.json"))
    times: dict[str, list[float]] = {"baseline": [], "pipeline": []}
    counts: dict[str, int] = {}
    for r in range(args.rounds):
        order = ("baseline", "pipeline") if r % 2 == 0 else ("pipeline", "baseline")
        for name in order:
            out = tempfile.mkdtemp(prefix=f"vrft-bench-{name}-")
            try:
                start = time.perf_counter()
                counts[name] = (baseline if name == "baseline" else pipeline)(source, out)
                times[name].append(time.perf_counter() - start)
            finally:
                shutil.rmtree(out, ignore_errors=True)
    assert counts["baseline"] == counts["pipeline"] == 12408, counts
    print(f"Charades-STA train, labels only, {counts['pipeline']} records, median of {args.rounds} rounds")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"  {name:9s} {t:6.2f} s  {counts[name] / t:8.0f} records/s")
    ratio = statistics.median(times["pipeline"]) / statistics.median(times["baseline"])
    print(f"  pipeline / baseline time: {ratio:.2f}")


if __name__ == "__main__":
    main()
