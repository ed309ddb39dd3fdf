"""Model inputs from decoded examples, built with the model's own processor.

The one place where time reaches the model: the stored frames go to the processor with
`video_metadata` carrying the sampled fps, so `second_per_grid_ts` = temporal_patch_size / fps. (The
processor ignores an `fps=` argument for frame arrays and assumes 24 fps; see ENVIRONMENT.md.) Frames
are already on the 28-pixel grid, so `do_resize=False` keeps them as planned.

Every forward that computes log-probs must get the video tensors AND `mm_token_type_ids` (without it,
transformers 5.x silently falls back to 1-D text positions) AND `second_per_grid_ts` (without it the
model assumes 1 s per temporal patch). `forward_inputs` assembles all of them for any rows of a rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from train.data import Example

VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


@dataclass
class PromptInputs:
    """One prompt, processed (no padding). Lp = prompt tokens, N = video patches, D = patch dim."""

    example: Example                  # what it was built from (truth, ids, for scoring and logs)
    input_ids: torch.Tensor           # [Lp] long
    mm_token_type_ids: torch.Tensor   # [Lp] int: 0 text, 2 video
    pixel_values_videos: torch.Tensor # [N, D] float
    video_grid_thw: torch.Tensor      # [1, 3] long: temporal patches, height patches, width patches
    second_per_grid_ts: torch.Tensor  # [1] float: seconds per temporal patch


def chat_messages(messages: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """Turn the shard's string messages into content parts: the video placeholder becomes a video part."""
    import schemas

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


def encode_example(processor, example: Example) -> PromptInputs:
    """Chat template + processor on the stored frames, with the stored fps as video metadata."""
    from transformers.video_utils import VideoMetadata

    frames = example.frames
    factor = processor.video_processor.patch_size * processor.video_processor.merge_size
    t, h, w = frames.shape[:3]
    if h % factor or w % factor:
        raise ValueError(
            f"sample {example.sample_id}: frames {w}x{h} are not on the {factor}-pixel grid the shards promise"
        )
    if example.fps <= 0:
        raise ValueError(f"sample {example.sample_id}: sampled fps must be > 0, got {example.fps}")
    text = processor.apply_chat_template(chat_messages(example.messages), add_generation_prompt=True, tokenize=False)
    meta = VideoMetadata(total_num_frames=t, fps=example.fps, duration=t / example.fps, width=w, height=h)
    out = processor(
        text=[text], videos=[frames], video_metadata=[meta], do_resize=False, return_tensors="pt",
    )
    return PromptInputs(
        example=example,
        input_ids=out["input_ids"][0],
        mm_token_type_ids=out["mm_token_type_ids"][0],
        pixel_values_videos=out["pixel_values_videos"],
        video_grid_thw=out["video_grid_thw"],
        second_per_grid_ts=torch.as_tensor(out["second_per_grid_ts"], dtype=torch.float32).reshape(1),
    )


def video_tensors(prompts: Sequence[PromptInputs], which: Sequence[int]) -> dict[str, torch.Tensor]:
    """The video tensors for a list of rows, row i showing prompt `which[i]` (concatenated in row order)."""
    return {
        "pixel_values_videos": torch.cat([prompts[i].pixel_values_videos for i in which]),   # [sum N, D]
        "video_grid_thw": torch.cat([prompts[i].video_grid_thw for i in which]),             # [rows, 3]
        "second_per_grid_ts": torch.cat([prompts[i].second_per_grid_ts for i in which]),     # [rows]
    }


def collate_prompts(prompts: Sequence[PromptInputs], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-padded batch of P prompts for generation: input_ids/attention_mask/mm_token_type_ids [P, Lp]."""
    width = max(p.input_ids.numel() for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    types = torch.zeros((len(prompts), width), dtype=prompts[0].mm_token_type_ids.dtype)
    for i, p in enumerate(prompts):
        n = p.input_ids.numel()
        ids[i, width - n:] = p.input_ids
        mask[i, width - n:] = 1
        types[i, width - n:] = p.mm_token_type_ids
    return {
        "input_ids": ids, "attention_mask": mask, "mm_token_type_ids": types,
        **video_tensors(prompts, range(len(prompts))),
    }
