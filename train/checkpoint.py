"""Checkpoints: accelerate's state (model, optimizer, scheduler, RNG of every process) plus the trainer's
own position (step, rows consumed), so `--resume` continues the same run exactly. The final model is
also written with `save_pretrained` (and the processor) so it loads like any checkpoint, with the
training config beside it (`vrft eval` reads its generation length from there)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipelines import storage

STATE = "trainer_state.json"
RUN_CONFIG = "run_config.json"  # the settings a run started with: in run.out (for --resume) and in final/ (for eval)


@dataclass
class TrainerState:
    step: int = 0        # training steps done
    position: int = 0    # global shard rows consumed (all processes)


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"step-{step:07d}"


def latest_checkpoint(out: Path) -> Path | None:
    """The newest complete checkpoint under OUT/checkpoints (complete = its state file was written)."""
    root = out / "checkpoints"
    done = sorted(p for p in root.glob("step-*") if (p / STATE).is_file()) if root.is_dir() else []
    return done[-1] if done else None


def save_checkpoint(accelerator, path: Path, state: TrainerState) -> Path:
    """Write the state; the trainer-state file goes last, atomically, and marks the checkpoint complete."""
    accelerator.save_state(str(path / "state"))
    if accelerator.is_main_process:
        storage.write_text(str(path / STATE), json.dumps({"step": state.step, "position": state.position}))
    accelerator.wait_for_everyone()
    return path


def load_checkpoint(accelerator, path: Path) -> TrainerState:
    if not (path / STATE).is_file():
        raise FileNotFoundError(f"not a complete checkpoint (no {STATE}): {path}")
    accelerator.load_state(str(path / "state"))
    raw = json.loads((path / STATE).read_text())
    return TrainerState(step=int(raw["step"]), position=int(raw["position"]))


def save_final(accelerator, model, processor, path: Path, config: dict | None = None) -> Path:
    """A `from_pretrained`-loadable model and its processor. LoRA adapters are merged into the weights
    in place (the run is over; its last checkpoint keeps the adapters)."""
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    if hasattr(unwrapped, "merge_and_unload"):  # peft
        if accelerator.is_main_process:
            unwrapped.merge_and_unload().save_pretrained(str(path))
    else:
        state_dict = accelerator.get_state_dict(model)  # gathers sharded (FSDP) weights
        if accelerator.is_main_process:
            unwrapped.save_pretrained(str(path), state_dict=state_dict)
    if accelerator.is_main_process:
        processor.save_pretrained(str(path))
        if config is not None:
            storage.write_json(str(path / RUN_CONFIG), config, indent=1)
    accelerator.wait_for_everyone()
    return path


def trained_max_new_tokens(model_dir: Path) -> int:
    """The completion length the model at `model_dir` was trained with; the training default (1024) for a
    model vrft did not train, so evaluation never cuts the thinking a trained model learned to write."""
    from train.config import RolloutConfig

    path = Path(model_dir) / RUN_CONFIG
    if not path.is_file():
        return RolloutConfig().max_new_tokens
    return int(json.loads(path.read_text())["rollout"]["max_new_tokens"])
