"""Frame plans: the Qwen2.5-VL reference rule (hand-computed cases) and the invariants it must keep."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.video.decode import verify
from pipelines.video.decord_job import nearest_frames
from pipelines.video.errors import VideoError
from pipelines.video.plan import frame_cap, frame_size, grid_size, plan_frames
from pipelines.video.policy import PATCH, FramePolicy
from pipelines.video.row import sampled_fps
from schemas.tables import PLAN_TYPE

POLICY = FramePolicy()
NTSC_15 = 15000 / 1001  # the Charades clip's frame rate, 14.985 fps


def assert_budget(plan, policy: FramePolicy = POLICY) -> None:
    n = len(plan.timestamps)
    pixels = plan.width * plan.height
    assert plan.width % policy.factor == 0 and plan.height % policy.factor == 0
    assert policy.min_pixels <= pixels <= policy.max_pixels
    assert pixels <= policy.total_pixels * 2 / (n + n % 2)          # the video's share per frame
    assert pixels * (n + n % 2) / 2 <= policy.total_pixels          # as the model counts it


# --- the reference's numbers, computed by hand from qwen_vl_utils' formulas --------------------


def test_charades_clip_matches_the_reference_by_hand():
    # 460 frames at 14.985 fps: nframes = 460 / 14.985 * 2 = 61.39 -> floor to even = 60.
    # cap = min(768*784, 3584*784*2/60 = 93,661.9); round-to-28 gives 280x476 = 133,280 > cap, so
    # beta = sqrt(270*480 / 93,661.9) = 1.1763; floor(270/beta /28)*28 = 224, floor(480/beta /28)*28 = 392.
    plan = plan_frames(460 / NTSC_15, NTSC_15, 480, 270)
    assert len(plan.timestamps) == 60
    assert (plan.width, plan.height) == (392, 224)
    # indices round(linspace(0, 459, 60)): 0, 8 (7.78), 16 (15.56), ..., 459
    assert plan.timestamps[:3] == pytest.approx([0.0, 8 / NTSC_15, 16 / NTSC_15])
    assert plan.timestamps[-1] == pytest.approx(459 / NTSC_15)
    assert_budget(plan)


def test_hd_clip_matches_the_reference_by_hand():
    # 12 s at 24 fps, 1280x720: 24 frames; cap = min(602,112, 3584*784*2/24 = 234,154.7);
    # round gives 728x1288 > cap -> beta = sqrt(921,600 / 234,154.7) = 1.9839 -> 336 x 644.
    plan = plan_frames(12.0, 24.0, 1280, 720)
    assert len(plan.timestamps) == 24
    assert (plan.width, plan.height) == (644, 336)


def test_short_clip_takes_min_frames_at_the_rounded_size():
    # 2 s at 25 fps: 4 frames (the minimum); cap = 602,112 (per-frame max); 480 -> 476, 640 -> 644.
    plan = plan_frames(2.0, 25.0, 640, 480)
    assert len(plan.timestamps) == 4
    assert (plan.width, plan.height) == (644, 476)
    assert plan.timestamps == pytest.approx([0.0, 16 / 25, 33 / 25, 49 / 25])  # round(0, 16.33, 32.67, 49)


def test_tiny_frames_are_scaled_up_to_min_pixels():
    # 40x30 rounds to 28x28 = 784 < 12,544: beta = sqrt(12,544 / 1,200) = 3.2332,
    # ceil(30 * beta / 28) * 28 = 112, ceil(40 * beta / 28) * 28 = 140.
    plan = plan_frames(4.0, 30.0, 40, 30)
    assert (plan.width, plan.height) == (140, 112)
    assert plan.width * plan.height >= POLICY.min_pixels


def test_long_video_is_clamped_to_max_frames_under_the_reference_total():
    # With the reference's own total (24576*28*28), 1000 s at 30 fps: 2000 -> clamped to 768.
    roomy = FramePolicy(total_pixels=24576 * PATCH)
    plan = plan_frames(1000.0, 30.0, 640, 360, roomy)
    assert len(plan.timestamps) == 768
    assert_budget(plan, roomy)


def test_count_is_clamped_to_the_frames_the_video_has():
    # 3 frames at 2 fps (1.5 s): min_frames 4 > 3 frames -> floor_even(min(768, 3)) = 2.
    plan = plan_frames(1.5, 2.0, 320, 240)
    assert len(plan.timestamps) == 2
    assert plan.timestamps == pytest.approx([0.0, 1.0])
    with pytest.raises(VideoError) as e:
        plan_frames(0.5, 2.0, 320, 240)  # one frame: nothing to pair
    assert e.value.reason == "too_few_frames"


def test_long_video_keeps_the_total_budget_where_the_reference_overshoots():
    # The paper's budget at 2 fps on a 10 min clip: the reference would take 768 frames of
    # int(16*784*1.05) px (over 3584*784 in total). The plan takes fewer, the most that fit.
    plan = plan_frames(600.0, NTSC_15, 480, 270)
    n = len(plan.timestamps)
    assert n % 2 == 0 and n < 768
    assert_budget(plan)
    assert frame_size(270, 480, n + 2, POLICY) is None  # two more frames would not fit


# --- invariants ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    duration=st.floats(1.0, 4000.0),
    fps=st.floats(2.0, 120.0),  # at least two frames
    width=st.integers(14, 4096),
    height=st.integers(14, 4096),
)
def test_plan_invariants(duration, fps, width, height):
    if max(width, height) / min(width, height) > 200:
        return
    plan = plan_frames(duration, fps, width, height)
    n = len(plan.timestamps)
    assert n % 2 == 0 and 2 <= n <= POLICY.max_frames
    assert n <= max(1, round(duration * fps))
    assert all(b > a for a, b in zip(plan.timestamps, plan.timestamps[1:]))
    assert 0 <= plan.timestamps[0] and plan.timestamps[-1] < duration
    assert_budget(plan)
    aspect, kept = width / height, plan.width / plan.height
    assert abs(math.log(kept / aspect)) < math.log(3)  # the shape survives the grid


def test_given_timestamps_are_planned_exactly_with_the_same_budget():
    times = [0.0, 0.1, 0.2, 0.5, 1.0, 1.7, 2.2, 2.9]
    plan = plan_frames(3.0, 10.0, 1280, 720, timestamps=times)
    assert plan.timestamps == tuple(times)
    assert (plan.height, plan.width) == frame_size(720, 1280, 8, POLICY)
    assert_budget(plan)


def test_an_odd_count_is_budgeted_as_the_model_pads_it():
    assert frame_cap(7, POLICY) == frame_cap(8, POLICY)
    roomy_cap = POLICY.total_pixels * 2 / 400
    assert frame_cap(399, FramePolicy(max_pixels=10**9)) == roomy_cap


@pytest.mark.parametrize(
    "times", [[], [0.0, 0.0], [1.0, 0.5], [-0.1, 1.0], [0.0, 3.5], [0.0, float("nan")]]
)
def test_bad_given_timestamps_are_rejected(times):
    with pytest.raises(VideoError) as e:
        plan_frames(3.0, 10.0, 640, 480, timestamps=times)
    assert e.value.reason == "timestamps_invalid"


@pytest.mark.parametrize(
    "args, reason",
    [
        ((5.0, 1.0, 1, 1), "frame_too_small"),        # the 1x1 video
        ((5.0, 25.0, 13, 400), "frame_too_small"),
        ((5.0, 25.0, 6000, 20), "aspect_ratio_too_large"),
        ((0.0, 25.0, 640, 480), "duration_unknown"),
        ((float("nan"), 25.0, 640, 480), "duration_unknown"),
        ((None, 25.0, 640, 480), "duration_unknown"),
        ((5.0, 0.0, 640, 480), "fps_unknown"),
        ((5.0, None, 640, 480), "fps_unknown"),
    ],
)
def test_impossible_inputs_are_rejected_with_a_reason(args, reason):
    with pytest.raises(VideoError) as e:
        plan_frames(*args)
    assert e.value.reason == reason


def test_a_policy_too_tight_for_its_min_frames_is_infeasible():
    tight = FramePolicy(min_frames=8, min_pixels=16 * PATCH, total_pixels=40 * PATCH)
    with pytest.raises(VideoError) as e:
        plan_frames(10.0, 25.0, 640, 360, tight)
    assert e.value.reason == "plan_infeasible"


def test_policy_struct_matches_the_plan_column():
    struct = POLICY.to_struct()
    assert list(struct) == [f.name for f in PLAN_TYPE]
    assert struct["total_pixels"] == 3584 * 28 * 28 and struct["min_pixels"] == 16 * 28 * 28
    assert pa.array([struct], type=PLAN_TYPE).to_pylist() == [struct]
    with pytest.raises(ValueError):
        FramePolicy(min_pixels=10, max_pixels=5)


def test_sampled_fps_is_the_spacing_of_the_decoded_frames():
    assert sampled_fps([0.0, 0.5, 1.0, 1.5], 2.0) == pytest.approx(2.0)
    assert sampled_fps([1.0, 2.0, 3.0], 2.0) == pytest.approx(1.0)
    assert sampled_fps([4.0], 2.0) == 2.0  # nothing to measure: the policy's rate


def test_planned_times_map_to_the_nearest_frames_in_order():
    starts = [0.0, 0.04, 0.08, 0.12, 0.16]
    assert nearest_frames([0.0, 0.05, 0.11], starts) == [0, 1, 3]
    assert nearest_frames([0.0, 0.01, 0.02], starts) == [0, 1, 2]   # never the same frame twice
    assert nearest_frames([0.09, 0.16, 0.5, 0.9], starts) == [2, 4]  # no frame left: shorter


def test_decoded_times_far_from_the_plan_are_frames_missing():
    verify([0.0, 0.5, 1.0], [0.0, 0.52, 0.97], tolerance=0.04)
    for decoded in ([0.0, 0.5], [0.0, 0.5, 1.2]):
        with pytest.raises(VideoError) as e:
            verify([0.0, 0.5, 1.0], decoded, tolerance=0.04)
        assert e.value.reason == "frames_missing"


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((5.0, 1.0, 1, 1), {}, "frame_too_small: 1x1 px: each side needs at least 14 px"),
        ((5.0, 25.0, 6000, 20), {}, "aspect_ratio_too_large: 6000x20 px: aspect ratio above 200"),
        ((0.0, 25.0, 640, 480), {}, "duration_unknown: duration 0.0 is not a positive number of seconds"),
        ((5.0, 0.0, 640, 480), {}, "fps_unknown: frame rate 0.0 is not a positive number"),
        ((0.05, 10.0, 640, 480), {}, "too_few_frames: 1 frame(s) in 0.050 s: need at least 2"),
        ((3.0, 10.0, 640, 480), {"timestamps": []}, "timestamps_invalid: no frame times given"),
        ((3.0, 10.0, 640, 480), {"timestamps": [0.0, 3.0, 3.0 + 1e-6, 3.5]},
         "timestamps_invalid: frame time 3.5 outside [0, 3.000] s"),            # the first time outside, not a neighbour
        ((3.0, 10.0, 640, 480), {"timestamps": [1.0, 0.5]},
         "timestamps_invalid: frame times must be strictly ascending"),
        ((10.0, 25.0, 640, 360, FramePolicy(min_frames=8, total_pixels=40 * PATCH)), {},
         "plan_infeasible: no frame size fits 8+ frames in the pixel budget"),
        ((3.0, 10.0, 640, 360, FramePolicy(total_pixels=40 * PATCH)), {"timestamps": [0, 0.5, 1, 1.5, 2, 2.5]},
         "plan_infeasible: no frame size fits 6 frames in the pixel budget"),   # given times: no fewer frames
    ],
)
def test_a_refused_video_says_why_in_its_reject_message(args, kwargs, message):
    with pytest.raises(VideoError) as e:
        plan_frames(*args, **kwargs)
    assert str(e.value) == message


def test_edges_that_are_still_accepted():
    """Frame times up to the duration (plus 1e-6 s of container rounding), an aspect ratio of exactly 200."""
    assert plan_frames(3.0, 10.0, 640, 480, timestamps=[0.0, 3.0, 3.0 + 1e-6]).timestamps == (0.0, 3.0, 3.0 + 1e-6)
    plan = plan_frames(5.0, 25.0, 4000, 20)            # 4000 / 20 = 200: 143 and 1 patches of 28 px (at least one)
    assert (plan.width, plan.height) == (143 * 28, 28)


def test_sizes_exactly_at_a_bound_stay_and_the_cap_has_the_reference_floor():
    # rounded to the grid: 670 -> 672, 900 -> 896, 672 * 896 = 602112 = max_pixels exactly: kept, not shrunk
    assert grid_size(670, 900, 28, POLICY.min_pixels, POLICY.max_pixels) == (672, 896)
    assert frame_size(672, 896, 4, POLICY) == (672, 896)       # cap min(602112, 2809856 * 2 / 4): met exactly
    # 110 -> 112, 114 -> 112: 12544 = min_pixels exactly: kept, not grown
    assert grid_size(110, 114, 28, POLICY.min_pixels, POLICY.max_pixels) == (112, 112)
    # 448 frames: cap 2809856 * 2 / 448 = 12544; the resize aims at int(12544 * 1.05) = 13171:
    # beta = sqrt(130 * 130 / 13171) = 1.133, 130 / beta = 114.8 -> 112 on the grid, 12544 <= cap
    assert frame_size(130, 130, 448, POLICY) == (112, 112)
    # 430 frames: cap 13069.1 < 13171, so the resize still aims at 13171 (-> 112 x 112 <= cap), not above it
    assert frame_size(130, 130, 430, POLICY) == (112, 112)


def test_given_times_are_sized_by_the_policy_given():
    # 1280 x 720 under max_pixels 70560: beta = sqrt(921600 / 70560) = 3.614; 720 / beta = 199.2 -> 196,
    # 1280 / beta = 354.2 -> 336 (the default policy would give 1008 x 560)
    plan = plan_frames(3.0, 10.0, 1280, 720, FramePolicy(max_pixels=90 * PATCH), timestamps=[0.0, 1.0])
    assert (plan.width, plan.height) == (336, 196)


def test_a_plan_that_fits_only_at_min_frames_takes_min_frames():
    # total_pixels 31360: 4 frames may take 15680 px each (112 x 112 = 12544 fits), 6 frames only 10453
    plan = plan_frames(10.0, 25.0, 112, 112, FramePolicy(total_pixels=40 * PATCH))
    assert plan.timestamps == (0.0, 3.32, 6.64, 9.96) and (plan.width, plan.height) == (112, 112)  # frames 0, 83, 166, 249
