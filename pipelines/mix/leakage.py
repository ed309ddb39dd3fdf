"""The leakage guard: no training row on a video an evaluation source holds, however the video is named.

Two keys name one video when they normalize alike (`video_identity`: case, a directory part and a known
video extension dropped: `Chaplin_moviepy` and `videos/chaplin_moviepy.mp4` are one video), or when the
media files they were decoded from have the same content (same size, then same sha256; only files that
still exist where ingestion found them are compared, and only those whose sizes meet). A leak is refused,
dropped or allowed as the recipe says.
"""

from __future__ import annotations

import os
from typing import Iterable

import polars as pl

from pipelines import storage
from pipelines.ingested import Ingested
from pipelines.mix.recipe import Recipe, RecipeError, Source
from pipelines.video.media import VIDEO_EXTENSIONS

LEAKS_SHOWN = 10


class LeakageError(RecipeError):
    """Training rows use videos that an evaluation source holds."""


def video_identity(key: str) -> str:
    """The name a video goes by whatever the dataset called it: no directory, no video extension, case folded."""
    name = str(key).replace("\\", "/").strip().rsplit("/", 1)[-1]
    stem, ext = os.path.splitext(name)
    return (stem if ext.lower() in VIDEO_EXTENSIONS else name).strip().casefold()


def _selected(src: Source, folder: str) -> pl.LazyFrame:
    frame = Ingested.open(folder).scan("samples")
    if src.tasks:
        frame = frame.filter(pl.col("task").is_in(list(src.tasks)))
    if src.splits:
        frame = frame.filter(pl.col("split").is_in(list(src.splits)))
    return frame


def media_files(folder: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    """video key -> the media file it was decoded from, for files that still exist (frames runs only)."""
    wanted = None if keys is None else set(keys)
    out: dict[str, str] = {}
    for t in Ingested(folder).batches("videos", ["video_key", "uri"], rows=100_000):
        for key, uri in zip(t.column("video_key").to_pylist(), t.column("uri").to_pylist()):
            if uri and (wanted is None or key in wanted) and _exists(uri):
                out.setdefault(key, uri)
    return out


def _exists(uri: str) -> bool:
    """A media file that is still there (a URL of a filesystem this machine cannot reach is not)."""
    try:
        return storage.isfile(uri)
    except (ValueError, ImportError, OSError):
        return False


def same_content(train: dict[str, str], held: dict[str, str]) -> dict[str, str]:
    """Training keys whose media file has the content of an evaluation key's file -> that key. Files are
    hashed only when their sizes meet."""
    by_size: dict[int, list[str]] = {}
    for key, path in held.items():
        by_size.setdefault(storage.size(path), []).append(key)
    digests: dict[str, str] = {}

    def digest(path: str) -> str:
        if path not in digests:
            digests[path] = storage.sha256(path)
        return digests[path]

    out: dict[str, str] = {}
    for key, path in train.items():
        for held_key in by_size.get(storage.size(path), []):
            if digest(path) == digest(held[held_key]):
                out[key] = held_key
                break
    return out


def evaluation_videos(recipe: Recipe) -> tuple[dict[str, str], dict[str, str]]:
    """(video identity -> the evaluation source that holds it, evaluation video key -> its media file)."""
    held: dict[str, str] = {}
    files: dict[str, str] = {}
    for src in recipe.evaluation:
        for folder in src.folders():
            keys = _selected(src, folder).select("video_key").unique().collect().to_series().to_list()
            for key in keys:
                held.setdefault(video_identity(key), src.name)
            for key, path in media_files(folder, keys).items():
                files.setdefault(key, path)
    return held, files


def leaking_keys(rows: pl.DataFrame, held: dict[str, str], held_files: dict[str, str]) -> dict[str, str]:
    """Training video keys that are evaluation videos -> the evaluation source holding them."""
    keys = rows.select("video_key").unique().to_series().to_list()
    out = {k: held[video_identity(k)] for k in keys if video_identity(k) in held}
    if held_files:
        for folder in rows.select("_folder").unique().to_series().to_list():
            mine = rows.filter(pl.col("_folder") == folder).select("video_key").unique().to_series().to_list()
            train = media_files(folder, [k for k in mine if k not in out])
            for key, held_key in same_content(train, held_files).items():
                out[key] = held[video_identity(held_key)]
    return out


def guard_leakage(rows: pl.DataFrame, recipe: Recipe, stats: list) -> tuple[pl.DataFrame, list[str]]:
    """Rows without leaks (`drop`), all rows and the leaked keys (`allow`), or a `LeakageError` (`refuse`)."""
    held, held_files = evaluation_videos(recipe)
    if not held:
        return rows, []
    leaked = leaking_keys(rows, held, held_files)
    videos = sorted(leaked)
    if not videos or recipe.leakage == "allow":
        return rows, videos
    leaks = rows.filter(pl.col("video_key").is_in(videos))
    if recipe.leakage == "refuse":
        by = sorted({(recipe.sources[s].name, leaked[v]) for s, v in leaks.select("_source", "video_key").iter_rows()})
        pairs = "; ".join(f"{a} vs {b}" for a, b in by[:LEAKS_SHOWN])
        shown = ", ".join(videos[:LEAKS_SHOWN]) + (f" and {len(videos) - LEAKS_SHOWN} more" if len(videos) > LEAKS_SHOWN else "")
        raise LeakageError(
            f"{len(leaks)} training rows on {len(videos)} evaluation videos ({pairs}): {shown}. "
            "Set `leakage: drop` to leave them out or `leakage: allow` to keep them"
        )
    for src, n in leaks.group_by("_source").len().iter_rows():
        stats[src].drop("leakage", n)
    return rows.filter(~pl.col("video_key").is_in(videos)), []
