"""Rule train_classifier: the digit classifier of the sample-quality table, and its held-out real images.

Trained on the unconditional training set of (data, n, seed) with its labels
(lindiff.deep.quality.train_classifier, preset of the data set's name with
``deep.quality.classifier`` overrides).  ``2 x deep.quality.n_samples`` rows outside the training
set are held out and split alternately into the Fréchet reference and the real "floor" set
(reference.npz, with their labels); the classifier's accuracy on both is recorded.
"""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.deep.quality import classifier_preset, save_classifier, train_classifier
from lindiff.pipeline.jobs import held_out_indices, load_training_set, rule_job

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    p, inp, out = job.params, snakemake.input, snakemake.output
    quality = p["quality"]
    X, full = load_training_set(job.cfg("data"), inp.train)
    labels = artifacts.load_npz(inp.train, {"labels": 1})["labels"]
    held = held_out_indices(full.n, inp.train, 2 * quality["n_samples"], job.seed())
    reference, real = held[0::2], held[1::2]
    cfg = classifier_preset(p["data"]["name"], quality["classifier"])
    seed = int(job.seed().generate_state(1)[0])
    classifier = train_classifier(X, labels, full.image_shape, cfg, seed=seed, device=p["device"], progress=True)
    save_classifier(out.classifier, classifier, extra={"seed": seed, "n_train": int(len(X)), "point": job.point})
    artifacts.save_npz(out.reference, reference=full.X[reference].astype(np.float32), reference_labels=full.labels[reference],
                       real=full.X[real].astype(np.float32), real_labels=full.labels[real],
                       reference_indices=reference, real_indices=real)
    held_X, held_labels = full.X[held], full.labels[held]
    metrics = {"n_train": int(len(X)), "n_reference": int(len(reference)), "n_real": int(len(real)),
               "held_out_accuracy": classifier.accuracy(held_X, held_labels),
               "val_accuracy": classifier.val_accuracy, "epochs": cfg.epochs, "train_seconds": classifier.seconds}
    artifacts.write_json(out.metrics, metrics)
    job.write_sidecar(out.sidecar, data_sha256=sha256_of_array(X), classifier_config=cfg.to_dict())
    job.log.info("classifier: held-out accuracy %.4f on %d images", metrics["held_out_accuracy"], len(held))
    job.tracker.set_summary(metrics)
