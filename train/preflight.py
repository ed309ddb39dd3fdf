"""What `vrft train` checks before anything heavy loads: the model, the shards and the run folder.

Every refusal is a `UserError` naming the key or the file and what would fix it, so a mistake costs a
second instead of a model load. The run folder keeps the config each run started with
(`run_config.json`); `--resume` compares against it, so a changed learning rate or group size does not
slip silently into a resumed run (`--allow-changed KEY,...` accepts the changes named).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from pipelines import layout, outputs, storage
from schemas.errors import UserError
from schemas.tables import TABLE_KEY
from train.checkpoint import RUN_CONFIG, STATE, latest_checkpoint
from train.config import HUB, TrainConfig
from train.data import COLUMNS, shard_files

# keys a resumed run may change without asking: how long it runs, how often it reports, where it writes
FREE_ON_RESUME = ("run.steps", "run.save_every", "run.log_every", "run.sample_every", "run.samples_shown",
                  "run.tensorboard", "run.progress", "run.out", "data.prefetch")


def check_model(path: str) -> None:
    """A local model folder must exist with its config.json; only `hub:ORG/NAME` may reach the hub."""
    if path.startswith(HUB):
        return
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"model.path {path}: no such folder (make a toy model with `vrft tiny-model {path}`; "
                        f"for a model from the Hugging Face hub write model.path={HUB}ORG/NAME)")
    if not (folder / "config.json").is_file():
        raise UserError(f"model.path {path}: not a model folder (no config.json); "
                        "give a save_pretrained folder or make a toy one with `vrft tiny-model DIR`")


def check_shards(spec: str) -> list[Path]:
    """The shard files, each a readable training table whose every row has frames."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if Path(spec).is_dir() and any((Path(spec) / t).is_dir() for t in layout.TABLES):
        raise UserError(f"data.shards {spec} is an ingestion folder; make training shards from it with "
                        "`vrft mix RECIPE.yaml --out DIR` and train on DIR")
    try:
        files = shard_files(spec)
    except FileNotFoundError as err:
        raise UserError(f"data.shards: {err}") from None
    if Path(spec).is_dir():
        check_mixture(Path(spec))
    frameless = 0
    for path in files:
        try:
            pf = pq.ParquetFile(path)
            table = (pf.schema_arrow.metadata or {}).get(TABLE_KEY, b"training").decode()
            missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
            if table != "training" or missing:
                what = f"a {table} table" if table != "training" else f"without the columns {missing}"
                raise UserError(f"data.shards: {path} is {what}, not a training shard (`vrft mix` writes them)")
            for batch in pf.iter_batches(batch_size=4096, columns=["videos.list.element.timestamps"]):
                frameless += _frameless(batch.column("videos"))
        except (pa.ArrowException, OSError) as err:
            raise UserError(f"data.shards: {path} is not a readable Parquet file ({err})") from None
    if frameless:
        raise UserError(
            f"data.shards {spec}: {frameless} rows have no frames (labels-only shards); the trainer needs frames: "
            "ingest the videos without --no-frames, then mix with `frames: required` (the default) in the recipe")
    return files


def check_mixture(folder: Path) -> None:
    """Training shards from a finished `vrft mix`: its manifest is there and names exactly the shards found."""
    manifest = folder / "manifest.json"
    if (folder / "samples").is_dir():
        raise UserError(f"data.shards {folder} is an ingestion folder; make training shards with `vrft mix` first")
    if not manifest.is_file():
        raise UserError(f"data.shards {folder} has no manifest.json: not a finished `vrft mix` output; mix it again")
    try:
        listed = {s["file"] for s in json.loads(manifest.read_text())["shards"]}
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{manifest} is not a vrft mixture manifest") from None
    found = {p.name for p in folder.glob("part-*.parquet")}
    if listed != found:
        missing, extra = sorted(listed - found), sorted(found - listed)
        raise UserError(f"data.shards {folder}: the shards differ from its manifest.json "
                        f"(missing {missing or 'none'}, not listed {extra or 'none'}); mix it again")


def _frameless(videos) -> int:
    """Rows of a `videos` column (only its timestamps read) without a video, or with a video of no frames."""
    import pyarrow.compute as pc

    no_video = pc.equal(pc.fill_null(pc.list_value_length(videos), 0), 0)
    no_frames = pc.equal(pc.fill_null(pc.list_value_length(pc.struct_field(pc.list_flatten(videos), "timestamps")), 0), 0)
    return int(pc.sum(no_video).as_py() or 0) + int(pc.sum(no_frames).as_py() or 0)


