# Deep denoisers (Sec. 5, Fig. 7): train -> sample (recording the final part of each path) ->
# Jacobian eigenbasis along the paths; the samples' quality against held-out real images.
# One model per (data, n, size, seed) of sweep.deep, trained on the prepare_data output of the
# unconditional point with the same n and seed; one sampler run per model and sampler (the
# coarse-to-fine ascent for a blind model, sweep.deep.sampler x schedule x T for a DDPM model);
# one classifier, reference set, linear chain and quality table per (data, n, seed).


rule train_denoiser:
    input:
        train=level_path("trainset", "data", "train.npz"),
    output:
        **SNAPSHOT_OUTPUTS,
        model=level_path("deep", "model.pt"),
        history=level_path("deep", "train_history.parquet"),
        metrics=level_path("deep", "train_metrics.json"),
        curves=report(
            level_path("deep", "fig_training.png"),
            caption="../report/fig_training.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size}",
        ),
        sidecar=level_path("deep", "train.config.yaml"),
    log:
        log_path("train_denoiser", DEEP_JOB),
    benchmark:
        benchmark_path("train_denoiser", DEEP_JOB)
    priority: 10  # a sweep's longest chain: it starts before the many short linear jobs
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=job_mem("train_denoiser", 3000),
        runtime=30,
    params:
        cfg=deep_params,
    script:
        "../scripts/train_denoiser.py"


rule train_variant:
    input:
        train=level_path("trainset", "data", "train.npz"),
        model=rules.train_denoiser.output.model,
    output:
        model=level_path("deep_variant", "model.pt"),
        history=level_path("deep_variant", "train_history.parquet"),
        metrics=level_path("deep_variant", "train_metrics.json"),
        curves=report(
            level_path("deep_variant", "fig_training.png"),
            caption="../report/fig_training.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size}",
            labels={"variant": "{variant}"},
        ),
        sidecar=level_path("deep_variant", "train.config.yaml"),
    log:
        log_path("train_variant", DEEP_VARIANT_JOB),
    benchmark:
        benchmark_path("train_variant", DEEP_VARIANT_JOB)
    priority: 10
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=job_mem("train_denoiser", 3000),
        runtime=30,
    params:
        cfg=deep_variant_params,
    script:
        "../scripts/train_denoiser.py"


