"""Mutation testing of the core with mutmut 3: small bugs are planted one at a time and the tests that
call the changed function run against each; a mutant no test notices is a bug the suite would let through.

    python scripts/mutate.py [GROUP ...] [--max-children N]     (`make mutate [MODULES="rewards schemas"]`)

Each group names the files it mutates and the test files that guard them. mutmut runs a group in its own
folder, build/mutmut/GROUP (links to the packages and tests, a pyproject.toml with the group's settings,
mutmut's `mutants/` copy inside): one traced run of the group's test files records which tests call which
function, then each mutant runs only those tests, in a forked worker. Every run starts afresh.

The results go to docs/mutation.json (per group, kept across runs of other groups) and docs/mutation.md
(a table and every survivor). A survivor that cannot change any result is listed with the reason in
docs/mutation_equivalents.yaml (matched by function and mutated line) and counted as equivalent. A
hand-written status (which runs are current, caveats) goes in docs/mutation_notes.md, copied under the table.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from mutmut.stats import status_by_exit_code  # exit code of a mutant's test run -> killed, survived, ...

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutmut"
RESULTS = ROOT / "docs" / "mutation.json"
REPORT = ROOT / "docs" / "mutation.md"
NOTES = ROOT / "docs" / "mutation_notes.md"   # hand-written status, kept under the table of every rewrite
EQUIVALENTS = ROOT / "docs" / "mutation_equivalents.yaml"
PACKAGES = ("schemas", "rewards", "pipelines", "train", "vrft")
LINKED = PACKAGES + ("tests", "examples")
MUTMUT = Path(sys.executable).with_name("mutmut")


@dataclass(frozen=True)
class Group:
    mutate: tuple[str, ...]          # files (globs) whose functions are mutated
    tests: tuple[str, ...]           # the test files that guard them
    only: tuple[str, ...] = ()       # mutant-name globs when only some functions of a file are in scope
    fork_server: bool = False        # torch or polars in the tests: fork workers from a clean server process


GROUPS: dict[str, Group] = {
    "rewards": Group(
        ("rewards/*",),
        ("tests/test_rewards_default.py", "tests/test_rewards_reference.py", "tests/test_answers.py",
         "tests/test_metrics_floors.py", "tests/test_adapters.py", "tests/test_new_task.py",
         # the audit, paired comparisons, intervals, group statistics, benchmark metrics and the reference's
         # reading of published truths arrived in rewards/ after the group was first set up
         "tests/test_rewards_audit.py", "tests/test_compare.py", "tests/test_group_stats.py",
         "tests/test_benchmark_metrics.py", "tests/test_reference_read.py", "tests/test_rewards_depth.py",
         "tests/test_rewards_truths.py", "tests/test_rewards_profiles_inprocess.py", "tests/test_rewards_audit_inprocess.py"),
    ),
    "schemas": Group(  # schemas/repairs.py (the repair policy) is mutated here too: its own tests come along; so are
        # the config loader (schemas/config.py) and the coverage check. The training layout (schemas/training.py) is
        # guarded here by test_schemas.py; the shard-writing tests also call it but take ~16 s a mutant
        ("schemas/*",),
        ("tests/test_schemas.py", "tests/test_schema_checks.py", "tests/test_new_task.py", "tests/test_answers.py",
         "tests/test_adapters.py", "tests/test_ingest_normalize.py", "tests/test_config_loader.py",
         "tests/train/test_config.py", "tests/test_registries.py"),
        fork_server=True,  # tests/train/test_config.py imports torch
    ),
    "repair": Group(  # the repair policy and the manifest's counts (records-lost guard, repairs by reason)
        ("schemas/repairs.py", "pipelines/normalize.py", "pipelines/ingest/manifest.py"),
        ("tests/test_ingest_normalize.py", "tests/test_remote_outputs.py"),
        only=("schemas.repairs.*", "pipelines.normalize.*", "pipelines.ingest.manifest.x_build*",
              "pipelines.ingest.manifest.x_count_outputs*"),
    ),
    "mix": Group(  # the options and the leakage guard on rows made by hand (test_mix.py's mixes are end to end)
        ("pipelines/mix/select.py", "pipelines/mix/allocate.py", "pipelines/mix/leakage.py"),
        ("tests/test_mix_options.py", "tests/test_mix_selection.py", "tests/test_mix_allocate.py",
         "tests/test_leakage_identity.py", "tests/test_mix.py::test_allocation_arithmetic",
         "tests/test_mix_labels.py"),  # the difficulty-weighted draw and label filters (they came with vrft label)
        fork_server=True,  # polars' thread pool does not survive a plain fork (every mutant hung)
    ),
    "validate": Group(  # the checks in process; test_validate.py's whole `vrft validate` runs are too slow per mutant
        ("pipelines/validate/videos.py", "pipelines/validate/distribution.py", "pipelines/validate/labels.py"),
        ("tests/test_validate_checks.py", "tests/test_validate.py::test_labels_flatten_nested_columns_with_positions",
         "tests/test_validate.py::test_distribution_thresholds_and_small_datasets",
         "tests/test_validate.py::test_rejected_share_on_small_runs",
         "tests/test_registries.py::test_the_built_in_registries_meet",
         "tests/test_registries.py::test_a_label_type_without_validation_checks_is_named"),
    ),
    "plan": Group(("pipelines/video/plan.py",), ("tests/test_video_plan.py", "tests/test_video_worker.py")),
    "losses": Group(  # the loss formulas; the trainer runs (marked slow) are the "config" group's
        ("train/losses.py",), ("tests/train/test_losses.py", "tests/train/test_config_wiring.py", "-m", "not slow"),
        fork_server=True,
    ),
    "config": Group(  # the config's own checks, the reward layout, the lr schedule and the clipping step, on fast
        # tests. The trainer's passing of each key into its step (train_step, _accumulate) is guarded by the one-step
        # trainer runs of test_config_wiring.py (marked slow): minutes per mutant, so not mutated here.
        ("train/config.py", "train/scoring.py", "train/trainer.py"),
        ("tests/train/test_config.py", "tests/train/test_config_wiring.py", "-m", "not slow"),
        only=("train.config.*", "train.scoring.*", "train.trainer.*_optimizer_step*", "train.trainer.x_lr_lambda*"),
        fork_server=True,
    ),
    "sheet": Group(  # the sheet's geometry: which frames are drawn in which panel, which are framed, where each box
        # and the timeline's extent go; fonts, colours, sizes and texts of render_sample are out of scope
        ("pipelines/sample_sheet.py",), ("tests/test_show.py",),
        only=tuple(f"pipelines.sample_sheet.x_{f}__mutmut_*" for f in (
            "shown_frames", "grid_shape", "panel_cell", "in_spans", "box_tolerance", "box_rectangle", "timeline_end",
            "_intervals", "_box_at")),
    ),
}


# --- running -----------------------------------------------------------------------------------------


def _toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(name: str, group: Group) -> Path:
    """A fresh folder for the group: links to the checkout and a pyproject.toml with its mutmut table."""
    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for entry in LINKED:
        (folder / entry).symlink_to(ROOT / entry)
    table = "\n".join([
        "", "[tool.mutmut]",
        f"source_paths = {_toml_list(PACKAGES)}",
        f"only_mutate = {_toml_list(group.mutate)}",
        f"pytest_add_cli_args_test_selection = {_toml_list(group.tests)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]',
        f'process_isolation = "{"forkserver" if group.fork_server else "fork"}"',
        "",
    ])
    (folder / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + table)
    return folder


def run_group(name: str, group: Group, max_children: int) -> dict:
    folder = prepare(name, group)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only mutants/ is importable
    env["VRFT_HYPOTHESIS_PROFILE"] = "mutation"  # the ci examples every run, failures not shrunk
    # the tests run inside build/mutmut/GROUP/mutants: point them at the real data next to this checkout
    env.setdefault("VRFT_REAL_DATA", str(ROOT.parent / "shared" / "data" / "real"))
    log = folder / "run.log"
    print(f"[{name}] mutating {', '.join(group.mutate)} against {' '.join(group.tests)} (log: {log})", flush=True)
    started = time.monotonic()
    with open(log, "w") as out:
        rc = subprocess.call([str(MUTMUT), "run", "--max-children", str(max_children), *group.only],
                             cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    if rc != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"[{name}] mutmut failed (exit {rc}); the end of {log}:\n{tail}")
    return collect(name, group, folder, seconds)


# --- results -----------------------------------------------------------------------------------------

_DIFFS = """
import json, sys
from pathlib import Path
from mutmut.mutation.diff_apply import get_diff_for_mutant
keys = json.load(sys.stdin)
print(json.dumps({k: get_diff_for_mutant(k, path=Path(p)) for k, p in keys.items()}))
"""


def function_of(key: str) -> str:
    """'rewards.iou.x_box_iou__mutmut_4' -> 'rewards.iou.box_iou'; methods as 'module.Class.method'."""
    module, _, mangled = key.rpartition(".")
    mangled = mangled.rsplit("__mutmut_", 1)[0]
    if mangled.startswith("xǁ"):
        _, cls, method = mangled.split("ǁ")
        return f"{module}.{cls}.{method}"
    return f"{module}.{mangled[2:]}"


def mutated_lines(diff: str) -> str:
    return " / ".join(line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))


def collect(name: str, group: Group, folder: Path, seconds: float) -> dict:
    counts: dict[str, int] = {}
    survivors: dict[str, tuple[str, str]] = {}   # mutant -> (source file, status)
    for meta in sorted((folder / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(folder / "mutants").with_suffix("")
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if group.only and not any(fnmatch.fnmatch(key, pattern) for pattern in group.only):
                continue
            status = status_by_exit_code[code]
            counts[status] = counts.get(status, 0) + 1
            if status in ("survived", "no tests", "suspicious"):
                survivors[key] = (str(source), status)
    diffs = {}
    if survivors:
        out = subprocess.run([sys.executable, "-c", _DIFFS], cwd=folder, input=json.dumps({k: v[0] for k, v in survivors.items()}),
                             capture_output=True, text=True, check=True)
        diffs = json.loads(out.stdout)
    return {
        "files": list(group.mutate), "tests": list(group.tests), "only": list(group.only),
        "date": datetime.date.today().isoformat(), "commit": _commit(), "seconds": round(seconds),
        "counts": counts,
        "survivors": [
            {"mutant": key, "function": function_of(key), "mutated": mutated_lines(diffs[key]), "diff": diffs[key],
             "status": survivors[key][1]}
            for key in sorted(survivors, key=_natural)
        ],
    }


def _natural(key: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


# --- the report --------------------------------------------------------------------------------------


def load_equivalents() -> list[dict]:
    return yaml.safe_load(EQUIVALENTS.read_text()) or [] if EQUIVALENTS.exists() else []


def equivalent_reason(survivor: dict, equivalents: list[dict]) -> str | None:
    for e in equivalents:
        if e["function"] == survivor["function"] and " ".join(e["mutated"].split()) == " ".join(survivor["mutated"].split()):
            return e["why"]
    return None


def score(result: dict, equivalents: list[dict]) -> dict:
    c = result["counts"]
    total = sum(c.values())
    detected = c.get("killed", 0) + c.get("timeout", 0) + c.get("segfault", 0)
    accepted = sum(equivalent_reason(s, equivalents) is not None for s in result["survivors"])
    return {"total": total, "detected": detected, "equivalent": accepted,
            "score": 100.0 * detected / max(total - accepted, 1)}


def write_report(results: dict[str, dict]) -> None:
    equivalents = load_equivalents()
    lines = [
        "# Mutation testing of the core",
        "",
        "Written by `make mutate` (`scripts/mutate.py`, mutmut 3): each mutant is one small change to one",
        "function (an operator, a constant, a comparison, a dropped argument); the test files of its group that",
        "call that function run against it. Killed: a test failed; timeout: the mutant made a test hang past",
        "mutmut's limit (counted as detected); survived: every test passed. Score = (killed + timeout) /",
        "(mutants - accepted equivalents). A survivor is accepted only with the reason no input can tell it",
        "from the original (docs/mutation_equivalents.yaml); every other survivor is listed as open.",
        "",
        "| group | files | mutants | killed | timeout | survived | no tests | equivalent | score | minutes | run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = ["", NOTES.read_text().strip()] if NOTES.exists() else []
    for name in GROUPS:
        if name not in results:
            lines.append(f"| {name} | {', '.join(GROUPS[name].mutate)} | not run yet | | | | | | | | |")
            continue
        r, s = results[name], score(results[name], equivalents)
        c = r["counts"]
        lines.append(
            f"| {name} | {', '.join(r['files'])} | {s['total']} | {c.get('killed', 0)} | {c.get('timeout', 0)} | "
            f"{c.get('survived', 0)} | {c.get('no tests', 0)} | {s['equivalent']} | {s['score']:.1f} % | "
            f"{r['seconds'] / 60:.1f} | {r['date']}, {r['commit']} |"
        )
    lines += notes
    for name in GROUPS:
        if name not in results:
            continue
        r = results[name]
        lines += ["", f"## {name}", "", f"Tests: {', '.join(r['tests'])}."]
        if r["only"]:
            lines.append(f"Only the functions {', '.join(f'`{o}`' for o in r['only'])}.")
        open_, accepted = [], []
        for s in r["survivors"]:
            reason = equivalent_reason(s, equivalents)
            (accepted if reason else open_).append((s, reason))
        if open_:
            lines += ["", "Open survivors (a test is missing):", ""]
            lines += [f"- `{s['mutant']}` ({s['status']}): `{s['mutated'] or '(line removed)'}`" for s, _ in open_]
        if accepted:
            lines += ["", "Accepted as equivalent:", ""]
            lines += [f"- `{s['mutant']}`: `{s['mutated'] or '(line removed)'}` — {why}" for s, why in accepted]
        if not open_ and not accepted:
            lines += ["", "No survivors."]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help=f"groups to run (default: all): {', '.join(GROUPS)}; commas allowed")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report-only", action="store_true", help="rewrite docs/mutation.md from the stored results")
    args = parser.parse_args(argv)
    names = [n for g in args.groups for n in g.replace(",", " ").split()] or list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.report_only:
        for name in names:
            results[name] = run_group(name, GROUPS[name], args.max_children)
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
            s = score(results[name], load_equivalents())
            print(f"[{name}] {s['detected']}/{s['total']} detected, {s['equivalent']} equivalent: "
                  f"{s['score']:.1f} % in {results[name]['seconds'] / 60:.1f} min", flush=True)
    write_report(results)
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
