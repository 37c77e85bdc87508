"""Parse DVC metadata (``.dvc`` files and ``dvc.lock``) into output records, without reading data."""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

try:  # libyaml is ~10x faster; fall back to the pure-Python loader
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

LOCK_FILE = "dvc.lock"


@dataclass
class OutputRecord:
    """One DVC-tracked output as recorded in a ``.dvc`` file or a ``dvc.lock`` stage."""

    path: str  # relative to the DVC root, posix separators
    source: str  # the .dvc / dvc.lock file that records it (relative to the DVC root)
    kind: str  # "dvc-file" or "stage:<name>"
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    is_dir: bool = False
    hash_name: str | None = None  # "md5" (DVC 3) or None (DVC 2 legacy)
    rows: int | None = None
    columns: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_yaml(text: bytes | str) -> Any:
    """YAML text → Python objects (safe loader only; nothing is executed)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - CSafeLoader is a safe loader


def parse_dvc_file(text: bytes | str, source: str) -> list[OutputRecord]:
    """The outputs recorded in the ``.dvc`` file ``source`` (empty when it is malformed)."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    top_meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    base = posixpath.dirname(source)
    outs = data.get("outs") or []
    return [_record(out, base, source, "dvc-file", top_meta) for out in outs if _is_out(out)]


def parse_lock_file(text: bytes | str, source: str) -> list[OutputRecord]:
    """The stage outputs recorded in the ``dvc.lock`` file ``source``."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        return []
    base = posixpath.dirname(source)
    records = []
    for name, stage in data["stages"].items():
        if isinstance(stage, dict):
            records += [_record(out, base, source, f"stage:{name}", {})
                        for out in stage.get("outs") or [] if _is_out(out)]
    return records


def parse_metadata_file(text: bytes | str, source: str) -> list[OutputRecord]:
    """Dispatch on the file name: ``dvc.lock`` or ``*.dvc``."""
    if posixpath.basename(source) == LOCK_FILE:
        return parse_lock_file(text, source)
    return parse_dvc_file(text, source)


def is_metadata_file(path: str) -> bool:
    """True for ``*.dvc`` files and ``dvc.lock`` outside the ``.dvc/`` folder."""
    if path.startswith(".dvc/") or "/.dvc/" in path:
        return False
    name = posixpath.basename(path)
    return name == LOCK_FILE or (name.endswith(".dvc") and name != ".dvc")


def _is_out(out: Any) -> bool:
    return isinstance(out, dict) and isinstance(out.get("path"), str)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _record(out: dict, base: str, source: str, kind: str, top_meta: dict) -> OutputRecord:
    meta = {**top_meta, **(out.get("meta") if isinstance(out.get("meta"), dict) else {})}
    md5 = out.get("md5") or out.get("etag") or out.get("checksum")
    md5 = str(md5) if md5 is not None else None
    path = posixpath.normpath(posixpath.join(base, out["path"]))
    return OutputRecord(
        path=path, source=source, kind=kind, md5=md5, size=_int(out.get("size")),
        nfiles=_int(out.get("nfiles")), is_dir=bool(md5 and md5.endswith(".dir")),
        hash_name=out.get("hash"), rows=_int(meta.get("rows")),
        columns=_int(meta.get("columns", meta.get("cols"))), meta=meta,
    )
