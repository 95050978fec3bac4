"""Tests for lindiff.pipeline.tracking and lindiff.pipeline.wandb_file against the real wandb package, offline, without mocks."""

from __future__ import annotations

import logging
import re
import socket
import time
from pathlib import Path

import pandas as pd
import pytest

from lindiff.errors import ConfigError, DataError
from lindiff.pipeline.tracking import Tracker, flatten_config, make_run_id, start_run
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

wandb = pytest.importorskip("wandb")

CONFIG = {
    "data": {"name": "gaussian", "n": 100, "dims": [2, 3]},
    "schedule": {"kind": "linear", "T": 10, "sigma_max": 2.5},
    "seed": 7,
}
SIGMA_BAR = [0.0, 0.5, 1.0]
SIN_THETA = [0.0, 0.25, 0.75]


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty directory, to check that nothing lands in the cwd."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _write_png(path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    fig.savefig(path, format="png", dpi=30)
    return path


# --------------------------------------------------------------------------- helpers


def test_flatten_config_dotted_keys_and_lists() -> None:
    flat = flatten_config({"a": {"b": 1, "c": [1, {"d": (2, 3)}], "e": {}}, "f": "x"})
    assert flat == {"a.b": 1, "a.c": [1, {"d": [2, 3]}], "a.e": {}, "f": "x"}
    assert flatten_config({"a": {"b": 1}}, sep="/") == {"a/b": 1}


def test_flatten_config_rejects_colliding_keys() -> None:
    with pytest.raises(ConfigError, match="a.b"):
        flatten_config({"a.b": 1, "a": {"b": 2}})


def test_make_run_id_valid_stable_hash_and_unique() -> None:
    ids = {make_run_id("Learn_Chain (MNIST)", "n=100,seed=3") for _ in range(50)}
    assert len(ids) == 50
    for run_id in ids:
        assert re.fullmatch(r"[a-z0-9-]+", run_id) and len(run_id) <= 64
        assert run_id.startswith("learn-chain-mnist-")
    assert len({i.rsplit("-", 1)[0] for i in ids}) == 1  # same point → same hash part
    assert make_run_id("x", "p1").split("-")[1] != make_run_id("x", "p2").split("-")[1]
    assert len(make_run_id("s" * 200, "p")) <= 64
    assert make_run_id("???", "p").startswith("run-")


# --------------------------------------------------------------------------- offline run


def test_offline_run_round_trip(tmp_path: Path, empty_cwd: Path) -> None:
    png = _write_png(tmp_path / "fig.png")
    run_dir = tmp_path / "job"  # created by start_run
    table = pd.DataFrame({"index": range(5), "eigenvalue": [5.0, 4.0, 3.0, 2.0, 1.0]})

    t0 = time.perf_counter()
    tracker = start_run(
        "offline", "lindiff-test", group="sweep-a", job_type="learn", config=CONFIG,
        run_dir=run_dir, name="learn-n100", run_id=make_run_id("learn", "n=100"), tags=["test"],
    )
    with tracker:
        assert tracker.active and tracker.reason is None
        tracker.define_step_metric("sin_theta/*", "sigma_bar")
        for step, (sb, st) in enumerate(zip(SIGMA_BAR, SIN_THETA)):
            tracker.log({"sigma_bar": sb, "sin_theta/0": st}, step=step)
        tracker.log_image("fig/sin_theta", png, caption="sin theta")
        tracker.log_table("eigenvalues", table, max_rows=3)
        tracker.set_summary({"final/sin_theta_0": 0.75, "n": 100})
    elapsed = time.perf_counter() - t0
    assert not tracker.active
    assert elapsed < 30

    assert list(empty_cwd.iterdir()) == []
    files = find_wandb_files(tmp_path)
    assert files == [tracker.run_path]
    assert files[0].name == f"run-{tracker.run_id}.wandb"
    assert files[0].is_relative_to(run_dir)

    run = read_wandb_file(files[0])
    assert (run.run_id, run.project, run.group, run.job_type) == (
        tracker.run_id, "lindiff-test", "sweep-a", "learn",
    )
    assert run.name == "learn-n100" and run.tags == ["test"]
    assert run.config == flatten_config(CONFIG)
    assert run.config["data.dims"] == [2, 3] and run.config["schedule.sigma_max"] == 2.5

    metric_rows = [row for row in run.history if "sigma_bar" in row]
    assert [row["sigma_bar"] for row in metric_rows] == SIGMA_BAR
    assert [row["sin_theta/0"] for row in metric_rows] == SIN_THETA
    assert [row["_step"] for row in metric_rows] == [0, 1, 2]
    image_rows = [row for row in run.history if "fig/sin_theta" in row]
    assert len(image_rows) == 1
    image = image_rows[0]["fig/sin_theta"]
    assert image["_type"] == "image-file" and image["caption"] == "sin theta"
    assert image["path"] in run.files and image["path"].endswith(".png")
    assert (files[0].parent / "files" / image["path"]).is_file()
    assert any(f.startswith("media/images/") for f in run.files)
    assert any(f.startswith("media/table/") for f in run.files)
    table_row = next(row for row in run.history if "eigenvalues" in row)
    assert table_row["eigenvalues"]["_type"] == "table-file"
    assert table_row["eigenvalues"]["nrows"] == 3

    assert run.summary["final/sin_theta_0"] == 0.75 and run.summary["n"] == 100
    assert run.summary["sin_theta/0"] == SIN_THETA[-1]
    assert run.exit_code == 0
    assert run.record_types["run"] == 1 and run.record_types["history"] >= 4
    assert run.record_types["exit"] == 1