rule sample_deep:
    input:
        model=rules.train_denoiser.output.model,
    output:
        path=level_path("deep_sample", "sample_path.npz"),
        samples=level_path("deep_sample", "samples.npz"),
        fig=report(
            level_path("deep_sample", "fig_sample_path.png"),
            caption="../report/fig_sample_path.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        grid=report(
            level_path("deep_sample", "fig_samples.png"),
            caption="../report/fig_samples.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        sidecar=level_path("deep_sample", "sample.config.yaml"),
    log:
        log_path("sample_deep", DEEP_SAMPLE_JOB),
    benchmark:
        benchmark_path("sample_deep", DEEP_SAMPLE_JOB)
    priority: 10  # a sweep's longest chain: it starts before the many short linear jobs
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=deep_sample_params,
    script:
        "../scripts/sample_deep.py"


rule jacobian_analysis:
    input:
        model=rules.train_denoiser.output.model,
        path=rules.sample_deep.output.path,
        train=trainset_input,
    output:
        table=level_path("deep_sample", "jacobian.parquet"),
        spectra=level_path("deep_sample", "jacobian_spectra.npz"),
        metrics=level_path("deep_sample", "jacobian_metrics.json"),
        fig7=report(
            level_path("deep_sample", "fig7_sin_theta_jacobian.png"),
            caption="../report/fig7_sin_theta_jacobian.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        statistics=report(
            level_path("deep_sample", "fig7_index_statistics.png"),
            caption="../report/fig7_index_statistics.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        shrinkage=report(
            level_path("deep_sample", "fig_shrinkage.png"),
            caption="../report/fig_shrinkage.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        eigenvectors=report(
            level_path("deep_sample", "fig_eigenvectors.png"),
            caption="../report/fig_eigenvectors_deep.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        shrinkage_table=level_path("deep_sample", "shrinkage_wiener.parquet"),
        transfer=level_path("deep_sample", "transfer.parquet"),
        wiener=report(
            level_path("deep_sample", "fig_shrinkage_wiener.png"),
            caption="../report/fig_shrinkage_wiener.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        sidecar=level_path("deep_sample", "jacobian.config.yaml"),
    log:
        log_path("jacobian_analysis", DEEP_SAMPLE_JOB),
    benchmark:
        benchmark_path("jacobian_analysis", DEEP_SAMPLE_JOB)
    priority: 10  # a sweep's longest chain: it starts before the many short linear jobs
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=60,  # minutes: 16 paths x 30 points of the MNIST DDPM UNet take ~25 min on 2 cores
    params:
        cfg=deep_sample_params,
    script:
        "../scripts/jacobian_analysis.py"


rule fig7_control:
    input:
        model=fig7_control_model,
        path=rules.sample_deep.output.path,
        trained=rules.jacobian_analysis.output.spectra,
        train=trainset_input,
    output:
        spectra=level_path("deep_control", "jacobian_spectra.npz"),
        table=level_path("deep_control", "statistics.parquet"),
        metrics=level_path("deep_control", "control_metrics.json"),
        fig=report(
            level_path("deep_control", "fig7_control.png"),
            caption="../report/fig7_control.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
            labels={"control": "{control}"},
        ),
        sidecar=level_path("deep_control", "control.config.yaml"),
    log:
        log_path("fig7_control", DEEP_CONTROL_JOB),
    benchmark:
        benchmark_path("fig7_control", DEEP_CONTROL_JOB)
    priority: 10
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        cfg=fig7_control_params,
    script:
        "../scripts/fig7_control.py"


rule fig7_controls:
    input:
        unpack(fig7_controls_inputs),
        trained=rules.jacobian_analysis.output.spectra,
    output:
        table=level_path("deep_sample", "fig7_controls.parquet"),
        fig=report(
            level_path("deep_sample", "fig7_controls.png"),
            caption="../report/fig7_controls.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
    log:
        log_path("fig7_controls", DEEP_SAMPLE_JOB),
    benchmark:
        benchmark_path("fig7_controls", DEEP_SAMPLE_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=deep_sample_params,
    script:
        "../scripts/fig7_controls.py"


rule train_classifier:
    input:
        train=trainset_input,
    output:
        classifier=level_path("trainset", "quality", "classifier.pt"),
        reference=level_path("trainset", "quality", "reference.npz"),
        metrics=level_path("trainset", "quality", "classifier_metrics.json"),
        sidecar=level_path("trainset", "quality", "classifier.config.yaml"),
    log:
        log_path("train_classifier", TRAINSET_JOB),
    benchmark:
        benchmark_path("train_classifier", TRAINSET_JOB)
    priority: 10
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        cfg=quality_params,
    script:
        "../scripts/train_classifier.py"


rule linear_chain_samples:
    input:
        train=trainset_input,
    output:
        samples=level_path("trainset", "quality", "linear_chain.npz"),
        sidecar=level_path("trainset", "quality", "linear_chain.config.yaml"),
    log:
        log_path("linear_chain_samples", TRAINSET_JOB),
    benchmark:
        benchmark_path("linear_chain_samples", TRAINSET_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        cfg=quality_params,
    script:
        "../scripts/linear_chain_samples.py"


rule quality_table:
    input:
        classifier=rules.train_classifier.output.classifier,
        reference=rules.train_classifier.output.reference,
        linear=rules.linear_chain_samples.output.samples,
        samples=quality_table_inputs,
    output:
        table=level_path("trainset", "quality", "quality.parquet"),
        fig=report(
            level_path("trainset", "quality", "fig_quality.png"),
            caption="../report/fig_quality.rst",
            category="Sample quality",
            subcategory="{data} n={n}",
        ),
    log:
        log_path("quality_table", TRAINSET_JOB),
    benchmark:
        benchmark_path("quality_table", TRAINSET_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=quality_params,
        rows=quality_table_rows,
    script:
        "../scripts/quality_table.py"
