# The receptive-field study: its points, params, inputs, targets and sidecars. Its rules: multiscale.smk.

from lindiff.deep.config import CLASSIFIER_DATA
from lindiff.studies.multiscale import synthesis_models

MS_MODEL_POINTS = lds.points(LD, "ms_model")
MS_SYNTH_POINTS = lds.points(LD, "ms_synth")
MS_STUDIES = sorted({point.at("ms_study") for point in MS_SYNTH_POINTS})
MS_JOBS = {name: LEVELS[name].pattern for name in ("ms_model", "ms_synth", "ms_study")}
MS_STUDY_OUTPUTS = ("table.parquet", "fig_psnr.png", "fig_samples.png")
# the digit classifier and its held-out images (rule train_classifier) judge the samples of a labelled data set
MS_QUALITY = LD.data.name in CLASSIFIER_DATA


# the options of multiscale.* each stage reads (a change to one reruns only the stages that read it)
MS_OPTIONS = {
    "ms_model": ("device", "n_test", "psnr_sigmas"),
    "ms_synth": ("device", "n_test", "psnr_sigmas", "synthesis"),
    "ms_study": ("n_test", "psnr_sigmas"),
}


def ms_params(wildcards, level):
    """A job of the study: its typed wildcards, the data, the scales and the options its stage reads."""
    options = {key: RESOLVED["multiscale"][key] for key in MS_OPTIONS[level]}
    return {**level_params(level, wildcards), "multiscale": options, "levels": int(LD.multiscale.levels)}


def ms_train_params(wildcards):
    """One model: its options and its training config (RF, bands, noise range set)."""
    params = ms_params(wildcards, "ms_model")
    params["train"] = lde.multiscale_train_config(LD, wildcards.scale, wildcards.rf).to_dict()
    return params


def ms_synth_files(name):
    """Input function: file ``name`` of each model a synthesis reads (the flat model, or the low-pass
    and each scale's, coarsest first)."""

    def files(wildcards):
        values = dict(wildcards.items())
        return [
            level_path("ms_model", name).format(**{**values, "scale": scale, "rf": rf})
            for scale, rf in synthesis_models(wildcards.arch, wildcards.rf, LD.multiscale.levels)
        ]

    return files


def ms_quality_inputs(wildcards):
    """The classifier and its held-out real images of the training set (labelled data only)."""
    if not MS_QUALITY:
        return {}
    values = dict(wildcards.items())
    return {
        "classifier": level_path("trainset", "quality", "classifier.pt").format(**values),
        "reference": level_path("trainset", "quality", "reference.npz").format(**values),
    }


def ms_rows(wildcards):
    """The syntheses of the study (data, wavelet, n, seed) of ``wildcards``, with their directories."""
    here = LEVELS["ms_study"].point(**LEVELS["ms_study"].typed(wildcards))
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS)}
        for point in MS_SYNTH_POINTS
        if point.at("ms_study") == here
    ]


def ms_study_inputs(*names):
    def inputs(wildcards):
        return sorted(os.path.join(row["dir"], name) for row in ms_rows(wildcards) for name in names)

    return inputs


def ms_study_params(wildcards):
    return {**ms_params(wildcards, "ms_study"), "rows": ms_rows(wildcards)}


def multiscale_targets():
    """The table and figures of every study, and each synthesis's samples figure."""
    targets = [os.path.join(study.dir(RESULTS), name) for study in MS_STUDIES for name in MS_STUDY_OUTPUTS]
    return targets + [os.path.join(point.dir(RESULTS), "fig_samples.png") for point in MS_SYNTH_POINTS]


STUDY_TARGETS.append(multiscale_targets)
SIDECARS += [
    ("ms_train", lambda: set(MS_MODEL_POINTS)),
    ("ms_synthesize", lambda: set(MS_SYNTH_POINTS)),
]
