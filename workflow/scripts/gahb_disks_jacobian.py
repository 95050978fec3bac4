"""Rule gahb_disks_jacobian: the Jacobian of one disk model at noisy held-out disks
(lindiff.studies.gahb.disk_jacobians): its top eigenvalues, the alignment of its top-5
eigenvectors with the exact tangent space (lindiff.data.disk_tangents) per noise level, and the
same alignment for the Wiener filter of the training set (independent of σ)."""

import time

import numpy as np

from lindiff import artifacts
from lindiff.data import DISK_PARAMETERS
from lindiff.deep.train import load_model
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.datasets import load_disk_data
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import gahb as gahb_plots
from lindiff.plots import save_figure
from lindiff.studies import gahb

with rule_job(snakemake, retain_memory=True) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    measure = p["measure"]
    model = load_model(inp.model, device="cpu")  # the Jacobians run on the CPU (float64 eigh)
    disks = load_disk_data(job.cfg("data"))  # the images with their parameters, loaded once
    X, _ = load_training_set(job.cfg("data"), inp.train, disks.dataset)
    X_test, _ = load_training_set(job.cfg("data"), inp.test, disks.dataset)
    test_rows = artifacts.load_npz(inp.test, {"indices": 1})["indices"]
    tangents = disks.tangents()[test_rows]
    start = time.perf_counter()
    result = gahb.disk_jacobians(model, X_test, tangents, measure["sigmas"], K=int(measure["K"]),
                                 n_vectors=int(measure["n_vectors"]), seed=job.seed())
    seconds = time.perf_counter() - start
    wiener = fit_wiener(X)
    wiener_alignment = gahb.wiener_tangent_alignment(wiener.basis, tangents)
    wiener_capture = gahb.tangent_capture(wiener.basis, tangents)

    table = result.table().assign(denoiser="deep")
    artifacts.write_parquet(out.table, table)
    artifacts.save_npz(out.vectors, sigma=result.sigma, vectors=result.vectors, noisy=result.noisy,
                       eigvals=result.eigvals[:, 0], wiener_alignment=wiener_alignment)
    d = X.shape[1]
    metrics = {"n_train": len(X), "n_test": len(X_test), "chance": result.top / d, "seconds": seconds,
               "wiener/alignment_median": float(np.median(wiener_alignment)),
               "wiener/alignment_q25": float(np.quantile(wiener_alignment, 0.25)),
               "wiener/alignment_q75": float(np.quantile(wiener_alignment, 0.75)),
               **{f"wiener/captured_{name}": float(c) for name, c in zip(DISK_PARAMETERS, np.median(wiener_capture, 0))}}
    for s, sigma in enumerate(result.sigma):
        key = f"deep/{sigma:g}"
        metrics[f"{key}/alignment_median"] = float(np.median(result.alignment[s]))
        metrics[f"{key}/alignment_q25"] = float(np.quantile(result.alignment[s], 0.25))
        metrics[f"{key}/alignment_q75"] = float(np.quantile(result.alignment[s], 0.75))
        metrics[f"{key}/asymmetry_median"] = float(np.median(result.asymmetry[s]))
        for name, c in zip(DISK_PARAMETERS, np.median(result.capture[s], axis=0)):
            metrics[f"{key}/captured_{name}"] = float(c)
        for i, value in enumerate(np.median(result.eigvals[s], axis=0)[:10]):
            metrics[f"{key}/eigval_{i}"] = float(value)
        job.log.info("sigma=%g: alignment median %.3f (Wiener %.3f, chance %.4f); eigenvalues %s", sigma,
                     metrics[f"{key}/alignment_median"], metrics["wiener/alignment_median"], metrics["chance"],
                     np.round(np.median(result.eigvals[s], axis=0)[:10], 3).tolist())
    artifacts.write_json(out.metrics, metrics)
    title = f"disks n={len(X)} ({job.point}): Jacobian eigenvectors at a held-out noisy disk"
    save_figure(gahb_plots.disk_eigenvectors(result.noisy, result.vectors, result.eigvals[:, 0], result.sigma,
                                             disks.dataset.image_shape, title=title), out.fig)
    job.write_sidecar(out.sidecar)
    job.tracker.set_summary(metrics)
    job.tracker.log_table("disk_jacobians", table)
    job.tracker.log_image("eigenvectors", out.fig)
