"""What `select` reports and draws, on rows made by hand: the task and split a source asks for, frames
required or optional, duplicates across sources, weights and temperature turned into rows, repeats, the
per-source stats a mixture's manifest shows, and the seeded streams that make a mixture reproducible."""

from __future__ import annotations

import re
import shutil

import numpy as np
import polars as pl
import pytest

from pipelines import synthetic_ingested as synthetic
from pipelines.ingested import NotIngested
from pipelines.mix import parse_recipe
from pipelines.mix.recipe import RecipeError
from pipelines.mix.select import SourceStats, realised, select

TG = "temporal_grounding"


def _rows(videos, n, name, split="train", task=TG, start=0):
    """n grounding rows on the videos in turn; ids and queries name the row (no two rows are duplicates)."""
    return [{"sample_id": f"{name}-{i:03d}", "task": task, "dataset": name, "split": split,
             "video_key": videos[i % len(videos)]["video_key"], "query": f"a person opens door {start + i}",
             "duration": 40.0, "span": {"start": 0.0, "end": 4.0}, "source_file": "x.txt", "source_key": f"line {i}",
             "repairs": []} for i in range(n)]


def _unframed(video):
    return {**video, "frames": [], "timestamps": [], "frame_crc32": []}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("mix_selection")
    big, small = synthetic.make_videos(4, n_frames=2, prefix="bg"), synthetic.make_videos(2, n_frames=2, prefix="sm")
    synthetic.write_ingested(str(r / "big"), _rows(big, 16, "big"), big)
    synthetic.write_ingested(str(r / "small"), _rows(small, 4, "small", start=100), small)
    # rows 0-3 in split train, 4-7 in split val; tasks: grounding on even rows, tracking-tagged on odd ones
    mixed = _rows(big, 8, "mixed", start=200)
    for i, row in enumerate(mixed):
        row["split"], row["task"] = ("train" if i < 4 else "val"), (TG if i % 2 == 0 else "tracking")
    synthetic.write_ingested(str(r / "mixed"), mixed, big)
    # a labels-only folder (`vrft ingest --no-frames`) and one whose second video has no frames
    synthetic.write_ingested(str(r / "labels_only"), _rows(small, 3, "labels_only", start=300), None, frames=False)
    half = [small[0], _unframed(small[1])]
    synthetic.write_ingested(str(r / "half_framed"), _rows(half, 5, "half_framed", start=400), half)
    # one source spread over two folders (a glob)
    synthetic.write_ingested(str(r / "parts" / "p1"), _rows(small, 2, "p1", start=500), small)
    synthetic.write_ingested(str(r / "parts" / "p2"), _rows(small, 3, "p2", start=600), small)
    # copies of big's rows 0-2: 0 and 1 with the query in other case and spacing, 2 with another span
    dup = _rows(big, 3, "dup")
    dup[0]["query"] = "  A Person opens   DOOR 0 "
    dup[1]["query"] = "a person\topens door 1"
    dup[2]["span"] = {"start": 1.0, "end": 4.0}
    synthetic.write_ingested(str(r / "dup"), dup, big)
    return r


def _recipe(root, sources, **top):
    return parse_recipe({"seed": 3, "sources": sources, **top}, str(root))


def _ids(sel, source=None):
    rows = sel.rows if source is None else sel.rows.filter(pl.col("_source") == source)
    return sorted(rows["sample_id"].to_list())


def test_a_source_takes_the_tasks_and_splits_it_names(root):
    sel = select(_recipe(root, [{"name": "m", "path": "mixed", "task": TG, "split": "val"},
                                {"name": "tr", "path": "mixed", "task": "tracking", "split": "train"},
                                {"name": "none", "path": "small", "task": "tracking"}]))
    assert _ids(sel, 0) == ["mixed-004", "mixed-006"] and _ids(sel, 1) == ["mixed-001", "mixed-003"]
    m, tr, none = sel.stats
    assert [s.name for s in sel.stats] == ["m", "tr", "none"]
    assert (m.available, m.selected, m.by_task) == (2, 2, {TG: 2})
    assert (tr.available, tr.by_task) == (2, {"tracking": 2})
    # a source none of whose rows are asked for gives nothing, and counts nothing
    assert (none.available, none.selected, none.by_task, none.no_frames) == (0, 0, {}, 0)


