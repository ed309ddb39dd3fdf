"""The one error the video stage raises: a snake_case reason for the rejects table plus a message."""

from __future__ import annotations

# Every reason the stage can give, so callers and tests can check they handle each one.
REASONS = frozenset(
    {
        "video_missing",          # the path is not a file
        "video_outside_root",     # the path leads outside --videos (a `..` in a name, a symlink out)
        "video_empty_file",       # 0 bytes
        "probe_failed",           # ffprobe could not read the container
        "no_video_stream",        # a container without a video stream (audio only, say)
        "duration_unknown",       # no duration from the header, the demuxed packets or decoding
        "fps_unknown",            # no frame rate from the header or the packet timestamps
        "frame_too_small",        # a side shorter than one vision patch (the 1x1 video)
        "aspect_ratio_too_large", # longer side / shorter side above the model's limit (200)
        "too_few_frames",         # fewer than two frames to sample from
        "timestamps_invalid",     # requested frame times not finite, not ascending or outside the video
        "plan_infeasible",        # the policy's budgets leave no frame size for the requested frames
        "decode_timeout",         # the decoder worker overran its time and was killed
        "decode_crashed",         # the decoder worker died (a segfault in native code, say)
        "decode_failed",          # the decoders could not open or decode the video
        "frames_missing",         # planned frames were not really decoded (headers over-reported)
        "image_missing",          # an image of a frame folder is missing
        "image_unreadable",       # an image of a frame folder cannot be decoded
        "image_size_mismatch",    # the images of one sequence differ in size
    }
)


class VideoError(Exception):
    """A video (or frame folder) that cannot be turned into verified frames.

    `reason` is a snake_case code from `REASONS` (it becomes the reject reason); the message says
    what was found, for a human.
    """

    def __init__(self, reason: str, message: str):
        if reason not in REASONS:
            raise ValueError(f"unknown video error reason {reason!r}")
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message

    def __reduce__(self):  # travels back from the decoder worker intact
        return (VideoError, (self.reason, self.message))
