"""Issue 10 #12: leakage matched on a video's identity, not the exact key string: `Chaplin_moviepy` in
training and `chaplin_moviepy.mp4` in evaluation are one video, and so are two keys whose media files
have the same content."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import synthetic_ingested as synthetic
from pipelines.mix import LeakageError, parse_recipe, run_mix
from pipelines.mix.leakage import video_identity
from pipelines.mix.select import select


def folder(root: Path, name: str, keys: list[str], split: str, uris: dict[str, str] | None = None) -> str:
    """An ingestion folder with one grounding sample per video key (frames from the synthetic helper)."""
    videos = synthetic.make_videos(len(keys), n_frames=4, prefix=name)
    for video, key in zip(videos, keys):
        video["video_key"] = key
        video["uri"] = (uris or {}).get(key, f"synthetic://{key}")
    samples = synthetic.make_samples(videos, len(keys), ("temporal_grounding",), 0, dataset=name, split=split)
    for s, key in zip(samples, keys):
        s["video_key"] = key
    return synthetic.write_ingested(str(root / name), samples, videos)


def recipe(train: str, test: str, leakage: str = "refuse"):
    return parse_recipe({"sources": [{"name": "train", "path": train}], "leakage": leakage,
                         "evaluation": [{"name": "test", "path": test, "split": "test"}]}, "/")


def test_keys_that_differ_in_case_extension_or_folder_are_one_video(tmp_path):
    train = folder(tmp_path, "train", ["Chaplin_moviepy", "videos/Bikes.MP4", "unrelated"], "train")
    test = folder(tmp_path, "test", ["chaplin_moviepy.mp4", "bikes", "other"], "test")
    with pytest.raises(LeakageError, match=r"2 training rows on 2 evaluation videos \(train vs test\): "
                                           r"Chaplin_moviepy, videos/Bikes.MP4"):
        run_mix(recipe(train, test), str(tmp_path / "refused"))
    m = run_mix(recipe(train, test, "drop"), str(tmp_path / "dropped")).manifest
    assert m["sources"][0]["dropped"] == {"leakage": 2} and m["rows"] == 1


def test_keys_whose_media_files_hold_the_same_bytes_are_one_video(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mp4").write_bytes(b"the same video bytes" * 100)
    (media / "copy_of_a.mp4").write_bytes(b"the same video bytes" * 100)
    (media / "same_size.mp4").write_bytes(b"another video, same size" * 100)  # sizes meet, contents differ
    (media / "b.mp4").write_bytes(b"the other test video" * 100)
    train = folder(tmp_path, "train", ["renamed_copy", "lookalike", "fine"], "train",
                   {"renamed_copy": str(media / "copy_of_a.mp4"), "lookalike": str(media / "same_size.mp4")})
    test = folder(tmp_path, "test", ["clip_a", "clip_b"], "test",
                  {"clip_a": str(media / "a.mp4"), "clip_b": str(media / "b.mp4")})
    with pytest.raises(LeakageError, match=r"1 training rows on 1 evaluation videos \(train vs test\): renamed_copy\."):
        run_mix(recipe(train, test), str(tmp_path / "refused"))
    (media / "a.mp4").unlink()                 # the file is gone: only the key can tell, and it does not match
    assert run_mix(recipe(train, test), str(tmp_path / "ok")).manifest["rows"] == 3


def test_video_identity_drops_every_directory_and_only_a_video_extension():
    assert video_identity("data/videos/Bikes.MP4") == "bikes"
    assert video_identity("videos\\Bikes.mp4") == "bikes"              # a Windows path
    assert video_identity("take.1") == "take.1" and video_identity("take.1") != video_identity("take.2")


def _split_folder(root: Path, name: str, rows: list[tuple[str, str, str | None]]) -> str:
    """One grounding row per (video key, split, media file) on videos of their own."""
    videos = synthetic.make_videos(len(rows), n_frames=2, prefix=name)
    for video, (key, _, uri) in zip(videos, rows):
        video["video_key"], video["uri"] = key, uri or f"synthetic://{key}"
    samples = synthetic.make_samples(videos, len(rows), ("temporal_grounding",), 0, dataset=name)
    for s, (key, split, _) in zip(samples, rows):
        s["video_key"], s["split"] = key, split
    return synthetic.write_ingested(str(root / name), samples, videos)


def test_only_the_splits_each_side_asks_for_are_compared(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    for name, content in (("test_clip", b"held out video"), ("train_clip", b"a training clip"),
                          ("leak", b"held out video"), ("copy_of_train_clip", b"a training clip"),
                          ("val_copy", b"held out video")):
        (media / f"{name}.mp4").write_bytes(content * 50)
    # the evaluation folder: its test split is held out, its train split is not
    test = _split_folder(tmp_path, "eval", [("test_clip", "test", str(media / "test_clip.mp4")),
                                            ("train_clip", "train", str(media / "train_clip.mp4"))])
    train = _split_folder(tmp_path, "train", [
        ("leak", "train", str(media / "leak.mp4")),                     # the held-out video's bytes: a leak
        ("train_clip", "train", None),                                  # the name of a video not held out
        ("copy_of_train_clip", "train", str(media / "copy_of_train_clip.mp4")),   # its bytes
        ("val_copy", "val", str(media / "val_copy.mp4")),               # held-out bytes, in a split not mixed
    ])
    sel = select(parse_recipe({"sources": [{"name": "train", "path": train, "split": "train"}], "leakage": "allow",
                               "evaluation": [{"name": "test", "path": test, "split": "test"}]}, "/"))
    assert sel.leaked_videos == ["leak"] and len(sel.rows) == 3


def test_a_long_list_of_leaks_is_shortened(tmp_path):
    keys = [f"clip{i:02d}" for i in range(12)]
    test = folder(tmp_path, "test", keys, "test")
    shown = ", ".join(keys[:10])                       # the first ten, then how many more
    for n, tail in ((10, r"\. "), (12, r" and 2 more\. ")):
        train = folder(tmp_path, f"train{n}", keys[:n], "train")
        with pytest.raises(LeakageError, match=rf"^{n} training rows on {n} evaluation videos \(train vs test\): "
                                               rf"{shown}{tail}Set `leakage: drop` to leave them out or "
                                               r"`leakage: allow` to keep them$"):
            run_mix(recipe(train, test), str(tmp_path / f"refused{n}"))
