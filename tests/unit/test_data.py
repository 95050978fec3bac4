"""Tests for lindiff.data: loaders, IDX/MNIST handling, downloads, spiked model, preprocessing."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lindiff.data import (
    MNIST_FILES,
    Dataset,
    center,
    download_mnist,
    find_mnist_file,
    load_array_file,
    load_dataset,
    load_digits,
    load_mnist,
    make_spiked,
    read_idx,
    scale_unit,
    select_classes,
    sha256_of_array,
    split_by_class,
    split_halves,
    subset,
)
from lindiff.errors import ConfigError, DataError

# ---------------------------------------------------------------------------
# helpers: small fake IDX files
# ---------------------------------------------------------------------------

N_FAKE = {"train": 20, "test": 10}


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialize a uint8 array in IDX format."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def fake_mnist_contents(seed: int = 0) -> dict[str, bytes]:
    """Uncompressed content of four small MNIST-like files, keyed by base name."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in N_FAKE.items():
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255  # make the range exactly [0, 255]
        labels = np.arange(n, dtype=np.uint8) % 10
        out[MNIST_FILES[(split, "images")].base_name] = idx_bytes(images)
        out[MNIST_FILES[(split, "labels")].base_name] = idx_bytes(labels)
    return out


@pytest.fixture()
def fake_contents() -> dict[str, bytes]:
    return fake_mnist_contents()


@pytest.fixture()
def fake_checksums(fake_contents: dict[str, bytes]) -> dict[str, str]:
    return {name: md5(content) for name, content in fake_contents.items()}


def write_fake_dir(directory: Path, contents: dict[str, bytes], compress: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / name).write_bytes(content)
    return directory


# ---------------------------------------------------------------------------
# local HTTP server
# ---------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture()
def http_root(tmp_path: Path, fake_contents: dict[str, bytes]) -> Path:
    """A served tree: good/ (valid gz), corrupt/ (wrong content), truncated/ (cut gz)."""
    root = tmp_path / "www"
    write_fake_dir(root / "good", fake_contents)
    corrupt = {name: content[:-1] + bytes([content[-1] ^ 0xFF]) for name, content in fake_contents.items()}
    write_fake_dir(root / "corrupt", corrupt)
    (root / "truncated").mkdir()
    for name, content in fake_contents.items():
        gz = gzip.compress(content)
        (root / "truncated" / f"{name}.gz").write_bytes(gz[: len(gz) // 2])
    return root


@pytest.fixture()
def server_url(http_root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(http_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------


def test_dataset_validates_and_converts() -> None:
    ds = Dataset(X=np.ones((3, 4), dtype=np.float32), labels=[0, 1, 1], name="t", image_shape=(2, 2))
    assert ds.X.dtype == np.float64 and ds.labels.dtype == np.int64
    assert (ds.n, ds.d) == (3, 4)
    with pytest.raises(DataError, match="shape"):
        Dataset(X=np.ones(4), name="t")
    with pytest.raises(DataError, match="row 1"):
        Dataset(X=np.array([[0.0, 1.0], [np.nan, 2.0]]), name="t")
    with pytest.raises(DataError, match="labels"):
        Dataset(X=np.ones((3, 2)), labels=[0, 1], name="t")
    with pytest.raises(DataError, match="image_shape"):
        Dataset(X=np.ones((3, 4)), image_shape=(3, 3), name="t")


# ---------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------


def test_load_digits() -> None:
    ds = load_digits()
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float64
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0 and ds.X.max() == 1.0
    assert set(np.unique(ds.labels)) == set(range(10))
    assert ds.image_shape == (8, 8) and ds.name == "digits"


# ---------------------------------------------------------------------------
# read_idx
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_roundtrip_with_md5(tmp_path: Path, compress: bool) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    content = idx_bytes(array)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(content) if compress else content)
    out = read_idx(path, expected_md5=md5(content))
    np.testing.assert_array_equal(out, array)
    assert out.dtype == np.uint8


def test_read_idx_other_dtype(tmp_path: Path) -> None:
    values = np.array([1.5, -2.0, 3.25], dtype=">f4")
    path = tmp_path / "f.idx"
    path.write_bytes(bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 3) + values.tobytes())
    np.testing.assert_array_equal(read_idx(path), values.astype(np.float32))


def test_read_idx_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError, match="not an IDX file") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_truncated_data(tmp_path: Path) -> None:
    content = idx_bytes(np.zeros((5, 28, 28), dtype=np.uint8))
    path = tmp_path / "cut.idx"
    path.write_bytes(content[:-10])
    with pytest.raises(DataError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_truncated_gzip(tmp_path: Path) -> None:
    gz = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint32).astype(np.uint8)))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_checksum_mismatch(tmp_path: Path) -> None:
    content = idx_bytes(np.ones((3, 2), dtype=np.uint8))
    path = tmp_path / "x.idx"
    path.write_bytes(content)
    wrong = "0" * 32
    with pytest.raises(DataError, match="md5") as info:
        read_idx(path, expected_md5=wrong)
    message = str(info.value)
    assert wrong in message and md5(content) in message and "re-download" in message


