"""A picture of one sample as the model will see it: its frames with their timestamps, the truth
drawn on them (boxes on their frames, spans on a timeline), and the question, options and answer.

Works on an ingestion folder (samples/ + videos/) and on training shards (one row per example).
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from pathlib import Path
from typing import Any, Mapping

import pyarrow.dataset as ds

from schemas import get_task, option_letter, stored_video
from schemas.training import check_frames

MAX_FRAMES = 64   # beyond this, frames are subsampled evenly (the timeline still shows all of them)
COLUMNS = 8
CHARS_PER_INCH = 13   # monospace text at 8 points: the header wraps at the figure's width


class SampleNotFound(LookupError):
    pass


def _dataset(path: Path) -> ds.Dataset:
    files = sorted(str(p) for p in path.glob("*.parquet")) if path.is_dir() else [str(path)]
    if not files:
        raise SampleNotFound(f"no Parquet files in {path}")
    return ds.dataset(files, format="parquet")


def _one(dataset: ds.Dataset, column: str, value: str) -> dict[str, Any] | None:
    rows = dataset.to_table(filter=ds.field(column) == value).to_pylist()
    return rows[0] if rows else None


def load_sample(folder: Path, sample_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(label row, frames) for a sample. Label row: the samples columns (or, for training shards, the
    ground truth plus the query fields); frames: {frames, timestamps, fps, duration}."""
    folder = Path(folder)
    if (folder / "samples").is_dir():
        sample = _one(_dataset(folder / "samples"), "sample_id", sample_id)
        if sample is None:
            raise SampleNotFound(f"sample {sample_id!r} is not in {folder / 'samples'}")
        video = None
        if any((folder / "videos").glob("*.parquet")):     # a table with no rows has no files
            video = _one(_dataset(folder / "videos"), "video_key", sample["video_key"])
        if video and video.get("frames"):      # checked as every reader checks them; FrameError names what failed
            check_frames(video["frames"], video["timestamps"] or [], video["sampled_fps"], video.get("frame_crc32"))
        frames = {
            "frames": (video or {}).get("frames") or [],
            "timestamps": (video or {}).get("timestamps") or [],
            "fps": (video or {}).get("sampled_fps"),
            "duration": sample.get("duration") or (video or {}).get("duration"),
        }
        return sample, frames
    row = _one(_dataset(folder), "sample_id", sample_id)
    if row is None:
        raise SampleNotFound(f"sample {sample_id!r} is not in {folder}")
    truth = json.loads(row["reward_model"]["ground_truth"])
    prompt = row["prompt"][-1]["content"]
    sample = {**truth, "sample_id": sample_id, "dataset": row.get("dataset"), "video_key": row.get("video_key"),
              "query": None, "prompt": prompt}
    video = stored_video(row)      # the training layout's one reader; FrameError on corrupted frames
    frames = {"frames": video.frames if video else [], "timestamps": video.timestamps if video else [],
              "fps": video.fps if video else None, "duration": truth.get("duration")}
    return sample, frames


def shown_frames(count: int) -> list[int]:
    """Indices of the frames drawn: all of them, or MAX_FRAMES evenly spaced when there are more."""
    if count <= MAX_FRAMES:
        return list(range(count))
    return [round(i * (count - 1) / (MAX_FRAMES - 1)) for i in range(MAX_FRAMES)]


def _header(sample: Mapping[str, Any], shown: int, total: int, width: int) -> str:
    """The text above the frames, every line wrapped to `width` characters (nothing cut)."""
    task = get_task(sample["task"])
    lines = [f"{sample.get('dataset')} · {task.name} · sample {sample['sample_id']} · video {sample.get('video_key')}"]
    if shown < total:
        lines.append(f"showing {shown} of {total} frames, evenly spaced (the timeline marks all {total})")
    if sample.get("query"):
        lines.append(f"{'object' if 'boxes' in task.label_columns else 'query'}: {sample['query']}")
    elif sample.get("prompt"):
        text = [" ".join(line.split()) for line in sample["prompt"].replace("<video>", "").strip().splitlines()]
        lines += ["prompt: " + text[0], *("  " + line for line in text[1:] if line)]
    if sample.get("choices") and sample.get("query"):
        for i, text in enumerate(sample["choices"]):
            mark = "  <- answer" if i == sample.get("answer_index") else ""
            lines.append(f"  ({option_letter(i)}) {text}{mark}")
    elif sample.get("choices"):  # the prompt above lists the options
        i = sample["answer_index"]
        lines.append(f"answer: ({option_letter(i)}) {sample['choices'][i]}")
    if sample.get("span"):
        lines.append(f"span: {sample['span']['start']:.2f} - {sample['span']['end']:.2f} s")
    if sample.get("spans"):
        lines.append("evidence: " + ", ".join(f"{s['start']:.2f}-{s['end']:.2f} s" for s in sample["spans"]))
    if sample.get("repairs"):
        lines.append("repairs: " + ", ".join(sample["repairs"]))
    return "\n".join(w for line in lines for w in textwrap.wrap(line, width, subsequent_indent="    ") or [""])


