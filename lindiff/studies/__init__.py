"""Studies built from the science packages, usable without the workflow.

* :mod:`~lindiff.studies.linear_chain`: the linear chain's stages on arrays (generate a point's
  chains, analyze its bases and its samples), what the workflow's rule scripts call;
* :mod:`~lindiff.studies.sweep_table`: the cross-sweep tables of the linear chain (summary, the
  slices of Figs. 1, 3, 6, the power-iteration table, the designed-schedule comparison);
* :mod:`~lindiff.studies.generalization`: memorization vs generalization (A/B halves, Kadkhodaie et al.);
* :mod:`~lindiff.studies.gahb`: the GAHB measurements (C^α denoising slopes, disk tangent alignment)
  and the Wiener baseline (``python -m lindiff.studies.gahb``);
* :mod:`~lindiff.studies.demo`: a single-process tour of the library (``python -m lindiff.studies.demo``).
"""
