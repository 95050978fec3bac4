"""The linear diffusion model (numpy/scipy only).

* :mod:`~lindiff.linear.schedules`: noise schedules ``sigma_t``, ``sigma_bar_t``;
* :mod:`~lindiff.linear.learn`: the PCA bases of the noisy data at every level (exact and naive);
* :mod:`~lindiff.linear.generate`: the chains of denoisers (Eq. 14, Eq. 25);
* :mod:`~lindiff.linear.analysis`: sin theta, basis correlations, generated spectrum, power iteration;
* :mod:`~lindiff.linear.theory`: closed forms (Eq. 12, the spiked model, Theorem 4.3's rate);
* :mod:`~lindiff.linear.spectral`: the chain's closed-form spectrum and schedule design.
"""
