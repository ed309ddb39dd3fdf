"""Rewards derived from the task declarations: components by label type, composed per task, in
profiles ("default", "videochat-r1"); metrics and trivial floors through the same components.

    from rewards import score_batch
    scores = score_batch("temporal_grounding", completions, truths, profile="default")
    scores.total, scores.components["iou"]
    rows = score_mixed(tasks, completions, truths, profile="default")   # a batch of several tasks
"""

from rewards import components as _components  # noqa: F401  (registers the built-in components)
from rewards.answers import floor_answer, guess_answer, oracle_answer, write_answer
from rewards.adapters import compute_score, compute_score_videochat_r1, trl_component_rewards, trl_reward
from rewards.component import Component, component_for, register_component, unregister_component
from rewards.iou import box_iou, merge_intervals, merged_iou, temporal_iou
from rewards.metrics import UNPARSED, evaluate, floor_names, floor_predictions, metric_units
from rewards.profiles import Profile, Read, get_profile, profile_names, register_profile
from rewards.scoring import BatchScores, score_batch, score_mixed, score_one

__all__ = [
    "BatchScores", "Component", "UNPARSED", "Profile", "Read", "box_iou", "component_for", "compute_score",
    "compute_score_videochat_r1", "evaluate", "floor_names", "floor_predictions", "get_profile",
    "merge_intervals", "merged_iou", "metric_units", "profile_names", "register_component", "register_profile", "score_batch",
    "score_mixed", "score_one", "temporal_iou", "trl_component_rewards", "trl_reward", "unregister_component",
    "floor_answer", "guess_answer", "oracle_answer", "write_answer",
]
