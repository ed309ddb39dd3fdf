"""An output folder as vrft holds it: one command at a time, apart from its inputs, and only what vrft
wrote there is ever removed.

- `locked(folder, command)`: a lock file (`.vrft-lock.json`: pid, host, command, start) held while a
  command writes, removed on exit (exceptions included). A lock whose process is gone (same host, pid
  not running, or running but started later: a reused pid) is stale: it is taken over with a message.
  A live one refuses the second command, naming the first.
- `check_apart(out, inputs)`: an output folder that is, contains or lies inside an input is refused
  (`--overwrite` into a dataset folder once deleted the videos it was reading).
- The marker (`.vrft-owned.json`: the kind of output and the names vrft writes there, as patterns) is
  written when a run starts; `strangers` lists what else is in the folder (a run refuses to start
  beside them) and `clear` removes only the marked names.

The same holds on a bucket (`pipelines.storage`), except that a remote lock cannot tell a dead
process from a live one: it names itself so a person can remove it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from typing import Iterator, Mapping, Sequence

from pipelines import storage
from schemas.errors import UserError

LOCK = ".vrft-lock.json"
MARKER = ".vrft-owned.json"
HOUSEKEEPING = (LOCK, MARKER)

_held: dict[str, int] = {}          # lock path -> how many times this process holds it (re-entrant)
_held_guard = threading.Lock()


class FolderRefused(UserError, ValueError):
    """The folder cannot be used as asked (a user mistake: the message says why and what to do)."""


class FolderLocked(FolderRefused):
    """Another vrft command is writing into the folder."""


# ---- inputs stay untouched ---------------------------------------------------------------------


def check_apart(out: str, inputs: Mapping[str, str | None]) -> None:
    """Refuse an output folder that is, holds or lies inside one of `inputs` ({what: path})."""
    for what, path in inputs.items():
        if not path:
            continue
        if storage.inside(out, path):
            how = "is" if storage.inside(path, out) else "contains"
        elif storage.inside(path, out):
            how = "is inside"
        else:
            continue
        raise FolderRefused(
            f"output folder {out} {how} the input {what} {path}: vrft never writes where its inputs are; "
            "choose another output folder"
        )


# ---- one command at a time -----------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _running(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_time(pid)
    return started is None or now is None or now == started


def _describe(holder: Mapping[str, object]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("since", 0) or 0)))
    return f"vrft {holder.get('command', '?')} (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {when})"


def _read_lock(path: str) -> dict[str, object]:
    try:
        holder = storage.read_json(path)
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _create(path: str, body: str) -> bool:
    """Create the lock file only if there is none; True when this call made it."""
    if storage.is_remote(path):
        if storage.exists(path):
            return False
        storage.write_text(path, body)
        return True
    try:
        with storage.environment_errors(path):
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(body)
    return True


def _take_over_if_stale(path: str, holder: Mapping[str, object]) -> bool:
    """Remove a lock whose process is gone (same host only); True when removed."""
    if storage.is_remote(path) or holder.get("host") != socket.gethostname():
        return False
    pid = holder.get("pid")
    if not isinstance(pid, int) or _running(pid, holder.get("started")):  # type: ignore[arg-type]
        return False
    if _read_lock(path) != holder:
        return False  # taken over meanwhile
    aside = f"{path}.stale-{os.getpid()}"
    try:  # only one contender wins the rename; the loser finds the lock gone
        os.replace(path, aside)
    except FileNotFoundError:
        return False
    os.remove(aside)
    print(f"vrft: took over the lock of {os.path.dirname(path) or '.'}: {_describe(holder)} is no longer running",
          file=sys.stderr)
    return True


@contextlib.contextmanager
def locked(folder: str, command: str) -> Iterator[None]:
    """Hold `folder`'s lock for the block; re-entrant within one process. A folder made for the lock is
    removed with it when nothing else was written there (a refused command leaves no trace)."""
    made = not storage.exists(folder)
    storage.makedirs(folder)
    path = storage.join(folder, LOCK)
    with _held_guard:
        mine = _held.get(path, 0)
        if mine:
            _held[path] = mine + 1
    if not mine:
        body = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                           "since": time.time(), "started": _start_time(os.getpid())})
        for _ in range(3):
            if _create(path, body):
                break
            holder = _read_lock(path)
            if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                break  # left by this process (a lock released by a thread that died): ours again
            if not _take_over_if_stale(path, holder):
                raise FolderLocked(
                    f"{folder} is in use by {_describe(holder)}; wait for it to finish "
                    f"(or remove {path} if no vrft command is running there)"
                )
        else:
            raise FolderLocked(f"could not lock {folder}: another command keeps taking it")
        with _held_guard:
            _held[path] = 1
    try:
        yield
    finally:
        with _held_guard:
            _held[path] -= 1
            last = _held[path] == 0
            if last:
                del _held[path]
        if last:
            with contextlib.suppress(OSError):
                storage.remove(path)
                if made and not storage.listdir(folder):
                    storage.remove(folder)


# ---- what vrft wrote -------------------------------------------------------------------------------


def marked(folder: str) -> tuple[str | None, tuple[str, ...]]:
    """(kind, name patterns) the folder's marker records; (None, ()) without one."""
    path = storage.join(folder, MARKER)
    if not storage.exists(path):
        return None, ()
    try:
        body = storage.read_json(path)
        return str(body["kind"]), tuple(str(p) for p in body["entries"])
    except (ValueError, KeyError, TypeError):
        raise FolderRefused(f"{path} is not a vrft marker; remove it or choose another output folder") from None


