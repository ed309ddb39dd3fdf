"""Reward profiles: how a completion is read and scored.

- `default`: ours. The answer contract is read exactly (one block per tag, nothing outside the blocks
  but whitespace), numbers are read robustly, predictions are validated, time is linear in the input,
  and what the prompt gave is never rewarded.
- `videochat-r1`: the reference recipe's reward values, quirks included (docs/reference.md), computed in
  linear time so a hostile completion cannot stall training.

Each also says which truths it scores (`admit`): `default` those ingestion would write, after the same
repairs (`schemas.repairs`); `videochat-r1` every truth the reference can read, as published, with a
warning for what the task's checks would refuse (a span ending past the video, a zero-width box).
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Protocol, Sequence

from schemas import AnswerPart, Task
from schemas.coverage import Requirement, require
from schemas.registry import Registry
from schemas.repairs import RepairPolicy

Truth = Mapping[str, Any]


class Read(NamedTuple):
    """What a profile read from one completion: a prediction (or None) per answer tag."""

    predictions: dict[str, Any]
    well_formed: bool


class Admitted(NamedTuple):
    """A truth a profile agreed to score, as it will be scored, with what was done to it or said of it."""

    truth: dict[str, Any]
    repairs: tuple[str, ...] = ()   # the repair policy's codes, one per clipped end (`default`)
    warnings: tuple[str, ...] = ()  # what the task's checks refuse but the profile scores as given (`videochat-r1`)


class TruthRefused(ValueError):
    """The profile cannot score this truth; the message names why."""


class Profile(Protocol):
    name: str
    include_given: bool  # whether metrics score what the prompt gave (the reference scores all boxes)

    def claims(self, task: Task) -> bool: ...  # whether this profile scores `task` at all

    def can_score(self, task: Task, part: AnswerPart) -> bool: ...  # whether it scores that part's component

    def read(self, task: Task, completion: str, truth: Truth) -> Read: ...

    def score(self, task: Task, completion: str, truth: Truth) -> dict[str, float]: ...

    # The truth this profile scores for `truth` (labels and duration as given), or TruthRefused.
    def admit(self, task: Task, truth: Truth, policy: RepairPolicy) -> Admitted: ...


def score_many(profile: Profile, task: Task, completions: Sequence[str], truths: Sequence[Truth]) -> dict[str, list[float]]:
    """Components for a batch: the profile's own batch path when it has one."""
    batch = getattr(profile, "score_many", None)
    if batch is not None:
        return batch(task, completions, truths)
    out: dict[str, list[float]] = {name: [] for name in task.components}
    for completion, truth in zip(completions, truths):
        for name, value in profile.score(task, completion, truth).items():
            out[name].append(value)
    return out


_PROFILES: Registry[Profile] = Registry("reward profile")


def register_profile(profile: Profile) -> Profile:
    return _PROFILES.add(profile.name, profile)


get_profile = _PROFILES.get
profile_names = _PROFILES.names


def _unscored(task: Task, part: AnswerPart) -> str | None:
    """The start-up check's question: which profiles that claim `task` cannot score this part."""
    missing = [p.name for p in _PROFILES.values() if p.claims(task) and not p.can_score(task, part)]
    return f"no reward component for {part.component!r} in profile(s) {', '.join(missing)}" if missing else None


require(Requirement("reward component", _unscored, exemptible=False))


from rewards.profiles import default, videochat_r1  # noqa: E402,F401  (register the built-ins)
