"""Model inputs and rollouts: time reaches the model, video reaches every log-prob forward, and the
forward the loss uses reproduces the distribution the completions were sampled from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from train.config import ModelConfig
from train.data import decode_row
from train.inputs import VIDEO_KEYS, chat_messages, collate_prompts, device_pixels, encode_example
from train.model import load_model, load_processor
from train.positions import rope_positions
from train.rollout import completion_logprobs, completion_mask, generate, sampling_config, vision_token_ids
from train.synthetic_training_shards import toy_row


@pytest.fixture(scope="module")
def model_and_processor(tiny_model_dir):
    model = load_model(ModelConfig(path=str(tiny_model_dir)), torch.float32).eval()
    return model, load_processor(str(tiny_model_dir))


def example(index=0, **kw):
    return decode_row(index, toy_row(index, **kw))


@pytest.mark.parametrize("fps", [0.5, 1.0, 1.95, 2.0, 4.0])
def test_stored_fps_reaches_second_per_grid_ts(model_and_processor, fps):
    _, proc = model_and_processor
    p = encode_example(proc, example(fps=fps))
    assert p.second_per_grid_ts.tolist() == pytest.approx([2.0 / fps])


def test_processor_alone_ignores_fps_for_frame_arrays(model_and_processor):
    """The hazard `encode_example` exists for: `fps=` is ignored and 24 fps assumed (docs/pitfalls.md)."""
    _, proc = model_and_processor
    ex = example(fps=0.5)
    text = proc.apply_chat_template(chat_messages(ex.messages), add_generation_prompt=True, tokenize=False)
    out = proc(text=[text], videos=[ex.frames], fps=0.5, do_resize=False, return_tensors="pt")
    assert out["second_per_grid_ts"].tolist() == pytest.approx([2.0 / 24])


def test_frames_keep_their_planned_size(model_and_processor):
    _, proc = model_and_processor
    p = encode_example(proc, example(frames=6, height=56, width=112))
    assert p.video_grid_thw.tolist() == [[3, 56 // 14, 112 // 14]]
    video_tokens = int((p.input_ids == proc.video_token_id).sum())
    assert video_tokens == 3 * 4 * 8 // 4


def test_frames_off_the_grid_are_refused(model_and_processor):
    _, proc = model_and_processor
    with pytest.raises(ValueError, match="toy-00000.*28-pixel grid"):
        encode_example(proc, example(height=50, width=84))


def test_video_placeholder_becomes_a_video_part():
    msgs = chat_messages([{"role": "user", "content": "<video>\nWhen does it happen?"}])
    assert msgs == [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "\nWhen does it happen?"}]}]


def prompt_logits(model, proc, prompt):
    batch = collate_prompts([prompt], proc.tokenizer.pad_token_id)
    with torch.no_grad():
        return model(**batch).logits


def test_time_positions_change_the_logits(model_and_processor):
    """Same frames, told 0.5 fps vs 2 fps: different temporal positions, different next-token logits."""
    model, proc = model_and_processor
    slow, fast = (encode_example(proc, example(fps=f)) for f in (0.5, 2.0))
    assert torch.equal(device_pixels([slow], torch.device("cpu"))[0], device_pixels([fast], torch.device("cpu"))[0])
    diff = (prompt_logits(model, proc, slow) - prompt_logits(model, proc, fast)).abs().max().item()
    assert diff > 1e-3


@pytest.fixture(scope="module")
def rollout(model_and_processor):
    model, proc = model_and_processor
    prompts = [encode_example(proc, example(i, fps=f)) for i, f in ((0, 0.5), (1, 2.0))]
    cfg = sampling_config(model, group_size=3, temperature=0.7, top_p=1.0, top_k=0, max_new_tokens=6)
    torch.manual_seed(0)
    return generate(model, proc, prompts, cfg, torch.device("cpu")), cfg


def test_loss_forward_reproduces_the_sampling_distribution(model_and_processor, rollout):
    """Log-probs from the loss-path forward equal those of the logits the sampler drew from."""
    model, proc = model_and_processor
    r, cfg = rollout
    torch.manual_seed(0)
    batch = collate_prompts(r.prompts, proc.tokenizer.pad_token_id)
    positions = rope_positions(batch["mm_token_type_ids"], batch["attention_mask"], model.config,
                               batch["video_grid_thw"], batch["second_per_grid_ts"])
    out = model.generate(**batch, position_ids=positions, generation_config=cfg, return_dict_in_generate=True,
                         output_logits=True)
    width = batch["input_ids"].shape[1]
    assert torch.equal(out.sequences[:, width:][r.completion_mask.bool()], r.input_ids[:, width:][r.completion_mask.bool()])
    logits = torch.stack(out.logits, dim=1) / cfg.temperature                       # [B, Lc, V]
    logits[..., vision_token_ids(model)] = float("-inf")
    sampled = torch.log_softmax(logits, -1).gather(-1, out.sequences[:, width:, None]).squeeze(-1)
    with torch.no_grad():
        forward = completion_logprobs(
            model, r.forward_inputs(torch.arange(r.size), torch.device("cpu")), r.completion_width,
            cfg.temperature, vision_token_ids(model),
        )
    m = r.completion_mask.bool()
    assert (forward[m] - sampled[m]).abs().max().item() < 1e-4


def test_removing_video_tensors_changes_the_logits(model_and_processor, rollout):
    """The guard against the silent-drop failure: without the video (or its positions) the model still
    runs, on different inputs (without `position_ids` it uses the library's, which differ after a 0.5 fps video)."""
    model, _ = model_and_processor
    r, _ = rollout
    inputs = r.forward_inputs(torch.arange(r.size), torch.device("cpu"))
    with torch.no_grad():
        full = model(**inputs).logits
        no_video = model(**{k: v for k, v in inputs.items() if k not in VIDEO_KEYS}).logits
        no_positions = model(**{k: v for k, v in inputs.items() if k != "position_ids"}).logits
    assert (full - no_video).abs().max().item() > 1e-2
    assert (full - no_positions).abs().max().item() > 1e-4


def test_rollout_shapes_and_groups(rollout):
    r, _ = rollout
    assert r.prompt_index.tolist() == [0, 0, 0, 1, 1, 1]
    assert r.input_ids.shape == r.attention_mask.shape == r.mm_token_type_ids.shape
    assert r.completion_mask.shape == (6, r.completion_width)
    assert len(r.texts) == 6
    video_rows = (r.mm_token_type_ids == 2).sum(dim=1)
    assert video_rows.tolist() == [int(p.video_grid_thw.prod() // 4) for p in r.prompts for _ in range(3)]


def test_sampling_ignores_the_checkpoint_generation_defaults(model_and_processor):
    """Qwen2.5-VL ships top_k=1, temperature=0.1: inherited, the G completions would all be the same."""
    model, proc = model_and_processor
    saved = model.generation_config.to_dict()
    model.generation_config.update(top_k=1, temperature=0.1, repetition_penalty=1.05)
    try:
        cfg = sampling_config(model, group_size=6, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=6)
        torch.manual_seed(1)
        r = generate(model, proc, [encode_example(proc, example())], cfg, torch.device("cpu"))
    finally:
        model.generation_config.update(**saved)
    assert len(set(r.texts)) > 1


def test_vision_placeholders_are_never_sampled(model_and_processor):
    """A sampled <|video_pad|> would be taken for a video slot in the loss forward."""
    model, proc = model_and_processor
    ids = vision_token_ids(model)
    head = model.lm_head.weight
    saved = head.data.clone()
    try:
        with torch.no_grad():
            head[ids] = 5.0  # these tokens now dominate the softmax
        cfg = sampling_config(model, group_size=4, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=6)
        torch.manual_seed(0)
        r = generate(model, proc, [encode_example(proc, example())], cfg, torch.device("cpu"))
    finally:
        head.data.copy_(saved)
    width = r.input_ids.shape[1] - r.completion_width
    assert not torch.isin(r.input_ids[:, width:], torch.tensor(ids)).any()


def test_completion_mask_stops_after_the_first_eos():
    ids = torch.tensor([[5, 7, 2, 9, 9], [5, 5, 5, 5, 5], [2, 3, 2, 3, 3]])
    mask, truncated = completion_mask(ids, [2])
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]
    assert truncated.tolist() == [False, True, False]
