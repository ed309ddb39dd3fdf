"""Validation's checks, each on data made to break it, in process and on a handful of rows: a box turned
upside down, frames larger than the pixel budget allows for their count, a last frame that does not
decode, a dataset of whole-video spans. (tests/test_validate.py runs the whole `vrft validate`.)"""

from __future__ import annotations

import binascii
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

import schemas
from pipelines import synthetic_ingested as synthetic
from pipelines.report.profile import DatasetProfile
from pipelines.validate import Thresholds
from pipelines.validate.distribution import DATASET, dataset_checks, share_low
from pipelines.validate.labels import label_checks
from pipelines.validate.spec import CheckTable
from pipelines.validate.videos import checksum_problem, frame_cap, jpeg_problem, video_frame, video_table


@pytest.fixture(scope="module")
def gx_says(tmp_path_factory):
    """Runs one check table on one frame with Great Expectations: {(check column, what its failure says):
    failing keys}. Columns are as the check names them (GX itself matches column names case-insensitively)."""
    from pipelines.validate.gx import GxRunner

    runner = GxRunner(str(tmp_path_factory.mktemp("gx") / "docs"))

    def failing(table: CheckTable, frame: pd.DataFrame) -> dict[tuple[str, str], list]:
        runner.outcomes.clear()
        runner.run(table, frame, "chunk")
        return {(o.column, o.about): o.examples for o in runner.outcomes.values() if not o.success}

    return failing


@pytest.fixture(scope="module")
def gx(gx_says):
    """{check column: failing keys}."""
    return lambda table, frame: {column: keys for (column, _), keys in gx_says(table, frame).items()}


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


# ---- every check, on data made to break it alone ----------------------------------------------------


def _png(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h)).save(buf, format="PNG")
    return buf.getvalue()


def _flip_a_middle_byte(frames):
    """A byte of the second frame's pixels changed after the checksums were written (its header still reads)."""
    data = bytearray(frames[1])
    data[-50] ^= 0xFF
    return [frames[0], bytes(data), *frames[2:]]


def _broken_videos():
    """Videos of 56 x 56 frames (28 grid, 784 <= 3136 pixels <= the cap), four frames 2 s apart in 8 s;
    each named after what it changes, breaking one check of the videos table (or none: the edge cases)."""

    def video(key, size=(56, 56), **change):
        (v,) = synthetic.make_videos(1, size=size)
        v.update(video_key=key, timestamps=[0.0, 2.0, 4.0, 6.0], duration=8.0)
        for name, value in change.items():
            v[name] = value(v) if callable(value) else value
        return v

    plan = lambda **kw: lambda v: {**v["plan"], **kw}   # noqa: E731
    return [
        video("half-second-steps", timestamps=[0.0, 0.5, 1.0, 1.5]),          # passes: any positive step
        video("last-at-the-end", timestamps=[0.0, 2.0, 4.0, 8.0]),            # passes: time == duration
        video("at-min-pixels", plan=plan(min_pixels=56 * 56)),                # passes: pixels == min_pixels
        video("duplicated"),
        video("one-frame", frames=lambda v: v["frames"][:1], frame_crc32=lambda v: v["frame_crc32"][:1], timestamps=[0.0]),
        video("three-times", timestamps=[0.0, 2.0, 4.0]),
        video("no-times", timestamps=[]),
        video("a-time-missing", timestamps=[0.0, None, 4.0, 6.0]),
        video("flipped-byte", frames=lambda v: _flip_a_middle_byte(v["frames"])),
        video("before-zero", timestamps=[-0.5, 2.0, 4.0, 6.0]),
        video("same-time", timestamps=[0.0, 2.0, 2.0, 6.0]),
        video("two-same-times", frames=lambda v: v["frames"][:2], frame_crc32=lambda v: v["frame_crc32"][:2],
              timestamps=[1.0, 1.0]),
        video("past-the-end", timestamps=[0.0, 2.0, 4.0, 8.5]),
        video("width-off-grid", size=(56, 84), plan=plan(factor=12)),          # 56 % 12 = 8, 84 % 12 = 0
        video("height-off-grid", size=(84, 56), plan=plan(factor=12)),
        video("too-small", plan=plan(min_pixels=56 * 56 + 1)),
        video("too-big", plan=plan(total_pixels=2 * 56 * 56 - 1)),             # cap (2 * 3136 - 1) * 2 / 4 < 3136
        video("no-fps", sampled_fps=0.0),
        video("no-width", frame_width=None),                                  # its frames are 56 wide, not None
        video("a-png", frames=lambda v: [*v["frames"][:3], _png(56, 56)],
              frame_crc32=lambda v: [*v["frame_crc32"][:3], binascii.crc32(_png(56, 56))]),
    ]


