"""The storage layer: the same behaviour on a local folder and on a remote filesystem (fsspec memory://)."""

from __future__ import annotations

import os
import uuid

import pytest

from pipelines import layout, storage


def test_atomic_write_then_read_back(root):
    path = storage.join(root, "a", "b.json")
    storage.write_json(path, {"x": [1, 2]})
    assert storage.read_json(path) == {"x": [1, 2]}
    assert storage.listdir(storage.join(root, "a")) == ["b.json"]
    with storage.open_text(path) as f:
        assert f.read().startswith("{")


def test_a_failed_write_leaves_nothing(root):
    path = storage.join(root, "c.txt")
    with pytest.raises(RuntimeError):
        with storage.atomic_open(path, "w") as f:
            f.write("half")
            raise RuntimeError("killed")
    assert not storage.exists(path)
    assert [n for n in storage.listdir(root) if n != "c.txt"] == []


def test_a_failed_rewrite_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "keep.txt")
    storage.write_text(path, "old")
    with pytest.raises(RuntimeError):
        with storage.atomic_open(path, "w") as f:
            f.write("new")
            raise RuntimeError("killed")
    assert storage.read_text(path) == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_local_writes_go_through_a_hidden_temporary(tmp_path):
    path = str(tmp_path / "x.bin")
    with storage.atomic_open(path) as f:
        f.write(b"abc")
        names = os.listdir(tmp_path)
        assert len(names) == 1 and storage.is_temp(names[0]) and names[0].startswith(".x.bin")
        assert not os.path.exists(path)
    assert storage.read_bytes(path) == b"abc"


def test_glob_and_parts_skip_temporaries(root):
    for i in range(3):
        storage.write_bytes(layout.part_path(root, "samples", i, 3), b"p")
    storage.write_bytes(storage.join(root, "samples", "notes.txt"), b"n")
    found = layout.parts(root, "samples")
    assert [storage.basename(p) for p in found] == [layout.part_name(i, 3) for i in range(3)]
    assert all(storage.is_remote(p) == storage.is_remote(root) and storage.read_bytes(p) == b"p" for p in found)
    assert storage.glob(storage.join(root, "nothing", "*.parquet")) == []


def test_remove_files_and_folders(root):
    storage.write_bytes(storage.join(root, "d", "e", "f"), b"1")
    storage.remove(storage.join(root, "d"))
    assert not storage.exists(storage.join(root, "d", "e", "f"))
    storage.remove(storage.join(root, "never-there"))  # nothing to do


def test_local_copy_of_a_remote_file_is_removed_afterwards():
    url = f"memory://vrft-copy-{uuid.uuid4().hex[:8]}/v.mp4"
    storage.write_bytes(url, b"video")
    with storage.local_copy(url) as local:
        assert not storage.is_remote(local) and local.endswith(".mp4")
        assert open(local, "rb").read() == b"video"
    assert not os.path.exists(local)
    storage.remove(storage.parent(url))


def test_staged_dir_replaces_a_folder_only_when_complete(tmp_path):
    target = str(tmp_path / "ckpt")
    with storage.staged_dir(target) as tmp:
        open(os.path.join(tmp, "w.bin"), "wb").write(b"1")
    assert os.listdir(target) == ["w.bin"]
    with pytest.raises(RuntimeError):
        with storage.staged_dir(target) as tmp:
            open(os.path.join(tmp, "w.bin"), "wb").write(b"2")
            raise RuntimeError("killed")
    assert open(os.path.join(target, "w.bin"), "rb").read() == b"1"
    assert os.listdir(tmp_path) == ["ckpt"]


def test_bucket_of_is_stable_and_spread():
    assert layout.bucket_of("video-0", 1) == 0
    assert layout.bucket_of("abc", 1000) == int("a9993e364706", 16) % 1000  # sha1("abc") starts a9993e364706
    counts = [0] * 4
    for i in range(400):
        counts[layout.bucket_of(f"k{i}", 4)] += 1
    assert min(counts) > 60
