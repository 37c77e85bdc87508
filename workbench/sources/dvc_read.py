"""Read DVC objects as tables or images: previews read only the rows shown, full reads use pyarrow."""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from workbench.errors import SourceUnavailable

TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
                 ".jsonl": "jsonl", ".ndjson": "jsonl"}
IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".webp": "webp"}
TEXT_FORMATS = {".txt", ".md", ".json", ".yaml", ".yml", ".xml", ".log"}
MAX_IMAGE_BYTES = 20_000_000
MAX_TEXT_PREVIEW = 20_000


def file_format(path: str) -> str:
    """'csv', 'tsv', 'parquet', 'jsonl', 'png'…, 'text' or 'binary' from the file name."""
    suffix = posixpath.splitext(path.lower())[1]
    if suffix in TABLE_FORMATS:
        return TABLE_FORMATS[suffix]
    if suffix in IMAGE_FORMATS:
        return IMAGE_FORMATS[suffix]
    return "text" if suffix in TEXT_FORMATS else "binary"


def is_table(fmt: str) -> bool:
    return fmt in set(TABLE_FORMATS.values())


def is_image(fmt: str) -> bool:
    return fmt in set(IMAGE_FORMATS.values())


@dataclass
class Preview:
    """What a preview shows: a table head, an image, a text head or a file listing."""

    kind: str  # "table", "image", "text", "files"
    label: str
    table: pd.DataFrame | None = None
    data: bytes | None = None
    text: str | None = None
    total_rows: int | None = None
    notes: list[str] = field(default_factory=list)


def _looks_binary(head: bytes) -> bool:
    return b"\0" in head[:8192]


def preview_table(handle: IO[bytes], fmt: str, label: str, rows: int = 100) -> pd.DataFrame:
    """The first ``rows`` rows of a table object, reading only what they need."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(handle, pre_buffer=False)
            groups, covered = [], 0
            for index in range(parquet.num_row_groups):  # only the row groups the preview needs
                if covered >= rows:
                    break
                groups.append(index)
                covered += parquet.metadata.row_group(index).num_rows
            if not groups:
                return parquet.schema_arrow.empty_table().to_pandas()
            return parquet.read_row_groups(groups).slice(0, rows).to_pandas()
        head = handle.read(8192)
        if _looks_binary(head):
            raise SourceUnavailable(f"{label} is a binary file, not a {fmt.upper()} table.",
                                    "pick a table file, or check the file extension matches its content")
        stream = io.BufferedReader(_Rewound(head, handle))
        if fmt == "jsonl":
            return pd.read_json(stream, lines=True, nrows=rows)
        return pd.read_csv(stream, sep="\t" if fmt == "tsv" else ",", nrows=rows)
    except SourceUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - parsers raise many types
        raise SourceUnavailable(f"{label} cannot be read as {fmt.upper()}: {exc}.",
                                "check the file is a valid table in that format") from exc


def read_table(path: Path, fmt: str, label: str) -> pd.DataFrame:
    """A whole table object (a local file) through pyarrow's multithreaded readers."""
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            with open(path, "rb") as handle:
                if _looks_binary(handle.read(8192)):
                    raise SourceUnavailable(f"{label} is a binary file, not a {fmt.upper()} table.",
                                            "pick a table file, or check the file extension matches its content")
            if fmt == "jsonl":
                import pyarrow.json as pj

                table = pj.read_json(path)
            else:
                import pyarrow.csv as pc

                table = pc.read_csv(path, parse_options=pc.ParseOptions(delimiter="\t" if fmt == "tsv" else ","))
    except SourceUnavailable:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SourceUnavailable(f"{label} cannot be read as {fmt.upper()}: {exc}.",
                                "check the file is a valid table in that format") from exc
    return table.to_pandas()


def count_rows(path: Path, fmt: str) -> int | None:
    """Row count without parsing values where cheap (Parquet metadata, newline count)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt in ("csv", "tsv", "jsonl"):
        lines, last = 0, b"\n"
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        lines += last != b"\n"
        return lines - (1 if fmt != "jsonl" else 0)
    return None


class _Rewound(io.RawIOBase):
    """A stream that replays ``head`` before the rest of ``handle`` (for sniffing without seeking)."""

    def __init__(self, head: bytes, handle: IO[bytes]) -> None:
        self._head = head
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._handle.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
