"""`vrft show` renders a sample from an ingestion folder: frames with their times, the truth on them."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import schemas
from tests.conftest import ROOT

W, H = 112, 84


def _frame(t: float, box) -> bytes:
    img = np.full((H, W, 3), 40, np.uint8)
    x0, y0, x1, y1 = (int(box[0] * W), int(box[1] * H), int(box[2] * W), int(box[3] * H))
    img[y0:y1, x0:x1] = (250, 30, 30)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _folder(tmp_path, corrupt=False):
    times = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    boxes = [(0.1 + 0.08 * i, 0.3, 0.3 + 0.08 * i, 0.6) for i in range(8)]
    sample = {
        "sample_id": "toy-1", "task": "tracking", "dataset": "toy", "split": "train", "video_key": "v1", "query": "red square",
        "duration": 4.0, "boxes": [{"t": t, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for t, b in zip(times, boxes)],
    }
    video = {"video_key": "v1", "uri": "v1.mp4", "duration": 4.0, "fps": 2.0, "width": W, "height": H,
             **schemas.frame_columns([_frame(t, b) for t, b in zip(times, boxes)], times, 2.0, W, H)}
    if corrupt:                                 # 16 bytes flipped inside a stored frame, after the write
        data = bytearray(video["frames"][4])
        data[400:416] = bytes(b ^ 0xFF for b in data[400:416])
        video["frames"][4] = bytes(data)
    (tmp_path / "samples").mkdir()
    (tmp_path / "videos").mkdir()
    pq.write_table(pa.Table.from_pylist([sample], schema=schemas.samples_schema()), tmp_path / "samples" / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist([video], schema=schemas.videos_schema()), tmp_path / "videos" / "part-0.parquet")
    return tmp_path, boxes


def test_show_draws_the_boxes_on_their_frames(tmp_path):
    folder, boxes = _folder(tmp_path)
    out = tmp_path / "sheet.png"
    res = subprocess.run([sys.executable, "-m", "vrft", "show", str(folder), "toy-1", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "8 frames" in res.stdout
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    lime = (img[..., 0] < 80) & (img[..., 1] > 200) & (img[..., 2] < 80)   # the drawn boxes
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)    # the square in the frames
    assert lime.sum() > 200 and red.sum() > 200
    # every drawn box outline surrounds red pixels: the boxes sit on the object in their frames
    ys, xs = np.nonzero(lime)
    assert red[ys.min():ys.max(), xs.min():xs.max()].any()


def _outlines(mask):
    """Bounding boxes (x0, y0, x1, y1) of the connected regions of a mask at least 15 pixels high (the
    timeline's marks of the box times are smaller)."""
    from scipy import ndimage

    labels, _ = ndimage.label(mask)
    return sorted((s[1].start, s[0].start, s[1].stop, s[0].stop) for s in ndimage.find_objects(labels)
                  if s[0].stop - s[0].start >= 15)


def test_each_box_is_drawn_where_its_object_is_in_its_own_frame(tmp_path):
    """The outline of each frame's box has the red square of that frame inside it, edge to edge: a box
    mirrored, flipped, transposed or taken from another frame would sit elsewhere."""
    from pipelines.sample_sheet import render_sample

    times = [0.0, 0.5, 1.0, 1.5]
    boxes = [(0.05 + 0.1 * i, 0.08 + 0.05 * i, 0.4 + 0.1 * i, 0.35 + 0.05 * i) for i in range(4)]  # wide, top left
    sample = {"sample_id": "toy-2", "task": "tracking", "dataset": "toy", "video_key": "v2", "query": "red square",
              "duration": 2.0, "boxes": [{"t": t, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for t, b in zip(times, boxes)]}
    frames = {"frames": [_frame(t, b) for t, b in zip(times, boxes)], "timestamps": times, "fps": 2.0, "duration": 2.0}
    img = np.asarray(Image.open(render_sample(sample, frames, tmp_path / "sheet.png")).convert("RGB")).astype(int)
    lime = (img[..., 0] < 80) & (img[..., 1] > 200) & (img[..., 2] < 80)
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)
    drawn, squares = _outlines(lime), _outlines(red | lime)   # the outline covers the square's edge pixels
    assert len(drawn) == len(squares) == 4, (drawn, squares)
    for outline, square in zip(drawn, squares):
        assert all(abs(a - b) <= 2 for a, b in zip(outline, square)), (outline, square)
    # the panels hold the frames in order: the squares move right and down, as the boxes do
    assert [s[0] for s in squares] == sorted(s[0] for s in squares) and squares[0][1] < squares[3][1]


def test_show_unknown_sample_is_a_clear_error(tmp_path):
    folder, _ = _folder(tmp_path)
    res = subprocess.run([sys.executable, "-m", "vrft", "show", str(folder), "nope"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "sample 'nope' is not in" in res.stderr and "Traceback" not in res.stderr


def test_show_says_when_it_subsamples_and_keeps_the_whole_prompt(tmp_path):
    from pipelines.sample_sheet import MAX_FRAMES, _header, load_sample
    from train.synthetic_training_shards import write_toy_shards

    write_toy_shards(tmp_path / "shards", rows=1, files=1, frames=88)
    res = subprocess.run([sys.executable, "-m", "vrft", "show", str(tmp_path / "shards"), "toy-00000", "--out",
                          str(tmp_path / "sheet.png")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"(88 frames, {MAX_FRAMES} of them shown: evenly spaced)" in res.stdout
    sample, _ = load_sample(tmp_path / "shards", "toy-00000")
    header = _header(sample, MAX_FRAMES, 88, 90)
    assert f"showing {MAX_FRAMES} of 88 frames" in header
    prompt = " ".join(sample["prompt"].replace("<video>", "").split())
    assert len(prompt) > 300 and prompt in " ".join(header.split())   # all of it (it was cut at 300 characters)
    assert max(len(line) for line in header.splitlines()) <= 90   # wrapped to the sheet's width, not cut


def test_show_refuses_a_corrupted_frame_with_one_line(tmp_path):
    folder, _ = _folder(tmp_path, corrupt=True)
    res = subprocess.run([sys.executable, "-m", "vrft", "show", str(folder), "toy-1"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "frames [4] of 8 do not match their checksums" in res.stderr


def test_frames_beyond_the_limit_are_drawn_evenly_spaced_from_first_to_last():
    from pipelines.sample_sheet import MAX_FRAMES, shown_frames

    assert MAX_FRAMES == 64 and shown_frames(64) == list(range(64))
    assert shown_frames(127) == list(range(0, 127, 2))       # 126 / 63 = every second frame, the last one included


def test_a_frame_shows_the_box_nearest_its_time_within_half_a_frame_step():
    from pipelines.sample_sheet import _box_at

    sample = {"boxes": [{"t": 0.0, "x0": 0.1}, {"t": 1.0, "x0": 0.2}]}
    assert _box_at(sample, 0.9, tol=0.5)["x0"] == 0.2
    assert _box_at(sample, 0.5, tol=0.5)["x0"] == 0.1          # exactly half a step away still counts
    assert _box_at(sample, 1.6, tol=0.5) is None               # no box near this frame
    assert _box_at({"boxes": []}, 0.0, tol=0.5) is None and _box_at({}, 0.0, tol=0.5) is None


def test_show_reads_a_single_training_shard_file(tmp_path):
    from pipelines.sample_sheet import load_sample
    from train.synthetic_training_shards import write_toy_shards

    write_toy_shards(tmp_path / "shards", rows=1, files=1, frames=4)
    (path,) = (tmp_path / "shards").glob("*.parquet")
    sample, frames = load_sample(path, "toy-00000")
    assert sample["sample_id"] == "toy-00000" and len(frames["frames"]) == 4


@pytest.mark.parametrize("task, truth", [
    ("temporal_grounding", {"span": {"start": 1.0, "end": 2.0}}),
    ("grounded_qa", {"spans": [{"start": 1.0, "end": 2.0}], "choices": ["a cup", "a book"], "answer_index": 0}),
])
def test_the_frames_inside_the_span_are_framed_and_the_timeline_shades_it(tmp_path, task, truth):
    """Four frames at 0, 1, 2 and 3 s of a 4 s video, the truth 1 - 2 s: the panels of the frames at 1 s and
    2 s (the 2nd and 3rd red squares from the left) get green borders, the others none; on the timeline the
    shade runs from the mark of the frame at 1 s to the one at 2 s."""
    from pipelines.sample_sheet import render_sample

    times = [0.0, 1.0, 2.0, 3.0]
    square = (0.3, 0.3, 0.7, 0.7)
    sample = {"sample_id": "toy-3", "task": task, "dataset": "toy", "video_key": "v3", "query": "a person opens a door",
              "duration": 4.0, **truth}
    frames = {"frames": [_frame(t, square) for t in times], "timestamps": times, "fps": 1.0, "duration": 4.0}
    img = np.asarray(Image.open(render_sample(sample, frames, tmp_path / "sheet.png")).convert("RGB")).astype(int)
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)
    green = (img[..., 0] < 60) & (img[..., 1] > 100) & (img[..., 1] < 160) & (img[..., 2] < 60)   # matplotlib's "green"
    squares, borders = _outlines(red), _outlines(green)
    assert len(squares) == 4 and len(borders) == 2, (squares, borders)
    for border, square_px in zip(borders, squares[1:3]):
        assert border[0] < square_px[0] and square_px[2] < border[2] and border[1] < square_px[1] and square_px[3] < border[3]
    # the timeline: the shade fills its height; its frame-time marks are black vertical lines across most of that
    # height, the axis sides at 0 and 4 s too
    top = max(s[3] for s in squares) + 20
    shade = (np.abs(img[top:] - np.array([166, 210, 166])) < 20).all(axis=-1)       # green at alpha 0.35 on white
    rows = np.nonzero(shade.any(axis=1))[0]
    band = img[top + rows.min():top + rows.max() + 1]
    dark = (band < 60).all(axis=-1)
    marks = [x for x in range(img.shape[1]) if dark[:, x].sum() >= 0.7 * len(band)]
    columns = [x for i, x in enumerate(marks) if i == 0 or x > marks[i - 1] + 1]     # first column of each line
    assert len(columns) == 5, marks                                                 # 0 s (the side), 1, 2, 3 s, 4 s (the side)
    xs = np.nonzero(shade.any(axis=0))[0]
    assert abs(xs.min() - columns[1]) <= 3 and abs(xs.max() - columns[2]) <= 3, (xs.min(), xs.max(), columns)


def test_the_panels_fill_rows_of_eight_left_to_right():
    """n frames take ceil(n / 8) rows of min(n, 8) panels, filled left to right; no frame still gets one
    panel (for the note that none are stored)."""
    from pipelines.sample_sheet import COLUMNS, grid_shape, panel_cell

    assert COLUMNS == 8
    assert [grid_shape(n) for n in (0, 1, 5, 8, 9, 16, 17, 64)] == [
        (1, 1), (1, 1), (5, 1), (8, 1), (8, 2), (8, 2), (8, 3), (8, 8)]
    assert [panel_cell(k, 8) for k in (0, 7, 8, 17)] == [(0, 0), (0, 7), (1, 0), (2, 1)]
    assert [panel_cell(k, 3) for k in (2, 3, 4)] == [(0, 2), (1, 0), (1, 1)]


def test_a_frame_is_framed_when_a_truth_interval_holds_it_ends_included():
    from pipelines.sample_sheet import _intervals, in_spans

    spans = _intervals({"span": {"start": 1.0, "end": 2.0}, "spans": [{"start": 3.5, "end": 4.0}, {"start": 0.0, "end": 0.25}]})
    assert spans == [(1.0, 2.0), (3.5, 4.0), (0.0, 0.25)]     # the span, then the evidence spans in order
    times = (0.0, 0.25, 0.5, 0.99, 1.0, 1.5, 2.0, 2.01, 3.0, 3.5, 4.0, 4.5)
    assert [t for t in times if in_spans(t, spans)] == [0.0, 0.25, 1.0, 1.5, 2.0, 3.5, 4.0]
    assert _intervals({}) == [] and _intervals({"span": None, "spans": None}) == [] and not in_spans(1.0, [])


def test_boxes_are_placed_in_pixels_of_their_own_frame():
    """A box in fractions of a 200 x 50 frame: x scales by the width, y by the height."""
    from pipelines.sample_sheet import box_rectangle

    x, y, w, h = box_rectangle({"x0": 0.1, "y0": 0.2, "x1": 0.5, "y1": 0.8}, 200, 50)
    assert (x, y, w, h) == pytest.approx((20.0, 10.0, 80.0, 30.0))


def test_a_box_is_drawn_within_half_the_smallest_frame_step():
    from pipelines.sample_sheet import box_tolerance

    assert box_tolerance([0.0, 0.5, 1.0, 1.2]) == pytest.approx(0.1 + 1e-6, abs=1e-9)   # steps 0.5, 0.5, 0.2
    assert box_tolerance([2.0, 3.0]) == pytest.approx(0.5 + 1e-6, abs=1e-9)
    assert box_tolerance([3.0]) == pytest.approx(0.5 + 1e-6, abs=1e-9) == box_tolerance([])  # 1 s steps assumed


def test_the_timeline_runs_to_the_duration_else_the_last_frame():
    from pipelines.sample_sheet import timeline_end

    assert timeline_end(4.0, [0.5, 1.0, 3.0]) == 4.0
    assert timeline_end(None, [0.5, 3.0, 1.0]) == 3.0 and timeline_end(0.0, [0.5, 2.5]) == 2.5
    assert timeline_end(None, []) == 1.0


def test_frames_beyond_the_limit_keep_the_first_and_last_and_steps_of_one_or_two():
    """100 frames into 64 panels: 99 / 63 = 1.57 frames a step, so each step is 1 or 2 frames."""
    from pipelines.sample_sheet import shown_frames

    shown = shown_frames(100)
    assert len(shown) == 64 and shown[0] == 0 and shown[-1] == 99
    assert {b - a for a, b in zip(shown, shown[1:])} == {1, 2}
    assert shown_frames(0) == [] and shown_frames(3) == [0, 1, 2]
