"""Reward throughput and worst-case latency.

Prints completions/s per task and profile on generated completions (correct, noisy and malformed
ones mixed), the slowest single call on 1 MB hostile completions, tracking throughput against a
plain per-completion `ast.literal_eval` scorer measured in the same run (target: >= 5x; every 1 MB
call < 10 ms), and a nesting-depth sweep (brackets 1,000 to 1,000,000 deep, every task and profile):
the growth of the slowest call's time from the shallowest to the deepest input against the growth of
the input's length (linear time: a ratio near 1; quadratic: near the length ratio, 1000).

    .venv/bin/python bench/rewards.py [--n 20000] [--max-depth 1000000]
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (puts the repo root on sys.path)

from rewards import profile_names, score_batch, score_one  # noqa: E402
from rewards.iou import box_iou  # noqa: E402

rng = random.Random(0)


def span_case():
    d = rng.uniform(10, 200)
    s = rng.uniform(0, d * 0.7)
    e = rng.uniform(s + 1, d)
    ps, pe = s + rng.gauss(0, 3), e + rng.gauss(0, 3)
    text = rng.choice([
        f"<think>the event starts near {ps:.1f}</think>\n<answer>{ps:.2f} to {pe:.2f}</answer>",
        f"<think>hmm</think><answer>{ps:.1f}-{pe:.1f}</answer>",
        f"<answer>{ps:.2f} to {pe:.2f}</answer>",
        "<think>I am not sure</think><answer>I cannot tell</answer>",
    ])
    return text, {"task": "temporal_grounding", "span": {"start": s, "end": e}, "duration": d}


def gqa_case():
    d = rng.uniform(20, 120)
    s = rng.uniform(0, d / 2)
    e = rng.uniform(s + 1, d)
    letter = rng.choice("ABCDE")
    text = rng.choice([
        f"<think>they open it</think><answer>{letter}</answer><glue>[({s:.1f}, {e:.1f})]</glue>",
        f"<think>t</think><answer>({letter}) a thing</answer><glue>[({s + 2:.1f}, {e:.1f}), ({e + 1:.1f}, {d:.1f})]</glue>",
        f"<think>t</think><answer>{letter}</answer><glue>[[{s:.1f}, {e:.1f}]]</glue>",
    ])
    return text, {"task": "grounded_qa", "choices": list("abcde"), "answer_index": rng.randrange(5),
                  "spans": [{"start": s, "end": e}], "duration": d}


def qa_case():
    text = rng.choice(["<think>x</think><answer>B</answer>", "<think>x</think><answer>The answer is (C)</answer>",
                       "<answer>D</answer>"])
    return text, {"task": "video_qa", "choices": list("abcde"), "answer_index": rng.randrange(5)}


def track_boxes():
    x, y, w, h = rng.uniform(0, 0.5), rng.uniform(0, 0.5), rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4)
    out = []
    for _ in range(8):
        x, y = min(max(0, x + rng.gauss(0, 0.02)), 1 - w), min(max(0, y + rng.gauss(0, 0.02)), 1 - h)
        out.append([round(x, 3), round(y, 3), round(x + w, 3), round(y + h, 3)])
    return out


def track_case():
    gt = track_boxes()
    pred = [[round(min(1, max(0, v + rng.gauss(0, 0.02))), 3) for v in b] for b in gt]
    text = f"<think>the object drifts right</think><answer>{pred}</answer>"
    truth = {"task": "tracking", "boxes": [{"t": i * 0.5, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(gt)]}
    return text, truth


CASES = {"temporal_grounding": span_case, "grounded_qa": gqa_case, "video_qa": qa_case, "tracking": track_case}

MB = 1_000_000
HOSTILE = {
    "open-tags": "<think>" * (MB // 7),
    "digits-in-answer": "<think>x</think><answer>" + "1" * MB + " to 2</answer>",
    "unclosed-answers": "<answer>" * (MB // 8),
    "think-answer-pairs": "<think>" + "</think><answer>" * (MB // 16) + "</answer>",
    "many-answer-blocks": "<think>t</think>" + "<answer>1 to 2</answer>" * (MB // 23),
    "long-glue": "<think>t</think><answer>C</answer><glue>[" + "(1, 2), " * (MB // 8) + "(3, 4)]</glue>",
    "brackets": "<think>t</think><answer>" + "[" * MB + "</answer>",
    "spaces": "<think>t</think>" + " " * MB + "<answer>1 to 2</answer>",
    "long-track": "<think>t</think><answer>[" + "[0.1, 0.2, 0.3, 0.4], " * (MB // 22) + "]</answer>",
}


def literal_eval_tracking(completions, truths):
    """The plain baseline: find the answer, ast.literal_eval it, mean IoU over the boxes."""
    out = []
    for text, truth in zip(completions, truths):
        i, j = text.find("<answer>"), text.find("</answer>")
        try:
            boxes = ast.literal_eval(text[i + 8 : j])
            gt = [(b["x0"], b["y0"], b["x1"], b["y1"]) for b in truth["boxes"]]
            out.append(sum(box_iou(p, g) for p, g in zip(boxes, gt)) / len(gt))
        except Exception:
            out.append(0.0)
    return out


DEPTH_SHAPES = {  # nested brackets inside the answer, as a hostile model or user could write them
    "balanced": lambda d: "[" * d + "]" * d,
    "unclosed": lambda d: "[" * d,
    "mixed": lambda d: "[(" * (d // 2) + ")]" * (d // 2),
    "list-of-lists": lambda d: "[" * d + "0.1, 0.2, 0.3, 0.4" + "]" * d,
}


def depth_sweep(max_depth: int) -> None:
    """Slowest scoring call per depth over every shape, task and profile; growth against input length."""
    depths = [d for d in (1_000, 10_000, 100_000, 1_000_000) if d <= max_depth]
    truths = {task: make()[1] for task, make in CASES.items()}
    print(f"\nnesting-depth sweep: slowest call over {len(DEPTH_SHAPES)} shapes x {len(CASES)} tasks x profiles")
    print(f"  {'depth':>10}{'chars':>12}{'slowest ms':>12}{'us per 1k chars':>18}")
    worst = {}
    for d in depths:
        slowest, chars = 0.0, 0
        for shape in DEPTH_SHAPES.values():
            text = f"<think>t</think><answer>{shape(d)}</answer>"
            chars = max(chars, len(text))
            for task, truth in truths.items():
                for profile in profile_names():
                    slowest = max(slowest, timed(score_one, task, text, truth, profile, repeat=2))
        worst[d] = (slowest, chars)
        print(f"  {d:>10,}{chars:>12,}{slowest * 1000:>12.2f}{slowest * 1e6 / (chars / 1000):>18.2f}")
    (t0, c0), (t1, c1) = worst[depths[0]], worst[depths[-1]]
    growth, length = t1 / t0, c1 / c0
    print(f"  time x{growth:,.0f} for length x{length:,.0f}: ratio {growth / length:.2f} (linear ~1, quadratic ~{length:,.0f})")


def timed(fn, *args, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="completions per task")
    ap.add_argument("--max-depth", type=int, default=1_000_000, help="deepest nesting in the depth sweep")
    args = ap.parse_args()

    print(f"{'task':<20}{'profile':<14}{'completions/s':>15}")
    data = {}
    for task, make in CASES.items():
        pairs = [make() for _ in range(args.n)]
        data[task] = ([p[0] for p in pairs], [p[1] for p in pairs])
        for profile in profile_names():
            dt = timed(score_batch, task, *data[task], profile)
            print(f"{task:<20}{profile:<14}{args.n / dt:>15,.0f}")

    comps, truths = data["tracking"]
    base = timed(literal_eval_tracking, comps, truths)
    print("\ntracking vs plain ast.literal_eval scorer (same completions, same run)")
    for profile in profile_names():
        ours = timed(score_batch, "tracking", comps, truths, profile)
        print(f"  {profile:<14} {args.n / ours:>10,.0f}/s  baseline {args.n / base:>9,.0f}/s  ratio {base / ours:5.1f}x (target >= 5x)")

    print("\nslowest call on a 1 MB hostile completion (ms; target < 10)")
    truths = {task: make()[1] for task, make in CASES.items()}
    worst = {}
    for name, text in HOSTILE.items():
        for task, truth in truths.items():
            for profile in profile_names():
                dt = timed(score_one, task, text, truth, profile, repeat=2) * 1000
                key = (task, profile)
                if dt > worst.get(key, (0, ""))[0]:
                    worst[key] = (dt, name)
    for (task, profile), (ms, name) in sorted(worst.items()):
        print(f"  {task:<20}{profile:<14}{ms:8.2f} ms  ({name})")
    print(f"  overall worst: {max(v[0] for v in worst.values()):.2f} ms")
    depth_sweep(args.max_depth)


if __name__ == "__main__":
    main()
