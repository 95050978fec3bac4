"""Rule ms_summary: the receptive-field study's table (one row per synthesis: flat or wavelet, its
RF, parameters, training time, held-out PSNR per σ, sample quality), with the Wiener filter of the
training set on the same held-out images, the PSNR figure and every model's samples side by side
(with real held-out images)."""


from lindiff import artifacts
from lindiff.deep.evaluate import add_noise, psnr
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.jobs import held_out_rows, load_training_set, rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.plots import multiscale as ms_plots
from lindiff.plots import save_figure
from lindiff.studies.multiscale import HELD_OUT_STAGE, summary_table

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    ms = p["multiscale"]
    sigmas = list(ms["psnr_sigmas"])
    X, full = load_training_set(job.cfg("data"), inp.train)
    held_out_seed = derive_seed(p["seed"], HELD_OUT_STAGE, job.seed_key)
    X_test = held_out_rows(full.X, inp.train, ms["n_test"], held_out_seed)
    wiener = fit_wiener(X)
    wiener_psnr = [psnr(X_test, wiener.denoise(add_noise(X_test, s, held_out_seed), s)) for s in sigmas]
    rows, grids = [], []
    for row in p["rows"]:
        metrics = artifacts.read_json(f"{row['dir']}/metrics.json")
        metrics.pop("class_histogram", None)
        rows.append({"model": f"{row['arch']}_rf{row['rf']}", **metrics})
    table = summary_table(rows)
    for model in table["model"]:
        row = next(r for r in p["rows"] if f"{r['arch']}_rf{r['rf']}" == model)
        grids.append((model, artifacts.load_npz(f"{row['dir']}/samples.npz", {"samples": 2})["samples"]))
    for sigma, value in zip(sigmas, wiener_psnr, strict=True):
        table[f"wiener_psnr/{sigma}"] = value
    artifacts.write_parquet(out.table, table)
    save_figure(ms_plots.psnr_figure(table, sigmas, wiener_psnr, title=f"Held-out denoising ({job.point})"), out.psnr_fig)
    labels = [f"{m}: {r['confident_fraction']:.0%} confident, FD {r['frechet_distance']:.3g}"
              if "confident_fraction" in table else m for m, (_, r) in zip(table["model"], table.iterrows(), strict=True)]
    panels = [("real (held out)", X_test)] + [(label, samples) for label, (_, samples) in zip(labels, grids, strict=True)]
    save_figure(ms_plots.samples_figure(panels, full.image_shape, title=f"Samples ({job.point})"), out.samples_fig)
    job.log.info("\n%s", table.drop(columns=[c for c in table.columns if c.startswith("wiener")]).to_string())
    job.tracker.log_table("multiscale_table", table)
    job.tracker.log_image("psnr", out.psnr_fig)
    job.tracker.log_image("samples", out.samples_fig)
    job.tracker.set_summary({f"wiener_psnr/{s}": v for s, v in zip(sigmas, wiener_psnr, strict=True)})