def test_one_source_over_several_folders_takes_them_all(root):
    sel = select(_recipe(root, [{"name": "p", "path": "parts/*"}]))
    assert _ids(sel) == ["p1-000", "p1-001", "p2-000", "p2-001", "p2-002"] and sel.stats[0].available == 5


def test_a_folder_without_frames_is_refused_unless_frames_are_optional(root):
    with pytest.raises(RecipeError, match=r"^source l: .*labels_only has no frames \(ingested with --no-frames\?\); "
                                          r"add `frames: optional` to the source to use its rows without frames$"):
        select(_recipe(root, [{"name": "l", "path": "labels_only"}]))
    sel = select(_recipe(root, [{"name": "l", "path": "labels_only", "frames": "optional"}]))
    (s,) = sel.stats
    assert len(_ids(sel)) == 3 and (s.dropped, s.no_frames) == ({}, 3)
    assert sel.rows["_framed"].to_list() == [False] * 3


def test_rows_of_a_video_without_frames_are_dropped_or_kept_as_asked(root):
    # rows 1 and 3 are on the second video, the one without frames
    required = select(_recipe(root, [{"name": "h", "path": "half_framed"}]))
    (s,) = required.stats
    assert _ids(required) == ["half_framed-000", "half_framed-002", "half_framed-004"]
    assert (s.available, s.dropped, s.no_frames) == (5, {"no_frames": 2}, 0)
    optional = select(_recipe(root, [{"name": "h", "path": "half_framed", "frames": "optional"}]))
    (s,) = optional.stats
    assert len(_ids(optional)) == 5 and (s.dropped, s.no_frames) == ({}, 2)


def test_a_duplicate_in_a_later_source_is_dropped_whatever_its_case_and_spaces(root):
    sel = select(_recipe(root, [{"name": "big", "path": "big"}, {"name": "dup", "path": "dup"}]))
    assert _ids(sel, 1) == ["dup-002"]                       # another span: another sample
    assert sel.stats[0].dropped == {} and sel.stats[1].dropped == {"duplicate": 2}
    kept = select(_recipe(root, [{"name": "big", "path": "big"}, {"name": "dup", "path": "dup"}], dedup=False))
    assert len(_ids(kept, 1)) == 3 and kept.stats[1].dropped == {}


def test_weights_set_the_rows_of_each_source(root):
    two = [{"name": "big", "path": "big", "weight": 1}, {"name": "small", "path": "small", "weight": 1}]
    # half and half: 16 and 4 rows; without a total, the most that repeats no row is 4 + 4
    for total, expected, repeated in ((8, [4, 4], [0, 0]), (None, [4, 4], [0, 0]), (16, [8, 8], [0, 4])):
        sel = select(_recipe(root, two, **({"total": total} if total else {})))
        assert [s.selected for s in sel.stats] == expected
        assert [s.requested_share for s in sel.stats] == [0.5, 0.5]
        assert [s.repeated for s in sel.stats] == repeated
        assert realised(sel.stats) == {"big": 0.5, "small": 0.5}
    # 8 of 4 rows: every row twice
    assert sel.rows.filter(pl.col("_source") == 1)["sample_id"].value_counts()["count"].to_list() == [2, 2, 2, 2]


def test_a_temperature_evens_the_shares_out(root):
    two = [{"name": "big", "path": "big"}, {"name": "small", "path": "small"}]
    # T = 2: 16 ** 0.5 = 4 and 4 ** 0.5 = 2, shares 2/3 and 1/3; 9 rows give 6 and 3
    sel = select(_recipe(root, two, temperature=2.0, total=9))
    assert [s.selected for s in sel.stats] == [6, 3]
    assert sel.stats[0].requested_share == pytest.approx(2 / 3) and sel.stats[1].requested_share == pytest.approx(1 / 3)
    # without a total: the most that repeats no row is 12 (small's 4 rows are its third)
    assert [s.selected for s in select(_recipe(root, two, temperature=2.0)).stats] == [8, 4]
    # plain concatenation: every row once; with a total, shares by size (0.8 and 0.2)
    assert [s.selected for s in select(_recipe(root, two)).stats] == [16, 4]
    assert [s.selected for s in select(_recipe(root, two, total=10)).stats] == [8, 2]


