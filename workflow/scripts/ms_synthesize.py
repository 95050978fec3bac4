"""Rule ms_synthesize: one synthesis of the receptive-field study, by a flat model (the stochastic
ascent of lindiff.deep.sample.sample_ascent on the pixels) or by a multi-scale wavelet model
(lindiff.deep.multiscale.ascent_synthesis: the low-pass, then each scale's details given the
coarser image).  Each ascent starts at the noise level its model was trained up to.

Measured: the held-out denoising PSNR per multiscale.psnr_sigmas of the whole image (the flat model
directly, the wavelet model coarse to fine), on the original pixels (the padding cropped); the
samples' quality (the digit classifier of the training set: confidence, class histogram, Fréchet
distance to its held-out images) on labelled data; the samples' radial power spectrum and its mean
log distance to the held-out images' (every data set: the measure of textures such as C^α); the
models' parameters and training time."""

import time

import numpy as np

from lindiff import artifacts
from lindiff.data import pad_images
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.deep.multiscale import ascent_synthesis, multiscale_denoise
from lindiff.deep.quality import load_classifier, sample_quality
from lindiff.deep.sample import sample_ascent
from lindiff.deep.train import load_model
from lindiff.pipeline.jobs import held_out_rows, load_training_set, rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure
from lindiff.studies.multiscale import (
    HELD_OUT_STAGE,
    crop_images,
    padded_shape,
    radial_power_spectrum,
    spectrum_error_db,
)

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    ms, arch, levels, wavelet = p["multiscale"], p["arch"], p["levels"], p["wavelet"]
    options = {k: v for k, v in ms["synthesis"].items() if k != "n_samples"}
    n_samples = ms["synthesis"]["n_samples"]
    X, full = load_training_set(job.cfg("data"), inp.train)
    held_out_seed = derive_seed(p["seed"], HELD_OUT_STAGE, job.seed_key)  # the same for every job of the study
    X_test = held_out_rows(full.X, inp.train, ms["n_test"], held_out_seed)
    shape, size = full.image_shape, padded_shape(full.image_shape, levels)
    models = [load_model(path, device=ms["device"]).cpu() for path in inp.models]
    means = [np.asarray(artifacts.load_torch(path, "model file")["extra"]["mean"]) for path in inp.models]
    trained = [artifacts.read_json(path) for path in inp.model_metrics]

    def pad(rows):
        return pad_images(rows.reshape(-1, *shape), size).reshape(len(rows), -1)

    start = time.perf_counter()
    if arch == "flat":
        model, mean = models[0], means[0]
        path = sample_ascent(model, n_samples, model.d, sigma_0=trained[0]["sigma_max"], init_mean=0.0,
                             seed=job.seed(), record=0, **options)
        padded = path.path[-1] + mean

        def denoise(Y):
            return model.denoise(Y - mean) + mean
    else:
        low_options = {**options, "sigma_0": trained[0]["sigma_max"]}
        detail_options = [{**options, "sigma_0": m["sigma_max"]} for m in trained[1:]]
        images, _ = ascent_synthesis(models[0], models[1:], n_samples, size, wavelet, seed=job.seed(),
                                     low_options=low_options, detail_options=detail_options, low_mean=means[0])
        padded = images.reshape(n_samples, -1)

        def denoise(Y):
            return multiscale_denoise(models[0], models[1:], Y, size, wavelet, low_mean=means[0])
    seconds = time.perf_counter() - start
    finite = np.isfinite(padded).all(axis=1)
    samples = crop_images(np.where(finite[:, None], padded, 0.0), size, shape)
    metrics = {"arch": arch, "rf": p["rf"], "parameters": int(sum(m["parameters"] for m in trained)),
               "train_seconds": float(sum(m["train_seconds"] for m in trained)), "synthesis_seconds": seconds,
               "n_samples": n_samples, "nonfinite_samples": int((~finite).sum())}
    for sigma in ms["psnr_sigmas"]:
        # noise on the padded image, as in training; the PSNR on the image's own pixels
        noisy = add_noise(pad(X_test), sigma, held_out_seed)
        metrics[f"psnr/{sigma}"] = psnr(X_test, crop_images(denoise(noisy), size, shape))
    if "classifier" in inp.keys():
        classifier = load_classifier(inp.classifier)
        reference = artifacts.load_npz(inp.reference, {"reference": 2})["reference"]
        quality = sample_quality(classifier, np.clip(samples, 0.0, 1.0), reference)
        metrics.update({k: quality[k] for k in ("confident_fraction", "frechet_distance", "class_entropy",
                                                "class_histogram")})
    _, power = radial_power_spectrum(np.clip(samples, 0.0, 1.0), shape)
    metrics["radial_power"] = power.tolist()
    metrics["spectrum_error_db"] = spectrum_error_db(power, radial_power_spectrum(X_test, shape)[1])
    artifacts.save_npz(out.samples, samples=samples.astype(np.float32))
    artifacts.write_json(out.metrics, metrics)
    label = f"{arch} rf={p['rf']} ({job.point}): spectrum off by {metrics['spectrum_error_db']:.2f} dB"
    if "confident_fraction" in metrics:
        label += f", {metrics['confident_fraction']:.0%} confident, FD {metrics['frechet_distance']:.3g}"
    save_figure(deep_plots.sample_grid(samples, shape, title=label), out.fig)
    job.write_sidecar(out.sidecar)
    job.log.info("%s: %d samples in %.1f s (%d not finite); %s", label, n_samples, seconds, metrics["nonfinite_samples"],
                 ", ".join(f"PSNR {k.split('/')[1]}: {metrics[k]:.2f} dB" for k in metrics if k.startswith("psnr/")))
    job.tracker.set_summary({k: v for k, v in metrics.items() if k not in ("class_histogram", "radial_power")})
    job.tracker.log_image("samples", out.fig)