def test_each_video_check_fails_on_the_video_made_to_break_it_and_says_what_failed(gx_says):
    frame, frameless = video_frame(pa.Table.from_pylist(_broken_videos(), schema=schemas.videos_schema()), {"duplicated"})
    assert frameless == 0
    assert gx_says(video_table(), frame) == {
        ("video_key.duplicated", "video_key is unique across videos/"): ["duplicated"],
        ("frames.count", "at least two frames"): ["one-frame"],
        ("frames.count vs timestamps.count", "one timestamp per frame"): ["three-times", "no-times"],
        ("timestamps.finite", "frame times are finite numbers"): ["a-time-missing"],
        ("frames.crc32", "every frame's bytes match the CRC-32 written at ingest"): ["flipped-byte"],
        ("timestamps.first", "frame times >= 0"): ["before-zero"],
        ("timestamps.step_min", "frame times strictly ascending"): ["same-time", "two-same-times"],
        ("duration vs timestamps.last", "frame times inside the video"): ["past-the-end"],
        ("frame_width % plan.factor", "frame width on the plan's pixel grid"): ["width-off-grid"],
        ("frame_height % plan.factor", "frame height on the plan's pixel grid"): ["height-off-grid"],
        ("frame.pixels vs plan.min_pixels", "frame pixels >= plan.min_pixels"): ["too-small"],
        ("plan.frame_cap vs frame.pixels", "frame pixels <= min(plan.max_pixels, plan.total_pixels * 2 / frames)"): ["too-big"],
        ("sampled_fps", "sampled fps > 0"): ["no-fps"],
        ("frames.jpeg", "frames are JPEGs of the stored size"): ["no-width", "a-png"],
    }
    # the report profiles these columns by name, and each check reads the column it names, as it names it
    checked = {c for e in video_table().expectations for c in (e.kwargs.get("column"), e.kwargs.get("column_A"), e.kwargs.get("column_B")) if c}
    assert set(frame.columns) == checked | {"frame_width", "frame_height"}
    assert frame.set_index("video_key").loc["a-png", "frames.jpeg"] == "frame 3 is PNG, not JPEG"


def test_a_video_with_frames_but_no_frame_policy_fails_on_that_alone(gx):
    (v,) = synthetic.make_videos(1)
    v["plan"] = None
    frame, _ = video_frame(pa.Table.from_pylist([v], schema=schemas.videos_schema()), ())
    row = frame.iloc[0]
    assert row["frame_width % plan.factor"] is None and row["frame_height % plan.factor"] is None
    assert np.isnan(row["plan.min_pixels"]) and np.isnan(row["plan.frame_cap"]) and row["frame.pixels"] == 56 * 56
    assert gx(video_table(), frame) == {"plan.recorded": [v["video_key"]]}   # not judged on a policy it lacks