def test_exception_in_context_finishes_with_exit_code_1(tmp_path: Path, empty_cwd: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with start_run("offline", "p", "g", "jt", {"a": 1}, tmp_path / "job") as tracker:
            tracker.log({"x": 1.0})
            raise RuntimeError("boom")
    assert not tracker.active
    run = read_wandb_file(tracker.run_path)
    assert run.exit_code == 1 and run.config == {"a": 1}


def test_two_runs_have_distinct_ids_and_files(tmp_path: Path, empty_cwd: Path) -> None:
    paths, ids = [], []
    for job in ("job-a", "job-b"):
        run_id = make_run_id("generate", "point-1")
        with start_run("offline", "p", "g", "generate", {"job": job}, tmp_path / job, run_id=run_id) as tracker:
            tracker.log({"x": 1.0})
        ids.append(tracker.run_id)
        paths.append(tracker.run_path)
    assert ids[0] != ids[1]
    assert paths[0] != paths[1]
    assert find_wandb_files(tmp_path) == sorted(paths)
    assert [read_wandb_file(p).config["job"] for p in paths] == ["job-a", "job-b"]
    assert list(empty_cwd.iterdir()) == []


def test_failing_method_warns_once_and_goes_inactive(
    tmp_path: Path, empty_cwd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = start_run("offline", "p", "g", "jt", {}, tmp_path / "job")
    tracker.log({"x": 1.0}, step=0)
    with caplog.at_level(logging.WARNING, logger="lindiff.pipeline.tracking"):
        tracker.log_image("img", tmp_path / "missing.png")
        tracker.log({"x": 2.0}, step=1)
        tracker.finish()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "log_image" in warnings[0].getMessage()
    assert not tracker.active and "log_image" in tracker.reason
    run = read_wandb_file(tracker.run_path)  # the run was closed cleanly
    assert [row["x"] for row in run.history if "x" in row] == [1.0]


# --------------------------------------------------------------------------- modes


@pytest.fixture
def unreachable_server(monkeypatch: pytest.MonkeyPatch):
    """Point W&B at a closed local port with a dummy key; reset wandb's cached env around it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    wandb.teardown()  # wandb reads the environment once per process
    yield f"127.0.0.1:{port}"
    wandb.teardown()


def test_online_unreachable_server_is_skipped_with_warning(
    tmp_path: Path, empty_cwd: Path, unreachable_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="lindiff.pipeline.tracking"):
        tracker = start_run("online", "p", "g", "jt", {"a": 1}, tmp_path / "job", init_timeout=3.0)
    assert time.perf_counter() - t0 < 25
    assert not tracker.active and tracker.run_path is None
    assert "W&B skipped" in tracker.reason and unreachable_server in tracker.reason
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [tracker.reason]

    with tracker:  # every method is a harmless no-op
        tracker.define_step_metric("sin_theta/*", "sigma_bar")
        tracker.log({"x": 1.0}, step=0)
        tracker.log_image("img", tmp_path / "missing.png")
        tracker.log_table("t", pd.DataFrame({"a": [1]}))
        tracker.set_summary({"x": 1})
    assert list(empty_cwd.iterdir()) == []


def test_disabled_mode_is_inactive_and_writes_nothing(tmp_path: Path, empty_cwd: Path) -> None:
    run_dir = tmp_path / "job"
    with start_run("disabled", "p", "g", "jt", {"a": 1}, run_dir) as tracker:
        assert not tracker.active and tracker.run_path is None
        assert "disabled" in tracker.reason
        tracker.log({"x": 1.0})
    assert not run_dir.exists()
    assert find_wandb_files(tmp_path) == []
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.parametrize("mode", ["dryrun", "OFFLINE", "", None])
def test_unknown_mode_is_a_config_error(tmp_path: Path, mode: object) -> None:
    with pytest.raises(ConfigError, match=r"wandb\.mode"):
        start_run(mode, "p", "g", "jt", {}, tmp_path / "job")  # type: ignore[arg-type]
    assert not (tmp_path / "job").exists()


def test_inactive_tracker_repr_and_reason() -> None:
    tracker = Tracker.inactive("because")
    assert not tracker.active and tracker.reason == "because" and tracker.run_id is None
    assert "because" in repr(tracker)


# --------------------------------------------------------------------------- reader


@pytest.fixture
def wandb_file(tmp_path: Path, empty_cwd: Path) -> Path:
    """A real offline run file with a record longer than a 32 KiB block."""
    with start_run("offline", "p", "g", "jt", {"long": "y" * 70_000}, tmp_path / "job") as tracker:
        for step in range(200):
            tracker.log({"v": step, "s": "z" * (step % 40)}, step=step)
    return tracker.run_path


def test_reader_reassembles_records_spanning_blocks(wandb_file: Path) -> None:
    assert wandb_file.stat().st_size > 32 * 1024
    run = read_wandb_file(wandb_file)
    assert run.config["long"] == "y" * 70_000
    assert [row["v"] for row in run.history] == list(range(200))
    assert run.exit_code == 0


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated-middle"),
        pytest.param(lambda b: b[:-3], id="truncated-end"),
        pytest.param(lambda b: b[:5], id="truncated-header"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b"PK\x03\x04" + b[4:], id="bad-header"),
        pytest.param(lambda b: b[:300] + bytes([b[300] ^ 0xFF]) + b[301:], id="flipped-byte"),
    ],
)
def test_corrupt_file_raises_data_error_naming_it(wandb_file: Path, tmp_path: Path, damage) -> None:
    bad = tmp_path / "bad" / "run-bad.wandb"
    bad.parent.mkdir()
    bad.write_bytes(damage(wandb_file.read_bytes()))
    with pytest.raises(DataError, match=re.escape(str(bad))):
        read_wandb_file(bad)


def test_missing_file_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.wandb"):
        read_wandb_file(tmp_path / "nope.wandb")
    assert find_wandb_files(tmp_path / "absent") == []


def test_log_images_puts_a_jobs_figures_in_one_history_row(tmp_path: Path, empty_cwd: Path) -> None:
    pngs = {key: _write_png(tmp_path / f"{key}.png") for key in ("fig1", "fig5", "fig6")}
    tracker = start_run("offline", "lindiff-test", group="g", job_type="analyze", config=CONFIG,
                        run_dir=tmp_path / "job", run_id=make_run_id("analyze", "p"))
    with tracker:
        tracker.log_images(pngs)
    run = read_wandb_file(tracker.run_path)
    rows = [row for row in run.history if set(pngs) & set(row)]
    assert len(rows) == 1 and set(pngs) <= set(rows[0])
    assert all(rows[0][key]["_type"] == "image-file" for key in pngs)


def test_offline_start_does_not_import_wandb_launch_and_saves_requirements_on_request(tmp_path: Path) -> None:
    """A fresh interpreter: the job's wandb.init leaves W&B Launch unimported (0.44 s saved per
    job), and requirements.txt is written only where asked for (the sweep-level runs)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lindiff.pipeline.tracking import start_run\n"
        "for name, save in (('point', False), ('sweep', True)):\n"
        "    t = start_run('offline', 'p', group=None, job_type='j', config={'a': 1},\n"
        "                  run_dir=sys.argv[1] + '/' + name, save_requirements=save)\n"
        "    assert t.active, t.reason\n"
        "    t.log({'x': 1.0})\n"
        "    t.finish()\n"
        "print('launch imported:', 'wandb.sdk.launch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "launch imported: False" in result.stdout
    for name, saved in (("point", False), ("sweep", True)):
        (run_file,) = find_wandb_files(tmp_path / name)
        assert read_wandb_file(run_file).exit_code == 0
        assert (run_file.parent / "files" / "requirements.txt").is_file() is saved


def test_staged_launch_inputs_are_still_applied(tmp_path: Path, empty_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once W&B Launch's inputs module is imported (a Launch job), W&B's own method runs."""
    from wandb.sdk.launch.inputs import internal

    applied = []
    monkeypatch.setattr(internal.StagedLaunchInputs, "apply", lambda self, run: applied.append(run.id))
    tracker = start_run("offline", "p", group=None, job_type="j", config={}, run_dir=tmp_path / "job")
    tracker.finish()
    assert applied == [tracker.run_id]


@pytest.mark.parametrize("error_reporting", [None, "true"])
def test_an_offline_run_contacts_no_server(tmp_path: Path, error_reporting) -> None:
    """With WANDB_BASE_URL set (a server that accepts and never answers), an offline job used to
    connect to it at exit through W&B's error reporting and wait ~10 s. Offline now means no
    connection; a user's explicit WANDB_ERROR_REPORTING=true is kept (and then it connects)."""
    import os
    import subprocess
    import sys
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env["WANDB_BASE_URL"] = f"http://127.0.0.1:{server.getsockname()[1]}"
    if error_reporting is not None:
        env["WANDB_ERROR_REPORTING"] = error_reporting
    job = ("from lindiff.pipeline.tracking import start_run\n"
           f"t = start_run(mode='offline', project='p', group=None, job_type='j', config={{'a': 1}},\n"
           f"              run_dir={str(tmp_path)!r}, name='a')\n"
           "assert t.active\nt.log({'x': 1.0})\nt.finish(exit_code=0)\n")
    done = subprocess.run([sys.executable, "-c", job], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    stop.set()
    thread.join()
    server.close()
    for connection in accepted:
        connection.close()
    assert done.returncode == 0, done.stderr[-2000:]
    assert (len(accepted) == 0) == (error_reporting is None), len(accepted)


def test_child_processes_attach_to_a_shared_service(tmp_path: Path) -> None:
    """share_service in a parent process (the Snakemake process of a local run): its children's
    runs attach to that one service and are complete; a cluster run (not local) shares nothing;
    mode disabled shares nothing; a service shared from further up is left as it is."""
    import os
    import subprocess
    import sys

    child = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')\n"
        "from lindiff.pipeline.tracking import start_run\n"
        "t = start_run('offline', 'p', group=None, job_type='j', config={'a': 1}, run_dir=sys.argv[1])\n"
        "assert t.active, t.reason\n"
        "t.log({'x': 1.0})\n"
        "t.finish()\n"
    )
    parent = (
        "import os, subprocess, sys\n"
        "from lindiff.pipeline.runs.start import start_real_run\n"
        "from lindiff.pipeline.tracking import share_service\n"
        "results, local = sys.argv[1], sys.argv[2] == 'local'\n"
        "start_real_run(results, 'offline', local_jobs=local)\n"
        "print('token set:', bool(os.environ.get('WANDB_SERVICE')))\n"
        "if local:  # shared already; and never for mode disabled\n"
        "    print('again:', share_service('offline', results), share_service('disabled', results))\n"
        "for name in ('a', 'b'):\n"
        "    out = subprocess.run([sys.executable, '-c', sys.argv[3], f'{results}/{name}'], capture_output=True, text=True)\n"
        "    assert out.returncode == 0, out.stderr\n"
        "    print(out.stdout)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    for where, shared in (("local", True), ("cluster", False)):
        results = tmp_path / where
        out = subprocess.run([sys.executable, "-c", parent, str(results), where, child], capture_output=True,
                             text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        assert f"token set: {shared}" in out.stdout and ("again: False False" in out.stdout) is shared
        service = "the workflow's shared W&B service" if shared else "its own W&B service"
        assert out.stdout.count(f"(offline, {service})") == 2, out.stdout
        for name in ("a", "b"):
            (run_file,) = find_wandb_files(results / name)
            run = read_wandb_file(run_file)
            assert run.exit_code == 0 and run.history[0]["x"] == 1.0 and run.config["a"] == 1
        assert (results / "wandb" / "service").is_dir() is shared  # the service's W&B state, under the results
