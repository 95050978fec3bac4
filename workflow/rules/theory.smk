# The theory-vs-network study (Kamb & Ganguli's local machines, Lukoianov et al.'s locality
# denoiser), sweep.theory: per sampler run of a noise-conditional deep model, the network and every
# analytic denoiser of theory.denoisers sampled from the same initial noise and noise draws.
#   results/.../deep_{size}/{sampler}_{schedule}_T{T}/theory/network/samples.npz, path.npz, metrics.json
#   results/.../deep_{size}/{sampler}_{schedule}_T{T}/theory/{local|equivariant}/calibration.json
#   results/.../deep_{size}/{sampler}_{schedule}_T{T}/theory/{denoiser}/samples.npz, metrics.json
#   results/.../deep_{size}/{sampler}_{schedule}_T{T}/theory/mse.parquet, steps.parquet, final.parquet, figures
# Its points, params, inputs and targets: common/theory.smk; shared helpers: common.smk.


rule theory_network:
    input:
        train=trainset_input,
        model=rules.train_denoiser.output.model,
    output:
        samples=level_path("theory_denoiser", "samples.npz"),
        path=level_path("theory_denoiser", "path.npz"),
        metrics=level_path("theory_denoiser", "metrics.json"),
        sidecar=level_path("theory_denoiser", "network.config.yaml"),
    log:
        log_path("theory_network", THEORY_JOB),
    benchmark:
        benchmark_path("theory_network", THEORY_JOB)
    wildcard_constraints:
        theory=NETWORK,
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=theory_params("theory_network"),
    script:
        "../scripts/theory_network.py"


rule theory_calibrate:
    input:
        train=trainset_input,
        model=rules.train_denoiser.output.model,
    output:
        calibration=level_path("theory_denoiser", "calibration.json"),
        sidecar=level_path("theory_denoiser", "calibrate.config.yaml"),
    log:
        log_path("theory_calibrate", THEORY_JOB),
    benchmark:
        benchmark_path("theory_calibrate", THEORY_JOB)
    wildcard_constraints:
        theory="|".join(CALIBRATED),
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        cfg=theory_params("theory_calibrate"),
    script:
        "../scripts/theory_calibrate.py"


rule theory_sample:
    input:
        unpack(theory_calibration),
        train=trainset_input,
        network_samples=theory_file(NETWORK, "samples.npz"),
        network_path=theory_file(NETWORK, "path.npz"),
    output:
        samples=level_path("theory_denoiser", "samples.npz"),
        metrics=level_path("theory_denoiser", "metrics.json"),
        sidecar=level_path("theory_denoiser", "sample.config.yaml"),
    log:
        log_path("theory_sample", THEORY_JOB),
    benchmark:
        benchmark_path("theory_sample", THEORY_JOB)
    wildcard_constraints:
        theory=ANALYTIC,
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        cfg=theory_params("theory_sample"),
    script:
        "../scripts/theory_sample.py"


rule theory_summary:
    input:
        train=trainset_input,
        metrics=theory_run_files("metrics.json"),
        samples=theory_run_files("samples.npz"),
    output:
        mse=level_path("deep_sample", "theory", "mse.parquet"),
        steps=level_path("deep_sample", "theory", "steps.parquet"),
        final=level_path("deep_sample", "theory", "final.parquet"),
        agreement_fig=report(
            level_path("deep_sample", "theory", "fig_agreement.png"),
            caption="../report/fig_theory_agreement.rst",
            category="Theory vs network",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
            labels={"figure": "held-out MSE and r2"},
        ),
        samples_fig=report(
            level_path("deep_sample", "theory", "fig_samples.png"),
            caption="../report/fig_theory_samples.rst",
            category="Theory vs network",
            subcategory="{data} n={n} {size} {sampler} {schedule} T={T}",
            labels={"figure": "samples on shared seeds"},
        ),
    log:
        log_path("theory_summary", THEORY_RUN_JOB),
    benchmark:
        benchmark_path("theory_summary", THEORY_RUN_JOB)
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=theory_params("theory_summary"),
    script:
        "../scripts/theory_summary.py"
