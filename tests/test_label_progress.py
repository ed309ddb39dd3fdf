"""`vrft label`'s progress line: done/total, completions and their rate, elapsed time and an ETA from
the mean time per sample so far (none before the first sample)."""

from __future__ import annotations

from vrft.commands.label import progress_line


def test_the_eta_is_the_mean_time_per_sample_times_those_left():
    # 31 s for 12 samples: 28 left x 31/12 s = 72.3 s -> 0:01:12; 96 completions / 31 s = 3.1/s
    assert progress_line(12, 40, 96, 31.0) == "labelled 12/40 samples · 96 completions (3.1/s) · 0:00:31 · eta 0:01:12"
    # 2 h 5 min 7 s elapsed, half done: the same again left
    assert progress_line(5, 10, 0, 7507.0).endswith("· 2:05:07 · eta 2:05:07")


def test_no_eta_before_the_first_sample():
    assert progress_line(0, 40, 0, 3.0) == "labelled 0/40 samples · 0 completions (0.0/s) · 0:00:03 · eta ?"
