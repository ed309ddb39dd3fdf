"""Every path vrft reads or writes, local or remote, through one interface; and files that appear whole.

A path is a local path or a URL (`gs://bucket/x`, `s3://...`, `memory://...`). Local paths go through
`os` (fast, and `os.replace` is atomic); URLs go through fsspec, which also gives the tests a remote
filesystem to run on (`memory://`). This is the only module that tells the two apart.

Atomic writes: a local file is written under a hidden temporary name in its own folder (`.NAME.tmp-XXXXXXXX`)
and renamed into place when complete, so a killed process never leaves a visible partial file and a
reader never sees half of one. An object store publishes an object only when its upload completes, so
remote files are written in place. Temporary names all come from `temp_name`; `is_temp` recognises them
(a resumed run deletes the leftovers of a killed one).

Writes raise a full disk, a read-only or failing filesystem or a missing permission as an
`EnvironmentFailure` (`pipelines.environment`, named here too): the machine, not the data. `inside`
confines a path to a root after resolving symlinks (media paths named by annotation files).
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob as _glob
import hashlib
import io
import json
import os
import posixpath
import shutil
import tempfile
import uuid
from typing import IO, Any, Callable, Iterator

from pipelines.environment import (  # noqa: F401  (the storage layer's failures, named through it)
    ENVIRONMENT_ERRNOS, EnvironmentFailure, environment_errors, environment_failure, is_environment,
)

TEMP_MARK = ".tmp-"
def is_remote(path: str) -> bool:
    """True for a URL (`scheme://...`), False for a local path."""
    return "://" in str(path)


def scheme(path: str) -> str:
    """The URL scheme ("gs", "s3", "memory"), "" for a local path."""
    return str(path).split("://", 1)[0] if is_remote(path) else ""


def _fs(path: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) of a URL."""
    from fsspec.core import url_to_fs

    return url_to_fs(path)


def join(base: str, *parts: str) -> str:
    """`base/part/...`: os.path.join locally, '/'-joined for URLs."""
    base = str(base)
    if not is_remote(base):
        return os.path.join(base, *parts)
    out = base.rstrip("/")
    for part in parts:
        out = f"{out}/{str(part).strip('/')}"
    return out


def parent(path: str) -> str:
    path = str(path)
    if not is_remote(path):
        return os.path.dirname(path)
    return path.rstrip("/").rsplit("/", 1)[0]


def basename(path: str) -> str:
    return str(path).rstrip("/").rsplit("/", 1)[-1] if is_remote(path) else os.path.basename(path)


# ---- reading ---------------------------------------------------------------------------------------


def exists(path: str) -> bool:
    if not is_remote(path):
        return os.path.exists(path)
    fs, inner = _fs(path)
    return fs.exists(inner)


def isdir(path: str) -> bool:
    if not is_remote(path):
        return os.path.isdir(path)
    fs, inner = _fs(path)
    return fs.isdir(inner)


def isfile(path: str) -> bool:
    if not is_remote(path):
        return os.path.isfile(path)
    fs, inner = _fs(path)
    return fs.isfile(inner)


def size(path: str) -> int:
    if not is_remote(path):
        return os.path.getsize(path)
    fs, inner = _fs(path)
    return int(fs.size(inner))


def open_read(path: str) -> IO[bytes]:
    """A readable, seekable binary file (pyarrow reads Parquet through it)."""
    if not is_remote(path):
        return open(path, "rb")
    fs, inner = _fs(path)
    return fs.open(inner, "rb")


def path_or_file(path: str) -> str | IO[bytes]:
    """For readers that take either (pyarrow): a local path as it is (read natively, no Python file
    in between), a URL as an open file."""
    return path if not is_remote(path) else open_read(path)


def sha256(path: str) -> str:
    """The file's content digest, streamed a MiB at a time."""
    h = hashlib.sha256()
    with open_read(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


def read_text(path: str) -> str:
    """The whole file as text (UTF-8, a byte-order mark dropped)."""
    return read_bytes(path).decode("utf-8-sig")


def read_json(path: str) -> Any:
    return json.loads(read_text(path))


@contextlib.contextmanager
def open_text(path: str, errors: str = "strict") -> Iterator[IO[str]]:
    """The file as a stream of text (UTF-8, a byte-order mark dropped): memory holds a buffer, not the file."""
    with open_read(path) as raw:
        with io.TextIOWrapper(raw, encoding="utf-8-sig", errors=errors, newline="") as text:
            yield text


def glob(pattern: str) -> list[str]:
    """Sorted paths matching `pattern` (`*`, `?`, `[...]`), URLs kept as URLs."""
    if not is_remote(pattern):
        return sorted(_glob.glob(pattern))
    fs, inner = _fs(pattern)
    return sorted(fs.unstrip_protocol(p) for p in fs.glob(inner))


def listdir(path: str) -> list[str]:
    """Names (not paths) in a folder, sorted; [] when it does not exist."""
    if not is_remote(path):
        return sorted(os.listdir(path)) if os.path.isdir(path) else []
    fs, inner = _fs(path)
    if not fs.isdir(inner):
        return []
    return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(inner, detail=False))


