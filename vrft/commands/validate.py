"""`vrft validate DIR`: check an ingestion folder with a Great Expectations suite generated from the tasks.

Writes the GX Data Docs, a report with plots and summary.json to DIR/report (or --report), prints what
was checked and what failed (column and rows), and exits 1 when the dataset fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from pipelines.validate.thresholds import Thresholds
from vrft.errors import UserError
from vrft.table import print_table

DATASET_TABLE = "dataset"  # the whole-dataset checks: one value each, no rows to name


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check an ingestion folder (Great Expectations); HTML report", description=__doc__)
    p.add_argument("dir", metavar="DIR", help="an ingestion output folder (samples/, videos/, manifest.json)")
    p.add_argument("--report", metavar="DIR", help="where the report goes (default: DIR/report)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a whole-dataset threshold (repeatable), e.g. --set max_repaired_share=0.4; "
                   f"names (defaults): {Thresholds.names()}")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set wants NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def print_result(result: Any) -> None:
    by_table: dict[str, list[int]] = {}
    for c in result.checks:
        counts = by_table.setdefault(c["table"], [0, 0])
        counts[0 if c["success"] else 1] += 1
    print_table(f"vrft validate {result.root}", ["check table", "passed", "failed"],
                [(name, p, f) for name, (p, f) in by_table.items()])
    rowwise = [c for c in result.failures if c["table"] != DATASET_TABLE]
    if rowwise:
        rows = [(c["table"], c["column"], c["about"], f"{c['failing']:,}/{c['rows']:,}",
                 ", ".join(str(x) for x in c["examples"][:5]) + (" ..." if c["failing"] > 5 else ""))
                for c in rowwise]
        print_table("FAILED checks (rows named by their key)", ["table", "column", "expectation", "failing", "rows"], rows)
    for c in result.failures:
        if c["table"] == DATASET_TABLE:  # the value, the threshold and the option are in its text
            print(f"FAILED {c['column']}: {c['about']}")
    for note in result.notes:
        print(f"note: {note}")
    verdict = "PASSED" if result.success else f"FAILED ({len(result.failures)} checks)"
    print(f"{verdict}: report {result.report}, Data Docs {result.docs}, summary {result.summary}")


def run(args: argparse.Namespace) -> int:
    # pandas, pyarrow's readers and Great Expectations load in seconds: only when validating
    from pipelines.ingested import NotIngested
    from pipelines.validate import validate_dataset

    try:
        thresholds = Thresholds.with_overrides(parse_overrides(args.set))
    except ValueError as err:
        raise UserError(f"--set: {err}") from None
    from pipelines import storage
    from pipelines.outputs import FolderRefused, locked

    if not os.path.isdir(args.dir):
        raise UserError(f"{args.dir} is not a folder")
    report = args.report or os.path.join(args.dir, "report")
    try:  # the folder the report is written into is locked while it is (the ingestion folder, by default)
        with locked(args.dir if storage.inside(args.dir, report) else report, "validate"):
            result = validate_dataset(args.dir, report, thresholds)
    except (NotIngested, FolderRefused) as err:
        raise UserError(str(err)) from None
    print_result(result)
    sys.stdout.flush()
    return 0 if result.success else 1
