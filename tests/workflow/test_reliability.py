"""Reliability: bad input fails before any compute, faults leave nothing stale, runs reproduce.

Every case runs the real workflow (``snakemake`` CLI) in a temporary working directory.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, copy_run, flip_inside_largest_member, point_dir, run_snakemake, snakemake_command

from lindiff import artifacts
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

# The deep stages are left out here (sweep.deep.n=[]) to keep these runs short; their
# determinism and checkpoint resume are tested in tests/unit/test_deep.py.
SMOKE = ("sweep=smoke generate.n_samples=100 sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] "
         "sweep.theory.n=[]")
# Two seeds and two ranks: the runs of TWINS serve the reproducibility tests (a seed against the
# other) and, copied, the tests that damage a finished run.
TWINS = f"{SMOKE} sweep.rank=[3,4] sweep.seed=[0,1]"


@pytest.fixture(scope="module")
def twin_runs(tmp_path_factory) -> list[Path]:
    """TWINS run at once in two working directories (so that they could collide, if they shared
    any state). Read only: a test that changes a run works on a copy (:func:`helpers.copy_run`)."""
    dirs = [tmp_path_factory.mktemp(name) for name in ("twin_a", "twin_b")]
    processes = [subprocess.Popen(snakemake_command(d, TWINS, "--cores", "2"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for d in dirs]
    outputs = [p.communicate(timeout=600) for p in processes]
    for p, (_, err) in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    return dirs




# --------------------------------------------------------------------------- bad input


def _write_idx(path: Path, array: np.ndarray, magic: bytes | None = None) -> None:
    header = magic or bytes([0, 0, 8, array.ndim])
    payload = header + b"".join(np.uint32(s).byteswap().tobytes() for s in array.shape) + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(payload)


def _fake_mnist(directory: Path, *, magic: bytes | None = None, truncate: bool = False) -> str:
    """Four small, well-formed IDX files (which fail the real MNIST checksums)."""
    directory.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 30), ("t10k", 10)):
        _write_idx(directory / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)), magic)
        _write_idx(directory / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    if truncate:
        images = directory / "train-images-idx3-ubyte.gz"
        images.write_bytes(images.read_bytes()[:200])
    return str(directory)


def _npy(tmp: Path, name: str, array) -> str:
    path = tmp / name
    np.save(path, array, allow_pickle=True)
    return str(path)


def _rows(scale=1.0, rank=5, n=300, d=5) -> np.ndarray:
    """``n`` samples in ``d`` dimensions spanning ``rank`` of them, times ``scale``."""
    rng = np.random.default_rng(0)
    return scale * (rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)))


def _symlink_to_text(tmp: Path) -> str:
    (tmp / "notes.txt").write_text("1 2 3\n4 5 6\n")
    (tmp / "linked.npy").symlink_to(tmp / "notes.txt")
    return str(tmp / "linked.npy")


FILE_SMOKE = "data=file learn.k=4"

ALIAS_BOMB = "# @package _global_\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'x'] * 9)}]\n" for i in range(9))  # 9^9 nodes in ~400 bytes


def _preset_dir(tmp: Path, text: str) -> str:
    """A searchpath folder inside the working directory with one experiment preset."""
    folder = tmp / "work" / "myconf" / "experiment"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text(text)
    return str(tmp / "work" / "myconf")


def _npz(tmp: Path, name: str, **arrays) -> str:
    path = tmp / name
    np.savez(path, **arrays)
    return str(path)


# (id, overrides builder taking the temp dir, what the message must name)
BAD_INPUT = [
    ("unknown data set", lambda t: "data=imagenet", "data"),
    ("unknown data name", lambda t: "data.name=imagenet", "data.name"),
    ("unknown schedule", lambda t: "sweep.schedule=[quadratic]", "sweep.schedule"),
    ("unknown sweep", lambda t: "sweep=huge", "sweep"),
    ("wrong type", lambda t: "sweep.T=[abc]", "sweep.T"),
    ("T < 1", lambda t: "sweep.T=[0]", "sweep.T"),
    ("n < 2", lambda t: "sweep.n=[1]", "sweep.n"),
    ("n > data size", lambda t: "sweep.n=[5000]", "sweep.n"),
    ("rank 0", lambda t: "sweep.rank=[0]", "sweep.rank"),
    ("rank > d", lambda t: "learn.k=100 sweep.rank=[100]", "sweep.rank"),
    ("rank > stored components", lambda t: "sweep.rank=[31]", "learn.k"),
    ("negative sigma_max", lambda t: "schedules.linear.sigma_max=-1", "schedules.linear.sigma_max"),
    ("non-finite sigma_max", lambda t: "schedules.linear.sigma_max=nan", "schedules.linear.sigma_max"),
    ("empty sweep axis", lambda t: "sweep.seed=[]", "sweep.seed"),
    ("duplicate sweep values", lambda t: "sweep.n=[100,100]", "sweep.n"),
    ("missing MNIST directory", lambda t: f"data=mnist data.dir={t / 'absent'}", "data.download=true"),
    ("truncated gzip", lambda t: f"data=mnist data.dir={_fake_mnist(t / 'trunc', truncate=True)}", "train-images"),
    ("wrong IDX magic", lambda t: f"data=mnist data.dir={_fake_mnist(t / 'magic', magic=bytes([1, 2, 8, 3]))}", "magic"),
    ("checksum mismatch", lambda t: f"data=mnist data.dir={_fake_mnist(t / 'fake')}", "md5"),
    ("npy with NaN", lambda t: f"data=file data.path={_npy(t, 'nan.npy', np.full((20, 4), np.nan))}", "nan.npy"),
    ("npy with inf", lambda t: f"data=file data.path={_npy(t, 'inf.npy', np.full((20, 4), np.inf))}", "inf.npy"),
    ("npy needing pickle", lambda t: f"data=file data.path={_npy(t, 'obj.npy', np.array([{'a': 1}] * 3))}", "pickle"),
    ("wrong array rank", lambda t: f"data=file data.path={_npy(t, 'cube.npy', np.zeros((5, 4, 3)))}", "cube.npy"),
    ("labels length mismatch",
     lambda t: f"data=file data.path={_npz(t, 'lab.npz', X=np.ones((50, 4)), labels=np.zeros(49))}", "lab.npz"),
    ("class absent", lambda t: "sweep.classes=[11]", "sweep.classes"),
    ("unwritable results directory", lambda t: f"results_dir={t / 'a_file' / 'results'}", "results_dir"),
    ("results outside the working directory", lambda t: "results_dir=../elsewhere", "results_dir"),
    ("results_dir=/", lambda t: "results_dir=/", "a filesystem root"),
    ("empty results_dir", lambda t: "results_dir=''", "results_dir is empty"),
    ("results_dir = the working directory", lambda t: "results_dir=.", "the working directory"),
    ("results_dir = home", lambda t: "results_dir=${oc.env:HOME}", "home directory"),
    ("searchpath outside the working directory", lambda t: "hydra.searchpath=[file:///etc] experiment=smoke",
     "hydra.searchpath"),
    ("YAML alias bomb", lambda t: f"hydra.searchpath=[file://{_preset_dir(t, ALIAS_BOMB)}] experiment=mine",
     "YAML aliases"),
    ("other hydra settings", lambda t: "hydra.run.dir=/tmp/x", "hydra.run.dir"),
    # memory estimated from the config, refused before any job (and before loading the data)
    ("too many samples for memory", lambda t: "generate.n_samples=1000000000", "generate.n_samples"),
    ("chain too long for memory", lambda t: "sweep.T=[10000000]", "sweep.T"),
    ("synthetic data too big to make", lambda t: "data=spiked data.n_total=100000000 learn.k=3 sweep.rank=[3]",
     "building the workflow"),
    ("unknown W&B mode", lambda t: "wandb.mode=sometimes", "wandb.mode"),
    ("unknown config key", lambda t: "+learn.speed=3", "speed"),
    # issue 12.4: data whose Gram overflows or vanishes, and data spanning fewer dimensions than asked
    ("overflowing data", lambda t: f"{FILE_SMOKE} data.path={_npy(t, 'big.npy', _rows(1e200))}", "big.npy"),
    ("all-zero data", lambda t: f"{FILE_SMOKE} data.path={_npy(t, 'zero.npy', _rows(0.0))}", "zero.npy"),
    ("underflowing data", lambda t: f"{FILE_SMOKE} data.path={_npy(t, 'tiny.npy', _rows(1e-300))}", "tiny.npy"),
    ("constant rows", lambda t: f"{FILE_SMOKE} data.path={_npy(t, 'const.npy', np.ones((300, 5)))}", "spans only 1"),
    ("duplicated rows", lambda t: f"{FILE_SMOKE} data.path={_npy(t, 'dup.npy', np.tile(_rows()[:3], (100, 1)))}",
     "spans only 3"),
    ("rank-deficient data for learn.k", lambda t: f"{FILE_SMOKE} sweep.rank=[2] data.path={_npy(t, 'r3.npy', _rows(rank=3))}",
     "learn.k=4"),
    ("rank above n", lambda t: "sweep.n=[3] sweep.rank=[4]", "sweep.rank=4 exceeds the 3 directions"),
    ("symlink to a text file", lambda t: f"data=file data.path={_symlink_to_text(t)}", "is not a .npy file"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize("case, build, key", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_fails_before_any_compute(tmp_path, case, build, key):
    (tmp_path / "a_file").write_text("not a directory")
    workdir = tmp_path / "work"
    workdir.mkdir()
    overrides = f"{SMOKE} {build(tmp_path)}"
    start = time.perf_counter()
    result = run_snakemake(workdir, overrides, "--cores", "1")
    assert result.returncode != 0, result.stdout[-2000:]
    assert key in result.stderr, result.stderr[-2000:]
    assert not (workdir / "results").exists(), "an artifact was written"
    assert not list(workdir.glob(".snakemake/log/*")) or "Select jobs" not in result.stderr
    assert time.perf_counter() - start < 60


@pytest.mark.bad_input
def test_snakemake_config_key_is_checked(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
         "--cores", "1", "--config", "sweep=paper"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "sweep" in result.stderr and "overrides" in result.stderr


# Snakemake parses --config values as YAML (issue 12.5): " #..." was dropped as a comment and
# a quoted value lost its quotes. lindiff reads the overrides as typed.


@pytest.mark.bad_input
def test_hash_in_overrides_is_not_a_silent_comment(tmp_path):
    result = run_snakemake(tmp_path, "sweep=smoke #sweep.T=[abc]", "-n")
    assert result.returncode != 0, "the text after ' #' was dropped and the sweep ran"
    assert "#sweep.T=[abc]" in result.stdout + result.stderr


@pytest.mark.parametrize("quoting", ["'data.path={path}'", "data.path='{path}'", '"data.path={path}"'])
def test_data_path_with_a_space_can_be_quoted(tmp_path, quoting):
    data_dir = tmp_path / "my data"
    data_dir.mkdir()
    path = data_dir / "x.npy"
    np.save(path, np.random.default_rng(0).normal(size=(300, 5)))
    overrides = (f"sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] sweep.theory.n=[] "
                 f"sweep.rank=[2] "
                 f"learn.k=4 "
                 f"data=file {quoting.format(path=path)}")
    result = run_snakemake(tmp_path, overrides, "-n")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "results/file/all/n100_s0/linear_T" in result.stdout


def test_overrides_as_a_yaml_list(tmp_path):
    result = run_snakemake(tmp_path, "[sweep=smoke, 'sweep.T=[7]']", "-n")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "linear_T7/learn/bases.npz" in result.stdout


def test_snakemake_overrides_reads_the_raw_text():
    from lindiff.pipeline.config import parse_overrides, snakemake_overrides

    # what Snakemake's YAML parse made of each, and the raw --config entry
    assert snakemake_overrides("sweep=smoke", ["overrides=sweep=smoke #x"]) == "sweep=smoke #x"
    assert parse_overrides(snakemake_overrides("a=b c", ["overrides='a=b c'"])) == ["a=b c"]
    assert snakemake_overrides(["a=1", "b=2"], ["overrides=[a=1, b=2]"]) == ["a=1", "b=2"]
    assert snakemake_overrides("x=1", []) == "x=1", "a config file's value is used as is"


# --------------------------------------------------------------------------- faults


def _script_pids(workdir: Path, name: str) -> list[int]:
    """PIDs of the rule script ``name`` run by Snakemake in ``workdir`` (and nowhere else: other
    workflows on the machine, e.g. a user's sweep, are never touched)."""
    scripts = str(workdir.resolve() / ".snakemake" / "scripts")
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if scripts in line and line.rstrip().endswith(f".{name}.py")]


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


