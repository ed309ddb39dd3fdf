"""The field's own tools read what vrft writes, unchanged: verl's `RLHFDataset` (with qwen_vl_utils) on the
training shards of a demo mixture, verl's reward managers and TRL's reward step on a mixed-task batch.

The clients live in .clients (scripts/clients.sh, run by the bootstrap), not in the venv: the tests that
import them skip with the reason when it is missing. `test_the_video_message_*` checks the same contract
on the message dict without them.
"""

from __future__ import annotations

import asyncio
import glob
import io
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

import schemas
from rewards import compute_score, trl_component_rewards
from rewards.adapters import component_names
from schemas import ground_truth


@pytest.fixture(scope="module")
def demo_mixture(tmp_path_factory):
    """Training shards of a small demo mixture: generated videos (ffmpeg), ingested with Beam, mixed."""
    from pipelines.ingest import IngestConfig, run_ingest
    from pipelines.mix import parse_recipe, run_mix
    from pipelines.sources import SourceOptions
    from pipelines.synthetic_raw import make_dataset

    out = tmp_path_factory.mktemp("demo")
    raw = make_dataset(out / "raw", n_videos=4, seed=0, eval_videos=2)
    source = SourceOptions((str(raw["train"]),), videos=str(out / "raw" / "videos"))
    run_ingest(IngestConfig("jsonl", source, str(out / "ingested")), ["--direct_num_workers=1"])
    recipe = {"seed": 0, "think": False, "rows_per_shard": 4, "sources": [{"path": str(out / "ingested")}]}
    manifest = run_mix(parse_recipe(recipe, "/"), str(out / "shards")).manifest
    return sorted(glob.glob(str(out / "shards" / "part-*.parquet"))), manifest


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    from transformers import AutoProcessor

    from train.tiny_model import save_tiny_model

    return AutoProcessor.from_pretrained(save_tiny_model(tmp_path_factory.mktemp("tiny")))


def test_the_video_message_holds_what_qwen_vl_utils_reads(demo_mixture, tmp_path):
    """Without the clients: the message verl builds from a row ({"type": "video", **videos[0]}) carries
    frames fetch_image accepts once HF datasets decodes them (PIL images), `sample_fps` = the stored fps
    and the stored size, on every row."""
    import datasets
    from PIL import Image

    files, manifest = demo_mixture
    rows = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert rows.num_rows == manifest["rows"] == 8           # 2 training videos x 4 tasks
    raw = [r for f in files for r in pq.read_table(f).to_pylist()]
    for row, stored in zip(rows, raw):
        message = {"type": "video", **row["videos"][0]}
        video = schemas.stored_video(stored)
        assert all(isinstance(im, Image.Image) and im.size == (video.width, video.height) for im in message["video"])
        assert message["sample_fps"] == video.fps == pytest.approx((len(video.timestamps) - 1) /
                                                                   (video.timestamps[-1] - video.timestamps[0]))
        assert (message["resized_height"], message["resized_width"]) == (video.height, video.width)
        assert np.array_equal(np.asarray(message["video"][1].convert("RGB")),
                              np.asarray(Image.open(io.BytesIO(video.frames[1])).convert("RGB")))


