"""Rules train_denoiser and ab_train_denoiser: a bias-free deep denoiser on a training set;
PSNR on held-out rows against the best linear denoiser.  A class-conditional model
(``model.classes > 0``) trains on the training set's labels; its PSNR is the unconditional one's.

The held-out rows are the input ``test`` when given (the A/B study: the other half's last rows),
else drawn from the data set outside the training set.  With ``budget`` (the A/B study) every
training-set size takes about the same number of optimizer steps
(lindiff.studies.generalization.ab_train_config) and the training-set PSNR is recorded too (the
model's memorization gap).  The checkpoint next to the model lets a killed job resume.

Rule train_denoiser also saves the model's training snapshots Fig. 7's controls read
(``snapshot_<name>.pt`` at the fractions of the epochs of lindiff.deep.config.SNAPSHOT_CONTROLS).
Rule train_variant trains a network beside it for those controls (``variant``): ``permuted``,
the same training (seed included) on the training images with one fixed random permutation of
their pixels (the permutation stored in the model file); ``seed1``, ``seed2``, the same training
with another seed.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.data import sha256_of_array, sorted_pixels_sha256
from lindiff.deep.config import SNAPSHOT_CONTROLS
from lindiff.deep.evaluate import denoiser_psnr, linear_denoiser_psnr
from lindiff.deep.train import checkpoint_dir_for, preset_config, save_model, snapshot_epoch, train_denoiser
from lindiff.pipeline.jobs import held_out_rows, load_training_set, rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure
from lindiff.studies.generalization import ab_train_config, batches_per_epoch

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    deep, budget = p["deep"], p.get("budget")
    X, full = load_training_set(job.cfg("data"), inp.train)
    if "test" in inp.keys():
        X_test, _ = load_training_set(job.cfg("data"), inp.test, full)
    else:
        X_test = held_out_rows(full.X, inp.train, deep["n_test"], job.seed())
    cfg = preset_config(deep["preset"], deep["overrides"])
    if budget is not None:
        reference_n = int(artifacts.load_npz(inp.train, {"reference_n": 0})["reference_n"])
        cfg = ab_train_config(cfg, len(X), reference_n, budget["steps"])
        job.log.info("n=%d: %d epochs, %d steps (batch %d)", len(X), cfg.epochs,
                     cfg.epochs * batches_per_epoch(cfg, len(X)), min(cfg.batch_size, len(X)))
    seed = int(job.seed().generate_state(1)[0])
    extra = {}
    variant = p.get("variant")
    if variant == "permuted":  # the model's own seed; one permutation for every image, held out ones too
        seed = int(artifacts.load_torch(inp.model, "model file")["extra"]["seed"])
        permutation = np.random.default_rng(job.seed().spawn(1)[0]).permutation(X.shape[1])
        X, X_test = X[:, permutation], X_test[:, permutation]
        extra["permutation"] = permutation.tolist()
        job.log.info("pixel-permuted training set: sorted pixels per image unchanged, sha256 %s",
                     sorted_pixels_sha256(X))
    tracker = job.tracker
    tracker.define_step_metric("train/*", "epoch")
    log_every = max(1, cfg.epochs // 200)

    def log_epoch(epoch, record):
        if epoch % log_every == 0 or epoch == cfg.epochs:
            tracker.log({"epoch": epoch, **{f"train/{k}": v for k, v in record.items() if k != "epoch"}}, step=epoch)

    snapshots = {name: snapshot_epoch(fraction, cfg.epochs) for name, fraction in SNAPSHOT_CONTROLS.items()
                 if f"snapshot_{name}" in out.keys()}
    # keyed by config, seed, data and snapshots: a killed job resumes, a changed config starts afresh
    checkpoints = checkpoint_dir_for(Path(out.model).parent / "checkpoints", cfg, seed, sha256_of_array(X),
                                     tuple(snapshots.values()))
    labels = artifacts.load_npz(inp.train, {"labels": 1})["labels"] if cfg.model.classes else None
    result = train_denoiser(X, full.image_shape, cfg, seed=seed, device=deep["device"],
                            checkpoint_dir=checkpoints, progress=budget is None, log_fn=log_epoch, labels=labels,
                            snapshot_epochs=tuple(snapshots.values()))
    save_model(out.model, result.model, extra={"seed": seed, "n_train": int(len(X)), "point": job.point, **extra})
    for name, epoch in snapshots.items():
        artifacts.save_torch(out[f"snapshot_{name}"], artifacts.load_torch(result.snapshots[epoch], "snapshot"))
        job.log.info("snapshot %s: epoch %d of %d", name, epoch, cfg.epochs)
    history = pd.DataFrame(result.history)
    artifacts.write_parquet(out.history, history)
    save_figure(deep_plots.training_curves(result.history), out.curves)

    model = result.model.cpu()
    metrics = {"n_train": len(X), "n_test": len(X_test), "epochs": cfg.epochs, "train_seconds": result.seconds,
               "resumed_from_epoch": result.resumed_from, "final_loss": float(history["loss"].iloc[-1])}
    if budget is not None:
        metrics["steps"] = cfg.epochs * batches_per_epoch(cfg, len(X))
    for sigma in deep["psnr_sigmas"]:
        metrics[f"psnr_deep/{sigma}"] = denoiser_psnr(model, X_test, sigma, seed=0)
        metrics[f"psnr_linear/{sigma}"] = linear_denoiser_psnr(X, X_test, sigma, seed=0)
        if budget is not None:  # the denoiser's own memorization gap
            metrics[f"psnr_train/{sigma}"] = denoiser_psnr(model, X[:500], sigma, seed=0)
        job.log.info("sigma=%.2f: PSNR deep %.2f dB, best linear %.2f dB (held out)", sigma,
                     metrics[f"psnr_deep/{sigma}"], metrics[f"psnr_linear/{sigma}"])
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(X), train_config=cfg.to_dict(),
                      sorted_pixels_sha256=sorted_pixels_sha256(X), snapshot_epochs=snapshots)
    tracker.set_summary(metrics)
    tracker.log_image("training_curves", out.curves)
    tracker.log_table("train_history", history)
