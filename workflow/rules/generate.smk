# Stage 3: run the chains (deterministic, Eq. 14, and noise-injected, Eq. 25) at one rank.


rule generate:
    input:
        unpack(design_input),
        bases=rules.learn.output.bases,
    output:
        samples=level_path("rank", "samples.npz"),
        sidecar=level_path("rank", "generate.config.yaml"),
    log:
        log_path("generate", RANK_JOB),
    benchmark:
        benchmark_path("generate", RANK_JOB)
    group:
        POINT_GROUP
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("generate", 1500),
        runtime=10,
    params:
        cfg=generate_params,
    script:
        "../scripts/generate.py"
