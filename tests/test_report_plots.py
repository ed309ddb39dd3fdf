"""The dataset report's histograms count every item: outliers go into the last bar instead of away."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pipelines.report.plots import durations, intervals  # noqa: E402
from pipelines.report.profile import DatasetProfile  # noqa: E402


def _bars(ax) -> float:
    return sum(p.get_height() for p in ax.patches)


@pytest.mark.parametrize("values, note", [
    ([10.2, 15.0, 30.0], ""),                                   # the longest of three was dropped before
    # 1,000 videos: the 0.995-quantile is the 996th value (40 s); the 4 above it share the last bar
    (list(np.linspace(5, 40, 998)) + [900.0, 1200.0], "the last bar also holds 4 above 40"),
])
def test_duration_histogram_counts_every_video(values, note):
    profile = DatasetProfile()
    profile.add({"sample_durations": pd.DataFrame({"duration": values})})
    fig = durations(profile, None)
    ax = fig.axes[0]
    assert _bars(ax) == len(values)
    assert ("not shown" not in ax.get_xlabel()) and (note in ax.get_xlabel())
    if not note:
        assert ax.get_xlabel() == "seconds"


def test_span_length_histogram_counts_every_span():
    lengths = [1.0, 2.0, 30.0]
    frame = pd.DataFrame({"label": "span", "length_s": lengths, "fraction": [0.1, 0.2, 1.0],
                          "start_frac": [0.0, 0.1, 0.0], "end_frac": [0.1, 0.3, 1.0]})
    profile = DatasetProfile()
    profile.add({"intervals": frame})
    ax = intervals(profile, None).axes[0]
    assert _bars(ax) == 3 and "not shown" not in ax.get_xlabel()
