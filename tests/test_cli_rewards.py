"""`vrft rewards score` end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "vrft", *args], cwd=ROOT, capture_output=True, text=True, input=stdin)


def test_scores_every_line_and_reports_malformed_ones(tmp_path):
    lines = [
        {"completion": "<think>a</think><answer>2.00 to 10.67</answer>", "span": {"start": 1.8, "end": 9.4}, "duration": 30.0},
        "this is not json",
        {"completion": "<answer>3 to 8</answer>", "span": {"start": 9.0, "end": 2.0}, "duration": 30.0},
        {"span": {"start": 1.0, "end": 2.0}, "duration": 30.0},
        {"completion": "<think>a</think><answer>1 to 2</answer><answer>2.0 to 9.0</answer>", "span": {"start": 1.8, "end": 9.4}, "duration": 30.0},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "out.jsonl"
    res = run("rewards", "score", "--task", "temporal_grounding", "--profile", "videochat-r1", "--input", str(src), "--output", str(out))
    assert res.returncode == 1
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert abs(rows[0]["iou"] - 0.8343) < 1e-4 and rows[0]["format"] == 1.0
    assert abs(rows[4]["total"] - 1.9211) < 1e-4
    assert "error" in rows[1] and "completion" in rows[3]["error"]
    # the reference scores an inverted truth span (IoU 0 here): scored, with the schema's objection
    assert rows[2]["total"] == 0.0 and len(rows[2]["warnings"]) == 1 and "span_inverted" in rows[2]["warnings"][0]
    assert not any("warnings" in r for r in (rows[0], rows[4]))
    assert "in.jsonl:2:" in res.stderr and "in.jsonl:4:" in res.stderr and "in.jsonl:3:" not in res.stderr
    assert "3 scored, 1 with warnings, 2 malformed" in res.stderr
    # ingestion rejects an inverted span, so the default profile refuses it
    res = run("rewards", "score", "--task", "temporal_grounding", "--input", str(src), "--output", str(out))
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert "span_inverted" in rows[2]["error"] and "in.jsonl:3:" in res.stderr and "2 scored, 3 malformed" in res.stderr


def test_stdin_and_unknown_task():
    line = json.dumps({"completion": "<think>t</think><answer>B</answer>", "choices": ["x", "y"], "answer_index": 1})
    res = run("rewards", "score", "--task", "video_qa", "--input", "-", stdin=line + "\n")
    assert res.returncode == 0
    assert json.loads(res.stdout) == {"line": 1, "format": 1.0, "accuracy": 1.0, "total": 2.0}
    bad = run("rewards", "score", "--task", "nope", "--input", "-", stdin="")
    assert bad.returncode == 2 and "unknown task 'nope'" in bad.stderr and "Traceback" not in bad.stderr



def test_output_over_the_input_is_refused(tmp_path):
    """The input is never written over: --output naming the input file (by another path too) is refused."""
    src = tmp_path / "in.jsonl"
    text = json.dumps({"completion": "<think>a</think><answer>2 to 9</answer>", "span": {"start": 1.8, "end": 9.4},
                       "duration": 30.0}) + "\n"
    src.write_text(text)
    (tmp_path / "sub").mkdir()
    for output in (src, tmp_path / "sub" / ".." / "in.jsonl"):
        res = run("rewards", "score", "--task", "temporal_grounding", "--input", str(src), "--output", str(output))
        assert res.returncode == 2 and "is the input file" in res.stderr and "Traceback" not in res.stderr
        assert src.read_text() == text
