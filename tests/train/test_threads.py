"""On the CPU torch runs one intra-op thread unless the user set OMP_NUM_THREADS (see train/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = "import torch; torch.set_num_threads(2); from train.threads import cpu_threads; print(cpu_threads())"


@pytest.mark.parametrize("omp, expected", [(None, "1"), ("2", "2")])
def test_one_thread_on_the_cpu_unless_the_user_says(omp, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update({"PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""})
    if omp:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected
