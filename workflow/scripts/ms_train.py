"""Rule ms_train: one model of the receptive-field study (lindiff.studies.multiscale), trained with
lindiff.deep.train.train_denoiser on its band of the training images (zero-padded to powers of
two): the pixels (flat), the coarsest low-pass (low) or the details of one scale given
their clean low-pass (j<j>).  The unconditional ones learn their band minus its mean over the
training set (flat: the mean pixel value, which keeps them translation-invariant; low: the mean
image), which the model file keeps (``extra["mean"]``).  Its held-out PSNR
per multiscale.psnr_sigmas is measured in its own band; its parameter count and its measured
receptive field are recorded."""

from pathlib import Path

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.deep.config import TrainConfig
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.deep.models import count_parameters, measured_receptive_field
from lindiff.deep.train import checkpoint_dir_for, save_model, train_denoiser
from lindiff.pipeline.jobs import held_out_rows, load_training_set, rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.studies.multiscale import HELD_OUT_STAGE, training_rows

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    ms, scale, levels, wavelet = p["multiscale"], p["scale"], p["levels"], p["wavelet"]
    cfg = TrainConfig.from_dict(p["train"])
    X, full = load_training_set(job.cfg("data"), inp.train)
    held_out_seed = derive_seed(p["seed"], HELD_OUT_STAGE, job.seed_key)  # the same for every job of the study
    X_test = held_out_rows(full.X, inp.train, ms["n_test"], held_out_seed)
    rows, condition, shape = training_rows(X, full.image_shape, levels, wavelet, scale)
    test_rows, test_condition, _ = training_rows(X_test, full.image_shape, levels, wavelet, scale)
    # the unconditional models learn their band around its mean: a flat model (translation-invariant)
    # around the mean pixel value, the low-pass model (global) around the mean image
    if condition is not None:
        mean = np.zeros(rows.shape[1])
    else:
        mean = np.full(rows.shape[1], rows.mean()) if scale == "flat" else rows.mean(axis=0)
    rows, test_rows = rows - mean, test_rows - mean
    seed = int(job.seed().generate_state(1)[0])
    tracker = job.tracker
    tracker.define_step_metric("train/*", "epoch")

    def log_epoch(epoch, record):
        tracker.log({"epoch": epoch, **{f"train/{k}": v for k, v in record.items() if k != "epoch"}}, step=epoch)

    checkpoints = checkpoint_dir_for(Path(out.model).parent / "checkpoints", cfg, seed, sha256_of_array(rows))
    result = train_denoiser(rows, shape, cfg, seed=seed, device=ms["device"], checkpoint_dir=checkpoints,
                            progress=True, log_fn=log_epoch, condition=condition)
    save_model(out.model, result.model, extra={"seed": seed, "n_train": int(len(X)), "point": job.point,
                                               "scale": scale, "rf": p["rf"], "levels": levels, "wavelet": wavelet,
                                               "mean": mean.tolist()})
    history = pd.DataFrame(result.history)
    artifacts.write_parquet(out.history, history)
    model = result.model.cpu()
    metrics = {"scale": scale, "rf": p["rf"], "parameters": count_parameters(model),
               "receptive_field_measured": measured_receptive_field(model),
               "grid": list(shape), "n_train": len(X), "n_test": len(X_test), "epochs": cfg.epochs,
               "sigma_max": cfg.sigma_max, "train_seconds": result.seconds, "resumed_from_epoch": result.resumed_from,
               "final_loss": float(history["loss"].iloc[-1])}
    for sigma in ms["psnr_sigmas"]:
        noisy = add_noise(test_rows, sigma, held_out_seed)
        denoised = model.denoise(noisy, condition=test_condition)
        metrics[f"band_psnr/{sigma}"] = psnr(test_rows, denoised)
        metrics[f"band_psnr_noisy/{sigma}"] = psnr(test_rows, noisy)
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(rows), train_config=cfg.to_dict())
    job.log.info("%s rf=%s: %d parameters, receptive field %d measured on its %dx%d grid, %.1f s", scale, p["rf"],
                 metrics["parameters"], metrics["receptive_field_measured"], *shape, result.seconds)
    tracker.set_summary(metrics)
    tracker.log_table("train_history", history)
