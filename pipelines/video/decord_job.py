"""The decoding work itself, run inside a worker process (see `worker.py`): decord on one video.

Why these calls and not `get_batch`: decord's frame index is built by demuxing every packet when
the file is opened (`len(vr)` is the packet count, times are the packets' own pts, sorted).
`seek_accurate(i)` lands on the keyframe before frame i, DECODES it and checks its real pts
against the index (correcting its position if the demuxer landed elsewhere), then decodes forward
to i; `next()` returns frame i. That is `vr[i]`, done in ascending order so each GOP is decoded
once. Frames come back already resized by decord's own scaler (bicubic swscale, the same filter
as the ffmpeg CLI), and are JPEG-encoded on a second thread while decoding goes on.

decord can still spin forever when packets exist that never decode; the caller's timeout kills
the whole process in that case.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipelines.video.jpeg import encode_jpeg


def ready() -> bool:
    """Import decord now (a pool warm-up), so the first video does not pay for it."""
    import decord  # noqa: F401

    return True


def _open(path: str, width: int = -1, height: int = -1, threads: int = 0):
    import decord

    return decord.VideoReader(path, ctx=decord.cpu(0), width=width, height=height, num_threads=threads)


def _index(vr) -> dict:
    """Facts from decord's packet index: start times, count, end, typical interval, measured fps."""
    from decord import video_reader

    # The public get_frame_timestamp(i) reads this same array; asking for all of it at once.
    pts = np.asarray(video_reader._CAPI_VideoReaderGetFramePTS(vr._handle).asnumpy(), dtype=np.float64)
    pts = np.round(pts, 6)  # decord keeps times as float32: drop the noise below a microsecond
    if pts.ndim != 2 or len(pts) == 0:
        return {"count": 0, "starts": [], "end": None, "interval": None, "fps": None}
    starts = pts[:, 0]
    gaps = np.diff(starts)
    interval = float(np.median(gaps)) if len(gaps) else None
    span = float(starts[-1] - starts[0])
    return {
        "count": len(starts),
        "starts": starts.tolist(),
        "end": float(max(pts[-1, 1], starts[-1] + (interval or 0.0))),
        "interval": interval,
        "fps": (len(starts) - 1) / span if span > 0 else None,
    }


def nearest_frames(times: list[float], starts: list[float]) -> list[int]:
    """For each time, the index of the frame starting nearest it, kept strictly ascending.

    Stops early when the video has no frame left for a time (the result is then shorter).
    """
    s = np.asarray(starts)
    picked: list[int] = []
    for t in times:
        j = int(np.searchsorted(s, t))
        if j == len(s) or (j > 0 and t - s[j - 1] <= s[j] - t):
            j -= 1
        j = max(j, picked[-1] + 1) if picked else max(j, 0)
        if j >= len(s):
            break
        picked.append(j)
    return picked


def decode(
    path: str,
    times: list[float] | None,
    width: int = -1,
    height: int = -1,
    expected_end: float | None = None,
    quality: int = 90,
    threads: int = 0,
) -> dict:
    """Index `path` and, given `times`, decode the frames nearest them at width x height, as JPEG.

    Returns {"opened": False, "error"} when decord cannot open the file; else the index facts plus
    "mismatch" (the index ends far from `expected_end`: nothing decoded, the caller re-plans) or
    "frames", "timestamps" (the index times of the frames really decoded), "complete".
    """
    try:
        vr = _open(path, width, height, threads)
    except Exception as e:
        return {"opened": False, "error": f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300]}"}
    facts = {"opened": True, **_index(vr)}
    if times is None or not facts["count"]:
        facts.pop("starts")
        return facts
    tolerance = max(1.5 * (facts["interval"] or 0.0), 0.1)
    if expected_end is not None and abs(facts["end"] - expected_end) > tolerance:
        facts.pop("starts")
        return {**facts, "mismatch": True}

    starts = facts.pop("starts")  # the caller needs the decoded frames' times, not every frame's
    targets = nearest_frames(times, starts)
    jobs, stamps, error = [], [], None
    with ThreadPoolExecutor(max_workers=1) as encoder:
        for i in targets:
            try:
                vr.seek_accurate(i)
                frame = vr.next()
            except StopIteration:
                break
            except Exception as e:  # decord raises when a packet does not decode (a cut file)
                error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}"
                break
            jobs.append(encoder.submit(encode_jpeg, frame.asnumpy(), quality))
            stamps.append(starts[i])
        frames = [job.result() for job in jobs]
    return {**facts, "frames": frames, "timestamps": stamps, "complete": len(frames) == len(times), "error": error}


def count_decodable(path: str) -> dict:
    """How many frames really decode, in order from the start (tiny output: counting is the work)."""
    try:
        vr = _open(path, 32, 32)
    except Exception as e:
        return {"opened": False, "error": f"{type(e).__name__}: {e}"}
    facts = {"opened": True, **_index(vr)}
    decoded = 0
    while decoded < facts["count"]:
        try:
            vr.next()
        except Exception:  # StopIteration at the end, a decord error on a broken packet
            break
        decoded += 1
    return {**facts, "decodable": decoded}
