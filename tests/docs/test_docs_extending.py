"""docs/extending.md stays true: every path, module and name it mentions exists, and its
tables of levels and field regexes are the ones the code declares."""

from __future__ import annotations

import importlib
import re

import pytest
from helpers import REPO

from lindiff.pipeline.levels import FIELDS, LEVELS

TEXT = (REPO / "docs" / "extending.md").read_text()
CODE = re.findall(r"`([^`\n]+)`", TEXT)
PATHS = sorted({c for c in CODE if re.fullmatch(r"(lindiff|workflow|conf|tests|tools|docs)/[\w./-]*", c)
                and "<" not in c})
DOTTED = sorted({m for c in CODE for m in re.findall(r"\blindiff(?:\.\w+)+", c)})


@pytest.mark.parametrize("path", PATHS)
def test_every_path_exists(path):
    assert (REPO / path.split(":")[0]).exists(), path


@pytest.mark.parametrize("dotted", DOTTED)
def test_every_dotted_name_resolves(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return
    pytest.fail(f"{dotted} does not resolve")


def test_names_mentioned_exist_where_the_page_says():
    from lindiff import data
    from lindiff.linear import schedules
    from lindiff.pipeline import checks, datasets, levels, schema, sweep

    for module, names in ((levels, ("FIELDS", "LEVELS", "Field", "Level", "level_of", "point_id", "seed_key")),
                          (schema, ("DataConfig", "SweepConfig", "SamplersSweep", "ScheduleKind", "POSITIVE")),
                          (datasets, ("DATA_SETS", "DataSet")), (sweep, ("GRID_STUDIES", "GridStudy", "points")),
                          (checks, ("check_values",)),
                          (schedules, ("SCHEDULES", "make_schedule")), (data, ("_LOADERS", "load_dataset"))):
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    common = (REPO / "workflow/rules/common.smk").read_text()
    for name in ("level_params", "level_path", "all_targets", "sidecar_targets"):
        assert f"def {name}(" in common, name
    assert len(common.splitlines()) <= 200, "common.smk holds only what every study shares"
    samplers = (REPO / "workflow/rules/common/samplers.smk").read_text()
    assert "def sample_sampler_params(" in samplers and "STUDY_TARGETS.append(" in samplers
    assert "use rule learn as ab_learn_linear" in (REPO / "workflow/rules/generalization.smk").read_text()


def test_the_levels_table_matches_the_declaration():
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|$", TEXT, flags=re.M))
    assert rows, "no level rows found"
    for name, pattern in rows.items():
        assert LEVELS[name].pattern == pattern, name
    for field, regex in (("data", "[a-z]+"), ("schedule", "[a-z]+")):
        assert FIELDS[field].regex == regex and f"`{field}` field's regex (`{regex}`)" in TEXT