def test_checksum_and_size_findings_name_the_frames():
    (v,) = synthetic.make_videos(1, n_frames=10)
    frames, crc = v["frames"], v["frame_crc32"]
    assert checksum_problem(frames, crc) == "ok"
    assert checksum_problem(_flip_a_middle_byte(frames), crc) == "frames [1] differ from their checksums"
    assert checksum_problem(frames, crc[::-1]) == "frames [0, 1, 2, 3, 4, 5, 6, 7] differ from their checksums"  # 8 named
    assert checksum_problem(frames, None) == "no checksums (written by an older vrft: ingest again)"
    assert checksum_problem(frames, crc[:9]) == "9 checksums for 10 frames"
    (tall,) = synthetic.make_videos(1, size=(56, 84))
    assert jpeg_problem(tall["frames"], 56, 56) == "frame 0 is 56x84, stored size 56x56"


def _label_frame(label, column, rows):
    names = ("sample_id", "duration", *column.split(","))
    schema = pa.schema([schemas.samples_schema().field(n) for n in names])
    rows = [{"sample_id": sid, "duration": 10.0, **values} for sid, values in rows]
    return label_checks(label).frame(pa.Table.from_pylist(rows, schema=schema))


def _label_table(label):
    return CheckTable(f"task.{label}", label_checks(label).expectations())


def _span(start, end):
    return {"start": start, "end": end}


def test_each_span_check_fails_on_the_span_made_to_break_it(gx_says):
    rows = [("ok", _span(1.0, 4.0)), ("whole-video", _span(0.0, 10.0)),        # 0 and the duration are inside
            ("negative", _span(-0.5, 4.0)), ("inverted", _span(4.0, 1.0)), ("empty", _span(3.0, 3.0)),
            ("past-the-end", _span(5.0, 10.5)), ("no-start", _span(None, 4.0)), ("no-end", _span(1.0, None))]
    frame = _label_frame("span", "span", [(sid, {"span": s}) for sid, s in rows])
    assert gx_says(_label_table("span"), frame) == {
        ("span.start", "span.start is present"): ["no-start"],
        ("span.end", "span.end is present"): ["no-end"],
        ("span.start", "span.start >= 0"): ["negative"],
        ("span.end vs span.start", "span has start < end"): ["inverted", "empty"],
        ("duration vs span.end", "span ends inside the video (end <= duration)"): ["past-the-end"],
    }
    profile = label_checks("span").profile(frame)["intervals"]          # what the distribution checks judge
    assert profile["label"].tolist() == ["span"] * 6                     # the two spans missing an end are left out
    assert profile["fraction"].tolist()[:2] == pytest.approx([0.3, 1.0])  # 1 .. 4 s and 0 .. 10 s of 10 s




def test_each_evidence_span_check_fails_on_the_span_made_to_break_it(gx_says):
    rows = [("ok", [_span(0.0, 2.0), _span(3.0, 10.0)]), ("none", []),
            ("second-inverted", [_span(1.0, 2.0), _span(5.0, 4.0)]), ("negative", [_span(-1.0, 2.0)]),
            ("past-the-end", [_span(1.0, 2.0), _span(9.0, 10.5)]), ("no-end", [_span(1.0, None)])]
    frame = _label_frame("spanset", "spans", [(sid, {"spans": s}) for sid, s in rows])
    assert frame["sample_id"].tolist() == ["ok", "ok", "second-inverted", "second-inverted", "negative",
                                           "past-the-end", "past-the-end", "no-end"]
    assert frame["spans.index"].tolist() == [0, 1, 0, 1, 0, 0, 1, 0] and frame["spans.index"].dtype == np.int64
    assert frame["spans.end"].tolist()[:7] == [2.0, 10.0, 2.0, 4.0, 2.0, 2.0, 10.5]
    assert gx_says(_label_table("spanset"), frame) == {
        ("spans.end", "spans.end is present"): ["no-end"],
        ("spans.start", "spans.start >= 0"): ["negative"],
        ("spans.end vs spans.start", "spans has start < end"): ["second-inverted"],
        ("duration vs spans.end", "spans ends inside the video (end <= duration)"): ["past-the-end"],
    }
    profile = label_checks("spanset").profile(frame)["intervals"]      # what the distribution checks judge
    first = profile.iloc[1]                                            # 3 .. 10 s of a 10 s video
    assert (first["label"], first["length_s"], first["start_frac"], first["end_frac"]) == ("spans", 7.0, 0.3, 1.0)
    assert first["fraction"] == pytest.approx(0.7)
    assert len(profile) == 7                                           # the span without an end is left out
    # a batch whose rows have no evidence spans: no check rows, the positions still integers
    empty = _label_frame("spanset", "spans", [("none", {"spans": []}), ("null", {"spans": None})])
    assert empty.empty and list(empty.columns) == ["sample_id", "duration", "spans.index", "spans.start", "spans.end"]
    assert empty["spans.index"].dtype == np.int64