def test_read_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope.idx")


# ---------------------------------------------------------------------------
# load_mnist from a local directory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_load_mnist_fake_dir(
    tmp_path: Path, fake_contents: dict[str, bytes], fake_checksums: dict[str, str], compress: bool
) -> None:
    directory = write_fake_dir(tmp_path / "mnist", fake_contents, compress=compress)
    for split, n in N_FAKE.items():
        ds = load_mnist(directory, split=split, checksums=fake_checksums)
        assert ds.X.shape == (n, 784) and ds.X.dtype == np.float64
        assert ds.X.min() == 0.0 and ds.X.max() == 1.0
        assert ds.labels.dtype == np.int64
        np.testing.assert_array_equal(ds.labels, np.arange(n) % 10)
        assert ds.image_shape == (28, 28) and ds.name == "mnist"
        raw = np.frombuffer(fake_contents[MNIST_FILES[(split, "images")].base_name][16:], dtype=np.uint8)
        np.testing.assert_allclose(ds.X.ravel() * 255.0, raw)


def test_load_mnist_verifies_standard_checksums(tmp_path: Path, fake_contents: dict[str, bytes]) -> None:
    directory = write_fake_dir(tmp_path / "mnist", fake_contents)
    with pytest.raises(DataError, match="md5"):
        load_mnist(directory, split="test")  # fake files do not match the real MNIST md5
    assert load_mnist(directory, split="test", verify=False).n == N_FAKE["test"]


def test_load_mnist_missing_without_download(tmp_path: Path, fake_contents: dict[str, bytes]) -> None:
    missing_dir = tmp_path / "nowhere"
    with pytest.raises(DataError) as info:
        load_mnist(missing_dir, split="train")
    message = str(info.value)
    assert str(missing_dir) in message and "download=True" in message and "copy" in message

    partial = write_fake_dir(tmp_path / "partial", {k: v for k, v in fake_contents.items() if "labels" not in k})
    with pytest.raises(DataError, match="train-labels-idx1-ubyte") as info:
        load_mnist(partial, split="train")
    assert str(partial) in str(info.value)


def test_load_mnist_bad_split(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="split"):
        load_mnist(tmp_path, split="validation")


def test_find_mnist_file_variants(tmp_path: Path) -> None:
    (tmp_path / "t10k-images.idx3-ubyte").write_bytes(b"x")
    assert find_mnist_file(tmp_path, "t10k-images-idx3-ubyte").name == "t10k-images.idx3-ubyte"
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"x")
    assert find_mnist_file(tmp_path, "t10k-images-idx3-ubyte").name == "t10k-images-idx3-ubyte"
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"x")
    assert find_mnist_file(tmp_path, "t10k-images-idx3-ubyte").name == "t10k-images-idx3-ubyte.gz"
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        find_mnist_file(tmp_path, "t10k-labels-idx1-ubyte")


