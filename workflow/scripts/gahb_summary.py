"""Rule gahb_summary: the GAHB study of one (seed, size): the C^α slopes of every α beside
α/(α+1) (table + PSNR figure) and the disk tangent alignment of every training-set size against
σ, deep and Wiener (table + figure with the Jacobian eigenvalues)."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lindiff import artifacts
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import gahb as gahb_plots
from lindiff.plots import save_figure


def note_figure(text):
    """A figure saying that a family has no models in this sweep."""
    fig = Figure(figsize=(6, 2))
    fig.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def quartiles(values):
    return {"median": float(np.median(values)), "q25": float(np.quantile(values, 0.25)),
            "q75": float(np.quantile(values, 0.75))}


with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, out = job.params, snakemake.output
    slope_keys = ("alpha", "optimal_slope", "deep_slope", "wiener_slope", "deep_margin_db", "n_train")
    slope_rows, curves = [], []
    for row in p["calpha"]:
        metrics = artifacts.read_json(f"{row['dir']}/curve_metrics.json")
        slope_rows.append({key: metrics[key] for key in slope_keys})
        curves.append(artifacts.read_parquet(f"{row['dir']}/curve.parquet"))
    slopes = pd.DataFrame(slope_rows, columns=list(slope_keys)).sort_values("alpha", ignore_index=True)
    artifacts.write_parquet(out.slopes, slopes)
    if curves:
        title = f"C^α images, {job.point}: measured PSNR slopes against the optimal α/(α+1)"
        save_figure(gahb_plots.calpha_curves(pd.concat(curves, ignore_index=True), slopes, p["slope_range"],
                                             title=title), out.calpha_fig)
    else:
        save_figure(note_figure("no C^α models in this sweep (sweep.gahb.alpha is empty)"), out.calpha_fig)

    alignment_rows, eigval_rows, chance = [], [], None
    for row in p["disks"]:
        metrics = artifacts.read_json(f"{row['dir']}/disk_metrics.json")
        table = artifacts.read_parquet(f"{row['dir']}/disk_jacobians.parquet")
        chance, n = metrics["chance"], int(row["n"])
        eigval_columns = sorted((c for c in table.columns if c.startswith("eigval_")), key=lambda c: int(c[7:]))
        for sigma, part in table.groupby("sigma"):
            q = quartiles(part["alignment"])
            captured = {c: float(part[c].median()) for c in part.columns if c.startswith("captured_")}
            alignment_rows.append({"n": n, "denoiser": "deep", "sigma": float(sigma),
                                   **{f"alignment_{k}": v for k, v in q.items()}, **captured})
            alignment_rows.append({"n": n, "denoiser": "wiener", "sigma": float(sigma),
                                   **{f"alignment_{k}": metrics[f"wiener/alignment_{k}"] for k in q},
                                   **{c: metrics[f"wiener/{c}"] for c in captured}})
            eigval_rows += [{"n": n, "sigma": float(sigma), "index": i, **quartiles(part[c])}
                            for i, c in enumerate(eigval_columns)]
    alignment = pd.DataFrame(alignment_rows) if alignment_rows else pd.DataFrame(columns=gahb_plots.ALIGNMENT_COLUMNS)
    artifacts.write_parquet(out.alignment, alignment)
    if alignment_rows:
        title = f"Disks, {job.point}: top-5 Jacobian eigenvectors against the exact tangent space"
        save_figure(gahb_plots.disks_alignment(alignment, pd.DataFrame(eigval_rows), chance, title=title), out.disks_fig)
    else:
        save_figure(note_figure("no disk models in this sweep (sweep.gahb.n is empty)"), out.disks_fig)

    summary = {f"slope/{kind}/a{r['alpha']:g}": r[f"{kind}_slope"] for r in slope_rows for kind in ("deep", "wiener")}
    summary.update({f"alignment/{r['denoiser']}/n{r['n']}/{r['sigma']:g}": r["alignment_median"]
                    for r in alignment_rows})
    job.tracker.set_summary(summary)
    job.log.info("C^alpha slopes:\n%s", slopes.round(3).to_string(index=False))
    job.log.info("disk alignment:\n%s", alignment.round(3).to_string(index=False))
    job.tracker.log_table("calpha_slopes", slopes)
    job.tracker.log_table("disks_alignment", alignment)
    job.tracker.log_images({"calpha_psnr": out.calpha_fig, "disks_alignment": out.disks_fig})
