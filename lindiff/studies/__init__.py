"""Studies built from the science packages, usable without the workflow.

* :mod:`~lindiff.studies.generalization`: memorization vs generalization (A/B halves, Kadkhodaie et al.);
* :mod:`~lindiff.studies.demo`: a single-process tour of the library (``python -m lindiff.studies.demo``).
"""
