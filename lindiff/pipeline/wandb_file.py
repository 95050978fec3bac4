"""Read an offline W&B run file (``run-<id>.wandb``) back: config, history, summary, files.

:func:`read_wandb_file` reads such a file back (tests, tools), and
:func:`find_wandb_files` lists them.  The format, as written by wandb 0.31 (verified on
real files, not taken from the LevelDB documentation):

* a 7-byte header: ``b":W&B"``, the little-endian ``u16`` ``0xBEE1``, version byte ``0``;
* the file is cut into 32 KiB blocks counted from the start of the file (the header sits
  in block 0); a block's tail shorter than a record header (7 bytes) is zero padding;
* each record has a 7-byte header: ``u32`` checksum, ``u16`` payload length, ``u8`` type
  (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST), followed by the payload; a payload that does not
  fit in the block is split into FIRST, MIDDLE..., LAST fragments;
* the checksum is a plain, unmasked **CRC-32 (IEEE, ``zlib.crc32``)** of the type byte
  followed by the payload -- *not* LevelDB's masked CRC-32C.  It is therefore always
  verified (``zlib`` is in the standard library);
* each reassembled payload is a serialized ``wandb.proto.wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import collections
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lindiff.errors import DataError

__all__ = ["OfflineRun", "find_wandb_files", "iter_wandb_records", "read_wandb_file"]


# --------------------------------------------------------------------------- reader

_HEADER_IDENT = b":W&B"
_HEADER_MAGIC = 0xBEE1
_HEADER_VERSION = 0
_HEADER = struct.Struct("<4sHB")
_BLOCK_SIZE = 32 * 1024
_RECORD_HEADER = struct.Struct("<IHB")
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_CONFIG_INTERNAL_KEY = "_wandb"


@dataclass
class OfflineRun:
    """What :func:`read_wandb_file` recovered from one ``run-<id>.wandb`` file.

    ``config`` holds plain values (JSON-decoded, ``{"value": ...}`` wrappers removed,
    W&B's internal ``_wandb`` entry dropped).  ``history`` has one dict per history
    record, with nested keys (e.g. an image's ``{"path": ..., "_type": "image-file"}``)
    as nested dicts and ``_step`` always present.  ``summary`` is the final summary
    after all updates, including W&B's own ``_step``, ``_runtime``... keys.  ``files``
    lists the paths of saved files, relative to the run's ``files/`` directory (e.g.
    ``media/images/img_2_<hash>.png``), in order, without repeats.  ``record_types``
    counts records by kind (``run``, ``history``, ``summary``, ``files``, ``exit``...).
    ``exit_code`` is ``None`` when the run did not finish (no exit record).  ``artifacts``
    lists the logged artifacts (``name``, ``type``, ``digest``, ``metadata``, ``entries``
    with ``path``, ``ref`` and ``digest``).
    """

    path: Path
    run_id: str = ""
    project: str = ""
    group: str = ""
    job_type: str = ""
    entity: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    record_types: collections.Counter[str] = field(default_factory=collections.Counter)
    exit_code: int | None = None
    artifacts: list[dict[str, Any]] = field(default_factory=list)


def find_wandb_files(root: str | Path) -> list[Path]:
    """All ``run-*.wandb`` files below ``root``, sorted (``[]`` if ``root`` is missing)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("run-*.wandb") if p.is_file())


def read_wandb_file(path: str | Path) -> OfflineRun:
    """Read a W&B transaction log (``run-<id>.wandb``) into an :class:`OfflineRun`.

    Every record's CRC-32 is checked (see the module docstring for the format).

    Raises:
        DataError: the file is missing, is not a W&B log, is truncated or corrupt, or a
            record does not decode; the message names the file.
    """
    path = Path(path)
    result = OfflineRun(path=path)
    config: dict[str, Any] = {}
    seen_files: set[str] = set()
    for offset, record in iter_wandb_records(path):
        kind = record.WhichOneof("record_type") or "unknown"
        result.record_types[kind] += 1
        try:
            _apply_record(result, config, seen_files, kind, record)
        except ValueError as exc:  # json.JSONDecodeError included
            raise DataError(f"{path}: {kind} record at byte {offset} holds bad JSON: {exc}") from exc
    result.config = _unwrap_config(config)
    return result


