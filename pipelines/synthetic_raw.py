"""A small raw video dataset (videos + annotations: the input of `vrft ingest`) whose truth is exact,
for the demo and for end-to-end tests.

Each video is rendered frame by frame (numpy) and encoded with ffmpeg: a coloured square moves in a
straight line over a textured background, and at a known time the background turns another colour and
stays so to the end. Videos last 4 to 12 seconds. Every event ends where its video ends, so the whole
video is a strong floor, no fixed start fits videos of every length, and the score is decided by the
start: a fraction of the stated duration, or the turn found in the frames.
From the rendering parameters come four samples per video, in vrft's normalized JSONL form:
- temporal_grounding: "the background turns <colour>" -> from the turn to the end;
- grounded_qa: "what colour does the background turn?" -> the colour, with the interval as evidence;
- video_qa: "which way does the square move?" -> left / right / up / down;
- tracking: "<colour> square" -> its box on 8 frames (first, last and six between), exactly where drawn.
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COLOURS = {
    "red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 220), "yellow": (230, 210, 40),
    "magenta": (200, 50, 200), "cyan": (40, 200, 210),
}
DIRECTIONS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class Scene:
    key: str
    width: int
    height: int
    fps: int
    n_frames: int
    square: str        # colour name of the moving square
    side: int          # square side in pixels
    start: tuple[int, int]
    end: tuple[int, int]
    base: tuple[int, int, int]
    event: str         # colour name the background turns to
    event_frames: tuple[int, int]  # [first, last) frame of the event

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def position(self, k: int) -> tuple[int, int]:
        """Top-left corner of the square in frame k (integer pixels: the drawing is exact)."""
        a = k / (self.n_frames - 1)
        return (round(self.start[0] + a * (self.end[0] - self.start[0])), round(self.start[1] + a * (self.end[1] - self.start[1])))

    @property
    def direction(self) -> str:
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        if abs(dx) >= abs(dy):
            return "right" if dx > 0 else "left"
        return "down" if dy > 0 else "up"


def make_scene(key: str, rng: random.Random, width: int = 224, height: int = 168, fps: int = 8) -> Scene:
    n_frames = fps * rng.randint(4, 12)
    square, event = rng.sample(sorted(COLOURS), 2)
    side = height // 5
    direction = rng.choice(DIRECTIONS)
    lo, hi_x, hi_y = 4, width - side - 4, height - side - 4
    mid_x, mid_y = rng.randint(lo, hi_x), rng.randint(lo, hi_y)
    start, end = {
        "right": ((lo, mid_y), (hi_x, mid_y + rng.randint(-10, 10))),
        "left": ((hi_x, mid_y), (lo, mid_y + rng.randint(-10, 10))),
        "down": ((mid_x, lo), (mid_x + rng.randint(-10, 10), hi_y)),
        "up": ((mid_x, hi_y), (mid_x + rng.randint(-10, 10), lo)),
    }[direction]
    end = (min(max(lo, end[0]), hi_x), min(max(lo, end[1]), hi_y))
    turn = rng.randint(fps, n_frames - 2 * fps)   # at least a second before it and two after
    base = tuple(rng.randint(60, 110) for _ in range(3))
    return Scene(key, width, height, fps, n_frames, square, side, start, end, base, event, (turn, n_frames))


def render(scene: Scene, seed: int) -> np.ndarray:
    """All frames, [T, H, W, 3] uint8. The texture is fixed per video so only the square moves."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : scene.height, 0 : scene.width]
    texture = (12 * np.sin(xx / 9.0) * np.cos(yy / 7.0) + rng.normal(0, 4, (scene.height, scene.width)))[..., None]
    frames = np.empty((scene.n_frames, scene.height, scene.width, 3), np.uint8)
    for k in range(scene.n_frames):
        a, b = scene.event_frames
        bg = np.array(COLOURS[scene.event] if a <= k < b else scene.base, np.float64)
        img = np.clip(bg + texture, 0, 255)
        x, y = scene.position(k)
        img[y : y + scene.side, x : x + scene.side] = COLOURS[scene.square]
        frames[k] = img.astype(np.uint8)
    return frames


def encode(frames: np.ndarray, fps: int, path: Path) -> None:
    """H.264 in MP4 via ffmpeg, one keyframe per second."""
    t, h, w, _ = frames.shape
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
           "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", str(fps), "-pix_fmt", "yuv420p",
           str(path)]
    subprocess.run(cmd, input=frames.tobytes(), check=True, capture_output=True)


def track_frames(n_frames: int, count: int = 8) -> list[int]:
    """First, last and evenly spaced frames between, as the reference samples its 8 tracking frames."""
    step = (n_frames - 1) / (count - 1)
    return sorted({round(i * step) for i in range(count)})


def samples(scene: Scene, split: str) -> list[dict]:
    a, b = scene.event_frames
    span = {"start": a / scene.fps, "end": b / scene.fps}
    base = {"dataset": "synthetic", "split": split, "video_key": scene.key, "video": f"{scene.key}.mp4",
            "duration": scene.duration}
    colours = sorted(COLOURS)
    choices = [c for c in colours if c != scene.event][:3] + [scene.event]
    random.Random(scene.key).shuffle(choices)
    boxes = []
    for k in track_frames(scene.n_frames):
        x, y = scene.position(k)
        boxes.append({"t": k / scene.fps, "x0": x / scene.width, "y0": y / scene.height,
                      "x1": (x + scene.side) / scene.width, "y1": (y + scene.side) / scene.height})
    return [
        {**base, "task": "temporal_grounding", "query": f"the background turns {scene.event}", "span": span},
        {**base, "task": "grounded_qa", "query": "what colour does the background turn?", "choices": choices,
         "answer_index": choices.index(scene.event), "spans": [span]},
        {**base, "task": "video_qa", "query": f"which way does the {scene.square} square move?",
         "choices": list(DIRECTIONS), "answer_index": DIRECTIONS.index(scene.direction)},
        # its own key: a track is shown the frames its boxes sit on, the other tasks the 2 fps plan
        {**base, "video_key": f"{scene.key}-track", "task": "tracking", "query": f"{scene.square} square", "boxes": boxes},
    ]


def make_dataset(out: Path, n_videos: int = 12, seed: int = 0, eval_videos: int = 4,
                 size: tuple[int, int] = (224, 168)) -> dict[str, Path]:
    """Videos (`size` = width, height) in out/videos, annotations in out/train.jsonl and out/eval.jsonl;
    same seed, same bytes of annotation (video bytes depend on the ffmpeg build)."""
    out = Path(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = {"train": out / "train.jsonl", "eval": out / "eval.jsonl"}
    handles = {split: path.open("w", encoding="utf-8") for split, path in files.items()}
    try:
        for i in range(n_videos):
            split = "eval" if i < eval_videos else "train"
            scene = make_scene(f"syn{i:03d}", rng, *size)
            encode(render(scene, seed * 1000 + i), scene.fps, out / "videos" / f"{scene.key}.mp4")
            for row in samples(scene, split):
                handles[split].write(json.dumps(row) + "\n")
    finally:
        for h in handles.values():
            h.close()
    return files
