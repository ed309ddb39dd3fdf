"""Every table vrft writes loads with HF `datasets`: a table that got no rows is not written at all
(HF datasets refuses a table whose files hold no row), and vrft's own readers take it as empty."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from pipelines import layout
from pipelines.ingest import IngestConfig, run_ingest
from pipelines.ingested import Ingested
from pipelines.sources.base import SourceOptions


def _record(i: int) -> dict:
    return {"task": "video_qa", "video_key": f"v{i}", "query": "what is shown?", "choices": ["a", "b"],
            "answer_index": i % 2, "video": f"v{i}.mp4"}


def _every_part_has_rows_and_loads(out) -> dict[str, int]:
    import datasets

    rows = {}
    for table in layout.TABLES:
        files = layout.parts(str(out), table)
        assert all(pq.ParquetFile(f).metadata.num_rows > 0 for f in files), table
        if files:
            rows[table] = datasets.load_dataset("parquet", data_files=files, split="train",
                                                cache_dir=str(out / ".hf")).num_rows
    return rows


def test_a_labels_only_run_writes_no_empty_videos_or_rejects(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(4)))
    out = tmp_path / "out"
    m = run_ingest(IngestConfig("jsonl", SourceOptions((str(src),)), str(out), frames=False)).manifest
    assert m["counts"] == {"input": 4, "written": 4, "repaired": 0, "rejected": 0}
    assert _every_part_has_rows_and_loads(out) == {"samples": 4}
    assert not (out / "videos").exists() and not (out / "rejects").exists()
    assert m["files"] == {"samples": ["samples/part-00000-of-00001.parquet"], "videos": [], "rejects": []}
    ds = Ingested.open(str(out))                  # vrft's readers: the missing tables are empty
    assert ds.framed_keys() == set() and len(ds.column("rejects", "reason")) == 0
    assert ds.scan("videos").collect().columns == [f.name for f in layout.TABLE_SCHEMAS["videos"]()]


def test_a_run_whose_videos_all_fail_keeps_its_batch_records_and_no_empty_part(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(3)))
    (tmp_path / "videos").mkdir()                  # none of the three files is there
    out = tmp_path / "out"
    cfg = IngestConfig("jsonl", SourceOptions((str(src),), videos=str(tmp_path / "videos")), str(out))
    m = run_ingest(cfg, ["--direct_num_workers=1"]).manifest
    assert m["counts"]["written"] == 0 and m["rejected_by_reason"] == {"video_missing": 3}
    assert m["videos"] == {"written": 0, "failed": 3, "failed_by_reason": {"video_missing": 3}}
    assert _every_part_has_rows_and_loads(out) == {"rejects": 3}
    assert layout.parts(str(out), "videos") == [] and layout.batch_records(str(out), "videos")
    assert not (out / "samples").exists()
    ds = Ingested.open(str(out))                  # a finished run (manifest) with no samples is still a folder
    assert ds.scan("samples").collect().height == 0
    from pipelines.mix import RecipeError, parse_recipe, run_mix

    with pytest.raises(RecipeError, match="selects no rows"):
        run_mix(parse_recipe({"sources": [{"path": str(out)}]}, "/"), str(tmp_path / "mix"))
