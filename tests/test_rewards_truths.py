"""`vrft rewards score` and the truths it is given. `videochat-r1` scores every truth the reference can
read, as published, with the reference's value (a warning on the line for what the task's checks refuse);
`default` repairs a truth as ingestion does (recorded on the line) and refuses what ingestion rejects.

Cases come from the real annotation files (spans ending past the video in Charades-STA, negative and -0.0
starts in NExT-GQA, inverted and zero-length spans in ActivityNet train, GOT-10k tracks given a box of
zero width at the frame's edge) and hand-written edges. Expected values are the formulas of
docs/reference.md, written out here."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

THINK = "<think>t</think>"


def score(tmp_path, task, profile, lines, *extra):
    src, out = tmp_path / f"{task}-{profile}.jsonl", tmp_path / f"{task}-{profile}.out.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = subprocess.run([sys.executable, "-m", "vrft", "rewards", "score", "--task", task, "--profile", profile,
                          "--input", str(src), "--output", str(out), *extra], cwd=ROOT, capture_output=True, text=True)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(1, len(lines) + 1)), res.stderr
    return rows, res


# --- the reference's formulas (docs/reference.md, "Rewards as the reference computes them") --------


def ref_span_iou(p, t):
    """IoU in seconds of the prediction with the truth as published; None on a zero union, which the
    reference does not score (it divides by zero)."""
    union = max(p[1], t[1]) - min(p[0], t[0])
    return max(0.0, min(p[1], t[1]) - max(p[0], t[0])) / union if union > 0 else None


def ref_merge(intervals):
    out = []
    for s, e in sorted(intervals, key=lambda iv: iv[0]):  # by start alone, stable
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def ref_glue_iou(pred, truth):
    a, b = ref_merge(pred), ref_merge(truth)
    inter, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        inter += hi - lo if lo < hi else 0.0
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    union = sum(e - s for s, e in a) + sum(e - s for s, e in b) - inter
    return 1.0 if union == 0 else inter / union


def ref_letter(text):
    """The first capital A-G (after the known phrases, none of which these answers hold); "" if none."""
    return next((ch for ch in text.strip() if ch in "ABCDEFG"), "")


def ref_box_iou(p, g):
    inter = max(0, min(p[2], g[2]) - max(p[0], g[0])) * max(0, min(p[3], g[3]) - max(p[1], g[1]))
    union = (p[2] - p[0]) * (p[3] - p[1]) + (g[2] - g[0]) * (g[3] - g[1]) - inter
    return 0.0 if union == 0 else inter / union


def answer_repeats(choices, index):
    """The answer's text is also another option's (case and spacing aside): ambiguous, which the checks refuse."""
    key = " ".join(choices[index].split()).casefold()
    return sum(" ".join(c.split()).casefold() == key for c in choices) > 1


def two(x):
    return float(f"{x:.2f}")


# --- the cases ---------------------------------------------------------------------------------


def grounding_cases(real_data):
    """(line, expected, off_schema): Charades-STA test as published (15 % end past the video), the
    ActivityNet train spans the checks refuse (inverted, zero length, past the end) and hand edges."""
    durations = json.loads((real_data / "charades_sta" / "charades.json").read_text())
    truths = []
    for line in (real_data / "charades_sta" / "charades_sta_test.txt").read_text().splitlines():
        if line.strip():
            vid, s, e = line.split("##")[0].split()
            truths.append((float(s), float(e), durations[vid]["duration"]))
    anet = json.loads((real_data / "activitynet_captions" / "train.json").read_text())
    truths += [(s, e, v["duration"]) for v in anet.values() for s, e in v["timestamps"] if not 0 <= s < e <= v["duration"]]
    truths += [(3.4, 30.79, 30.74), (8.0, 2.0, 30.0), (5.0, 5.0, 30.0), (-0.4, 6.0, 30.0), (1.0, 4.0, None)]
    out = []
    for i, (s, e, d) in enumerate(truths):
        s0 = max(0.0, s)  # a minus sign is no part of the reference's number pattern
        lo, hi = [(two(s0), two(e)), (0.0, two(d or 60.0)), (two(s0 + 2), two(e + 3)), (two(max(0.0, s - 1.5)), two(e))][i % 4]
        words = " and " if i % 4 == 2 else " to "
        completion = ("" if i % 4 == 3 else THINK) + f"<answer>{lo:.2f}{words}{hi:.2f}</answer>"
        iou = ref_span_iou((lo, hi), (s, e))
        if iou is None:
            continue
        line = {"completion": completion, "span": {"start": s, "end": e}, **({"duration": d} if d else {})}
        off = d is None or not (0 <= s < e <= d)
        out.append((line, {"format": float(i % 4 != 3), "iou": iou}, off))
    return out


def grounded_qa_cases(real_data):
    """NExT-GQA test as published (negative and -0.0 starts, one question whose answer is two options) and hand
    edges: inverted and zero-length evidence, an empty evidence list, an answer past the options' letters."""
    gsub = json.loads((real_data / "nextgqa" / "gsub_test.json").read_text())
    truths = []
    with (real_data / "nextgqa" / "test.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            choices = [r[f"a{k}"] for k in range(5)]
            v = gsub[r["video_id"]]
            truths.append((choices, choices.index(r["answer"]), v["location"][r["qid"]], v["duration"]))
    five = list("abcde")
    truths += [(five, 2, [[5.0, 3.0]], 30.0), (five, 0, [[1.0, 0.0], [4.0, 8.0]], 30.0),
               (five, 1, [[8.0, 20.0], [9.0, 3.0]], 30.0), (five, 3, [[2.0, 2.0]], 30.0), (five, 4, [], 30.0),
               (five, 0, [[10.0, 30.03]], 30.0), (list("abcdefgh"), 7, [[1.0, 2.0]], 30.0)]
    out = []
    for i, (choices, index, spans, d) in enumerate(truths):
        letter = "ABCDEFGH"[index] if i % 3 else "ABCDEFGH"[(index + 1) % 5]
        answer = f"({letter}) {choices[0]}" if i % 2 else letter
        glue = [[(0.0, float(d))], [(two(max(0.0, s)), two(max(0.0, e) + 1)) for s, e in spans], [(1.5, 4.0), (6, 9)]][i % 3]
        text = "[" + ", ".join(f"({a}, {b})" for a, b in glue) + "]"
        line = {"completion": f"{THINK}<answer>{answer}</answer><glue>{text}</glue>", "choices": choices,
                "answer_index": index, "spans": [{"start": s, "end": e} for s, e in spans], "duration": d}
        acc = float(ref_letter(answer) == ref_letter(f"({'ABCDEFGH'[index]})"))
        off = not spans or any(not 0 <= s < e <= d for s, e in spans) or answer_repeats(choices, index)
        out.append((line, {"format": 1.0, "accuracy": acc, "iou": ref_glue_iou(glue, spans)}, off))
    return out


def tracking_cases(real_data):
    """The VideoChat-R1 GOT-10k val tracks, each also with one box of zero width or height at the frame's
    edge (the object leaving it), and a track with a box outside the frame."""
    tracks = [t["gt"] for t in json.loads((real_data / "videochat_r1" / "got_val.json").read_text())]
    edged = []
    for k, gt in enumerate(tracks):
        boxes = [list(b) for b in gt]
        j = 1 + k % 7
        if k % 2:
            boxes[j][0] = boxes[j][2] = 1.0   # zero width at the right edge
        else:
            boxes[j][1] = boxes[j][3] = 0.0   # zero height at the top
        edged.append(boxes)
    outside = [[-0.05, 0.1, 0.3, 0.4]] + [[0.1, 0.1, 0.3, 0.4]] * 7
    out = []
    for i, gt in enumerate(tracks + edged + [outside]):
        pred = [[round(v, 3) for v in gt[0]]] * 8 if i % 2 else [[round(min(1.0, v + 0.02), 3) for v in b] for b in gt]
        line = {"completion": f"{THINK}<answer>{pred}</answer>",
                "boxes": [{"t": n / 10, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for n, b in enumerate(gt)]}
        off = any(not (0 <= b[0] < b[2] <= 1 and 0 <= b[1] < b[3] <= 1) for b in gt)
        out.append((line, {"format": 1.0, "iou": float(np.mean([ref_box_iou(p, g) for p, g in zip(pred, gt)]))}, off))
    return out


def video_qa_cases(real_data):
    """NExT-QA test as published, answers whose index is past the options (a letter still names it), an
    empty option, a single option and an answer that is two options."""
    out = []
    with (real_data / "nextqa" / "test.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))[:300]
    truths = [([r[f"a{k}"] for k in range(5)], int(r["answer"])) for r in rows]
    truths += [(list("abcde"), 6), (list("ab"), 3), (["a", "b", ""], 1), (["a"], 0), (["a", "b", " A"], 0)]
    for i, (choices, index) in enumerate(truths):
        letter = "ABCDEFG"[index] if i % 2 else "ABCDEFG"[(index + 2) % 7]
        line = {"completion": f"{THINK}<answer>{letter}</answer>", "choices": choices, "answer_index": index}
        acc = float(ref_letter(letter) == ref_letter(f"({'ABCDEFG'[index]})"))
        off = index >= len(choices) or answer_repeats(choices, index) or len(choices) < 2 or "" in choices
        out.append((line, {"format": 1.0, "accuracy": acc}, off))
    return out


CASES = {"temporal_grounding": grounding_cases, "grounded_qa": grounded_qa_cases, "tracking": tracking_cases,
         "video_qa": video_qa_cases}


@pytest.mark.parametrize("task", sorted(CASES))
def test_videochat_r1_scores_every_truth_the_reference_scores(real_data, tmp_path, task):
    cases = CASES[task](real_data)
    rows, res = score(tmp_path, task, "videochat-r1", [line for line, _, _ in cases])
    assert res.returncode == 0 and not [r for r in rows if "error" in r], res.stderr
    for (line, want, off), got in zip(cases, rows):
        assert {k: got[k] for k in want} == pytest.approx(want, abs=1e-9), line
        assert got["total"] == pytest.approx(sum(want.values()), abs=1e-9)
        assert bool(got.get("warnings")) == off, (line, got)
    warned = sum(off for _, _, off in cases)
    assert warned >= 5 and f"{len(cases)} scored, {warned} with warnings, 0 malformed" in res.stderr


def test_the_reference_reads_only_numbers_where_it_needs_them(tmp_path):
    """What the reference cannot read is refused under videochat-r1 too, with the checks' words."""
    lines = [
        {"completion": "x", "span": {"start": "3", "end": 9.0}, "duration": 30.0},
        {"completion": "x", "span": {"start": True, "end": 9.0}, "duration": 30.0},
        {"completion": "x", "span": [3, 9], "duration": 30.0},
        {"completion": "x", "span": {"start": 1.0, "end": 2.0}, "duration": 30.0},
    ]
    rows, res = score(tmp_path, "temporal_grounding", "videochat-r1", lines)
    assert [sorted(r) for r in rows[:3]] == [["error", "line"]] * 3 and res.returncode == 1
    assert "span_not_numeric" in rows[0]["error"] and "span_missing" in rows[2]["error"] and "total" in rows[3]
    track = [{"t": 0.0, "x0": 0.1, "y0": 0.1, "x1": 0.2, "y1": 0.2}] * 7
    qa = {"completion": "x", "choices": ["a", "b"], "duration": 9.0, "spans": [{"start": 1.0, "end": 2.0}]}
    for task, line, word in [
        ("tracking", {"completion": "x", "boxes": track + [{"t": 0.7, "x0": 0.1, "y0": None, "x1": 0.2, "y1": 0.2}]}, "box_not_numeric"),
        ("grounded_qa", {**qa, "answer_index": -1}, "answer_index_out_of_range"),
        ("grounded_qa", {**qa, "answer_index": 30}, "answer_index_out_of_range"),
        ("grounded_qa", {**qa, "answer_index": 1, "spans": [{"start": 1.0}]}, "span_not_numeric"),
    ]:
        (row,), _ = score(tmp_path, task, "videochat-r1", [line])
        assert word in row["error"] and "total" not in row, (task, line)


def test_default_repairs_truth_as_ingestion_does(tmp_path):
    span = {"start": 3.4, "end": 30.77}
    lines = [
        {"completion": f"{THINK}<answer>2.00 to 40.00</answer>", "span": span, "duration": 30.74},
        {"completion": f"{THINK}<answer>0.00 to 5.00</answer>", "span": {"start": -0.1, "end": 4.0}, "duration": 30.0},
        {"completion": f"{THINK}<answer>2.00 to 10.00</answer>", "span": {"start": 3.0, "end": 32.5}, "duration": 30.0},
        {"completion": f"{THINK}<answer>2.00 to 10.00</answer>", "span": {"start": 8.0, "end": 2.0}, "duration": 30.0},
        {"completion": f"{THINK}<answer>2.00 to 10.00</answer>", "span": {"start": 4.0, "end": 4.0}, "duration": 30.0},
    ]
    rows, res = score(tmp_path, "temporal_grounding", "default", lines)
    # clipped to the video: [3.4, 30.74] against the prediction clipped to [2, 30.74]
    assert rows[0] == {"line": 1, "format": 1.0, "iou": pytest.approx((30.74 - 3.4) / (30.74 - 2.0)),
                       "total": pytest.approx(1 + (30.74 - 3.4) / 28.74), "repairs": ["span_end_clipped"]}
    assert rows[1]["iou"] == pytest.approx(4.0 / 5.0) and rows[1]["repairs"] == ["span_start_clipped"]
    assert "span_past_end" in rows[2]["error"]                    # 2.5 s past: beyond the 2 s tolerance
    assert "span_inverted" in rows[3]["error"] and "span_zero_length" in rows[4]["error"]
    assert res.returncode == 1 and "2 scored, 2 with truth repaired, 3 malformed" in res.stderr
    rows, _ = score(tmp_path, "temporal_grounding", "default", lines[2:3], "--clip-tolerance", "3")
    assert rows[0]["repairs"] == ["span_end_clipped"] and rows[0]["iou"] == pytest.approx(7.0 / 28.0)

    box = {"t": 0.0, "x0": 0.1, "y0": 0.1, "x1": 0.3, "y1": 0.3}
    edge = [box] + [{**box, "t": 0.1, "x0": 1.0, "x1": 1.0}]
    rows, _ = score(tmp_path, "tracking", "default", [{"completion": "x", "boxes": edge}])
    assert "box_inverted" in rows[0]["error"]                     # ingestion rejects a zero-width box
    qa = {"completion": f"{THINK}<answer>A</answer><glue>[(0.00, 2.00)]</glue>", "choices": ["a", "b"],
          "answer_index": 0, "spans": [{"start": -0.1, "end": 2.0}, {"start": 5.0, "end": 9.1}], "duration": 9.0}
    rows, _ = score(tmp_path, "grounded_qa", "default", [qa])
    assert rows[0]["repairs"] == ["span_start_clipped", "span_end_clipped"]
    assert rows[0]["iou"] == pytest.approx(2.0 / 6.0) and rows[0]["total"] == pytest.approx(2 + 2.0 / 6.0)


def test_default_admits_the_truth_ingestion_writes(real_data, real_ingested):
    """On Charades-STA test the default profile's truth is the ingested row's, line by line, and the lines
    it repairs are those ingestion repaired: one policy, applied in both places."""
    import pyarrow.parquet as pq

    from rewards import get_profile
    from schemas import get_task
    from schemas.repairs import RepairPolicy

    durations = json.loads((real_data / "charades_sta" / "charades.json").read_text())
    ingested = {r["source_key"]: r for r in pq.read_table(real_ingested("charades_sta_test") / "samples").to_pylist()}
    profile, task = get_profile("default"), get_task("temporal_grounding")
    lines = [x for x in (real_data / "charades_sta" / "charades_sta_test.txt").read_text().splitlines() if x.strip()]
    assert len(ingested) == len(lines) == 3720
    repaired = 0
    for n, line in enumerate(lines, 1):
        vid, s, e = line.split("##")[0].split()
        truth = {"span": {"start": float(s), "end": float(e)}, "duration": durations[vid]["duration"]}
        got = profile.admit(task, truth, RepairPolicy())
        row = ingested[f"line {n}"]
        assert got.truth["span"] == row["span"] and list(got.repairs) == row["repairs"]
        repaired += bool(got.repairs)
    assert repaired == 562
