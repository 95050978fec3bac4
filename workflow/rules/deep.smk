# Deep denoisers (Sec. 5, Fig. 7): train -> sample (recording the final part of each path) ->
# Jacobian eigenbasis along the paths; the samples' quality against held-out real images.
# One model per (data, n, size, seed) of sweep.deep, trained on the prepare_data output of the
# unconditional point with the same n and seed; one sampler run per model and sampler (the
# coarse-to-fine ascent for a blind model, sweep.deep.sampler x schedule x T for a DDPM model);
# one classifier, reference set, linear chain and quality table per (data, n, seed).


rule train_denoiser:
    input:
        train=os.path.join(RESULTS, LEVELS["data"].fix(cond="all"), "data", "train.npz"),
    output:
        model=deep_path("model.pt"),
        history=deep_path("train_history.parquet"),
        metrics=deep_path("train_metrics.json"),
        curves=report(
            deep_path("fig_training.png"),
            caption="../report/fig_training.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size}",
        ),
        sidecar=deep_path("train.config.yaml"),
    log:
        log_path("train_denoiser", DEEP_JOB),
    benchmark:
        benchmark_path("train_denoiser", DEEP_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=job_mem("train_denoiser", 3000),
        runtime=30,
    params:
        cfg=deep_params,
    script:
        "../scripts/train_denoiser.py"


rule sample_deep:
    input:
        model=rules.train_denoiser.output.model,
    output:
        path=deep_sample_path("sample_path.npz"),
        samples=deep_sample_path("samples.npz"),
        fig=report(
            deep_sample_path("fig_sample_path.png"),
            caption="../report/fig_sample_path.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        grid=report(
            deep_sample_path("fig_samples.png"),
            caption="../report/fig_samples.rst",
            category="Deep denoiser",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        sidecar=deep_sample_path("sample.config.yaml"),
    log:
        log_path("sample_deep", DEEP_SAMPLE_JOB),
    benchmark:
        benchmark_path("sample_deep", DEEP_SAMPLE_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
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
        table=deep_sample_path("jacobian.parquet"),
        spectra=deep_sample_path("jacobian_spectra.npz"),
        metrics=deep_sample_path("jacobian_metrics.json"),
        fig7=report(
            deep_sample_path("fig7_sin_theta_jacobian.png"),
            caption="../report/fig7_sin_theta_jacobian.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        statistics=report(
            deep_sample_path("fig7_index_statistics.png"),
            caption="../report/fig7_index_statistics.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        shrinkage=report(
            deep_sample_path("fig_shrinkage.png"),
            caption="../report/fig_shrinkage.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        eigenvectors=report(
            deep_sample_path("fig_eigenvectors.png"),
            caption="../report/fig_eigenvectors_deep.rst",
            category="Fig. 7 — Jacobian eigenbasis",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
        ),
        sidecar=deep_sample_path("jacobian.config.yaml"),
    log:
        log_path("jacobian_analysis", DEEP_SAMPLE_JOB),
    benchmark:
        benchmark_path("jacobian_analysis", DEEP_SAMPLE_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=60,  # minutes: 16 paths x 30 points of the MNIST DDPM UNet take ~25 min on 2 cores
    params:
        cfg=deep_sample_params,
    script:
        "../scripts/jacobian_analysis.py"


rule train_classifier:
    input:
        train=trainset_input,
    output:
        classifier=quality_path("classifier.pt"),
        reference=quality_path("reference.npz"),
        metrics=quality_path("classifier_metrics.json"),
        sidecar=quality_path("classifier.config.yaml"),
    log:
        log_path("train_classifier", TRAINSET_JOB),
    benchmark:
        benchmark_path("train_classifier", TRAINSET_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
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
        samples=quality_path("linear_chain.npz"),
        sidecar=quality_path("linear_chain.config.yaml"),
    log:
        log_path("linear_chain_samples", TRAINSET_JOB),
    benchmark:
        benchmark_path("linear_chain_samples", TRAINSET_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
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
        table=quality_path("quality.parquet"),
        fig=report(
            quality_path("fig_quality.png"),
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