def _options(n, answer):
    return {"choices": None if n is None else [f"option {k}" for k in range(n)], "answer_index": answer}


def test_each_choice_check_fails_on_the_question_made_to_break_it(gx_says):
    rows = [("ok", _options(3, 2)), ("first", _options(2, 0)), ("one-option", _options(1, 0)),
            ("negative", _options(3, -1)), ("beyond", _options(3, 3)), ("no-answer", _options(3, None)),
            ("no-options", _options(None, 0))]
    frame = _label_frame("choice", "choices,answer_index", rows)
    assert frame["choices.count"].tolist()[:6] == [3, 2, 1, 3, 3, 3]
    assert gx_says(_label_table("choice"), frame) == {
        ("answer_index", "answer_index is present"): ["no-answer"],
        ("choices.count", "choices.count is present"): ["no-options"],
        ("choices.count", "at least two options"): ["one-option"],
        ("answer_index", "answer_index >= 0"): ["negative"],
        ("choices.count vs answer_index", "answer_index inside its choices"): ["beyond"],
    }
    profile = label_checks("choice").profile(frame)["answers"]         # the answer-position share is judged on it
    assert profile["answer_index"].tolist() == [2, 0, 0, -1, 3] and profile["n_choices"].tolist() == [3, 2, 1, 3, 3]


def test_each_box_check_fails_on_the_box_made_to_break_it(gx_says):
    good = (0.1, 0.2, 0.4, 0.6)
    rows = [_track("ok", good, good), _track("edges", (0.0, 0.0, 1.0, 1.0)),
            _track("left-out", (-0.1, 0.2, 0.4, 0.6)), _track("top-out", (0.1, -0.2, 0.4, 0.6)),
            _track("right-out", (0.1, 0.2, 1.2, 0.6)), _track("bottom-out", (0.1, 0.2, 0.4, 1.5)),
            _track("mirrored", (0.4, 0.2, 0.1, 0.6)), _track("upside-down", (0.1, 0.6, 0.4, 0.2)),
            _track("no-x0", (None, 0.2, 0.4, 0.6))]
    rows += [{**_track("before-zero", good, good), "boxes": [{**b, "t": b["t"] - 0.5} for b in _track("", good, good)["boxes"]]},
             {**_track("at-the-end", good), "boxes": [{**_track("", good)["boxes"][0], "t": 10.0}]},
             {**_track("past-the-end", good), "boxes": [{**_track("", good)["boxes"][0], "t": 10.5}]},
             {**_track("same-time", good, good), "boxes": [{**b, "t": 1.0} for b in _track("", good, good)["boxes"]]},
             {**_track("no-time", good), "boxes": [{**_track("", good)["boxes"][0], "t": None}]}]
    assert gx_says(_label_table("boxtrack"), _boxes(rows)) == {
        ("boxes.t", "boxes.t is present"): ["no-time"],
        ("boxes.x0", "boxes.x0 is present"): ["no-x0"],
        ("boxes.x0", "boxes.x0 inside the frame [0, 1]"): ["left-out"],
        ("boxes.y0", "boxes.y0 inside the frame [0, 1]"): ["top-out"],
        ("boxes.x1", "boxes.x1 inside the frame [0, 1]"): ["right-out"],
        ("boxes.y1", "boxes.y1 inside the frame [0, 1]"): ["bottom-out"],
        ("boxes.x1 vs boxes.x0", "box has x0 < x1"): ["mirrored"],
        ("boxes.y1 vs boxes.y0", "box has y0 < y1"): ["upside-down"],
        ("boxes.t", "box time >= 0"): ["before-zero"],
        ("duration vs boxes.t", "box time inside the video"): ["past-the-end"],
        ("boxes.dt", "box times ascending"): ["same-time"],
    }


