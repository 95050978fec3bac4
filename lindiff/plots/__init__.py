"""Figures, one module per part of the science; every function returns a new Figure.

* :mod:`lindiff.plots.linear`: the paper's Figs. 1, 2, 3, 5, 6, the spectral design and the
  power-iteration comparison (re-exported here, with :func:`save_figure`);
* :mod:`lindiff.plots.deep`: deep denoisers, the sampling path and Fig. 7;
* :mod:`lindiff.plots.generalization`: the A/B memorization-vs-generalization study.
"""

from lindiff.plots.linear import *  # noqa: F401,F403 (the public figures, listed in its __all__)
from lindiff.plots.linear import __all__  # noqa: F401
