"""Two CPU processes over gloo for the multi-process tests: `launch` runs this file under torchrun, and
each process runs the scenarios and writes what it saw to OUT/<scenario>-rank<r>.json (or .pt).

Scenarios (all in one launch, to pay the start-up once):
  combos  one rollout batch replayed (fixed completions, some cut off, some ended), every aggregation x
          mask_truncated x advantage scale: the gradient after the all-reduce and the step's metrics
  runs    a 4-step run (real sampling), and the same run stopped in step 4 and resumed from step 2
  fsdp    the tiny model wrapped with torch `fully_shard` as train/configs/accelerate_fsdp.yaml would:
          generate, a training step, generate again, beside an unwrapped copy
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
COMBOS = [(agg, masked, scale) for agg in ("token-mean", "sequence-mean", "dr-grpo")
          for masked in (False, True) for scale in ("group", "batch", "none")]
COMBO_OVERRIDES = ("loss.beta=0",)  # before any update the KL term's gradient is 0: no reference needed


def launch(out: Path, model_dir: Path, shards: Path, timeout: int = 1200) -> None:
    """torchrun --standalone --nproc_per_node 2 this file; raises with the output when it fails."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(Path(__file__)), str(out), str(model_dir), str(shards)]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"two-process run failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}")


# ---- replayed rollouts: the same completions for a prompt whichever process holds it -------------


# where completion g of prompt (index % 4) puts its EOS; None = cut off. Prompts 0 and 1 (the two
# processes' first rows) differ in trained tokens and in cut-off rows, so per-process normalisers show.
ENDS = [[1, None, 3, 5], [None, None, 6, 2], [0, 4, None, 7], [2, None, None, 6]]


def replay_completion(index: int, g: int, width: int, eos: int, vocab: list[int]) -> list[int]:
    """Completion g of the prompt at stream position `index`: random ordinary tokens, then EOS from
    ENDS onwards (or none: cut off at `width`)."""
    rng = torch.Generator().manual_seed(1000 * index + g)
    tokens = [vocab[i] for i in torch.randint(len(vocab), (width,), generator=rng).tolist()]
    end = ENDS[index % 4][g % 4]
    if end is not None and end < width:
        tokens = tokens[:end] + [eos] * (width - end)
    return tokens


def replaying(real_generate, processor):
    """A stand-in for train.rollout.generate that runs it with `model.generate` answering from
    `replay_completion`, so the Rollout is built by the real code."""
    tok = processor.tokenizer
    vocab = tok.convert_tokens_to_ids(["e", "\u0120", "a", "t", "o", "n", "s", "r", "\u0120the"])
    eos = tok.convert_tokens_to_ids("<|im_end|>")

    def fake(model, processor, prompts, gen_config, device, pixels=None):
        G, width = gen_config.num_return_sequences, gen_config.max_new_tokens
        tail = torch.tensor([replay_completion(p.example.index, g, width, eos, vocab) for p in prompts for g in range(G)])

        def model_generate(**kw):
            return torch.cat([kw["input_ids"].repeat_interleave(G, dim=0), tail.to(kw["input_ids"].device)], dim=1)

        model.generate = model_generate
        try:
            return real_generate(model, processor, prompts, gen_config, device, pixels)
        finally:
            del model.generate
    return fake


def capture_gradients(trainer) -> list[dict[str, torch.Tensor]]:
    """Replace the optimizer step by a copy of the gradients (then zeroed): the update's input."""
    captured: list[dict[str, torch.Tensor]] = []

    def capture() -> float:
        captured.append({n.removeprefix("module."): p.grad.detach().clone()
                         for n, p in trainer.model.named_parameters() if p.grad is not None})
        trainer.optimizer.zero_grad(set_to_none=True)
        return 0.0

    trainer._optimizer_step = capture
    return captured


def combo_config(cfg, aggregation: str, masked: bool, scale: str):
    cfg.loss.aggregation, cfg.loss.mask_truncated, cfg.loss.advantage_scale = aggregation, masked, scale
    return cfg