def test_verl_dataset_keeps_every_row_and_its_processor_inputs_equal_ours(clients, demo_mixture, processor, tmp_path,
                                                                         monkeypatch):
    import datasets
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    from train.data import decode_row, iter_rows
    from train.inputs import device_pixels, encode_example

    files, manifest = demo_mixture
    # as verl's multimodal docs configure it: prompt_key prompt, video_key videos, the model's processor
    config = OmegaConf.create({"prompt_key": "prompt", "video_key": "videos", "max_prompt_length": 4096,
                               "filter_overlong_prompts": True, "filter_overlong_prompts_workers": 1,
                               "cache_dir": str(tmp_path / "verl")})
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))   # verl passes no cache_dir
    dataset = RLHFDataset(files, processor.tokenizer, config, processor=processor)
    assert len(dataset) == manifest["rows"]                  # the length filter kept every row
    ours = [decode_row(i, r) for i, r in iter_rows([Path(f) for f in files])]
    for k, example in enumerate(ours):
        messages = dataset[k]["raw_prompt"]
        images, videos, _ = RLHFDataset._process_multi_modal_info(messages, dataset.image_patch_size, config)
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        theirs = build_multimodal_processor_inputs(processor, text=[text], images=images, videos=videos)
        fast = encode_example(processor, example)
        t = example.frames.shape[0]
        h, w = example.frames.shape[1:3]
        assert theirs["video_grid_thw"].tolist() == [[math.ceil(t / 2), h // 14, w // 14]] == fast.video_grid_thw.tolist()
        assert torch.equal(theirs["input_ids"][0], fast.input_ids)
        assert theirs["second_per_grid_ts"] == pytest.approx([2 / example.fps]) and 2 / example.fps != 1.0
        assert torch.equal(torch.as_tensor(theirs["second_per_grid_ts"], dtype=torch.float32), fast.second_per_grid_ts)
        pixels = device_pixels([fast], torch.device("cpu"))[0]
        assert torch.equal(theirs["pixel_values_videos"], pixels)


def _batch():
    """A mixed-task batch: every task, right and wrong answers, in an order where no task comes first by luck."""
    tg = {"sample_id": "t", "task": "temporal_grounding", "video_key": "v", "query": "q", "duration": 30.0,
          "span": {"start": 3.0, "end": 9.0}}
    gqa = {"sample_id": "g", "task": "grounded_qa", "video_key": "v", "query": "q", "duration": 30.0,
           "choices": ["a", "b", "c"], "answer_index": 1, "spans": [{"start": 3.0, "end": 9.0}]}
    qa = {"sample_id": "q", "task": "video_qa", "video_key": "v", "query": "q", "choices": ["a", "b"], "answer_index": 0}
    tr = {"sample_id": "k", "task": "tracking", "video_key": "v", "query": "cup", "duration": 3.5,
          "boxes": [{"t": 0.5 * i, "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.5} for i in range(8)]}
    boxes = ", ".join(["[0.1, 0.1, 0.5, 0.5]"] * 8)
    rows = [
        (gqa, "<think>x</think><answer>B</answer><glue>[(3, 9)]</glue>"),
        (tg, "<think>x</think><answer>3.0 to 9.0</answer>"),
        (qa, "<think>x</think><answer>B</answer>"),
        (tr, f"<think>x</think><answer>[{boxes}]</answer>"),
        (tg, "no answer"),
    ]
    return [json.dumps(ground_truth(r)) for r, _ in rows], [c for _, c in rows], [r["task"] for r, _ in rows]


def test_compute_score_gives_every_task_one_key_set_with_none_for_not_applicable():
    truths, completions, tasks = _batch()
    keys = ("format", "iou", "accuracy")                       # the components the built-in tasks declare
    assert set(component_names()) == set(keys)
    out = [compute_score("vrft/x", c, t) for c, t in zip(completions, truths)]
    assert all(list(o) == ["score", *component_names()] for o in out)
    assert out[0] == {"score": 3.0, "format": 1.0, "accuracy": 1.0, "iou": 1.0}
    assert out[1] == {"score": 2.0, "format": 1.0, "accuracy": None, "iou": 1.0}
    assert out[2] == {"score": 1.0, "format": 1.0, "accuracy": 0.0, "iou": None}
    assert out[4] == {"score": 0.0, "format": 0.0, "accuracy": None, "iou": 0.0}
    fmt, acc = trl_component_rewards(["format", "accuracy"])
    columns = {"reward_model": [{"style": "rule", "ground_truth": t} for t in truths]}
    assert acc(None, completions, **columns) == [1.0, None, 0.0, None, None]
    assert fmt(None, completions, **columns) == [1.0, 1.0, 1.0, 1.0, 0.0]


def _data_proto(tokenizer, truths, completions):
    """verl's batch: prompt and response ids (left- and right-padded), the non-tensor columns of our rows."""
    from verl import DataProto

    pad = tokenizer.pad_token_id
    responses = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in completions]
    width = max(map(len, responses))
    prompts = torch.full((len(truths), 3), pad)
    resp = torch.tensor([r + [pad] * (width - len(r)) for r in responses])
    mask = torch.cat([torch.ones(len(truths), 3, dtype=torch.long),
                      torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in responses])], dim=1)
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "attention_mask": mask},
        non_tensors={"data_source": np.array(["vrft/x"] * len(truths), dtype=object),
                     "reward_model": np.array([{"style": "rule", "ground_truth": t} for t in truths], dtype=object),
                     "extra_info": np.array([{"index": i} for i in range(len(truths))], dtype=object)},
    )


