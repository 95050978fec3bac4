"""Rule theory_summary: the comparison tables and figures of one theory-vs-network run.

From every denoiser's metrics and samples (the network's first): the held-out MSE per σ
(``mse.parquet``), the per-step median r² and Pearson r against the network along its path
(``steps.parquet``), the final samples' median r² against the network's, same seeds, with a 95%
bootstrap interval over the samples (``final.parquet``, ``theory.n_boot`` resamples), the
agreement figure and the samples side by side with the training image nearest to each of the
network's samples."""

import pandas as pd

from lindiff import artifacts
from lindiff.diffusion.denoisers import EmpiricalDenoiser
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import save_figure
from lindiff.plots import theory as theory_plots
from lindiff.studies.theory import NETWORK, final_agreement

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    metrics = [artifacts.read_json(path) for path in inp.metrics]
    samples = {m["denoiser"]: artifacts.load_npz(path, {"samples": 2})["samples"]
               for m, path in zip(metrics, inp.samples, strict=True)}
    order = [name for name in p["denoisers"] if name in samples]
    mse = pd.DataFrame([row for m in metrics for row in m["mse"]])
    steps = pd.DataFrame([{"denoiser": m["denoiser"], **row} for m in metrics for row in m["steps"]],
                         columns=["denoiser", "step", "sigma", "r2", "pearson"])
    final = pd.DataFrame(final_agreement({name: samples[name] for name in order}, NETWORK,
                                         resamples=int(p["options"]["n_boot"]), seed=int(p["seed"])))
    seconds = {m["denoiser"]: m["sample_seconds"] for m in metrics}
    final["sample_seconds"] = final["denoiser"].map(seconds)
    artifacts.write_parquet(out.mse, mse)
    artifacts.write_parquet(out.steps, steps)
    artifacts.write_parquet(out.final, final)
    X, data = load_training_set(job.cfg("data"), inp.train)
    nearest = EmpiricalDenoiser(X)(samples[NETWORK], 0.0)  # the training image nearest to each network sample
    save_figure(theory_plots.agreement_figure(mse, steps, final, title=f"Theory vs network ({job.point})"),
                out.agreement_fig)
    columns = [(name, samples[name]) for name in order] + [("nearest training image", nearest)]
    save_figure(theory_plots.side_by_side(columns, data.image_shape, title=f"Shared seeds ({job.point})"),
                out.samples_fig)
    job.log.info("held-out MSE:\n%s", mse.pivot(index="sigma", columns="denoiser", values="mse").to_string())
    job.log.info("final samples against the network:\n%s", final.to_string())
    job.tracker.log_table("theory_mse", mse)
    job.tracker.log_table("theory_steps", steps)
    job.tracker.log_table("theory_final", final)
    job.tracker.log_images({"agreement": out.agreement_fig, "samples": out.samples_fig})
    job.tracker.set_summary({f"final_r2/{row.denoiser}": row.r2_median for row in final.itertuples()})
