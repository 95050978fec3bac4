"""Rule sample_sampler: one sampler run with one denoiser; its generated spectrum in the data's
eigenbasis, measured and predicted by the closed form (lindiff.diffusion, lindiff.studies.samplers)."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.errors import DataError
from lindiff.linear.schedules import from_sigma_bar
from lindiff.pipeline.entries import sampler_from_params
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import samplers as splots
from lindiff.studies import samplers as study


def make_denoiser(kind, p, X, gaussian, sigma_bar, seed, model_path=None):
    """The denoiser ``D(Y, sigma)`` of this job."""
    if kind == "wiener":
        return study.wiener_from_moments(gaussian["mean"], gaussian["eigvals"], gaussian["basis"])
    if kind == "empirical":
        from lindiff.diffusion.denoisers import EmpiricalDenoiser

        return EmpiricalDenoiser(X, chunk=p["empirical_chunk"])
    if kind == "projection":
        from lindiff.diffusion.denoisers import ProjectionDenoiser
        from lindiff.linear.learn import learn_bases

        options = p["projection"]
        bases = learn_bases(X, from_sigma_bar("levels", sigma_bar), options["rank"], method=options["method"],
                            noise=options["noise"], centered=True, seed=seed)
        return ProjectionDenoiser(bases)
    from lindiff.deep.evaluate import BlindDenoiser
    from lindiff.deep.train import load_model

    return BlindDenoiser(load_model(model_path, device=p["deep"]["device"]))


with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    X, full = load_training_set(job.cfg("data"), inp.train)
    gaussian = artifacts.load_npz(inp.gaussian, {"mean": 1, "eigvals": 1, "basis": 2, "image_shape": 1})
    if str(gaussian["data_sha256"]) != sha256_of_array(X):
        raise DataError(f"{inp.gaussian}: fitted on another training set (sha256 differs)")
    sigma_bar = artifacts.load_npz(inp.levels, {"sigma_bar": 1})["sigma_bar"]
    sampler = sampler_from_params(p["sampler"])
    learn_seed, sample_seed = job.seed().spawn(2)
    denoiser = make_denoiser(p["denoiser"], p, X, gaussian, sigma_bar, learn_seed, inp.get("model"))
    samples = study.run_sampler(denoiser, sigma_bar, sampler, p["n_samples"], X.shape[1], sample_seed)
    m = study.support_size(gaussian["eigvals"])
    eigvals, basis = gaussian["eigvals"][:m], gaussian["basis"][:, :m]
    image_shape = tuple(int(s) for s in gaussian["image_shape"]) or None
    frequency = study.radial_frequency(basis, image_shape) if image_shape else None
    table = study.spectrum_table(samples, gaussian["mean"], eigvals, basis, study.closed_form(sampler, sigma_bar, eigvals),
                                 frequency)
    metrics = {**study.spectrum_metrics(table), "sampler": sampler.label, "denoiser": p["denoiser"],
               "schedule": p["schedule"]["name"], "T": p["T"], "n_samples": p["n_samples"],
               "sigma_max": float(sigma_bar[-1]), "nonfinite_samples": int((~np.isfinite(samples)).any(axis=1).sum())}
    artifacts.write_parquet(out.spectrum, table)
    artifacts.write_json(out.metrics, metrics)
    artifacts.save_npz(out.samples, samples=samples[:64].astype(np.float32), sigma_bar=sigma_bar)
    title = f"{p['schedule']['name']} T={p['T']}, {sampler.label}, {p['denoiser']} denoiser"
    splots.save_figure(splots.point_spectrum(table, title, samples[:16], image_shape), out.fig)
    job.write_sidecar(out.sidecar, data_sha256=str(gaussian["data_sha256"]))
    job.log.info("%s: W2^2 measured %.4g, predicted (Gaussian closed form) %.4g; variance vs prediction: "
                 "max rel. error %.3g, median %.3g", title, metrics["w2_measured"], metrics["w2_predicted"],
                 metrics["max_rel_error_variance"], metrics["median_rel_error_variance"])
    job.tracker.log_table("spectrum", table)
    job.tracker.log_image("fig_spectrum", out.fig)
    job.tracker.set_summary({k: v for k, v in metrics.items() if not isinstance(v, str)})
