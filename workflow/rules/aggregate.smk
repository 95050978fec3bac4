# Stage 5: cross-sweep tables and figures (Figs. 1, 3, 6 across T, power iteration vs T).


rule aggregate:
    input:
        aggregate_inputs,
    output:
        summary=sweep_path("summary.parquet"),
        fig1=report(sweep_path("fig1_trajectories.png"), category="Sweep", subcategory="{sweep}"),
        fig3=report(sweep_path("fig3_dataset_size.png"), category="Sweep", subcategory="{sweep}"),
        fig6=report(sweep_path("fig6_distributions.png"), category="Sweep", subcategory="{sweep}"),
        power=report(sweep_path("power_iteration.png"), category="Sweep", subcategory="{sweep}"),
        power_table=sweep_path("power_iteration.parquet"),
    params:
        points=lambda wildcards: sweep_table(),
        sweep=lambda wildcards: RESOLVED["sweep"],
        data=lambda wildcards: RESOLVED["data"],
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
    script:
        "../scripts/aggregate.py"
