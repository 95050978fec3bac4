"""Rule ab_train_denoiser: a bias-free deep denoiser on the first n images of one half.

Every n takes about the same number of optimizer steps (lindiff.generalization.ab_train_config);
the checkpoint next to the model lets a killed job resume.
"""

from pathlib import Path

import pandas as pd

from lindiff import artifacts
from lindiff.config import load_data
from lindiff.data import sha256_of_array
from lindiff.deep.evaluate import denoiser_psnr
from lindiff.deep.train import save_model, train_denoiser
from lindiff.deep.train import checkpoint_dir_for
from lindiff.generalization import batches_per_epoch, deep_train_config, load_halves
from lindiff.jobs import rule_job

with rule_job(snakemake, "ab_train_denoiser") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, inp, out = job.params, snakemake.input, snakemake.output  # noqa: F821
    data = load_data(job.cfg("data"))
    idx_a, idx_b = load_halves(inp.halves, data)
    own, other = (idx_a, idx_b) if p["half"] == "A" else (idx_b, idx_a)
    X = data.X[own[: p["n"]]]
    X_test = data.X[other[-min(500, len(other)):]]  # held out: the other half's last rows
    deep = p["deep"]
    cfg = deep_train_config(deep["preset"], deep["overrides"], p["n"], min(len(idx_a), len(idx_b)), p["steps"])
    steps = cfg.epochs * batches_per_epoch(cfg, p["n"])
    seed = int(job.seed().generate_state(1)[0])
    job.log.info("half %s: n=%d, %d epochs, %d steps (batch %d)", p["half"], p["n"], cfg.epochs, steps,
                 min(cfg.batch_size, p["n"]))
    tracker = job.tracker
    tracker.define_step_metric("train/*", "epoch")
    log_every = max(1, cfg.epochs // 200)

    def log_epoch(epoch, record):
        if epoch % log_every == 0 or epoch == cfg.epochs:
            tracker.log({"epoch": epoch, **{f"train/{k}": v for k, v in record.items() if k != "epoch"}}, step=epoch)

    checkpoints = checkpoint_dir_for(Path(out.model).parent / "checkpoints", cfg, seed, sha256_of_array(X))
    result = train_denoiser(X, data.image_shape, cfg, seed=seed, device=deep["device"],
                            checkpoint_dir=checkpoints, progress=False, log_fn=log_epoch)
    save_model(out.model, result.model, extra={"seed": seed, "n_train": len(X), "point": job.point})
    history = pd.DataFrame(result.history)
    artifacts.write_parquet(out.history, history)
    model = result.model.cpu()
    metrics = {"n_train": len(X), "epochs": cfg.epochs, "steps": steps, "train_seconds": result.seconds,
               "resumed_from_epoch": result.resumed_from, "final_loss": float(history["loss"].iloc[-1])}
    for sigma in p["psnr_sigmas"]:  # train vs held-out PSNR: the denoiser's own memorization gap
        metrics[f"psnr_train/{sigma}"] = denoiser_psnr(model, X[:500], sigma, seed=0)
        metrics[f"psnr_test/{sigma}"] = denoiser_psnr(model, X_test, sigma, seed=0)
        job.log.info("sigma=%.2f: PSNR train %.2f dB, held out %.2f dB", sigma, metrics[f"psnr_train/{sigma}"],
                     metrics[f"psnr_test/{sigma}"])
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(X), train_config=cfg.to_dict())
    tracker.set_summary(metrics)
