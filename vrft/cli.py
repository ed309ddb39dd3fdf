"""`vrft` entry point: one sub-command per module in `vrft.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func`. Heavy
libraries (torch, beam, great_expectations) are imported inside the command functions, so
`vrft --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pipelines.environment import EnvironmentFailure
from schemas import check_coverage
from vrft import __version__
from vrft.errors import UserError

# Order is the order shown in `vrft --help`.
COMMANDS = (
    "ingest",
    "validate",
    "mix",
    "rewards",
    "show",
    "tiny-model",
    "train",
    "eval",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vrft",
        description="Video datasets -> validated Parquet shards -> GRPO training (VideoChat-R1 recipe).",
    )
    parser.add_argument("--version", action="version", version=f"vrft {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"vrft.commands.{name.replace('-', '_')}").register(sub)
    return parser


def check_registries() -> None:
    """The start-up check: every declared task's label types have a reward component in every profile that
    claims the task, validation checks and report plots (or an exemption), before any command does work."""
    # the registries load here, not at the top: the validation and report ones bring pandas, which
    # `vrft --help` does without
    import pipelines.report.plots  # noqa: F401
    import pipelines.validate.labels  # noqa: F401
    import rewards  # noqa: F401

    check_coverage()


def main(argv: list[str] | None = None) -> int:
    # library chatter (model-loading progress bars, info logs) off unless the user asks for it
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    parser = build_parser()
    # Commands that pass options through to another tool (ingest -> Beam) set `pass_through`.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "pass_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    check_registries()
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"vrft {args.command}: error: {err}", file=sys.stderr)
        return 2
    except EnvironmentFailure as err:  # the machine, not the input: a full disk, a read-only folder
        print(f"vrft {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vrft {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
