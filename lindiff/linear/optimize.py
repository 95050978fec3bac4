"""The optimizer shared by the schedule designs (the linear chain's and the samplers').

Both designs fit a spectrum by Adam through a closed form (torch autograd) and keep the best
iterate; both parametrize positive quantities through ``softplus`` and start from a hand
schedule through its inverse.  Written once here: :func:`adam_minimize`, :func:`inverse_softplus`,
and the objectives they may minimize (:data:`OBJECTIVES`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: the distances a design may minimize: the squared 2-Wasserstein distance and the KL divergence
#: between the generated and the data's Gaussians (per component, in a shared eigenbasis)
OBJECTIVES = ("w2", "kl")


def inverse_softplus(y) -> np.ndarray:
    """``x`` with ``softplus(x) = y`` (``y`` floored at 1e-8; ``x = y`` above 20, where they agree)."""
    y = np.maximum(np.asarray(y, dtype=np.float64), 1e-8)
    return np.where(y > 20, y, np.log(np.expm1(np.minimum(y, 20))))


def adam_minimize(loss: Callable[[], object], params: Sequence, steps: int, lr: float,
                  final_evaluation: bool = True) -> tuple[float, list, np.ndarray]:
    """Minimize ``loss()`` (a torch scalar of ``params``) by ``steps`` Adam steps; keep the best iterate.

    Parameters
    ----------
    loss : callable
        No arguments; evaluates the objective at the current ``params``.
    params : sequence of torch tensors with ``requires_grad``
    steps : int
    lr : float
    final_evaluation : bool
        Evaluate once more after the last step (``steps + 1`` evaluations, the last one a
        candidate for the best); False: ``steps`` evaluations, each followed by a step.

    Returns
    -------
    (best value, best params (detached copies; the initial ones if no value was finite), history
    (the value at every evaluation))
    """
    import torch

    optimizer = torch.optim.Adam(list(params), lr=lr)
    history = []
    best = (np.inf, [p.detach().clone() for p in params])
    for step in range(steps + 1 if final_evaluation else steps):
        optimizer.zero_grad()
        value_t = loss()
        value = float(value_t.detach())
        history.append(value)
        if value < best[0]:
            best = (value, [p.detach().clone() for p in params])
        if step == steps:
            break
        value_t.backward()
        optimizer.step()
    return best[0], best[1], np.asarray(history, dtype=np.float64)
