"""`vrft rewards score`: score a JSONL file of completions against their labels."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator, TextIO

from rewards import get_profile, profile_names, score_batch
from schemas import check_labels, get_task, tasks
from vrft.errors import UserError
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
Exit status 1 if any line was malformed."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rewards",
        help="score completions with a task's reward function",
        description="The reward functions the trainer uses, on a file: `vrft rewards score` scores a JSONL file of "
        "completions against their labels, per reward component and in total, with a reward profile "
        "(default: ours; videochat-r1: the reference's values).",
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
    s.set_defaults(func=run_score)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of the non-blank lines; decoding is per line, so one bad line costs only itself."""
    stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    with stream:
        for n, line in enumerate(stream, 1):
            if line.strip():
                yield n, line


def _parse_line(raw: bytes, task: Any) -> tuple[str, dict[str, Any]]:
    """(completion, truth) or ValueError naming what is wrong."""
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
    violations = check_labels(task, obj)
    if violations:
        raise ValueError("; ".join(str(v) for v in violations))
    return completion, {**obj, "task": task.name}


def run_score(args: argparse.Namespace) -> int:
    try:
        task = get_task(args.task)
        get_profile(args.profile)
    except KeyError as err:
        raise UserError(err.args[0]) from None
    if str(args.input) != "-" and not args.input.is_file():
        raise UserError(f"input file not found: {args.input}")

    out: TextIO = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    sums: dict[str, float] = {}
    scored, bad = 0, 0
    try:
        for n, raw in _lines(args.input):
            try:
                completion, truth = _parse_line(raw, task)
                row = score_batch(task.name, [completion], [truth], args.profile).row(0)
            except (ValueError, KeyError, TypeError, RecursionError) as err:
                bad += 1
                print(f"{args.input}:{n}: {err}", file=sys.stderr)
                out.write(json.dumps({"line": n, "error": str(err)}) + "\n")
                continue
            scored += 1
            for k, v in row.items():
                sums[k] = sums.get(k, 0.0) + v
            out.write(json.dumps({"line": n, **row}) + "\n")
    finally:
        if args.output:
            out.close()
    _summary(task.name, args.profile, sums, scored, bad)
    return 1 if bad else 0


def _summary(task: str, profile: str, sums: dict[str, float], scored: int, bad: int) -> None:
    rows = [(name, total / scored if scored else 0.0) for name, total in sums.items()]
    print_table(
        f"{task} · profile {profile} · {scored} scored, {bad} malformed",
        ["component", "mean"],
        rows,
        file=sys.stderr,
    )
