# Stage 2: (schedule=spectral: design the schedule from the data's spectrum, then) learn the PCA bases along the schedule (rank-independent: stores learn.k components),
# and the rank-independent analyses of the bases (Fig. 2: sin theta vs noise level).


rule design_schedule:
    input:
        train=rules.prepare_data.output.train,
    output:
        schedule=level_path("learn", "design/schedule.npz"),
        predicted=level_path("learn", "design/predicted_spectrum.parquet"),
        metrics=level_path("learn", "design/design.json"),
        fig=report(
            level_path("learn", "design/fig_design.png"),
            caption="../report/fig_design.rst",
            category="Spectral schedule design",
            subcategory="{data} {cond} n={n} seed={seed}",
            labels={"schedule": "{schedule}", "T": "{T}"},
        ),
        sidecar=level_path("learn", "design/config.yaml"),
    log:
        log_path("design_schedule", LEARN_JOB),
    benchmark:
        benchmark_path("design_schedule", LEARN_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=learn_params,
    script:
        "../scripts/design_schedule.py"


rule learn:
    input:
        unpack(design_input),
        train=rules.prepare_data.output.train,
    output:
        bases=level_path("learn", "learn/bases.npz"),
        sidecar=level_path("learn", "learn/config.yaml"),
    log:
        log_path("learn", LEARN_JOB),
    benchmark:
        benchmark_path("learn", LEARN_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=job_mem("learn", 2000),
        runtime=30,
    params:
        cfg=learn_params,
    script:
        "../scripts/learn.py"


rule analyze_bases:
    input:
        bases=rules.learn.output.bases,
    output:
        sin_theta=level_path("learn", "sin_theta.parquet"),
        slopes=level_path("learn", "small_noise_slopes.parquet"),
        fig2=report(
            level_path("learn", "fig2_sin_theta.png"),
            caption="../report/fig2_sin_theta.rst",
            category="Fig. 2 — sin theta vs noise",
            subcategory="{data} {cond} n={n} seed={seed}",
            labels={"schedule": "{schedule}", "T": "{T}"},
        ),
    log:
        log_path("analyze_bases", LEARN_JOB),
    benchmark:
        benchmark_path("analyze_bases", LEARN_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("analyze_bases", 1000),
        runtime=10,
    params:
        cfg=analyze_bases_params,
    script:
        "../scripts/analyze_bases.py"
