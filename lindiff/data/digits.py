"""scikit-learn's bundled 8×8 handwritten digits (:func:`load_digits`)."""

from __future__ import annotations

import numpy as np

from lindiff.data.dataset import Dataset

__all__ = ["load_digits"]


def load_digits() -> Dataset:
    """Load scikit-learn's bundled 8×8 handwritten digits.

    Returns
    -------
    Dataset
        ``X`` of shape (1797, 64) with values in [0, 1] (pixel counts divided by 16),
        ``labels`` of shape (1797,) in 0..9, ``image_shape=(8, 8)``, name ``"digits"``.
    """
    table = _read_bundled_csv()
    if table is None:  # scikit-learn changed its layout: go through its loader
        from sklearn.datasets import load_digits as _sk_load_digits

        bunch = _sk_load_digits()
        data, target = bunch.data, bunch.target
    else:
        data, target = table[:, :-1], table[:, -1].astype(int, copy=False)
    return Dataset(
        X=np.asarray(data, dtype=np.float64) / 16.0,
        labels=np.asarray(target, dtype=np.int64),
        name="digits",
        image_shape=(8, 8),
    )


def _read_bundled_csv() -> np.ndarray | None:
    """The (1797, 65) table of scikit-learn's ``datasets/data/digits.csv.gz`` (pixels, then the
    label), read as scikit-learn reads it (``np.loadtxt`` of the gzip) but without importing
    scikit-learn, which costs a job over a second; None where the file is not found."""
    import gzip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return np.loadtxt(fh, delimiter=",")
    return None
