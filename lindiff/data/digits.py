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
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float64) / 16.0,
        labels=np.asarray(bunch.target, dtype=np.int64),
        name="digits",
        image_shape=(8, 8),
    )