# --- geometry: which frames are drawn where, which are framed, where boxes and timeline marks go -----------


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) of the frame panels: up to COLUMNS a row, one empty panel when there are no frames."""
    cols = min(COLUMNS, max(1, count))
    return cols, max(1, math.ceil(count / cols))


def panel_cell(k: int, cols: int) -> tuple[int, int]:
    """(row, column) of the k-th drawn frame: left to right, then the next row."""
    return k // cols, k % cols


def in_spans(t: float, spans: list[tuple[float, float]]) -> bool:
    """A frame at `t` s is framed when a truth interval holds it, ends included."""
    return any(a <= t <= b for a, b in spans)


def box_tolerance(times: list[float]) -> float:
    """How far from a frame's time a box may be and still be drawn on it: half the smallest frame step
    (1 s steps when there is at most one frame), a hair more for rounding."""
    gap = min((b - a for a, b in zip(times, times[1:])), default=1.0)
    return gap / 2 + 1e-6


def box_rectangle(box: Mapping[str, float], w: int, h: int) -> tuple[float, float, float, float]:
    """(x, y, width, height) in pixels of a frame w x h for a box in fractions of the frame."""
    return box["x0"] * w, box["y0"] * h, (box["x1"] - box["x0"]) * w, (box["y1"] - box["y0"]) * h


def timeline_end(duration: float | None, times: list[float]) -> float:
    """The timeline runs from 0 to the video's duration, else to the last frame, else 1 s."""
    return duration or (max(times) if times else 1.0)


def _intervals(sample: Mapping[str, Any]) -> list[tuple[float, float]]:
    out = []
    if sample.get("span"):
        out.append((sample["span"]["start"], sample["span"]["end"]))
    for s in sample.get("spans") or []:
        out.append((s["start"], s["end"]))
    return out


def _box_at(sample: Mapping[str, Any], t: float, tol: float) -> dict[str, float] | None:
    boxes = sample.get("boxes") or []
    best = min(boxes, key=lambda b: abs(b["t"] - t), default=None)
    return best if best is not None and abs(best["t"] - t) <= tol else None


def render_sample(sample: Mapping[str, Any], frames: Mapping[str, Any], out: Path) -> Path:
    """Write the contact sheet PNG for one sample; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    images, times = list(frames["frames"]), list(frames["timestamps"])
    shown = shown_frames(len(images))
    cols, rows = grid_shape(len(shown))
    width_in = max(8.0, 2.2 * cols)
    header = _header(sample, len(shown), len(images), int(width_in * CHARS_PER_INCH))
    head_in = 0.16 * (header.count("\n") + 1) + 0.3
    fig = plt.figure(figsize=(width_in, 1.6 * rows + head_in + 1.2), dpi=100)
    fig.text(0.01, 0.995, header, va="top", ha="left", family="monospace", fontsize=8)
    top = 1 - head_in / fig.get_figheight()
    bottom = 0.55 / fig.get_figheight()  # room for the timeline's labels
    grid = fig.add_gridspec(rows + 1, cols, top=top, bottom=bottom, left=0.02, right=0.98,
                            height_ratios=[1.6] * rows + [0.5], hspace=0.35, wspace=0.05)
    spans = _intervals(sample)
    tol = box_tolerance(times)
    for k, i in enumerate(shown):
        ax = fig.add_subplot(grid[panel_cell(k, cols)])
        img = Image.open(io.BytesIO(images[i])).convert("RGB")
        w, h = img.size
        ax.imshow(img)
        inside = in_spans(times[i], spans)
        ax.set_title(f"{times[i]:.2f} s", fontsize=8, color="green" if inside else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        if inside:
            for side in ax.spines.values():
                side.set_edgecolor("green")
                side.set_linewidth(3)
        box = _box_at(sample, times[i], tol=tol)
        if box is not None:
            x, y, bw, bh = box_rectangle(box, w, h)
            ax.add_patch(Rectangle((x, y), bw, bh, fill=False, edgecolor="lime", linewidth=2))
    if not shown:
        fig.text(0.5, 0.5, "no frames stored for this sample (ingested with --no-frames?)", ha="center")
    tl = fig.add_subplot(grid[rows, :])
    duration = timeline_end(frames.get("duration"), times)
    tl.set_xlim(0, duration)
    tl.set_ylim(0, 1)
    tl.set_yticks([])
    tl.set_xlabel("seconds")
    for a, b in spans:
        tl.axvspan(a, b, color="green", alpha=0.35)
    tl.vlines(times, 0.1, 0.9, color="black", linewidth=0.8)
    for box in sample.get("boxes") or []:
        tl.plot([box["t"]], [0.5], marker="s", color="lime", markersize=5)
    fps = frames.get("fps")
    drawn = f"; {len(shown)} of them shown above" if len(shown) < len(times) else ""
    tl.set_title(f"{len(times)} frames" + (f" at {fps:.3f} fps" if fps else "") + f" over {duration:.2f} s{drawn}",
                 fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
