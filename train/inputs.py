"""Model inputs from decoded examples: what the model's processor makes, without its CPU pixel math.

The data worker (`encode_example`) builds the prompt tokens with the processor's own text pieces (chat
template, its video-token expansion for the patch grid, its tokenizer and token types) and keeps the
decoded frames as uint8. Their pixel values (the processor's patch layout, rescaled and normalized) are
made on the model's device, for all prompts of a step at once (`device_pixels`, train/patches.py).
`check_against_processor` runs the processor itself on a small video at start-up and refuses to train
if the two disagree (a processor whose layout differs, or a transformers upgrade that changed it).

Time reaches the model here: `second_per_grid_ts` = temporal_patch_size / the stored sampled fps. (The
processor ignores an `fps=` argument for frame arrays and assumes 24 fps; see docs/pitfalls.md.) Frames
are already on the 28-pixel grid, so they keep their planned size (the processor's `do_resize=False`).

Every forward that computes log-probs must get the video tensors AND `second_per_grid_ts` (without it the
model assumes 1 s per temporal patch) AND the 3-D rope positions (train/positions.py: without them
transformers 5.24 makes its own, wrong after a video, or 1-D ones when `mm_token_type_ids` is missing).
`video_tensors` assembles the video tensors for any rows of a rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

import schemas
from train.data import Example
from train.patches import PixelSpec, video_pixels

VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


@dataclass
class PromptInputs:
    """One prompt, encoded (no padding). Lp = prompt tokens; the video is example.frames, uint8 [T, H, W, 3]."""

    example: Example                  # what it was built from: frames, truth, ids (for scoring and logs)
    input_ids: torch.Tensor           # [Lp] long
    mm_token_type_ids: torch.Tensor   # [Lp] long: 0 text, 2 video
    pixel_spec: PixelSpec             # how `device_pixels` turns the frames into the processor's pixel values
    video_grid_thw: torch.Tensor      # [1, 3] long: temporal patches, height patches, width patches
    second_per_grid_ts: torch.Tensor  # [1] float: seconds per temporal patch


def chat_messages(messages: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """Turn the shard's string messages into content parts: the video placeholder becomes a video part."""
    out = []
    for msg in messages:
        text = msg["content"]
        if schemas.VIDEO_PLACEHOLDER not in text:
            out.append({"role": msg["role"], "content": [{"type": "text", "text": text}]})
            continue
        parts: list[dict[str, Any]] = []
        for i, piece in enumerate(text.split(schemas.VIDEO_PLACEHOLDER)):
            if i:
                parts.append({"type": "video"})
            if piece:
                parts.append({"type": "text", "text": piece})
        out.append({"role": msg["role"], "content": parts})
    return out


def _check_example(processor, example: Example) -> None:
    factor = PixelSpec.of(processor.video_processor).grid_factor
    t, h, w, c = example.frames.shape
    if t < 1 or c != 3 or example.frames.dtype != np.uint8:
        raise ValueError(f"sample {example.sample_id}: frames must be uint8 [T>0, H, W, 3], got "
                         f"{example.frames.dtype} {list(example.frames.shape)}")
    if h % factor or w % factor:
        raise ValueError(
            f"sample {example.sample_id}: frames {w}x{h} are not on the {factor}-pixel grid the shards promise"
        )
    if example.fps <= 0:
        raise ValueError(f"sample {example.sample_id}: sampled fps must be > 0, got {example.fps}")


def _chat_text(processor, example: Example) -> str:
    return processor.apply_chat_template(chat_messages(example.messages), add_generation_prompt=True, tokenize=False)


def encode_example(processor, example: Example) -> PromptInputs:
    """The prompt tokens, patch grid and time per patch the processor would make for the stored frames."""
    _check_example(processor, example)
    spec = PixelSpec.of(processor.video_processor)
    grid = torch.tensor([spec.grid(*example.frames.shape[:3])])
    text = _chat_text(processor, example)
    if text.count(processor.video_token) != 1:
        raise ValueError(f"sample {example.sample_id}: the prompt must hold exactly one video, got "
                         f"{text.count(processor.video_token)}")
    # the processor's own expansion (grid_t * grid_h * grid_w / merge^2 video tokens), tokenizer, token types
    expanded = processor.replace_video_token({"video_grid_thw": grid}, 0)
    [text], _ = processor.get_text_with_replacements([text], videos_replacements=[expanded])
    ids = processor.tokenizer([text])["input_ids"]
    return PromptInputs(
        example=example,
        input_ids=torch.tensor(ids[0], dtype=torch.long),
        mm_token_type_ids=torch.tensor(processor.create_mm_token_type_ids(ids)[0], dtype=torch.long),
        pixel_spec=spec,
        video_grid_thw=grid,
        second_per_grid_ts=torch.tensor([spec.temporal_patch_size / example.fps], dtype=torch.float32),
    )


