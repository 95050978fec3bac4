# Stage 3: run the chains (deterministic, Eq. 14, and noise-injected, Eq. 25) at one rank.


rule generate:
    input:
        unpack(design_input),
        bases=rules.learn.output.bases,
    output:
        samples=rank_path("samples.npz"),
        sidecar=rank_path("generate.config.yaml"),
    params:
        cfg=generate_params,
    log:
        log_path("generate", RANK_JOB),
    benchmark:
        benchmark_path("generate", RANK_JOB)
    conda:
        "../envs/lindiff.yaml"
    group:
        POINT_GROUP
    threads: 1
    resources:
        mem_mb=job_mem("generate", 1500),
        runtime=10,
    script:
        "../scripts/generate.py"
