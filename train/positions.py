"""3-D rope positions for Qwen2.5-VL, by the convention its checkpoints were trained with.

Qwen2.5-VL gives every token three positions (time, height, width). Text advances all three by one per
token; a video's tokens get (start + its time index, start + row, start + column), the time index being
temporal patch i * seconds per patch * `tokens_per_second`, truncated. The text after a vision span
starts at the largest position used so far + 1 (Qwen's own code, transformers 4.49).

transformers 5.24's `get_rope_index` instead starts the text after a video at start + max(h, w) / merge,
ignoring how far the video's time positions reach: the question and every completion token then share
time positions with the video (6 frames at 0.7 fps: video time positions up to 38, next text at 31).
So vrft computes the positions itself (`rope_positions`) and passes them to every forward and to
`generate` (which extends them by one per new token, the same as the convention after a text token), and
`startup_note` says at start-up whether the installed library agrees on a real example.

Padding positions (attention mask 0) are 1, as in Qwen's code; they are never attended to.
"""

from __future__ import annotations

import itertools

import torch

TEXT, IMAGE, VIDEO = 0, 1, 2  # mm_token_type_ids


def rope_positions(
    mm_token_type_ids: torch.Tensor,          # [B, L] 0 text, 1 image, 2 video
    attention_mask: torch.Tensor,             # [B, L] 1 on real tokens (left or right padding)
    config,                                   # the model's config (vision_config: spatial_merge_size, tokens_per_second)
    video_grid_thw: torch.Tensor | None = None,       # [videos, 3] in the order they appear, row by row
    second_per_grid_ts: torch.Tensor | None = None,   # [videos] seconds per temporal patch
    image_grid_thw: torch.Tensor | None = None,       # [images, 3]
) -> torch.Tensor:
    """-> [3, B, L] long positions on the device of `mm_token_type_ids`."""
    vision = getattr(config, "vision_config", config)
    merge, per_second = vision.spatial_merge_size, vision.tokens_per_second
    B, L = mm_token_type_ids.shape
    out = torch.ones(3, B, L, dtype=torch.long)
    grids = {
        VIDEO: iter(video_grid_thw.tolist() if video_grid_thw is not None else ()),
        IMAGE: iter(image_grid_thw.tolist() if image_grid_thw is not None else ()),
    }
    # without seconds per patch, Qwen's code (and the library) assume 1 s
    seconds = iter(second_per_grid_ts.float().cpu()) if second_per_grid_ts is not None else itertools.repeat(torch.tensor(1.0))
    types, mask = mm_token_type_ids.cpu(), attention_mask.cpu().bool()
    for row in range(B):
        pieces, start = [], 0
        for kind, run in itertools.groupby(types[row][mask[row]].tolist()):
            n = len(list(run))
            if kind == TEXT:
                pieces.append(torch.arange(n).expand(3, n) + start)
            else:
                t, h, w = next(grids[kind])
                # images carry no time (Qwen's code gives them 0 seconds per patch)
                per_patch = next(seconds) if kind == VIDEO else torch.tensor(0.0)
                span = _vision_span(t, h // merge, w // merge, per_patch, per_second)
                if span.shape[1] != n:
                    raise ValueError(f"row {row}: {n} vision tokens but grid {[t, h, w]} makes {span.shape[1]}")
                pieces.append(span + start)
            start = int(pieces[-1].max()) + 1
        if pieces:
            out[:, row, mask[row]] = torch.cat(pieces, dim=1)
    return out.to(mm_token_type_ids.device)


def _vision_span(t: int, h: int, w: int, seconds: torch.Tensor, per_second: int) -> torch.Tensor:
    """[3, t*h*w] positions of one vision span from 0: time index int(i * seconds * per_second) in float32
    (Qwen's order of operations), row, column."""
    time = (torch.arange(t, dtype=torch.float32) * seconds.float() * per_second).long()
    grid = torch.meshgrid(time, torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack([g.reshape(-1) for g in grid])


def library_positions(model, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """What the installed transformers computes for the same inputs ([3, B, L])."""
    core = next(m for m in model.modules() if hasattr(type(m), "get_rope_index"))
    keys = ("mm_token_type_ids", "attention_mask", "video_grid_thw", "second_per_grid_ts", "image_grid_thw")
    positions, _ = core.get_rope_index(inputs["input_ids"], **{k: inputs[k] for k in keys if k in inputs})
    return positions


def startup_note(model, prompt) -> str:
    """One line for the run's log: does the installed library agree with the convention on this prompt
    (a `PromptInputs`, the run's first)? vrft passes the convention's positions either way."""
    inputs = {
        "input_ids": prompt.input_ids[None], "mm_token_type_ids": prompt.mm_token_type_ids[None],
        "attention_mask": torch.ones_like(prompt.input_ids)[None],
        "video_grid_thw": prompt.video_grid_thw, "second_per_grid_ts": prompt.second_per_grid_ts,
    }
    ours = rope_positions(inputs["mm_token_type_ids"], inputs["attention_mask"], model.config,
                          prompt.video_grid_thw, prompt.second_per_grid_ts)[:, 0]
    library = library_positions(model, inputs)[:, 0].to(ours.device)
    differ = (library != ours).any(dim=0)                                                   # [L]
    if not differ.any():
        return (f"positions: transformers' get_rope_index agrees with Qwen2.5-VL's convention on the first "
                f"example ({ours.shape[1]} tokens); vrft passes the convention's positions to every forward")
    col = int(differ.nonzero()[0])
    return (f"positions: transformers' get_rope_index differs from Qwen2.5-VL's convention on the first example at "
            f"{int(differ.sum())} of {ours.shape[1]} tokens (from token {col}: library {library[:, col].tolist()}, "
            f"convention {ours[:, col].tolist()}); vrft passes the convention's positions to every forward")
