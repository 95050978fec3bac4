"""Rule ms_summary: the receptive-field study's table (one row per synthesis: flat or wavelet, its
RF, parameters, training time, held-out PSNR per σ, sample quality), with the Wiener filter of the
training set on the same held-out images, the samples' variance about their mean against the
held-out images' (near copies of one image have little), the PSNR figure, the samples' radial power
spectra against the held-out images', and every model's samples side by side (with real held-out
images)."""

import numpy as np

from lindiff import artifacts
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.jobs import held_out_rows, load_training_set, rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.plots import multiscale as ms_plots
from lindiff.plots import save_figure
from lindiff.studies.multiscale import HELD_OUT_STAGE, radial_power_spectrum, summary_table, total_variance

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    ms = p["multiscale"]
    sigmas = list(ms["psnr_sigmas"])
    X, full = load_training_set(job.cfg("data"), inp.train)
    held_out_seed = derive_seed(p["seed"], HELD_OUT_STAGE, job.seed_key)
    X_test = held_out_rows(full.X, inp.train, ms["n_test"], held_out_seed)
    wiener = fit_wiener(X)
    wiener_psnr = [psnr(X_test, wiener.denoise(add_noise(X_test, s, held_out_seed), s)) for s in sigmas]
    runs = {f"{row['arch']}_rf{row['rf']}": row["dir"] for row in p["rows"]}  # model name -> its run's directory
    rows, spectra = [], {}
    for model, run_dir in runs.items():
        metrics = artifacts.read_json(f"{run_dir}/metrics.json")
        metrics.pop("class_histogram", None)
        spectra[model] = metrics.pop("radial_power")
        rows.append({"model": model, **metrics})
    table = summary_table(rows)
    grids = [(model, artifacts.load_npz(f"{runs[model]}/samples.npz", {"samples": 2})["samples"]) for model in table["model"]]
    # how much the samples differ from one another, against the held-out images (as drawn: clipped)
    table["sample_variance"] = [total_variance(np.clip(samples, 0.0, 1.0)) for _, samples in grids]
    table["data_variance"] = total_variance(X_test)
    for sigma, value in zip(sigmas, wiener_psnr, strict=True):
        table[f"wiener_psnr/{sigma}"] = value
    artifacts.write_parquet(out.table, table)
    save_figure(ms_plots.psnr_figure(table, sigmas, wiener_psnr, title=f"Held-out denoising ({job.point})"), out.psnr_fig)
    frequency, data_power = radial_power_spectrum(X_test, full.image_shape)
    save_figure(ms_plots.spectrum_figure(frequency, data_power, {m: spectra[m] for m in table["model"]},
                                         title=f"Radial power spectra ({job.point})"), out.spectrum_fig)
    labels = [f"{m}: {r['confident_fraction']:.0%} confident, FD {r['frechet_distance']:.3g}"
              if "confident_fraction" in table else
              f"{m}: spectrum off by {r['spectrum_error_db']:.2f} dB, variance {r['sample_variance'] / r['data_variance']:.2f}×"
              for m, (_, r) in zip(table["model"], table.iterrows(), strict=True)]
    panels = [("real (held out)", X_test)] + [(label, samples) for label, (_, samples) in zip(labels, grids, strict=True)]
    save_figure(ms_plots.samples_figure(panels, full.image_shape, title=f"Samples ({job.point})"), out.samples_fig)
    job.log.info("\n%s", table.drop(columns=[c for c in table.columns if c.startswith("wiener")]).to_string())
    job.tracker.log_table("multiscale_table", table)
    job.tracker.log_image("psnr", out.psnr_fig)
    job.tracker.log_image("samples", out.samples_fig)
    job.tracker.log_image("spectrum", out.spectrum_fig)
    job.tracker.set_summary({f"wiener_psnr/{s}": v for s, v in zip(sigmas, wiener_psnr, strict=True)})
