"""`vrft train`'s checks on the run folder: a new run never lands on an old one, a resume keeps its settings."""

from __future__ import annotations

import json

import pytest

from schemas.errors import UserError
from train.checkpoint import STATE
from train.preflight import RUN_CONFIG, check_run_folder, record_config


def _checkpoint(out, step):
    path = out / "checkpoints" / f"step-{step:07d}"
    path.mkdir(parents=True)
    (path / STATE).write_text(json.dumps({"step": step, "position": step}))
    return path


@pytest.fixture
def started(tiny_config, tmp_path):
    """A run folder as a run leaves it: its config recorded and a checkpoint at step 2."""
    cfg = tiny_config(out=tmp_path / "run")
    record_config(cfg)
    _checkpoint(tmp_path / "run", 2)
    return cfg


def test_a_new_run_needs_an_empty_or_absent_folder(tiny_config, tmp_path):
    assert check_run_folder(tiny_config(out=tmp_path / "absent"), False, None, []) == (None, [])
    (tmp_path / "empty").mkdir()
    assert check_run_folder(tiny_config(out=tmp_path / "empty"), False, None, []) == (None, [])
    failed_start = tiny_config(out=tmp_path / "failed")          # the config recorded, then the model failed to load
    record_config(failed_start)
    assert check_run_folder(failed_start, False, None, []) == (None, [])
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(UserError, match="already holds a run; continue it with --resume"):
        check_run_folder(tiny_config(out=tmp_path / "used"), False, None, [])
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="exists and is not a folder"):
        check_run_folder(tiny_config(out=tmp_path / "file"), False, None, [])


def test_resume_refuses_changed_settings_unless_allowed(started, tiny_config, tmp_path):
    out = tmp_path / "run"
    same = tiny_config("run.steps=9", "run.save_every=3", out=out)          # length and cadence may change
    assert check_run_folder(same, True, None, []) == (out / "checkpoints" / "step-0000002", [])
    changed = tiny_config("optim.lr=0.5", "rollout.group_size=8", out=out)
    with pytest.raises(UserError) as err:
        check_run_folder(changed, True, None, [])
    assert "optim.lr 0.001 -> 0.5; rollout.group_size 4 -> 8" in str(err.value)
    assert "--allow-changed optim.lr,rollout.group_size" in str(err.value)
    with pytest.raises(UserError, match=r"changed settings \(rollout.group_size 4 -> 8\)"):
        check_run_folder(changed, True, None, ["optim.lr"])
    assert check_run_folder(changed, True, None, ["optim.lr", "rollout.group_size"])[0] is not None
    assert check_run_folder(changed, True, None, ["optim", "rollout"])[0] is not None   # whole sections
    with pytest.raises(UserError, match="--allow-changed: unknown key 'optim.lrr'"):
        check_run_folder(changed, True, None, ["optim.lrr"])


def test_resume_checks(started, tiny_config, tmp_path):
    out = tmp_path / "run"
    cfg = tiny_config(out=out)
    with pytest.raises(UserError, match="--resume: no checkpoint under"):
        check_run_folder(tiny_config(out=tmp_path / "other"), True, None, [])
    with pytest.raises(UserError, match="not a complete checkpoint"):
        check_run_folder(cfg, False, str(tmp_path), [])
    # resuming an earlier checkpoint of a run that went further would mix the two
    first = out / "checkpoints" / "step-0000002"
    _checkpoint(out, 4)
    with pytest.raises(UserError, match=r"checkpoints after step-0000002 \(step-0000004\)"):
        check_run_folder(cfg, False, str(first), [])
    # a checkpoint from a run that recorded no config: resumed, with a note that nothing was compared
    (out / RUN_CONFIG).unlink()
    checkpoint, notes = check_run_folder(cfg, True, None, [])
    assert checkpoint.name == "step-0000004" and "not compared" in notes[0]
    (out / RUN_CONFIG).write_text("[1, 2]")
    with pytest.raises(UserError, match="not a training config"):
        check_run_folder(cfg, True, None, [])


def test_rows_without_frames_are_counted():
    import pyarrow as pa

    from train.preflight import _frameless

    typ = pa.list_(pa.struct([("timestamps", pa.list_(pa.float64()))]))
    videos = pa.array([[{"timestamps": [0.5, 1.0]}], [], [{"timestamps": []}], None, [{"timestamps": [0.0]}]], typ)
    assert _frameless(videos) == 3   # no video, an empty video, a null
