"""Rule fit_gaussian: the training set's Gaussian (mean, covariance eigenbasis): the Wiener
denoiser of the samplers study and the basis every generated spectrum is measured in."""

import numpy as np

from lindiff import artifacts
from lindiff.data import sha256_of_array
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.pipeline.jobs import load_training_set, rule_job
from lindiff.studies.samplers import support_size

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    X, full = load_training_set(job.cfg("data"), snakemake.input.train)
    wiener = fit_wiener(X)
    checksum = sha256_of_array(X)
    image_shape = np.asarray(full.image_shape if full.image_shape is not None else (), dtype=np.int64)
    artifacts.save_npz(out.gaussian, mean=wiener.mean, eigvals=wiener.spectrum.copy(), basis=wiener.basis.copy(),
                       n_train=np.int64(len(X)), image_shape=image_shape, data_sha256=np.array(checksum))
    support = support_size(wiener.spectrum)
    job.write_sidecar(out.sidecar, data_sha256=checksum, support=support)
    job.log.info("Gaussian of n=%d d=%d: top eigenvalues %s; %d components in the support",
                 *X.shape, np.round(wiener.spectrum[:5], 4), support)
    job.tracker.set_summary({"n_train": len(X), "d": X.shape[1], "support": support,
                             "top_eigval": float(wiener.spectrum[0]), "trace": float(wiener.spectrum.sum())})
