"""Loading the policy and the frozen reference, and the switches that change what trains.

Precision: on GPU the weights stay float32 and forwards run under bf16 autocast (accelerate's
mixed_precision), because AdamW steps of lr 1e-6 are far below bf16's resolution and would vanish on
bf16 weights (the reference relied on DeepSpeed's fp32 master weights for this). `model.dtype: bfloat16`
trades that for memory. The reference model only runs forwards, so it is loaded in bf16 on GPU.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

from train.config import ModelConfig, model_source

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def weights_dtype(cfg: ModelConfig) -> torch.dtype:
    return torch.float32 if cfg.dtype == "auto" else _DTYPES[cfg.dtype]


def mixed_precision(cfg: ModelConfig) -> str:
    """accelerate's mixed_precision: bf16 autocast on GPU unless the weights are already low precision."""
    return "bf16" if torch.cuda.is_available() and cfg.dtype in ("auto", "float32") else "no"


def load_model(cfg: ModelConfig, dtype: torch.dtype):
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(model_source(cfg.path), dtype=dtype, attn_implementation=cfg.attn_implementation)


def load_processor(path: str):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(model_source(path))
    processor.tokenizer.padding_side = "left"
    return processor


def vision_tower(model) -> torch.nn.Module:
    """The vision encoder inside a (possibly peft-wrapped) Qwen2.5-VL model."""
    for name, module in model.named_modules():
        if name.split(".")[-1] == "visual":
            return module
    raise ValueError("no vision tower (a submodule named 'visual') in this model")


def prepare_policy(model, cfg: ModelConfig):
    """LoRA, a frozen vision tower and gradient checkpointing, as the config asks."""
    if cfg.freeze_vision:
        vision_tower(model).requires_grad_(False)
    if cfg.gradient_checkpointing:  # named activation checkpointing from transformers 5.x on
        enable = getattr(model, "activation_checkpointing_enable", None)
        if enable is not None:
            enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.lora_rank > 0:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
            target_modules=list(cfg.lora_targets), bias="none",
        )
        model = get_peft_model(model, lora)
    return model


def load_reference(cfg: ModelConfig, beta: float, device: torch.device):
    """The frozen starting point for the KL term; None when beta = 0 or when LoRA can switch itself off."""
    if beta == 0 or cfg.lora_rank > 0:
        return None
    dtype = torch.bfloat16 if device.type == "cuda" else weights_dtype(cfg)
    ref = load_model(cfg, dtype).to(device).eval()
    ref.requires_grad_(False)
    return ref


@contextmanager
def reference_model(policy, ref, lora: bool) -> Iterator[torch.nn.Module]:
    """The model to score the reference log-probs with: the frozen copy, or the policy without its adapters."""
    if ref is not None:
        yield ref
    elif lora:
        with policy.disable_adapter():
            yield policy
    else:
        raise ValueError("no reference model (beta = 0)")


def ready_to_generate(model, device: torch.device) -> None:
    """Under FSDP2 (torch `fully_shard`), one text-token forward through the outermost unit before `generate`.

    transformers 5.24's `generate` runs the vision tower (`get_video_features`) before any whole-model
    forward. Under FSDP2 that breaks twice: FSDP sets its units up on the first forward through the
    outermost one, so a vision block called first takes itself for the root; and the vision patch
    embedding and merger belong to the outermost unit (only the vision and decoder blocks are units of
    their own, as accelerate_fsdp.yaml wraps), whose parameters are gathered only by its own forward, so
    the convolution meets sharded DTensors. One forward sets the units up and gathers the outermost
    unit, which FSDP2 keeps gathered after forward until the next backward (accelerate wraps it so):
    needed before every `generate`, since each backward frees it again. Without FSDP2 this does nothing.
    """
    from torch.distributed.fsdp import FSDPModule

    root = next((m for m in model.modules() if isinstance(m, FSDPModule)), None)
    if root is not None:
        with torch.no_grad():
            root(input_ids=torch.zeros((1, 1), dtype=torch.long, device=device), use_cache=False)


def trainable_parameters(model) -> tuple[int, int]:
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)

