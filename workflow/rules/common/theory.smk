# The theory-vs-network study: its points, params, inputs, targets and sidecars. Its rules: theory.smk.

from lindiff.studies.theory import CALIBRATED, NETWORK, THEORY_DENOISERS

THEORY_POINTS = lds.points(LD, "theory_denoiser")
THEORY_RUNS = sorted({point.at("deep_sample") for point in THEORY_POINTS})
THEORY_JOB = LEVELS["theory_denoiser"].pattern
THEORY_RUN_JOB = LEVELS["deep_sample"].pattern
THEORY_OUTPUTS = ("mse.parquet", "steps.parquet", "final.parquet", "fig_agreement.png", "fig_samples.png")
ANALYTIC = "|".join(THEORY_DENOISERS)

# the options of theory.* each stage reads (a change to one reruns only the stages that read it);
# a denoiser's own option is read only by its jobs
THEORY_OPTIONS = {
    "theory_network": ("n_samples", "mse_sigmas", "n_test", "calibration_images"),
    "theory_calibrate": ("pool", "class_pools", "patch_sizes", "calibrate", "calibration_images", "calibration_levels", "n_test"),
    "theory_sample": ("n_samples", "pool", "class_pools", "mse_sigmas", "n_test", "calibration_images"),
    "theory_summary": ("n_boot",),
}
DENOISER_OPTIONS = {"equivariant": ("pool_size",), "locality": ("threshold",)}


def theory_params(stage):
    """A job of the study: its typed wildcards, the data, the network run's sampler and noise levels,
    the deep options it reads and the theory options of its stage (and of its denoiser)."""

    def params(wildcards):
        values = dict(wildcards.items())
        level = "theory_denoiser" if "theory" in values else "deep_sample"
        theory = RESOLVED["theory"]
        keys = THEORY_OPTIONS[stage] + DENOISER_OPTIONS.get(values.get("theory"), ())
        out = {
            **LEVELS[level].typed(wildcards),
            "data": RESOLVED["data"],
            "sampler": {"name": wildcards.sampler, **RESOLVED["diffusion"]["samplers"][wildcards.sampler]},
            "schedule": {"name": wildcards.schedule, **RESOLVED["diffusion"]["schedules"][wildcards.schedule]},
            "deep": {key: RESOLVED["deep"][key] for key in ("device", "guidance", "clip_denoised")},
            "options": {key: theory[key] for key in keys},  # theory.* (the wildcard theory: the denoiser)
        }
        if stage == "theory_summary":
            out["denoisers"] = [NETWORK, *theory["denoisers"]]
        return out

    return params


def theory_file(theory, name):
    """Input function: file ``name`` of denoiser ``theory`` of the job's network run."""

    def path(wildcards):
        return level_path("theory_denoiser", name).format(**{**dict(wildcards.items()), "theory": theory})

    return path


def theory_calibration(wildcards):
    """A calibrated denoiser's patch sizes (the others have none)."""
    if wildcards.theory not in CALIBRATED:
        return {}
    return {"calibration": level_path("theory_denoiser", "calibration.json").format(**dict(wildcards.items()))}


def theory_run_files(name):
    """Input function: file ``name`` of every denoiser of the run (the network first)."""

    def files(wildcards):
        here = LEVELS["deep_sample"].point(**LEVELS["deep_sample"].typed(wildcards))
        points = sorted((p for p in THEORY_POINTS if p.at("deep_sample") == here), key=lambda p: p.theory != NETWORK)
        return [os.path.join(point.dir(RESULTS), name) for point in points]

    return files


def theory_targets():
    """Every network run's comparison tables and figures."""
    return [os.path.join(run.dir(RESULTS), "theory", name) for run in THEORY_RUNS for name in THEORY_OUTPUTS]


STUDY_TARGETS.append(theory_targets)
SIDECARS += [
    ("theory_network", lambda: {p for p in THEORY_POINTS if p.theory == NETWORK}),
    ("theory_calibrate", lambda: {p for p in THEORY_POINTS if p.theory in CALIBRATED}),
    ("theory_sample", lambda: {p for p in THEORY_POINTS if p.theory != NETWORK}),
]
