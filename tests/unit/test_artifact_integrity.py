"""Parquet artifacts carry page checksums and a digest of their content (issue 12, item 3):
a flipped bit reads back identical or fails naming the file, never as other numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lindiff import artifacts
from lindiff.errors import DataError


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"t": np.repeat(np.arange(11), 20), "index": np.tile(np.arange(20), 11),
                         "sin_theta": rng.random(220), "source": ["generated"] * 110 + ["natural"] * 110})


def test_round_trip_keeps_the_table(tmp_path):
    table = _table()
    artifacts.write_parquet(tmp_path / "t.parquet", table)
    pd.testing.assert_frame_equal(artifacts.read_parquet(tmp_path / "t.parquet"), table)


def flip_bits(path, bits, read, same) -> tuple[int, int]:
    """Flip each of ``bits`` of the file at ``path`` in turn and read it back: ``(caught,
    harmless)``; a read that does not fail naming the file must give ``same`` content."""
    data = path.read_bytes()
    caught = harmless = 0
    for bit in bits:
        corrupt = bytearray(data)
        corrupt[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(corrupt))
        try:
            back = read(path)
        except DataError as exc:
            assert str(path) in str(exc)
            caught += 1
            continue
        same(back, bit)  # a flip in bytes no value depends on
        harmless += 1
    return caught, harmless


def test_every_flipped_bit_is_caught_or_harmless(tmp_path):
    table = _table()
    path = tmp_path / "t.parquet"
    artifacts.write_parquet(path, table)
    bits = np.random.default_rng(1).choice(path.stat().st_size * 8, 400, replace=False)
    caught, harmless = flip_bits(path, bits, artifacts.read_parquet, lambda back, bit: pd.testing.assert_frame_equal(back, table))
    assert caught > 300, (caught, harmless)


def test_a_changed_value_with_a_valid_page_checksum_is_caught(tmp_path):
    """Rewrite the values but keep the old digest: the content check (not only the page CRC) fails."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    artifacts.write_parquet(path, _table())
    stored = pq.read_table(path)
    changed = _table().assign(sin_theta=lambda t: t["sin_theta"] + 0.78)
    forged = pa.Table.from_pandas(changed, preserve_index=False).replace_schema_metadata(stored.schema.metadata)
    pq.write_table(forged, path, write_page_checksum=True)
    with pytest.raises(DataError, match="does not match the digest"):
        artifacts.read_parquet(path)


def test_tables_written_before_digests_still_read(tmp_path):
    _table().to_parquet(tmp_path / "old.parquet", index=False)
    pd.testing.assert_frame_equal(artifacts.read_parquet(tmp_path / "old.parquet"), _table())


# JSON artifacts (metrics, summaries) carry a sha256 of their content (issue 12, item 3).

METRICS = {"w2": 0.012345678901234, "slope": -1.5e-05, "n": 300, "label": "generated", "curve": [0.1, 0.25, 1e-09],
           "nested": {"ok": True, "none": None}}


def test_json_round_trip_keeps_the_content(tmp_path):
    artifacts.write_json(tmp_path / "m.json", METRICS)
    assert artifacts.read_json(tmp_path / "m.json") == METRICS
    assert artifacts.JSON_DIGEST_KEY in (tmp_path / "m.json").read_text()


def test_every_flipped_bit_of_a_json_file_is_caught_or_harmless(tmp_path):
    path = tmp_path / "m.json"
    artifacts.write_json(path, METRICS)
    size = path.stat().st_size

    def same(back, bit):
        assert back == METRICS, f"bit {bit} changed the content silently"

    caught, harmless = flip_bits(path, range(size * 8), artifacts.read_json, same)
    assert caught > 0.95 * size * 8, (caught, harmless)


def test_json_without_its_checksum_is_refused(tmp_path):
    (tmp_path / "m.json").write_text('{"w2": 0.5}')
    with pytest.raises(DataError, match="no lindiff checksum"):
        artifacts.read_json(tmp_path / "m.json")


def test_a_flipped_byte_in_a_torch_file_is_refused_naming_it(tmp_path):
    """Model files were loaded without a check: flipped bytes gave other weights (samples up to
    1e30). Every zip member's CRC is checked before torch reads it."""
    import torch
    from helpers import flip_inside_largest_member

    from lindiff.artifacts import load_torch
    from lindiff.errors import CorruptArtifactError, DataError

    path = tmp_path / "model.pt"
    torch.save({"weights": torch.arange(1000, dtype=torch.float32)}, path)
    assert torch.equal(load_torch(path, "model file")["weights"], torch.arange(1000, dtype=torch.float32))
    flip_inside_largest_member(path)  # one byte inside the stored tensor
    with pytest.raises(CorruptArtifactError, match=r"model\.pt: not a readable model file: member .* fails its CRC"):
        load_torch(path, "model file")
    with pytest.raises(DataError, match=r"missing\.pt: checkpoint not found"):
        load_torch(tmp_path / "missing.pt", "checkpoint")


@pytest.mark.parametrize("movable", [True, False])
def test_a_corrupt_input_is_moved_aside_or_the_job_says_what_to_do(tmp_path, monkeypatch, movable):
    """A corrupt input in a folder it cannot be moved out of (read-only, immutable) used to end the
    job in a PermissionError traceback; now the job's log says what to do."""
    from lindiff.errors import CorruptArtifactError
    from lindiff.pipeline.runs import integrity

    path = tmp_path / "bases.npz"
    path.write_bytes(b"PK broken")
    if not movable:
        def refuse(target):
            raise PermissionError(1, "Operation not permitted", str(target))

        monkeypatch.setattr(integrity, "quarantine", refuse)
    said = integrity.quarantine_corrupt_input(CorruptArtifactError(path, "bad CRC"), [str(tmp_path / "other.npz"), str(path)])
    if movable:
        assert said.startswith("the corrupt input was moved aside to") and (tmp_path / "bases.npz.corrupt").exists()
    else:
        assert "could not be moved aside (Operation not permitted): remove it" in said and path.exists()
    assert integrity.quarantine_corrupt_input(ValueError("other"), [str(path)]) is None
