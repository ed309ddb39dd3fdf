"""The model step of `vrft label`: a Beam `ModelHandler` that samples G completions per prompt with the
trainer's own sampling code.

Beam's `RunInference` loads the model once per worker process (its shared handle: the threads of a
process share one copy) and hands `run_inference` batches of up to `batch_size` prompts, which go to
the model in one `generate` call: `train.rollout.generate` with `train.rollout.sampling_config` (the
stored fps as time per patch, the convention's 3-D positions, the pixel path checked against the
processor at load), exactly as a training step samples; on a GPU, fp32 weights under bf16 autocast as
the trainer runs. Each row draws from its own seeded stream (train/label/sampler.py), so a sample's
completions do not depend on its batch, its worker or the order of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from train.inputs import PromptInputs
from train.label.settings import LabelSettings


@dataclass
class LabelInput:
    """One sample on its way through the job: its unit, how many samples the unit sends, its prompt."""

    unit: int
    expected: int                           # samples of the unit that reach the model
    prompt: PromptInputs
    skipped: tuple = ()                     # the unit's samples that could not be shown: (id, reason, detail)


@dataclass
class Completions:
    texts: list[str]                        # [G] decoded, special tokens dropped
    tokens: list[int]                       # [G] completion tokens, the first EOS included
    truncated: list[bool]                   # [G] no EOS within max_new_tokens


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    gen_config: Any
    device: Any
    autocast: bool                          # bf16 autocast over fp32 weights (GPU), as the trainer


def load(settings: LabelSettings) -> LoadedModel:
    import torch

    from train.inputs import check_against_processor
    from train.model import load_model, load_processor, mixed_precision, weights_dtype
    from train.rollout import sampling_config

    cfg = settings.model_config()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = load_model(cfg, weights_dtype(cfg)).to(device).eval()
    processor = load_processor(settings.model_path)
    check_against_processor(processor)      # the device-side pixel path must equal this processor's
    gen = sampling_config(model, group_size=settings.group_size, temperature=settings.temperature,
                          top_p=settings.top_p, top_k=settings.top_k, max_new_tokens=settings.max_new_tokens)
    return LoadedModel(model, processor, gen, device, mixed_precision(cfg) == "bf16")


def sample(loaded: LoadedModel, prompts: Sequence[PromptInputs], seed: int) -> list[Completions]:
    """G completions for each prompt, each row from its (seed, sample id, completion) stream."""
    import contextlib

    import torch

    from train.label.sampler import SeededRows, row_seed
    from train.rollout import generate

    G = loaded.gen_config.num_return_sequences
    seeds = [row_seed(seed, p.example.sample_id, j) for p in prompts for j in range(G)]
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if loaded.autocast else contextlib.nullcontext()
    with amp:
        rollout = generate(loaded.model, loaded.processor, list(prompts), loaded.gen_config, loaded.device,
                           logits_processor=[SeededRows(seeds, loaded.gen_config)])
    tokens = rollout.completion_mask.sum(dim=1).tolist()
    truncated = rollout.truncated.tolist()
    return [Completions(rollout.texts[i * G:(i + 1) * G], tokens[i * G:(i + 1) * G], truncated[i * G:(i + 1) * G])
            for i in range(len(prompts))]


class CompletionsHandler(ModelHandler[LabelInput, PredictionResult, LoadedModel]):
    """RunInference's model: LabelInput -> PredictionResult(example=LabelInput, inference=Completions)."""

    def __init__(self, settings: LabelSettings) -> None:
        # full batches from the start: Beam's adaptive batching would begin at 1 prompt per `generate` call
        super().__init__(min_batch_size=settings.batch_size, max_batch_size=settings.batch_size)
        self.settings = settings

    def load_model(self) -> LoadedModel:
        return load(self.settings)

    def run_inference(self, batch: Sequence[LabelInput], model: LoadedModel,
                      inference_args: dict[str, Any] | None = None) -> Iterable[PredictionResult]:
        out = sample(model, [x.prompt for x in batch], self.settings.seed)
        return [PredictionResult(x, c, self.settings.model_fingerprint) for x, c in zip(batch, out)]

    def get_num_bytes(self, batch: Sequence[LabelInput]) -> int:
        return sum(int(x.prompt.example.frames.nbytes) for x in batch)  # not a pickle of every frame

    def get_metrics_namespace(self) -> str:
        return "vrft_label"

    def get_resource_hints(self) -> dict:
        return {"accelerator": self.settings.accelerator} if self.settings.accelerator else {}
