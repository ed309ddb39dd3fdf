"""Decoder workers: a job that never returns is killed at its timeout; a crash is a reason, not a hang."""

from __future__ import annotations

import os
import re

import pytest

from pipelines.video.errors import VideoError
from pipelines.video.plan import plan_frames
from pipelines.video.worker import WorkerPool

# Catastrophic backtracking: sre runs it in C holding the GIL, like decord's endless loop, and would
# take about 2**40 steps. Only killing the process stops it.
HANG_PATTERN, HANG_TEXT = r"(a+)+$", "a" * 40 + "!"


@pytest.fixture
def pool():
    p = WorkerPool(size=1)
    yield p
    p.close()


def test_a_job_holding_the_gil_forever_is_killed_at_its_timeout(pool):
    before = pool.call(os.getpid, timeout_s=30)
    with pytest.raises(VideoError) as e:
        pool.call(re.match, HANG_PATTERN, HANG_TEXT, timeout_s=1.0)
    assert e.value.reason == "decode_timeout"
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the hung worker is gone (killed and reaped)
    after = pool.call(os.getpid, timeout_s=30)
    assert after != before  # the pool started a fresh worker and carries on


def test_workers_are_reused_between_jobs(pool):
    assert pool.call(os.getpid, timeout_s=30) == pool.call(os.getpid, timeout_s=30) != os.getpid()


def test_a_dying_worker_is_reported_as_a_crash(pool):
    with pytest.raises(VideoError) as e:
        pool.call(os._exit, 3, timeout_s=30)
    assert e.value.reason == "decode_crashed"
    assert "3" in e.value.message
    assert pool.call(divmod, 7, 2, timeout_s=30) == (3, 1)


def test_an_exception_in_the_worker_becomes_decode_failed(pool):
    with pytest.raises(VideoError) as e:
        pool.call(int, "not a number", timeout_s=30)
    assert e.value.reason == "decode_failed"
    assert "ValueError" in e.value.message


def test_a_video_error_raised_in_the_worker_keeps_its_reason(pool):
    with pytest.raises(VideoError) as e:
        pool.call(plan_frames, 0.0, 25.0, 640, 480, timeout_s=30)
    assert e.value.reason == "duration_unknown"