def test_the_box_profile_measures_size_shape_and_motion_in_both_directions():
    rows = [_track("down", (0.1, 0.1, 0.2, 0.3), (0.1, 0.4, 0.2, 0.6)),     # 0.1 wide, 0.2 high, centre 0.3 lower
            _track("flat", (0.1, 0.5, 0.3, 0.5)),                            # no height: no aspect
            _track("flat-mirrored", (0.3, 0.5, 0.1, 0.5)),
            _track("overflow", (-1e308, 0.1, 1e308, 0.2))]                   # width overflows to infinity
    prof = label_checks("boxtrack").profile(_boxes(rows))["boxes"]
    assert prof["area"].round(9).tolist()[:4] == [0.02, 0.02, 0.0, 0.0]
    assert prof["aspect"].round(9).tolist()[:2] == [0.5, 0.5]
    assert np.isnan(prof["motion"].iloc[0]) and prof["motion"].iloc[1] == pytest.approx(0.3)
    assert np.isnan(prof["motion"].iloc[2]) and np.isnan(prof["motion"].iloc[3])   # never across tracks
    assert prof["aspect"].iloc[2:4].isna().all()                      # flat boxes, either way round: no aspect
    assert np.isnan(prof["area"].iloc[4]) and np.isnan(prof["aspect"].iloc[4])   # infinities become missing values
    assert all(dtype == np.float64 for dtype in prof.dtypes)           # numbers only, for the report's quantiles


def test_share_low_on_no_rows_and_on_one():
    assert share_low(0, 0) == 0.0                # nothing to judge
    # 1 of 1: p = 1, z^2 = 3.8415: (1 + 1.9207 - 1.96 * sqrt(0.9604)) / (1 + 3.8415) = 0.2065
    assert share_low(1, 1) == pytest.approx(0.2065, abs=2e-4)
    assert share_low(0, 1) == 0.0


def _profile(rows, repaired=0, assumed=0, fractions=(), answers=()):
    prof = DatasetProfile()
    prof.count("task", ["video_qa"] * rows)
    prof.count("policy_repaired", ["rows"] * repaired)
    prof.count("repairs", ["span_end_clipped"] * repaired + ["box_times_assumed"] * assumed)
    if fractions:
        prof.add({"intervals": pd.DataFrame({"label": "span", "fraction": list(fractions)})})
    if answers:
        prof.add({"answers": pd.DataFrame({"answer_index": list(answers), "n_choices": 4, "task": "video_qa"})})
    return prof