def test_verl_reward_loop_and_legacy_manager_score_a_mixed_task_batch(clients, processor, monkeypatch):
    """verl's own code: the reward loop's `compute_rm_score` (keys from the batch's first row; ray's
    transport replaced by direct calls) over its naive reward manager, and the legacy naive manager."""
    from verl.experimental.reward_loop import reward_loop
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager as LoopManager
    from verl.trainer.ppo.metric_utils import process_validation_metrics
    from verl.workers.reward_manager.naive import NaiveRewardManager

    truths, completions, _ = _batch()
    data = _data_proto(processor.tokenizer, truths, completions)
    want = [compute_score("vrft/x", c, t) for c, t in zip(completions, truths)]

    manager = LoopManager(None, processor.tokenizer, compute_score)
    worker = SimpleNamespace(compute_score_batch=SimpleNamespace(remote=lambda chunk: manager.loop.run_until_complete(
        _gather([manager.run_single(chunk[i:i + 1]) for i in range(len(chunk))]))))
    monkeypatch.setattr(reward_loop.ray, "get", lambda outputs: outputs)
    stand_in = SimpleNamespace(reward_model_manager=None, reward_loop_workers=[worker], reward_manager_cls=LoopManager)
    out = reward_loop.RewardLoopManager.compute_rm_score(stand_in, data)
    assert out.meta_info["reward_extra_keys"] == ["score", *component_names()]
    for key in component_names():
        assert out.non_tensor_batch[key].tolist() == [w[key] for w in want]
    assert out.batch["rm_scores"].sum(dim=1).tolist() == [w["score"] for w in want]

    legacy = NaiveRewardManager(processor.tokenizer, num_examine=0, compute_score=compute_score)(data, return_dict=True)
    assert {k: len(v) for k, v in legacy["reward_extra_info"].items()} == {k: 5 for k in ["score", *component_names()]}
    # verl's validation metrics leave "not applicable" out of a mean
    metrics = process_validation_metrics(["vrft/x"] * 5, [str(i) for i in range(5)], dict(legacy["reward_extra_info"]))
    assert metrics["vrft/x"]["accuracy"]["mean@1"] == pytest.approx((1.0 + 0.0) / 2)
    assert metrics["vrft/x"]["iou"]["mean@1"] == pytest.approx((1.0 + 1.0 + want[3]["iou"] + 0.0) / 4)


async def _gather(coros):
    return await asyncio.gather(*coros)


def test_trl_reward_step_leaves_not_applicable_out_of_each_component_mean(clients):
    """TRL's GRPOTrainer._calculate_rewards (its code, on a stand-in trainer) turns our None into NaN, which
    its logging and weighting skip (nanmean / nansum)."""
    from trl import GRPOTrainer

    truths, completions, _ = _batch()
    funcs = trl_component_rewards(list(component_names()))
    trainer = SimpleNamespace(
        accelerator=SimpleNamespace(device=torch.device("cpu"), is_main_process=True), reward_funcs=funcs,
        reward_processing_classes=[None] * len(funcs), reward_func_names=[f.__name__ for f in funcs],
        state=SimpleNamespace(global_step=0), args=SimpleNamespace(report_to=[]), environments=None,
        _log_completion_extra=lambda *a, **k: None, _log_metric=lambda *a, **k: None,
    )
    inputs = [{"prompt": "p", "reward_model": {"style": "rule", "ground_truth": t}} for t in truths]
    per_func = GRPOTrainer._calculate_rewards(trainer, inputs, ["p"] * 5, completions, [[0]] * 5)
    want = [compute_score("vrft/x", c, t) for c, t in zip(completions, truths)]
    for j, name in enumerate(component_names()):
        applicable = [w[name] for w in want if w[name] is not None]
        assert torch.nanmean(per_func[:, j]).item() == pytest.approx(sum(applicable) / len(applicable))
