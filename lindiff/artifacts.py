"""Reading and writing artifacts: atomic writes and validating loaders.

Every writer goes through :func:`atomic_write` (a temporary file in the destination
directory, then :func:`os.replace`), so a crash never leaves a half-written file at a final
path.  Every loader checks what it reads (keys, shapes, finite values) and raises
:class:`lindiff.errors.DataError` naming the file, so a corrupt file is never trusted.
Arrays are stored in ``.npz`` without pickle and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from lindiff.errors import CorruptArtifactError, DataError
from lindiff.linear.learn import Bases


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path`` for binary writing; move it into place on success.

    Parent directories are created.  The temporary file is created with mode ``0o666``
    minus the umask (like a plain ``open``).  On any exception the temporary file is
    removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary files :func:`atomic_write` made for ``path`` (left behind when a writer was
    killed before it could clean up)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def remove_temporaries(paths) -> list[str]:
    """Delete the leftover temporary files of ``paths`` (call it when starting the one job that
    writes them); returns the names removed."""
    removed = []
    for path in paths:
        for tmp in temporaries(path):
            tmp.unlink(missing_ok=True)
            removed.append(tmp.name)
    return removed


def write_bytes(path, payload: bytes) -> Path:
    with atomic_write(path) as fh:
        fh.write(payload)
    return Path(path)


def _json_safe(value):
    """Plain JSON types; non-finite floats become None (standard JSON has no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


JSON_DIGEST_KEY = "lindiff_sha256"


def _json_digest(data: Mapping) -> str:
    """sha256 of the canonical JSON text of ``data`` (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()).hexdigest()


def write_json(path, data: Mapping) -> Path:
    """A mapping as JSON, atomically, with a sha256 of its content under :data:`JSON_DIGEST_KEY`
    (:func:`read_json` verifies it: a flipped bit is an error, never another number)."""
    safe = _json_safe(data)
    if JSON_DIGEST_KEY in safe:
        raise ValueError(f"{JSON_DIGEST_KEY!r} is reserved for the checksum")
    text = json.dumps({**safe, JSON_DIGEST_KEY: _json_digest(safe)}, indent=2, sort_keys=True, allow_nan=False) + "\n"
    return write_bytes(path, text.encode())


def read_json(path) -> dict:
    """Inverse of :func:`write_json`: the content must match its checksum (which is removed)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptArtifactError(path, f"not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get(JSON_DIGEST_KEY), str):
        raise CorruptArtifactError(path, f"no lindiff checksum ({JSON_DIGEST_KEY}); corrupt or written by an older "
                        "lindiff: delete it and rerun the workflow to rebuild it")
    stored = data.pop(JSON_DIGEST_KEY)
    if stored != _json_digest(data):
        raise CorruptArtifactError(path, "its content does not match the checksum written with it (corrupt file); "
                        "delete it and rerun the workflow to rebuild it")
    return data


def as_yaml_data(data):
    """``data`` as :func:`write_yaml` stores it and ``yaml.safe_load`` reads it back."""
    import yaml

    return yaml.safe_load(yaml.safe_dump(_json_safe(data), sort_keys=False))


def write_yaml(path, data: Mapping) -> Path:
    import yaml

    return write_bytes(path, yaml.safe_dump(_json_safe(data), sort_keys=False).encode())


PARQUET_DIGEST_KEY = b"lindiff.sha256"


def _table_digest(table) -> str:
    """sha256 of an Arrow table's column names, types, values and pandas metadata (how it
    becomes a DataFrame again); the digest's own metadata entry is left out."""
    pandas_metadata = (table.schema.metadata or {}).get(b"pandas", b"").decode(errors="replace")
    content = {"names": table.column_names, "types": [str(t) for t in table.schema.types],
               "data": table.to_pydict(), "pandas": pandas_metadata}
    return hashlib.sha256(json.dumps(content, default=repr).encode()).hexdigest()


def write_parquet(path, table) -> Path:
    """A DataFrame as parquet, atomically, with page checksums and a digest of its content in
    the file's metadata (:func:`read_parquet` verifies both: a flipped bit is an error)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    metadata = {**(arrow.schema.metadata or {}), PARQUET_DIGEST_KEY: _table_digest(arrow).encode()}
    buffer = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(metadata), buffer, write_page_checksum=True)
    return write_bytes(path, buffer.getvalue())


def read_parquet(path, columns=()):
    """Inverse of :func:`write_parquet`: the page checksums and the content digest are verified
    (tables written before digests existed are read without the digest check)."""
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(path, page_checksum_verification=True)
        stored = (arrow.schema.metadata or {}).get(PARQUET_DIGEST_KEY)
        if stored is not None and stored.decode() != _table_digest(arrow):
            raise DataError("its content does not match the digest written with it (corrupt file)")
        table = arrow.to_pandas()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise CorruptArtifactError(path, f"not a readable parquet file ({exc})") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CorruptArtifactError(path, f"missing column(s) {missing}")
    return table


def save_npz(path, **arrays) -> Path:
    """Arrays (no objects) into an ``.npz``, atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes(path, buffer.getvalue())


def save_torch(path, state) -> Path:
    """``torch.save`` of ``state`` (tensors and JSON-like values, so that :func:`load_torch`
    reads it with ``weights_only=True``), atomically."""
    import torch

    path = Path(path)
    with atomic_write(path) as fh:
        torch.save(state, fh)
    return path


def load_torch(path, what: str):
    """``torch.load(weights_only=True)`` of a file lindiff saved with ``torch.save`` (a zip
    archive), after checking the CRC of every member: a flipped byte fails naming the file
    instead of loading other weights. ``what`` names the kind of file in the errors
    (``model file``, ``checkpoint``, ...): :class:`DataError` when it is missing,
    :class:`CorruptArtifactError` when it is unreadable (a job moves such an input aside, so that
    the next run rebuilds it)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise CorruptArtifactError(path, f"not a readable {what} ({exc})") from None
    if bad is not None:
        raise CorruptArtifactError(path, f"not a readable {what}: member {bad!r} fails its CRC check (corrupt file)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises several types for corrupt files
        raise CorruptArtifactError(path, f"not a readable {what} ({exc})") from None


def load_npz(path, required: Mapping[str, int | None], keys=None) -> dict[str, np.ndarray]:
    """Load an ``.npz`` without pickle and check it.

    Parameters
    ----------
    required : mapping key -> ndim (or None for any)
        Keys that must be present with that number of dimensions; float arrays must be
        finite.
    keys : iterable of str, optional
        Read only these arrays (those present) and the required ones; default: all.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            wanted = npz.files if keys is None else [k for k in npz.files if k in set(keys) | set(required)]
            arrays = {k: npz[k] for k in wanted}
    except FileNotFoundError:
        raise CorruptArtifactError(path, "file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CorruptArtifactError(path, f"not a readable .npz file ({exc})") from None
    for key, ndim in required.items():
        if key not in arrays:
            raise CorruptArtifactError(path, f"missing array {key!r} (has {sorted(arrays)})")
        if ndim is not None and arrays[key].ndim != ndim:
            raise CorruptArtifactError(path, f"array {key!r} has shape {arrays[key].shape}, expected {ndim}-D")
    for key, value in arrays.items():
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            raise CorruptArtifactError(path, f"array {key!r} holds NaN or infinite values")
    return arrays


# --------------------------------------------------------------------------- bases


def save_bases(path, bases: Bases, sigma: np.ndarray, data_sha256: str = "") -> Path:
    """``bases.npz``: ``U`` (T+1, d, k) float32, ``eigvals`` (T+1, k), ``sigma_bar`` and
    ``sigma`` (T+1,), ``n_train`` (), ``mean`` (d,) or (0,) when uncentered, and the
    ``data_sha256`` of the training set (provenance, see :func:`bases_data_checksum`)."""
    return save_npz(
        path,
        U=bases.U.astype(np.float32),
        eigvals=bases.eigvals,
        sigma_bar=bases.sigma_bar,
        sigma=np.asarray(sigma, dtype=np.float64),
        n_train=np.int64(bases.n_train),
        mean=np.zeros(0) if bases.mean is None else bases.mean,
        data_sha256=np.array(data_sha256),
    )


def bases_data_checksum(path) -> str:
    """The training set's sha256 recorded in a ``bases.npz`` ("" if none)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return str(npz["data_sha256"]) if "data_sha256" in npz.files else ""
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CorruptArtifactError(path, f"not a readable .npz file ({exc})") from None


def load_bases(path) -> tuple[Bases, np.ndarray]:
    """Inverse of :func:`save_bases`: ``(Bases (float64 U), sigma)``; validated."""
    arrays = load_npz(path, {"U": 3, "eigvals": 2, "sigma_bar": 1, "sigma": 1, "n_train": 0, "mean": 1})
    mean = arrays["mean"] if arrays["mean"].size else None
    try:
        bases = Bases(
            U=arrays["U"].astype(np.float64),
            eigvals=arrays["eigvals"],
            sigma_bar=arrays["sigma_bar"],
            n_train=int(arrays["n_train"]),
            mean=mean,
        )
    except DataError as exc:
        raise CorruptArtifactError(path, f"{exc}") from None
    if arrays["sigma"].shape != bases.sigma_bar.shape:
        raise CorruptArtifactError(path, f"sigma has shape {arrays['sigma'].shape}, expected {bases.sigma_bar.shape}")
    gram = np.einsum("tdi,tdj->tij", bases.U, bases.U)
    if not np.allclose(gram, np.eye(bases.k), atol=1e-4):
        raise CorruptArtifactError(path, "U is not orthonormal")
    return bases, arrays["sigma"]


def save_schedule_design(path, design, eigvals: np.ndarray, data_sha256: str = "") -> Path:
    """``schedule.npz`` of a spectral design (:class:`lindiff.linear.design.ScheduleDesign`):
    ``sigma``, ``sigma_bar`` (T+1,), ``noise_std`` (T,), ``initial_std`` (), the target
    ``eigvals`` (k,), the optimizer ``history`` and the training set's ``data_sha256``."""
    return save_npz(
        path,
        sigma=design.schedule.sigma,
        sigma_bar=design.schedule.sigma_bar,
        noise_std=np.asarray(design.noise_std, dtype=np.float64),
        initial_std=np.float64(design.initial_std),
        eigvals=np.asarray(eigvals, dtype=np.float64),
        history=np.asarray(design.history, dtype=np.float64),
        data_sha256=np.array(data_sha256),
    )


def load_schedule_design(path, T: int | None = None) -> dict:
    """Inverse of :func:`save_schedule_design`: ``schedule`` (a ``Schedule`` named
    ``"spectral"``), ``noise_std``, ``initial_std``, ``eigvals``, ``history``, ``data_sha256``.

    With ``T`` given, the design must have ``T`` steps (else :class:`DataError`)."""
    from lindiff.errors import ConfigError
    from lindiff.linear.schedules import from_increments

    arrays = load_npz(path, {"sigma": 1, "sigma_bar": 1, "noise_std": 1, "initial_std": 0, "eigvals": 1, "history": 1})
    try:
        schedule = from_increments("spectral", arrays["sigma"])
    except ConfigError as exc:
        raise CorruptArtifactError(path, f"not a valid schedule ({exc})") from None
    if T is not None and schedule.T != T:
        raise CorruptArtifactError(path, f"the design has T={schedule.T} steps, expected T={T}")
    if len(arrays["noise_std"]) != schedule.T or np.any(arrays["noise_std"] < 0):
        raise CorruptArtifactError(path, f"noise_std must hold {schedule.T} non-negative stds")
    return {
        "schedule": schedule,
        "noise_std": arrays["noise_std"],
        "initial_std": float(arrays["initial_std"]),
        "eigvals": arrays["eigvals"],
        "history": arrays["history"],
        "data_sha256": str(arrays.get("data_sha256", "")),
    }
