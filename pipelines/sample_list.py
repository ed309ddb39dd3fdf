"""Which samples a folder holds, one line each: id, task, video and query, so a user can find an id to show.

Reads only those columns: from `samples/` of an ingestion folder, or from training shards (whose query
sits inside the rendered prompt; it is read back with the task's own prompt intro as the pattern).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

from schemas import get_task
from schemas.prompts import VIDEO_PLACEHOLDER


@dataclass(frozen=True)
class SampleEntry:
    sample_id: str
    task: str
    video_key: str
    query: str


@lru_cache(maxsize=None)
def _intro_pattern(task: str) -> re.Pattern[str]:
    """The task's prompt intro as a pattern: its text literally, the first {query} captured, later ones
    equal to it, every other field anything."""
    out, seen = [], False
    for literal, field, _, _ in string.Formatter().parse(get_task(task).intro):
        out.append(re.escape(literal))
        if field == "query":
            out.append("(?P=query)" if seen else "(?P<query>.*?)")
            seen = True
        elif field is not None:
            out.append(".*?")
    return re.compile("".join(out) + "\n", re.DOTALL)


def query_from_prompt(task: str, prompt: str) -> str:
    """The query a training row's prompt was rendered with ('' when the prompt does not fit the intro)."""
    text = prompt.removeprefix(VIDEO_PLACEHOLDER).lstrip("\n")
    m = _intro_pattern(task).match(text)
    return m.group("query") if m else ""


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def list_samples(folder: Path) -> Iterator[SampleEntry]:
    """Every sample of an ingestion folder or a folder of training shards, in stored order (files by name)."""
    folder = Path(folder)
    if (folder / "samples").is_dir():
        for f in _files(folder / "samples"):
            for r in pq.read_table(f, columns=["sample_id", "task", "video_key", "query"]).to_pylist():
                yield SampleEntry(r["sample_id"], r["task"], r["video_key"] or "", r["query"] or "")
        return
    files = _files(folder)
    if not files:
        raise FileNotFoundError(f"no samples/ and no Parquet files in {folder}")
    for f in files:
        for r in pq.read_table(f, columns=["sample_id", "task", "video_key", "prompt"]).to_pylist():
            prompt = r["prompt"][-1]["content"] if r["prompt"] else ""
            yield SampleEntry(r["sample_id"], r["task"], r["video_key"] or "", query_from_prompt(r["task"], prompt))
