# Stage 5: cross-sweep tables and figures (Figs. 1, 3, 6 across T, power iteration vs T,
# designed vs hand schedules).


rule aggregate:
    input:
        aggregate_inputs,
    output:
        summary=level_path("sweep", "summary.parquet"),
        fig1=report(
            level_path("sweep", "fig1_trajectories.png"),
            caption="../report/fig1_trajectories.rst",
            category="Sweep",
            subcategory="{sweep}",
        ),
        fig3=report(
            level_path("sweep", "fig3_dataset_size.png"),
            caption="../report/fig3_dataset_size.rst",
            category="Sweep",
            subcategory="{sweep}",
        ),
        fig6=report(
            level_path("sweep", "fig6_distributions.png"),
            caption="../report/fig6_distributions.rst",
            category="Sweep",
            subcategory="{sweep}",
        ),
        power=report(
            level_path("sweep", "power_iteration.png"),
            caption="../report/power_iteration.rst",
            category="Sweep",
            subcategory="{sweep}",
        ),
        power_table=level_path("sweep", "power_iteration.parquet"),
    log:
        log_path("aggregate", "{sweep}"),
    benchmark:
        benchmark_path("aggregate", "{sweep}")
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        points=lambda wildcards: sweep_table(),
        sweep=lambda wildcards: RESOLVED["sweep"],
        data=lambda wildcards: RESOLVED["data"],
    script:
        "../scripts/aggregate.py"


# Only when the sweep has a designed schedule (schedule=spectral): it against the hand schedules.
rule compare_schedules:
    input:
        summary=rules.aggregate.output.summary,
        designs=designed_inputs,
        samples=designed_samples,
    output:
        table=level_path("sweep", "spectral_schedule.parquet"),
        fig=report(
            level_path("sweep", "fig_spectral_schedule.png"),
            caption="../report/fig_spectral_schedule.rst",
            category="Spectral schedule design",
            subcategory="{sweep}",
        ),
    log:
        log_path("compare_schedules", "{sweep}"),
    benchmark:
        benchmark_path("compare_schedules", "{sweep}")
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        points=lambda wildcards: sweep_table(),
        designed=lambda wildcards: designed_schedules(),
    script:
        "../scripts/compare_schedules.py"
