# Memorization vs generalization (Kadkhodaie et al.), sweep.generalization: split the data into
# two disjoint halves A and B, learn one model on the first n images of each, sample both with
# the same seed, and compare: A/B similarity, similarity to the nearest training image, fraction
# of samples closer to a training image than to the other model's sample. One curve over n per
# model (the linear chain; the deep denoiser). Its points, params, inputs and
# targets: common/generalization.smk; shared helpers: common.smk.


# sweep.generalization: two disjoint halves A and B of the data,
# one model per (half, n), same-seed samples from both, compared per n, one curve per model.
#   results/{data}/generalization/s{abseed}/halves.npz
#     .../linear_{schedule}_T{T}_r{rank}/n{n}/{half}/bases.npz     .../n{n}/samples.npz
#     .../deep_{size}/n{n}/{half}/model.pt                          .../n{n}/samples.npz
#     .../{abmodel}/n{n}/ab_metrics.json, ab_pairs.parquet, fig_ab_pairs.png
#     .../{abmodel}/generalization_curve.parquet, fig_generalization.png


rule split_halves:
    input:
        data=data_inputs,
    output:
        halves=level_path("ab_split", "halves.npz"),
        sidecar=level_path("ab_split", "halves.config.yaml"),
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
        train=level_path("ab_train", "train.npz"),
        test=level_path("ab_train", "test.npz"),
        sidecar=level_path("ab_train", "config.yaml"),
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
        train=level_path("ab_train", "train.npz"),
    output:
        bases=level_path("ab_linear_half", "bases.npz"),
        sidecar=level_path("ab_linear_half", "config.yaml"),
    log:
        log_path("ab_learn_linear", AB_LINEAR_HALF),
    benchmark:
        benchmark_path("ab_learn_linear", AB_LINEAR_HALF)
    threads: 1
    params:
        cfg=ab_linear_params,


rule ab_generate_linear:
    input:
        a=level_path("ab_linear", "A/bases.npz"),
        b=level_path("ab_linear", "B/bases.npz"),
    output:
        samples=level_path("ab_linear", "samples.npz"),
        sidecar=level_path("ab_linear", "generate.config.yaml"),
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
        train=level_path("ab_train", "train.npz"),
        test=level_path("ab_train", "test.npz"),
    output:
        model=level_path("ab_deep_half", "model.pt"),
        history=level_path("ab_deep_half", "train_history.parquet"),
        metrics=level_path("ab_deep_half", "train_metrics.json"),
        curves=level_path("ab_deep_half", "fig_training.png"),
        sidecar=level_path("ab_deep_half", "train.config.yaml"),
    log:
        log_path("ab_train_denoiser", AB_DEEP_HALF),
    benchmark:
        benchmark_path("ab_train_denoiser", AB_DEEP_HALF)
    params:
        cfg=ab_deep_params,


rule ab_sample_deep:
    input:
        a=level_path("ab_deep", "A/model.pt"),
        b=level_path("ab_deep", "B/model.pt"),
    output:
        samples=level_path("ab_deep", "samples.npz"),
        sidecar=level_path("ab_deep", "sample.config.yaml"),
    log:
        log_path("ab_sample_deep", AB_DEEP),
    benchmark:
        benchmark_path("ab_sample_deep", AB_DEEP)
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
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
        samples=level_path("ab_point", "samples.npz"),
    output:
        metrics=level_path("ab_point", "ab_metrics.json"),
        pairs=level_path("ab_point", "ab_pairs.parquet"),
        fig=report(
            level_path("ab_point", "fig_ab_pairs.png"),
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
        table=level_path("ab_study", "generalization_curve.parquet"),
        fig=report(
            level_path("ab_study", "fig_generalization.png"),
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
