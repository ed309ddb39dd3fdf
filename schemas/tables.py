"""Arrow schemas of the three tables, derived from the registered label types.

`samples` is one unified table: label columns are nullable and which ones a row needs follows from
its task (see `schemas.checks`). `videos` holds probe facts and the decoded frames once per video.
`training` is what `vrft mix` writes: one self-contained example per row, with verl's columns; its
frames are HF `datasets` images (the `huggingface` metadata below), so verl's `RLHFDataset` and
qwen_vl_utils read them unchanged. The schema version travels in the Parquet file metadata.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Sequence

import pyarrow as pa

from schemas.label_type import label_types

# 2: the videos plan holds the whole frame policy (factor, jpeg_quality)
# 3: a CRC-32 per stored frame; training frames as HF images with sample_fps and the stored size
SCHEMA_VERSION = "3"
VERSION_KEY = b"vrft.schema_version"
TABLE_KEY = b"vrft.table"

_SAMPLE_HEAD = [
    pa.field("sample_id", pa.string(), nullable=False),  # stable: same input -> same id
    pa.field("task", pa.string(), nullable=False),
    pa.field("dataset", pa.string(), nullable=False),
    pa.field("split", pa.string()),
    pa.field("video_key", pa.string(), nullable=False),
    pa.field("query", pa.string()),                       # sentence, question or object name
    pa.field("duration", pa.float64()),                   # seconds, as annotated or probed
]
_SAMPLE_TAIL = [
    pa.field("source_file", pa.string()),                 # provenance: file name
    pa.field("source_key", pa.string()),                  # provenance: line number or record key
    pa.field("repairs", pa.list_(pa.string())),           # repairs applied, e.g. "span_end_clipped"
]

# The frame policy a video was planned with, whole (pipelines.video.policy.FramePolicy): validation
# checks the frames against the policy of their own row.
PLAN_TYPE = pa.struct(
    [
        ("target_fps", pa.float64()),
        ("min_frames", pa.int32()),
        ("max_frames", pa.int32()),
        ("min_pixels", pa.int64()),       # per frame
        ("max_pixels", pa.int64()),       # per frame
        ("total_pixels", pa.int64()),     # per video, counted as the model counts (2 frames per patch)
        ("factor", pa.int32()),           # frame sides are multiples of it (28: 14-pixel patches, 2x2 merge)
        ("jpeg_quality", pa.int32()),
    ]
)

_VIDEO_FIELDS = [
    pa.field("video_key", pa.string(), nullable=False),
    pa.field("uri", pa.string()),
    # probe facts (from the container; headers can lie, so frames are verified separately)
    pa.field("duration", pa.float64()),
    pa.field("fps", pa.float64()),
    pa.field("width", pa.int32()),
    pa.field("height", pa.int32()),
    pa.field("frame_count", pa.int64()),
    pa.field("codec", pa.string()),
    # the frame plan and what was really decoded
    pa.field("plan", PLAN_TYPE),
    pa.field("frame_width", pa.int32()),
    pa.field("frame_height", pa.int32()),
    pa.field("sampled_fps", pa.float64()),                # frames / seconds covered, what the model is told
    pa.field("timestamps", pa.list_(pa.float64())),       # seconds of the frames actually decoded
    pa.field("frames", pa.list_(pa.binary())),            # JPEG bytes, already on the 28-pixel grid
    pa.field("frame_crc32", pa.list_(pa.uint32())),       # zlib.crc32 of each frame's bytes, made at ingest
]

# Every input record an ingestion did not write, with why (the dead letter).
_REJECT_FIELDS = [
    pa.field("reason", pa.string(), nullable=False),     # snake_case code(s), "+"-joined when several
    pa.field("detail", pa.string()),                      # for people
    pa.field("dataset", pa.string()),
    pa.field("split", pa.string()),
    pa.field("sample_id", pa.string()),                   # the id the record would have had, when known
    pa.field("video_key", pa.string()),
    pa.field("source_file", pa.string()),
    pa.field("source_key", pa.string()),
    pa.field("raw", pa.string()),                         # the raw record as JSON
]

MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])
# HF datasets' Image() feature: `datasets` decodes it to a PIL image (qwen_vl_utils' fetch_image takes
# PIL images, not raw bytes). `path` is always null: the bytes are the frame.
IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
# One entry of `videos`, as verl spreads it into a {"type": "video", ...} message for qwen_vl_utils:
# `sample_fps` is what it tells the processor (second_per_grid_ts = 2 / sample_fps), `resized_*` keep the
# stored size (no second resize). The other keys are vrft's; qwen_vl_utils ignores them.
VIDEO_INPUT_TYPE = pa.struct(
    [
        ("video", pa.list_(IMAGE_TYPE)),                  # JPEG frames on the 28-pixel grid
        ("sample_fps", pa.float64()),                     # the stored sampled fps
        ("resized_height", pa.int32()),                   # the stored frame size
        ("resized_width", pa.int32()),
        ("timestamps", pa.list_(pa.float64())),           # seconds of each frame
        ("frame_crc32", pa.list_(pa.uint32())),           # carried from videos/, checked by every reader
    ]
)
_TRAINING_FIELDS = [
    # vrft's columns
    pa.field("sample_id", pa.string(), nullable=False),
    pa.field("task", pa.string(), nullable=False),
    pa.field("dataset", pa.string()),
    pa.field("split", pa.string()),
    pa.field("video_key", pa.string()),
    pa.field("think", pa.bool_()),
    # verl's columns
    pa.field("data_source", pa.string()),
    pa.field("prompt", pa.list_(MESSAGE_TYPE)),
    pa.field("videos", pa.list_(VIDEO_INPUT_TYPE)),
    pa.field("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
    pa.field(
        "extra_info",
        pa.struct(
            [
                ("index", pa.int64()),
                ("sample_id", pa.string()),
                ("task", pa.string()),
                ("think", pa.bool_()),
            ]
        ),
    ),
]


HF_KEY = b"huggingface"
_HF_DTYPES = {"double": "float64", "float": "float32", "halffloat": "float16"}


def hf_feature(typ: pa.DataType) -> Any:
    """The HF `datasets` feature (its JSON form) of an Arrow type: IMAGE_TYPE is an Image(), lists are
    List, structs dicts, the rest Value(dtype)."""
    if typ == IMAGE_TYPE:
        return {"_type": "Image"}
    if pa.types.is_struct(typ):
        return {f.name: hf_feature(f.type) for f in typ}
    if pa.types.is_list(typ):
        return {"feature": hf_feature(typ.value_type), "_type": "List"}
    return {"dtype": _HF_DTYPES.get(str(typ), str(typ)), "_type": "Value"}


def frame_crc32(frame: bytes) -> int:
    """The checksum stored beside each frame (`frame_crc32` columns)."""
    return zlib.crc32(frame)


def corrupt_frames(frames: Sequence[bytes], checksums: Sequence[int] | None) -> list[int]:
    """Indices of the frames whose bytes do not match their stored checksum (all of them when the
    checksums are missing or not one per frame)."""
    if checksums is None or len(checksums) != len(frames):
        return list(range(len(frames)))
    return [i for i, (f, c) in enumerate(zip(frames, checksums)) if zlib.crc32(f) != c]


def _tag(schema: pa.Schema, table: str, extra: dict[bytes, bytes] | None = None) -> pa.Schema:
    return schema.with_metadata({VERSION_KEY: SCHEMA_VERSION.encode(), TABLE_KEY: table.encode(), **(extra or {})})


def label_fields() -> list[pa.Field]:
    """Nullable label columns, one set per registered label type, in registration order."""
    seen: dict[str, pa.DataType] = {}
    for lt in label_types():
        for name, typ in lt.columns.items():
            seen.setdefault(name, typ)
    return [pa.field(name, typ) for name, typ in seen.items()]


def samples_schema() -> pa.Schema:
    return _tag(pa.schema(_SAMPLE_HEAD + label_fields() + _SAMPLE_TAIL), "samples")


def videos_schema() -> pa.Schema:
    return _tag(pa.schema(_VIDEO_FIELDS), "videos")


def rejects_schema() -> pa.Schema:
    return _tag(pa.schema(_REJECT_FIELDS), "rejects")


def training_schema() -> pa.Schema:
    """Stamped with HF datasets' features of the media column, so `load_dataset` decodes the frames."""
    schema = pa.schema(_TRAINING_FIELDS)
    media = {"videos": hf_feature(schema.field("videos").type)}
    return _tag(schema, "training", {HF_KEY: json.dumps({"info": {"features": media}}).encode()})


def schema_version(metadata: dict[bytes, bytes] | None) -> str | None:
    """The version stamped in a Parquet file's key-value metadata, if any."""
    if not metadata or VERSION_KEY not in metadata:
        return None
    return metadata[VERSION_KEY].decode()
