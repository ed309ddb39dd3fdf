"""Failures of the machine, not of the data: a full disk, a read-only or failing filesystem, no permission.

They are no property of any record, so the pipelines never turn them into rejects: writes raise them as
`EnvironmentFailure` (`environment_errors`), per-record handlers re-raise them (`is_environment`), and
the command line reports them as one line with exit 1. A run that ends this way writes no manifest and
keeps what a `--resume` can use.
"""

from __future__ import annotations

import contextlib
import errno
import os
from typing import Iterator

from schemas.errors import EnvironmentFailure

ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EACCES)


def environment_failure(err: BaseException, path: str = "") -> EnvironmentFailure | None:
    """`err` as an `EnvironmentFailure` when it is one (or an OSError of an environment errno, also
    as wrapped by pyarrow, which keeps only the message), else None."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, EnvironmentFailure):
            return err
        code = getattr(err, "errno", None)
        if isinstance(err, OSError) and code in ENVIRONMENT_ERRNOS:
            where = path or err.filename or ""
            return EnvironmentFailure(f"{where}: {os.strerror(code)}" if where else os.strerror(code))
        text = str(err)  # an OSError as a runner re-raised it, or as pyarrow wrapped it: its message only
        for code in ENVIRONMENT_ERRNOS:
            if os.strerror(code) in text:
                return EnvironmentFailure(f"{path}: {os.strerror(code)}" if path else text.strip().splitlines()[-1])
        err = err.__cause__ or err.__context__
    return None


def is_environment(err: BaseException) -> bool:
    """True for a failure of the machine that no record caused: one raised by a write (`EnvironmentFailure`),
    or a full disk, a read-only or failing filesystem anywhere (a per-record handler re-raises these)."""
    return isinstance(err, EnvironmentFailure) or (
        isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)
    )


@contextlib.contextmanager
def environment_errors(path: str) -> Iterator[None]:
    """Inside the block, an OSError of an environment errno becomes an `EnvironmentFailure` naming `path`."""
    try:
        yield
    except OSError as err:
        failure = environment_failure(err, str(path))
        if failure is None:
            raise
        raise failure from err