def mark(folder: str, kind: str, entries: Sequence[str]) -> None:
    """Record (at the start of a run) that `folder` holds a `kind` output made of `entries`."""
    storage.write_json(storage.join(folder, MARKER), {"kind": kind, "entries": sorted(set(entries))}, indent=1)


def ours(name: str, entries: Sequence[str]) -> bool:
    return name in HOUSEKEEPING or storage.is_temp(name) or any(storage.matches(name, p) for p in entries)


def strangers(folder: str, entries: Sequence[str]) -> list[str]:
    """Names in the folder that vrft did not write (neither marked nor housekeeping)."""
    return [n for n in storage.listdir(folder) if not ours(n, entries)]


def clear(folder: str, entries: Sequence[str]) -> None:
    """Remove what vrft wrote (the marked names and leftover temporaries); nothing else."""
    for name in storage.listdir(folder):
        if name not in HOUSEKEEPING and ours(name, entries):
            storage.remove(storage.join(folder, name))


def refuse_others(folder: str, found: str | None, kind: str, entries: Sequence[str], what: str, verb: str) -> None:
    """Refuse `folder` (holding vrft output `found`, or None) for a `kind` output when it holds another kind
    ("not `what`; `verb` into another folder") or files vrft did not write."""
    if found not in (None, kind):
        raise FolderRefused(f"{folder} holds a vrft {found} output, not {what}; {verb} into another folder")
    foreign = strangers(folder, entries if found else ())
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise FolderRefused(f"{folder} holds files vrft did not write ({shown}); {verb} into an empty or new folder")


@contextlib.contextmanager
def fresh(folder: str, kind: str, entries: Sequence[str]) -> Iterator[None]:
    """Hold `folder`'s lock for the block, with the folder ready for a new `kind` output written from
    scratch: new, empty, or one an earlier run of the same kind marked (only its marked names are
    removed first). A file, another kind's output, or a folder holding anything vrft did not write
    there is refused and left as it is."""
    if storage.exists(folder) and not storage.isdir(folder):
        raise FolderRefused(f"{folder} exists and is not a folder; choose another output folder")
    with locked(folder, kind):
        was, _ = marked(folder)
        refuse_others(folder, was, kind, entries, f"a {kind}", "write it")
        if was:
            clear(folder, entries)
        mark(folder, kind, entries)
        yield
