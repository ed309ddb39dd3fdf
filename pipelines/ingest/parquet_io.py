"""Parquet files that appear atomically, with an explicit schema and per-column encodings.

Label tables are zstd-compressed. Media columns (JPEG bytes, already compressed) are written
uncompressed with PLAIN encoding and no dictionary, in row groups of at most ~100 MB, which Beam's
WriteToParquet cannot do (one codec for all columns, row groups follow bundles). Every file is
written under a hidden temporary name in its folder and renamed into place when complete, so a
killed run never leaves a visible partial `part-*.parquet`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

MAX_ROW_GROUP_BYTES = 100 * 2**20
TEMP_MARK = ".tmp-"


def leaf_paths(field: pa.Field, prefix: str = "") -> list[str]:
    """Parquet column paths under an Arrow field ("frames" -> "frames.list.element")."""
    name = f"{prefix}{field.name}"
    typ = field.type
    if pa.types.is_struct(typ):
        return [p for child in typ for p in leaf_paths(child, name + ".")]
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return leaf_paths(pa.field("element", typ.value_type), name + ".list.")
    return [name]


def writer_options(schema: pa.Schema, media_columns: Sequence[str] = ()) -> dict[str, Any]:
    """zstd + dictionary everywhere except the media columns (none, PLAIN)."""
    compression: dict[str, str] = {}
    dictionary: list[str] = []
    for f in schema:
        for path in leaf_paths(f):
            media = f.name in media_columns
            compression[path] = "NONE" if media else "ZSTD"
            if not media:
                dictionary.append(path)
    return {"compression": compression, "use_dictionary": dictionary, "write_statistics": True}


def temp_name(path: str) -> str:
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}{TEMP_MARK}{uuid.uuid4().hex[:8]}")


def is_temp(name: str) -> bool:
    return os.path.basename(name).startswith(".") and TEMP_MARK in name


def _is_remote(path: str) -> bool:
    return "://" in path


def _rename(src: str, dst: str) -> None:
    if _is_remote(dst):
        from apache_beam.io.filesystems import FileSystems

        FileSystems.rename([src], [dst])
    else:
        os.replace(src, dst)


def _delete(path: str) -> None:
    if _is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        FileSystems.delete([path])
    elif os.path.exists(path):
        os.remove(path)


def _approx_bytes(row: Mapping[str, Any], media_columns: Sequence[str]) -> int:
    """Bytes a row adds to a row group: its media, plus a flat allowance for the labels."""
    return 512 + sum(len(b) for col in media_columns for b in (row.get(col) or ()))


class AtomicParquetWriter:
    """Rows in, one complete file out: row groups of at most `max_group_bytes`; `close()` publishes."""

    def __init__(
        self,
        path: str,
        schema: pa.Schema,
        media_columns: Sequence[str] = (),
        metadata: Mapping[bytes, bytes] | None = None,
        max_group_bytes: int = MAX_ROW_GROUP_BYTES,
    ) -> None:
        self.path, self.schema = path, schema.with_metadata({**(schema.metadata or {}), **(metadata or {})})
        self.tmp = temp_name(path)
        self.max_group_bytes = max_group_bytes
        self.media_columns = tuple(media_columns)
        if _is_remote(path):
            from apache_beam.io.filesystems import FileSystems

            self._sink = FileSystems.create(self.tmp)
        else:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self._sink = open(self.tmp, "wb")
        self._writer = pq.ParquetWriter(self._sink, self.schema, **writer_options(schema, media_columns))
        self._buffer: list[Mapping[str, Any]] = []
        self._buffered = 0
        self.rows = 0

    def write(self, row: Mapping[str, Any]) -> None:
        self._buffer.append(row)
        self._buffered += _approx_bytes(row, self.media_columns)
        if self._buffered >= self.max_group_bytes:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            table = pa.Table.from_pylist(self._buffer, schema=self.schema)
            self._writer.write_table(table, row_group_size=len(self._buffer))
            self.rows += len(self._buffer)
            self._buffer, self._buffered = [], 0

    def add_metadata(self, metadata: Mapping[str, str]) -> None:
        """Key-value metadata known only at the end (stored in the file footer)."""
        self._writer.add_key_value_metadata(dict(metadata))

    def close(self) -> str:
        """Finish the file and rename it into place; returns the final path."""
        self.flush()
        self._writer.close()
        self._sink.close()
        _rename(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
            self._sink.close()
        finally:
            _delete(self.tmp)


def write_rows(
    path: str,
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    media_columns: Sequence[str] = (),
    metadata: Mapping[bytes, bytes] | None = None,
) -> int:
    """Write all rows to `path` atomically; returns the row count."""
    writer = AtomicParquetWriter(path, schema, media_columns, metadata)
    try:
        for row in rows:
            writer.write(row)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return writer.rows
