"""`vrft rewards audit`: degenerate policies written through each task's answer contract and scored by a
profile, beside the oracle. On the real annotations: the well-formed ones parse, the default profile pays
none of them more than the oracle and pays a wrong answer no more than the format weight, and the README's
tables are the command's output."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

import pytest

from rewards import score_batch
from rewards.audit import answers
from tests.conftest import ROOT

REAL = ("charades_sta_test", "nextgqa_val", "got_val")


def vrft(*args):
    return subprocess.run([sys.executable, "-m", "vrft", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def audits(real_ingested, tmp_path_factory):
    """profile -> the audit's JSON on the three real folders (through --out; --json printed the same)."""
    out = {}
    for profile in ("default", "videochat-r1"):
        path = tmp_path_factory.mktemp("audit") / "audit.json"
        res = vrft("rewards", "audit", *(a for n in REAL for a in ("--data", str(real_ingested(n)))),
                   "--profile", profile, "--json", "--out", str(path))
        assert res.returncode == 0, res.stderr
        out[profile] = json.loads(path.read_text())
        assert json.loads(res.stdout) == out[profile]
    return out


def _truths(folder):
    import pyarrow.parquet as pq

    from schemas import ground_truth

    return [ground_truth(r) for r in pq.read_table(folder / "samples").to_pylist()]


def _whole_video_iou(t):
    """IoU of the whole video as written (two decimals, then clipped to the video) with the truth span."""
    s, e, d = t["span"]["start"], t["span"]["end"], t["duration"]
    end = min(float(f"{d:.2f}"), d)
    return max(0.0, min(e, end) - s) / (max(e, end) - min(s, 0.0))


def test_degenerate_answers_parse_and_never_beat_the_oracle(audits):
    for profile, report in audits.items():
        assert set(report["tasks"]) == {"temporal_grounding", "grounded_qa", "tracking"}
        for task, entry in report["tasks"].items():
            policies = entry["policies"]
            assert set(policies) >= {"oracle", "random", "empty-think", "answer-in-think", "format-only"}
            for name, row in policies.items():
                if row["well_formed"]:
                    assert row["unparsed"] == 0.0, (profile, task, name)
            assert policies["oracle"]["total"] == pytest.approx(sum(entry["weights"].values()), abs=1e-3)
            if profile == "default":
                oracle = policies["oracle"]["total"]
                assert all(row["total"] <= oracle for row in policies.values()), (task, policies)
                for name in ("answer-in-think", "format-only"):  # not the contract: nothing at all
                    assert policies[name]["unparsed"] == 100.0 and policies[name]["total"] == 0.0, (task, name)
    qa = audits["default"]["tasks"]["grounded_qa"]["policies"]
    assert {"constant-letter", "most-frequent-letter", "whole-video"} <= set(qa)
    assert "copy-first-box" in audits["default"]["tasks"]["tracking"]["policies"]


def test_audit_values_from_the_truths(audits, real_ingested):
    """A few of the audit's means, computed here from the ingested truths."""
    spans = _truths(real_ingested("charades_sta_test"))
    ious = [_whole_video_iou(t) for t in spans]
    tg = {p: audits[p]["tasks"]["temporal_grounding"]["policies"] for p in audits}
    assert tg["default"]["whole-video"]["iou"] == pytest.approx(sum(ious) / len(ious), abs=1e-9)
    # the reference reads the answer inside the thinking, and pays the format of empty tags
    assert tg["videochat-r1"]["answer-in-think"]["iou"] == pytest.approx(tg["videochat-r1"]["whole-video"]["iou"])
    assert tg["videochat-r1"]["format-only"]["total"] == 1.0 and tg["default"]["format-only"]["total"] == 0.0

    qa = _truths(real_ingested("nextgqa_val"))
    shares = [sum(t["answer_index"] == k for t in qa) / len(qa) for k in range(5)]
    got = audits["default"]["tasks"]["grounded_qa"]["policies"]
    assert got["constant-letter"]["accuracy"] == pytest.approx(shares[0])
    assert got["most-frequent-letter"]["accuracy"] == pytest.approx(max(shares))

    track = {p: audits[p]["tasks"]["tracking"]["policies"]["copy-first-box"]["iou"] for p in audits}
    assert round(track["videochat-r1"], 3) == 0.424 and round(track["default"], 3) == 0.341  # the floors