def processor_inputs(processor, example: Example) -> dict[str, torch.Tensor]:
    """What the model's processor itself makes of the example (the slow path: float math on the CPU),
    told the stored fps through `video_metadata`. `encode_example` + `device_pixels` must equal it."""
    from transformers.video_utils import VideoMetadata

    _check_example(processor, example)
    t, h, w = example.frames.shape[:3]
    meta = VideoMetadata(total_num_frames=t, fps=example.fps, duration=t / example.fps, width=w, height=h)
    out = processor(
        text=[_chat_text(processor, example)], videos=[example.frames], video_metadata=[meta], do_resize=False,
        return_tensors="pt",
    )
    out["second_per_grid_ts"] = torch.as_tensor(out["second_per_grid_ts"], dtype=torch.float32).reshape(1)
    return out


def check_against_processor(processor) -> None:
    """Encode a small synthetic video (odd frame count, non-square, 0.7 fps) both ways; raise if the
    fast path's tokens, grid, time or pixels differ from the processor's (a few ms, at start-up)."""
    factor = PixelSpec.of(processor.video_processor).grid_factor
    frames = np.random.default_rng(0).integers(0, 256, size=(3, 2 * factor, 3 * factor, 3), dtype=np.uint8)
    example = Example(
        index=0, sample_id="self-check", task="", video_key="", frames=frames, timestamps=[0.0, 1 / 0.7, 2 / 0.7],
        fps=0.7, truth={}, messages=[{"role": "user", "content": f"{schemas.VIDEO_PLACEHOLDER}\nWhat happens?"}],
    )
    fast, slow = encode_example(processor, example), processor_inputs(processor, example)
    pixels = device_pixels([fast], torch.device("cpu"))[0]
    same = {
        "input_ids": torch.equal(fast.input_ids, slow["input_ids"][0]),
        "mm_token_type_ids": torch.equal(fast.mm_token_type_ids, slow["mm_token_type_ids"][0]),
        "video_grid_thw": torch.equal(fast.video_grid_thw, slow["video_grid_thw"]),
        "second_per_grid_ts": torch.equal(fast.second_per_grid_ts, slow["second_per_grid_ts"]),
        "pixel_values_videos": pixels.shape == slow["pixel_values_videos"].shape
        and torch.allclose(pixels, slow["pixel_values_videos"], rtol=0, atol=1e-6),
    }
    if not all(same.values()):
        raise ValueError(
            f"the device-side pixel path disagrees with {type(processor.video_processor).__name__} on "
            f"{', '.join(k for k, ok in same.items() if not ok)}: this processor is not supported"
        )


def device_pixels(prompts: Sequence[PromptInputs], device: torch.device) -> list[torch.Tensor]:
    """Each prompt's pixel values [N_p, D] float32 on `device`, as the processor makes them: the uint8
    frames go over, are patchified there and normalized in one op, once per step."""
    specs = {p.pixel_spec for p in prompts}
    if len(specs) != 1:
        raise ValueError(f"prompts encoded for different processors: {specs}")
    return video_pixels([p.example.frames for p in prompts], specs.pop(), device)


def video_tensors(
    prompts: Sequence[PromptInputs], which: Sequence[int], pixels: Sequence[torch.Tensor],
) -> dict[str, torch.Tensor]:
    """The video tensors for a list of rows, row i showing prompt `which[i]` (concatenated in row order),
    on the device of `pixels` (`device_pixels(prompts, ...)`)."""
    device = pixels[0].device
    return {
        "pixel_values_videos": torch.cat([pixels[i] for i in which]),                                   # [sum N, D]
        "video_grid_thw": torch.cat([prompts[i].video_grid_thw for i in which]).to(device),             # [rows, 3]
        "second_per_grid_ts": torch.cat([prompts[i].second_per_grid_ts for i in which]).to(device),     # [rows]
    }


def collate_prompts(
    prompts: Sequence[PromptInputs], pad_id: int, pixels: Sequence[torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Left-padded batch of P prompts for generation: input_ids/attention_mask/mm_token_type_ids [P, Lp]
    (on the CPU) and the video tensors (on the device of `pixels`; made here on the CPU if not given)."""
    width = max(p.input_ids.numel() for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    types = torch.zeros((len(prompts), width), dtype=prompts[0].mm_token_type_ids.dtype)
    for i, p in enumerate(prompts):
        n = p.input_ids.numel()
        ids[i, width - n:] = p.input_ids
        mask[i, width - n:] = 1
        types[i, width - n:] = p.mm_token_type_ids
    pixels = device_pixels(prompts, torch.device("cpu")) if pixels is None else pixels
    return {
        "input_ids": ids, "attention_mask": mask, "mm_token_type_ids": types,
        **video_tensors(prompts, range(len(prompts)), pixels),
    }
