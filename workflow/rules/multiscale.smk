# The receptive-field study (Kadkhodaie, Guth, Mallat & Simoncelli), sweep.multiscale: flat and
# multi-scale wavelet denoisers at each receptive field, on a training set of the sweep's data.
#   results/{data}/multiscale/{wavelet}/n{n}_s{seed}/model_{scale}_rf{rf}/model.pt ...   (one per model)
#   results/{data}/multiscale/{wavelet}/n{n}_s{seed}/{arch}_rf{rf}/samples.npz, metrics.json, fig_samples.png
#   results/{data}/multiscale/{wavelet}/n{n}_s{seed}/table.parquet, fig_psnr.png, fig_samples.png
# Its points, params, inputs and targets: common/multiscale.smk; shared helpers: common.smk.


rule ms_train:
    input:
        train=trainset_input,
    output:
        model=level_path("ms_model", "model.pt"),
        history=level_path("ms_model", "train_history.parquet"),
        metrics=level_path("ms_model", "train_metrics.json"),
        sidecar=level_path("ms_model", "train.config.yaml"),
    log:
        log_path("ms_train", MS_JOBS["ms_model"]),
    benchmark:
        benchmark_path("ms_train", MS_JOBS["ms_model"])
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=ms_train_params,
    script:
        "../scripts/ms_train.py"


rule ms_synthesize:
    input:
        unpack(ms_quality_inputs),
        train=trainset_input,
        models=ms_synth_files("model.pt"),
        model_metrics=ms_synth_files("train_metrics.json"),  # their parameters and training time add up
    output:
        samples=level_path("ms_synth", "samples.npz"),
        metrics=level_path("ms_synth", "metrics.json"),
        fig=report(
            level_path("ms_synth", "fig_samples.png"),
            caption="../report/fig_ms_samples.rst",
            category="Receptive fields",
            subcategory="{data} {wavelet} n={n}",
            labels={"model": "{arch} rf={rf}"},
        ),
        sidecar=level_path("ms_synth", "synthesis.config.yaml"),
    log:
        log_path("ms_synthesize", MS_JOBS["ms_synth"]),
    benchmark:
        benchmark_path("ms_synthesize", MS_JOBS["ms_synth"])
    conda:
        "../envs/lindiff.yaml"
    threads: DATA_THREADS
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=lambda wildcards: ms_params(wildcards, "ms_synth"),
    script:
        "../scripts/ms_synthesize.py"


rule ms_summary:
    input:
        train=trainset_input,
        metrics=ms_study_inputs("metrics.json"),
        samples=ms_study_inputs("samples.npz"),
    output:
        table=level_path("ms_study", "table.parquet"),
        psnr_fig=report(
            level_path("ms_study", "fig_psnr.png"),
            caption="../report/fig_ms_psnr.rst",
            category="Receptive fields",
            subcategory="{data} {wavelet} n={n}",
            labels={"figure": "PSNR against sigma"},
        ),
        samples_fig=report(
            level_path("ms_study", "fig_samples.png"),
            caption="../report/fig_ms_samples.rst",
            category="Receptive fields",
            subcategory="{data} {wavelet} n={n}",
            labels={"figure": "samples of every model"},
        ),
        spectrum_fig=report(
            level_path("ms_study", "fig_spectrum.png"),
            caption="../report/fig_ms_spectrum.rst",
            category="Receptive fields",
            subcategory="{data} {wavelet} n={n}",
            labels={"figure": "radial power spectra"},
        ),
    log:
        log_path("ms_summary", MS_JOBS["ms_study"]),
    benchmark:
        benchmark_path("ms_summary", MS_JOBS["ms_study"])
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        cfg=ms_study_params,
    script:
        "../scripts/ms_summary.py"
