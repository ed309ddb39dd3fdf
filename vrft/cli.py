"""`vrft` entry point: one sub-command per module in `vrft.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets `func`. Heavy
libraries (torch, beam, great_expectations) are imported inside the command functions, so
`vrft --help` stays fast.

One error path: a user mistake (`UserError`, a bad option, an unreadable input file) is one line,
`vrft COMMAND: error: ...`, and exit status 2; a failure of the machine (`EnvironmentFailure`, a full
disk, a read-only folder) is one line and exit status 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from schemas import check_coverage
from vrft import __version__
from vrft.errors import EnvironmentFailure, UserError

# Order is the order shown in `vrft --help`.
COMMANDS = (
    "ingest",
    "validate",
    "mix",
    "label",
    "rewards",
    "show",
    "tiny-model",
    "train",
    "eval",
    "demo",
)


# a path that is not there or not what it should be is the user's to fix; other OS errors are the machine's
_USER_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP}


class Parser(argparse.ArgumentParser):
    """argparse with its refusals as one line (the usage is one `--help` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    except KeyboardInterrupt:
        print(f"vrft {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        status = exit_status(err)
        if status is None:
            raise
        print(f"vrft {args.command}: error: {one_line(err)}", file=sys.stderr)
        return status


def exit_status(err: BaseException) -> int | None:
    """2 for a user mistake, 1 for a failure of the machine, None for a bug (shown with its traceback)."""
    if isinstance(err, UserError):
        return 2
    if isinstance(err, EnvironmentFailure):
        return 1
    if _from_pyarrow(err):  # a file that is not the Parquet it should be (corrupt pages come as OSError)
        return 2
    if isinstance(err, OSError):
        return 2 if err.errno in _USER_ERRNOS else 1
    return None


def _from_pyarrow(err: BaseException) -> bool:
    """Raised by pyarrow about what it read: its own exception types, or an error-numberless OSError
    (corrupt compressed pages, bad thrift) thrown from inside it."""
    if type(err).__module__.startswith("pyarrow"):
        return True
    if not isinstance(err, OSError) or err.errno is not None:
        return False
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename.replace(os.sep, "/") if tb is not None else ""
    return where.startswith("pyarrow/") or "/pyarrow/" in where  # its compiled modules name themselves relatively


def one_line(err: BaseException) -> str:
    """The error as one line: an OS error names its file; a library's long message keeps its first line."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    text = str(err).strip() or type(err).__name__
    if isinstance(err, (UserError, EnvironmentFailure)):
        return " ".join(text.split())
    if _from_pyarrow(err):
        text = f"unreadable Parquet data: {text}"
    return text.splitlines()[0]


if __name__ == "__main__":
    raise SystemExit(main())
