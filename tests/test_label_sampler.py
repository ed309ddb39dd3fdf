"""Seeded per-row sampling (train/label/sampler.py): it samples the warped distribution the sampling
config asks for (frequencies against probabilities computed by hand), a row's draws depend on its seed
alone (not on the batch around it), and `generate` keeps the token it picked."""

from __future__ import annotations

import math

import torch
from transformers import GenerationConfig

from train.label.sampler import SeededRows, row_seed


def config(**kw) -> GenerationConfig:
    base = dict(do_sample=True, temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, typical_p=1.0, max_new_tokens=1)
    return GenerationConfig(**{**base, **kw})


def picks(scores: torch.Tensor, seeds: list[int], cfg: GenerationConfig) -> list[int]:
    out = SeededRows(seeds, cfg)(torch.zeros((len(seeds), 1), dtype=torch.long), scores)
    assert torch.isfinite(out).sum(dim=1).eq(1).all()               # all the mass on one token per row
    return out.argmax(dim=1).tolist()


def test_it_samples_the_warped_distribution():
    """Temperature 2 on logits 2 * log p gives p = [0.6, 0.3, 0.06, 0.04]; top-k 3 keeps the first three
    (0.6, 0.3, 0.06 of 0.96); top-p 0.9 then drops the 0.0625 tail: 0.6/0.9 and 0.3/0.9 remain."""
    p = torch.tensor([0.6, 0.3, 0.06, 0.04])
    n = 20000
    scores = (2 * p.log()).expand(n, 4).clone()
    got = picks(scores, [row_seed(0, f"s{i}", 0) for i in range(n)], config(temperature=2.0, top_k=3, top_p=0.9))
    freq = [got.count(k) / n for k in range(4)]
    assert freq[2] == 0 and freq[3] == 0
    assert math.isclose(freq[0], 2 / 3, abs_tol=0.015) and math.isclose(freq[1], 1 / 3, abs_tol=0.015)
    plain = picks(scores / 2, [row_seed(1, f"s{i}", 0) for i in range(n)], config())   # no warping: p itself
    assert math.isclose(plain.count(0) / n, 0.6, abs_tol=0.015) and math.isclose(plain.count(3) / n, 0.04, abs_tol=0.006)


def test_a_row_draws_by_its_seed_whatever_the_batch():
    torch.manual_seed(0)
    scores = torch.randn(8, 50)
    seeds = [row_seed(3, f"sample-{i // 2}", i % 2) for i in range(8)]
    cfg = config(max_new_tokens=5, top_k=20)
    together = SeededRows(seeds, cfg)
    alone = [SeededRows([s], cfg) for s in seeds]
    for _ in range(5):                                               # five tokens in a row
        a = together(torch.zeros((8, 1), dtype=torch.long), scores).argmax(dim=1).tolist()
        b = [rows(torch.zeros((1, 1), dtype=torch.long), scores[i:i + 1]).argmax(dim=1).item() for i, rows in enumerate(alone)]
        assert a == b
    torch.manual_seed(123)                                           # the global stream plays no part
    again = SeededRows(seeds, cfg)(torch.zeros((8, 1), dtype=torch.long), scores).argmax(dim=1).tolist()
    first = SeededRows(seeds, cfg)(torch.zeros((8, 1), dtype=torch.long), scores).argmax(dim=1).tolist()
    assert again == first
    assert len({row_seed(3, "sample-0", j) for j in range(4)} | {row_seed(4, "sample-0", 0)}) == 5


def test_generate_keeps_the_picked_token():
    """After SeededRows, the library's own warpers and multinomial draw cannot move the choice."""
    from transformers.generation import logits_process as lp

    torch.manual_seed(0)
    scores = torch.randn(64, 30)
    cfg = config(temperature=0.7, top_k=10, top_p=0.8)
    picked = SeededRows([row_seed(0, "x", i) for i in range(64)], cfg)(torch.zeros((64, 1), dtype=torch.long), scores)
    library = [lp.TemperatureLogitsWarper(0.7), lp.TopKLogitsWarper(10), lp.TopPLogitsWarper(0.8), lp.MinPLogitsWarper(0.0)]
    out = picked
    for warp in library:
        out = warp(torch.zeros((64, 1), dtype=torch.long), out)
    drawn = torch.multinomial(torch.softmax(out, dim=-1), 1).squeeze(1)
    assert torch.equal(drawn, picked.argmax(dim=1))
