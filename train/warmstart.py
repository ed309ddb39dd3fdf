"""A short supervised warm start on the answer contract.

Not part of the paper's recipe, which runs GRPO straight from Qwen2.5-VL-7B, a model that already
follows instructions. A small or random model never writes a parseable answer, so every GRPO group
has zero reward spread and the policy gradient is zero. A few supervised steps on answers written in
the contract teach it to write one; GRPO then has answers to compare.

Which answers: "oracle" (`rewards.oracle_answer`: the truth, in the task's tags) teaches the contract
AND the answers; "guess" (`rewards.guess_answer`: random times and letters, a fixed box; only what
the prompt states) teaches the contract alone, so whatever the model then gets right on held-out data
beyond chance was learned from the reward. The demo uses "guess"; `vrft train` never warm-starts.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import torch

from rewards import guess_answer, oracle_answer
from train.config import ModelConfig
from train.data import decode_row, iter_rows, shard_files
from train.inputs import collate_prompts, device_pixels, encode_example
from train.model import load_model, load_processor


def answer_texts(examples, answers: str, rng: random.Random) -> list[str]:
    """The target answer of each example: "oracle" (the truth) or "guess" (the contract, no answer)."""
    if answers == "oracle":
        return [oracle_answer(ex.task, ex.truth) for ex in examples]
    if answers == "guess":
        return [guess_answer(ex.task, ex.truth, rng) for ex in examples]
    raise ValueError(f"answers must be 'oracle' or 'guess', got {answers!r}")


def supervised_batch(processor, examples, device: torch.device, texts: list[str] | None = None) -> dict[str, torch.Tensor]:
    """Prompts (left-padded, with their video) followed by the answers `texts` (default: the oracle
    answers), right-padded; labels are -100 everywhere but on the answer tokens and the end-of-turn
    token after them."""
    tok = processor.tokenizer
    texts = answer_texts(examples, "oracle", random.Random(0)) if texts is None else texts
    prompts = [encode_example(processor, ex) for ex in examples]
    batch = collate_prompts(prompts, tok.pad_token_id, device_pixels(prompts, device))
    answers = [tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for text in texts]
    width = max(len(a) for a in answers)
    ans = torch.full((len(answers), width), tok.pad_token_id, dtype=torch.long)
    ans_mask = torch.zeros_like(ans)
    for i, a in enumerate(answers):
        ans[i, : len(a)] = torch.tensor(a)
        ans_mask[i, : len(a)] = 1
    prompt_labels = torch.full_like(batch["input_ids"], -100)
    return {
        **{k: v.to(device) for k, v in batch.items()},
        "input_ids": torch.cat([batch["input_ids"], ans], dim=1).to(device),
        "attention_mask": torch.cat([batch["attention_mask"], ans_mask], dim=1).to(device),
        "mm_token_type_ids": torch.cat([batch["mm_token_type_ids"], torch.zeros_like(ans)], dim=1).to(device),
        "labels": torch.cat([prompt_labels, ans.masked_fill(ans_mask == 0, -100)], dim=1).to(device),
    }


def warm_start(model_dir: Path, shards: Path, out: Path, steps: int = 60, batch_size: int = 4, lr: float = 3e-3,
               seed: int = 0, log=None, answers: str = "oracle") -> Path:
    """Train `model_dir` for `steps` supervised steps on answers written in the contract ("oracle" or
    "guess", see the module docstring); save to `out`. A guess is drawn afresh each time a row comes
    round, so a model cannot memorise one."""
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = load_model(ModelConfig(path=str(model_dir)), torch.float32).to(device).train()
    processor = load_processor(str(model_dir))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    files = shard_files(str(shards))
    rows = itertools.cycle([decode_row(i, r) for i, r in iter_rows(files)])
    rng = random.Random(seed)
    for step in range(1, steps + 1):
        examples = [next(rows) for _ in range(batch_size)]
        batch = supervised_batch(processor, examples, device, answer_texts(examples, answers, rng))
        loss = model(**batch, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if log:
            log(step, loss.item())
    out = Path(out)
    model.save_pretrained(str(out))
    processor.save_pretrained(str(out))
    return out
