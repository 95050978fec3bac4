"""Every command in the README's bash blocks runs as written: a dry run where the real one is
long (snakemake -n, make -n, pip install --dry-run), placeholders (/path/to/mnist, <partition>)
replaced by real values, so the README cannot drift from the code."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PLACEHOLDERS = {"<partition>": "lindiff", "<account>": "lindiff"}


def readme_commands() -> list[str]:
    """The commands of every ```bash block: comments dropped, continuation lines joined."""
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


COMMANDS = readme_commands()


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
    if tool == "python":
        return [sys.executable, *args]
    if tool == "lindiff":
        return [str(BIN / "lindiff"), *args]
    raise AssertionError(f"a README command with an unknown tool: {shlex.join(words)}")


def test_the_readme_has_commands_of_every_kind():
    tools = {shlex.split(c)[0] for c in COMMANDS}
    assert {"make", "snakemake", "pip", "python", "lindiff"} <= tools, tools
    assert len(COMMANDS) >= 20


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works(command, tmp_path, request):
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    if "/path/to/mnist" in command or "data=mnist" in command:
        mnist = request.getfixturevalue("mnist_dir")  # skips without the MNIST files
        command = command.replace("/path/to/mnist", str(mnist))
    for name in ("my_data.npy", "my data.npy"):  # the user's own data file, as the README's examples name it
        if name in command:
            np.save(tmp_path / name, np.random.default_rng(0).random((600, 24)))
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
