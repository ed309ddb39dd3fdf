"""The rollout container and the two model calls of GRPO: sample G completions, score tokens.

Shapes: P prompts per step, G completions each, B = P * G rows ordered prompt-major (the rows of
prompt p are p*G .. p*G+G-1), Lp = padded prompt width, Lc = completion width (<= max_new_tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch

from train.inputs import PromptInputs, collate_prompts, device_pixels, video_tensors
from train.model import ready_to_generate
from train.positions import rope_positions


@dataclass
class Rollout:
    """Everything the phases after generation need, filled in phase by phase."""

    prompts: list[PromptInputs]         # P processed prompts
    pixels: list[torch.Tensor]          # P normalized [N_p, D] video patches on the model's device
    group_size: int                     # G
    prompt_index: torch.Tensor          # [B] long: which prompt each row answers
    input_ids: torch.Tensor             # [B, Lp + Lc] prompt (left-padded) + completion (right-padded)
    attention_mask: torch.Tensor        # [B, Lp + Lc]
    mm_token_type_ids: torch.Tensor     # [B, Lp + Lc] 0 text, 2 video
    position_ids: torch.Tensor          # [3, B, Lp + Lc] rope positions by the checkpoints' convention (train/positions.py)
    completion_mask: torch.Tensor       # [B, Lc] 1 on completion tokens up to and including the first EOS
    truncated: torch.Tensor             # [B] bool: no EOS within max_new_tokens
    texts: list[str]                    # [B] decoded completions (special tokens dropped)
    rewards: torch.Tensor | None = None                         # [B] weighted total per completion
    components: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> [B] (NaN where a task lacks it)
    advantages: torch.Tensor | None = None                      # [B]
    old_logp: torch.Tensor | None = None                        # [B, Lc] at sampling time (num_iterations > 1)
    ref_logp: torch.Tensor | None = None                        # [B, Lc] under the reference (beta > 0)
    trains: torch.Tensor | None = None                          # [B] bool: rows that carry loss (None: all)

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]

    @property
    def completion_width(self) -> int:
        return self.completion_mask.shape[1]

    @property
    def trained_rows(self) -> int:
        """Rows that carry loss (dynamic sampling keeps zero-spread filler groups out of it)."""
        return self.size if self.trains is None else int(self.trains.sum())

    def train_mask(self, mask_truncated: bool) -> torch.Tensor:
        """[B, Lc] tokens that carry loss: the completion mask, minus truncated rows if asked, minus rows
        that do not train (`trains`)."""
        keep = None if self.trains is None else self.trains.bool()
        if mask_truncated:
            keep = ~self.truncated if keep is None else keep & ~self.truncated
        if keep is None:
            return self.completion_mask
        return self.completion_mask * keep.unsqueeze(1).to(self.completion_mask.dtype)

    def forward_inputs(self, rows: torch.Tensor, device: torch.device) -> dict[str, torch.Tensor]:
        """Model kwargs for a subset of rows: tokens, masks, token types, positions and the video tensors."""
        which = self.prompt_index[rows].tolist()
        out = {
            "input_ids": self.input_ids[rows],
            "attention_mask": self.attention_mask[rows],
            "mm_token_type_ids": self.mm_token_type_ids[rows],
            "position_ids": self.position_ids[:, rows],
            **video_tensors(self.prompts, which, self.pixels),
        }
        return {k: v.to(device) for k, v in out.items()}


def sampling_config(model, *, group_size: int, temperature: float, top_p: float, top_k: int, max_new_tokens: int):
    """A complete sampling config. Every field is set: in transformers 5.x, fields left unset are filled
    from the checkpoint's generation_config (Qwen2.5-VL ships top_k=1, temperature=0.1 and
    repetition_penalty=1.05), which would sample from a distribution other than the policy's."""
    from transformers import GenerationConfig

    base = model.generation_config
    return GenerationConfig(
        suppress_tokens=vision_token_ids(model),
        do_sample=True, temperature=temperature, top_p=top_p, top_k=top_k, min_p=0.0, typical_p=1.0,
        repetition_penalty=1.0, no_repeat_ngram_size=0, num_beams=1, max_new_tokens=max_new_tokens,
        num_return_sequences=group_size, eos_token_id=base.eos_token_id, pad_token_id=base.pad_token_id,
        use_cache=True,
    )


def vision_token_ids(model) -> list[int]:
    """Placeholder tokens a completion must never contain: the loss forward would count a sampled
    <|video_pad|> as a video slot and fail (or, worse, shift features). Sampling suppresses them and the
    log-probs leave them out of the softmax, so both see the same distribution."""
    c = model.config
    names = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")
    return sorted({getattr(c, n) for n in names if getattr(c, n, None) is not None})


def eos_ids(model) -> list[int]:
    eos = model.generation_config.eos_token_id
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


