"""How many threads torch's CPU kernels use: one, for the tiny models the CPU runs here.

torch's default is one intra-op (OpenMP) thread per core, and every op waits for all of them at its
end. The tiny model's ops are microseconds long, so splitting them gains nothing, and on a machine
whose cores are busy with other work every op waits for a thread the scheduler has parked: measured
on 2 cores beside other jobs, 20 warm-start steps took 73-87 s with one thread and 263-441 s with two
(the demo's 62 s quiet became 379 s beside one busy process). One thread per process keeps the time
proportional to the CPU share the process gets. A user who sets OMP_NUM_THREADS keeps their value;
on a GPU nothing changes.
"""

from __future__ import annotations

import os


def cpu_threads() -> int:
    """Set torch to one intra-op thread when it runs on the CPU (unless OMP_NUM_THREADS says
    otherwise); returns the number of threads in use."""
    import torch

    if not torch.cuda.is_available() and not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(1)
    return torch.get_num_threads()
