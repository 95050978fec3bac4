# Memorization vs generalization (Kadkhodaie et al.), sweep.generalization: split the data into
# two disjoint halves A and B, learn one model on the first n images of each, sample both with
# the same seed, and compare: A/B similarity, similarity to the nearest training image, fraction
# of samples closer to a training image than to the other model's sample. One curve over n per
# model (the linear chain; the deep denoiser). Paths and params helpers: common.smk.


rule split_halves:
    output:
        halves=ab_path(AB_DIR, "halves.npz"),
        sidecar=ab_path(AB_DIR, "halves.config.yaml"),
    params:
        cfg=ab_split_params,
    log:
        log_path("split_halves", AB_DIR),
    benchmark:
        benchmark_path("split_halves", AB_DIR)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    script:
        "../scripts/split_halves.py"


rule ab_learn_linear:
    input:
        halves=rules.split_halves.output.halves,
    output:
        bases=ab_path(AB_LINEAR, "{half}/bases.npz"),
        sidecar=ab_path(AB_LINEAR, "{half}/config.yaml"),
    params:
        cfg=ab_linear_params,
    log:
        log_path("ab_learn_linear", os.path.join(AB_LINEAR, "{half}")),
    benchmark:
        benchmark_path("ab_learn_linear", os.path.join(AB_LINEAR, "{half}"))
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/ab_learn_linear.py"


rule ab_generate_linear:
    input:
        a=ab_path(AB_LINEAR, "A/bases.npz"),
        b=ab_path(AB_LINEAR, "B/bases.npz"),
    output:
        samples=ab_path(AB_LINEAR, "samples.npz"),
        sidecar=ab_path(AB_LINEAR, "generate.config.yaml"),
    params:
        cfg=ab_linear_params,
    log:
        log_path("ab_generate_linear", AB_LINEAR),
    benchmark:
        benchmark_path("ab_generate_linear", AB_LINEAR)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    script:
        "../scripts/ab_generate_linear.py"


rule ab_train_denoiser:
    input:
        halves=rules.split_halves.output.halves,
    output:
        model=ab_path(AB_DEEP, "{half}/model.pt"),
        history=ab_path(AB_DEEP, "{half}/train_history.parquet"),
        metrics=ab_path(AB_DEEP, "{half}/train_metrics.json"),
        sidecar=ab_path(AB_DEEP, "{half}/train.config.yaml"),
    params:
        cfg=ab_deep_params,
    log:
        log_path("ab_train_denoiser", os.path.join(AB_DEEP, "{half}")),
    benchmark:
        benchmark_path("ab_train_denoiser", os.path.join(AB_DEEP, "{half}"))
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=30,
    script:
        "../scripts/ab_train_denoiser.py"


rule ab_sample_deep:
    input:
        a=ab_path(AB_DEEP, "A/model.pt"),
        b=ab_path(AB_DEEP, "B/model.pt"),
    output:
        samples=ab_path(AB_DEEP, "samples.npz"),
        sidecar=ab_path(AB_DEEP, "sample.config.yaml"),
    params:
        cfg=ab_deep_params,
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
    script:
        "../scripts/ab_sample_deep.py"


rule ab_compare:
    input:
        halves=rules.split_halves.output.halves,
        samples=ab_path(AB_POINT, "samples.npz"),
    output:
        metrics=ab_path(AB_POINT, "ab_metrics.json"),
        pairs=ab_path(AB_POINT, "ab_pairs.parquet"),
        fig=report(ab_path(AB_POINT, "fig_ab_pairs.png"), category="Generalization (A/B)",
                   subcategory="{data} s{abseed} {abmodel}", labels={"n": "{n}"}),
    params:
        cfg=ab_compare_params,
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
    script:
        "../scripts/ab_compare.py"


rule ab_curve:
    input:
        halves=rules.split_halves.output.halves,
        metrics=ab_curve_inputs,
    output:
        table=ab_path(AB_STUDY, "generalization_curve.parquet"),
        fig=report(ab_path(AB_STUDY, "fig_generalization.png"), category="Generalization (A/B)",
                   subcategory="{data} s{abseed} {abmodel}", labels={"figure": "transition curve"}),
    params:
        cfg=ab_curve_params,
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
    script:
        "../scripts/ab_curve.py"
