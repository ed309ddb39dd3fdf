"""Reward profiles: how a completion is read and scored.

- `default`: ours. The answer contract is read exactly (one block per tag, nothing outside the blocks
  but whitespace), numbers are read robustly, predictions are validated, time is linear in the input,
  and what the prompt gave is never rewarded.
- `videochat-r1`: the reference recipe's reward values, quirks included (docs/reference.md), computed in
  linear time so a hostile completion cannot stall training.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Protocol, Sequence

from schemas import AnswerPart, Task
from schemas.coverage import Requirement, require
from schemas.registry import Registry

Truth = Mapping[str, Any]


class Read(NamedTuple):
    """What a profile read from one completion: a prediction (or None) per answer tag."""

    predictions: dict[str, Any]
    well_formed: bool


class Profile(Protocol):
    name: str
    include_given: bool  # whether metrics score what the prompt gave (the reference scores all boxes)

    def claims(self, task: Task) -> bool: ...  # whether this profile scores `task` at all

    def can_score(self, task: Task, part: AnswerPart) -> bool: ...  # whether it scores that part's component

    def read(self, task: Task, completion: str, truth: Truth) -> Read: ...

    def score(self, task: Task, completion: str, truth: Truth) -> dict[str, float]: ...


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
