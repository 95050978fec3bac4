# The GAHB study: its points, params, inputs, targets and sidecars. Its rules: gahb.smk.


GAHB_DATA_POINTS = lds.points(LD, "gahb_calpha_data", "gahb_disks_data")
GAHB_POINTS = lds.points(LD, "gahb_calpha", "gahb_disks")
GAHB_STUDIES = sorted({point.at("gahb_study") for point in GAHB_POINTS})
GAHB_LEVELS = ("gahb_calpha_data", "gahb_calpha", "gahb_disks_data", "gahb_disks", "gahb_study")
GAHB_JOBS = {name: LEVELS[name].pattern for name in GAHB_LEVELS}
GAHB_SUMMARY_OUTPUTS = ("calpha_slopes.parquet", "disks_alignment.parquet", "fig_calpha_psnr.png", "fig_disks_alignment.png")


def gahb_split_of(wildcards):
    """(family, axis value) of a GAHB job: ("calpha", alpha) or ("disks", n)."""
    family = "calpha" if "alpha" in wildcards.keys() else "disks"
    return family, (float(wildcards.alpha) if family == "calpha" else int(wildcards.n))


def gahb_data_params(wildcards):
    """The split's generated data (a data=calpha or data=disks config) and its sizes."""
    family, value = gahb_split_of(wildcards)
    n_train, n_test = lde.gahb_sizes(LD, family, value)
    return {
        "seed": int(wildcards.seed),
        "family": family,
        "data": lde.gahb_data_config(LD, family, value),
        "n_train": n_train,
        "n_test": n_test,
    }


def gahb_train_params(wildcards):
    """A GAHB model: the shared train_denoiser stage with the study's step budget."""
    gahb = RESOLVED["gahb"]
    return {
        **gahb_data_params(wildcards),
        "size": wildcards.size,
        "budget": {"steps": RESOLVED["sweep"]["gahb"]["steps"]},
        "deep": {
            "preset": gahb["preset"],
            "device": gahb["device"],
            "psnr_sigmas": gahb["psnr_sigmas"],
            "overrides": gahb["sizes"][wildcards.size],
        },
    }


def gahb_measure_params(wildcards):
    """The measurement of a GAHB model: its family's options (gahb.calpha or gahb.disks)."""
    params = gahb_data_params(wildcards)
    return {
        **params,
        "size": wildcards.size,
        "device": RESOLVED["gahb"]["device"],
        "measure": {k: v for k, v in RESOLVED["gahb"][params["family"]].items() if k != "data"},
    }


def gahb_rows(level, wildcards):
    """The GAHB models of ``level`` in the study (seed, size) of ``wildcards``, with their directories."""
    here = (int(wildcards.seed), wildcards.size)
    return [
        {**point.as_dict(), "id": point.id, "dir": point.dir(RESULTS)}
        for point in GAHB_POINTS
        if point.level == level and (point.seed, point.size) == here
    ]


def gahb_summary_inputs(level, *names):
    def inputs(wildcards):
        return sorted(os.path.join(row["dir"], name) for row in gahb_rows(level, wildcards) for name in names)

    return inputs


def gahb_summary_params(wildcards):
    return {
        "seed": int(wildcards.seed),
        "size": wildcards.size,
        "calpha": gahb_rows("gahb_calpha", wildcards),
        "disks": gahb_rows("gahb_disks", wildcards),
        "slope_range": RESOLVED["gahb"]["calpha"]["slope_range"],
    }


def gahb_targets():
    """The summary of every (seed, size) of the GAHB study, and each model's measurement."""
    targets = [os.path.join(study.dir(RESULTS), name) for study in GAHB_STUDIES for name in GAHB_SUMMARY_OUTPUTS]
    for point in GAHB_POINTS:
        names = ("fig_curve.png",) if point.level == "gahb_calpha" else ("fig_eigenvectors.png",)
        targets += [os.path.join(point.dir(RESULTS), name) for name in names]
    return targets


STUDY_TARGETS.append(gahb_targets)
SIDECARS += [
    (name, lambda level=level: points_at(level, [*GAHB_DATA_POINTS, *GAHB_POINTS]))
    for level, name in (
        ("gahb_calpha_data", "gahb_calpha_subset"),
        ("gahb_disks_data", "gahb_disks_subset"),
        ("gahb_calpha", "gahb_calpha_train"),
        ("gahb_calpha", "gahb_calpha_curve"),
        ("gahb_disks", "gahb_disks_train"),
        ("gahb_disks", "gahb_disks_jacobian"),
    )
]
