"""`vrft demo --out DIR` replaces only what an earlier demo wrote there: a folder holding anything vrft
did not write, another command's output, or a file is refused as it is (pipelines.outputs.fresh)."""

from __future__ import annotations

import json
import re

import pytest

from pipelines import outputs
from vrft.cli import main

ENTRIES = ("report.html", "train")


def test_a_new_folder_is_marked_and_locked_while_the_block_runs(tmp_path):
    out = tmp_path / "demo"
    with outputs.fresh(str(out), "demo", ENTRIES):
        assert json.loads((out / outputs.MARKER).read_text()) == {"kind": "demo", "entries": ["report.html", "train"]}
        assert json.loads((out / outputs.LOCK).read_text())["command"] == "demo"   # another process waits
    assert not (out / outputs.LOCK).exists()


def test_a_rerun_removes_only_what_the_earlier_demo_wrote(tmp_path):
    out = tmp_path / "demo"
    with outputs.fresh(str(out), "demo", ENTRIES):
        (out / "train").mkdir()
        (out / "train" / "metrics.jsonl").write_text("{}")
        (out / "report.html").write_text("old")
    with outputs.fresh(str(out), "demo", ENTRIES):
        assert sorted(p.name for p in out.iterdir()) == [outputs.LOCK, outputs.MARKER]


@pytest.mark.parametrize("setup, message", [
    (lambda d: (d / "thesis.tex").write_text("years of work"), "holds files vrft did not write (thesis.tex)"),
    (lambda d: outputs.mark(str(d), "mix", ["part-*.parquet"]), "holds a vrft mix output, not a demo"),
])
def test_a_folder_vrft_did_not_write_as_a_demo_is_refused_untouched(tmp_path, setup, message):
    out = tmp_path / "mine"
    out.mkdir()
    setup(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(outputs.FolderRefused, match=re.escape(message)):
        with outputs.fresh(str(out), "demo", ENTRIES):
            raise AssertionError("the block must not run")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_demo_folder_with_a_strangers_file_added_is_refused(tmp_path):
    out = tmp_path / "demo"
    with outputs.fresh(str(out), "demo", ENTRIES):
        (out / "report.html").write_text("old")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(outputs.FolderRefused, match=r"\(notes.txt\)"):
        with outputs.fresh(str(out), "demo", ENTRIES):
            pass
    assert (out / "notes.txt").read_text() == "mine" and (out / "report.html").read_text() == "old"


def test_vrft_demo_refuses_in_one_line_before_any_work(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("a,b\n")
    assert main(["demo", "--out", str(mine)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"vrft demo: error: {mine} holds files vrft did not write (data.csv); write it into an empty or new folder"
    assert sorted(p.name for p in mine.iterdir()) == ["data.csv"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["demo", "--out", str(afile)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err and afile.read_text() == "x"
