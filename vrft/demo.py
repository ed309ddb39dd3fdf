"""The end-to-end demo, as one recipe of the four packages: make a raw dataset whose truth is exact
(ffmpeg), ingest it with Beam, validate it, mix training and held-out shards, build the tiny model,
evaluate it, warm-start it on the answer contract, evaluate, train GRPO, evaluate again, and write one
HTML report that says, with intervals, whether GRPO beat the warm start and the trivial floors.

Offline and on the CPU, in one torch thread (`train.threads`). A random tiny model never writes a
parseable answer, so GRPO alone would see zero reward spread in every group and learn nothing. The
warm start (`train.warmstart`, not part of the paper's recipe) is supervised on *guesses*: answers in
the contract whose content uses only what the prompt states (random times and letters, a fixed box).
It teaches the format and not the answers, so what GRPO adds on held-out videos it learned from the
reward. Both train on the tasks with short answers (`TRAINED_TASKS`); tracking is evaluated untrained:
an answer of 8 boxes is about 150 tokens, and sampling sixteen of them per prompt would take the whole
budget of two CPU cores.

The output folder is the demo's alone (`pipelines.outputs.fresh`): a rerun replaces what an earlier
demo wrote there, and a folder holding anything else is refused untouched.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq

from pipelines import outputs, storage
from pipelines.ingest import IngestConfig, run_ingest
from pipelines.mix.recipe import parse_recipe
from pipelines.mix.run import run_mix
from pipelines.sample_sheet import load_sample, render_sample
from pipelines.sources import SourceOptions
from pipelines.synthetic_raw import make_dataset
from pipelines.validate import validate_dataset
from rewards import oracle_answer
from train.config import load_config
from train.eval_items import read_items
from train.eval_report import score_predictions, write_metrics
from train.model import load_processor
from train.predict import predict_model
from train.summary import describe, reward_trend
from train.threads import cpu_threads
from train.tiny_model import save_tiny_model
from train.trainer import run_training
from train.warmstart import warm_start
from vrft.demo_comparison import answer_variety, compare_all, parsed, table_html, to_json, verdict_sentences
from vrft.demo_size import DemoSize

Say = Callable[[str], None]

FRAME_SIZE = (112, 84)            # width, height: 4 x 3 visual tokens per temporal patch
TASKS = ("temporal_grounding", "grounded_qa", "video_qa", "tracking")
TRAINED_TASKS = ("temporal_grounding", "grounded_qa", "video_qa")
SYSTEMS = ("random", "warm start", "GRPO")
PAIRS = (("warm start", "GRPO"), ("floor", "GRPO"), ("prior", "GRPO"), ("random", "warm start"))
KIND = "demo"                     # the output folder's marker (pipelines.outputs)
ENTRIES = ("raw", "ingested", "validation", "shards-*", "tiny-model", "warm-model", "eval-*", "train", "report",
           "report.html", "comparison.json")


def run_demo(out: Path, size: DemoSize = DemoSize(), say: Say = print) -> Path:
    """The whole job into `out` (new, empty, or an earlier demo's); returns the report's path."""
    out = Path(out).resolve()  # recipes resolve relative paths against their own root
    with outputs.fresh(str(out), KIND, ENTRIES):
        return _run(out, size, say)


def _run(out: Path, size: DemoSize, say: Say) -> Path:
    threads = cpu_threads()
    clock: dict[str, float] = {}

    def phase(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()
        say(f"[demo] {name} ...")
        return lambda: clock.__setitem__(name, time.perf_counter() - t0)

    done = phase(f"generating {size.videos} training and {size.eval_videos} held-out videos with ffmpeg")
    raw = make_dataset(out / "raw", n_videos=size.videos + size.eval_videos, seed=size.seed, eval_videos=size.eval_videos,
                       size=FRAME_SIZE)
    done()

    done = phase("ingesting them with Beam (frames decoded once)")
    ingested = out / "ingested"
    source = SourceOptions((str(raw["train"]), str(raw["eval"])), videos=str(out / "raw" / "videos"))
    small = {"min_pixels": FRAME_SIZE[0] * FRAME_SIZE[1]}  # keep the small frames small (the paper's floor is 16 tokens)
    manifest = run_ingest(IngestConfig("jsonl", source, str(ingested), frame_policy=small),
                          ["--direct_num_workers=1"]).manifest
    done()

    done = phase("validating it (Great Expectations suite from the task declarations)")
    validation = validate_dataset(str(ingested), str(out / "validation"))
    if not validation.success:
        raise RuntimeError(f"the generated dataset failed validation: {validation.failures}")
    done()

    done = phase("mixing training and held-out shards")
    shards = mix_shards(out, ingested, size.seed)
    done()

    done = phase("building the tiny model (offline, random)")
    model = save_tiny_model(out / "tiny-model", seed=size.seed)
    budget = answer_budgets(model, shards)
    done()

    completions: dict[str, dict[str, dict[str, str]]] = {}
    done = phase("evaluating the random model")
    completions["random"] = evaluate(model, shards, out / "eval-random", budget)
    done()

    done = phase(f"warm start: {size.warm_steps} supervised steps on guesses (the answer contract, no answers)")
    warm = warm_start(model, shards["train"], out / "warm-model", steps=size.warm_steps, batch_size=8, answers="guess",
                      seed=size.seed)
    completions["warm start"] = evaluate(warm, shards, out / "eval-warm", budget)
    done()

    done = phase(f"training {size.steps} GRPO steps on {', '.join(TRAINED_TASKS)}")
    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "train" / "configs" / "tiny_cpu.yaml", [
        f"model.path={warm}", f"data.shards={shards['train']}", f"run.out={out / 'train'}", f"run.steps={size.steps}",
        "run.save_every=0", f"run.sample_every={size.steps}", f"run.seed={size.seed}",
    ])
    trained = run_training(cfg)
    done()

    done = phase("evaluating after GRPO")
    completions["GRPO"] = evaluate(Path(trained["out"]) / "final", shards, out / "eval-grpo", budget)
    done()

    done = phase("comparing (bootstrap intervals) and writing the report")
    comparisons = compare_all(shards, completions, PAIRS, shards["train"])
    sentences = verdict_sentences(shards, comparisons, TRAINED_TASKS)
    variety = answer_variety({task: completions["GRPO"][task] for task in TRAINED_TASKS})
    trend = describe(reward_trend(trained["history"]))
    report = write_demo_report(out, manifest, validation, comparisons, sentences, variety, trend, trained, cfg, size,
                               ingested, threads)
    done()
    for line in (*trend, *sentences, *variety):
        say(f"[demo] {line}")
    say("[demo] " + ", ".join(f"{k.split(' ')[0]} {v:.0f}s" for k, v in clock.items()))
    return report


def mix_shards(out: Path, ingested: Path, seed: int) -> dict[str, Path]:
    """shards-train (TRAINED_TASKS: the warm start and GRPO) and one held-out folder per task."""
    def mix(name: str, split: str, tasks, evaluation: bool) -> Path:
        recipe: dict[str, Any] = {
            "name": f"demo-{name}", "seed": seed, "think": False, "rows_per_shard": 256, "leakage": "refuse",
            "sources": [{"name": f"synthetic-{split}", "path": str(ingested), "split": split, "task": list(tasks)}],
        }
        if evaluation:
            recipe["evaluation"] = [{"name": "synthetic-eval", "path": str(ingested), "split": "eval"}]
        run_mix(parse_recipe(recipe, str(out)), str(out / f"shards-{name}"), overwrite=True)
        return out / f"shards-{name}"

    shards = {"train": mix("train", "train", TRAINED_TASKS, True)}
    for task in TASKS:
        shards[task] = mix(f"eval/{task}", "eval", [task], False)
    return shards


def answer_budgets(model: Path, shards: dict[str, Path]) -> dict[str, int]:
    """New tokens each task's answers may take: its longest true answer in the contract, plus a quarter."""
    tok = load_processor(str(model)).tokenizer
    return {task: max(len(tok(oracle_answer(i.task, i.truth))["input_ids"]) for i in read_items(shards[task])) * 5 // 4 + 2
            for task in TASKS}


def evaluate(model: Path, shards: dict[str, Path], out: Path, budget: dict[str, int]) -> dict[str, dict[str, str]]:
    """Greedy answers on each task's held-out shards (task -> sample id -> completion); OUT/metrics.json
    holds the point metrics and floors of all tasks (train.eval_report)."""
    completions, items = {}, []
    for task in TASKS:
        items += read_items(shards[task])
        (out / task).mkdir(parents=True, exist_ok=True)
        completions[task] = predict_model(model, shards[task], out / task, batch_size=16, max_new_tokens=budget[task])
    merged = {sid: text for per_task in completions.values() for sid, text in per_task.items()}
    write_metrics(score_predictions(items, merged, "default"), out, f"{model.name} on held-out shards")
    storage.write_json(str(out / "budget.json"), budget)
    return completions


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


def write_demo_report(out: Path, manifest: dict[str, Any], validation, comparisons, sentences: list[str],
                      variety: list[str], trend: list[str], trained: dict[str, Any], cfg, size: DemoSize, ingested: Path,
                      threads: int) -> Path:
    """OUT/report.html (the verdicts, every metric with its interval, curves, samples, dataset plots)
    and OUT/comparison.json (every number behind them)."""
    assets = out / "report"
    assets.mkdir(exist_ok=True)
    run = Path(trained["out"])
    curves = reward_curves(run / "metrics.jsonl", assets / "rewards.png")
    samples = pq.read_table(ingested / "samples", columns=["sample_id", "task", "split"]).to_pylist()
    sheets = []
    for task in TASKS:
        sid = next(s["sample_id"] for s in samples if s["task"] == task)
        sample, frames = load_sample(ingested, sid)
        sheets.append((task, render_sample(sample, frames, assets / f"sample-{task}.png").name))
    plots = sorted(Path(validation.report_dir).glob("*.png"))  # the report's figures, not GX's logos below it
    counts = manifest["counts"]
    storage.write_json(str(out / "comparison.json"), to_json(comparisons), indent=1)
    r, o = cfg.rollout, cfg.optim
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>vrft demo</title>
<style>body{{font-family:sans-serif;max-width:1300px;margin:auto}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd;
text-align:left;font-size:90%}} img{{max-width:100%}} .grid img{{width:48%;margin:1%}} li{{margin:6px 0}}</style></head><body>
<h1>vrft demo</h1>
<p>A raw dataset made with ffmpeg ({size.videos} training and {size.eval_videos} held-out videos, {FRAME_SIZE[0]}x{FRAME_SIZE[1]}
pixels, 4 to 12 seconds long: a coloured square moves in a straight line; at a known time the background turns another colour
and stays so to the end), ingested with Beam,
validated, mixed into training and held-out shards; a tiny random Qwen2.5-VL-architecture model
({trained['parameters']:,} parameters), warm-started, then trained with GRPO on the CPU ({threads} torch thread).</p>
<h2>Did GRPO learn?</h2>
<ul>{''.join(f'<li>{html.escape(s, quote=False)}</li>' for s in sentences)}</ul>
<p>How much GRPO's held-out answers vary from video to video (one answer for every video is a constant learned
without looking at the video; answers that follow the stated duration read the prompt, not necessarily the frames):</p>
<ul>{''.join(f'<li>{html.escape(s, quote=False)}</li>' for s in variety)}</ul>
<p>Values are on held-out videos, greedy answers read by the default reward profile; [low, high] is a 95% interval
(percentile bootstrap over the held-out samples); a difference's interval is paired (the same resampled samples for
both), and "beat" means all of it lies above zero.</p>
<h3>What the warm start taught</h3>
<p>{size.warm_steps} supervised steps (8 examples each, on {', '.join(TRAINED_TASKS)}) on <em>guesses</em>: answers
written in each task's contract whose content uses only what the prompt states: two random times within the video's
stated duration, a random option letter. They teach the answer format and nothing about the answers. Share of held-out
answers the reward could read after it: {html.escape(parsed(comparisons, 'warm start'))}; after GRPO:
{html.escape(parsed(comparisons, 'GRPO'))}.</p>
<h3>What GRPO trained on</h3>
<p>{trained['steps']} steps on the same tasks, {cfg.data.prompts_per_step} prompts per step, {r.group_size} completions
each at temperature {r.temperature}, at most {r.max_new_tokens} new tokens, learning rate {o.lr}, KL weight
{cfg.loss.beta} (train/configs/tiny_cpu.yaml). On its own samples during training:
{html.escape(' '.join(trend), quote=False)}</p>
<p>Tracking is evaluated but never trained here (neither warm start nor GRPO): an answer of 8 boxes is about 150 tokens,
and sampling {r.group_size} of them per prompt would take the whole budget of two CPU cores.</p>
<img src="report/{curves.name}">
<h2>Every held-out metric, with intervals</h2>
{table_html(comparisons, SYSTEMS)}
<h2>Ingestion</h2><p>input {counts['input']}, written {counts['written']}, repaired {counts['repaired']},
rejected {counts['rejected']}; validation: {'passed' if validation.success else 'FAILED'}
(<a href="{Path(validation.report).relative_to(out) if validation.report else ''}">validation report</a>).</p>
<h2>Samples as the model sees them</h2>
{''.join(f'<h3>{t}</h3><img src="report/{name}">' for t, name in sheets)}
<h2>Dataset plots</h2><div class="grid">
{''.join(f'<img src="{p.relative_to(out)}">' for p in plots)}</div>
</body></html>"""
    return Path(storage.write_text(str(out / "report.html"), page))