def test_a_cap_keeps_distinct_rows(root):
    sel = select(_recipe(root, [{"name": "big", "path": "big", "cap": 15}]))
    assert len(set(_ids(sel))) == 15 and sel.stats[0].dropped == {"cap": 1}


def test_the_seeded_streams_fix_every_draw_and_position(root):
    """The stream layout a mixture is reproduced from: SeedSequence(seed) spawns one stream per source and
    one for the shuffle; a source's first child draws its cap, the second its rows."""
    two = [{"name": "big", "path": "big", "cap": 12}, {"name": "small", "path": "small"}]
    sel = select(_recipe(root, two, total=8))          # shares by size of 12 and 4: 6 and 2 rows
    streams = np.random.SeedSequence(3).spawn(3)
    (cap_big, draw_big), (_, draw_small) = streams[0].spawn(2), streams[1].spawn(2)
    capped = np.sort(np.random.default_rng(cap_big).choice(16, 12, replace=False))
    big = capped[np.sort(np.random.default_rng(draw_big).choice(12, 6, replace=False))]
    small = np.sort(np.random.default_rng(draw_small).choice(4, 2, replace=False))
    ids = [f"big-{i:03d}" for i in big] + [f"small-{i:03d}" for i in small]
    positions = np.random.default_rng(streams[2]).permutation(8).tolist()
    assert sel.rows["sample_id"].to_list() == ids and sel.rows["_pos"].to_list() == positions
    assert select(_recipe(root, two, total=8)).rows.equals(sel.rows)


def test_realised_shares_are_the_rows_written_over_all():
    stats = [SourceStats("a", selected=3), SourceStats("b", selected=1)]
    assert realised(stats) == {"a": 0.75, "b": 0.25}
    assert realised([SourceStats("a"), SourceStats("b")]) == {"a": 0.0, "b": 0.0}


def test_unreadable_samples_name_the_folder_and_the_first_line_of_the_error(root, tmp_path):
    # a second part whose columns are not the first's: each file opens, the table does not read
    broken = tmp_path / "broken"
    shutil.copytree(root / "small", broken)
    (part,) = (broken / "samples").glob("*.parquet")
    pl.DataFrame({"sample_id": [1], "task": [2]}).write_parquet(part.with_name("part-00001-of-00001.parquet"))
    with pytest.raises(pl.exceptions.PolarsError) as raised:
        pl.scan_parquet(sorted((broken / "samples").glob("*.parquet"))).collect()
    first = str(raised.value).splitlines()[0]
    with pytest.raises(NotIngested) as err:
        select(_recipe(tmp_path, [{"name": "b", "path": "broken"}]))
    assert str(err.value) == f"{broken}: its samples/ cannot be read ({first}); ingest it again"
    assert re.search(r"\(.+\)", str(err.value))


def test_the_span_fraction_of_a_span_list_is_its_total_length(tmp_path):
    # grounded QA evidence on 40 s videos: (10, 14) + (20, 22) is 6 s = 0.15; (0, 20) + (25, 35) is 30 s = 0.75
    videos = synthetic.make_videos(1, n_frames=2, prefix="qa")
    rows = []
    for i, spans in enumerate(([(10.0, 14.0), (20.0, 22.0)], [(0.0, 20.0), (25.0, 35.0)])):
        row = _rows(videos, 1, f"qa{i}", task="grounded_qa", start=i)[0]
        del row["span"]
        rows.append({**row, "choices": ["yes", "no"], "answer_index": 0,
                     "spans": [{"start": s, "end": e} for s, e in spans]})
    synthetic.write_ingested(str(tmp_path / "qa"), rows, videos)
    sel = select(_recipe(tmp_path, [{"name": "qa", "path": "qa"}], filters={"span_fraction": {"max": 0.2}}))
    assert _ids(sel) == ["qa0-000"] and sel.stats[0].dropped == {"filter_span_fraction": 1}