def iter_wandb_records(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(offset, Record)`` for each record of a ``.wandb`` file, in order.

    ``offset`` is the file offset of the record's first fragment header; ``Record`` is a
    ``wandb.proto.wandb_internal_pb2.Record``.  Raises :class:`DataError` as
    :func:`read_wandb_file` does.
    """
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read W&B file {path}: {exc}") from exc
    for offset, payload in _iter_payloads(data, path):
        record = wandb_internal_pb2.Record()
        try:
            record.ParseFromString(payload)
        except DecodeError as exc:
            raise DataError(f"{path}: record at byte {offset} is not a W&B record: {exc}") from exc
        yield offset, record


def _check_header(data: bytes, path: Path) -> None:
    if len(data) < _HEADER.size:
        raise DataError(f"{path}: not a W&B run file (only {len(data)} bytes, no header)")
    ident, magic, version = _HEADER.unpack_from(data, 0)
    if ident != _HEADER_IDENT or magic != _HEADER_MAGIC:
        raise DataError(f"{path}: not a W&B run file (bad header {data[:_HEADER.size]!r})")
    if version != _HEADER_VERSION:
        raise DataError(f"{path}: unsupported W&B log version {version}")


def _iter_fragments(data: bytes, path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(offset, type, payload)`` of each checked fragment after the header."""
    pos = _HEADER.size
    end = len(data)
    while pos < end:
        room = _BLOCK_SIZE - pos % _BLOCK_SIZE
        if room < _RECORD_HEADER.size:  # block trailer: zero padding
            pos += room
            continue
        if end - pos < _RECORD_HEADER.size:
            raise DataError(f"{path}: truncated W&B file (partial record header at byte {pos})")
        crc, length, kind = _RECORD_HEADER.unpack_from(data, pos)
        if crc == 0 and length == 0 and kind == 0:  # preallocated zeros: skip the block
            pos += room
            continue
        start, stop = pos + _RECORD_HEADER.size, pos + _RECORD_HEADER.size + length
        if length > room - _RECORD_HEADER.size:
            raise DataError(f"{path}: corrupt W&B file (record at byte {pos} overruns its block)")
        if stop > end:
            raise DataError(f"{path}: truncated W&B file (record at byte {pos} is cut off)")
        payload = data[start:stop]
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            raise DataError(f"{path}: corrupt W&B file (checksum mismatch at byte {pos})")
        yield pos, kind, payload
        pos = stop


def _iter_payloads(data: bytes, path: Path) -> Iterator[tuple[int, bytes]]:
    """Reassemble FULL / FIRST-MIDDLE*-LAST fragments into ``(offset, payload)``."""
    _check_header(data, path)
    parts: list[bytes] = []
    first_offset = -1
    for offset, kind, payload in _iter_fragments(data, path):
        if kind == _FULL or kind == _FIRST:
            if parts:
                raise DataError(f"{path}: corrupt W&B file (unfinished record before byte {offset})")
            if kind == _FULL:
                yield offset, payload
            else:
                parts, first_offset = [payload], offset
        elif kind == _MIDDLE or kind == _LAST:
            if not parts:
                raise DataError(f"{path}: corrupt W&B file (orphan record fragment at byte {offset})")
            parts.append(payload)
            if kind == _LAST:
                yield first_offset, b"".join(parts)
                parts = []
        else:
            raise DataError(f"{path}: corrupt W&B file (unknown record type {kind} at byte {offset})")
    if parts:
        raise DataError(f"{path}: truncated W&B file (record at byte {first_offset} never ends)")


def _apply_record(
    result: OfflineRun, config: dict[str, Any], seen_files: set[str], kind: str, record: Any
) -> None:
    """Fold one decoded record into ``result`` (``config`` is kept wrapped until the end)."""
    if kind == "run":
        _apply_run(result, config, record.run)
    elif kind == "config":
        _apply_updates(config, record.config.update, record.config.remove)
    elif kind == "history":
        result.history.append(_history_row(record.history))
    elif kind == "summary":
        _apply_updates(result.summary, record.summary.update, record.summary.remove)
    elif kind == "files":
        for item in record.files.files:
            if item.path not in seen_files:
                seen_files.add(item.path)
                result.files.append(item.path)
    elif kind == "exit":
        result.exit_code = record.exit.exit_code
    elif kind == "artifact":
        result.artifacts.append(_artifact(record.artifact))


def _artifact(artifact: Any) -> dict[str, Any]:
    """A logged artifact: name, type, digest, metadata and its entries (path, ref URI, digest)."""
    return {
        "name": artifact.name,
        "type": artifact.type,
        "digest": artifact.digest,
        "metadata": json.loads(artifact.metadata) if artifact.metadata else {},
        "entries": [{"path": e.path, "ref": e.ref, "digest": e.digest, "size": e.size}
                    for e in artifact.manifest.contents],
    }


def _apply_run(result: OfflineRun, config: dict[str, Any], run: Any) -> None:
    for attr, value in (
        ("run_id", run.run_id),
        ("project", run.project),
        ("group", run.run_group),
        ("job_type", run.job_type),
        ("entity", run.entity),
        ("name", run.display_name),
    ):
        if value:
            setattr(result, attr, value)
    if run.tags:
        result.tags = list(run.tags)
    _apply_updates(config, run.config.update, run.config.remove)


def _item_path(item: Any) -> list[str]:
    """The key path of a Config/Summary/History item (``nested_key`` wins over ``key``)."""
    return list(item.nested_key) if item.nested_key else [item.key]


def _set_path(target: dict[str, Any], keys: list[str], value: Any) -> None:
    node = target
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _del_path(target: dict[str, Any], keys: list[str]) -> None:
    node: Any = target
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(keys[-1], None)


def _apply_updates(target: dict[str, Any], updates: Any, removes: Any = ()) -> None:
    for item in updates:
        _set_path(target, _item_path(item), json.loads(item.value_json))
    for item in removes:
        _del_path(target, _item_path(item))


def _history_row(history: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for item in history.item:
        _set_path(row, _item_path(item), json.loads(item.value_json))
    row.setdefault("_step", history.step.num)
    return row


def _unwrap_config(config: dict[str, Any]) -> dict[str, Any]:
    """Drop W&B's ``_wandb`` entry and unwrap ``{"value": v[, "desc": d]}`` items to ``v``.

    wandb 0.31 stores plain values; the wrapped form is what older versions wrote.  A
    top-level user value that is itself a dict with exactly those keys is unwrapped too.
    """
    plain: dict[str, Any] = {}
    for key, value in config.items():
        if key == _CONFIG_INTERNAL_KEY:
            continue
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        plain[key] = value
    return plain