def inside(root: str, path: str) -> bool:
    """True when `path` is `root` or below it once `..` and, locally, symlinks are resolved (a media
    path from an annotation file must not reach outside the folder it is declared relative to)."""
    if is_remote(root) != is_remote(path):
        return False
    if not is_remote(root):
        real_root, real = os.path.realpath(root), os.path.realpath(path)
        return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)
    (s1, r), (s2, p) = str(root).split("://", 1), str(path).split("://", 1)
    r, p = posixpath.normpath("/" + r), posixpath.normpath("/" + p)
    return s1 == s2 and (p == r or p.startswith(r.rstrip("/") + "/"))


def escapes(relative: str) -> bool:
    """True for a relative path that climbs above its starting folder (`../x`, `a/../../x`)."""
    norm = posixpath.normpath(str(relative).replace("\\", "/"))
    return norm == ".." or norm.startswith("../")


def matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


@contextlib.contextmanager
def local_copy(path: str) -> Iterator[str]:
    """A local file to hand to a program that needs one (a video decoder): the path itself, or a
    temporary copy of a remote object, removed afterwards."""
    if not is_remote(path):
        yield path
        return
    suffix = os.path.splitext(basename(path))[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with open_read(path) as src:
            shutil.copyfileobj(src, tmp, 1 << 20)
        tmp.flush()
        yield tmp.name


# ---- writing ---------------------------------------------------------------------------------------


def makedirs(path: str) -> None:
    if not is_remote(path):
        with environment_errors(path):
            os.makedirs(path, exist_ok=True)
        return
    fs, inner = _fs(path)
    fs.makedirs(inner, exist_ok=True)


def remove(path: str) -> None:
    """Remove a file or a whole folder; nothing when it is not there."""
    if not is_remote(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        return
    fs, inner = _fs(path)
    if fs.exists(inner):
        fs.rm(inner, recursive=True)


def rename(src: str, dst: str) -> None:
    """Move a file into place (atomic for local paths on one filesystem)."""
    if not is_remote(dst):
        os.replace(src, dst)
        return
    fs, inner_src = _fs(src)
    fs.mv(inner_src, _fs(dst)[1])


def temp_name(path: str) -> str:
    """The hidden temporary sibling a file is written under before it is renamed into place."""
    return join(parent(path), f".{basename(path)}{TEMP_MARK}{uuid.uuid4().hex[:8]}")


def is_temp(name: str) -> bool:
    base = basename(name)
    return base.startswith(".") and TEMP_MARK in base


class AtomicFile:
    """A whole file written by a caller that cannot use a `with` block (a writer kept open across
    calls): write to `.file`, then `commit()` publishes it at `path`, or `discard()` leaves nothing.

    Locally the file is written under `temp_name(path)` and renamed into place by `commit`; an object
    store publishes an object only when its upload completes, so a URL is written in place."""

    def __init__(self, path: str, mode: str = "wb") -> None:
        if mode not in ("wb", "w"):
            raise ValueError(f"AtomicFile writes whole files ('w' or 'wb'), not {mode!r}")
        self.path = str(path)
        makedirs(parent(self.path) or ".")
        if is_remote(self.path):
            fs, inner = _fs(self.path)
            self._remote: tuple[Any, str] | None = (fs, inner)
            self.tmp = self.path
            self.file: IO[Any] = fs.open(inner, mode)
        else:
            self._remote = None
            self.tmp = temp_name(self.path)
            with environment_errors(self.path):
                self.file = open(self.tmp, mode, **({"encoding": "utf-8"} if mode == "w" else {}))

    def commit(self) -> str:
        if self._remote is None:
            with environment_errors(self.path):
                self.file.flush()
                self.file.close()
                os.replace(self.tmp, self.path)
        else:
            self.file.close()  # the upload completes: the object appears whole
        return self.path

    def discard(self) -> None:
        """Drop what was written (an unfinished upload is not published); never raises."""
        if self._remote is None:
            with contextlib.suppress(Exception):
                self.file.close()
            with contextlib.suppress(OSError):
                os.remove(self.tmp)
            return
        fs, inner = self._remote
        with contextlib.suppress(Exception):
            getattr(self.file, "discard", lambda: None)()
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            fs.rm(inner)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write a whole file: `with atomic_open(p, "w") as f: ...`; the file appears at `p` only when the
    block finishes without an exception (nothing is left behind otherwise)."""
    out = AtomicFile(path, mode)
    try:
        with environment_errors(path):
            yield out.file
        out.commit()
    except BaseException:
        out.discard()
        raise


def write_bytes(path: str, data: bytes) -> str:
    with atomic_open(path, "wb") as f:
        f.write(data)
    return str(path)


def write_text(path: str, text: str) -> str:
    with atomic_open(path, "w") as f:
        f.write(text)
    return str(path)


def write_json(path: str, obj: Any, indent: int | None = 2, sort_keys: bool = False,
               default: Callable[[Any], Any] | None = None) -> str:
    return write_text(path, json.dumps(obj, indent=indent, sort_keys=sort_keys, default=default) + "\n")


@contextlib.contextmanager
def staged_dir(path: str) -> Iterator[str]:
    """A local folder filled under a temporary sibling name and renamed into place when the block
    finishes (an existing folder at `path` is replaced only then). For folders written by other
    libraries (`save_pretrained`, accelerate's state)."""
    if is_remote(path):
        raise ValueError(f"staged_dir needs a local folder, got {path}")
    path = os.path.normpath(str(path))
    tmp = temp_name(path)
    os.makedirs(tmp)
    try:
        yield tmp
        if os.path.exists(path):
            old = temp_name(path)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
