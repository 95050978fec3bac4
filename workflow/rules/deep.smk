# Deep bias-free denoiser (Sec. 5, Fig. 7): train -> sample (recording the path) -> Jacobian
# eigenbasis along the path. One model per (data, n, size, seed) of sweep.deep; the training
# set is the prepare_data output of the unconditional point with the same n and seed.


rule train_denoiser:
    input:
        train=os.path.join(RESULTS, LEVELS["data"].fix(cond="all"), "data", "train.npz"),
    output:
        model=deep_path("model.pt"),
        history=deep_path("train_history.parquet"),
        metrics=deep_path("train_metrics.json"),
        curves=report(deep_path("fig_training.png"), category="Deep denoiser", subcategory="{data} n={n} {size}"),
        sidecar=deep_path("train.config.yaml"),
    params:
        cfg=deep_params,
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
    script:
        "../scripts/train_denoiser.py"


rule sample_deep:
    input:
        model=rules.train_denoiser.output.model,
    output:
        path=deep_path("sample_path.npz"),
        fig=report(deep_path("fig_sample_path.png"), category="Deep denoiser", subcategory="{data} n={n} {size}"),
        sidecar=deep_path("sample.config.yaml"),
    params:
        cfg=deep_params,
    log:
        log_path("sample_deep", DEEP_JOB),
    benchmark:
        benchmark_path("sample_deep", DEEP_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/sample_deep.py"


rule jacobian_analysis:
    input:
        model=rules.train_denoiser.output.model,
        path=rules.sample_deep.output.path,
    output:
        table=deep_path("jacobian.parquet"),
        spectra=deep_path("jacobian_spectra.npz"),
        metrics=deep_path("jacobian_metrics.json"),
        fig7=report(deep_path("fig7_sin_theta_jacobian.png"), category="Fig. 7: Jacobian eigenbasis",
                    subcategory="{data} n={n} {size}"),
        shrinkage=report(deep_path("fig_shrinkage.png"), category="Fig. 7: Jacobian eigenbasis",
                         subcategory="{data} n={n} {size}"),
        eigenvectors=report(deep_path("fig_eigenvectors.png"), category="Fig. 7: Jacobian eigenbasis",
                            subcategory="{data} n={n} {size}"),
        sidecar=deep_path("jacobian.config.yaml"),
    params:
        cfg=deep_params,
    log:
        log_path("jacobian_analysis", DEEP_JOB),
    benchmark:
        benchmark_path("jacobian_analysis", DEEP_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/jacobian_analysis.py"
