"""The supervised warm start learns the answers it is shown, and only those tokens carry loss."""

from __future__ import annotations

import pytest
import torch

from rewards import oracle_answer
from train.data import decode_row, iter_rows, shard_files
from train.model import load_processor
from train.tiny_model import save_tiny_model
from train.synthetic_training_shards import write_toy_shards
from train.warmstart import answer_texts, supervised_batch, warm_start


def test_labels_are_the_oracle_answers(tmp_path):
    model = save_tiny_model(tmp_path / "m", seed=0)
    write_toy_shards(tmp_path / "s", rows=2, files=1)
    processor = load_processor(str(model))
    examples = [decode_row(i, r) for i, r in iter_rows(shard_files(str(tmp_path / "s")))]
    batch = supervised_batch(processor, examples, torch.device("cpu"))
    for row, ex in zip(batch["labels"], examples):
        kept = row[row != -100].tolist()
        assert processor.tokenizer.decode(kept[:-1]) == oracle_answer(ex.task, ex.truth)
        assert kept[-1] == processor.tokenizer.eos_token_id
    assert batch["input_ids"].shape == batch["labels"].shape == batch["mm_token_type_ids"].shape


def answer_loss(model, batch) -> float:
    """Mean cross-entropy of the next token over the labelled positions (the answer and its end token)."""
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits[:, :-1]
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    return torch.nn.functional.cross_entropy(logits[keep].float(), labels[keep]).item()


def test_warm_start_lowers_the_loss_on_what_it_saw(tmp_path):
    from train.config import ModelConfig
    from train.model import load_model

    model = save_tiny_model(tmp_path / "m", seed=0)
    write_toy_shards(tmp_path / "s", rows=4, files=1)
    losses = []
    out = warm_start(model, tmp_path / "s", tmp_path / "warm", steps=30, batch_size=4, lr=3e-3,
                     log=lambda step, loss: losses.append(loss))
    assert len(losses) == 30 and sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    # every step shows the same four rows; the first loss is the start model's on their answer tokens
    processor = load_processor(str(model))
    batch = supervised_batch(processor, [decode_row(i, r) for i, r in iter_rows(shard_files(str(tmp_path / "s")))],
                             torch.device("cpu"))
    assert losses[0] == pytest.approx(answer_loss(load_model(ModelConfig(path=str(model)), torch.float32), batch), rel=1e-4)
    # the folder written holds the trained weights (a from_pretrained folder)
    assert answer_loss(load_model(ModelConfig(path=str(out)), torch.float32), batch) < 0.5 * losses[0]


def test_guess_labels_are_guesses_not_truths(tmp_path):
    """answers="guess": the labels are well-formed answers drawn without the truth (seeded)."""
    import random

    from rewards import guess_answer

    model = save_tiny_model(tmp_path / "m", seed=0)
    write_toy_shards(tmp_path / "s", rows=4, files=1)
    processor = load_processor(str(model))
    examples = [decode_row(i, r) for i, r in iter_rows(shard_files(str(tmp_path / "s")))]
    texts = answer_texts(examples, "guess", random.Random(1))
    rng = random.Random(1)
    assert texts == [guess_answer(ex.task, ex.truth, rng) for ex in examples]
    assert all(t != oracle_answer(ex.task, ex.truth) for t, ex in zip(texts, examples))
    batch = supervised_batch(processor, examples, torch.device("cpu"), texts)
    for row, text in zip(batch["labels"], texts):
        assert processor.tokenizer.decode(row[row != -100].tolist()[:-1]) == text
