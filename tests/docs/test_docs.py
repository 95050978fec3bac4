"""The README and the pages under docs/ stay true.

Every command in their bash blocks runs as written: a dry run where the real one is long
(snakemake -n, make -n, pip install --dry-run), placeholders (/path/to/mnist, <partition>)
replaced by real values, so no page can drift from the code. The README stays a front page
(at most 150 lines), every relative link of every page resolves, and no page speaks of the
project's issue numbers."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO

BIN = Path(sys.executable).parent
PLACEHOLDERS = {"<partition>": "lindiff", "<account>": "lindiff"}


PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def page_commands(page: Path) -> list[str]:
    """The commands of every ```bash block of ``page``: comments dropped, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


COMMANDS = sorted({command for page in PAGES for command in page_commands(page)})


def as_dry_run(words: list[str], workdir: Path) -> list[str]:
    """The command that checks ``words`` without the long run."""
    tool, args = words[0], words[1:]
    if tool == "snakemake":
        return [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    if tool == "make":
        return ["make", "-n", "-C", str(REPO), *args]
    if tool == "pip":
        return [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                "--disable-pip-version-check", "--quiet", *[a.replace(".", str(REPO), 1) if a.startswith(".") else a
                                                            for a in args[1:]]]
    if tool == "python":  # a script of the repository (tools/, benchmarks/) named from its root
        return [sys.executable, *[str(REPO / a) if "/" in a and (REPO / a).is_file() else a for a in args]]
    if tool == "lindiff":
        return [str(BIN / "lindiff"), *args]
    raise AssertionError(f"a documented command with an unknown tool: {shlex.join(words)}")


def test_the_pages_have_commands_of_every_kind():
    tools = {shlex.split(c)[0] for c in COMMANDS}
    assert {"make", "snakemake", "pip", "python", "lindiff"} <= tools, tools
    assert len(COMMANDS) >= 30


def test_the_readme_is_a_front_page():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert "make run" in text and "make test" in text
    for page in PAGES[1:]:  # every page is reachable from the front page, directly or through a study table
        if page.parent.name != "studies":
            assert f"(docs/{page.name})" in text, f"README.md does not link {page.relative_to(REPO)}"
    for study in (REPO / "docs/studies").glob("*.md"):
        assert f"(docs/studies/{study.name})" in text, f"README.md does not link {study.relative_to(REPO)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.relative_to(REPO)} links {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_page_speaks_of_issue_numbers(page):
    found = re.findall(r"\bissues? #?\d+|#\d{2,}\b", page.read_text(), flags=re.I)
    assert not found, f"{page.relative_to(REPO)}: {found}"


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_documented_command_works(command, tmp_path, request):
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    if "/path/to/mnist" in command or "data=mnist" in command:
        mnist = request.getfixturevalue("mnist_dir")  # skips without the MNIST files
        command = command.replace("/path/to/mnist", str(mnist))
    for name in ("my_data.npy", "my data.npy"):  # the user's own data file, as the README's examples name it
        if name in command:
            np.save(tmp_path / name, np.random.default_rng(0).random((600, 24)))
    if "results_before" in command:  # two results trees to compare (docs/extending.md)
        for name in ("results_before", "results_after"):
            (tmp_path / name / "x").mkdir(parents=True)
            np.savez(tmp_path / name / "x" / "a.npz", a=np.arange(3))
    if "file://myconf" in command:  # the user's own presets folder
        (tmp_path / "myconf/experiment").mkdir(parents=True)
        (tmp_path / "myconf/experiment/mine.yaml").write_text("# @package _global_\nsweep:\n  name: mine\n")
    words = shlex.split(command)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if "data=mnist" in command and "data.dir" not in command:
        env["LINDIFF_MNIST_DIR"] = str(request.getfixturevalue("mnist_dir"))
    result = subprocess.run(as_dry_run(words, tmp_path), capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=600)
    assert result.returncode == 0, f"{command}\n{(result.stdout + result.stderr)[-3000:]}"
    assert "does not provide the extra" not in result.stdout + result.stderr


def test_make_clean_empties_results_but_keeps_its_readme(tmp_path):
    """`make clean` (the README's table) on a populated results tree: everything under it goes
    (nested folders included, without find tripping over the folders it removed), except the
    files the repository keeps there; Snakemake's state goes too."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for path in ("results/digits/all/n300_s0/data/train.npz", "results/wandb/a/b/c/run.wandb", "results/README.md",
                 "results/.gitkeep", ".snakemake/metadata/x"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    for run in range(40):  # more paths than one rm command line takes, as after a sweep
        folder = tmp_path / "results" / "wandb" / "analyze" / f"digits_all_n300_s0_linear_T50_r{run}" / "files"
        folder.mkdir(parents=True)
        for index in range(100):
            (folder / f"media_image_{index:04d}_{'x' * 40}.png").write_bytes(b"")
    result = subprocess.run(["make", "-C", str(tmp_path), "clean"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [".gitkeep", "README.md"]
    assert not (tmp_path / ".snakemake").exists()