@pytest.mark.mnist
def test_load_real_mnist_test_split(mnist_dir: Path) -> None:
    ds = load_mnist(mnist_dir, split="test", verify=True)
    assert ds.X.shape == (10000, 784)
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert np.bincount(ds.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------------------
# download_mnist against a local HTTP server
# ---------------------------------------------------------------------------


def test_download_success(
    tmp_path: Path, server_url: str, fake_contents: dict[str, bytes], fake_checksums: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    out = download_mnist(cache, mirrors=(f"{server_url}/good/",), checksums=fake_checksums, timeout=5)
    assert out == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{name}.gz" for name in fake_contents)
    for name, content in fake_contents.items():
        assert gzip.decompress((cache / f"{name}.gz").read_bytes()) == content
    # Already present and valid: nothing is fetched again (the mirror is unreachable now).
    download_mnist(cache, mirrors=(f"{server_url}/missing/",), checksums=fake_checksums, timeout=5)
    ds = load_mnist(cache, split="train", checksums=fake_checksums)
    assert ds.X.shape == (N_FAKE["train"], 784)


def test_download_falls_back_to_next_mirror(
    tmp_path: Path, server_url: str, fake_checksums: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    mirrors = (f"{server_url}/missing/", f"{server_url}/good")
    names = [MNIST_FILES[("test", k)].base_name for k in ("images", "labels")]
    download_mnist(cache, mirrors=mirrors, files=names, checksums=fake_checksums, timeout=5)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in names)


@pytest.mark.parametrize("bad", ["corrupt", "truncated"])
def test_download_corrupt_leaves_nothing(
    tmp_path: Path, server_url: str, fake_checksums: dict[str, str], bad: str
) -> None:
    cache = tmp_path / "cache"
    mirrors = (f"{server_url}/missing/", f"{server_url}/{bad}/")
    name = MNIST_FILES[("train", "images")].base_name
    with pytest.raises(DataError) as info:
        download_mnist(cache, mirrors=mirrors, files=[name], checksums=fake_checksums, timeout=5)
    message = str(info.value)
    assert all(m in message for m in mirrors) and "404" in message
    assert not (cache / f"{name}.gz").exists()
    assert list(cache.iterdir()) == []


def test_download_replaces_corrupt_existing_file(
    tmp_path: Path, server_url: str, fake_contents: dict[str, bytes], fake_checksums: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    name = MNIST_FILES[("test", "labels")].base_name
    (cache / f"{name}.gz").write_bytes(b"garbage")
    download_mnist(cache, mirrors=(f"{server_url}/good/",), files=[name], checksums=fake_checksums, timeout=5)
    assert gzip.decompress((cache / f"{name}.gz").read_bytes()) == fake_contents[name]
    assert [p.name for p in cache.iterdir()] == [f"{name}.gz"]


def test_load_mnist_download_into_cache(
    tmp_path: Path, server_url: str, fake_checksums: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINDIFF_CACHE", str(tmp_path / "lc"))
    ds = load_mnist(
        split="test", download=True, mirrors=(f"{server_url}/good/",), checksums=fake_checksums
    )
    assert ds.X.shape == (N_FAKE["test"], 784)
    assert sorted(p.name for p in (tmp_path / "lc" / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]


def test_download_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mirrors"):
        download_mnist(tmp_path, mirrors=())
    with pytest.raises(ConfigError, match="files"):
        download_mnist(tmp_path, files=["cifar"])


# ---------------------------------------------------------------------------
# spiked model
# ---------------------------------------------------------------------------


def test_make_spiked_shapes_and_determinism() -> None:
    sp = make_spiked(d=10, n=50, lambdas=[3.0, 2.0, 1.0], floor=0.1, seed=3)
    assert sp.dataset.X.shape == (50, 10) and sp.basis.shape == (10, 3)
    assert sp.dataset.labels is None and sp.dataset.image_shape is None and sp.dataset.name == "spiked"
    np.testing.assert_allclose(sp.basis.T @ sp.basis, np.eye(3), atol=1e-12)
    again = make_spiked(d=10, n=50, lambdas=[3.0, 2.0, 1.0], floor=0.1, seed=3)
    np.testing.assert_array_equal(sp.dataset.X, again.dataset.X)
    other = make_spiked(d=10, n=50, lambdas=[3.0, 2.0, 1.0], floor=0.1, seed=4)
    assert not np.allclose(sp.dataset.X, other.dataset.X)
    noiseless = make_spiked(d=10, n=50, lambdas=[3.0, 2.0, 1.0], floor=0.0, seed=3)
    assert np.linalg.matrix_rank(noiseless.dataset.X) == 3


def test_make_spiked_covariance() -> None:
    lambdas, floor, n, d = np.array([5.0, 3.0, 2.0]), 0.5, 40000, 20
    sp = make_spiked(d=d, n=n, lambdas=lambdas, floor=floor, seed=0)
    X = sp.dataset.X
    evals = np.linalg.eigvalsh(X.T @ X / n)[::-1]
    np.testing.assert_allclose(evals[:3], lambdas**2 + floor**2, rtol=0.04)
    np.testing.assert_allclose(evals[3:], floor**2, rtol=0.15)
    np.testing.assert_allclose(X.T @ X / n, sp.covariance(), atol=0.35)


@pytest.mark.parametrize(
    "lambdas", [[1.0, 2.0], [1.0, -1.0], [0.0], [np.nan], [], [[1.0, 2.0]], [1.0] * 6]
)
def test_make_spiked_bad_lambdas(lambdas: list) -> None:
    with pytest.raises(ConfigError, match="lambdas"):
        make_spiked(d=5, n=10, lambdas=lambdas)


def test_make_spiked_bad_other_parameters() -> None:
    with pytest.raises(ConfigError, match="floor"):
        make_spiked(d=5, n=10, lambdas=[1.0], floor=-1.0)
    with pytest.raises(ConfigError, match="d="):
        make_spiked(d=0, n=10, lambdas=[1.0])
    with pytest.raises(ConfigError, match="n="):
        make_spiked(d=5, n=0, lambdas=[1.0])


# ---------------------------------------------------------------------------
# load_array_file
# ---------------------------------------------------------------------------


def test_load_npy(tmp_path: Path) -> None:
    X = np.random.default_rng(0).random((7, 16))
    path = tmp_path / "mydata.npy"
    np.save(path, X)
    ds = load_array_file(path)
    np.testing.assert_array_equal(ds.X, X)
    assert ds.name == "mydata" and ds.image_shape == (4, 4) and ds.labels is None


def test_load_npz(tmp_path: Path) -> None:
    X = np.arange(15, dtype=np.int32).reshape(5, 3)
    path = tmp_path / "d.npz"
    np.savez(path, data=X, y=np.array([0, 1, 0, 1, 2]))
    ds = load_array_file(path)
    assert ds.X.dtype == np.float64 and ds.image_shape is None
    np.testing.assert_array_equal(ds.labels, [0, 1, 0, 1, 2])
    np.savez(path, X=X)
    assert load_array_file(path).labels is None


def test_load_array_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_array_file(tmp_path / "missing.npy")

    txt = tmp_path / "a.csv"
    txt.write_text("1,2\n")
    with pytest.raises(DataError, match="extension"):
        load_array_file(txt)

    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="pickle") as info:
        load_array_file(obj)
    assert str(obj) in str(info.value)

    objz = tmp_path / "obj.npz"
    np.savez(objz, X=np.array([[1, None]], dtype=object))
    with pytest.raises(DataError, match="pickle"):
        load_array_file(objz)

    nan = tmp_path / "nan.npy"
    X = np.zeros((4, 2))
    X[2, 1] = np.nan
    X[3, 0] = np.inf
    np.save(nan, X)
    with pytest.raises(DataError, match=r"2 non-finite.*row 2"):
        load_array_file(nan)

    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 3, 4)))
    with pytest.raises(DataError, match=r"\(2, 3, 4\)") as info:
        load_array_file(cube)
    assert "(n_samples, d)" in str(info.value)

    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, X=np.zeros((4, 2)), labels=np.zeros(3, dtype=int))
    with pytest.raises(DataError, match="labels"):
        load_array_file(mismatch)

    nokey = tmp_path / "nokey.npz"
    np.savez(nokey, images=np.zeros((4, 2)))
    with pytest.raises(DataError, match="images"):
        load_array_file(nokey)


