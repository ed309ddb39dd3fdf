"""The command line's one error path and its help: every refusal one line with the right exit status,
every option documented with its default."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
from pathlib import Path

import pytest

from pipelines.validate.thresholds import Thresholds
from schemas.errors import EnvironmentFailure, UserError
from vrft.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, name: str = "vrft"):
    """(name, parser) of every command and subcommand, the top level included."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, p in action.choices.items():
                yield from _commands(p, f"{name} {sub}")


COMMANDS = dict(_commands(build_parser()))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_and_says_its_default(name):
    parser = COMMANDS[name]
    assert parser.description, f"{name} has no description"
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{name} {label} has no help"
        takes_value = action.option_strings and action.nargs != 0
        if takes_value and not action.required:
            assert "default" in action.help, f"{name} {label} does not say its default"


def test_help_names_what_the_user_needs():
    validate = COMMANDS["vrft validate"].format_help()
    flat = " ".join(validate.split())
    for field in ("max_rejected_share (0.25)", "max_repaired_share", "min_rows (50)", "max_answer_share"):
        assert field in flat
    assert set(Thresholds.names().replace(",", " ").split()) >= {"max_whole_video_share", "min_span_fraction_median"}
    ingest = " ".join(COMMANDS["vrft ingest"].format_help().split())
    assert "charades-sta needs it" in ingest and "--min-frames N fewest frames per video (default 4)" in ingest
    assert "reward profile" in " ".join(COMMANDS["vrft rewards"].format_help().split())


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize("error, status, says", [
    (UserError("ann.jsonl:3: not JSON\n(expected a value)"), 2, "vrft show: error: ann.jsonl:3: not JSON (expected a value)"),
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "out/samples/part-0.parquet"), 1,
     f"vrft show: error: out/samples/part-0.parquet: {os.strerror(errno.ENOSPC)}"),
    (OSError(errno.EROFS, os.strerror(errno.EROFS), "scores.jsonl"), 1, f"scores.jsonl: {os.strerror(errno.EROFS)}"),
    (OSError(errno.EIO, os.strerror(errno.EIO), "x"), 1, "x: "),
    (FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "missing.json"), 2, "missing.json: "),
    (EnvironmentFailure("no network for hub:Qwen/X"), 1, "no network for hub:Qwen/X"),
])
def test_exit_status_and_one_line(monkeypatch, capsys, error, status, says):
    import vrft.commands.show

    def fail(args):
        raise error

    monkeypatch.setattr(vrft.commands.show, "run", fail)
    assert main(["show", "somewhere", "some-id"]) == status
    assert says in _one_line_error(capsys)


def test_a_bug_keeps_its_traceback(monkeypatch):
    import vrft.commands.show

    def bug(args):
        raise KeyError("a bug in vrft")

    monkeypatch.setattr(vrft.commands.show, "run", bug)
    with pytest.raises(KeyError):
        main(["show", "somewhere", "some-id"])


def test_argparse_refusals_are_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["eval", "--data", "d", "--out", "o", "--baseline", "whole-video", "--batch-size", "x"])
    assert stop.value.code == 2
    assert _one_line_error(capsys) == ("vrft eval: error: argument --batch-size: expected an integer, got 'x' "
                                       "(see vrft eval --help)")


def test_corrupt_parquet_is_named(tmp_path, capsys):
    (tmp_path / "samples").mkdir()
    bad = tmp_path / "samples" / "part-00000-of-00001.parquet"
    bad.write_bytes(b"PAR1" + os.urandom(200))
    (tmp_path / "manifest.json").write_text("{}")  # a finished run (an unfinished one is refused first)
    assert main(["validate", str(tmp_path)]) == 2
    assert f"{bad} is not a readable Parquet file" in _one_line_error(capsys)


def test_corrupt_pages_are_bad_input_not_a_machine_failure(tmp_path, monkeypatch, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import vrft.commands.show

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    data[30:60] = bytes(30)  # zeros inside the first data page
    path.write_bytes(bytes(data))

    monkeypatch.setattr(vrft.commands.show, "run", lambda args: pq.read_table(path))
    assert main(["show", "somewhere", "some-id"]) == 2
    assert "unreadable Parquet data" in _one_line_error(capsys)


def test_rewards_score_keeps_the_good_lines(tmp_path, capsys):
    good = {"completion": "<think>t</think><answer>1 to 2</answer>", "span": {"start": 1, "end": 2}, "duration": 5}
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join([
        json.dumps(good).encode(),
        b'{"completion": "\xff\xfe"}',                                  # not UTF-8
        b'{"completion": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",   # nested past the parser's recursion
        json.dumps({**good, "completion": "<answer>1 to 3</answer>"}).encode(),
    ]) + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["rewards", "score", "--task", "temporal_grounding", "--input", str(src), "--output", str(out)]) == 1
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r.get("total") for r in rows] == [2.0, None, None, 0.5]   # 1 + IoU 1; 0 + IoU 1/2
    assert rows[1]["error"] == "not UTF-8 (byte 17)" and "nested too deeply" in rows[2]["error"]
    err = capsys.readouterr().err
    assert f"{src}:2: not UTF-8" in err and f"{src}:3: " in err and "2 scored, 2 malformed" in err


def test_rewards_score_into_a_read_only_place_is_a_machine_failure(tmp_path, monkeypatch, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("")
    real_open = Path.open

    def read_only(self, mode="r", *args, **kwargs):
        if "w" in mode:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", read_only)
    out = tmp_path / "out.jsonl"
    assert main(["rewards", "score", "--task", "video_qa", "--input", str(src), "--output", str(out)]) == 1
    assert _one_line_error(capsys) == f"vrft rewards: error: {out}: {os.strerror(errno.EROFS)}"


def test_beams_noise_does_not_reach_the_user(caplog):
    import pipelines  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.WARNING):
        logging.warning("apitools not found, and bigquery client libraries are not available")
        logging.getLogger("apache_beam.transforms.core").warning(
            "Tags {'failed'} requested in with_outputs() but not declared in type hints.")
        logging.warning("a warning that matters")
    assert [r.getMessage() for r in caplog.records] == ["a warning that matters"]


def test_ingest_summary_counts_only_written_videos(capsys):
    from types import SimpleNamespace

    from vrft.commands.ingest import _summary

    def manifest(written, failed):
        return {"counts": {"input": 9, "written": 9, "repaired": 0, "rejected": 0}, "repaired_by_reason": {},
                "rejected_by_reason": {}, "videos": {"written": written, "failed": failed,
                                                     "failed_by_reason": {"video_missing": failed}},
                "timings": {"total_s": 5.0, "run_s": 4.0, "records_per_s": 2.25}}

    _summary(SimpleNamespace(manifest=manifest(written=0, failed=300), out="o"))   # 300 failed lookups
    assert "videos written/s" not in capsys.readouterr().out
    _summary(SimpleNamespace(manifest=manifest(written=6, failed=300), out="o"))
    line = next(x for x in capsys.readouterr().out.splitlines() if "videos written/s" in x)
    assert line.split()[-2] == "1.50"                                                  # 6 decoded in 4 s
