# Stage 4: analyses of one sweep point at one rank (Figs. 1, 5, 6, predicted spectrum, power iteration).


rule analyze:
    input:
        train=rules.prepare_data.output.train,
        bases=rules.learn.output.bases,
        samples=rules.generate.output.samples,
    output:
        metrics=level_path("rank", "metrics.json"),
        pc_distribution=level_path("rank", "pc_distribution.parquet"),
        fig1=report(
            level_path("rank", "fig1_trajectory.png"),
            caption="../report/fig1_trajectory.rst",
            category="Fig. 1 — trajectories",
            subcategory="{data} {cond}",
            labels={"n": "{n}", "schedule": "{schedule}", "T": "{T}", "rank": "{rank}", "seed": "{seed}"},
        ),
        fig5=report(
            level_path("rank", "fig5_correlations.png"),
            caption="../report/fig5_correlations.rst",
            category="Fig. 5 — basis correlations",
            subcategory="{data} {cond}",
            labels={"n": "{n}", "schedule": "{schedule}", "T": "{T}", "rank": "{rank}", "seed": "{seed}"},
        ),
        fig6=report(
            level_path("rank", "fig6_distribution.png"),
            caption="../report/fig6_distribution.rst",
            category="Fig. 6 — distribution over clean PCs",
            subcategory="{data} {cond}",
            labels={"n": "{n}", "schedule": "{schedule}", "T": "{T}", "rank": "{rank}", "seed": "{seed}"},
        ),
        spectrum=level_path("rank", "spectrum.parquet"),
        fig6_spectrum=report(
            level_path("rank", "fig6_spectrum.png"),
            caption="../report/fig6_spectrum.rst",
            category="Fig. 6 — predicted vs generated spectrum",
            subcategory="{data} {cond}",
            labels={"n": "{n}", "schedule": "{schedule}", "T": "{T}", "rank": "{rank}", "seed": "{seed}"},
        ),
        sidecar=level_path("rank", "analyze.config.yaml"),
    log:
        log_path("analyze", RANK_JOB),
    benchmark:
        benchmark_path("analyze", RANK_JOB)
    group:
        POINT_GROUP
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("analyze", 1500),
        runtime=10,
    params:
        cfg=analyze_params,
    script:
        "../scripts/analyze.py"
