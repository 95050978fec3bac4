# The samplers study (sweep.samplers; Benita et al.): the Gaussian of a training set -> each
# sampler's noise levels (a designed schedule from that Gaussian's spectrum) -> one run of the
# sampler per denoiser, its generated spectrum measured against the closed-form transfer function
# -> the cross-sweep comparison (W2 against T, frequency responses, schedules, denoisers).
# Its points, params, inputs and targets: common/samplers.smk; shared helpers: common.smk.
#   results/{data}/all/n{n}_s{seed}/gaussian/gaussian.npz
#     .../samplers/{schedule}_T{T}/{sampler}/levels.npz
#     .../samplers/{schedule}_T{T}/{sampler}/{denoiser}/spectrum.parquet, metrics.json, fig_spectrum.png


rule fit_gaussian:
    input:
        train=level_path("trainset", "data", "train.npz"),
    output:
        gaussian=level_path("trainset", "gaussian", "gaussian.npz"),
        sidecar=level_path("trainset", "gaussian", "config.yaml"),
    log:
        log_path("fit_gaussian", TRAINSET_JOB),
    benchmark:
        benchmark_path("fit_gaussian", TRAINSET_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("learn", 1000),
        runtime=10,
    params:
        cfg=gaussian_params,
    script:
        "../scripts/fit_gaussian.py"


rule sampler_levels:
    input:
        unpack(sampler_levels_inputs),
    output:
        levels=level_path("sampler_levels", "levels.npz"),
        metrics=level_path("sampler_levels", "levels.json"),
        sidecar=level_path("sampler_levels", "config.yaml"),
    log:
        log_path("sampler_levels", SAMPLER_LEVELS_JOB),
    benchmark:
        benchmark_path("sampler_levels", SAMPLER_LEVELS_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        cfg=sampler_levels_params,
    script:
        "../scripts/sampler_levels.py"


rule sample_sampler:
    input:
        unpack(sample_sampler_inputs),
    output:
        spectrum=level_path("sampler_point", "spectrum.parquet"),
        metrics=level_path("sampler_point", "metrics.json"),
        samples=level_path("sampler_point", "samples.npz"),
        fig=report(
            level_path("sampler_point", "fig_spectrum.png"),
            caption="../report/fig_spectrum.rst",
            category="Samplers — spectral transfer",
            subcategory="{data} n={n} {schedule} T={T}",
            labels={"sampler": "{sampler}", "denoiser": "{denoiser}"},
        ),
        sidecar=level_path("sampler_point", "config.yaml"),
    log:
        log_path("sample_sampler", SAMPLER_JOB),
    benchmark:
        benchmark_path("sample_sampler", SAMPLER_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=sampler_mem,
        runtime=30,
    params:
        cfg=sample_sampler_params,
    script:
        "../scripts/sample_sampler.py"


rule compare_samplers:
    input:
        compare_samplers_inputs,
    output:
        table=level_path("sweep", "samplers.parquet"),
        w2=report(
            level_path("sweep", "fig_samplers_w2.png"),
            caption="../report/fig_samplers_w2.rst",
            category="Samplers — spectral transfer",
            subcategory="{sweep}",
        ),
        response=report(
            level_path("sweep", "fig_frequency_response.png"),
            caption="../report/fig_frequency_response.rst",
            category="Samplers — spectral transfer",
            subcategory="{sweep}",
        ),
        schedules=report(
            level_path("sweep", "fig_sampler_schedules.png"),
            caption="../report/fig_sampler_schedules.rst",
            category="Samplers — spectral transfer",
            subcategory="{sweep}",
        ),
        denoisers=report(
            level_path("sweep", "fig_denoisers.png"),
            caption="../report/fig_denoisers.rst",
            category="Samplers — spectral transfer",
            subcategory="{sweep}",
        ),
    log:
        log_path("compare_samplers", "{sweep}"),
    benchmark:
        benchmark_path("compare_samplers", "{sweep}")
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        points=lambda wildcards: sampler_table(),
    script:
        "../scripts/compare_samplers.py"
