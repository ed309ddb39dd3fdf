"""How much of the machine ingestion uses: `--decode-workers` and `--image-threads` reach the decoder pool
and the image threads; by default one per core of the machine that decodes."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

import pipelines.ingest.run as ingest_run
import pipelines.video.images as images
from pipelines.ingest import IngestConfig, IngestResult
from pipelines.ingest.frames import DecodeVideoBatch
from pipelines.ingest.item import Item
from pipelines.sources.base import RawRecord, SourceOptions
from pipelines.video.media import ImageSequence
from vrft.cli import main


def config(**kw) -> IngestConfig:
    return IngestConfig("got10k", SourceOptions(("x",)), "/nowhere", **kw)


def test_the_options_reach_the_config(monkeypatch, tmp_path, capsys):
    seen = []

    def fake_run(cfg, *args, **kw):
        seen.append(cfg)
        return IngestResult(cfg.out, plan=["ReadRecords"], options={})

    monkeypatch.setattr(ingest_run, "run_ingest", fake_run)
    args = ["ingest", "jsonl", "--annotations", str(tmp_path / "a.jsonl"), "--out", str(tmp_path / "o"), "--dry-run"]
    assert main([*args, "--decode-workers", "3", "--image-threads", "5"]) == 0
    assert main(args) == 0
    assert [(c.decode_workers, c.image_threads) for c in seen] == [(3, 5), (None, None)]
    with pytest.raises(SystemExit):
        main([*args, "--decode-workers", "0"])
    assert "argument --decode-workers: must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--decode-workers N" in shown and f"videos decoded at a time (default: the machine's cores, {os.cpu_count()} here)" in shown


def test_the_decoder_pool_has_as_many_workers_as_asked_and_is_shared():
    fns = [DecodeVideoBatch(config(decode_workers=3)) for _ in range(2)]
    for fn in fns:
        fn.setup()
    assert fns[0].pool.size == 3 and fns[0].parallel == 3 and fns[0].pool is fns[1].pool
    default = DecodeVideoBatch(config())
    default.setup()
    assert default.pool.size == os.cpu_count()


def test_image_threads_reach_the_image_reader(monkeypatch, tmp_path):
    asked = []

    class Recording(ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kw):
            asked.append(max_workers)
            super().__init__(max_workers=max_workers, **kw)

    monkeypatch.setattr(images, "ThreadPoolExecutor", Recording)
    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"{i:08d}.jpg"))
        Image.new("RGB", (112, 84), (40 * i, 80, 120)).save(paths[-1])
    rec = RawRecord("got10k", "val/list.txt", "GOT-10k_Val_000001", {}, "val")
    item = Item.of(rec, {"task": "tracking", "video_key": "seq", "media": ImageSequence(tuple(paths), (0.0, 0.1), 10.0, 2)})
    fn = DecodeVideoBatch(config(image_threads=5))
    fn.setup()
    row, failure = fn._decode("seq", [item])
    assert failure is None and len(row["frames"]) == 2 and row["timestamps"] == [0.0, 0.1]
    assert asked == [5]


def test_speed_options_are_not_part_of_a_runs_identity():
    assert config(decode_workers=1, image_threads=1).identity() == config(decode_workers=8).identity()
    assert config(videos_per_part=1).identity() != config().identity()
