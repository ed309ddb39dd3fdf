"""Training-time limits: thinned frames keep their own timestamps and the model is told the fps of
what it sees; box tracks are never thinned; the token cap shows fewer frames or refuses, and counts."""

from __future__ import annotations

import numpy as np
import pytest

import schemas
from train.config import ConfigError, load_config
from train.data import ShardDataError, decode_row, even_indices
from train.inputs import encode_example
from train.limits import PromptLimits, PromptTooLong
from train.model import load_processor
from train.synthetic_training_shards import toy_frames, toy_row
from tests.train.conftest import TINY_CONFIG


def test_even_indices_keep_first_and_last_and_an_even_count():
    assert even_indices(12, 4) == [0, 4, 7, 11]      # 11 / 3 = 3.67 apart, rounded
    assert even_indices(12, 5) == [0, 4, 7, 11]      # an odd limit rounds down: frames pair into patches
    assert even_indices(6, 8) == list(range(6))      # under the limit: untouched
    assert even_indices(6, 0) == list(range(6))      # 0 = no limit


def test_thinned_frames_are_the_stored_frames_at_their_own_times(tiny_model_dir):
    row = toy_row(0, frames=12, fps=2.0)              # stored times 0.0, 0.5, ..., 5.5
    full, thin = decode_row(0, row), decode_row(0, row, max_frames=4)
    assert thin.timestamps == [0.0, 2.0, 3.5, 5.5]     # indices 0, 4, 7, 11
    assert np.array_equal(thin.frames, full.frames[[0, 4, 7, 11]])
    assert thin.fps == pytest.approx(3 / 5.5)          # (n - 1) / (last - first), as ingestion stores it
    prompt = encode_example(load_processor(str(tiny_model_dir)), thin)
    assert int(prompt.video_grid_thw[0, 0]) == 2       # two temporal patches
    assert prompt.second_per_grid_ts.item() == pytest.approx(2 * 5.5 / 3)  # what the model is told per patch
    assert decode_row(0, row, max_frames=12).fps == 2.0  # not thinned: the stored fps, untouched


def tracking_row(n: int = 8) -> dict:
    boxes = [{"t": k * 0.5, "x0": 0.1, "y0": 0.1, "x1": 0.3, "y1": 0.3} for k in range(n)]
    sample = {"sample_id": "trk", "task": "tracking", "dataset": "toy", "split": "train", "video_key": "v",
              "query": "cup", "duration": n * 0.5, "boxes": boxes}
    video = schemas.frame_columns(toy_frames(1, n), [b["t"] for b in boxes], 2.0, 84, 56)
    return schemas.training_row(sample, schemas.video_entry(video), think=False)


def test_box_tracks_keep_every_frame():
    ex = decode_row(0, tracking_row(8), max_frames=4)
    assert len(ex.timestamps) == 8 and ex.frames.shape[0] == 8 and ex.fps == 2.0


def test_token_cap_shows_fewer_frames_and_counts(tiny_model_dir):
    proc = load_processor(str(tiny_model_dir))
    row = toy_row(0, frames=12, fps=2.0)
    full = encode_example(proc, decode_row(0, row))
    video = int((full.mm_token_type_ids == 2).sum())
    per_patch = video // 6                              # 12 frames = 6 temporal patches
    text = full.input_ids.numel() - video
    limits = PromptLimits(max_prompt_tokens=text + 2 * per_patch + 1)   # room for 2 patches, not 3
    fitted = limits.encode(proc, 0, row)
    assert fitted.input_ids.numel() == text + 2 * per_patch
    assert fitted.example.timestamps == [0.0, 2.0, 3.5, 5.5]
    limits.encode(proc, 1, toy_row(1, frames=4))           # 2 patches already: fits as stored
    assert (limits.encoded, limits.thinned, limits.cut_to_fit) == (2, 1, 1)
    assert "1 shown fewer frames" in limits.summary() and "1 of them cut to fit" in limits.summary()


def test_token_cap_refuses_what_cannot_fit(tiny_model_dir):
    proc = load_processor(str(tiny_model_dir))
    with pytest.raises(PromptTooLong, match="its text alone is .* tokens"):
        PromptLimits(max_prompt_tokens=20).encode(proc, 0, toy_row(0, frames=12))
    with pytest.raises(PromptTooLong, match="labels sit on every frame"):
        PromptLimits(max_prompt_tokens=200).encode(proc, 0, tracking_row(8))


def test_a_row_without_frames_is_named_not_indexed(tiny_model_dir):
    proc = load_processor(str(tiny_model_dir))
    row = {**toy_row(0), "videos": []}                     # a labels-only row mixed with `frames: optional`
    with pytest.raises(ShardDataError, match=r"sample toy-00000\): no frames"):
        PromptLimits(max_frames=4).encode(proc, 0, row)


@pytest.mark.parametrize("override", ["data.max_frames=1", "data.max_prompt_tokens=-1"])
def test_limits_are_checked_in_the_config(override):
    with pytest.raises(ConfigError, match=override.split("=")[0]):
        load_config(TINY_CONFIG, ["model.path=m", "data.shards=s", override])