def config(model_dir: Path, shards: Path, out: Path, *overrides: str):
    from train.config import load_config
    from tests.train.conftest import TEST_RUN, TINY_CONFIG

    base = [*TEST_RUN, f"model.path={model_dir}", f"data.shards={shards}", f"run.out={out}", "run.progress=false",
            "run.tensorboard=false", "run.sample_every=0", "data.prompts_per_step=1", "rollout.group_size=4",
            "loss.beta=0.1", "run.steps=0", "run.save_every=2", "loss.aggregation=token-mean",
            "loss.advantage_scale=batch"]
    return load_config(TINY_CONFIG, base + list(overrides))


# ---- the scenarios -------------------------------------------------------------------------------


def first_prompts(trainer):
    batches = trainer._prefetcher()
    try:
        return [next(batches) for _ in range(trainer.cfg.data.prompts_per_step)]
    finally:
        batches.close()


def run_combos(trainer) -> dict[str, Any]:
    """Gradients and metrics of one replayed batch under every combination (no update in between)."""
    import train.rollout
    import train.trainer

    train.trainer.generate = replaying(train.rollout.generate, trainer.processor)
    try:
        grads = capture_gradients(trainer)
        prompts = first_prompts(trainer)
        metrics = []
        for combo in COMBOS:
            combo_config(trainer.cfg, *combo)
            metrics.append(trainer.train_step(prompts)[0])
    finally:
        train.trainer.generate = train.rollout.generate
    return {"grads": grads, "metrics": metrics, "ids": [p.example.sample_id for p in prompts]}


def digest(model) -> str:
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def recording(trainer, steps: list[dict[str, Any]]) -> None:
    """Wrap train_step: each step's rows, sampling RNG, local rewards and tokens, weights after it."""
    real = trainer.train_step

    def step(prompts):
        rng = hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest()
        metrics, rollout = real(prompts)
        steps.append({"ids": [p.example.sample_id for p in prompts], "rng": rng, "weights": digest(trainer.model),
                      "rewards": rollout.rewards.tolist(), "tokens": float(rollout.attention_mask.sum()),
                      "completion_tokens": float(rollout.completion_mask.sum())})
        return metrics, rollout

    trainer.train_step = step


def run_runs(model_dir: Path, shards: Path, out: Path) -> dict[str, Any]:
    """Uninterrupted (a), and stopped in step 4 then resumed from the step-2 checkpoint (b)."""
    from tests.train.conftest import Stop, dies_on_call, e_share
    from train.trainer import GRPOTrainer

    a = GRPOTrainer(config(model_dir, shards, out / "a"), score_fn=e_share)
    steps: list[dict[str, Any]] = []
    recording(a, steps)
    whole = a.train()

    try:
        GRPOTrainer(config(model_dir, shards, out / "b"), score_fn=dies_on_call(4)).train()
    except Stop:
        pass
    b = GRPOTrainer(config(model_dir, shards, out / "b"), score_fn=e_share)
    resumed_from = str(b.resume())
    resumed = b.train()
    return {"steps": steps, "history": whole, "resumed_history": resumed, "resumed_from": resumed_from}


def fsdp_wrap(model):
    """Wrap with accelerate's own FSDP2 preparation, configured from train/configs/accelerate_fsdp.yaml
    (accelerate refuses FSDP without GPUs at Accelerator(); its wrapping function itself runs on CPU).
    cpu_ram_efficient_loading is off: every process loads the same weights here anyway."""
    import yaml
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.fsdp_utils import fsdp2_prepare_model
    from types import SimpleNamespace

    fsdp = yaml.safe_load((ROOT / "train" / "configs" / "accelerate_fsdp.yaml").read_text())["fsdp_config"]
    plugin = FullyShardedDataParallelPlugin(
        fsdp_version=fsdp["fsdp_version"], auto_wrap_policy=fsdp["fsdp_auto_wrap_policy"],
        transformer_cls_names_to_wrap=fsdp["fsdp_transformer_layer_cls_to_wrap"].split(","),
        reshard_after_forward=fsdp["fsdp_reshard_after_forward"], cpu_ram_efficient_loading=False,
    )
    accelerator = SimpleNamespace(state=SimpleNamespace(fsdp_plugin=plugin), mixed_precision="no",
                                  torch_device_mesh=None, is_main_process=torch.distributed.get_rank() == 0)
    return fsdp2_prepare_model(accelerator, model)