def _disjoint_span(intervals, d):
    """A two-decimal interval inside [0, d] touching none of `intervals` (None when there is no room)."""
    edges = sorted((s, e) for s, e in intervals)
    cursor = 0.0
    for s, e in edges + [(d, d)]:
        lo, hi = round(cursor + 0.02, 2), round(s - 0.02, 2)
        if hi - lo > 0.05 and hi <= d:
            return lo, hi
        cursor = max(cursor, e)
    return None


def _disjoint_box(b):
    """A box inside the frame that does not overlap `b` (None when `b` leaves no room)."""
    x0, y0, x1, y1 = b["x0"], b["y0"], b["x1"], b["y1"]
    for box in ((x1 + 0.01, 0.0, 1.0, 1.0), (0.0, 0.0, x0 - 0.01, 1.0), (0.0, y1 + 0.01, 1.0, 1.0), (0.0, 0.0, 1.0, y0 - 0.01)):
        if box[2] - box[0] > 0.02 and box[3] - box[1] > 0.02:
            return [round(v, 3) for v in box]
    return None


def test_default_pays_a_wrong_answer_the_format_weight_and_no_more(real_data, real_ingested):
    """Well-formed answers that are wrong by construction (another letter, evidence and spans outside the
    truth, boxes off the object in every frame after the given one, which is copied): the default pays
    each exactly its format weight; the reference pays the copied given box."""
    from rewards import write_answer

    cases: dict[str, tuple[list, list]] = {}
    for t in _truths(real_ingested("charades_sta_test")):
        span = _disjoint_span([(t["span"]["start"], t["span"]["end"])], t["duration"])
        if span:
            cases.setdefault("temporal_grounding", ([], []))[0].append({"answer": span})
            cases["temporal_grounding"][1].append(t)
    for t in _truths(real_ingested("nextgqa_val")):
        glue = _disjoint_span([(s["start"], s["end"]) for s in t["spans"]], t["duration"])
        if glue:
            cases.setdefault("grounded_qa", ([], []))[0].append({"answer": (t["answer_index"] + 1) % 5, "glue": [glue]})
            cases["grounded_qa"][1].append(t)
    for t in _truths(real_ingested("got_val")):
        boxes = [_disjoint_box(b) for b in t["boxes"][1:]]
        if all(boxes):
            first = [t["boxes"][0][k] for k in ("x0", "y0", "x1", "y1")]
            cases.setdefault("tracking", ([], []))[0].append({"answer": [first] + boxes})
            cases["tracking"][1].append(t)
    with (real_data / "nextqa" / "val.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            t = {"choices": [r[f"a{k}"] for k in range(5)], "answer_index": int(r["answer"]), "think": True}
            cases.setdefault("video_qa", ([], []))[0].append({"answer": (t["answer_index"] + 3) % 5})
            cases["video_qa"][1].append(t)
    assert {k: len(v[1]) > 100 for k, v in cases.items()} == dict.fromkeys(
        ("temporal_grounding", "grounded_qa", "tracking", "video_qa"), True)
    for task, (preds, truths) in cases.items():
        texts = [write_answer(task, p, think=True) for p in preds]
        got = score_batch(task, texts, truths, "default")
        assert set(got.components["format"]) == {1.0}, task
        assert set(got.total) == {1.0}, task  # the format weight, and nothing for a wrong answer
    ref = score_batch("tracking", [write_answer("tracking", p, think=True) for p in cases["tracking"][0]],
                      cases["tracking"][1], "videochat-r1")
    assert all(v == pytest.approx(1 + 1 / 8) for v in ref.total)  # the given box, scored by the reference


def test_an_answer_inside_the_thinking_earns_nothing_by_default():
    truth = {"choices": list("abcde"), "answer_index": 2, "duration": 30.0, "spans": [{"start": 3.0, "end": 9.0}]}
    inside = "<think>so <answer>C</answer><glue>[(3.00, 9.00)]</glue></think>"
    got = score_batch("grounded_qa", [inside, inside + "<answer>C</answer>"], [truth] * 2, "default")
    assert got.total == [0.0, 0.0] and got.components["iou"] == [0.0, 0.0]
    assert score_batch("grounded_qa", [inside], [truth], "videochat-r1").components["iou"] == [1.0]


def test_oracle_of_a_published_minus_zero_start_scores_full_marks():
    """NExT-GQA test publishes starts of -0.0; the oracle writes 0.00, which the reference's glue reads."""
    truth = {"choices": list("abcde"), "answer_index": 1, "duration": 21.0, "spans": [{"start": -0.0, "end": 12.8}]}
    (text,) = answers("grounded_qa", [truth])["oracle"]
    assert "(0.00, 12.80)" in text
    assert score_batch("grounded_qa", [text], [truth], "videochat-r1").total == [3.0]


def test_audit_answers_are_seeded(real_ingested):
    truths = _truths(real_ingested("charades_sta_test"))[:50]
    assert answers("temporal_grounding", truths, 3) == answers("temporal_grounding", truths, 3)
    assert answers("temporal_grounding", truths, 3)["random"] != answers("temporal_grounding", truths, 4)["random"]


def test_audit_reads_training_shards(tmp_path):
    import pyarrow.parquet as pq

    from train.synthetic_training_shards import write_toy_shards

    files = write_toy_shards(tmp_path / "shards", rows=10, files=2)
    truths = [json.loads(r["ground_truth"]) for f in files for r in pq.read_table(f).column("reward_model").to_pylist()]
    res = vrft("rewards", "audit", "--data", str(tmp_path / "shards"), "--json")
    (entry,) = json.loads(res.stdout)["tasks"].values()
    assert entry["samples"] == 10 and entry["policies"]["oracle"]["total"] == pytest.approx(2.0, abs=1e-3)
    ious = [_whole_video_iou(t) for t in truths]
    assert entry["policies"]["whole-video"]["iou"] == pytest.approx(sum(ious) / len(ious), abs=1e-9)


def test_audit_refuses_what_is_not_data(tmp_path):
    res = vrft("rewards", "audit", "--data", str(tmp_path / "nope"))
    assert res.returncode == 2 and "no such data" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    res = vrft("rewards", "audit", "--data", str(tmp_path))
    assert res.returncode == 2 and "neither an ingestion folder nor training shards" in res.stderr
    assert "Traceback" not in res.stderr


def test_audit_out_inside_the_data_is_refused(tmp_path):
    from train.synthetic_training_shards import write_toy_shards

    write_toy_shards(tmp_path / "shards", rows=4, files=1)
    before = sorted(p.name for p in (tmp_path / "shards").iterdir())
    res = vrft("rewards", "audit", "--data", str(tmp_path / "shards"), "--out", str(tmp_path / "shards" / "audit.json"))
    assert res.returncode == 2 and "never writes where its inputs are" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == before


def test_audit_warns_when_a_policy_beats_the_oracle(tmp_path, monkeypatch, capsys):
    """The audit itself raises no flag on these data (no profile pays a lazy policy more than the truth), so
    the warning is checked on a made-up result: it names the task, the policy and both totals."""
    import argparse

    from train.synthetic_training_shards import write_toy_shards
    from vrft.commands import rewards as command

    write_toy_shards(tmp_path / "shards", rows=4, files=1)
    made = {"oracle": {"format": 1.0, "iou": 0.5, "total": 1.5, "unparsed": 0.0},
            "whole-video": {"format": 1.0, "iou": 0.75, "total": 1.75, "unparsed": 0.0},
            "random": {"format": 1.0, "iou": 0.5, "total": 1.5, "unparsed": 0.0}}
    monkeypatch.setattr(command, "audit", lambda task, truths, profile, seed: made)
    args = argparse.Namespace(data=[tmp_path / "shards"], profile="default", seed=0, json=True, out=None)
    assert command.run_audit(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: temporal_grounding: whole-video earns more than the oracle under default (1.7500 > 1.5000)"]


def test_readme_audit_tables_are_the_commands_output(real_ingested):
    """The README's audit blocks: each is the command (folders as the README names them) and its output."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(vrft rewards audit [^\n]*)\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) == 2
    folders = {"out/charades_test": "charades_sta_test", "out/nextgqa_test": "nextgqa_test", "out/got_val": "got_val"}
    for command, shown in blocks:
        args = command.split()[1:]
        args = [str(real_ingested(folders[a])) if a in folders else a for a in args]
        res = vrft(*args)
        assert res.returncode == 0, res.stderr
        assert res.stdout == shown, command
