"""Rope positions follow Qwen2.5-VL's checkpoint convention (text after a video starts at the video's
largest position + 1) in every forward: the positions themselves, the logits `generate` samples from at
each cached step, and the loss / reference forward. The convention is re-implemented here token by token
(after Qwen's code in transformers 4.49), independently of train/positions.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from train.config import ModelConfig
from train.data import decode_row
from train.inputs import collate_prompts, encode_example
from train.model import load_model, load_processor
from train.positions import rope_positions, startup_note
from train.rollout import completion_logprobs, generate, sampling_config
from train.synthetic_training_shards import toy_row

# (frames, fps, height, width): odd and even frame counts, fps that make fractional time steps
VIDEOS = [(6, 0.7, 56, 112), (32, 2.0, 56, 84), (9, 0.5, 56, 56), (3, 1.95, 84, 56), (5, 4.0, 56, 84), (4, 2.0, 56, 84)]


def convention(types: list[int], grids: list[list[int]], seconds: list[float], merge: int, per_second: int):
    """[3][n] positions of one unpadded row, token by token: text +1 each; a vision span's tokens at
    start + (int(t * seconds * per_second) in float32, row, column); after any span, the largest
    position so far + 1. Images have 0 seconds per patch."""
    rows: list[list[int]] = [[], [], []]
    start, i, k = 0, 0, 0
    while i < len(types):
        if types[i] == 0:
            for r in rows:
                r.append(start)
            start, i = start + 1, i + 1
            continue
        (t, h, w), s = grids[k], (seconds[k] if types[i] == 2 else 0.0)
        k += 1
        for ti in range(t):
            when = int(np.float32(ti) * np.float32(s) * np.float32(per_second))
            for hi in range(h // merge):
                for wi in range(w // merge):
                    rows[0].append(start + when)
                    rows[1].append(start + hi)
                    rows[2].append(start + wi)
        i += t * (h // merge) * (w // merge)
        start = max(max(r) for r in rows) + 1
    return rows


def convention_batch(batch, config, grid_key="video_grid_thw") -> torch.Tensor:
    """[3, B, L] by `convention`, 1 at padding; one vision span per row."""
    v = config.vision_config
    mask, types = batch["attention_mask"].bool(), batch["mm_token_type_ids"]
    seconds = batch.get("second_per_grid_ts", torch.zeros(len(types)))
    out = torch.ones(3, *types.shape, dtype=torch.long)
    for b in range(types.shape[0]):
        rows = convention(types[b][mask[b]].tolist(), [batch[grid_key][b].tolist()], [float(seconds[b])],
                          v.spatial_merge_size, v.tokens_per_second)
        out[:, b, mask[b]] = torch.tensor(rows)
    return out


@pytest.fixture(scope="module")
def model_and_processor(tiny_model_dir):
    model = load_model(ModelConfig(path=str(tiny_model_dir)), torch.float32).eval()
    return model, load_processor(str(tiny_model_dir))


def prompts_for(proc, videos):
    return [encode_example(proc, decode_row(i, toy_row(i, frames=f, fps=fps, height=h, width=w)))
            for i, (f, fps, h, w) in enumerate(videos)]


@pytest.mark.parametrize("pair", [VIDEOS[0:2], VIDEOS[2:4], VIDEOS[4:6]], ids=["0.7fps+2fps", "0.5fps+1.95fps", "4fps+2fps"])
def test_positions_follow_the_convention_in_a_left_padded_batch(model_and_processor, pair):
    model, proc = model_and_processor
    batch = collate_prompts(prompts_for(proc, pair), proc.tokenizer.pad_token_id)
    assert (batch["attention_mask"] == 0).any()  # different lengths: the shorter row is left-padded
    got = rope_positions(batch["mm_token_type_ids"], batch["attention_mask"], model.config,
                         batch["video_grid_thw"], batch["second_per_grid_ts"])
    want = convention_batch(batch, model.config)
    mask = batch["attention_mask"].bool()
    assert torch.equal(got[:, mask], want[:, mask])
    for b in range(2):  # the question after the video starts at the video's largest position + 1
        video = (batch["mm_token_type_ids"][b] == 2).nonzero().flatten()
        assert got[:, b, video[-1] + 1].tolist() == [int(want[:, b, video].max()) + 1] * 3


def test_the_library_differs_where_the_issue_says(model_and_processor):
    """Why vrft computes positions: transformers 5.24 starts the text after 6 frames at 0.7 fps at 31,
    inside the video's time positions [27, 32, 38]; the convention says 39."""
    model, proc = model_and_processor
    batch = collate_prompts(prompts_for(proc, VIDEOS[:1]), proc.tokenizer.pad_token_id)
    library, _ = model.model.get_rope_index(
        batch["input_ids"], batch["mm_token_type_ids"], video_grid_thw=batch["video_grid_thw"],
        second_per_grid_ts=batch["second_per_grid_ts"], attention_mask=batch["attention_mask"])
    want = convention_batch(batch, model.config)
    video = (batch["mm_token_type_ids"][0] == 2).nonzero().flatten()
    assert want[0, 0, video].unique().tolist() == [27, 32, 38]
    assert want[:, 0, video[-1] + 1].tolist() == [39] * 3
    assert library[:, 0, video[-1] + 1].tolist() == [31] * 3


