# Stage 1: the training set of a sweep point (indices into the data set + provenance).


rule prepare_data:
    input:
        data=data_inputs,
    output:
        train=level_path("data", "data/train.npz"),
        sidecar=level_path("data", "data/config.yaml"),
    log:
        log_path("data", JOB),
    benchmark:
        benchmark_path("data", JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=job_mem("prepare_data", 1500),
        runtime=10,
    params:
        cfg=data_params,
    script:
        "../scripts/prepare_data.py"
