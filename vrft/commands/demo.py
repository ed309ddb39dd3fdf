"""`vrft demo`: the main job as it stands. For now: score the shipped example completions with both
reward profiles and show where the reference's rules and ours disagree."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "completions"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the end-to-end demo on data it makes itself (no network)")
    p.add_argument("--examples", type=Path, default=EXAMPLES, help="folder of <task>.jsonl example completions")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rewards import profile_names, score_batch
    from schemas import check_labels, get_task
    from vrft.errors import UserError
    from vrft.table import print_table

    files = sorted(args.examples.glob("*.jsonl"))
    if not files:
        raise UserError(f"no example files (*.jsonl) in {args.examples}")
    for path in files:
        task = get_task(path.stem)
        items = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # the examples include a malformed line for `vrft rewards score` to report
            completion = obj.pop("completion")
            if not check_labels(task, obj):
                items.append((completion, {**obj, "task": task.name}))
        scores = {p: score_batch(task.name, [c for c, _ in items], [t for _, t in items], p) for p in profile_names()}
        rows = []
        for i, (completion, _) in enumerate(items):
            short = completion.replace("\n", "\\n")
            short = short if len(short) <= 70 else short[:67] + "..."
            rows.append([short] + [_fmt(scores[p].row(i)) for p in profile_names()])
        print_table(f"\n{task.name}: components per profile", ["completion"] + list(profile_names()), rows)
    print("\nscore your own file: vrft rewards score --task TASK --profile PROFILE --input FILE.jsonl")
    return 0


def _fmt(row: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in row.items())