def flat_config(cfg: TrainConfig | dict[str, Any]) -> dict[str, Any]:
    """{"section.key": value} as JSON values (tuples become lists), for comparing runs."""
    raw = cfg if isinstance(cfg, dict) else cfg.to_dict()
    flat = {f"{section}.{key}": value for section, keys in raw.items() for key, value in keys.items()}
    return json.loads(json.dumps(flat))


def changed(recorded: dict[str, Any], cfg: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """key -> (recorded, now) for the keys that differ; a key the recorded run lacks counts as its default."""
    now = flat_config(cfg)
    before = {**flat_config(TrainConfig()), **flat_config(recorded)}
    return {k: (before.get(k), v) for k, v in now.items() if before.get(k) != v}


def allowed(key: str, names: Iterable[str]) -> bool:
    """A key is allowed when named, or when its section is (`optim` allows every `optim.*`)."""
    return any(key == n or key.startswith(n + ".") for n in names)


def check_allow_names(names: list[str]) -> None:
    known = flat_config(TrainConfig())
    sections = {k.split(".")[0] for k in known}
    unknown = [n for n in names if n not in known and n not in sections]
    if unknown:
        raise UserError(f"--allow-changed: unknown key {unknown[0]!r} (a config key such as optim.lr, or a section)")


def _step(checkpoint: Path) -> int:
    return int(checkpoint.name.split("-")[-1])


def check_run_folder(
    cfg: TrainConfig, resume: bool, resume_from: str | None, allow_changed: list[str]
) -> tuple[Path | None, list[str]]:
    """(the checkpoint to resume from, None for a new run; notes), after refusing what would mix two runs: a
    new run into a folder that holds one, a resume past later checkpoints, a resume with changed settings."""
    out = Path(cfg.run.out)
    check_allow_names(allow_changed)
    if out.exists() and not out.is_dir():
        raise UserError(f"run.out {out} exists and is not a folder")
    if not (resume or resume_from):
        if out.is_dir() and any(p.name not in (RUN_CONFIG, outputs.LOCK) for p in out.iterdir()):  # a start that failed early is no run
            raise UserError(f"run.out {out} already holds a run; continue it with --resume, or give another "
                            "run.out (or delete this one)")
        return None, []
    if resume_from:
        checkpoint = Path(resume_from)
        if not (checkpoint / STATE).is_file():
            raise UserError(f"--resume-from {checkpoint}: not a complete checkpoint (no {STATE})")
    else:
        checkpoint = latest_checkpoint(out)
        if checkpoint is None:
            raise UserError(f"--resume: no checkpoint under {out / 'checkpoints'}")
    later = [p.name for p in sorted((out / "checkpoints").glob("step-*")) if _step(p) > _step(checkpoint)]
    if later:
        raise UserError(f"run.out {out} holds checkpoints after {checkpoint.name} ({', '.join(later)}); resuming "
                        "there would mix two runs: give another run.out, or delete them")
    recorded = checkpoint.parent.parent / RUN_CONFIG
    if not recorded.is_file():
        return checkpoint, [f"{recorded} not found: the settings of the resumed run were not compared with these"]
    try:
        before = json.loads(recorded.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"{recorded}: not readable JSON ({err})") from None
    if not isinstance(before, dict) or not all(isinstance(v, dict) for v in before.values()):
        raise UserError(f"{recorded}: not a training config (sections of keys)")
    diffs = {k: v for k, v in changed(before, cfg).items()
             if not allowed(k, FREE_ON_RESUME) and not allowed(k, allow_changed)}
    if diffs:
        listed = "; ".join(f"{k} {a!r} -> {b!r}" for k, a, b in ((k, *v) for k, v in sorted(diffs.items())))
        raise UserError(f"--resume with changed settings ({listed}); pass --allow-changed "
                        f"{','.join(sorted(diffs))} to continue anyway, or start a new run.out")
    return checkpoint, []


def record_config(cfg: TrainConfig) -> str:
    """Write the run's config to run.out/run_config.json (the settings a later --resume is held to)."""
    return storage.write_json(os.path.join(cfg.run.out, RUN_CONFIG), cfg.to_dict(), indent=1)
