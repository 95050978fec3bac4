"""Rule train_denoiser: a bias-free deep denoiser on the training set; PSNR vs the best linear one."""

from pathlib import Path

import pandas as pd

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.deep import plots as deep_plots
from lindiff.deep.evaluate import denoiser_psnr, linear_denoiser_psnr
from lindiff.deep.train import TrainConfig, checkpoint_dir_for, default_config, save_model, train_denoiser
from lindiff.jobs import held_out_rows, load_training_set, rule_job
from lindiff.plots import save_figure

with rule_job(snakemake, "train_denoiser") as job:  # noqa: F821 (snakemake is injected by Snakemake)
    p, inp, out = job.params, snakemake.input, snakemake.output  # noqa: F821
    deep = p["deep"]
    X, full = load_training_set(job.cfg("data"), inp.train)
    X_test = held_out_rows(full.X, inp.train, deep["n_test"], job.seed())
    preset = default_config(deep["preset"]).to_dict()
    overrides = dict(deep["overrides"] or {})
    preset["model"].update(overrides.pop("model", None) or {})
    cfg = TrainConfig.from_dict({**preset, **overrides})
    seed = int(job.seed().generate_state(1)[0])
    tracker = job.tracker
    tracker.define_step_metric("train/*", "epoch")

    def log_epoch(epoch, record):
        tracker.log({"epoch": epoch, **{f"train/{k}": v for k, v in record.items() if k != "epoch"}}, step=epoch)

    # keyed by config, seed and data: a killed job resumes, a changed config starts afresh
    checkpoints = checkpoint_dir_for(Path(out.model).parent / "checkpoints", cfg, seed, sha256_of_array(X))
    result = train_denoiser(X, full.image_shape, cfg, seed=seed, device=deep["device"],
                            checkpoint_dir=checkpoints, progress=True, log_fn=log_epoch)
    save_model(out.model, result.model, extra={"seed": seed, "n_train": int(len(X)), "point": job.point})
    history = pd.DataFrame(result.history)
    artifacts.write_parquet(out.history, history)
    save_figure(deep_plots.training_curves(result.history), out.curves)

    model = result.model.cpu()
    metrics = {"n_train": len(X), "n_test": len(X_test), "epochs": cfg.epochs, "train_seconds": result.seconds,
               "resumed_from_epoch": result.resumed_from, "final_loss": float(history["loss"].iloc[-1])}
    for sigma in deep["psnr_sigmas"]:
        metrics[f"psnr_deep/{sigma}"] = denoiser_psnr(model, X_test, sigma, seed=0)
        metrics[f"psnr_linear/{sigma}"] = linear_denoiser_psnr(X, X_test, sigma, seed=0)
        job.log.info("sigma=%.2f: PSNR deep %.2f dB, best linear %.2f dB", sigma,
                     metrics[f"psnr_deep/{sigma}"], metrics[f"psnr_linear/{sigma}"])
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(X), train_config=cfg.to_dict())
    tracker.set_summary(metrics)
    tracker.log_image("training_curves", out.curves)
    tracker.log_table("train_history", history)
