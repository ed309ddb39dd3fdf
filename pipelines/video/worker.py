"""Isolated workers: run a function in a long-lived child process, kill it when it overruns.

decord can loop forever inside native code while holding the GIL (get_batch on a container that
over-reports its frames), leak memory, or crash. No thread or signal can stop that in-process, so
decoding runs in a child process: the parent waits with a deadline and SIGKILLs a child that
misses it (the next call starts a fresh one). Children are reused across videos, since starting
Python with decord costs more than decoding a short clip, and retired after `max_jobs` calls to
bound leaks.

Protocol: length-prefixed pickles over the child's stdin/stdout. Request (function, args,
timeout); reply ("ok", value) | ("error", exception). The child moves native libraries' stray
stdout writes to stderr so they cannot corrupt the replies. It exits at EOF on stdin (the parent
is gone), and each job arms faulthandler's watchdog, a C thread that needs no GIL, to end the
child a little after the job's timeout even if the parent was killed meanwhile (a Beam worker
killed by its own timeout must not leave a decoder spinning forever).
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from pipelines.video.errors import VideoError

_HEADER = struct.Struct("!Q")
_SELF_DESTRUCT_MARGIN_S = 10.0


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    """n bytes from fd, or None at EOF; raises TimeoutError after `deadline` (time.monotonic)."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write(fd: int, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


class Worker:
    """One child process that runs jobs one at a time."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the folder holding `pipelines`
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.video.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            bufsize=0,
            start_new_session=True,  # a terminal's Ctrl-C goes to the parent, which decides
        )
        self.jobs = 0
        self.in_sync = True  # False from sending a job until its whole reply is read

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def call(self, fn: Callable, args: tuple, timeout_s: float | None) -> Any:
        """fn(*args) in the child. VideoError: decode_timeout (child killed), decode_crashed."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.jobs += 1
        self.in_sync = False
        try:
            _write(self._proc.stdin.fileno(), pickle.dumps((fn, args, timeout_s), protocol=pickle.HIGHEST_PROTOCOL))
            head = _read_exact(self._proc.stdout.fileno(), _HEADER.size, deadline)
            body = None if head is None else _read_exact(self._proc.stdout.fileno(), _HEADER.unpack(head)[0], deadline)
        except TimeoutError:
            self.kill()
            raise VideoError("decode_timeout", f"no result after {timeout_s:.1f} s; worker killed") from None
        except OSError as e:  # broken pipe: the child is gone
            body = None
            why = str(e)
        else:
            why = "worker exited"
        if body is None:
            self.kill()
            raise VideoError("decode_crashed", f"{why} (exit status {self._proc.returncode})")
        self.in_sync = True
        status, value = pickle.loads(body)
        if status == "ok":
            return value
        raise value

    def kill(self) -> None:
        if self.alive:
            self._proc.kill()
        self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            pipe.close()

    def close(self) -> None:
        """Ask the child to exit (EOF on its stdin); kill it if it does not."""
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class WorkerPool:
    """At most `size` workers, reused across calls; a worker that times out or dies is replaced."""

    def __init__(self, size: int = 2, max_jobs: int = 200) -> None:
        self.size, self.max_jobs = size, max_jobs
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Worker] = []
        self._lock = threading.Lock()

    def call(self, fn: Callable, *args: Any, timeout_s: float | None = None) -> Any:
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is not None and not worker.alive:
                worker.kill()  # died while idle: reap it
                worker = None
            worker = worker or Worker()
            try:
                return worker.call(fn, args, timeout_s)
            finally:
                if not worker.in_sync:  # interrupted mid-job (KeyboardInterrupt, say): its reply would be stale
                    worker.kill()
                elif worker.alive and worker.jobs < self.max_jobs:
                    with self._lock:
                        self._idle.append(worker)
                else:
                    worker.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_pools: dict[int, WorkerPool] = {}
_pools_pid = 0
_pools_lock = threading.Lock()


def machine_cores() -> int:
    """The cores of the machine this runs on (a Dataflow worker's, not the submitting machine's)."""
    return os.cpu_count() or 1


def default_pool(size: int | None = None) -> WorkerPool:
    """The process-wide pool of `size` workers (default: one per core of this machine); callers that
    ask for the same size share it, so decoders never outnumber what was asked for.

    A forked process gets its own pools: the parent's pipes are not its to use.
    """
    global _pools_pid
    size = max(1, size or machine_cores())
    with _pools_lock:
        if _pools_pid != os.getpid():
            _pools.clear()
            _pools_pid = os.getpid()
        if size not in _pools:
            _pools[size] = WorkerPool(size=size)
            atexit.register(_pools[size].close)
        return _pools[size]


def _serve() -> None:
    """Child main loop: read a job, run it, reply; exit at EOF."""
    replies = os.dup(1)
    os.dup2(2, 1)  # native code that prints to stdout now prints to stderr
    requests = sys.stdin.buffer.fileno()
    while (head := _read_exact(requests, _HEADER.size, None)) is not None:
        body = _read_exact(requests, _HEADER.unpack(head)[0], None)
        if body is None:
            break
        try:
            fn, args, timeout_s = pickle.loads(body)
            if timeout_s is not None:
                faulthandler.dump_traceback_later(timeout_s + _SELF_DESTRUCT_MARGIN_S, exit=True)
            reply = ("ok", fn(*args))
        except VideoError as e:
            reply = ("error", e)
        except Exception as e:  # anything else is the decoder failing on this input
            reply = ("error", VideoError("decode_failed", f"{type(e).__name__}: {e}"))
        finally:
            faulthandler.cancel_dump_traceback_later()
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            payload = pickle.dumps(("error", VideoError("decode_failed", f"unpicklable result: {e}")))
        _write(replies, payload)


if __name__ == "__main__":
    _serve()