def run_fsdp(model_dir: Path, shards: Path) -> dict[str, Any]:
    """generate -> one SGD step on a log-prob loss -> generate, sharded and unsharded side by side."""
    from torch.distributed.fsdp import FSDPModule

    from train.config import ModelConfig
    from train.data import decode_row, iter_rows, shard_files
    from train.inputs import encode_example
    from train.model import load_model, load_processor
    from train.rollout import completion_logprobs, generate, sampling_config

    cpu = torch.device("cpu")
    processor = load_processor(str(model_dir))
    plain = load_model(ModelConfig(path=str(model_dir)), torch.float32)
    sharded = fsdp_wrap(load_model(ModelConfig(path=str(model_dir)), torch.float32))
    rows = [decode_row(i, row) for i, row in iter_rows(shard_files(str(shards)))][:2]
    prompts = [encode_example(processor, ex) for ex in rows]  # the same batch on both processes
    cfg = sampling_config(plain, group_size=2, temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=6)
    result: dict[str, Any] = {"units": [n for n, m in sharded.named_modules() if isinstance(m, FSDPModule)]}
    optimizers = {"plain": torch.optim.SGD(plain.parameters(), lr=0.5), "sharded": torch.optim.SGD(sharded.parameters(), lr=0.5)}
    for rnd in range(2):
        rollouts = {}
        for name, model in (("plain", plain), ("sharded", sharded)):
            torch.manual_seed(10 + rnd)
            rollouts[name] = generate(model.eval(), processor, prompts, cfg, cpu)
        result[f"sequences_{rnd}"] = {k: r.input_ids.tolist() for k, r in rollouts.items()}
        if rnd == 1:
            break
        for name, model in (("plain", plain), ("sharded", sharded)):
            r = rollouts["plain"]
            logp = completion_logprobs(model.train(), r.forward_inputs(torch.arange(r.size), cpu), r.completion_width)
            (-(logp * r.completion_mask).sum() / r.completion_mask.sum()).backward()
            optimizers[name].step()
            optimizers[name].zero_grad()
    full = {n: (p.full_tensor() if hasattr(p, "full_tensor") else p).detach() for n, p in sharded.named_parameters()}
    diffs = [(full[n] - p.detach()).abs().max().item() for n, p in plain.named_parameters()]
    start = load_model(ModelConfig(path=str(model_dir)), torch.float32)
    moved = [(p.detach() - q.detach()).abs().max().item() for p, q in zip(plain.parameters(), start.parameters())]
    result["max_weight_diff"], result["max_moved"] = max(diffs), max(moved)
    return result


def main() -> None:
    out, model_dir, shards = (Path(a) for a in sys.argv[1:4])
    from tests.train.conftest import e_share
    from train.trainer import GRPOTrainer

    combos_trainer = GRPOTrainer(config(model_dir, shards, out / "combos", *COMBO_OVERRIDES), score_fn=e_share)
    rank = combos_trainer.accelerator.process_index
    torch.save(run_combos(combos_trainer), out / f"combos-rank{rank}.pt")
    (out / f"runs-rank{rank}.json").write_text(json.dumps(run_runs(model_dir, shards, out)))
    try:
        fsdp = run_fsdp(model_dir, shards)
    except Exception as err:  # recorded for the test to show; both processes fail at the same call
        fsdp = {"error": f"{type(err).__name__}: {err}"}
    (out / f"fsdp-rank{rank}.json").write_text(json.dumps(fsdp))
    combos_trainer.close()


if __name__ == "__main__":
    main()
