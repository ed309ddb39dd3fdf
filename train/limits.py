"""Training-time limits on what one prompt costs: frames (`data.max_frames`) and prompt tokens
(`data.max_prompt_tokens`).

Shards keep every frame ingestion planned (a 30 s Charades clip: 60 frames; a GOT-10k track: 88), so a
toy run on the CPU over real shards spent minutes per step. `max_frames` thins each video evenly
(`train.data.thin_frames`: timestamps kept, fps recomputed). The token cap then holds every prompt
to a length: a longer one is shown fewer frames (an even number, spread evenly) so that it fits, and
counted; one whose text alone, with the fewest frames a video can have (2), is longer than the cap
cannot be shown at all and is refused (`PromptTooLong`) before it reaches the model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import UserError
from train.data import Example, decode_row, labels_on_frames, thin_example
from train.inputs import PromptInputs, encode_example


class PromptTooLong(UserError):
    """A prompt that does not fit `data.max_prompt_tokens` even with two frames (a user's setting: exit 2)."""


@dataclass
class PromptLimits:
    max_frames: int = 0          # 0 = every stored frame
    max_prompt_tokens: int = 0   # 0 = no cap
    encoded: int = 0             # prompts encoded so far
    thinned: int = 0             # of which shown fewer frames than stored (either limit)
    cut_to_fit: int = 0          # of which shown fewer frames to fit max_prompt_tokens
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, processor, index: int, row: dict[str, Any]) -> PromptInputs:
        """Decode and encode one shard row within the limits."""
        example = decode_row(index, row, self.max_frames)   # refuses a row without frames
        stored = len(row["videos"][0]["timestamps"])
        prompt = encode_example(processor, example)
        cut = False
        if self.max_prompt_tokens and prompt.input_ids.numel() > self.max_prompt_tokens:
            prompt, cut = self._fit(processor, example, prompt), True
        with self._lock:
            self.encoded += 1
            self.thinned += len(prompt.example.timestamps) < stored
            self.cut_to_fit += cut
        return prompt

    def _fit(self, processor, example: Example, prompt: PromptInputs) -> PromptInputs:
        """The same prompt with as many frames as fit the cap (video tokens per temporal patch are fixed)."""
        cap, total = self.max_prompt_tokens, prompt.input_ids.numel()
        patches = int(prompt.video_grid_thw[0, 0])
        video = int((prompt.mm_token_type_ids == 2).sum())
        text, per_patch = total - video, video // patches
        fits = (cap - text) // per_patch if per_patch else 0
        tied = labels_on_frames(example.task, example.truth)
        if fits < 1 or tied:
            why = "its labels sit on every frame" if tied else f"its text alone is {text} tokens"
            raise PromptTooLong(
                f"sample {example.sample_id}: {total} prompt tokens > data.max_prompt_tokens={cap} and it cannot be "
                f"shown fewer frames ({why}); raise data.max_prompt_tokens"
            )
        return encode_example(processor, thin_example(example, 2 * fits))

    def summary(self) -> str:
        """One line for the end of a run."""
        if not (self.max_frames or self.max_prompt_tokens):
            return f"{self.encoded} prompts prepared, every stored frame shown (no data.max_frames / data.max_prompt_tokens)"
        return (f"{self.encoded} prompts prepared: {self.thinned} shown fewer frames than stored (data.max_frames="
                f"{self.max_frames or 'off'}), {self.cut_to_fit} of them cut to fit data.max_prompt_tokens="
                f"{self.max_prompt_tokens or 'off'}")
