"""Reading training shards: positions, sharding across processes, decoding, errors reach the consumer."""

from __future__ import annotations

import binascii
import io
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from train.data import Prefetcher, ShardDataError, decode_frames, decode_row, iter_rows, shard_files
from train.synthetic_training_shards import toy_frames, toy_row, write_shard, write_toy_shards


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    # 3 files of 5, 5 and 3 rows, row groups of 2: positions cross files and row groups
    folder = tmp_path_factory.mktemp("rows")
    out = [write_shard(folder / f"part-{k}.parquet", [toy_row(i) for i in rng], row_group_size=2)
           for k, rng in enumerate((range(0, 5), range(5, 10), range(10, 13)))]
    return out


def ids(rows):
    return [(i, r["sample_id"]) for i, r in rows]


def test_shards_round_trip_with_the_training_schema(files):
    import schemas

    assert pq.read_schema(files[0]).remove_metadata().equals(schemas.training_schema().remove_metadata())


@pytest.mark.parametrize("start", [0, 1, 4, 5, 6, 12, 13, 20])
def test_reading_from_a_position_equals_skipping(files, start):
    full = ids(iter_rows(files, 0, epochs=2))
    assert len(full) == 26
    assert ids(iter_rows(files, start, epochs=2)) == full[start:]
    assert full[13][1] == full[0][1]  # the second epoch starts over


def test_processes_read_disjoint_blocks(files):
    owned = [[i for i, _ in Prefetcher(files, lambda i, r: (i, r), block=2, rank=k, world=3)] for k in range(3)]
    assert owned[0] == [0, 1, 6, 7, 12]
    assert owned[1] == [2, 3, 8, 9]
    assert sorted(sum(owned, [])) == list(range(13))


def test_prefetcher_decodes_rows_in_order(files):
    out = list(Prefetcher(files, decode_row, start=3, depth=2))
    assert [e.index for e in out] == list(range(3, 13))
    ex = out[0]
    assert ex.sample_id == "toy-00003" and ex.task == "temporal_grounding"
    assert ex.frames.shape == (4, 56, 84, 3) and ex.frames.dtype == np.uint8
    assert ex.fps == 2.0 and ex.timestamps == [0.0, 0.5, 1.0, 1.5]
    assert ex.truth["task"] == "temporal_grounding" and "span" in ex.truth
    assert ex.messages[0]["content"].startswith("<video>")


def test_decoded_frames_match_the_source_pixels():
    frames = decode_frames(toy_frames(3))
    assert np.abs(frames[0, 28, 3].astype(int) - 255).max() < 20  # the white square starts at the left
    assert np.abs(frames[-1, 28, 80].astype(int) - 255).max() < 20  # and ends at the right


def test_frames_of_different_sizes_are_refused():
    small = io.BytesIO()
    Image.new("RGB", (28, 28)).save(small, format="JPEG")
    with pytest.raises(ValueError, match="different sizes"):
        decode_frames(toy_frames(0, count=1) + [small.getvalue()])


def test_worker_errors_reach_the_consumer(tmp_path):
    row = toy_row(0)
    video = row["videos"][0]
    video["video"][1] = {"bytes": b"not a jpeg", "path": None}
    video["frame_crc32"][1] = binascii.crc32(b"not a jpeg")        # written so: the checksum holds, the JPEG not
    path = write_shard(tmp_path / "bad.parquet", [toy_row(1), row])
    it = Prefetcher([path], decode_row)
    assert next(it).sample_id == "toy-00001"
    with pytest.raises(Exception, match="cannot identify image"):
        next(it)
    it.close()


def _corrupt(row, how):
    video = row["videos"][0]
    if how == "flipped":                          # 16 bytes flipped inside the middle frame
        data = bytearray(video["video"][2]["bytes"])
        for k in range(16):
            data[200 + k] ^= 0xFF
        video["video"][2] = {"bytes": bytes(data), "path": None}
    elif how == "truncated":                      # the middle frame cut short
        video["video"][2] = {"bytes": video["video"][2]["bytes"][:150], "path": None}
    elif how == "nan_time":
        video["timestamps"][1] = math.nan
    else:
        row["videos"] = []
    return row


@pytest.mark.parametrize("how, message", [
    ("flipped", r"frames \[2\] of 4 do not match their checksums"),
    ("truncated", r"frames \[2\] of 4 do not match their checksums"),
    ("nan_time", r"frame times not finite at frames \[1\]"),
    ("no_frames", "no frames"),
])
def test_the_reader_refuses_a_corrupted_row_naming_shard_row_and_sample(tmp_path, how, message):
    rows = [toy_row(0), toy_row(1), _corrupt(toy_row(2), how), toy_row(3)]
    path = write_shard(tmp_path / "part-00000.parquet", rows, row_group_size=2)
    it = Prefetcher([path], decode_row)
    assert [next(it).sample_id for _ in range(2)] == ["toy-00000", "toy-00001"]
    with pytest.raises(ShardDataError, match=rf"part-00000.parquet row 2 \(sample toy-00002\): {message}"):
        next(it)
    it.close()


def test_shard_files_from_folder_or_glob(tmp_path):
    paths = write_toy_shards(tmp_path / "a", rows=4, files=2)
    assert shard_files(str(tmp_path / "a")) == paths
    assert shard_files(str(tmp_path / "a" / "part-00001.parquet")) == paths[1:]
    with pytest.raises(FileNotFoundError, match="no training shards"):
        shard_files(str(tmp_path / "missing"))