def test_images_keep_the_library_positions(model_and_processor):
    """For a still image the convention and the library agree (no time axis): nothing changes there."""
    model, proc = model_and_processor
    image = np.random.default_rng(0).integers(0, 256, size=(56, 84, 3), dtype=np.uint8)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is in it"}]}]
    text = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    batch = proc(text=[text], images=[image], return_tensors="pt")
    got = rope_positions(batch["mm_token_type_ids"], batch["attention_mask"], model.config,
                         image_grid_thw=batch["image_grid_thw"])
    library, _ = model.model.get_rope_index(batch["input_ids"], batch["mm_token_type_ids"],
                                            image_grid_thw=batch["image_grid_thw"], attention_mask=batch["attention_mask"])
    assert torch.equal(got, library)
    assert torch.equal(got, convention_batch(batch, model.config, "image_grid_thw"))
    assert (batch["mm_token_type_ids"] == 1).sum() > 1


def forward_logits(model, inputs: dict, positions: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(**{**inputs, "position_ids": positions}, use_cache=False).logits


@pytest.fixture(scope="module")
def sampled(model_and_processor):
    """A rollout of a left-padded batch (0.7 fps and 2 fps videos) and the logits `generate` sampled from."""
    model, proc = model_and_processor
    prompts = prompts_for(proc, VIDEOS[:2])
    cfg = sampling_config(model, group_size=2, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=6)
    steps = []
    handle = model.lm_head.register_forward_hook(lambda m, a, out: steps.append(out[:, -1].detach().clone()))
    torch.manual_seed(0)
    try:
        r = generate(model, proc, prompts, cfg, torch.device("cpu"))
    finally:
        handle.remove()
    return r, torch.stack(steps, dim=1)                                    # [B, Lc, V]


def test_generate_samples_from_the_convention_positions(model_and_processor, sampled):
    """Every cached decoding step's logits equal a full forward at the convention's positions."""
    model, _ = model_and_processor
    r, step_logits = sampled
    inputs = {k: v for k, v in r.forward_inputs(torch.arange(r.size), torch.device("cpu")).items() if k != "position_ids"}
    full = forward_logits(model, inputs, convention_batch(inputs, model.config))
    Lc = r.completion_width
    assert step_logits.shape[1] == Lc
    expected = full[:, -Lc - 1:-1]                                          # the logits that predict each completion token
    m = r.completion_mask.bool()
    assert (step_logits[m] - expected[m]).abs().max().item() < 1e-4


def test_loss_and_reference_forwards_use_the_convention_positions(model_and_processor, sampled):
    """`Rollout.forward_inputs` (the loss, reference and old-policy forwards) carries the convention's
    positions, completions included, and the log-probs it gives are those of that forward."""
    model, _ = model_and_processor
    r, _ = sampled
    inputs = r.forward_inputs(torch.arange(r.size), torch.device("cpu"))
    want = convention_batch(inputs, model.config)
    mask = inputs["attention_mask"].bool()
    assert torch.equal(r.position_ids[:, mask], want[:, mask])
    with torch.no_grad():
        got = completion_logprobs(model, inputs, r.completion_width)
    logits = forward_logits(model, {k: v for k, v in inputs.items() if k != "position_ids"}, want)[:, -r.completion_width - 1:-1]
    expected = torch.log_softmax(logits, -1).gather(-1, inputs["input_ids"][:, -r.completion_width:, None]).squeeze(-1)
    m = r.completion_mask.bool()
    assert (got[m] - expected[m]).abs().max().item() < 1e-5


def test_startup_note_says_whether_the_library_agrees(model_and_processor):
    model, proc = model_and_processor
    differs, agrees = prompts_for(proc, [VIDEOS[0], VIDEOS[5]])
    note = startup_note(model, differs)
    assert "differs" in note and "library [31, 31, 31], convention [39, 39, 39]" in note
    assert "agrees" in startup_note(model, agrees)  # 4 frames at 2 fps: the time axis ends inside max(h, w)
