"""Arrow schemas of the three tables, derived from the registered label types.

`samples` is one unified table: label columns are nullable and which ones a row needs follows from
its task (see `schemas.checks`). `videos` holds probe facts and the decoded frames once per video.
`training` is what `vrft mix` writes: one self-contained example per row, with verl's columns.
The schema version travels in the Parquet file metadata.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.label_type import label_types

SCHEMA_VERSION = "2"  # 2: the videos plan holds the whole frame policy (factor, jpeg_quality)
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
    pa.field("published", pa.string()),                   # JSON {column: value as published} of the labels
]                                                         # a repair changed (benchmarks score those); null if none

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
VIDEO_INPUT_TYPE = pa.struct(
    [
        ("video", pa.list_(pa.binary())),                 # JPEG frames
        ("timestamps", pa.list_(pa.float64())),
        ("fps", pa.float64()),
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


def _tag(schema: pa.Schema, table: str) -> pa.Schema:
    return schema.with_metadata({VERSION_KEY: SCHEMA_VERSION.encode(), TABLE_KEY: table.encode()})


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
    return _tag(pa.schema(_TRAINING_FIELDS), "training")


def schema_version(metadata: dict[bytes, bytes] | None) -> str | None:
    """The version stamped in a Parquet file's key-value metadata, if any."""
    if not metadata or VERSION_KEY not in metadata:
        return None
    return metadata[VERSION_KEY].decode()