LONG_LEARN = f"{SMOKE} sweep.T=[6000]"
BASES = point_dir("learn", data="digits", cond="all", n=100, seed=0, schedule="linear", T=6000) / "learn/bases.npz"


@pytest.fixture(scope="module")
def uninterrupted_long_learn(tmp_path_factory):
    reference = tmp_path_factory.mktemp("reference")
    clean = run_snakemake(reference, LONG_LEARN, "--cores", "2")
    assert clean.returncode == 0, clean.stderr[-3000:]
    return reference


def _kill_during_learn(workdir: Path, target: str) -> subprocess.Popen:
    """Start the long-learn sweep in ``workdir`` and ``kill -9`` either the learn job's script
    (``job``) or the Snakemake process itself (``snakemake``: the job is orphaned) mid-learn."""
    process = subprocess.Popen(snakemake_command(workdir, LONG_LEARN, "--cores", "1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = workdir / "results/logs/learn/digits/all/n100_s0/linear_T6000.log"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        pids = _script_pids(workdir, "learn")
        if pids and log.exists() and "learn: n=" in log.read_text(errors="replace"):
            for pid in pids if target == "job" else [process.pid]:
                os.kill(pid, signal.SIGKILL)
            process.wait(timeout=60)
            return process
        time.sleep(0.2)
    pytest.fail(f"the learn job was never seen running (exit {process.poll()}, log exists {log.exists()})")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["job", "snakemake"])
def test_killed_learn_reruns_to_identical_artifacts(tmp_path, uninterrupted_long_learn, target):
    """kill -9 of the learn job, or of Snakemake while learn runs (issue 12.1: the rerun met a
    LockException and an orphan still writing); the plain rerun completes, arrays identical."""
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    process = _kill_during_learn(interrupted, target)
    assert process.returncode != 0
    if target == "snakemake":
        assert list((interrupted / ".snakemake/locks").glob("*.lock")), "the killed Snakemake left no lock"
        deadline = time.time() + 30
        while _script_pids(interrupted, "learn") and time.time() < deadline:
            time.sleep(0.2)
        assert not _script_pids(interrupted, "learn"), "the orphaned learn job is still running"
    assert not (interrupted / BASES).exists(), "a killed job left its final artifact"
    rerun = run_snakemake(interrupted, LONG_LEARN, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    if target == "snakemake":
        assert "removed the stale locks of a killed Snakemake process" in rerun.stderr
    for name in (BASES, BASES.parent.parent / "r4/samples.npz"):
        got, want = _arrays(interrupted / name), _arrays(uninterrupted_long_learn / name)
        assert got.keys() == want.keys()
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name}:{key}")
    assert not list((interrupted / "results").rglob(".*.tmp")), "stale temporary files remain"


def test_locks_of_a_live_snakemake_are_kept(tmp_path):
    """The stale-lock guard must not break a running Snakemake's lock: with a recorded live
    process, the locks stay (and Snakemake refuses); with only dead ones, they go."""
    from lindiff.pipeline.runs.processes import RunRegistry

    locks = tmp_path / ".snakemake/locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text("results/x\n")
    registry = RunRegistry(tmp_path / ".snakemake")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        registry.register(sleeper.pid)
        assert registry.remove_stale_locks() == []
        assert (locks / "0.output.lock").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert registry.remove_stale_locks() == [sleeper.pid]
    assert not list(locks.glob("*.lock"))
    (locks / "0.output.lock").write_text("results/x\n")
    assert registry.remove_stale_locks() == [], "locks nobody recorded are not ours to remove"
    assert (locks / "0.output.lock").exists()


def _tree_digest(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (its W&B runs and Snakemake's own state aside) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"wandb", ".snakemake"} & set(p.relative_to(root).parts)}


# Files lindiff did not write, in the results tree: at no path a rule declares, with names and
# suffixes of artifacts (one malformed), so that a scan of the whole tree would take them for corrupt.
FOREIGN_FILES = {
    "results/n/a.json": b"[1]\n",
    "results/.vscode/settings.json": b"{}\n",
    "results/digits/all/n100_s0/notes/bases.npz": b"not a zip file",
    "results/digits/all/n100_s0/linear_T5/learn/old_bases.npz": b"PK truncated",
}


def test_corrupt_artifacts_are_rebuilt_not_trusted(tmp_path, twin_runs):
    """A truncated bases.npz used to fail every rerun and was never rebuilt. Now a truncated
    artifact is forced to rerun while the DAG is built (the same run rebuilds it, nothing is moved);
    one whose damage only its CRC shows fails its consumer, which moves it aside, and the next run
    rebuilds it. Dry runs and --list-rules change no byte of the tree, and files at paths no rule
    declares are never touched, by any call."""
    point = point_dir("rank", data="digits", cond="all", n=100, seed=0, schedule="linear", T=5, rank=4)
    bases, samples = point.parent / "learn/bases.npz", point / "samples.npz"
    copy_run(twin_runs[0], tmp_path)
    want_bases, want_samples = _arrays(tmp_path / bases), _arrays(tmp_path / samples)

    for name, content in FOREIGN_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    data = (tmp_path / bases).read_bytes()
    (tmp_path / bases).write_bytes(data[: len(data) // 2])
    tree = _tree_digest(tmp_path)
    for args in (["-n"], ["--dry-run", "--forcerun", "analyze"], ["--list-rules"], ["--lint"]):
        call = run_snakemake(tmp_path, TWINS, *args)
        assert call.returncode == 0, (args, call.stderr[-3000:])
        assert _tree_digest(tmp_path) == tree, f"snakemake {' '.join(args)} changed the results tree"
    dry = run_snakemake(tmp_path, TWINS, "-n")
    assert f"{bases} is corrupt" in dry.stderr and "a real run rebuilds it" in dry.stderr
    assert "learn" in dry.stdout and "analyze" in dry.stdout  # the jobs a real run reruns
    assert not any(name in dry.stderr for name in FOREIGN_FILES)

    rerun = run_snakemake(tmp_path, TWINS, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{bases} is corrupt" in rerun.stderr and "this run rebuilds it" in rerun.stderr
    for key, value in want_bases.items():
        np.testing.assert_array_equal(_arrays(tmp_path / bases)[key], value)
    for name, content in FOREIGN_FILES.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert not list(tmp_path.rglob("*.corrupt"))

    flip_inside_largest_member(tmp_path / samples)
    failed = run_snakemake(tmp_path, TWINS, "--cores", "2")
    assert failed.returncode != 0
    assert (tmp_path / f"{samples}.corrupt").exists() and not (tmp_path / samples).exists()
    analyze_log = tmp_path / "results/logs/analyze" / f"{point.relative_to('results')}.log"
    assert "moved aside" in analyze_log.read_text()
    rebuilt = run_snakemake(tmp_path, TWINS, "--cores", "2")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    for key, value in want_samples.items():
        np.testing.assert_array_equal(_arrays(tmp_path / samples)[key], value)


def test_a_final_table_with_a_flipped_byte_is_rebuilt(tmp_path, twin_runs):
    """A byte flipped in sweeps/<name>/summary.parquet (mtime kept) was never rebuilt, and a plain
    pandas.read_parquet returned other values without an error. Its content digest is checked while
    the DAG is built: aggregate reruns and writes the same table again. Likewise a truncated
    figure and a sidecar overwritten with garbage: their job reruns."""
    import pyarrow.parquet as pq

    copy_run(twin_runs[0], tmp_path)
    summary = tmp_path / "results/sweeps/smoke/summary.parquet"
    want, data, stat = pd.read_parquet(summary), summary.read_bytes(), summary.stat()
    for offset in range(len(data) // 4, 3 * len(data) // 4):  # a flip that a plain read takes for other values
        flipped = bytearray(data)
        flipped[offset] ^= 0x10
        summary.write_bytes(bytes(flipped))
        try:
            pq.read_metadata(summary)
            silent = not pd.read_parquet(summary).equals(want)
        except Exception:  # noqa: BLE001 - a flip pyarrow notices: try the next byte
            silent = False
        if silent:
            break
    else:
        pytest.fail("no byte flip of the summary reads back silently as other values")
    os.utime(summary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # a truncated figure and a garbage sidecar (mtimes kept) were never rebuilt either
    point = tmp_path / point_dir("rank", data="digits", cond="all", n=100, seed=0, schedule="linear", T=5, rank=4)
    figure, sidecar = point / "fig5_correlations.png", point / "analyze.config.yaml"
    for path, content in ((figure, figure.read_bytes()[:200]), (sidecar, b"\x00: [garbage")):
        kept = path.stat()
        path.write_bytes(content)
        os.utime(path, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    dry = run_snakemake(tmp_path, TWINS, "-n")
    assert dry.returncode == 0 and "summary.parquet is corrupt" in dry.stderr, dry.stderr[-3000:]
    assert "fig5_correlations.png is corrupt" in dry.stderr and "sidecars are unreadable" in dry.stderr
    assert "aggregate" in dry.stdout and "analyze" in dry.stdout
    assert summary.read_bytes() == bytes(flipped) and sidecar.read_bytes() == b"\x00: [garbage"  # a dry run writes nothing
    rerun = run_snakemake(tmp_path, TWINS, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    pd.testing.assert_frame_equal(artifacts.read_parquet(summary), want)
    assert figure.read_bytes().endswith(b"IEND\xaeB`\x82") and "config" in sidecar.read_text()


def test_deleted_sidecars_are_written_again(tmp_path, twin_runs):
    """issue 12.6: a deleted learn/config.yaml was never restored (learn's other outputs were in place)."""
    point = point_dir("rank", data="digits", cond="all", n=100, seed=0, schedule="linear", T=5, rank=4)
    sidecars = [point.parent / "learn/config.yaml", point / "analyze.config.yaml"]
    copy_run(twin_runs[0], tmp_path)
    for sidecar in sidecars:
        (tmp_path / sidecar).unlink()
    rerun = run_snakemake(tmp_path, TWINS, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for sidecar in sidecars:
        assert "stage:" in (tmp_path / sidecar).read_text(), sidecar


def test_wandb_failure_leaves_complete_artifacts(tmp_path):
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"WANDB_BASE_URL": f"http://127.0.0.1:{port}", "WANDB_API_KEY": "x" * 40}
    result = run_snakemake(tmp_path, f"{SMOKE} wandb=online wandb.init_timeout=3", "--cores", "2", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "results/sweeps/smoke/summary.parquet").is_file()
    log = (tmp_path / "results/logs/learn/digits/all/n100_s0/linear_T5.log").read_text()
    assert "W&B skipped" in log or "W&B online skipped" in log


def test_unanswering_wandb_server_costs_one_timeout_per_run(tmp_path):
    """issue 12: a host that accepts and never answers made every job wait its init_timeout.
    Now the first job waits, says so and logs offline; the later ones go offline at once."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)  # connections complete in the kernel; nothing ever answers
    try:
        env = {"WANDB_BASE_URL": f"http://127.0.0.1:{server.getsockname()[1]}", "WANDB_API_KEY": "x" * 40}
        result = run_snakemake(tmp_path, f"{SMOKE} wandb=online wandb.init_timeout=3", "--cores", "1", env=env)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr[-3000:]
    logs = {p: p.read_text() for p in (tmp_path / "results/logs").rglob("*.log")}
    waited = [p for p, text in logs.items() if "later jobs of this run go offline without waiting" in text]
    skipped = [p for p, text in logs.items() if "W&B online skipped without waiting" in text]
    assert len(waited) == 1, waited
    assert len(skipped) == len(logs) - 1 >= 4, sorted(logs)
    runs = [r for r in find_wandb_files(tmp_path / "results/wandb") if r.parent.name.startswith("offline-run-")]
    assert len(runs) == len(logs), "every job logged offline instead"
    assert all(read_wandb_file(r).config for r in runs)


@pytest.mark.slow
def test_concurrent_sweeps_share_no_state(twin_runs):
    """The same sweep run at once in two working directories: distinct W&B runs, identical numbers."""
    runs = [read_wandb_file(f) for d in twin_runs for f in find_wandb_files(d / "results/wandb")]
    assert len(runs) == 2 * (2 + 2 + 2 + 4 + 4 + 1)  # data, learn, analyze_bases per seed; generate, analyze per rank
    assert len({r.run_id for r in runs}) == len(runs)
    # same config in both directories: identical numbers
    summaries = [pd.read_parquet(d / "results/sweeps/smoke/summary.parquet") for d in twin_runs]
    pd.testing.assert_frame_equal(summaries[0], summaries[1])


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("artifact", ["data/train.npz", "linear_T5/learn/bases.npz", "linear_T5/r4/samples.npz"])
def test_same_config_same_arrays(twin_runs, artifact):
    first, second = twin_runs
    path = point_dir("data", data="digits", cond="all", n=100, seed=0) / artifact
    a, b = _arrays(first / path), _arrays(second / path)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_same_config_same_tables_and_metrics(twin_runs):
    first, second = twin_runs
    point = point_dir("learn", data="digits", cond="all", n=100, seed=0, schedule="linear", T=5)
    for table in ("sin_theta.parquet", "r4/pc_distribution.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(first / point / table), pd.read_parquet(second / point / table))
    assert artifacts.read_json(first / point / "r4/metrics.json") == artifacts.read_json(second / point / "r4/metrics.json")


def test_different_seed_different_noise(twin_runs):
    first = twin_runs[0]
    a = _arrays(first / "results/digits/all/n100_s0/linear_T5/r4/samples.npz")["initial_noise"]
    b = _arrays(first / "results/digits/all/n100_s1/linear_T5/r4/samples.npz")["initial_noise"]
    assert not np.allclose(a, b)


def test_sidecars_record_provenance(twin_runs):
    import yaml

    first = twin_runs[0]
    for sidecar in first.glob("results/**/*config.yaml"):
        meta = yaml.safe_load(sidecar.read_text())
        assert meta["lindiff_version"] and meta["config"] and "numpy" in meta["packages"], sidecar
        assert len(meta.get("data_sha256", "")) == 64, sidecar


# --------------------------------------------------------------------------- security hygiene


def test_no_pickle_anywhere_in_the_code():
    sources = [p for p in (REPO / "lindiff").rglob("*.py")] + list((REPO / "workflow/scripts").glob("*.py"))
    for path in sources:
        text = path.read_text()
        assert "allow_pickle=True" not in text, path
        assert "eval(" not in text.replace("model.eval(", "").replace(".eval()", ""), path
        assert "pickle.load" not in text, path
        if "torch.load(" in text:
            assert "weights_only=True" in text, path


def test_loaders_refuse_pickled_artifacts(tmp_path):
    path = tmp_path / "bases.npz"
    np.savez(path, U=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="npz"):
        artifacts.load_bases(path)


def test_half_written_artifact_is_rejected(tmp_path):
    from lindiff.errors import DataError
    from lindiff.linear.learn import learn_bases
    from lindiff.linear.schedules import make_schedule

    bases = learn_bases(np.random.default_rng(0).random((20, 5)), make_schedule("linear", 3), k=2)
    path = artifacts.save_bases(tmp_path / "bases.npz", bases, np.zeros(4))
    payload = path.read_bytes()
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match="bases.npz"):
        artifacts.load_bases(path)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with artifacts.atomic_write(target) as fh:
            fh.write(b"partial")
            raise RuntimeError("crash mid-write")
    assert not target.exists() and not list(tmp_path.iterdir())


def test_download_is_verified_before_use(tmp_path):
    """A mirror serving a corrupt file: nothing reaches the cache's final path."""
    import http.server

    from lindiff.data import download_mnist
    from lindiff.errors import DataError

    served = tmp_path / "served"
    served.mkdir()
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"))
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cache = tmp_path / "cache"
        with pytest.raises(DataError, match="md5|checksum"):
            download_mnist(cache, mirrors=(f"http://127.0.0.1:{server.server_address[1]}/",),
                           files=["t10k-labels-idx1-ubyte"], timeout=5)
        assert not list(cache.glob("*")) if cache.exists() else True
    finally:
        server.shutdown()
        server.server_close()


DEEP_RUN = ("sweep=smoke generate.n_samples=100 deep.sizes.quick.epochs=12 deep.jacobian.n_points=2 deep.paths=1 "
            "sweep.deep.size=[quick] sweep.deep.sampler=[ascent] deep.quality.n_samples=20")
DEEP_DIR = point_dir("deep", data="digits", n=200, size="quick", seed=0)
MODEL = ("--", str(DEEP_DIR / "model.pt"))  # the target: the training job and the training set it needs


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    """kill -9 the deep training mid-run: the rerun resumes from the last checkpoint and ends
    with the same weights as an uninterrupted run."""
    import torch

    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    reference.mkdir(), interrupted.mkdir()
    process = subprocess.Popen(snakemake_command(interrupted, DEEP_RUN, "--cores", "2", *MODEL),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = interrupted / DEEP_DIR / "checkpoints"  # <config digest>/checkpoint.pt
    deadline, killed = time.time() + 300, False
    while time.time() < deadline and process.poll() is None and not killed:
        if list(checkpoints.glob("*/checkpoint.pt")):
            for pid in _script_pids(interrupted, "train_denoiser"):
                os.kill(pid, signal.SIGKILL)
                killed = True
        time.sleep(0.2)
    assert killed, f"the training job was never seen with a checkpoint (exit {process.poll()})"
    assert process.wait(timeout=300) != 0
    assert not (interrupted / DEEP_DIR / "model.pt").exists(), "a killed job left its final artifact"
    rerun = run_snakemake(interrupted, DEEP_RUN, "--cores", "2", *MODEL)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert artifacts.read_json(interrupted / DEEP_DIR / "train_metrics.json")["resumed_from_epoch"] > 0
    clean = run_snakemake(reference, DEEP_RUN, "--cores", "2", *MODEL)
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert artifacts.read_json(reference / DEEP_DIR / "train_metrics.json")["resumed_from_epoch"] == 0
    got = torch.load(interrupted / DEEP_DIR / "model.pt", weights_only=True)["state_dict"]
    want = torch.load(reference / DEEP_DIR / "model.pt", weights_only=True)["state_dict"]
    assert got.keys() == want.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0, msg=key)
