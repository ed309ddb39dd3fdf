"""A model's identity for its predictions: a content hash of every file in its folder.

Evaluating a second model into the folder of a first must not resume the first one's predictions
(`train.predict`), so the predictions carry the fingerprint of what wrote them. The hash covers every
file's relative path, size and bytes (SHA-256, streamed), so a changed weight anywhere changes it. Hashing
a 7B checkpoint takes tens of seconds once: the folder's stat (size and mtime of each file) is kept
beside the fingerprint, and a folder whose stat is unchanged reuses it without reading the bytes again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

CHUNK = 8 << 20


def folder_stat(folder: Path) -> dict[str, list[int]]:
    """Relative path -> [size, mtime_ns] of every regular file below `folder`, sorted."""
    out = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        st = path.stat()
        out[path.relative_to(folder).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def content_hash(folder: Path, names: list[str]) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update(f"{name}\0{os.path.getsize(Path(folder) / name)}\0".encode())
        with open(Path(folder) / name, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    return h.hexdigest()


def model_fingerprint(folder: Path, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{"fingerprint": hex, "files": stat}; `known` (an earlier result) is reused when the stat matches."""
    stat = folder_stat(folder)
    if known and known.get("files") == stat and known.get("fingerprint"):
        return {"fingerprint": known["fingerprint"], "files": stat}
    return {"fingerprint": content_hash(folder, list(stat)), "files": stat}