# ---------------------------------------------------------------------------
# load_dataset
# ---------------------------------------------------------------------------


def test_load_dataset_dispatch(tmp_path: Path) -> None:
    assert load_dataset("digits").n == 1797
    sp = load_dataset("spiked", d=4, n=6, lambdas=[1.0])
    assert isinstance(sp, Dataset) and sp.X.shape == (6, 4)
    np.save(tmp_path / "f.npy", np.ones((3, 2)))
    assert load_dataset("file", path=tmp_path / "f.npy").X.shape == (3, 2)
    with pytest.raises(ConfigError, match="path"):
        load_dataset("file")
    with pytest.raises(ConfigError, match=r"data=.*cifar.*digits.*mnist.*spiked.*file"):
        load_dataset("cifar")
    with pytest.raises(ConfigError, match="colour"):
        load_dataset("digits", colour=True)


# ---------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------


def _labeled(counts: list[int]) -> Dataset:
    labels = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(labels.size, dtype=float)[:, None] * np.ones((1, 3))
    return Dataset(X=X, labels=labels, name="toy")


def test_subset_stratified() -> None:
    ds = load_digits()
    counts = np.bincount(ds.labels)
    for n in (10, 37, 500):
        sub = subset(ds, n, seed=1)
        assert sub.n == n
        sub_counts = np.bincount(sub.labels, minlength=10)
        assert np.all(np.abs(sub_counts - n * counts / counts.sum()) <= 1)
    a, b = subset(ds, 100, seed=5), subset(ds, 100, seed=5)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, subset(ds, 100, seed=6).X)


