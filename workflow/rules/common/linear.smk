# The linear chain (data -> learn -> generate -> analyze -> aggregate): its params, the sweep table,
# its targets and sidecars. Its rules: data.smk, learn.smk, generate.smk, analyze.smk, aggregate.smk.


def design_input(wildcards):
    """{"design": schedule.npz} for a spectral schedule (designed before the learn), else {}."""
    if not is_designed(wildcards.schedule):
        return {}
    return {"design": level_path("learn", "design/schedule.npz").format(**dict(wildcards.items()))}


def learn_params(wildcards):
    return level_params("learn", wildcards, "learn")


def analyze_bases_params(wildcards):
    return {**level_params("learn", wildcards, "learn"), "max_sin": RESOLVED["analyze"]["max_sin"]}


def generate_params(wildcards):
    return level_params("rank", wildcards, "learn", "generate")


def analyze_params(wildcards):
    return level_params("rank", wildcards, "learn", "generate", "analyze")


def sweep_table():
    """One row per sweep point with its axes and artifact directories (aggregate's input)."""
    return [
        {**point.as_dict(), "id": point.id, "learn_dir": point.at("learn").dir(RESULTS), "rank_dir": point.dir(RESULTS)}
        for point in POINTS
    ]


def aggregate_inputs(wildcards):
    files = []
    for row in sweep_table():
        files.append(os.path.join(row["learn_dir"], "sin_theta.parquet"))
        files += [os.path.join(row["rank_dir"], name) for name in ("metrics.json", "pc_distribution.parquet", "samples.npz")]
    return sorted(set(files))


def designed_schedules():
    """Schedule keys of the sweep that are designed from the data (schedule=spectral)."""
    return sorted({p.schedule for p in POINTS if is_designed(p.schedule)})


def designed_rows():
    """Sweep-table rows of the designed points."""
    return [row for row in sweep_table() if is_designed(row["schedule"])]


def designed_inputs(wildcards):
    """Design artifacts of the designed sweep points (compare_schedules' input)."""
    return sorted(
        {
            os.path.join(row["learn_dir"], "design", name)
            for row in designed_rows()
            for name in ("predicted_spectrum.parquet", "design.json")
        }
    )


def designed_samples(wildcards):
    """Samples of the designed sweep points (their refined injected noise and its prediction)."""
    return sorted(os.path.join(row["rank_dir"], "samples.npz") for row in designed_rows())


AGGREGATE_OUTPUTS = [
    "summary.parquet",
    "fig1_trajectories.png",
    "fig3_dataset_size.png",
    "fig6_distributions.png",
    "power_iteration.png",
    "power_iteration.parquet",
]


def linear_targets():
    """The linear chain's figures per point and the sweep's cross-sweep tables and figures."""
    targets = []
    for row in sweep_table():
        targets.append(os.path.join(row["learn_dir"], "fig2_sin_theta.png"))
        targets += [
            os.path.join(row["rank_dir"], name)
            for name in ("fig5_correlations.png", "fig6_distribution.png", "fig6_spectrum.png")
        ]
    targets += [os.path.join(RESULTS, "sweeps", SWEEP, name) for name in AGGREGATE_OUTPUTS]
    if designed_schedules():
        targets += [
            os.path.join(RESULTS, "sweeps", SWEEP, name) for name in ("spectral_schedule.parquet", "fig_spectral_schedule.png")
        ]
    return targets


STUDY_TARGETS.append(linear_targets)
SIDECARS += [
    ("prepare_data", lambda: points_at("data", POINTS)),
    ("learn", lambda: points_at("learn", POINTS)),
    ("generate", lambda: points_at("rank", POINTS)),
    ("analyze", lambda: points_at("rank", POINTS)),
    ("design_schedule", lambda: {p.at("learn") for p in POINTS if is_designed(p.schedule)}),
]
