"""GRPO for video LMs on curated shards: the training loop, one step as named phases.

Algorithm (Shao et al. 2024, as VideoChat-R1 uses it). Each step, for P prompts per process:
  data         take the next P examples; a worker thread has already decoded their JPEG frames (uint8) and
               built the prompt tokens with the processor's text pieces (chat template, video tokens, time
               positions from the stored fps); no pixel math on the CPU
  normalize    the P prompts' uint8 frames go to the model's device, are cut into the processor's patch
               layout and rescaled + normalized there in one op (the processor's arithmetic; train/patches.py)
  rollout      sample G completions per prompt from the current policy (left padding, temperature, top-p)
  score        reward each completion with the task's reward (rewards.score_batch, per task in the batch)
  advantages   A = (r - mean_group) / (std_group + 1e-4)  (or the batch std, or no scaling)
  reference    log-probs under the frozen reference (beta > 0) and, when num_iterations > 1, under the
               policy that sampled (the "old" policy)
  loss+backward    per token: -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A) + beta * k3 KL,
               aggregated (sequence-mean by default), over micro-batches with gradient accumulation
  optimizer step   clip the gradient norm, AdamW, learning-rate schedule
  (loss+backward and optimizer step repeat num_iterations times over the same rollout)
  log, checkpoint

Several processes (accelerate / torchrun; DDP or FSDP2): each process holds P prompts of its own rows.
The loss's normalisers (trained tokens, trained sequences, batch size), the `batch` advantage std and
the logged statistics are computed over every process (train/distributed.py), so N processes holding
P prompts each make the update one process holding N * P would. Sampling draws from seed + process index.

Where vrft departs from the paper's code, and why:
  * every log-prob forward gets the video tensors and `second_per_grid_ts` (the reference omits
    second_per_grid_ts, exact only at exactly 2 fps; TRL 1.16 drops the video altogether);
  * every forward (rollout, reference, loss, evaluation) gets 3-D rope positions vrft computes by the
    checkpoints' convention (train/positions.py): transformers 5.24 starts the text after a video inside
    the video's time positions; the start-up note says whether the installed library agrees;
  * under FSDP2, one text-token forward before each `generate` sets the units up and gathers the
    outermost one (transformers 5.24 runs the vision tower before any whole-model forward;
    train/model.py `ready_to_generate`);
  * frames come decoded from shards with their real sampled fps; no video is decoded in the loop, and
    the processor's pixel math runs on the model's device (same values; checked against it at start-up);
  * several prompts per process per step, gradients accumulated over micro-batches; the loss is
    normalised over the whole rollout batch, so the micro-batch size does not change the update;
  * the sampling config is complete (transformers 5.x fills unset fields from the checkpoint's
    generation_config, which for Qwen2.5-VL means top_k=1 and repetition_penalty=1.05); the shipped
    paper config sets top_k=50, the library default the reference sampled with;
  * log-probs use logits / temperature (the distribution sampled from; identical at the paper's 1.0),
    computed only at completion positions;
  * on GPU, fp32 weights with bf16 autocast instead of DeepSpeed ZeRO-3 (lr 1e-6 steps vanish in bf16);
  * options the reference lacks: ratio clipping with num_iterations > 1, token-mean / Dr. GRPO
    aggregation, batch / no advantage scaling, masking truncated completions, LoRA, frozen vision tower,
    dynamic sampling (`rollout.skip_zero_spread`: zero-spread groups dropped, more prompts drawn; train/dynamic.py);
  * examples are read in the shards' (shuffled) order; the reference drew single-task batches at random.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable

import torch

from train.checkpoint import TrainerState, checkpoint_dir, latest_checkpoint, load_checkpoint, save_checkpoint, save_final
from train.config import TrainConfig
from train.data import Prefetcher, count_rows, shard_files
from train.dynamic import fill_groups
from train.distributed import check_launch, global_advantages, global_totals, maxed, step_metrics
from train.inputs import PromptInputs, check_against_processor, device_pixels
from train.limits import PromptLimits
from train.losses import policy_loss
from train.metrics import RunLog, ZeroSpreadWatch, sample_rows
from train.model import (
    load_model, load_processor, load_reference, mixed_precision, prepare_policy, reference_model, trainable_parameters,
    weights_dtype,
)
from train.positions import startup_note
from train.rollout import Rollout, completion_logprobs, generate, sampling_config, vision_token_ids
from train.scoring import ScoreFn, default_score_fn, score_rows
from train.timing import PhaseTimers


def lr_lambda(schedule: str, warmup: int, total: int):
    """Multiplier of the base lr after `n` optimizer steps: linear warmup, then constant/linear/cosine."""
    def f(n: int) -> float:
        if n < warmup:
            return (n + 1) / (warmup + 1)
        if schedule == "constant" or total <= warmup:
            return 1.0
        done = min(1.0, (n - warmup) / max(1, total - warmup))
        return 1.0 - done if schedule == "linear" else 0.5 * (1.0 + math.cos(math.pi * done))
    return f


class GRPOTrainer:
    def __init__(self, config: TrainConfig, score_fn: ScoreFn | None = None):
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        self.cfg = config
        self.score_fn = score_fn or default_score_fn()
        self.accelerator = Accelerator(  # cpu: without it, torchrun on CPUs gives N unrelated single processes
            mixed_precision=mixed_precision(config.model), step_scheduler_with_optimizer=False,
            cpu=not torch.cuda.is_available(),
        )
        check_launch(self.accelerator)
        self.device = self.accelerator.device
        set_seed(config.run.seed)  # the same on every process while the models are built
        self.out = Path(config.run.out)
        self.timers = PhaseTimers(sync_cuda=self.device.type == "cuda")

        m = config.model
        self._say(f"loading the model from {m.path} ...")
        self.processor = load_processor(m.path)
        check_against_processor(self.processor)  # the device-side pixel path must equal this processor's
        self._worker_processor = load_processor(m.path)  # the prefetch thread's own copy (tokenizers are not shared)
        policy = prepare_policy(load_model(m, weights_dtype(m)), m)
        if config.loss.beta > 0 and m.lora_rank == 0:
            self._say("loading the frozen reference model (loss.beta > 0) ...")
        self.ref = load_reference(m, config.loss.beta, self.device)
        o = config.optim
        params = [p for p in policy.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)

        self.limits = PromptLimits(config.data.max_frames, config.data.max_prompt_tokens)
        self.files = shard_files(config.data.shards)
        self.per_step = config.data.prompts_per_step * self.accelerator.num_processes  # rows consumed per step
        available = sum(count_rows(self.files)) * config.data.epochs // self.per_step
        self.total_steps = min(config.run.steps, available) if config.run.steps else available
        updates = self.total_steps * config.loss.num_iterations
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(o.schedule, o.warmup_steps, updates))
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(policy, optimizer, scheduler)
        self.gen_config = sampling_config(
            self.accelerator.unwrap_model(self.model), group_size=config.rollout.group_size,
            temperature=config.rollout.temperature, top_p=config.rollout.top_p, top_k=config.rollout.top_k,
            max_new_tokens=config.rollout.max_new_tokens,
        )
        self.suppressed = vision_token_ids(policy)   # never sampled, so left out of every log-prob softmax
        self.state = TrainerState()
        self.trainable, self.parameters = trainable_parameters(policy)
        self._say(f"model ready ({self.parameters:,} parameters, {self.trainable:,} trainable); {self.total_steps} "
                  f"steps of {self.per_step} prompts x {config.rollout.group_size} completions")
        self.positions_note = ""
        self._more: Callable[[], list[PromptInputs] | None] | None = None  # the next block of prompts (in train())
        set_seed(config.run.seed, device_specific=True)  # sampling: seed + process index, its own on each process

    def _say(self, text: str) -> None:
        """A start-up line for the person waiting (main process only)."""
        if self.accelerator.is_main_process and self.cfg.run.progress:
            print(text, flush=True)

    # ---- checkpoints ---------------------------------------------------------------------------

    def resume(self, path: Path | None = None) -> Path:
        """Load the given checkpoint, or the latest under run.out; the run continues where it stopped."""
        path = path or latest_checkpoint(self.out)
        if path is None:
            raise FileNotFoundError(f"no checkpoint to resume from under {self.out / 'checkpoints'}")
        self.state = load_checkpoint(self.accelerator, Path(path))
        return Path(path)

    def save(self) -> Path:
        return save_checkpoint(self.accelerator, checkpoint_dir(self.out, self.state.step), self.state)

    # ---- the loop --------------------------------------------------------------------------------

    def _prefetcher(self) -> Prefetcher:
        proc = self._worker_processor
        return Prefetcher(
            self.files, lambda i, row: self.limits.encode(proc, i, row),
            start=self.state.position, epochs=self.cfg.data.epochs, depth=self.cfg.data.prefetch,
            block=self.cfg.data.prompts_per_step, rank=self.accelerator.process_index,
            world=self.accelerator.num_processes,
        )

    def train(self) -> list[dict[str, float]]:
        """Run until run.steps or the end of the data; returns the logged metrics of each step."""
        run = self.cfg.run
        log = RunLog(
            self.out, enabled=self.accelerator.is_main_process, tensorboard=run.tensorboard,
            progress=run.progress, total=self.total_steps, start=self.state.step,
        )
        self.timers.on_start = log.phase
        flat = ZeroSpreadWatch(run.warn_zero_spread_steps, self.cfg.rollout.group_size, self.cfg.rollout.max_new_tokens)
        history: list[dict[str, float]] = []
        batches = self._prefetcher()
        self._more = lambda: self._take(batches)  # dynamic sampling's extra draws come from the same stream
        try:
            while self.state.step < self.total_steps:
                started = time.perf_counter()
                with self.timers("data"):
                    prompts = [next(batches, None) for _ in range(self.cfg.data.prompts_per_step)]
                if any(p is None for p in prompts):
                    break  # the data ran out mid-batch (another process's share, or a partial last batch)
                if not self.positions_note:
                    self.positions_note = startup_note(self.accelerator.unwrap_model(self.model), prompts[0])
                    log.note(self.positions_note)
                metrics, rollout = self.train_step(prompts)
                self.state.step += 1
                self.state.position += self.per_step * (1 + int(metrics.get("dynamic/draws", 0)))
                metrics["step_seconds"] = maxed(self.accelerator, [time.perf_counter() - started])[0]
                metrics["tokens_per_second"] = metrics["tokens"] / metrics["step_seconds"]
                history.append(metrics)
                with self.timers("log"):
                    if self.state.step % max(run.log_every, 1) == 0 or self.state.step == self.total_steps:
                        log.metrics(self.state.step, metrics)
                    if run.sample_every and self.state.step % run.sample_every == 0:
                        log.samples(self.state.step, sample_rows(rollout, run.samples_shown))
                    log.advance(self.state.step, metrics)
                    warning = flat.update(metrics)
                    if warning:
                        log.note(warning)
                with self.timers("checkpoint"):
                    if run.save_every and self.state.step % run.save_every == 0:
                        self.save()
        finally:
            self._more = None
            self.timers.on_start = None
            batches.close()
            log.close()
        if not run.save_every or self.state.step % run.save_every:
            self.save()
        save_final(self.accelerator, self.model, self.processor, self.out / "final", self.cfg.to_dict())
        return history

    def _take(self, batches: Prefetcher) -> list[PromptInputs] | None:
        """This process's next block of prompts (dynamic sampling's extra draws); None when the data ran out."""
        with self.timers("data"):
            prompts = [next(batches, None) for _ in range(self.cfg.data.prompts_per_step)]
        return None if any(p is None for p in prompts) else prompts

    def _sample(self, prompts: list[PromptInputs]) -> Rollout:
        """G completions per prompt, scored."""
        cfg, t = self.cfg, self.timers
        model = self.accelerator.unwrap_model(self.model)
        with t("normalize"):
            pixels = device_pixels(prompts, self.device)

        with t("rollout"):
            model.eval()
            with self.accelerator.autocast():
                rollout = generate(model, self.processor, prompts, self.gen_config, self.device, pixels)

        with t("score"):
            examples = [p.example for p in prompts]
            rows = rollout.prompt_index.tolist()
            rollout.rewards, rollout.components = score_rows(
                self.score_fn, [examples[i].task for i in rows], rollout.texts, [examples[i].truth for i in rows],
                cfg.reward.profile, cfg.reward.weights,
            )
        return rollout

    def train_step(self, prompts: list[PromptInputs]) -> tuple[dict[str, float], Rollout]:
        """One rollout batch: sample, score (with `rollout.skip_zero_spread`: drop flat groups, draw more
        prompts until the batch is full, train/dynamic.py), advantages, reference, num_iterations updates.
        Outside `train()` there is no stream to draw more from: flat groups stay in without loss."""
        cfg, t, more = self.cfg, self.timers, self._more
        model = self.accelerator.unwrap_model(self.model)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

        rollout, draws = self._sample(prompts), {}
        if cfg.rollout.skip_zero_spread:
            rollout, counts = fill_groups(
                rollout, more or (lambda: None), self._sample, cfg.rollout.max_extra_draws if more else 0,
                lambda short, out: tuple(v > 0 for v in maxed(self.accelerator, [float(short), float(out)])),
                model, self.processor.tokenizer.pad_token_id,
            )
            draws = counts.metrics()

        with t("advantages"):
            rollout.advantages = global_advantages(
                self.accelerator, rollout.rewards, rollout.group_size, cfg.loss.advantage_scale,
            )

        with t("reference"):
            if cfg.loss.beta > 0:
                with reference_model(model, self.ref, cfg.model.lora_rank > 0) as ref:
                    rollout.ref_logp = self._logprobs(ref, rollout)
            if cfg.loss.num_iterations > 1:
                rollout.old_logp = self._logprobs(model, rollout)

        loss_stats: dict[str, float] = {}
        for _ in range(cfg.loss.num_iterations):
            with t("loss+backward"):
                loss_stats = self._accumulate(rollout)
            with t("optimizer step"):
                loss_stats["grad_norm"] = self._optimizer_step()

        return self._step_metrics(rollout, {**loss_stats, **draws}), rollout

    # ---- phases' helpers -------------------------------------------------------------------------

    def _step_metrics(self, rollout: Rollout, loss_stats: dict[str, float]) -> dict[str, float]:
        counts = {**loss_stats, "tokens": float(rollout.attention_mask.sum()),
                  "completion_tokens": float(rollout.completion_mask.sum())}
        peaks = {f"time/{k}": v for k, v in self.timers.pop().items()}
        if self.device.type == "cuda":
            peaks["peak_memory_gib"] = torch.cuda.max_memory_allocated(self.device) / 2**30
        return {**step_metrics(self.accelerator, rollout, counts, peaks), "lr": self.scheduler.get_last_lr()[0]}

    def _micro_batches(self, rollout: Rollout) -> list[torch.Tensor]:
        return list(torch.arange(rollout.size).split(self.cfg.optim.micro_batch_size))

    @torch.no_grad()
    def _logprobs(self, model, rollout: Rollout) -> torch.Tensor:
        """[B, Lc] log-probs of the sampled tokens under `model`, without gradients."""
        was_training = model.training
        model.eval()
        out = []
        for rows in self._micro_batches(rollout):
            with self.accelerator.autocast():
                out.append(completion_logprobs(
                    model, rollout.forward_inputs(rows, self.device), rollout.completion_width,
                    self.cfg.rollout.temperature, self.suppressed,
                ).cpu())
        model.train(was_training)
        return torch.cat(out)

    def _accumulate(self, rollout: Rollout) -> dict[str, float]:
        """Forward + backward over micro-batches; gradients add up to the gradient of the batch loss (all
        processes' rows: normalisers counted over every process, and each process backpropagates `world`
        times its share because DDP / FSDP average the gradients). Returns this process's shares."""
        cfg = self.cfg
        self.model.train()
        mask = rollout.train_mask(cfg.loss.mask_truncated)                  # [B, Lc]
        totals = global_totals(self.accelerator, mask, cfg.rollout.max_new_tokens, rollout.trained_rows)
        world = self.accelerator.num_processes
        sums = {"loss": 0.0, "policy_loss": 0.0, "kl": 0.0, "clip_low": 0.0, "clip_high": 0.0}
        chunks = self._micro_batches(rollout)
        for k, rows in enumerate(chunks):
            sync = nullcontext() if k == len(chunks) - 1 else self.accelerator.no_sync(self.model)
            with sync:
                inputs = rollout.forward_inputs(rows, self.device)
                with self.accelerator.autocast():
                    logp = completion_logprobs(
                        self.model, inputs, rollout.completion_width, cfg.rollout.temperature, self.suppressed,
                    )
                pick = lambda x: None if x is None else x[rows].to(self.device)  # noqa: E731
                parts = policy_loss(
                    logp, pick(rollout.old_logp), pick(rollout.ref_logp), rollout.advantages[rows].to(self.device),
                    mask[rows].to(self.device), beta=cfg.loss.beta, epsilon_low=cfg.loss.epsilon_low,
                    epsilon_high=cfg.loss.epsilon_high, aggregation=cfg.loss.aggregation, totals=totals,
                )
                self.accelerator.backward(parts.loss * world)
            share = parts.tokens.item() / max(totals.tokens, 1)
            sums["loss"] += parts.loss.item()
            sums["policy_loss"] += parts.policy.item() * share
            sums["kl"] += parts.kl.item() * share
            sums["clip_low"] += parts.clip_low.item() * share
            sums["clip_high"] += parts.clip_high.item() * share
        sums["clip_fraction"] = sums["clip_low"] + sums["clip_high"]
        return sums

    def _optimizer_step(self) -> float:
        max_norm = self.cfg.optim.max_grad_norm
        params = [p for p in self.model.parameters() if p.requires_grad]
        norm = self.accelerator.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def close(self) -> None:
        self.accelerator.end_training()


def run_training(config: TrainConfig, resume: str | bool | None = None, score_fn: ScoreFn | None = None) -> dict[str, Any]:
    """Build the trainer, optionally resume (True = latest checkpoint), train; a summary for the CLI."""
    trainer = GRPOTrainer(config, score_fn=score_fn)
    resumed = None
    if resume:
        resumed = trainer.resume(None if resume is True else Path(resume))
    history = trainer.train()
    trainer.close()
    return {
        "steps": trainer.state.step, "resumed_from": str(resumed) if resumed else None, "out": str(trainer.out),
        "history": history, "trainable_parameters": trainer.trainable, "parameters": trainer.parameters,
        "positions": trainer.positions_note, "prompts": trainer.limits.summary(),
    }
