"""Each mix option drops what it says, counted by reason, on rows made by hand: `cap`, every filter at
its bounds (inclusive), a source's own filter over the shared one, and the leakage guard against every
evaluation source of a recipe (the paper recipe has two), not the first only."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines import synthetic_ingested as synthetic
from pipelines.mix import LeakageError, parse_recipe
from pipelines.mix.select import select


def _rows(videos, spans, dataset, split="train", queries=None, durations=None):
    """One temporal-grounding row per span, on the videos in turn; ids name the row's position."""
    out = []
    for i, (start, end) in enumerate(spans):
        v = videos[i % len(videos)]
        out.append({"sample_id": f"{dataset}-{i:03d}", "task": "temporal_grounding", "dataset": dataset, "split": split,
                    "video_key": v["video_key"], "query": (queries or {}).get(i, f"a person opens door {i}"),
                    "duration": (durations or {}).get(i, 40.0), "span": {"start": start, "end": end},
                    "source_file": "x.txt", "source_key": f"line {i}", "repairs": []})
    return out


def _write(root, name, videos, samples):
    return synthetic.write_ingested(str(root / name), samples, videos)


def _recipe(root, sources, **top):
    return parse_recipe({"seed": 3, "sources": sources, **top}, str(root))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("mix_options")
    train_videos = synthetic.make_videos(6, n_frames=2, prefix="tr")
    # 12 rows: durations and query lengths set per row for the filters below
    durations = {0: 9.5, 1: 10.0, 2: 20.0, 3: 20.5}
    queries = {4: "door.", 5: "opens the door", 6: "a person opens the door"}   # 1, 3 and 5 words
    spans = [(0.0, 4.0)] * 7 + [(0.0, 1.0), (0.0, 4.0), (0.0, 20.0), (0.0, 20.5), (10.0, 30.0)]   # fractions of 40 s
    _write(r, "train", train_videos, _rows(train_videos, spans, "train", queries=queries, durations=durations))
    # two evaluation folders, each on videos of its own: one holds tr000001, the other tr000004
    e1 = synthetic.make_videos(2, n_frames=2, prefix="ea")
    e1[1] = {**train_videos[1]}
    _write(r, "eval_a", e1, _rows(e1, [(1.0, 3.0)] * 2, "eval_a", split="test"))
    e2 = synthetic.make_videos(2, n_frames=2, prefix="eb")
    e2[0] = {**train_videos[4]}
    _write(r, "eval_b", e2, _rows(e2, [(1.0, 3.0)] * 2, "eval_b", split="test"))
    return r


def _ids(sel):
    return sorted(sel.rows["sample_id"].to_list())


def test_all_rows_without_options(root):
    sel = select(_recipe(root, [{"name": "t", "path": "train"}]))
    assert _ids(sel) == [f"train-{i:03d}" for i in range(12)] and sel.stats[0].dropped == {}


def test_cap_keeps_that_many_distinct_rows(root):
    sel = select(_recipe(root, [{"name": "t", "path": "train", "cap": 5}]))
    (s,) = sel.stats
    assert (s.available, s.eligible, s.selected, s.dropped) == (12, 5, 5, {"cap": 7})
    assert len(set(_ids(sel))) == 5 and set(_ids(sel)) <= {f"train-{i:03d}" for i in range(12)}
    # a cap at or above the rows drops nothing
    for cap in (12, 13):
        sel = select(_recipe(root, [{"name": "t", "path": "train", "cap": cap}]))
        assert sel.stats[0].eligible == 12 and sel.stats[0].dropped == {}


def test_the_duration_filter_keeps_its_bounds(root):
    sel = select(_recipe(root, [{"name": "t", "path": "train"}], filters={"duration": {"min": 10, "max": 20}}))
    # 9.5 s and 20.5 s go; 10 s and 20 s (the bounds) stay, and the 40 s rows go
    assert _ids(sel) == ["train-001", "train-002"]
    assert sel.stats[0].dropped == {"filter_duration": 10}
    sel = select(_recipe(root, [{"name": "t", "path": "train"}], filters={"duration": {"min": 20}}))
    assert "train-001" not in _ids(sel) and len(_ids(sel)) == 10


def test_the_query_words_filter_counts_words(root):
    sel = select(_recipe(root, [{"name": "t", "path": "train"}], filters={"query_words": {"min": 3, "max": 4}}))
    # "door." (1 word) and the 5-word query go; 3 words stay; the others have 5 words ("a person opens door N")
    assert _ids(sel) == ["train-005"] and sel.stats[0].dropped == {"filter_query_words": 11}


def test_the_span_fraction_filter_is_length_over_duration(root):
    # 40 s rows: 1 s = 0.025, 4 s = 0.1, 20 s = 0.5, 20.5 s = 0.5125; the filtered durations change theirs
    recipe = _recipe(root, [{"name": "t", "path": "train", "filters": {"span_fraction": {"min": 0.1, "max": 0.5}}}],
                     filters={"span_fraction": {"max": 0.01}})        # the source's own filter wins
    kept = _ids(select(recipe))
    # rows 0-3 have 4 s spans on 9.5, 10, 20, 20.5 s videos: 0.42, 0.4, 0.2, 0.195; rows 4-6 and 8: 4 of 40 s
    assert kept == ["train-000", "train-001", "train-002", "train-003", "train-004", "train-005", "train-006",
                    "train-008", "train-009", "train-011"]
    only_short = select(_recipe(root, [{"name": "t", "path": "train"}], filters={"span_fraction": {"max": 0.05}}))
    assert _ids(only_short) == ["train-007"] and only_short.stats[0].dropped == {"filter_span_fraction": 11}


def test_leakage_is_checked_against_every_evaluation_source(root):
    evaluation = [{"name": "a", "path": "eval_a"}, {"name": "b", "path": "eval_b"}]
    train = [{"name": "t", "path": "train"}]
    frame = pl.read_parquet(f"{root}/train/samples/*.parquet")
    on = {k: frame.filter(pl.col("video_key") == k)["sample_id"].to_list() for k in ("tr000001", "tr000004")}
    assert len(on["tr000001"]) == len(on["tr000004"]) == 2
    with pytest.raises(LeakageError, match=r"^4 training rows on 2 evaluation videos \(t vs a; t vs b\): tr000001, tr000004\."):
        select(_recipe(root, train, evaluation=evaluation))
    # the second source alone is enough to find its video
    with pytest.raises(LeakageError, match=r"^2 training rows on 1 evaluation videos \(t vs b\): tr000004\."):
        select(_recipe(root, train, evaluation=evaluation[1:]))
    dropped = select(_recipe(root, train, evaluation=evaluation, leakage="drop"))
    assert dropped.stats[0].dropped == {"leakage": 4}
    assert _ids(dropped) == sorted(set(frame["sample_id"].to_list()) - set(on["tr000001"]) - set(on["tr000004"]))
    allowed = select(_recipe(root, train, evaluation=evaluation, leakage="allow"))
    assert allowed.leaked_videos == ["tr000001", "tr000004"] and len(_ids(allowed)) == 12