def test_subset_keeps_order_and_rows() -> None:
    ds = _labeled([30, 10, 5])
    sub = subset(ds, 9, seed=0)
    idx = sub.X[:, 0].astype(int)
    assert np.all(np.diff(idx) > 0)  # original order, no repeats
    np.testing.assert_array_equal(sub.labels, ds.labels[idx])
    assert np.bincount(sub.labels).tolist() == [6, 2, 1]


def test_subset_every_class_at_least_once() -> None:
    ds = _labeled([100, 1, 1, 1])
    sub = subset(ds, 4, seed=0)
    assert np.bincount(sub.labels).tolist() == [1, 1, 1, 1]


def test_subset_unlabeled_and_full() -> None:
    ds = make_spiked(d=3, n=40, lambdas=[1.0]).dataset
    sub = subset(ds, 10, seed=2)
    assert sub.n == 10 and sub.labels is None
    full = subset(ds, 40)
    np.testing.assert_array_equal(full.X, ds.X)


@pytest.mark.parametrize("n", [0, 1, 41])
def test_subset_bad_n(n: int) -> None:
    ds = make_spiked(d=3, n=40, lambdas=[1.0]).dataset
    with pytest.raises(ConfigError, match="n=") as info:
        subset(ds, n)
    if n > 40:
        assert "40" in str(info.value)


def test_select_classes() -> None:
    ds = load_digits()
    sel = select_classes(ds, [3, 7])
    assert set(np.unique(sel.labels)) == {3, 7}
    assert sel.n == int(np.sum((ds.labels == 3) | (ds.labels == 7)))
    assert select_classes(ds, 0).n == int(np.sum(ds.labels == 0))
    with pytest.raises(ConfigError, match=r"class 11.*\[0, 1, 2"):
        select_classes(ds, [1, 11])
    unlabeled = make_spiked(d=3, n=5, lambdas=[1.0]).dataset
    with pytest.raises(ConfigError, match="class"):
        select_classes(unlabeled, 1)


def test_split_by_class() -> None:
    ds = _labeled([3, 4, 5])
    parts = split_by_class(ds)
    assert sorted(parts) == [0, 1, 2]
    assert [parts[c].n for c in range(3)] == [3, 4, 5]
    assert all(np.all(parts[c].labels == c) for c in parts)
    with pytest.raises(ConfigError, match="labels"):
        split_by_class(make_spiked(d=3, n=5, lambdas=[1.0]).dataset)


