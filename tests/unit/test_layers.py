"""The package layout is the architecture: science packages import nothing from the pipeline.

Layers, bottom up: ``lindiff.errors``, ``lindiff.artifacts`` (atomic, validated file I/O);
the science packages ``data``, ``linear``, ``deep``, ``plots``, ``studies`` (arrays in, arrays,
tables and figures out); the pipeline (``lindiff.pipeline``: Hydra, W&B, sweep levels, jobs).
Every import statement is checked, including those inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from helpers import REPO

PACKAGE = REPO / "lindiff"
SCIENCE = ("data", "linear", "diffusion", "deep", "plots", "studies")
BASE = ("errors.py", "artifacts.py", "validation.py", "progress.py")
WORKFLOW_STACK = ("lindiff.pipeline", "snakemake", "hydra", "omegaconf", "wandb")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Absolute names of the modules ``path`` imports."""
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    return _imports_of(path.read_text(), package, top_level_only)


def _imports_of(source: str, package: str, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(source)
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module != "__future__":
                names.add(node.module)
    return names


def _files(*parts: str) -> list[Path]:
    out = []
    for part in parts:
        target = PACKAGE / part
        out += sorted(target.rglob("*.py")) if target.is_dir() else [target] if target.exists() else []
    return out


SCIENCE_FILES = _files(*SCIENCE, *BASE)


def test_the_layers_exist():
    for name in (*SCIENCE, "pipeline"):
        assert (PACKAGE / name / "__init__.py").is_file(), name
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    # the base modules, and __main__ (python -m lindiff: the pipeline's command, imported only when run)
    assert flat == sorted(["__init__.py", "__main__.py", *[b for b in BASE if (PACKAGE / b).exists()]]), flat


@pytest.mark.parametrize("path", SCIENCE_FILES, ids=lambda p: _module_name(p))
def test_science_imports_nothing_from_the_workflow_stack(path):
    bad = sorted(n for n in _imports(path) if n.split(".")[0] in {"snakemake", "hydra", "omegaconf", "wandb"}
                 or n == "lindiff.pipeline" or n.startswith("lindiff.pipeline."))
    assert not bad, f"{_module_name(path)} imports {bad}"


@pytest.mark.parametrize("path", _files("linear"), ids=lambda p: _module_name(p))
def test_the_linear_maths_needs_only_numpy_scipy_pandas_at_import(path):
    allowed = {"numpy", "scipy", "pandas", "lindiff", *sys.stdlib_module_names}
    bad = sorted(n for n in _imports(path, top_level_only=True) if n.split(".")[0] not in allowed)
    assert not bad, f"{_module_name(path)} imports {bad} at module level (import it where it is used)"
    inner = {n for n in _imports(path) if n.startswith("lindiff.")}
    assert all(n.startswith(("lindiff.linear", "lindiff.errors", "lindiff.validation", "lindiff.progress")) for n in inner), inner


@pytest.mark.parametrize("path", _files("diffusion"), ids=lambda p: _module_name(p))
def test_the_samplers_need_only_numpy_at_import(path):
    """Denoisers, samplers and the closed form run on arrays: torch only inside the design."""
    allowed = {"numpy", "lindiff", *sys.stdlib_module_names}
    bad = sorted(n for n in _imports(path, top_level_only=True) if n.split(".")[0] not in allowed)
    assert not bad, f"{_module_name(path)} imports {bad} at module level (import it where it is used)"
    inner = {n for n in _imports(path) if n.startswith("lindiff.")}
    assert all(n.startswith(("lindiff.diffusion", "lindiff.linear", "lindiff.errors", "lindiff.validation"))
               for n in inner), inner


@pytest.mark.parametrize("path", _files("plots"), ids=lambda p: _module_name(p))
def test_figures_import_no_study(path):
    """Studies draw with the plots; a figure takes what a study computed as its arguments (no cycle)."""
    bad = sorted(n for n in _imports(path) if n == "lindiff.studies" or n.startswith("lindiff.studies."))
    assert not bad, f"{_module_name(path)} imports {bad}"


def test_the_checker_sees_a_violation():
    """Absolute, relative and function-level imports are all resolved (so the tests above can fail)."""
    source = "import numpy\nfrom . import learn\ndef f():\n    from ..pipeline import jobs\n    import wandb.sdk\n"
    assert _imports_of(source, "lindiff.linear") == {"numpy", "lindiff.linear", "lindiff.pipeline", "wandb.sdk"}
    assert _imports_of(source, "lindiff.linear", top_level_only=True) == {"numpy", "lindiff.linear"}


def test_a_job_imports_only_what_its_work_needs():
    """Fixed cost per job: the modules every rule script imports (artifacts, rule_job,
    the stages) pull in no pandas, scipy, matplotlib, torch or wandb; those load where a table is
    made, an eigenproblem solved, a figure drawn, a network trained or a W&B run started."""
    import subprocess
    import sys

    probe = ("import sys, lindiff.artifacts, lindiff.pipeline.jobs, lindiff.studies.linear_chain; "
             "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'torch', 'wandb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
