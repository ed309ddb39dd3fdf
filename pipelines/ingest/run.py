"""Build and run the ingestion pipeline; write the manifest from what was written.

The local runner is Beam's in-process FnApiRunner, named explicitly (the default DirectRunner first
tries to download Prism at run time). `--runner DataflowRunner` with the usual Google Cloud options
runs the same graph on Dataflow; `dry_run` builds and validates the options and the graph and
returns the plan without running anything (see `pipelines/dataflow/README.md`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions, PipelineOptions, SetupOptions, StandardOptions, TestOptions,
)

from pipelines import budget, outputs, storage
from pipelines.ingest import manifest as manifest_mod
from pipelines.ingest import outdir, preflight
from pipelines.ingest.config import IngestConfig, IngestError
from pipelines.ingest.fingerprint import input_digests
from pipelines.ingest.rejects import REJECTS
from pipelines.ingest.transforms import (
    RECORDS_READ, DraftRecords, NormalizeRecords, ProbeDurations, ReadRecords, SampleFrames,
)
from pipelines.ingest.write import WriteTable
from pipelines.ingest.rejects import DUPLICATES
from pipelines.sources import get_adapter
from pipelines.sources.base import Adapter, SourceError
from pipelines.video.policy import FramePolicy

LOCAL_RUNNER = "FnApiRunner"
REMOTE_RUNNERS = ("DataflowRunner",)
SETUP_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "setup.py")


@dataclass
class BeamRunResult:
    """What a vrft Beam job returns: its folder and manifest, or (dry run) its graph and options."""

    out: str
    manifest: dict[str, Any] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)       # the graph's stages (dry runs)
    options: dict[str, Any] = field(default_factory=dict)


IngestResult = BeamRunResult


def pipeline_options(args: Sequence[str], runner: str = LOCAL_RUNNER) -> PipelineOptions:
    """Beam options from pass-through args; the runner is always named; Dataflow ships this package."""
    options = PipelineOptions(list(args))
    std = options.view_as(StandardOptions)
    std.runner = std.runner or runner
    if std.runner in REMOTE_RUNNERS:
        setup = options.view_as(SetupOptions)
        if not setup.setup_file and os.path.exists(SETUP_FILE):
            setup.setup_file = SETUP_FILE
    return options


def validate_remote(options: PipelineOptions) -> None:
    """What Dataflow needs before it is asked for anything: checked here, without any cloud client."""
    gcp = options.view_as(GoogleCloudOptions)
    missing = [name for name, value in (("--project", gcp.project), ("--region", gcp.region)) if not value]
    temp = gcp.temp_location or gcp.staging_location
    if not temp:
        missing.append("--temp_location")
    if missing:
        raise IngestError(f"DataflowRunner needs {', '.join(missing)}")
    for name, value in (("--temp_location", gcp.temp_location), ("--staging_location", gcp.staging_location)):
        if value and storage.scheme(value) != "gs":
            raise IngestError(f"{name} must be a gs:// path for DataflowRunner, got {value}")


def build(p: beam.Pipeline, cfg: IngestConfig, remote: bool = False) -> None:
    """The graph: read, draft, frames (or labels only), normalize, write; rejects from every stage.
    Records are spread over workers where that pays (decoding, or a cluster); a local labels-only run
    streams them instead (bounded memory)."""
    records = p | "ReadRecords" >> ReadRecords(cfg.dataset, cfg.source, spread=cfg.frames or remote)
    drafted = records | "DraftRecords" >> DraftRecords(cfg.dataset)
    rejects = [drafted[REJECTS]]
    if cfg.frames:
        framed = drafted.drafts | "SampleFrames" >> SampleFrames(cfg)
        ready = framed["framed"]
    else:
        framed = drafted.drafts | "ProbeDurations" >> ProbeDurations(cfg.source.videos, cfg.only_present_videos)
        ready = framed.probed
    rejects.append(framed[REJECTS])
    normalized = ready | "NormalizeRecords" >> NormalizeRecords(cfg.policy)
    rejects.append(normalized[REJECTS])
    written = normalized.samples | "WriteSamples" >> WriteTable(cfg.out, "samples", cfg.label_shards, unique=True)
    rejects.append(written[DUPLICATES])
    tuple(rejects) | "WriteRejects" >> WriteTable(cfg.out, "rejects", cfg.label_shards)


def new_pipeline(options: PipelineOptions) -> beam.Pipeline:
    """A pipeline whose options Beam has validated (for Dataflow: project, region, gs:// locations)."""
    try:
        return beam.Pipeline(options=options)
    except ValueError as err:
        raise IngestError(str(err).replace("\n", "; ")) from None


def describe(p: beam.Pipeline) -> list[str]:
    """The stages of the graph, top level and one level in, in order."""
    lines: list[str] = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node) -> None:
            depth = node.full_label.count("/")
            if node.full_label and depth <= 1:
                lines.append("  " * depth + node.full_label.split("/")[-1])

        def visit_transform(self, node) -> None:
            if node.full_label.count("/") <= 1:
                lines.append("  " * node.full_label.count("/") + node.full_label.split("/")[-1])

    p.visit(Visitor())
    return lines


def resolved_frame_policy(cfg: IngestConfig) -> dict[str, Any] | None:
    """The whole frame policy the run uses (defaults + overrides), checked before anything starts."""
    if not cfg.frames:
        return None
    try:
        return asdict(FramePolicy(**cfg.frame_policy))
    except (TypeError, ValueError) as err:
        raise IngestError(str(err)) from None


