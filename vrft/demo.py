"""The end-to-end demo, as one recipe of the four packages: make a raw dataset whose truth is exact
(ffmpeg), ingest it with Beam, validate it, mix training and evaluation shards, build the tiny model,
evaluate it, warm-start it on the answer contract, evaluate, train a few GRPO steps, evaluate again,
and write one HTML report.

Offline and on the CPU. A random tiny model never writes a parseable answer, so GRPO alone would see
zero reward spread in every group and learn nothing; the short supervised warm start
(`train.warmstart`, not part of the paper's recipe) gives it answers to compare.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq

from pipelines import storage
from pipelines.ingest import IngestConfig, run_ingest
from pipelines.mix.recipe import parse_recipe
from pipelines.mix.run import run_mix
from pipelines.sample_sheet import load_sample, render_sample
from pipelines.sources import SourceOptions
from pipelines.synthetic_raw import make_dataset
from pipelines.validate import validate_dataset
from train.config import load_config
from train.eval_items import read_items
from train.eval_report import EvalReport, report_table, score_predictions, write_metrics
from train.predict import predict_model
from train.tiny_model import save_tiny_model
from train.trainer import run_training
from train.warmstart import warm_start

Say = Callable[[str], None]


WARM_STEPS = 240
MAX_NEW_TOKENS = 160  # eight boxes take about 150 tokens of the tiny tokenizer


def run_demo(out: Path, videos: int = 12, steps: int = 8, warm_steps: int = WARM_STEPS, say: Say = print) -> Path:
    out = Path(out).resolve()  # recipes resolve relative paths against their own root
    out.mkdir(parents=True, exist_ok=True)
    clock: dict[str, float] = {}

    def phase(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()
        say(f"[demo] {name} ...")
        return lambda: clock.__setitem__(name, time.perf_counter() - t0)

    done = phase("generating a raw dataset with ffmpeg")
    raw = make_dataset(out / "raw", n_videos=videos, seed=0, eval_videos=max(2, videos // 3))
    done()

    done = phase("ingesting it with Beam (frames decoded once)")
    ingested = out / "ingested"
    source = SourceOptions((str(raw["train"]), str(raw["eval"])), videos=str(out / "raw" / "videos"))
    manifest = run_ingest(IngestConfig("jsonl", source, str(ingested)), ["--direct_num_workers=1"]).manifest
    done()

    done = phase("validating it (Great Expectations suite from the task declarations)")
    validation = validate_dataset(str(ingested), str(out / "validation"))
    if not validation.success:
        raise RuntimeError(f"the generated dataset failed validation: {validation.failures}")
    done()

    done = phase("mixing training and evaluation shards")
    for name, split in (("train", "train"), ("eval", "eval")):
        recipe = {"name": f"demo-{name}", "seed": 0, "think": False, "rows_per_shard": 64, "leakage": "refuse",
                  "sources": [{"name": f"synthetic-{split}", "path": str(ingested), "split": split}]}
        if name == "train":
            recipe["evaluation"] = [{"name": "synthetic-eval", "path": str(ingested), "split": "eval"}]
        run_mix(parse_recipe(recipe, str(out)), str(out / f"shards-{name}"), overwrite=True)
    done()

    done = phase("building the tiny model (offline, random)")
    model = save_tiny_model(out / "tiny-model", seed=0)
    done()

    done = phase("evaluating the random model")
    evals = {"random": _evaluate(model, out / "shards-eval", out / "eval-random")}
    done()

    done = phase(f"warm start: {warm_steps} supervised steps on the answer contract")
    warm = warm_start(model, out / "shards-train", out / "warm-model", steps=warm_steps)
    evals["warm start"] = _evaluate(warm, out / "shards-eval", out / "eval-warm")
    done()

    done = phase(f"training {steps} GRPO steps")
    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "train" / "configs" / "tiny_cpu.yaml", [
        f"model.path={warm}", f"data.shards={out / 'shards-train'}", f"run.out={out / 'train'}",
        f"run.steps={steps}", f"rollout.max_new_tokens={MAX_NEW_TOKENS}", "optim.lr=3e-4", "run.save_every=0",
        f"run.sample_every={steps}",
    ])
    trained = run_training(cfg)
    done()

    done = phase("evaluating after GRPO")
    evals["GRPO"] = _evaluate(Path(trained["out"]) / "final", out / "shards-eval", out / "eval-grpo")
    done()

    done = phase("writing the report")
    report = write_demo_report(out, manifest, validation, evals, Path(trained["out"]), ingested)
    done()
    say("[demo] " + ", ".join(f"{k.split(' ')[0]} {v:.0f}s" for k, v in clock.items()))
    return report


def _evaluate(model: Path, shards: Path, out: Path) -> EvalReport:
    out.mkdir(parents=True, exist_ok=True)
    items = read_items(shards)
    completions = predict_model(model, shards, out, batch_size=8, max_new_tokens=MAX_NEW_TOKENS)
    report = score_predictions(items, completions, "default")
    write_metrics(report, out, f"{model} on {shards}")
    return report


# ---- the report -----------------------------------------------------------------------------------


def reward_curves(metrics_jsonl: Path, png: Path) -> Path:
    """Mean reward per component (all tasks together) and the weighted total, step by step."""
    import matplotlib  # here: the headless backend is chosen before pyplot loads, and only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in metrics_jsonl.read_text().splitlines() if line.strip()]
    keys = sorted({k for r in rows for k in r if k.count("/") == 1 and k.startswith("reward/")
                   and not k.endswith(("/std", "/min", "/max"))})
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if k in r]
        name = k.replace("reward/", "")
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="total" if name == "mean" else name,
                linewidth=2.5 if name == "mean" else 1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("mean reward")
    ax.set_title("GRPO: mean reward per step (each step's prompts come from a mix of tasks)")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png


def _metric_table(evals: dict[str, EvalReport]) -> str:
    columns, rows = report_table(evals)
    head = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>"
    return head + "\n" + "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)


def write_demo_report(out: Path, manifest: dict[str, Any], validation, evals: dict[str, EvalReport], run: Path,
                      ingested: Path) -> Path:
    """runs/demo/report.html: the whole job on one page (curves, metric table, samples, dataset plots)."""
    assets = out / "report"
    assets.mkdir(exist_ok=True)
    curves = reward_curves(run / "metrics.jsonl", assets / "rewards.png")
    samples = pq.read_table(ingested / "samples", columns=["sample_id", "task", "split"]).to_pylist()
    sheets = []
    for task in ("tracking", "temporal_grounding", "grounded_qa", "video_qa"):
        sid = next(s["sample_id"] for s in samples if s["task"] == task)
        sample, frames = load_sample(ingested, sid)
        sheets.append((task, render_sample(sample, frames, assets / f"sample-{task}.png").name))
    plots = sorted(p for p in Path(validation.report_dir).rglob("*.png"))
    counts = manifest["counts"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>vrft demo</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd}}
img{{max-width:100%}} .grid img{{width:48%;margin:1%}}</style></head><body>
<h1>vrft demo</h1>
<p>A raw dataset made with ffmpeg (a coloured square moving in a straight line; the background changes colour
for a known interval), ingested with Beam, validated, mixed into training and evaluation shards; a tiny random
Qwen2.5-VL-architecture model (about 0.2 M parameters), warm-started with a short supervised pass on the answer
contract (a random model never writes a parseable answer, so GRPO would have nothing to compare), then trained
for a few GRPO steps on the CPU. Numbers on a dozen held-out samples are noisy; the point is the whole job
running on data whose truth is exact.</p>
<h2>Ingestion</h2><p>input {counts['input']}, written {counts['written']}, repaired {counts['repaired']},
rejected {counts['rejected']}; validation: {'passed' if validation.success else 'FAILED'}
(<a href="{Path(validation.report).relative_to(out) if validation.report else ''}">validation report</a>).</p>
<h2>Rewards during training</h2><img src="report/{curves.name}">
<h2>Evaluation on held-out videos (default profile), floors beside</h2>
<table>{_metric_table(evals)}</table>
<h2>Samples as the model sees them</h2>
{''.join(f'<h3>{t}</h3><img src="report/{name}">' for t, name in sheets)}
<h2>Dataset plots</h2><div class="grid">
{''.join(f'<img src="{p.relative_to(out)}">' for p in plots)}</div>
</body></html>"""
    return Path(storage.write_text(str(out / "report.html"), page))
