"""Container facts from ffprobe: what is read, what is missing, and how bad files are refused."""

from __future__ import annotations

import pytest

from pipelines.video.errors import VideoError
from pipelines.video.probe import parse_probe, probe


def test_facts_come_from_the_first_real_video_stream():
    info = {
        "streams": [
            {"codec_type": "audio", "codec_name": "aac", "duration": "12.0"},
            {"codec_type": "video", "codec_name": "mjpeg", "width": 300, "height": 300, "disposition": {"attached_pic": 1}},
            {
                "codec_type": "video", "codec_name": "h264", "width": 480, "height": 270,
                "avg_frame_rate": "15000/1001", "r_frame_rate": "30/1", "duration": "30.697333", "nb_frames": "460",
            },
        ],
        "format": {"duration": "30.744"},
    }
    p = parse_probe(info)
    assert (p.codec, p.width, p.height, p.frame_count) == ("h264", 480, 270, 460)
    assert p.fps == pytest.approx(14.985, abs=1e-3)       # the average rate, not the nominal 30
    assert p.duration == pytest.approx(30.697333)         # the video stream's, not the container's


def test_missing_facts_fall_back_or_stay_unknown():
    mkv = {"streams": [{"codec_type": "video", "codec_name": "vp9", "width": 200, "height": 200,
                        "avg_frame_rate": "0/0", "r_frame_rate": "30/1", "tags": {"DURATION": "00:00:05.000000000"}}]}
    p = parse_probe(mkv)
    assert (p.duration, p.fps, p.frame_count) == (5.0, 30.0, None)
    bare = {"streams": [{"codec_type": "video", "width": 64, "height": 64, "avg_frame_rate": "0/0", "r_frame_rate": "0/0"}],
            "format": {}}
    p = parse_probe(bare)
    assert (p.duration, p.fps, p.codec) == (None, None, "unknown")


def test_a_container_without_video_is_refused():
    with pytest.raises(VideoError) as e:
        parse_probe({"streams": [{"codec_type": "audio"}], "format": {"duration": "3"}})
    assert e.value.reason == "no_video_stream"


def test_missing_empty_and_garbage_files_are_refused(tmp_path):
    cases = {"missing.mp4": None, "empty.mp4": b"", "garbage.mp4": b"this is not a video\n" * 100}
    reasons = {}
    for name, data in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        with pytest.raises(VideoError) as e:
            probe(tmp_path / name)
        reasons[name] = e.value.reason
    assert reasons == {"missing.mp4": "video_missing", "empty.mp4": "video_empty_file", "garbage.mp4": "probe_failed"}


def test_the_no_duration_webm_really_states_no_duration(real_data):
    p = probe(real_data / "videos/moviepy/no_duration.webm")
    assert p.duration is None and p.codec == "vp9" and (p.width, p.height) == (1280, 720)


def test_a_quarter_turn_swaps_the_displayed_size():
    info = {"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                         "avg_frame_rate": "30/1", "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}]}
    p = parse_probe(info)
    assert (p.width, p.height, p.rotation) == (1080, 1920, 270)
    info["streams"][0]["side_data_list"][0]["rotation"] = 180
    assert (parse_probe(info).width, parse_probe(info).height) == (1920, 1080)
