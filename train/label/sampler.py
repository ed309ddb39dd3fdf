"""Sampling whose random numbers belong to the sample, not to the batch: each completion row draws its
tokens from its own stream, seeded by (run seed, sample id, completion index).

`model.generate` samples every row of a batch from one global random stream, so which tokens a sample
gets depends on what else is in its batch and in which order batches ran: a labeling job on several
workers, or with another batch size, would label differently. `SeededRows` is a logits processor that
applies the sampling config's own warpers (temperature, top-k, top-p, ...: the library's classes, in the
library's order), draws each row's token by inverse CDF with that row's next uniform, and hands
`generate` a distribution with all its mass on that token; the library's warpers and its multinomial
draw then leave the choice as it is. The distribution sampled from is the trainer's (`sampling_config`);
only the source of randomness differs.

The library adds processors passed to `generate` before its warpers (transformers 5.24,
`_get_logits_processor`), which is why the warpers are applied here too; `tests/test_label_sampler.py`
checks they equal the library's own.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import torch


def row_seed(seed: int, sample_id: str, completion: int) -> int:
    """A 63-bit seed for one completion of one sample: the same on every machine and in every batch."""
    digest = hashlib.sha256(f"{seed}\0{sample_id}\0{completion}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def warpers(gen_config) -> list:
    """The distribution warpers `generate` applies when sampling with `gen_config`, in its order."""
    from transformers.generation import logits_process as lp

    c, out = gen_config, []
    if c.temperature is not None and c.temperature != 1.0:
        out.append(lp.TemperatureLogitsWarper(c.temperature))
    if getattr(c, "top_h", None) is not None:
        out.append(lp.TopHLogitsWarper(top_h=c.top_h))
    if c.top_k is not None and c.top_k != 0:
        out.append(lp.TopKLogitsWarper(top_k=c.top_k, min_tokens_to_keep=1))
    if c.top_p is not None and c.top_p < 1.0:
        out.append(lp.TopPLogitsWarper(top_p=c.top_p, min_tokens_to_keep=1))
    if c.min_p is not None:
        out.append(lp.MinPLogitsWarper(min_p=c.min_p, min_tokens_to_keep=1))
    if c.typical_p is not None and c.typical_p < 1.0:
        out.append(lp.TypicalLogitsWarper(mass=c.typical_p, min_tokens_to_keep=1))
    if c.epsilon_cutoff is not None and 0.0 < c.epsilon_cutoff < 1.0:
        raise ValueError("epsilon_cutoff is not supported by seeded sampling")
    if c.eta_cutoff is not None and 0.0 < c.eta_cutoff < 1.0:
        raise ValueError("eta_cutoff is not supported by seeded sampling")
    return out


class SeededRows:
    """A logits processor for `generate`: row r of the batch samples with the uniforms of `seeds[r]`.

    Rows are generate's rows: prompt-major, G per prompt (`num_return_sequences`). Each call is one new
    token; `max_new_tokens` uniforms per row are drawn up front (float64, on the CPU)."""

    def __init__(self, seeds: Sequence[int], gen_config) -> None:
        self.warpers = warpers(gen_config)
        steps = gen_config.max_new_tokens
        self.uniforms = torch.stack([
            torch.rand(steps, generator=torch.Generator().manual_seed(s), dtype=torch.float64) for s in seeds
        ])                                                                        # [B, max_new_tokens]
        self.step = 0

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if scores.shape[0] != self.uniforms.shape[0]:
            raise ValueError(f"{scores.shape[0]} rows to sample but {self.uniforms.shape[0]} seeds")
        for warp in self.warpers:
            scores = warp(input_ids, scores)
        probs = torch.softmax(scores.double(), dim=-1)                            # [B, V]
        cdf = probs.cumsum(dim=-1)                                                # [B, V]
        u = self.uniforms[:, self.step].to(cdf.device).unsqueeze(1) * cdf[:, -1:]  # [B, 1] in [0, total)
        token = torch.searchsorted(cdf, u, right=True).clamp(max=scores.shape[-1] - 1)  # first cdf > u
        fallback = probs.argmax(dim=-1, keepdim=True)
        token = torch.where(probs.gather(1, token) > 0, token, fallback)            # rounding at the very end
        self.step += 1
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, token, 0.0)
