"""`vrft label` as an Apache Beam pipeline: units -> examples -> RunInference (G completions each) ->
scores and statistics -> one label part per unit -> manifest.json.

    Units -> Spread -> ReadUnits -> Generate (RunInference) -> Score -> WriteUnits
                           \\-> (units with nothing to label) -> WriteEmptyUnits

Everything after the reshuffle is one fused stage: a unit's samples are read, generated, scored and
written by the worker that read the unit, so each unit's part appears as soon as its last sample is
scored (WriteUnits collects a unit's rows; a bundle never ends with a unit half done). The local
runner is Beam's in-process FnApiRunner; `--runner DataflowRunner` runs the same graph on Dataflow, the
generation step on GPU workers with `--accelerator` (a Beam resource hint). Results depend only on
the seed and the sample (train/label/sampler.py), not on batching, workers or order, so a resumed run
writes what an uninterrupted one would.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import apache_beam as beam
from apache_beam.ml.inference.base import PredictionResult, RunInference
from apache_beam.options.pipeline_options import StandardOptions, TestOptions

from pipelines import outputs, storage
from pipelines.ingest import progress
from pipelines.ingest.run import (
    LOCAL_RUNNER, REMOTE_RUNNERS, BeamRunResult, IngestError, describe, new_pipeline, pipeline_options, validate_remote,
)
from rewards.group_stats import group_stats, score_completions
from schemas.errors import UserError
from train.label import output
from train.label.handler import CompletionsHandler, LabelInput
from train.label.inputs import Plan, Unit, plan, read_unit
from train.label.settings import LabelSettings

EMPTY = "empty"


class ReadUnits(beam.DoFn):
    """Unit -> LabelInput per sample it can show the model; a unit with none goes to `empty` with its
    skips (its record is written there)."""

    def __init__(self, settings: LabelSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        from train.model import load_processor

        self.processor = load_processor(self.settings.model_path)

    def process(self, unit: Unit) -> Iterator[Any]:
        from train.inputs import encode_example

        prompts, skipped = [], []
        for item in read_unit(unit):
            if isinstance(item, tuple):
                skipped.append(item)
                continue
            try:
                prompts.append(encode_example(self.processor, item))
            except ValueError as err:
                skipped.append((item.sample_id, "prompt_unusable", str(err)))
        if not prompts:
            yield beam.pvalue.TaggedOutput(EMPTY, (unit.index, skipped))
            return
        for p in prompts:
            yield LabelInput(unit.index, len(prompts), p, tuple(skipped))


class Score(beam.DoFn):
    """PredictionResult -> (unit, expected, skipped, label row, completion rows)."""

    def __init__(self, settings: LabelSettings) -> None:
        self.settings = settings

    def process(self, result: PredictionResult) -> Iterator[Any]:
        s, item, done = self.settings, result.example, result.inference
        ex = item.prompt.example
        weights = s.weights.get(ex.task)
        rows = score_completions(ex.task, done.texts, ex.truth, s.profile, weights)
        label = {
            "sample_id": ex.sample_id, "task": ex.task, "model": s.model_fingerprint, "profile": s.profile,
            "group_size": s.group_size, "seed": s.seed, **group_stats(ex.task, rows, done.tokens, done.truncated),
        }
        kept = []
        if s.keep_completions:
            kept = [{**r, "sample_id": ex.sample_id, "completion": j, "text": t, "tokens": n, "truncated": c}
                    for j, (r, t, n, c) in enumerate(zip(rows, done.texts, done.tokens, done.truncated))]
        yield item.unit, item.expected, item.skipped, label, kept


@dataclass
class _Pending:
    rows: list[dict[str, Any]] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)


class WriteUnits(beam.DoFn):
    """Collects each unit's scored samples; writes the unit when the last one arrives."""

    def __init__(self, out: str, count: int) -> None:
        self.out, self.count = out, count

    def start_bundle(self) -> None:
        self.pending: dict[int, _Pending] = {}

    def process(self, element: tuple) -> Iterator[int]:
        unit, expected, skipped, label, kept = element
        got = self.pending.setdefault(unit, _Pending())
        got.rows.append(label)
        got.completions.extend(kept)
        progress.bump("samples")
        progress.bump("completions", int(label["group_size"]))
        if len(got.rows) == expected:
            output.write_unit(self.out, unit, self.count, got.rows, got.completions, skipped)
            del self.pending[unit]
            yield unit

    def finish_bundle(self) -> None:
        if self.pending:
            raise RuntimeError(f"units {sorted(self.pending)} were not complete at the end of a bundle")


