"""Rule fig7_controls: a sampler run's Fig. 7 beside every one of its controls (each control job's
spectra, statistics and metrics; lindiff.studies.fig7_controls.controls_table), as one figure
and one table."""

from lindiff import artifacts
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure
from lindiff.studies import fig7
from lindiff.studies.fig7_controls import CONTROLS, controls_table

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    inp, out = snakemake.input, snakemake.output
    keys = {"sigma": 2, "sin_theta": 3}
    metrics = [artifacts.read_json(path) for path in inp.metrics]
    spectra = {m["control"]: path for m, path in zip(metrics, inp.spectra, strict=True)}  # one control job each
    curves = {"trained": artifacts.load_npz(inp.trained, keys),  # the controls in their declared order
              **{name: artifacts.load_npz(spectra[name], keys) for name in CONTROLS if name in spectra}}
    table = controls_table([artifacts.read_parquet(path) for path in inp.statistics], metrics)
    verdicts = {name: value for m in metrics for name in curves if (value := m.get(f"{name}/verdict"))}
    panels = [(f"({chr(ord('a') + i)}) {'the trained model' if name == 'trained' else 'control: ' + name}",
               fig7.index_summary(c["sigma"], c["sin_theta"]), verdicts.get(name), name)
              for i, (name, c) in enumerate(curves.items())]
    artifacts.write_parquet(out.table, table)
    save_figure(deep_plots.fig7_grid(panels, f"Fig. 7 and its controls at the trained model's path points, {job.point}"),
                out.fig)
    job.tracker.set_summary({f"{row.denoiser}/{key}": getattr(row, key) for row in table.itertuples()
                             for key in ("rho", "rho_low", "rho_high", "permutation_p", "n_crossed")})
    job.tracker.log_images({"fig": out.fig})
    job.tracker.log_table("controls", table)
    for row in table.itertuples():
        job.log.info("%s: rho %.2f [%.2f, %.2f], permutation p %.3g, %d indices crossing", row.denoiser, row.rho,
                     row.rho_low, row.rho_high, row.permutation_p, row.n_crossed)
