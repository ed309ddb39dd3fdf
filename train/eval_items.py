"""What an evaluation scores: sample ids, tasks and truths, from training-format shards or an ingestion folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from schemas import ground_truth
from train.data import shard_files


@dataclass
class EvalItem:
    sample_id: str
    task: str
    truth: dict[str, Any]


def read_items(data: Path) -> list[EvalItem]:
    """Sample ids, tasks and truths from training-format shards or from an ingestion folder (samples/)."""
    data = Path(data)
    if (data / "samples").is_dir():
        rows = pq.read_table(data / "samples").to_pylist()
        return [EvalItem(r["sample_id"], r["task"], ground_truth(r)) for r in rows]
    out = []
    for f in shard_files(str(data)):
        for r in pq.read_table(f, columns=["sample_id", "task", "reward_model"]).to_pylist():
            out.append(EvalItem(r["sample_id"], r["task"], json.loads(r["reward_model"]["ground_truth"])))
    return out