def test_scale_unit() -> None:
    ds = Dataset(X=np.array([[-2.0, 0.0], [2.0, 6.0]]), name="t")
    out = scale_unit(ds)
    np.testing.assert_allclose(out.X, [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_array_equal(ds.X, [[-2.0, 0.0], [2.0, 6.0]])  # input untouched
    with pytest.raises(DataError, match="constant"):
        scale_unit(Dataset(X=np.full((3, 2), 4.0), name="c"))


def test_center() -> None:
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    Xc, mean = center(X)
    np.testing.assert_allclose(mean, [2.0, 4.0])
    np.testing.assert_allclose(Xc.mean(axis=0), 0.0)
    assert mean.shape == (2,)


@pytest.mark.parametrize("labeled", [True, False])
def test_split_halves(labeled: bool) -> None:
    ds = _labeled([7, 4, 6]) if labeled else Dataset(X=np.arange(17.0)[:, None], name="u")
    a, b = split_halves(ds, seed=3)
    ia, ib = a.X[:, 0].astype(int), b.X[:, 0].astype(int)
    assert set(ia).isdisjoint(ib) and sorted(np.concatenate([ia, ib])) == list(range(17))
    assert abs(a.n - b.n) <= 1
    if labeled:
        assert np.all(np.abs(np.bincount(a.labels) - np.bincount(b.labels)) <= 1)
    a2, _ = split_halves(ds, seed=3)
    np.testing.assert_array_equal(a.X, a2.X)


def test_sha256_of_array() -> None:
    X = np.arange(12.0).reshape(3, 4)
    assert sha256_of_array(X) == sha256_of_array(np.asfortranarray(X))
    assert sha256_of_array(X) != sha256_of_array(X.reshape(4, 3))
    assert sha256_of_array(X) != sha256_of_array(X.astype(np.float32))
    assert len(sha256_of_array(X)) == 64


@pytest.mark.parametrize("rank", [0, 1, 3, 7])
def test_rank_at_least_matches_matrix_rank(rank):
    from lindiff.data import rank_at_least

    rng = np.random.default_rng(rank)
    X = rng.normal(size=(2000, rank)) @ rng.normal(size=(rank, 12)) if rank else np.zeros((2000, 12))
    want = np.linalg.matrix_rank(X)
    assert want == rank
    for needed in (1, rank, 12):
        assert rank_at_least(X, needed) == min(needed, want)


def test_check_scale_names_the_problem():
    from lindiff.data import check_scale

    assert check_scale(np.full((3, 2), -2.5), "x") == 2.5
    for X, text in ((np.zeros((3, 2)), "every value is zero"), (np.full((3, 2), 1e200), "overflow"),
                    (np.full((3, 2), 1e-300), "underflow")):
        with pytest.raises(DataError, match=text):
            check_scale(X, "data.path='x.npy'")


def test_digits_match_scikit_learn_without_importing_it():
    """The bundled digits are read straight from scikit-learn's csv (importing scikit-learn cost
    every digits job over a second): the same arrays as its loader, and sklearn never imported."""
    import subprocess
    import sys

    from sklearn.datasets import load_digits as sklearn_digits

    from lindiff.data import load_digits

    ours, theirs = load_digits(), sklearn_digits()
    np.testing.assert_array_equal(ours.X, theirs.data / 16.0)
    np.testing.assert_array_equal(ours.labels, theirs.target)
    probe = "import sys; from lindiff.data import load_digits; load_digits(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_sorted_pixels_checksum_ignores_pixel_order_only():
    from lindiff.data import sorted_pixels_sha256

    X = np.random.default_rng(0).random((20, 9))
    permuted = X[:, np.random.default_rng(1).permutation(9)]
    assert sorted_pixels_sha256(permuted) == sorted_pixels_sha256(X) != sha256_of_array(X)
    changed = X.copy()
    changed[3, 4] += 1e-9
    assert sorted_pixels_sha256(changed) != sorted_pixels_sha256(X)
    assert sorted_pixels_sha256(X[::-1]) != sorted_pixels_sha256(X)  # the rows stay in order
