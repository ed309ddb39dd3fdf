"""Prompts derived from a task declaration: the task's intro plus its answer contract in words.

Same output contract as the reference (docs/reference.md, "Answer contracts"), our own wording. The video
is referenced by a placeholder that chat templates (ours, verl's) turn into the model's video tokens.
"""

from __future__ import annotations

from typing import Any, Mapping

from schemas.task import Task

VIDEO_PLACEHOLDER = "<video>"


def prompt_context(task: Task, row: Mapping[str, Any]) -> dict[str, Any]:
    """Values the intro and the contract may use: the query, duration, and what each label adds."""
    ctx: dict[str, Any] = {"query": " ".join(str(row.get("query") or "").split()), "duration": row.get("duration")}
    for lt in task.labels:
        ctx.update(lt.prompt_context(row))
    return ctx


def example_answer(task: Task, think: bool) -> str:
    """A reply that follows the contract, for the prompt and for tests."""
    body = "".join(f"<{p.tag}>{p.label_type.answer_example}</{p.tag}>" for p in task.parts)
    return ("<think>...</think>" if think else "") + body


def contract_text(task: Task, ctx: Mapping[str, Any], think: bool) -> str:
    blocks = [f"inside <{p.tag}> </{p.tag}>: {p.label_type.answer_format.format(**ctx)}" for p in task.parts]
    what = "; then ".join(blocks)
    if think:
        lead = f"First think it through inside <think> </think> ({task.think_hint}). Then write, {what}."
    else:
        lead = f"Do not explain. Write, {what}."
    return f"{lead}\nYour reply must have this shape: {example_answer(task, think)}"


def render_prompt(task: Task, row: Mapping[str, Any], think: bool = True) -> list[dict[str, str]]:
    """Chat messages for one sample; the video placeholder opens the user turn."""
    ctx = prompt_context(task, row)
    text = task.intro.format(**ctx) + "\n" + contract_text(task, ctx, think)
    return [{"role": "user", "content": f"{VIDEO_PLACEHOLDER}\n{text}"}]
