"""`vrft rewards score`: score a JSONL file of completions against their labels; `vrft rewards audit`: what
degenerate policies earn on a dataset under a profile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator, TextIO

from rewards import get_profile, profile_names, score_batch
from rewards.audit import ORACLE, UNPARSED, audit, well_formed
from schemas import get_task, tasks
from schemas.repairs import RepairPolicy
from vrft.errors import UserError
from vrft.options import number
from vrft.table import print_table

HELP = """Each input line is {"completion": "...", <label fields>, "duration": <s>}, e.g.
  temporal_grounding: {"completion": "...", "span": {"start": 1.8, "end": 9.4}, "duration": 30.0}
  grounded_qa:        {"completion": "...", "choices": ["a","b","c","d","e"], "answer_index": 2,
                       "spans": [{"start": 13.8, "end": 29.8}], "duration": 90}
  tracking:           {"completion": "...", "boxes": [{"t": 0.0, "x0": 0.45, "y0": 0.381, "x1": 0.545, "y1": 0.557}, ...]}
  video_qa:           {"completion": "...", "choices": [...], "answer_index": 0}
Optional "think": false scores against the no-think contract. Each output line has "line", the
components and "total" (or "error"); the summary goes to stderr. Every good line is scored; a line
that cannot be read (not UTF-8, not JSON, nested too deeply, labels wrong) is reported with its number.
Exit status 1 if any line was malformed.
Truths: the default profile repairs them as `vrft ingest` does (a span past the video's ends by at most
--clip-tolerance seconds is clipped; "repairs" on the line names each clip) and refuses what ingestion
rejects. videochat-r1 scores every truth the reference can read, as published, with the reference's
value; "warnings" on the line names what the task's checks refuse (a span ending past the video, an
inverted span, a zero-width box)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rewards",
        help="score completions with a task's reward function",
        description="The reward functions the trainer uses, on a file: `vrft rewards score` scores a JSONL file of "
        "completions against their labels, per reward component and in total, with a reward profile "
        "(default: ours; videochat-r1: the reference's values); `vrft rewards audit` shows what degenerate "
        "policies earn under a profile on a dataset, beside the oracle.",
    )
    rsub = p.add_subparsers(dest="rewards_command", metavar="SUBCOMMAND", required=True)
    s = rsub.add_parser(
        "score",
        help="score a JSONL file of completions",
        description="Score completions against their labels with a task's reward function.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--task", required=True, help=f"the task the completions answer: {', '.join(t.name for t in tasks())}")
    s.add_argument("--profile", default="default", help=f"reward profile: {', '.join(profile_names())} (default: default)")
    s.add_argument("--input", required=True, type=Path, help="JSONL file, one completion per line ('-' for stdin)")
    s.add_argument("--output", type=Path, help="JSONL file for the per-line scores (default: stdout)")
    s.add_argument("--clip-tolerance", type=number(float, min=0), default=RepairPolicy().clip_tolerance_s, metavar="S",
                   help="default profile: a truth span past the video's ends by at most S seconds is clipped, as "
                   "`vrft ingest` clips it (default %(default)g); further out is refused")
    s.set_defaults(func=run_score)
    a = rsub.add_parser(
        "audit",
        help="what degenerate policies earn under a profile, beside the oracle",
        description="Write degenerate answers through each task's answer contract (constant letter, most frequent "
        "letter, whole video, copy the given box, a well-formed random guess, an empty thinking block, the answer "
        "inside the thinking, the format alone) for every sample of DIR, score them with the profile, and print per "
        "task each policy's mean reward per component and in total, beside the oracle's (the truth itself) and the "
        "share of answers the profile could not read. A reward that pays a lazy policy is what RL learns first.",
    )
    a.add_argument("--data", type=Path, required=True, action="append", metavar="DIR",
                   help="an ingestion folder (labels only is enough) or training shards; may be given several times")
    a.add_argument("--profile", default="default",
                   help=f"reward profile: {', '.join(profile_names())} (default: default)")
    a.add_argument("--seed", type=number(int, min=0), default=0, metavar="N",
                   help="seed of the random guesses (default 0)")
    a.add_argument("--json", action="store_true", help="print the audit as JSON instead of tables")
    a.add_argument("--out", type=Path, metavar="FILE", help="also write the audit as JSON to FILE (default: none)")
    a.set_defaults(func=run_audit)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of the non-blank lines; decoding is per line, so one bad line costs only itself."""
    stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    with stream:
        for n, line in enumerate(stream, 1):
            if line.strip():
                yield n, line


def _parse_line(raw: bytes, task: Any) -> tuple[str, dict[str, Any]]:
    """(completion, truth as given) or ValueError naming what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 (byte {err.start + 1})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise ValueError("not readable: JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    completion = obj.pop("completion", None)
    if not isinstance(completion, str):
        raise ValueError('missing "completion" string')
    if obj.get("task", task.name) != task.name:
        raise ValueError(f"line is for task {obj['task']!r}, not {task.name!r}")
    return completion, {**obj, "task": task.name}


def run_score(args: argparse.Namespace) -> int:
    try:
        task = get_task(args.task)
        profile = get_profile(args.profile)
    except KeyError as err:
        raise UserError(err.args[0]) from None
    if not profile.claims(task):
        raise UserError(f"the {profile.name} profile does not score task {task.name!r}")
    policy = RepairPolicy(clip_tolerance_s=args.clip_tolerance)
    if str(args.input) != "-" and not args.input.is_file():
        raise UserError(f"input file not found: {args.input}")
    if args.output and str(args.input) != "-" and args.output.exists() and args.output.samefile(args.input):
        raise UserError(f"--output {args.output} is the input file: vrft never writes over its inputs")

    out: TextIO = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    sums: dict[str, float] = {}
    scored, bad, repaired, warned = 0, 0, 0, 0
    try:
        for n, raw in _lines(args.input):
            try:
                completion, given = _parse_line(raw, task)
                truth = profile.admit(task, given, policy)  # TruthRefused is a ValueError
                row = score_batch(task.name, [completion], [truth.truth], args.profile).row(0)
            except (ValueError, KeyError, TypeError, RecursionError) as err:
                bad += 1
                print(f"{args.input}:{n}: {err}", file=sys.stderr)
                out.write(json.dumps({"line": n, "error": str(err)}) + "\n")
                continue
            scored += 1
            for k, v in row.items():
                sums[k] = sums.get(k, 0.0) + v
            notes = {k: list(v) for k, v in (("repairs", truth.repairs), ("warnings", truth.warnings)) if v}
            repaired, warned = repaired + bool(truth.repairs), warned + bool(truth.warnings)
            out.write(json.dumps({"line": n, **row, **notes}) + "\n")
    finally:
        if args.output:
            out.close()
    notes = "".join(f", {n} {what}" for n, what in ((repaired, "with truth repaired"), (warned, "with warnings")) if n)
    _summary(f"{task.name} · profile {args.profile} · {scored} scored{notes}, {bad} malformed", sums, scored)
    return 1 if bad else 0


def _summary(title: str, sums: dict[str, float], scored: int) -> None:
    rows = [(name, total / scored if scored else 0.0) for name, total in sums.items()]
    print_table(
        title,
        ["component", "mean"],
        rows,
        file=sys.stderr,
    )


def _truths_by_task(dirs: list[Path]) -> dict[str, list[dict[str, Any]]]:
    import pyarrow as pa

    from train.eval_items import read_items

    by_task: dict[str, list[dict[str, Any]]] = {}
    for d in dirs:
        if not d.exists():
            raise UserError(f"no such data: {d}")
        try:
            items = read_items(d)
        except (FileNotFoundError, KeyError, ValueError, pa.ArrowException) as err:
            raise UserError(f"{d} is neither an ingestion folder nor training shards ({err})") from None
        for item in items:
            by_task.setdefault(item.task, []).append(item.truth)
    if not by_task:
        raise UserError(f"no samples in {', '.join(map(str, dirs))}")
    return by_task


def run_audit(args: argparse.Namespace) -> int:
    from pipelines import storage
    from pipelines.outputs import FolderRefused, check_apart

    try:
        profile = get_profile(args.profile)
        if args.out:
            for d in args.data:
                check_apart(str(args.out), {"--data": str(d)})
    except KeyError as err:
        raise UserError(err.args[0]) from None
    except FolderRefused as err:
        raise UserError(str(err)) from None
    report: dict[str, Any] = {"profile": profile.name, "seed": args.seed, "data": list(map(str, args.data)), "tasks": {}}
    for task, truths in sorted(_truths_by_task(args.data).items()):
        if not profile.claims(get_task(task)):
            print(f"note: the {profile.name} profile does not score task {task}; left out", file=sys.stderr)
            continue
        results = audit(task, truths, profile.name, args.seed)
        ok = well_formed(task)
        report["tasks"][task] = {
            "samples": len(truths), "weights": dict(get_task(task).weights),
            "policies": {name: {"well_formed": name in ok, **row} for name, row in results.items()},
        }
        for name, row in results.items():  # a reward that pays a lazy policy more than the truth: say so
            if row["total"] > results[ORACLE]["total"]:
                print(f"warning: {task}: {name} earns more than the oracle under {profile.name} "
                      f"({row['total']:.4f} > {results[ORACLE]['total']:.4f})", file=sys.stderr)
    if args.out:
        storage.write_json(str(args.out), report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for task, entry in report["tasks"].items():
            _audit_table(task, entry, profile.name, args.seed)
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _audit_table(task: str, entry: dict[str, Any], profile: str, seed: int) -> None:
    policies = entry["policies"]
    components = [k for k in next(iter(policies.values())) if k not in ("well_formed", "total", UNPARSED)]
    rows = [(name + ("" if row["well_formed"] else " *"), *(row[c] for c in components), row["total"],
             f"{row[UNPARSED]:.1f}") for name, row in policies.items()]
    title = f"{task} · profile {profile} · {entry['samples']} samples · seed {seed} · * not well-formed on purpose"
    print_table(title, ["policy", *components, "total", "unparsed %"], rows)
