"""Frames from image folders (GOT-10k layout): the image shown at each requested time, on the grid."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipelines.video import VideoError, process_video, sample_image_folder, sample_image_frames
from video_checks import check_row

FPS = 10.0  # GOT-10k sequences are 10 fps
N = 30


def level(i: int) -> int:
    return 20 + 7 * i  # a distinct grey per frame, so a frame tells which image it came from


@pytest.fixture
def got10k(tmp_path):
    """A GOT-10k split folder: list.txt and one sequence of 30 JPEGs with its label files."""
    split = tmp_path / "val"
    seq = split / "GOT-10k_Val_000001"
    seq.mkdir(parents=True)
    (split / "list.txt").write_text("GOT-10k_Val_000001\n")
    for i in range(N):
        Image.new("RGB", (640, 360), (level(i),) * 3).save(seq / f"{i + 1:08d}.jpg", quality=95)
    (seq / "groundtruth.txt").write_text("".join(f"{10 + i},20,100,80\n" for i in range(N)))
    (seq / "absence.label").write_text("0\n" * N)
    (seq / "cover.label").write_text("8\n" * N)
    (seq / "meta_info.ini").write_text("[METAINFO]\nobject_class: cat\n")
    return seq


def grey(frame: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(frame)).convert("L"), dtype=float).mean())


def test_requested_frames_come_from_the_images_at_those_times(got10k):
    picks = [0, 3, 7, 11, 15, 19, 23, 29]  # 8 frames, as the tracking task samples
    files = sorted(got10k.glob("*.jpg"))
    row = sample_image_frames([files[i] for i in picks], [i / FPS for i in picks], duration=N / FPS, fps=FPS, frame_count=N)
    check_row(row)
    assert row["timestamps"] == pytest.approx([i / FPS for i in picks])
    assert [round(grey(f)) for f in row["frames"]] == pytest.approx([level(i) for i in picks], abs=2)
    assert (row["width"], row["height"], row["codec"]) == (640, 360, "jpeg")
    assert row["frame_width"] / row["frame_height"] == pytest.approx(640 / 360, rel=0.05)
    assert row["uri"] == str(got10k) and row["frame_count"] == N


def test_a_frame_folder_is_sampled_like_a_video(got10k):
    row = sample_image_folder(got10k, FPS)
    check_row(row)
    # 3 s at 2 fps -> 6 frames, on the image grid: indices round(linspace(0, 29, 6)) = 0, 6, 12, 17, 23, 29
    assert row["timestamps"] == pytest.approx([0.0, 0.6, 1.2, 1.7, 2.3, 2.9])
    assert [round(grey(f)) for f in row["frames"]] == pytest.approx([level(i) for i in (0, 6, 12, 17, 23, 29)], abs=2)
    assert row == process_video(got10k, image_fps=FPS)
    with pytest.raises(VideoError) as e:
        process_video(got10k)  # a folder without its frame rate
    assert e.value.reason == "fps_unknown"


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda f: f.unlink(), "image_missing"),
        (lambda f: f.write_bytes(b"not a jpeg at all"), "image_unreadable"),
        (lambda f: Image.new("RGB", (320, 180)).save(f), "image_size_mismatch"),
    ],
    ids=["missing", "garbage", "other-size"],
)
def test_damaged_sequences_are_rejected_with_a_reason(got10k, damage, reason):
    files = sorted(got10k.glob("*.jpg"))
    damage(files[5])
    with pytest.raises(VideoError) as e:
        sample_image_frames(files[:8], [i / FPS for i in range(8)])
    assert e.value.reason == reason


def test_transparent_images_are_composited_over_white(tmp_path):
    paths = []
    for i in range(2):
        Image.new("RGBA", (200, 200), (255, 0, 0, 0)).save(tmp_path / f"{i}.png")  # fully transparent red
        paths.append(tmp_path / f"{i}.png")
    row = sample_image_frames(paths, [0.0, 0.1])
    assert grey(row["frames"][0]) > 250  # white, not the red hidden under alpha 0