def test_each_dataset_check_says_what_it_measures_its_value_and_the_option_that_changes_it(gx_says):
    manifest = {"counts": {"input": 80, "written": 60, "rejected": 20}}
    table, frame, notes = dataset_checks(_profile(60, repaired=30, fractions=[0.5] * 60, answers=[1] * 40 + [0] * 20),
                                         manifest, Thresholds())
    assert {e.column: e.about for e in table.expectations} == {
        "repaired_share": "share of rows whose labels the repair policy changed (clipped spans): 50.00% of 60 "
                          "(max 0.25; --set max_repaired_share=...)",
        "rejected_share": "share of input records rejected: 25.00% of 80 (max 0.25; --set max_rejected_share=...)",
        "span.fraction_median": "median span length / duration: 0.500 (allowed [0.01, 0.9]; "
                                "--set min_span_fraction_median=... / max_span_fraction_median=...)",
        "span.whole_video_share": "share of span covering the whole video: 0.00% of 60 (max 0.5; --set max_whole_video_share=...)",
        "video_qa.answer_top_share": "share of the most common answer position (video_qa): 66.67% of 60 "
                                     "(max 0.6; --set max_answer_share=...)",
    }
    assert notes == []
    # run as validation runs them: one row named "all", the failing checks name it
    failing = gx_says(table, frame)
    assert {column: keys for (column, _), keys in failing.items()} == {"repaired_share": ["all"],
                                                                      "video_qa.answer_top_share": ["all"]}
    assert frame[DATASET].tolist() == ["all"] and (table.name, table.key) == (DATASET, DATASET)


def test_what_a_dataset_check_cannot_judge_is_noted():
    # no manifest; a median needs min_rows rows; 50 rows is enough (judged as they are)
    table, frame, notes = dataset_checks(_profile(49, fractions=[0.5] * 49), None, Thresholds())
    assert notes == ["no manifest.json: the share of rejected records is not checked",
                     "span.fraction_median not checked: 49 rows, fewer than min_rows=50"]
    assert "span.fraction_median" not in frame
    table, frame, notes = dataset_checks(_profile(50, fractions=[0.5] * 50), None, Thresholds())
    assert frame["span.fraction_median"][0] == 0.5 and notes == ["no manifest.json: the share of rejected records is not checked"]
    # no rows repaired: a share of 0; one row carrying an adapter's assumption: reported, as 100 %
    table, frame, notes = dataset_checks(_profile(60), {"counts": {"input": 60, "written": 60}}, Thresholds())
    assert frame["repaired_share"][0] == 0.0 and frame["rejected_share"][0] == 0.0
    _, _, notes = dataset_checks(_profile(1, assumed=1), {"counts": {"written": 1}}, Thresholds())
    assert notes == ["1 of 1 rows (100%) carry the adapter's assumption box_times_assumed"]
    # a manifest without input counts: no rejected share to judge
    table, frame, _ = dataset_checks(_profile(60), {"counts": {"written": 60}}, Thresholds())
    assert "rejected_share" not in frame and [e.column for e in table.expectations] == ["repaired_share"]


def test_records_without_their_video_are_not_counted_as_rejects():
    # --only-present-videos: 20 of 100 input records had no video; 10 of the other 80 were rejected
    manifest = {"counts": {"input": 100, "written": 70, "rejected": 30, "video_absent": 20}}
    table, frame, notes = dataset_checks(_profile(70), manifest, Thresholds())
    assert frame["rejected_share"][0] == 10 / 80
    (check,) = [e for e in table.expectations if e.column == "rejected_share"]
    assert check.about == ("share of input records rejected (records without their video left out): 12.50% of 80 "
                           "(max 0.25; --set max_rejected_share=...)")
    assert notes == ["20 records without their video (--only-present-videos) are not counted as rejects"]


def test_a_label_type_gets_the_checks_registered_for_it_unless_it_is_exempt():
    import dataclasses

    from pipelines.validate.labels import LabelChecks, checks_of, register_label_checks, unregister_label_checks

    span = schemas.label_type("span")
    assert checks_of(span) is label_checks("span")
    assert checks_of(dataclasses.replace(span, exempt={"validation checks": "the record check covers it"})) is None
    mine = LabelChecks(lambda t: pd.DataFrame(), lambda: (), lambda f: {})
    assert register_label_checks("span-of-mine", mine) is mine
    try:
        assert checks_of(dataclasses.replace(span, name="span-of-mine")) is mine
    finally:
        unregister_label_checks("span-of-mine")
