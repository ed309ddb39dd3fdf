"""The fast path equals the model's processor: same tokens, token types, grid, time per patch, and
(patchified and normalized on the device) the same pixels, for every frame shape the shards can hold."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import train.inputs
from train.data import decode_row
from train.inputs import check_against_processor, device_pixels, encode_example, processor_inputs
from train.model import load_processor
from train.patches import PixelSpec, patchify, video_pixels
from train.synthetic_training_shards import toy_row

SHAPES = [  # (frames, height, width): even and odd T, one frame, square, portrait, landscape, real-size
    (4, 56, 84), (5, 56, 112), (1, 28, 28), (7, 84, 56), (8, 112, 196), (9, 224, 392),
]


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    return load_processor(str(tiny_model_dir))


@pytest.fixture(scope="module")
def odd_processor(processor):
    """Another geometry and other constants: patch 16, 3 frames per temporal patch, merge 3, own mean/std."""
    from transformers import Qwen2_5_VLProcessor, Qwen2VLVideoProcessor

    video = Qwen2VLVideoProcessor(
        patch_size=16, temporal_patch_size=3, merge_size=3, image_mean=[0.2, 0.5, 0.7], image_std=[0.3, 0.6, 0.9],
        rescale_factor=1 / 250, do_sample_frames=False, cap_pixels_per_frame=False,
    )
    return Qwen2_5_VLProcessor(
        image_processor=processor.image_processor, tokenizer=processor.tokenizer, video_processor=video,
        chat_template=processor.chat_template,
    )


def noisy_example(index: int, frames: int, height: int, width: int, fps: float):
    """A real training row's prompt with random frames (every byte distinct in place, so layout errors show)."""
    ex = decode_row(index, toy_row(index, fps=fps))
    pixels = np.random.default_rng(index).integers(0, 256, size=(frames, height, width, 3), dtype=np.uint8)
    return dataclasses.replace(ex, frames=pixels, timestamps=[i / fps for i in range(frames)])


def assert_same_as_processor(proc, ex):
    fast, slow = encode_example(proc, ex), processor_inputs(proc, ex)
    assert torch.equal(fast.input_ids, slow["input_ids"][0])
    assert torch.equal(fast.mm_token_type_ids, slow["mm_token_type_ids"][0])
    assert torch.equal(fast.video_grid_thw, slow["video_grid_thw"])
    assert torch.equal(fast.second_per_grid_ts, slow["second_per_grid_ts"])
    pixels = device_pixels([fast], torch.device("cpu"))[0]
    assert pixels.dtype == slow["pixel_values_videos"].dtype and pixels.shape == slow["pixel_values_videos"].shape
    assert torch.allclose(pixels, slow["pixel_values_videos"], rtol=0, atol=1e-6)
    return fast


@pytest.mark.parametrize("fps", [0.5, 1.95, 2.0, 4.0])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fast_path_equals_the_processor(processor, shape, fps):
    fast = assert_same_as_processor(processor, noisy_example(sum(shape), *shape, fps))
    t, h, w = shape
    assert fast.video_grid_thw.tolist() == [[-(-t // 2), h // 14, w // 14]]
    assert int((fast.input_ids == processor.video_token_id).sum()) == -(-t // 2) * h * w // (14 * 14 * 4)


@pytest.mark.parametrize("shape", [(4, 144, 96), (5, 48, 96), (7, 96, 144)], ids=lambda s: "x".join(map(str, s)))
def test_geometry_and_constants_come_from_the_processor_config(odd_processor, shape):
    """Nothing is hard-coded: patch 16, Tp 3 (T padded by 1 or 2 repeated frames), merge 3, other mean/std/scale."""
    fast = assert_same_as_processor(odd_processor, noisy_example(1, *shape, fps=1.5))
    assert device_pixels([fast], torch.device("cpu"))[0].shape[1] == 3 * 3 * 16 * 16
    assert fast.second_per_grid_ts.tolist() == pytest.approx([3 / 1.5])


def test_patchify_is_the_processors_layout_bit_for_bit(processor):
    """Without rescale/normalize the processor's floats are the bytes themselves, in its order."""
    frames = np.random.default_rng(7).integers(0, 256, size=(5, 56, 84, 3), dtype=np.uint8)
    out = processor.video_processor(
        videos=[frames], do_resize=False, do_rescale=False, do_normalize=False, return_tensors="pt",
    )
    patches = patchify(torch.from_numpy(frames), PixelSpec.of(processor.video_processor))
    assert patches.dtype == torch.uint8
    assert torch.equal(patches.float(), out["pixel_values_videos"])


def test_several_videos_are_normalized_together_each_in_its_own_rows(processor):
    """One op over videos of different sizes, split back per video; white frames give (1 - mean) / std."""
    vp = processor.video_processor
    videos = [np.full((2, 28, 28, 3), 255, dtype=np.uint8), np.full((3, 56, 28, 3), 255, dtype=np.uint8)]
    out = video_pixels(videos, PixelSpec.of(vp), torch.device("cpu"), torch.bfloat16)
    assert [o.shape for o in out] == [(4, 1176), (16, 1176)] and all(o.dtype == torch.bfloat16 for o in out)
    expected = torch.tensor([(1 - m) / s for m, s in zip(vp.image_mean, vp.image_std)]).repeat_interleave(392)
    assert all(torch.allclose(o.float(), expected.expand_as(o), atol=2e-2) for o in out)


def test_the_start_up_check_catches_a_layout_that_differs(processor, monkeypatch):
    check_against_processor(processor)  # the real path passes
    bgr = lambda videos, spec, device: video_pixels([v[..., ::-1].copy() for v in videos], spec, device)  # noqa: E731
    monkeypatch.setattr(train.inputs, "video_pixels", bgr)
    with pytest.raises(ValueError, match="pixel path disagrees with Qwen2VLVideoProcessor on pixel_values_videos:"):
        check_against_processor(processor)


def test_a_prompt_must_hold_exactly_one_video(processor):
    ex = noisy_example(0, 2, 28, 28, fps=2.0)
    two = dataclasses.replace(ex, messages=[{"role": "user", "content": "<video> and <video>"}])
    with pytest.raises(ValueError, match="exactly one video, got 2"):
        encode_example(processor, two)
