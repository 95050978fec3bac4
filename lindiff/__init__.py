"""lindiff: linear diffusion with PCA denoisers, and its relation to power iteration.

Conventions used throughout the package
---------------------------------------
* **Samples are rows.**  A data matrix ``X`` has shape ``(n_samples, d)``; a batch of
  generated samples has shape ``(n_samples, d)``.  (The paper writes ``X_0 ∈ R^{d×n}``
  with samples as columns; every formula here is the transpose of the paper's.)
* **Bases are columns.**  A basis ``U`` has shape ``(d, k)`` with orthonormal columns
  ordered by decreasing eigenvalue; a learned chain stores ``U`` with shape
  ``(T + 1, d, k)``, index ``t = 0`` being the clean data.
* **Noise levels.**  ``sigma[t]`` is the std of the noise increment added at step ``t``
  (``sigma[0] = 0``); ``sigma_bar[t] = sqrt(sum_{s<=t} sigma[s]**2)`` is the cumulative
  std, so ``X_t = X_0 + E_t`` with ``E_t`` entries of std ``sigma_bar[t]``.
* **Eigenvalues** are those of ``Σ̂_t = X_tᵀ X_t / n`` (the paper's ``λ_i²``).
* Functions take an explicit ``numpy.random.Generator`` or integer ``seed``; nothing
  keeps hidden state.
"""

from __future__ import annotations

__version__ = "0.1.0"

from lindiff.errors import ConfigError, DataError, LindiffError  # noqa: E402

__all__ = ["ConfigError", "DataError", "LindiffError", "__version__"]
