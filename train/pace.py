"""The arithmetic of a progress line, shared by `vrft train`'s bar and `vrft label`'s ticker: what is left
at the mean pace so far, and H:MM:SS. Pure and without rich or torch, so a command's parser can import it."""

from __future__ import annotations


def left_at_mean_pace(spent: float, done: int, remaining: int) -> float | None:
    """What `remaining` more units cost when `done` units cost `spent` (seconds, or any other measure);
    None before one is done."""
    return None if done <= 0 else spent / done * remaining


def clock(seconds: float | None) -> str:
    """H:MM:SS, or '?' when not known yet."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