def completion_mask(completions: torch.Tensor, eos: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, Lc] ids -> ([B, Lc] mask up to and including the first EOS, [B] truncated = no EOS)."""
    is_eos = torch.isin(completions, torch.tensor(list(eos), device=completions.device))
    has_eos = is_eos.any(dim=1)
    first = torch.where(has_eos, is_eos.int().argmax(dim=1), torch.full_like(has_eos, completions.shape[1], dtype=torch.long))
    positions = torch.arange(completions.shape[1], device=completions.device).unsqueeze(0)
    return (positions <= first.unsqueeze(1)).long(), ~has_eos


@torch.no_grad()
def generate(
    model, processor, prompts: list[PromptInputs], gen_config, device: torch.device,
    pixels: list[torch.Tensor] | None = None, logits_processor: Sequence | None = None,
) -> Rollout:
    """Sample G completions for each of P prompts (left padding, the video tensors on every call, the
    convention's rope positions, which `generate` extends by one per new token).
    `pixels`: the prompts' `device_pixels` on `device`, made here when not given. `logits_processor`:
    extra processors for `model.generate` (`vrft label` draws each row from its own seeded stream)."""
    pixels = device_pixels(prompts, device) if pixels is None else pixels
    batch = collate_prompts(prompts, processor.tokenizer.pad_token_id, pixels)
    batch = {k: v.to(device) for k, v in batch.items()}
    positions = rope_positions(batch["mm_token_type_ids"], batch["attention_mask"], model.config,
                               batch["video_grid_thw"], batch["second_per_grid_ts"])
    ready_to_generate(model, device)
    extra = {"logits_processor": list(logits_processor)} if logits_processor else {}
    sequences = model.generate(**batch, position_ids=positions, generation_config=gen_config, **extra)  # [B, Lp + Lc]
    completions = sequences[:, batch["input_ids"].shape[1]:]                   # [B, Lc]
    mask, truncated = completion_mask(completions, eos_ids(model))
    completions = completions.masked_fill(mask == 0, processor.tokenizer.pad_token_id)
    texts = processor.tokenizer.batch_decode(completions, skip_special_tokens=True)
    return assemble(model, prompts, pixels, batch, completions.cpu(), mask.cpu(), truncated.cpu(), texts)


def assemble(
    model, prompts: list[PromptInputs], pixels: list[torch.Tensor], batch: dict[str, torch.Tensor],
    completions: torch.Tensor, mask: torch.Tensor, truncated: torch.Tensor, texts: list[str],
) -> Rollout:
    """The rollout of P prompts (`batch`: their `collate_prompts`) and their B = P * G completions, rows
    prompt-major: completions [B, Lc] padded after each row's first EOS, its mask [B, Lc], truncated [B]."""
    G = completions.shape[0] // len(prompts)
    index = torch.arange(len(prompts)).repeat_interleave(G)                   # [B]
    attention = torch.cat([batch["attention_mask"].cpu()[index], mask], dim=1)  # [B, Lp + Lc]
    types = batch["mm_token_type_ids"].cpu()[index]
    types = torch.cat([types, torch.zeros_like(completions, dtype=types.dtype)], dim=1)
    rows = index.tolist()
    return Rollout(
        prompts=prompts,
        pixels=pixels,
        group_size=G,
        prompt_index=index,
        input_ids=torch.cat([batch["input_ids"].cpu()[index], completions], dim=1),
        attention_mask=attention,
        mm_token_type_ids=types,
        position_ids=rope_positions(
            types, attention, model.config, torch.cat([prompts[i].video_grid_thw for i in rows]),
            torch.cat([prompts[i].second_per_grid_ts for i in rows]),
        ),
        completion_mask=mask,
        truncated=truncated,
        texts=texts,
    )


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor, suppressed: Sequence[int] = ()) -> torch.Tensor:
    """[b, T, V] logits, [b, T] tokens -> [b, T] log-probs in float32, one row at a time (peak memory).
    `suppressed` token ids are left out of the softmax, as sampling left them out."""
    rows = []
    for lg, tk in zip(logits, tokens):
        lg = lg.float()
        if suppressed:
            lg = lg.index_fill(-1, torch.tensor(list(suppressed), device=lg.device), float("-inf"))
        rows.append(torch.log_softmax(lg, dim=-1).gather(-1, tk.unsqueeze(-1)).squeeze(-1))
    return torch.stack(rows)


def completion_logprobs(
    model, inputs: dict[str, torch.Tensor], completion_width: int, temperature: float = 1.0, suppressed: Sequence[int] = (),
) -> torch.Tensor:
    """Log-probs [b, Lc] of the completion tokens under `model`, with the video in the forward.

    Only the last Lc + 1 positions go through the LM head. Logits are divided by the sampling
    temperature, and the tokens sampling suppressed are left out, so the ratio compares the
    distributions the tokens were drawn from.
    """
    out = model(**inputs, logits_to_keep=completion_width + 1, use_cache=False)
    logits = out.logits[:, :-1] / temperature                                 # [b, Lc, V]
    return token_logprobs(logits, inputs["input_ids"][:, -completion_width:], suppressed)
