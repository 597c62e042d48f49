"""Generalized simulated annealing (``schedule='gsa'``): SciPy's dual_annealing in the search box.

SciPy's ``dual_annealing`` (Tsallis-Stariolo visiting law with a local
search after each improvement) runs on the chi-square, with one change: its
local search is our least-squares polish on the residual vector instead of
L-BFGS-B on the scalar, which reaches the bottom of a valley in a few
Jacobians rather than many gradient steps.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from scipy.optimize import OptimizeResult, dual_annealing

from .polish import polish

__all__ = ["GsaOutcome", "run_gsa"]

# SciPy 1.15 renamed dual_annealing's `seed` to `rng`; both accept a Generator
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(dual_annealing).parameters else "seed"
# a local search only has to find the valley floor well enough to compare valleys
_LOCAL_NFEV_PER_PARAMETER = 20


@dataclass
class GsaOutcome:
    """Best point of the generalized annealing, its chi-square and SciPy's account."""

    x: np.ndarray
    chisqr: float
    nit: int
    converged: bool
    message: str


def run_gsa(objective: Callable[[np.ndarray], float],
            residual: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
            low: np.ndarray, high: np.ndarray, ndata: int,
            jacobian: Optional[Callable[[np.ndarray], np.ndarray]], maxiter: int,
            maxeval: Optional[int], rng: np.random.Generator) -> GsaOutcome:
    """Run dual_annealing in the box ``[low, high]`` from ``x0``, local searches by least squares.

    ``maxeval`` caps the evaluations of the global phase (SciPy's
    ``maxfun``); local searches are capped at a few Jacobians each.
    """
    local_budget = _LOCAL_NFEV_PER_PARAMETER * (x0.size + 1)

    def local_search(fun: Any, x_start: np.ndarray, *args: Any, **kwargs: Any) -> OptimizeResult:
        found = polish(residual, x_start, low, high, ndata, jacobian, max_nfev=local_budget)
        return OptimizeResult(x=found.x, fun=found.chisqr, success=True, nfev=found.nfev,
                              message=found.message)

    keywords: dict = {
        "maxiter": maxiter,
        "minimizer_kwargs": {"method": local_search},
        "x0": np.clip(x0, low, high),
        _RNG_KEYWORD: rng,
    }
    if maxeval is not None:
        keywords["maxfun"] = maxeval
    found = dual_annealing(objective, list(zip(low, high)), **keywords)
    messages = found.message if isinstance(found.message, list) else [found.message]
    message = "; ".join(str(m) for m in messages)
    return GsaOutcome(x=np.asarray(found.x, dtype=float), chisqr=float(found.fun),
                      nit=int(found.nit), converged=bool(found.success), message=message)
