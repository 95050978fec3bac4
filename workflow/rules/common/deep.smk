# The deep-denoiser study: its points, params, inputs, targets and sidecars. Its rules: deep.smk.

from lindiff.deep.config import SNAPSHOT_CONTROLS, TRAINED_CONTROLS


def deep_params(wildcards):
    """Resolved config of a deep-denoiser job (the model variant's overrides included)."""
    deep = dict(RESOLVED["deep"])
    sizes = deep.pop("sizes")
    return {**level_params("deep", wildcards), "deep": {**deep, "overrides": sizes[wildcards.size]}}


DEEP_POINTS = lds.points(LD, "deep")


# one sampler run of a model: results/.../deep_{size}/{sampler}_{schedule}_T{T} (ascent_adaptive_T<steps> for a
# blind model); the quality table of (data, n, seed) under results/{data}/all/n{n}_s{seed}/quality
DEEP_SAMPLE_POINTS = lds.points(LD, "deep_sample")
QUALITY_POINTS = sorted({point.at("trainset") for point in DEEP_SAMPLE_POINTS})
QUALITY_OUTPUTS = ("quality.parquet", "fig_quality.png")


def deep_sample_params(wildcards):
    """One sampler run: the model's config (deep_params), the sampler and its noise levels
    (diffusion.samplers / diffusion.schedules entries; the ascent's options for sampler=ascent)."""
    params = {**deep_params(wildcards), **LEVELS["deep_sample"].typed(wildcards), "data": RESOLVED["data"]}
    if wildcards.sampler != lds.ASCENT:
        params["sampler"] = {"name": wildcards.sampler, **RESOLVED["diffusion"]["samplers"][wildcards.sampler]}
        params["schedule"] = {"name": wildcards.schedule, **RESOLVED["diffusion"]["schedules"][wildcards.schedule]}
    return params


# Fig. 7's controls at a sampler run's path points: .../{sampler}_{schedule}_T{T}/control_{control};
# the networks trained beside a model for them: .../deep_{size}/variant_{variant}
DEEP_CONTROL_POINTS = lds.points(LD, "deep_control")
DEEP_CONTROL_JOB = LEVELS["deep_control"].pattern
DEEP_VARIANT_POINTS = lds.points(LD, "deep_variant")
DEEP_VARIANT_JOB = LEVELS["deep_variant"].pattern
# the model's training snapshots (one file per snapshot control, written by every train_denoiser job)
SNAPSHOT_OUTPUTS = {f"snapshot_{name}": level_path("deep", f"snapshot_{name}.pt") for name in SNAPSHOT_CONTROLS}
CONTROLS_OF_RUN = {}  # a sampler run (deep_sample point) -> its control points
for _control in DEEP_CONTROL_POINTS:
    CONTROLS_OF_RUN.setdefault(_control.at("deep_sample"), []).append(_control)


def deep_variant_params(wildcards):
    """A network trained beside a model: the model's config and the variant."""
    return {**deep_params(wildcards), "variant": wildcards.variant}


def fig7_control_model(wildcards):
    """The network of a control: a variant's own model, a snapshot of the training, or the
    trained model (the untrained twin is rebuilt from its seed; the closed forms need none)."""
    if wildcards.control in TRAINED_CONTROLS:
        return level_path("deep_variant", "model.pt").format(**{**dict(wildcards.items()), "variant": wildcards.control})
    name = f"snapshot_{wildcards.control}" if wildcards.control in SNAPSHOT_CONTROLS else "model"
    return level_path("deep", f"{name}.pt").format(**dict(wildcards.items()))


def fig7_control_params(wildcards):
    """A Fig. 7 control: its sampler run's params and the control's name."""
    return {**deep_sample_params(wildcards), "control": wildcards.control}


def run_controls(wildcards):
    """The control points of one sampler run (deep_sample wildcards)."""
    return CONTROLS_OF_RUN.get(LEVELS["deep_sample"].point(**LEVELS["deep_sample"].typed(wildcards)), [])


def fig7_controls_inputs(wildcards):
    """Each control's spectra, statistics and metrics (the trained model's statistics are in every one)."""
    files = {"spectra": "jacobian_spectra.npz", "statistics": "statistics.parquet", "metrics": "control_metrics.json"}
    points = run_controls(wildcards)
    return {key: [os.path.join(point.dir(RESULTS), name) for point in points] for key, name in files.items()}


def quality_params(wildcards):
    """The classifier, the references and the linear chain of (data, n, seed)."""
    deep = RESOLVED["deep"]
    linear = deep["quality"]["linear"]
    return {
        **level_params("trainset", wildcards),
        "quality": deep["quality"],
        "device": deep["device"],
        "linear": {**linear, "schedule": schedule_params(linear["schedule"])},
        "learn": RESOLVED["learn"],
        "generate": RESOLVED["generate"],
    }


def quality_table_rows(wildcards):
    """The sampler runs of (data, n, seed), one row of the quality table each."""
    here = LEVELS["trainset"].point(**LEVELS["trainset"].typed(wildcards))
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS)}
        for point in DEEP_SAMPLE_POINTS
        if point.at("trainset") == here
    ]


def quality_table_inputs(wildcards):
    return sorted(os.path.join(row["dir"], "samples.npz") for row in quality_table_rows(wildcards))


def deep_targets():
    """Each model's metrics, each sampler run's Fig. 7 and its controls, each training set's quality table."""
    targets = [os.path.join(point.dir(RESULTS), "train_metrics.json") for point in DEEP_POINTS]
    for point in DEEP_SAMPLE_POINTS:
        targets += [os.path.join(point.dir(RESULTS), name) for name in ("fig7_sin_theta_jacobian.png", "jacobian_metrics.json")]
    for point in DEEP_CONTROL_POINTS:
        targets += [os.path.join(point.dir(RESULTS), name) for name in ("fig7_control.png", "control_metrics.json")]
    for point, controls in CONTROLS_OF_RUN.items():  # the runs with two controls or more: all side by side
        if len(controls) >= 2:
            targets.append(os.path.join(point.dir(RESULTS), "fig7_controls.png"))
    for point in QUALITY_POINTS:
        targets += [os.path.join(point.dir(RESULTS), "quality", name) for name in QUALITY_OUTPUTS]
    return targets


STUDY_TARGETS.append(deep_targets)
SIDECARS += [
    ("train_denoiser", lambda: points_at("deep", DEEP_POINTS)),
    ("sample_deep", lambda: points_at("deep_sample", DEEP_SAMPLE_POINTS)),
    ("jacobian_analysis", lambda: points_at("deep_sample", DEEP_SAMPLE_POINTS)),
    ("fig7_control", lambda: points_at("deep_control", DEEP_CONTROL_POINTS)),
    ("train_variant", lambda: DEEP_VARIANT_POINTS),
    ("train_classifier", lambda: QUALITY_POINTS),
    ("linear_chain_samples", lambda: QUALITY_POINTS),
]
