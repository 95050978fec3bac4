"""Studies built from the science packages, usable without the workflow.

* :mod:`~lindiff.studies.generalization`: memorization vs generalization (A/B halves, Kadkhodaie et al.);
* :mod:`~lindiff.studies.gahb`: the GAHB measurements (C^α denoising slopes, disk tangent alignment)
  and the Wiener baseline (``python -m lindiff.studies.gahb``);
* :mod:`~lindiff.studies.demo`: a single-process tour of the library (``python -m lindiff.studies.demo``).
"""
