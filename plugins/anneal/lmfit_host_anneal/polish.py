"""Local least-squares polish: turn the annealer's best point into a precise minimum.

Annealing finds the right valley but samples it coarsely. A trust-region
least-squares solver on the residual vector (not on the scalar chi-square)
converges from there in a handful of Jacobians, to the same tolerances as
Levenberg-Marquardt (leastsq), inside the parameters' bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np
from scipy.optimize import least_squares

__all__ = ["PolishOutcome", "polish"]

# MINPACK's defaults, which leastsq uses: polished values are as precise as leastsq's
XTOL = 1.49012e-08
FTOL = 1.49012e-08
# leastsq disables the gradient test (gtol=0); least_squares wants it above eps, so nearly off
GTOL = 1e-15


@dataclass
class PolishOutcome:
    """The polished point, its chi-square and the local solver's verdict."""

    x: np.ndarray
    chisqr: float
    success: bool
    message: str
    nfev: int


def polish(residual: Callable[[np.ndarray], np.ndarray], x_start: np.ndarray,
           lower: np.ndarray, upper: np.ndarray, ndata: int,
           jacobian: Optional[Callable[[np.ndarray], np.ndarray]] = None,
           max_nfev: Optional[int] = None) -> PolishOutcome:
    """Minimize ``sum(residual(x)**2)`` locally from ``x_start`` within ``[lower, upper]``.

    Without finite bounds, and with at least as many data as parameters,
    this is MINPACK's Levenberg-Marquardt (``method='lm'``), the algorithm
    of leastsq; otherwise SciPy's trust-region reflective method, which
    keeps every step inside the bounds. ``jacobian`` (shape
    ``(ndata, nvarys)``) is used where given, else forward differences.
    """
    x_start = np.asarray(x_start, dtype=float)
    bounded = bool(np.any(np.isfinite(lower)) or np.any(np.isfinite(upper)))
    jac: Union[str, Callable[[np.ndarray], np.ndarray]] = (
        "2-point" if jacobian is None else jacobian)
    if not bounded and ndata >= x_start.size:
        solution = least_squares(residual, x_start, jac=jac, method="lm", x_scale="jac",
                                 xtol=XTOL, ftol=FTOL, gtol=GTOL, max_nfev=max_nfev)
    else:
        solution = least_squares(residual, np.clip(x_start, lower, upper), jac=jac,
                                 bounds=(lower, upper), method="trf", x_scale="jac",
                                 xtol=XTOL, ftol=FTOL, gtol=GTOL, max_nfev=max_nfev)
    r = solution.fun
    return PolishOutcome(x=np.asarray(solution.x, dtype=float), chisqr=float(r.dot(r)),
                         success=bool(solution.status > 0), message=str(solution.message),
                         nfev=int(solution.nfev))
