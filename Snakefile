# lindiff workflow: learn -> generate -> analyze over a Hydra-configured sweep, tracked in W&B.
#
#   snakemake --cores 2                                         # the default sweep (digits)
#   snakemake --cores 2 --config overrides="sweep=paper data=mnist data.dir=/path/to/mnist"
#   snakemake -n --config overrides="sweep=smoke"               # dry run: the jobs a sweep needs
#
# The configuration is composed by Hydra from conf/ (see `lindiff config --help`);
# `overrides` carries Hydra override strings because Snakemake's --config keys must be
# identifiers. Rules live in workflow/rules, one file per stage.
from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/common/linear.smk"
include: "workflow/rules/common/deep.smk"
include: "workflow/rules/common/generalization.smk"
include: "workflow/rules/common/samplers.smk"
include: "workflow/rules/common/gahb.smk"
include: "workflow/rules/common/multiscale.smk"
include: "workflow/rules/common/theory.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/learn.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/deep.smk"
include: "workflow/rules/generalization.smk"
include: "workflow/rules/samplers.smk"
include: "workflow/rules/gahb.smk"
include: "workflow/rules/multiscale.smk"
include: "workflow/rules/theory.smk"


rule all:
    default_target: True
    input:
        all_targets(),
        sidecar_targets(),
        force_rebuild_of_corrupt,
