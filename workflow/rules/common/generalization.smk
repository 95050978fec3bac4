# The A/B generalization study: its points, params, inputs, targets and sidecars. Its rules:
# generalization.smk.


AB_POINTS = lds.points(LD, "ab_point")
AB_DIR, AB_TRAIN, AB_LINEAR, AB_LINEAR_HALF, AB_DEEP, AB_DEEP_HALF, AB_POINT, AB_STUDY = (
    LEVELS[name].pattern
    for name in ("ab_split", "ab_train", "ab_linear", "ab_linear_half", "ab_deep", "ab_deep_half", "ab_point", "ab_study")
)
AB_N_TEST = 500  # held-out rows of a deep A/B model: the last ones of the other half
AB_CURVE_OUTPUTS = ("generalization_curve.parquet", "fig_generalization.png")


def ab_split_params(wildcards):
    return {"data": RESOLVED["data"], "seed": int(wildcards.abseed)}


def ab_subset_params(wildcards):
    return {**ab_split_params(wildcards), "n": int(wildcards.n), "half": wildcards.half, "n_test": AB_N_TEST}


def ab_linear_params(wildcards):
    """Resolved config of a linear A/B job: the learn of one half (the shared ``learn`` stage,
    ``learn.k`` = the chain rank, centered as the study says), or the same-seed generation."""
    g = RESOLVED["sweep"]["generalization"]
    params = {
        **ab_split_params(wildcards),
        "n": int(wildcards.n),
        "schedule": lde.ab_schedule_params(LD),
        "T": int(wildcards.T),
        "rank": int(wildcards.rank),
    }
    if "half" in wildcards.keys():
        learn = {
            "k": int(wildcards.rank),
            "method": RESOLVED["learn"]["method"],
            "noise": RESOLVED["learn"]["noise"],
            "centered": g["centered"],
        }
        return {**params, "half": wildcards.half, "learn": learn}
    return {
        **params,
        "centered": g["centered"],
        "n_samples": g["n_samples"],
        "injection": g["injection"],
        "generate": {k: RESOLVED["generate"][k] for k in ("injection", "injection_scale")},
    }


def ab_deep_params(wildcards):
    """Resolved config of a deep A/B job: the training of one half (the shared
    ``train_denoiser`` stage with a step budget), or the same-seed sampling."""
    g = RESOLVED["sweep"]["generalization"]["deep"]
    deep = RESOLVED["deep"]
    params = {**ab_split_params(wildcards), "n": int(wildcards.n), "size": wildcards.size}
    if "half" in wildcards.keys():
        return {
            **params,
            "half": wildcards.half,
            "budget": {"steps": g["steps"]},
            "deep": {
                "preset": deep["preset"],
                "device": deep["device"],
                "psnr_sigmas": deep["psnr_sigmas"],
                "overrides": deep["sizes"][wildcards.size],
            },
        }
    sampler = {k: v for k, v in deep["sampler"].items() if k != "n_samples"}
    return {**params, "n_samples": g["n_samples"], "device": deep["device"], "sampler": {**sampler, **g["sampler"]}}


def ab_compare_params(wildcards):
    return {
        **ab_split_params(wildcards),
        "n": int(wildcards.n),
        "model": wildcards.abmodel,
        "centered": RESOLVED["sweep"]["generalization"]["centered"],
    }


def ab_study_points(wildcards):
    points = [p for p in AB_POINTS if (p.data, p.abseed, p.abmodel) == (wildcards.data, int(wildcards.abseed), wildcards.abmodel)]
    if not points:
        raise ValueError(f"no A/B study {wildcards.data}/s{wildcards.abseed}/{wildcards.abmodel} in this config")
    return points


def ab_curve_params(wildcards):
    return {**ab_split_params(wildcards), "model": wildcards.abmodel, "n": [p.n for p in ab_study_points(wildcards)]}


def ab_curve_inputs(wildcards):
    return [os.path.join(p.dir(RESULTS), "ab_metrics.json") for p in ab_study_points(wildcards)]


def ab_targets():
    """The curve (table + figure) of every (data, seed, model) of the A/B study."""
    studies = sorted({p.at("ab_study") for p in AB_POINTS})
    return [os.path.join(study.dir(RESULTS), name) for study in studies for name in AB_CURVE_OUTPUTS]


STUDY_TARGETS.append(ab_targets)
