# The samplers study: its points, params, inputs, targets and sidecars. Its rules: samplers.smk.


SAMPLER_POINTS = lds.points(LD, "sampler_point")
SAMPLER_FAMILY = ("sampler_levels", "sampler_point")
SAMPLER_LEVELS_JOB, SAMPLER_JOB = (LEVELS[name].pattern for name in SAMPLER_FAMILY)
SAMPLERS_OUTPUTS = (
    "samplers.parquet",
    "fig_samplers_w2.png",
    "fig_frequency_response.png",
    "fig_sampler_schedules.png",
    "fig_denoisers.png",
)


def is_designed_levels(name):
    return RESOLVED["diffusion"]["schedules"][name]["shape"] == DESIGNED


def gaussian_params(wildcards):
    return {"data": RESOLVED["data"], "n": int(wildcards.n), "seed": int(wildcards.seed)}


def sampler_levels_params(wildcards):
    """A sampler's levels: its schedule entry and sampler (and, designed, the design options)."""
    params = {
        **gaussian_params(wildcards),
        "T": int(wildcards.T),
        "schedule": {"name": wildcards.schedule, **RESOLVED["diffusion"]["schedules"][wildcards.schedule]},
        "sampler": {"name": wildcards.sampler, **RESOLVED["diffusion"]["samplers"][wildcards.sampler]},
    }
    if is_designed_levels(wildcards.schedule):
        params["design"] = RESOLVED["diffusion"]["design"]
    return params


def sampler_levels_inputs(wildcards):
    """{"gaussian": gaussian.npz} for a designed schedule, else {} (a hand schedule needs no data)."""
    if not is_designed_levels(wildcards.schedule):
        return {}
    return {"gaussian": level_path("trainset", "gaussian", "gaussian.npz").format(**dict(wildcards.items()))}


def sample_sampler_params(wildcards):
    """One sampler run: the levels' params, the denoiser and only the options it uses."""
    diffusion = RESOLVED["diffusion"]
    params = {**sampler_levels_params(wildcards), "denoiser": wildcards.denoiser, "n_samples": diffusion["n_samples"]}
    if wildcards.denoiser == "empirical":
        params["empirical_chunk"] = diffusion["empirical_chunk"]
    elif wildcards.denoiser == "projection":
        params["projection"] = {
            "rank": diffusion["projection_rank"],
            "method": RESOLVED["learn"]["method"],
            "noise": RESOLVED["learn"]["noise"],
        }
    elif wildcards.denoiser == "deep":
        params["deep"] = {"size": diffusion["deep_size"], "device": RESOLVED["deep"]["device"]}
    return params


def sample_sampler_inputs(wildcards):
    values = dict(wildcards.items())
    inputs = {
        "train": level_path("trainset", "data", "train.npz").format(**values),
        "gaussian": level_path("trainset", "gaussian", "gaussian.npz").format(**values),
        "levels": level_path("sampler_levels", "levels.npz").format(**values),
    }
    if wildcards.denoiser == "deep":
        inputs["model"] = level_path("deep", "model.pt").format(**values, size=RESOLVED["diffusion"]["deep_size"])
    return inputs


def sampler_mem(wildcards):
    point = LEVELS["sampler_point"].point(**LEVELS["sampler_point"].typed(wildcards))
    return max(1000, ldr.job_mem_mb("sample_sampler", LD, DATA_SHAPE, point=point))


def sampler_table():
    """One row per samplers-study point with its axes and directories (compare_samplers' input)."""
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS), "levels_dir": point.at("sampler_levels").dir(RESULTS)}
        for point in SAMPLER_POINTS
    ]


def compare_samplers_inputs(wildcards):
    files = []
    for row in sampler_table():
        files += [os.path.join(row["dir"], name) for name in ("metrics.json", "spectrum.parquet")]
        files.append(os.path.join(row["levels_dir"], "levels.npz"))
    return sorted(set(files))


def samplers_targets():
    """Each sampler run's spectrum and metrics, and the sweep's comparison."""
    targets = []
    for point in SAMPLER_POINTS:
        targets += [os.path.join(point.dir(RESULTS), name) for name in ("fig_spectrum.png", "metrics.json")]
    if SAMPLER_POINTS:
        targets += [os.path.join(RESULTS, "sweeps", SWEEP, name) for name in SAMPLERS_OUTPUTS]
    return targets


STUDY_TARGETS.append(samplers_targets)
SIDECARS += [
    ("sampler_levels", lambda: points_at("sampler_levels", SAMPLER_POINTS)),
    ("sample_sampler", lambda: points_at("sampler_point", SAMPLER_POINTS)),
    ("fit_gaussian", lambda: {p.at("trainset") for p in SAMPLER_POINTS}),
]
