# Geometry-adaptive harmonic bases (Kadkhodaie et al.), sweep.gahb: blind bias-free denoisers
# trained on synthetic images with known geometry, against the Wiener filter of the same data.
#   results/gahb/s{seed}/calpha/a{alpha}/train.npz, test.npz     (one C^alpha data set per alpha)
#     .../a{alpha}/deep_{size}/model.pt ... curve.parquet, curve_metrics.json, fig_curve.png
#   results/gahb/s{seed}/disks/n{n}/train.npz, test.npz          (the same test disks for every n)
#     .../n{n}/deep_{size}/model.pt ... disk_jacobians.parquet, disk_metrics.json, fig_eigenvectors.png
#   results/gahb/s{seed}/deep_{size}/calpha_slopes.parquet, fig_calpha_psnr.png,
#     disks_alignment.parquet, fig_disks_alignment.png            (the study's tables and figures)
# Its points, params, inputs and targets: common/gahb.smk; shared helpers: common.smk.


rule gahb_calpha_subset:
    output:
        train=level_path("gahb_calpha_data", "train.npz"),
        test=level_path("gahb_calpha_data", "test.npz"),
        sidecar=level_path("gahb_calpha_data", "subset.config.yaml"),
    log:
        log_path("gahb_calpha_subset", GAHB_JOBS["gahb_calpha_data"]),
    benchmark:
        benchmark_path("gahb_calpha_subset", GAHB_JOBS["gahb_calpha_data"])
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        cfg=gahb_data_params,
    script:
        "../scripts/gahb_subset.py"


use rule gahb_calpha_subset as gahb_disks_subset with:
    output:
        train=level_path("gahb_disks_data", "train.npz"),
        test=level_path("gahb_disks_data", "test.npz"),
        sidecar=level_path("gahb_disks_data", "subset.config.yaml"),
    log:
        log_path("gahb_disks_subset", GAHB_JOBS["gahb_disks_data"]),
    benchmark:
        benchmark_path("gahb_disks_subset", GAHB_JOBS["gahb_disks_data"])


# One model per (split, size): the sweep's train_denoiser stage with a step budget
# (sweep.gahb.steps, the same for every alpha and n) on the split's training rows.
use rule train_denoiser as gahb_calpha_train with:
    input:
        train=level_path("gahb_calpha_data", "train.npz"),
        test=level_path("gahb_calpha_data", "test.npz"),
    output:
        model=level_path("gahb_calpha", "model.pt"),
        history=level_path("gahb_calpha", "train_history.parquet"),
        metrics=level_path("gahb_calpha", "train_metrics.json"),
        curves=level_path("gahb_calpha", "fig_training.png"),
        sidecar=level_path("gahb_calpha", "train.config.yaml"),
    log:
        log_path("gahb_calpha_train", GAHB_JOBS["gahb_calpha"]),
    benchmark:
        benchmark_path("gahb_calpha_train", GAHB_JOBS["gahb_calpha"])
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=gahb_train_params,


use rule gahb_calpha_train as gahb_disks_train with:
    input:
        train=level_path("gahb_disks_data", "train.npz"),
        test=level_path("gahb_disks_data", "test.npz"),
    output:
        model=level_path("gahb_disks", "model.pt"),
        history=level_path("gahb_disks", "train_history.parquet"),
        metrics=level_path("gahb_disks", "train_metrics.json"),
        curves=level_path("gahb_disks", "fig_training.png"),
        sidecar=level_path("gahb_disks", "train.config.yaml"),
    log:
        log_path("gahb_disks_train", GAHB_JOBS["gahb_disks"]),
    benchmark:
        benchmark_path("gahb_disks_train", GAHB_JOBS["gahb_disks"])


rule gahb_calpha_curve:
    input:
        model=rules.gahb_calpha_train.output.model,
        train=level_path("gahb_calpha_data", "train.npz"),
        test=level_path("gahb_calpha_data", "test.npz"),
    output:
        curve=level_path("gahb_calpha", "curve.parquet"),
        metrics=level_path("gahb_calpha", "curve_metrics.json"),
        fig=report(
            level_path("gahb_calpha", "fig_curve.png"),
            caption="../report/fig_curve.rst",
            category="GAHB — C^alpha images",
            subcategory="s{seed} {size}",
            labels={"alpha": "{alpha}"},
        ),
        sidecar=level_path("gahb_calpha", "curve.config.yaml"),
    log:
        log_path("gahb_calpha_curve", GAHB_JOBS["gahb_calpha"]),
    benchmark:
        benchmark_path("gahb_calpha_curve", GAHB_JOBS["gahb_calpha"])
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=gahb_measure_params,
    script:
        "../scripts/gahb_calpha_curve.py"


rule gahb_disks_jacobian:
    input:
        model=rules.gahb_disks_train.output.model,
        train=level_path("gahb_disks_data", "train.npz"),
        test=level_path("gahb_disks_data", "test.npz"),
    output:
        table=level_path("gahb_disks", "disk_jacobians.parquet"),
        vectors=level_path("gahb_disks", "disk_eigenvectors.npz"),
        metrics=level_path("gahb_disks", "disk_metrics.json"),
        fig=report(
            level_path("gahb_disks", "fig_eigenvectors.png"),
            caption="../report/fig_eigenvectors_disks.rst",
            category="GAHB — disks",
            subcategory="s{seed} {size}",
            labels={"n": "{n}"},
        ),
        sidecar=level_path("gahb_disks", "jacobian.config.yaml"),
    log:
        log_path("gahb_disks_jacobian", GAHB_JOBS["gahb_disks"]),
    benchmark:
        benchmark_path("gahb_disks_jacobian", GAHB_JOBS["gahb_disks"])
    conda:
        "../envs/lindiff.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        cfg=gahb_measure_params,
    script:
        "../scripts/gahb_disks_jacobian.py"


rule gahb_summary:
    input:
        calpha=gahb_summary_inputs("gahb_calpha", "curve.parquet", "curve_metrics.json"),
        disks=gahb_summary_inputs("gahb_disks", "disk_jacobians.parquet", "disk_metrics.json"),
    output:
        slopes=level_path("gahb_study", "calpha_slopes.parquet"),
        alignment=level_path("gahb_study", "disks_alignment.parquet"),
        calpha_fig=report(
            level_path("gahb_study", "fig_calpha_psnr.png"),
            caption="../report/fig_calpha_psnr.rst",
            category="GAHB — C^alpha images",
            subcategory="s{seed} {size}",
            labels={"figure": "PSNR curves and slopes"},
        ),
        disks_fig=report(
            level_path("gahb_study", "fig_disks_alignment.png"),
            caption="../report/fig_disks_alignment.rst",
            category="GAHB — disks",
            subcategory="s{seed} {size}",
            labels={"figure": "tangent alignment and eigenvalues"},
        ),
    log:
        log_path("gahb_summary", GAHB_JOBS["gahb_study"]),
    benchmark:
        benchmark_path("gahb_summary", GAHB_JOBS["gahb_study"])
    conda:
        "../envs/lindiff.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        cfg=gahb_summary_params,
    script:
        "../scripts/gahb_summary.py"