def inputs_of(cfg: IngestConfig, adapter: Adapter) -> dict[str, str | None]:
    """Every path the run reads, by the option that named it: the output folder must stay apart."""
    src = cfg.source
    named = {f"--annotations {p}": p for p in src.annotations}
    named.update({"--durations": src.durations, "--videos": src.videos})
    named.update({f"side file {p}": p for p in adapter.side_files(src)} if adapter.shape != "folder" else {})
    return named


@contextlib.contextmanager
def beam_errors() -> Iterator[None]:
    """Errors that end a run as one message: a whole input file that cannot be read (`IngestError`) and
    an environment failure (`EnvironmentFailure`), however Beam delivers them (re-raised with its step
    name, or as the text of a worker's traceback). Beam's own logging of them is held back."""
    beam_log = logging.getLogger("apache_beam")
    level = beam_log.level
    beam_log.setLevel(logging.CRITICAL)
    try:
        yield
    except Exception as err:
        failure = storage.environment_failure(err) or _named_in(err, storage.EnvironmentFailure)
        if failure is not None:
            raise storage.EnvironmentFailure(_strip_step(str(failure))) from None
        source = err if isinstance(err, SourceError) else _named_in(err, SourceError)
        if source is not None:
            raise IngestError(_strip_step(str(source))) from None
        raise
    finally:
        beam_log.setLevel(level)


def _named_in(err: BaseException, cls: type) -> Any:
    """An exception of `cls` that a worker's traceback names in `err`'s text (multi-threaded runners)."""
    found = re.findall(rf"(?:^|\.){cls.__name__}: (.+)", str(err), flags=re.M)
    return cls(found[-1]) if found else None


def _strip_step(message: str) -> str:
    return re.sub(r" \[while running '[^']*'\]", "", message)


def run_ingest(cfg: IngestConfig, beam_args: Sequence[str] = (), runner: str = LOCAL_RUNNER,
               dry_run: bool = False, overwrite: bool = False, resume: bool = False) -> IngestResult:
    t0 = time.perf_counter()
    try:
        adapter = get_adapter(cfg.dataset)
    except KeyError as err:
        raise IngestError(str(err.args[0])) from None
    options = pipeline_options(beam_args, runner)
    runner_name = options.view_as(StandardOptions).runner
    remote = runner_name in REMOTE_RUNNERS
    if remote:
        validate_remote(options)
    else:
        try:
            preflight.check(cfg, adapter)
        except budget.OverBudget as err:
            raise IngestError(str(err)) from None
    frame_policy = resolved_frame_policy(cfg)
    if dry_run:  # Beam's own flag: its validators then skip every network check (GCS buckets)
        options.view_as(TestOptions).dry_run = True
    shown = options.get_all_options(drop_default=True)
    if dry_run:
        p = new_pipeline(options)
        build(p, cfg, remote)
        return IngestResult(cfg.out, plan=describe(p), options=shown)

    try:
        outputs.check_apart(cfg.out, inputs_of(cfg, adapter))
        with outputs.locked(cfg.out, "ingest"):
            identity = {**cfg.identity(), "inputs": input_digests(cfg.source, adapter)}
            kept = outdir.prepare(cfg.out, identity, overwrite=overwrite, resume=resume)
            try:
                return _run(cfg, options, runner_name, beam_args, frame_policy, kept, t0, shown)
            except BaseException:
                with contextlib.suppress(Exception):
                    outdir.discard_temporaries(cfg.out)
                raise
    except (outdir.OutDirError, outputs.FolderRefused) as err:
        raise IngestError(str(err)) from None


def _run(cfg: IngestConfig, options: PipelineOptions, runner_name: str, beam_args: Sequence[str],
         frame_policy: dict[str, Any] | None, kept: int, t0: float, shown: dict[str, Any]) -> IngestResult:
    """The pipeline, then the manifest (only after every table is written: its presence marks a finished run)."""
    p = new_pipeline(options)
    build(p, cfg)
    t1 = time.perf_counter()
    with beam_errors():
        result = p.run()
        result.wait_until_finish()
    t2 = time.perf_counter()
    input_count = _counter(result, RECORDS_READ)
    manifest_mod.drop_empty_tables(cfg.out)
    timings = {"build_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3)}
    extra = {"dataset": cfg.dataset, "resumed_video_parts": kept}
    options_out = {**cfg.to_dict(), "frame_policy": frame_policy, "runner": runner_name, "beam_args": list(beam_args)}
    manifest = manifest_mod.build(cfg.out, input_count, options_out, timings, extra)
    n_in, n_videos = manifest["counts"]["input"], manifest["videos"]["decoded"]
    timings.update(
        manifest_s=round(time.perf_counter() - t2, 3),
        total_s=round(time.perf_counter() - t0, 3),
        records_per_s=round(n_in / max(t2 - t1, 1e-9), 1),
        videos_per_s=round(n_videos / max(t2 - t1, 1e-9), 2),
    )
    manifest_mod.write(cfg.out, manifest)
    return IngestResult(cfg.out, manifest=manifest, options=shown)


def _counter(result: Any, name: str) -> int | None:
    """A counter's committed value, or None where the runner cannot report it."""
    try:
        found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    except Exception:
        return None
    if not found:
        return 0
    return sum(c.committed if c.committed is not None else c.attempted for c in found)
