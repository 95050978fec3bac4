"""Rule quality_table: the sample quality of every sampler run of (data, n, seed), in one table.

Rows: the held-out real images (the floor), the class-conditioned linear chain (deterministic and
noise-injected) and each deep model and sampler; columns: the fraction classified with
confidence >= ``deep.quality.confidence``, the class histogram and its entropy (mode collapse
shows there), and the Fréchet distance in the classifier's penultimate features to the held-out
reference images (lindiff.deep.quality.sample_quality), all with the same number of samples; where
the images have labels (the real ones, the class-conditioned chain, a class-conditional deep model)
also the fraction the classifier assigns to its label (``label_agreement``).
Samples are clipped to the data range [0, 1] first, as when they are saved as images (a sampler
whose values leave it would otherwise be judged on pixels no image has).
"""

import numpy as np
import pandas as pd

from lindiff import artifacts
from lindiff.deep.quality import load_classifier, sample_quality
from lindiff.pipeline.jobs import rule_job
from lindiff.plots import deep as deep_plots
from lindiff.plots import save_figure

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    quality = p["quality"]
    classifier = load_classifier(inp.classifier, device=p["device"])
    held = artifacts.load_npz(inp.reference, {"reference": 2, "real": 2, "real_labels": 1})
    linear = artifacts.load_npz(inp.linear, {"deterministic": 2, "injected": 2, "labels": 1})
    sets = [({"model": "real (held out)", "kind": "real"}, held["real"], held["real_labels"]),
            ({"model": "linear chain (deterministic)", "kind": "linear"}, linear["deterministic"], linear["labels"]),
            ({"model": "linear chain (noise-injected)", "kind": "linear"}, linear["injected"], linear["labels"])]
    for row in snakemake.params.rows:
        run = artifacts.load_npz(f"{row['dir']}/samples.npz", {"samples": 2})  # with "labels": class-conditional
        axes = {k: row[k] for k in ("size", "sampler", "schedule", "T")}
        sets.append(({"model": f"deep_{row['size']} {row['sampler']} {row['schedule']} T={row['T']}", "kind": "deep",
                      **axes}, run["samples"], run.get("labels")))
    rows, grids = [], []
    for columns, samples, drawn in sets:
        samples = np.clip(samples.astype(np.float64), 0.0, 1.0)
        measured = sample_quality(classifier, samples, held["reference"].astype(np.float64),
                                  confidence=quality["confidence"], labels=drawn)
        histogram = measured.pop("class_histogram")
        rows.append({**columns, **measured, **{f"class_{c}": float(f) for c, f in enumerate(histogram)}})
        grids.append((columns["model"], samples))
        job.log.info("%-45s confident %.3f  FD %.3g  entropy %.3f  label agreement %s", columns["model"],
                     measured["confident_fraction"], measured["frechet_distance"], measured["class_entropy"],
                     f"{measured['label_agreement']:.3f}" if "label_agreement" in measured else "-")
    table = pd.DataFrame(rows)
    artifacts.write_parquet(out.table, table)
    save_figure(deep_plots.quality_figure(table, grids, classifier.image_shape), out.fig)
    job.tracker.log_table("quality", table)
    job.tracker.log_image("quality", out.fig)
    job.tracker.set_summary({f"{r['model']}/{k}": r[k] for r in rows
                             for k in ("confident_fraction", "frechet_distance", "class_entropy", "label_agreement")
                             if k in r})
