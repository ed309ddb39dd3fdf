"""GPU check: a few GRPO steps of a larger random-init Qwen2.5-VL-architecture model in bf16 autocast
(fp32 weights) on real-size frames; prints the start-up positions check, tokens/s, per-phase times and
peak memory. Run it through bench/gpu_check.sh on the device machine (no network there: everything is
built here, offline). Under `accelerate launch` / torchrun it runs as several processes (each builds the
same model from the same seed; `--prompts` is per process); only the main process prints.

Sizes (text model; the vision tower is Qwen2.5-VL's real one, 32 blocks of width 1280, ~0.67 B):
  small   hidden 896,  24 layers (a Qwen2.5-0.5B-shaped text model)
  medium  hidden 1536, 28 layers (Qwen2.5-1.5B-shaped; ~2.2 B parameters with the vision tower)
The vocabulary is padded to Qwen's 151,936 so the LM head and the log-prob softmax cost what they do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402

SIZES = {
    "small": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                  num_key_value_heads=2),
    "medium": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                   num_key_value_heads=2),
}
VISION = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, fullatt_block_indexes=[7, 15, 23, 31])
# --cpu-smoke: the same script at toy scale on the CPU, to check it end to end before spending GPU time
SMOKE_TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
SMOKE_VISION = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, fullatt_block_indexes=[1])
VOCAB = 151_936


def build_model(out: Path, size: str, smoke: bool = False) -> int:
    """Random-init model (on this process's GPU, fast) + padded tokenizer + real-size processor, saved in bf16."""
    import os

    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    from train.tiny_model import build_processor, build_tokenizer, tiny_config

    tokenizer = build_tokenizer(512)
    tokenizer.add_tokens([f"<|pad_{i}|>" for i in range(VOCAB - len(tokenizer))], special_tokens=True)
    processor = build_processor(tokenizer, min_pixels=16 * 28 * 28, max_pixels=768 * 28 * 28)
    section = [2, 3, 3] if smoke else [16, 24, 24]  # half the head dim
    text = dict(SMOKE_TEXT if smoke else SIZES[size], max_position_embeddings=32768,
                rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": section})
    vision = dict(SMOKE_VISION if smoke else VISION, out_hidden_size=text["hidden_size"])
    config = tiny_config(tokenizer, text_overrides=text, vision_overrides=vision)
    torch.manual_seed(0)
    if not smoke:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    with torch.device("cpu" if smoke else "cuda"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=eos[1], bos_token_id=eos[1])
    n = sum(p.numel() for p in model.parameters())
    model.to(torch.bfloat16).save_pretrained(out)
    processor.save_pretrained(out)
    del model
    torch.cuda.empty_cache()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="medium")
    ap.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    ap.add_argument("--frames", type=int, default=60, help="frames per video (60 = 30 s at 2 fps)")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--prompts", type=int, default=1, help="prompts per step")
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--cpu-smoke", action="store_true", help="toy scale on the CPU: checks the script, times nothing")
    args = ap.parse_args()

    import torch

    from train.config import load_config
    from train.synthetic_training_shards import write_toy_shards
    from train.trainer import GRPOTrainer

    assert args.cpu_smoke or torch.cuda.is_available(), "no CUDA device"
    world, main_process = int(os.environ.get("WORLD_SIZE", "1")), os.environ.get("RANK", "0") == "0"
    say = print if main_process else (lambda *a, **k: None)
    say(f"device {'cpu' if args.cpu_smoke else torch.cuda.get_device_name()}, torch {torch.__version__}, "
        f"{world} process(es)", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        params = build_model(tmp / "model", args.size, smoke=args.cpu_smoke)
        say(f"built a random {args.size} Qwen2.5-VL: {params / 1e9:.2f} B parameters ({time.perf_counter() - started:.0f} s)", flush=True)
        # 392x224 frames: the reference's size for a 480x270 clip under its 3584-token budget
        write_toy_shards(tmp / "shards", rows=args.prompts * world * (args.steps + 1), files=1,
                         frames=args.frames, fps=2.0, height=224, width=392)
        cfg = load_config(ROOT / "train" / "configs" / "videochat_r1.yaml", [
            f"model.path={tmp / 'model'}", f"data.shards={tmp / 'shards'}", f"run.out={tmp / 'run'}",
            f"run.steps={args.steps + 1}", "run.save_every=0", "run.sample_every=0", "run.progress=false",
            "run.tensorboard=false", "reward.profile=default", f"data.prompts_per_step={args.prompts}",
            f"rollout.max_new_tokens={args.max_new_tokens}", f"optim.micro_batch_size={args.micro_batch}",
        ])
        trainer = GRPOTrainer(cfg)  # the real rewards (all 0 for random weights; timing is the point)
        say(f"trainer ready ({time.perf_counter() - started:.0f} s); video tokens per prompt: "
            f"{args.frames // 2 * (224 // 28) * (392 // 28)}; G = {cfg.rollout.group_size}; "
            f"{trainer.accelerator.num_processes} process(es), {trainer.accelerator.distributed_type}", flush=True)
        history = trainer.train()  # its main process prints the start-up positions check
        timed = history[1:] or history
        summary = {k: statistics.mean(h[k] for h in timed) for k in timed[0] if k.startswith("time/")}
        for key in ("step_seconds", "tokens_per_second", "tokens", "completion_tokens"):
            summary[key] = statistics.mean(h[key] for h in timed)
        summary["generated_tokens_per_second"] = summary["completion_tokens"] / summary["time/rollout"]
        summary["peak_memory_gib"] = max(h.get("peak_memory_gib", 0.0) for h in history)
        say(f"\n{args.size}: {params / 1e9:.2f} B parameters, bf16 autocast, fp32 AdamW, activation checkpointing; "
            f"{world} process(es) x {args.prompts} prompt(s) x G={cfg.rollout.group_size}, {args.frames} frames "
            f"392x224, {args.max_new_tokens} new tokens; mean of {len(timed)} step(s) after a warm-up "
            f"(tokens over all processes; times and memory the slowest / largest process's)")
        for key, value in summary.items():
            say(f"  {key.removeprefix('time/'):<28} {value:12.2f}")
        if args.json and main_process:
            Path(args.json).write_text(json.dumps({"size": args.size, "parameters": params, "processes": world,
                                                   "positions": trainer.positions_note, **summary}, indent=1))
        trainer.close()


if __name__ == "__main__":
    main()
