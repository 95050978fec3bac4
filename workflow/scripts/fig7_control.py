"""Rule fig7_control: one of Fig. 7's controls at a sampler run's path points.

The control's Jacobians are taken at exactly the points and noise levels of the trained model's
Fig. 7 (``jacobian_spectra.npz``'s ``path_steps`` of the recorded paths), with the same K: the
untrained network (the trained model's initial weights, lindiff.deep.train.untrained_model), the
empirical posterior mean or the Wiener filter of the training set (closed forms,
lindiff.studies.fig7_controls.closed_form_spectra; for a class-conditional model those of each
path's class, the empirical one guided as the model was), a network trained beside the model (on
pixel-permuted images, its Jacobians then taken at the path points permuted the same way; with
another training seed) or a snapshot of the model's own training. Both the trained model's curves and the
control's go through the same statistics, with a bootstrap over paths and a permutation null for
the crossing-σ-vs-index correlation.
"""

import time

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.deep.jacobian import path_jacobian_analysis
from lindiff.deep.train import load_model, untrained_model
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure
from lindiff.studies import fig7
from lindiff.studies.fig7_controls import (
    CLOSED_FORMS,
    bootstrap_statistics,
    closed_form_spectra,
    degenerate_fraction,
    permutation_p,
)

with rule_job(snakemake, retain_memory=True) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    settings, control = p["deep"]["jacobian"], p["control"]
    trained = artifacts.load_npz(inp.trained, {"sigma": 2, "sin_theta": 3, "eigvals": 3, "path_steps": 1})
    stored = artifacts.load_npz(inp.path, {"points": 3, "sigma": 2})
    chosen = trained["path_steps"]
    points, sigma = stored["points"][chosen].astype(np.float64), stored["sigma"][chosen]
    K = trained["sin_theta"].shape[-1]
    start = time.perf_counter()
    conditioning = {"labels": stored["labels"], "guidance": float(stored["guidance"])} if "labels" in stored else {}
    if control in CLOSED_FORMS:
        X, _ = load_training_set(job.cfg("data"), inp.train)
        by_class = {}
        if conditioning:  # a class-conditional model: each path's class; the empirical one guided as it was
            # sampled, the Wiener filter not (a guided filter mixes two eigenbases and turns with σ: it
            # would no longer be the reference for no rotation)
            by_class = {"labels": artifacts.load_npz(inp.train, {"labels": 1})["labels"],
                        "path_labels": conditioning["labels"],
                        "guidance": conditioning["guidance"] if control == "empirical" else 0.0}
        result = closed_form_spectra(control, X, points, sigma, K, **by_class)
    else:
        load = untrained_model if control == "untrained" else load_model
        model = load(inp.model, device=p["deep"]["device"])
        permutation = artifacts.load_torch(inp.model, "model file")["extra"].get("permutation")
        if permutation is not None:  # a network trained on pixel-permuted images sees the points permuted alike
            points = points[..., np.asarray(permutation)]
        result = path_jacobian_analysis(model, points, K, sigma=sigma, method=settings["method"], progress=True,
                                        **conditioning)
    seconds = time.perf_counter() - start

    seed = int(job.seed().generate_state(1)[0])
    curves = {"trained": (trained["sigma"], trained["sin_theta"], fig7.reference_eigvals(trained["eigvals"], K)),
              control: (result.sigma, result.sin_theta, fig7.reference_eigvals(result.eigvals, K))}
    tables, metrics = [], {"control": control, "K": int(K), "n_paths": int(result.sin_theta.shape[0]),
                           "n_points": int(len(chosen)), "jacobian_seconds_total": seconds,
                           "degenerate_fraction": degenerate_fraction(result.eigvals)}
    if metrics["degenerate_fraction"]:
        job.log.warning("%s: at %.0f%% of the points the Jacobian is zero (no eigenvectors; sin theta there is "
                        "meaningless)", control, 100 * metrics["degenerate_fraction"])
    for name, (sig, sin, eigvals) in curves.items():
        table = bootstrap_statistics(sig, sin, eigvals, n_boot=int(settings["n_boot"]), seed=seed)
        tables.append(table.assign(denoiser=name))
        stats = fig7.fig7_statistics(sig, sin, eigvals)
        metrics[f"{name}/permutation_p"] = permutation_p(sig, sin, n_perm=int(settings["n_perm"]), seed=seed)
        rho = table.set_index("statistic").loc["spearman_crossing_vs_index"]
        metrics.update({f"{name}/spearman_crossing_vs_index": float(rho["value"]),
                        f"{name}/spearman_crossing_vs_index_low": float(rho["low"]),
                        f"{name}/spearman_crossing_vs_index_high": float(rho["high"]),
                        f"{name}/n_crossed": int(stats["n_crossed"]),
                        f"{name}/verdict": fig7.verdict(stats)})
    statistics = pd.concat(tables, ignore_index=True)

    artifacts.save_npz(out.spectra, t=result.t, sigma=result.sigma, sin_theta=result.sin_theta,
                       sin_theta_subspace=result.sin_theta_subspace, eigvals=result.eigvals,
                       asymmetry=result.asymmetry, homogeneity=result.homogeneity, path_steps=chosen)
    artifacts.write_parquet(out.table, statistics)
    artifacts.write_json(out.metrics, metrics)
    title = (f"Fig. 7 control, {job.point}: {len(chosen)} points x {metrics['n_paths']} paths of the trained model, "
             f"the trained model | the {control} control")
    save_figure(deep_plots.fig7_panels(fig7.index_summary(*curves["trained"][:2]), fig7.index_summary(*curves[control][:2]),
                                        metrics["trained/verdict"], metrics[f"{control}/verdict"], title=title,
                                        labels=("(a) the trained model", f"(b) control: {control}")), out.fig)
    job.write_sidecar(out.sidecar, data_sha256="")
    job.tracker.set_summary({k: v for k, v in metrics.items() if not isinstance(v, str)})
    job.tracker.log_images({"fig": out.fig})
    job.tracker.log_table("statistics", statistics)
    for name in curves:
        job.log.info("%s: rho %.2f [%.2f, %.2f], permutation p %.3g; %s", name, metrics[f"{name}/spearman_crossing_vs_index"],
                     metrics[f"{name}/spearman_crossing_vs_index_low"], metrics[f"{name}/spearman_crossing_vs_index_high"],
                     metrics[f"{name}/permutation_p"], metrics[f"{name}/verdict"])
