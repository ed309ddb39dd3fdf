"""What an ingestion run was made from, by content: a --resume refuses inputs that changed since.

The annotation files, the durations file and the side files an adapter reads (NExT-GQA's gsub and map
files; GOT-10k's list.txt and every sequence's annotation files, not its images) are hashed (sha256,
streamed). Videos are not: they are decoded once per resume unit, and a changed one is a new video.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

from pipelines import storage
from pipelines.sources.base import Adapter, SourceOptions

GROUPED_OVER = 64    # more side files than this are kept as one digest (GOT-10k: thousands of sequences)


def _combined(paths: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p}\x1f{storage.sha256(p)}\n".encode())
    return h.hexdigest()


def input_digests(source: SourceOptions, adapter: Adapter) -> dict[str, str]:
    """{what: sha256} of every file the records are made from."""
    given = [p for p in (*source.annotations, source.durations) if p and not storage.isdir(p)]
    side = [p for p in dict.fromkeys(adapter.side_files(source)) if p not in given]
    out = {p: storage.sha256(p) for p in given}
    if len(side) > GROUPED_OVER:
        out[f"{len(side)} annotation files under {', '.join(source.annotations)}"] = _combined(side)
    else:
        out.update((p, storage.sha256(p)) for p in side)
    return out


def changed(before: dict[str, str] | None, now: dict[str, str]) -> list[str]:
    """The inputs whose content (or presence) differs."""
    before = before or {}
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
