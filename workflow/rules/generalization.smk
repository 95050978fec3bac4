# Memorization vs generalization (Kadkhodaie et al.), sweep.generalization: split the data into
# two disjoint halves A and B, learn one model on the first n images of each, sample both with
# the same seed, and compare: A/B similarity, similarity to the nearest training image, fraction
# of samples closer to a training image than to the other model's sample. One curve over n per
# model (the linear chain; the deep denoiser). Paths and params helpers: common.smk.


rule split_halves:
    input:
        data=data_inputs,
    output:
        halves=ab_path(AB_DIR, "halves.npz"),
        sidecar=ab_path(AB_DIR, "halves.config.yaml"),
    log:
        log_path("split_halves", AB_DIR),
    benchmark:
        benchmark_path("split_halves", AB_DIR)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("split_halves", 1500),
        runtime=10,
    params:
        cfg=ab_split_params,
    script:
        "../scripts/split_halves.py"


rule ab_subset:
    input:
        halves=rules.split_halves.output.halves,
    output:
        train=ab_train_path("train.npz"),
        test=ab_train_path("test.npz"),
        sidecar=ab_train_path("config.yaml"),
    log:
        log_path("ab_subset", AB_TRAIN),
    benchmark:
        benchmark_path("ab_subset", AB_TRAIN)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("ab_subset", 1500),
        runtime=10,
    params:
        cfg=ab_subset_params,
    script:
        "../scripts/ab_subset.py"


# The linear model of one half: the sweep's learn stage on the training subset.
use rule learn as ab_learn_linear with:
    input:
        train=ab_train_path("train.npz"),
    output:
        bases=ab_path(AB_LINEAR_HALF, "bases.npz"),
        sidecar=ab_path(AB_LINEAR_HALF, "config.yaml"),
    log:
        log_path("ab_learn_linear", AB_LINEAR_HALF),
    benchmark:
        benchmark_path("ab_learn_linear", AB_LINEAR_HALF)
    threads: 1
    params:
        cfg=ab_linear_params,


rule ab_generate_linear:
    input:
        a=ab_path(AB_LINEAR, "A/bases.npz"),
        b=ab_path(AB_LINEAR, "B/bases.npz"),
    output:
        samples=ab_path(AB_LINEAR, "samples.npz"),
        sidecar=ab_path(AB_LINEAR, "generate.config.yaml"),
    log:
        log_path("ab_generate_linear", AB_LINEAR),
    benchmark:
        benchmark_path("ab_generate_linear", AB_LINEAR)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("generate", 1500),
        runtime=10,
    params:
        cfg=ab_linear_params,
    script:
        "../scripts/ab_generate_linear.py"


# The deep model of one half: the sweep's train_denoiser stage on the training subset, held out
# the other half's last rows, with a step budget independent of n (sweep.generalization.deep.steps).
use rule train_denoiser as ab_train_denoiser with:
    input:
        train=ab_train_path("train.npz"),
        test=ab_train_path("test.npz"),
    output:
        model=ab_path(AB_DEEP_HALF, "model.pt"),
        history=ab_path(AB_DEEP_HALF, "train_history.parquet"),
        metrics=ab_path(AB_DEEP_HALF, "train_metrics.json"),
        curves=ab_path(AB_DEEP_HALF, "fig_training.png"),
        sidecar=ab_path(AB_DEEP_HALF, "train.config.yaml"),
    log:
        log_path("ab_train_denoiser", AB_DEEP_HALF),
    benchmark:
        benchmark_path("ab_train_denoiser", AB_DEEP_HALF)
    params:
        cfg=ab_deep_params,


rule ab_sample_deep:
    input:
        a=ab_path(AB_DEEP, "A/model.pt"),
        b=ab_path(AB_DEEP, "B/model.pt"),
    output:
        samples=ab_path(AB_DEEP, "samples.npz"),
        sidecar=ab_path(AB_DEEP, "sample.config.yaml"),
    log:
        log_path("ab_sample_deep", AB_DEEP),
    benchmark:
        benchmark_path("ab_sample_deep", AB_DEEP)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        cfg=ab_deep_params,
    script:
        "../scripts/ab_sample_deep.py"


rule ab_compare:
    input:
        halves=rules.split_halves.output.halves,
        samples=ab_path(AB_POINT, "samples.npz"),
    output:
        metrics=ab_path(AB_POINT, "ab_metrics.json"),
        pairs=ab_path(AB_POINT, "ab_pairs.parquet"),
        fig=report(
            ab_path(AB_POINT, "fig_ab_pairs.png"),
            caption="../report/fig_ab_pairs.rst",
            category="Generalization (A/B)",
            subcategory="{data} s{abseed} {abmodel}",
            labels={"n": "{n}"},
        ),
    log:
        log_path("ab_compare", AB_POINT),
    benchmark:
        benchmark_path("ab_compare", AB_POINT)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=ab_compare_params,
    script:
        "../scripts/ab_compare.py"


rule ab_curve:
    input:
        halves=rules.split_halves.output.halves,
        metrics=ab_curve_inputs,
    output:
        table=ab_path(AB_STUDY, "generalization_curve.parquet"),
        fig=report(
            ab_path(AB_STUDY, "fig_generalization.png"),
            caption="../report/fig_generalization.rst",
            category="Generalization (A/B)",
            subcategory="{data} s{abseed} {abmodel}",
            labels={"figure": "transition curve"},
        ),
    log:
        log_path("ab_curve", AB_STUDY),
    benchmark:
        benchmark_path("ab_curve", AB_STUDY)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=ab_curve_params,
    script:
        "../scripts/ab_curve.py"
