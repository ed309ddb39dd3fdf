"""Validation's checks, each on data made to break it, in process and on a handful of rows: a box turned
upside down, frames larger than the pixel budget allows for their count, a last frame that does not
decode, a dataset of whole-video spans. (tests/test_validate.py runs the whole `vrft validate`.)"""

from __future__ import annotations

import binascii

import pandas as pd
import pyarrow as pa
import pytest

import schemas
from pipelines import synthetic_ingested as synthetic
from pipelines.report.profile import DatasetProfile
from pipelines.validate import Thresholds
from pipelines.validate.distribution import dataset_checks
from pipelines.validate.labels import label_checks
from pipelines.validate.spec import CheckTable
from pipelines.validate.videos import frame_cap, jpeg_problem, video_frame, video_table


@pytest.fixture(scope="module")
def gx(tmp_path_factory):
    """Runs one check table on one frame with Great Expectations: {check column: failing keys}."""
    from pipelines.validate.gx import GxRunner

    runner = GxRunner(str(tmp_path_factory.mktemp("gx") / "docs"))

    def failing(table: CheckTable, frame: pd.DataFrame) -> dict[str, list]:
        runner.outcomes.clear()
        runner.run(table, frame, "chunk")
        return {o.column: o.examples for o in runner.outcomes.values() if not o.success}

    return failing


def _boxes(rows):
    schema = pa.schema([schemas.samples_schema().field(n) for n in ("sample_id", "duration", "boxes")])
    return label_checks("boxtrack").frame(pa.Table.from_pylist(rows, schema=schema))


def _track(sid, *coords):
    return {"sample_id": sid, "duration": 10.0,
            "boxes": [{"t": float(t), "x0": c[0], "y0": c[1], "x1": c[2], "y1": c[3]} for t, c in enumerate(coords)]}


def test_a_box_upside_down_or_of_no_height_fails_its_check(gx):
    good = (0.1, 0.2, 0.4, 0.6)
    rows = [_track("ok", good, good),
            _track("upside-down", good, (0.1, 0.6, 0.4, 0.2)),    # y0 > y1, inside the frame
            _track("flat", (0.1, 0.3, 0.4, 0.3), good),           # y0 == y1: no height
            _track("mirrored", good, (0.4, 0.2, 0.1, 0.6))]       # x0 > x1
    table = CheckTable("tracking.boxtrack", label_checks("boxtrack").expectations())
    assert gx(table, _boxes(rows)) == {"boxes.y1 vs boxes.y0": ["upside-down", "flat"], "boxes.x1 vs boxes.x0": ["mirrored"]}
    assert gx(table, _boxes(rows[:1])) == {}


def test_the_pixel_budget_is_shared_by_the_frames():
    # 2 frames per temporal patch, n rounded up to even: total_pixels * 2 / n_even, never above max_pixels
    plan = {"max_pixels": 10_000, "total_pixels": 60_000}
    assert frame_cap(plan, 2) == 10_000          # 60 000 * 2 / 2 = 60 000, capped at max_pixels
    assert frame_cap(plan, 12) == 10_000         # 60 000 * 2 / 12 = 10 000 exactly
    assert frame_cap(plan, 24) == 5_000          # 120 000 / 24
    assert frame_cap(plan, 23) == 5_000          # 23 frames take 12 patches, as 24 frames do
    assert frame_cap(plan, 25) == 120_000 / 26
    assert frame_cap(None, 8) != frame_cap(None, 8) and frame_cap(plan, 0) != frame_cap(plan, 0)   # NaN: no plan, no frames


def _video(n_frames, total_pixels, last=None):
    (v,) = synthetic.make_videos(1, n_frames=n_frames)          # 56 x 56 frames
    v["plan"] = {**v["plan"], "total_pixels": total_pixels, "max_pixels": 56 * 56 * 4}
    if last is not None:
        v["frames"][-1] = last(v["frames"][-1])
        v["frame_crc32"] = [binascii.crc32(f) for f in v["frames"]]   # written so: only decoding can tell
    return v


def test_frames_larger_than_their_count_allows_fail(gx):
    fp = 56 * 56
    # 6 frames of 56x56 need total_pixels >= 3 * 3136: at 3 * 3136 they pass, one pixel less they fail;
    # the same total passes 2 frames (cap 3 * 3136, above the frame) and fails 8 (cap 0.75 * 3136)
    videos = [_video(6, 3 * fp), _video(6, 3 * fp - 1), _video(2, 3 * fp - 1), _video(8, 3 * fp)]
    for k, v in enumerate(videos):
        v["video_key"] = f"v{k}"
    frame, frameless = video_frame(pa.Table.from_pylist(videos, schema=schemas.videos_schema()), ())
    assert frameless == 0
    assert frame["plan.frame_cap"].tolist() == [fp, (3 * fp - 1) / 3, 3 * fp - 1, 3 * fp / 4]
    assert gx(video_table(), frame) == {"plan.frame_cap vs frame.pixels": ["v1", "v3"]}


def test_the_first_and_the_last_frame_are_decoded_whole():
    w = h = 56
    assert jpeg_problem(_video(4, 10**9)["frames"], w, h) == "ok"
    cut_last = _video(4, 10**9, last=lambda f: f[:-100])  # the header reads; the pixels stop short
    assert jpeg_problem(cut_last["frames"], w, h).startswith("frame 3 does not decode: OSError")
    middle = _video(4, 10**9)["frames"]
    middle[1] = middle[1][:-100]                                 # a middle frame: only its header is read
    assert jpeg_problem(middle, w, h) == "ok"
    first = _video(4, 10**9)["frames"]
    first[0] = first[0][:-100]
    assert jpeg_problem(first, w, h).startswith("frame 0 does not decode")
    assert jpeg_problem(first[1:], 56, 28) == "frame 0 is 56x56, stored size 56x28"


def test_a_video_whose_last_frame_does_not_decode_fails_validation(gx):
    videos = [_video(4, 10**9), _video(4, 10**9, last=lambda f: f[:-100])]
    videos[1]["video_key"] = "cut"
    frame, _ = video_frame(pa.Table.from_pylist(videos, schema=schemas.videos_schema()), ())
    assert gx(video_table(), frame) == {"frames.jpeg": ["cut"]}


def _intervals(fractions):
    prof = DatasetProfile()
    prof.add({"intervals": pd.DataFrame({"label": "span", "fraction": fractions})})
    prof.count("task", ["temporal_grounding"] * len(fractions))
    return dataset_checks(prof, None, Thresholds())


def test_a_dataset_of_whole_video_spans_fails():
    # 60 rows (min_rows 50: judged as they are): a span covers the whole video from 98 % of it
    table, frame, _ = _intervals([0.98] * 31 + [0.979] * 29)
    (check,) = [e for e in table.expectations if e.column == "span.whole_video_share"]
    assert frame["span.whole_video_share"][0] == 31 / 60 and check.kwargs["max_value"] == 0.5   # fails: > 0.5
    assert "51.67% of 60 (max 0.5; --set max_whole_video_share=...)" in check.about
    _, frame, _ = _intervals([1.0] * 30 + [0.5] * 30)
    assert frame["span.whole_video_share"][0] == 0.5                                            # passes: not above
    # the median length is judged beside it: [0.01, 0.9] by default
    table, frame, _ = _intervals([0.95] * 60)
    assert frame["span.fraction_median"][0] == 0.95 and frame["span.whole_video_share"][0] == 0.0
    (median,) = [e for e in table.expectations if e.column == "span.fraction_median"]
    assert (median.kwargs["min_value"], median.kwargs["max_value"]) == (0.01, 0.9)