def build(p: beam.Pipeline, units: list[Unit], count: int, settings: LabelSettings, out: str) -> None:
    read = (
        p
        | "Units" >> beam.Create(units)
        | "Spread" >> beam.Reshuffle()
        | "ReadUnits" >> beam.ParDo(ReadUnits(settings)).with_outputs(EMPTY, main="inputs")
    )
    (
        read.inputs
        | "Generate" >> RunInference(CompletionsHandler(settings), model_identifier=f"vrft-label-{settings.model_fingerprint[:16]}")
        | "Score" >> beam.ParDo(Score(settings))
        | "WriteUnits" >> beam.ParDo(WriteUnits(out, count))
    )
    read[EMPTY] | "WriteEmptyUnits" >> beam.Map(lambda e: output.write_unit(out, e[0], count, [], [], e[1]))


def inputs_of(data: str, work: Plan, settings: LabelSettings) -> dict[str, str]:
    """The folders the run reads ({what: folder}), which its output must stay apart from."""
    folders = {data} if work.kind == "ingested" else {storage.parent(u.path) for u in work.units}
    return {**{f"DATA ({f})": f for f in sorted(folders)}, "model.path": settings.model_path}


def run_label(data: str, out: str, settings: LabelSettings, beam_args: list[str] = (), runner: str = LOCAL_RUNNER,
              dry_run: bool = False, overwrite: bool = False, resume: bool = False,
              planned: Plan | None = None) -> BeamRunResult:
    """Label `data` into `out`. `planned`: the plan when the caller made it already (for its progress bar)."""
    t0 = time.perf_counter()
    work = planned or plan(data, settings.think)
    options = pipeline_options(list(beam_args), runner)
    runner_name = options.view_as(StandardOptions).runner
    try:
        if runner_name in REMOTE_RUNNERS:
            validate_remote(options)
        if dry_run:
            options.view_as(TestOptions).dry_run = True
            p = new_pipeline(options)
            build(p, work.units, len(work.units), settings, out)
            return BeamRunResult(out, plan=describe(p), options=options.get_all_options(drop_default=True))
        identity = {**settings.identity(), "data": data, "units": len(work.units), "samples": work.samples}
        outputs.check_apart(out, inputs_of(data, work, settings))
        with outputs.locked(out, "label"):
            kept = output.prepare(out, identity, overwrite, resume)
            finished = output.done_units(out, len(work.units))
            todo = [u for u in work.units if u.index not in finished]
            before = output.labelled(out)
            p = new_pipeline(options)
            build(p, todo, len(work.units), settings, out)
            t1 = time.perf_counter()
            if todo:
                p.run().wait_until_finish()
            t2 = time.perf_counter()
            planned_counts = {"samples": work.samples, "units": len(work.units), "skipped": work.skipped}
            manifest = output.build_manifest(out, planned_counts, asdict(settings), {
                "data": data, "kind": work.kind, "runner": runner_name, "resumed_units": kept,
                "timings": {"plan_build_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3)},
            })
            now = manifest["samples"]["labelled"] - before
            manifest["timings"]["completions_per_s"] = round(now * settings.group_size / max(t2 - t1, 1e-9), 2)
            output.write_manifest(out, manifest)
    except (IngestError, outputs.FolderRefused) as err:
        raise UserError(str(err)) from None
    return BeamRunResult(out, manifest=manifest, options=options.get_all_options(drop_default=True))
