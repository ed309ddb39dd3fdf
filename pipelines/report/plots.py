"""The report's figures, one PNG per question a person asks of a dataset (matplotlib, Agg backend).

Each function takes the profile (and the manifest) and returns a figure, or None when the dataset has
nothing to show for it (no spans, no boxes...), so the report lists only what applies. Figures are a
registry; each names the label types it draws, and the start-up check (`schemas.coverage`) refuses a
task whose label type no figure draws (unless the label type is exempt from "report plots").
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

import schemas
from pipelines.report.profile import DatasetProfile
from schemas.coverage import Requirement, require
from schemas.registry import Registry

BLUE, ORANGE, GREY, RED = "#3b6ea5", "#e08a3c", "#8c8c8c", "#c0392b"


def _fig(ncols: int, title: str, width: float = 5.0):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(max(width * ncols, 9.0), 3.8), squeeze=False)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    for ax in axes[0]:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
    return fig, list(axes[0])


def _hbar(ax: Any, counts: Mapping[str, int], color: str, title: str, total: int | None = None, of: str = "") -> None:
    """Horizontal bars, largest on top, each labelled with its count and its share of `total`."""
    items = sorted(counts.items(), key=lambda kv: kv[1])
    labels, values = [k for k, _ in items], [v for _, v in items]
    bars = ax.barh(labels, values, color=color)
    total = total or sum(values) or 1
    for b, v in zip(bars, values):
        share = "<0.1%" if v / total < 0.001 else f"{v / total:.1%}" if v / total < 0.1 else f"{v / total:.0%}"
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v:,} ({share}{of})", va="center", fontsize=9)
    ax.set_title(title)
    ax.set_xlim(0, max(values or [1]) * 1.35)
    ax.grid(axis="x", alpha=0.3)


def _label(ax: Any, title: str, xlabel: str, legend: bool = False) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if legend:
        ax.legend()


def _note(profile_rows: int, shown: int) -> str:
    return "" if profile_rows <= shown else f" (uniform sample of {shown:,} of {profile_rows:,})"


def _clipped(values: pd.Series, q: float = 0.995) -> tuple[pd.Series, str]:
    """Values up to their q-quantile, so a few outliers do not squeeze the histogram; says what was cut."""
    top = float(values.quantile(q)) if len(values) else 0.0
    beyond = int((values > top).sum())
    return values[values <= top], (f"; {beyond:,} above {top:.0f} not shown" if beyond else "")


def task_mix(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    tasks, datasets = profile.counts.get("task"), profile.counts.get("dataset")
    if not tasks:
        return None
    fig, (a, b) = _fig(2, "What the dataset holds")
    _hbar(a, dict(tasks), BLUE, "samples per task")
    _hbar(b, dict(datasets or {}), ORANGE, "samples per source dataset")
    return fig


def durations(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    videos = profile.group("videos")
    source = videos if not videos.empty else profile.group("sample_durations")
    if source.empty:
        return None
    what = "decoded videos" if not videos.empty else "annotated durations (one per video)"
    fig, axes = _fig(2 if not videos.empty else 1, "Video durations and frames")
    d = source["duration"].dropna()
    shown, cut = _clipped(d)
    axes[0].hist(shown, bins=40, color=BLUE)
    axes[0].axvline(d.median(), color=RED, ls="--", label=f"median {d.median():.1f} s")
    axes[0].set_xlabel("seconds" + cut)
    axes[0].set_ylabel("videos")
    axes[0].set_title(what + _note(profile.groups["videos" if not videos.empty else "sample_durations"].rows, len(d)))
    axes[0].legend()
    if not videos.empty:
        axes[1].scatter(videos["duration"], videos["frames.count"], s=8, alpha=0.5, color=ORANGE)
        axes[1].set_xlabel("video seconds")
        axes[1].set_ylabel("frames sampled")
        sizes = (videos["frame_width"].astype(int).astype(str) + "x" + videos["frame_height"].astype(int).astype(str))
        top = sizes.value_counts().head(3)
        axes[1].set_title("frames per video; sizes: " + ", ".join(f"{k} ({v})" for k, v in top.items()), fontsize=9)
    return fig


def intervals(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    iv = profile.group("intervals")
    if iv.empty:
        return None
    fig, (a, b, c) = _fig(3, "Where and how long the labelled moments are")
    lengths, cut = _clipped(iv["length_s"])
    bins = np.linspace(0, lengths.max() if len(lengths) else 1, 41)
    for (label, g), color in zip(iv.groupby("label"), (BLUE, ORANGE)):
        a.hist(g["length_s"][g["length_s"] <= bins[-1]], bins=bins, alpha=0.7, color=color, label=f"{label} ({len(g):,})")
        b.hist(g["fraction"], bins=np.linspace(0, 1, 41), alpha=0.7, color=color, label=label)
    _label(a, "moment lengths", "length (seconds)" + cut, legend=True)
    _label(b, "share of the video covered", "length / video duration", legend=True)
    from matplotlib.colors import LogNorm

    h = c.hist2d(iv["start_frac"].clip(0, 1), iv["end_frac"].clip(0, 1), bins=30, range=[[0, 1], [0, 1]],
                 cmap="Blues", norm=LogNorm(), cmin=1)
    fig.colorbar(h[3], ax=c, label="moments (log scale)")
    c.plot([0, 1], [0, 1], color=GREY, lw=0.8)
    _label(c, "positions (the diagonal is zero length)", "start / duration")
    c.set_ylabel("end / duration")
    return fig


def boxes(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    bx = profile.group("boxes")
    if bx.empty:
        return None
    fig, (a, b, c) = _fig(3, "Tracked boxes")
    a.hist(bx["area"].dropna().clip(1e-4, 1), bins=np.logspace(-4, 0, 41), color=BLUE)
    a.set_xscale("log")
    _label(a, "box sizes", "box area / frame area (log scale)")
    b.hist(np.log2(bx["aspect"].dropna().clip(1 / 8, 8)), bins=np.linspace(-3, 3, 41), color=ORANGE)
    _label(b, "box shapes", "log2(width / height): 0 is square")
    m = bx["motion"].dropna()
    c.hist(m, bins=40, color=BLUE)
    c.set_xlabel("centre shift between consecutive boxes (frame widths)")
    c.set_title(f"motion (median {m.median():.3f})" if len(m) else "motion")
    return fig


def answers(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    ans = profile.group("answers")
    if ans.empty:
        return None
    groups = list(ans.groupby("task"))
    fig, axes = _fig(len(groups), "Answer-letter balance", width=4.5)
    for ax, (task, g) in zip(axes, groups):
        shares = g["answer_index"].astype(int).value_counts(normalize=True).sort_index()
        ax.bar([string.ascii_uppercase[i] for i in shares.index], shares.values, color=BLUE)
        ax.axhline(float((1 / g["n_choices"]).mean()), color=RED, ls="--")
        ax.set_ylim(0, max(0.5, shares.max() * 1.2))
        ax.set_ylabel("share of questions")
        ax.set_title(f"{task} ({len(g):,} questions; dashed: uniform)")
    return fig


def repairs_rejects(profile: DatasetProfile, manifest: Mapping[str, Any] | None):
    if not manifest:
        return None
    repaired, rejected = manifest.get("repaired_by_reason") or {}, manifest.get("rejected_by_reason") or {}
    counts = manifest.get("counts") or {}
    fig, (a, b) = _fig(2, f"Repairs and rejects ({counts.get('input', 0):,} input records)")
    for ax, data, color, what, total, of in (
        (a, repaired, ORANGE, "repaired", counts.get("written"), " of written"),
        (b, rejected, RED, "rejected", counts.get("input"), " of input"),
    ):
        if data:
            _hbar(ax, data, color, f"{what} rows by reason", total, of)
        else:
            ax.text(0.5, 0.5, f"nothing {what}", ha="center", va="center", fontsize=12, color=GREY)
            ax.set_axis_off()
    return fig


@dataclass(frozen=True)
class Figure:
    title: str
    make: Callable[[DatasetProfile, Mapping[str, Any] | None], Any]   # a matplotlib figure, or None: nothing to show
    labels: tuple[str, ...] = ()                               # the label types it draws (none: the whole dataset)


_FIGURES: Registry[Figure] = Registry("report figure")


def register_figure(name: str, figure: Figure) -> Figure:
    return _FIGURES.add(name, figure)


figures = _FIGURES.items  # (name, figure) in registration order
unregister_figure = _FIGURES.remove


def _undrawn(task: schemas.Task, part: schemas.AnswerPart) -> str | None:
    drawn = any(part.label in f.labels for f in _FIGURES.values())
    return None if drawn else "no report plot (pipelines.report.plots)"


require(Requirement("report plots", _undrawn))

register_figure("tasks", Figure("Task mix", task_mix))
register_figure("durations", Figure("Video durations", durations))
register_figure("intervals", Figure("Span lengths and positions", intervals, labels=("span", "spanset")))
register_figure("boxes", Figure("Box sizes and motion", boxes, labels=("boxtrack",)))
register_figure("answers", Figure("Answer-letter balance", answers, labels=("choice",)))
register_figure("repairs_rejects", Figure("Repairs and rejects by reason", repairs_rejects))
