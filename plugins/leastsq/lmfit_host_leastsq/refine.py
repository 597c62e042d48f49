"""Check and polish the point MINPACK returns, by Gauss-Newton steps.

MINPACK stops when one step changes the sum of squares by less than
``ftol`` or the parameters by less than ``xtol``. On problems that converge
slowly (large residuals, long curved valleys) one small step is no proof of
a minimum: the parameters can still be several digits away. So the engine
asks the question directly: from the returned point, how far would one
Gauss-Newton step move each parameter?

The point passes when no parameter would move by more than
``rtol * (|value| + stderr)`` (user units). Otherwise the point is
polished: Gauss-Newton steps with a central-difference (or the user's
analytic) Jacobian, each followed by a one-dimensional search along the
step, which undoes the slow, linear convergence of Gauss-Newton on
large-residual problems. The Jacobian of the final point then serves the
host's error bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

__all__ = ["Polisher", "PolishOutcome", "gauss_newton_step"]

_EPS = float(np.finfo(float).eps)
#: A Gauss-Newton decrease below this fraction of the sum of squares that no
#: trial point confirms is taken for rounding noise of the residual.
_NOISE_DECREASE = 1e-10

Vector = np.ndarray


def gauss_newton_step(jac: np.ndarray, residual: Vector) -> Tuple[Vector, Vector]:
    """The Gauss-Newton step ``-J^+ r`` and the unscaled variances ``diag((J^T J)^+)``.

    Directions the Jacobian does not resolve (singular values below
    ``eps * max(m, n) * s_max``) are left out of both.

    >>> step, var = gauss_newton_step(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...                               np.array([1.0, 1.0, 5.0]))
    >>> step.tolist(), var.tolist()
    ([-0.5, -1.0], [0.25, 1.0])
    """
    u, s, vt = np.linalg.svd(jac, full_matrices=False)
    if s.size == 0 or not s[0] > 0.0:
        return np.zeros(jac.shape[1]), np.full(jac.shape[1], np.inf)
    keep = s > s[0] * _EPS * max(jac.shape)
    u, s, vt = u[:, keep], s[keep], vt[keep]
    step = -vt.T.dot(u.T.dot(residual) / s)
    variance = ((vt / s[:, None]) ** 2).sum(axis=0)
    return step, variance


@dataclass
class PolishOutcome:
    """Where the check and polish ended, in the search space of the engine."""

    point: Vector
    residual: Vector
    jacobian: np.ndarray       # (ndata, nvarys) at ``jacobian_point``
    jacobian_point: Vector
    steps: int                 # accepted Gauss-Newton steps
    passed: bool               # the final point passed the Gauss-Newton check


class Polisher:
    """Gauss-Newton check and polish of a least-squares point.

    ``residual(v)`` evaluates the residual, ``jacobian(v, r)`` gives an
    accurate Jacobian at ``v`` (central differences or analytic);
    ``to_user(v)`` and ``derivative(v)`` map the search space to user units,
    where the tolerance ``rtol`` is judged.
    """

    def __init__(self, residual: Callable[[Vector], Vector],
                 jacobian: Callable[[Vector, Vector], np.ndarray],
                 to_user: Callable[[Vector], Vector],
                 derivative: Optional[Callable[[Vector], Vector]],
                 rtol: float, max_steps: int = 20) -> None:
        self.residual = residual
        self.jacobian = jacobian
        self.to_user = to_user
        self.derivative = derivative
        self.rtol = rtol
        self.max_steps = max_steps

    def is_small(self, point: Vector, residual: Vector, step: Vector,
                 variance: Vector) -> bool:
        """True when ``step`` moves no parameter by more than rtol * (|value| + stderr)."""
        value = np.abs(self.to_user(point))
        nfree = residual.size - point.size
        if self.derivative is not None:
            scale = np.abs(self.derivative(point))
            step = step * scale
            variance = variance * scale * scale
        if nfree > 0:
            stderr = np.sqrt(variance * (residual.dot(residual) / nfree))
            stderr[~np.isfinite(stderr)] = 0.0
        else:
            stderr = 0.0
        return bool(np.all(np.abs(step) <= self.rtol * (value + stderr)))

    def check(self, point: Vector, residual: Vector, jac: np.ndarray) -> bool:
        """Does a Gauss-Newton step with ``jac`` from ``point`` stay within tolerance?"""
        step, variance = gauss_newton_step(jac, residual)
        return self.is_small(point, residual, step, variance)

    def polish(self, point: Vector, residual: Vector) -> PolishOutcome:
        """Gauss-Newton steps with a line search until the step is within tolerance.

        Stops early when a step no longer lowers the sum of squares (the
        point is as good as the Jacobian can tell), or after ``max_steps``.
        """
        chisqr = float(residual.dot(residual))
        jac = self.jacobian(point, residual)
        for taken in range(self.max_steps + 1):
            step, variance = gauss_newton_step(jac, residual)
            predicted = jac.dot(step)
            if (self.is_small(point, residual, step, variance)
                    or predicted.dot(predicted) <= _EPS * chisqr):
                # either the step is within tolerance, or no evaluation of the sum of
                # squares could confirm the decrease it promises: the rounding floor
                return PolishOutcome(point, residual, jac, point, taken, True)
            if taken == self.max_steps:
                break
            found = self._line_search(point, residual, chisqr, jac, step)
            if found is None:
                # a promised decrease this small that no trial confirms is rounding noise
                # in the residual; a larger one means the linear model fails here
                noise = predicted.dot(predicted) <= _NOISE_DECREASE * chisqr
                return PolishOutcome(point, residual, jac, point, taken, bool(noise))
            point, residual, chisqr = found
            jac = self.jacobian(point, residual)
        return PolishOutcome(point, residual, jac, point, taken, False)

    def _line_search(self, point: Vector, residual: Vector, chisqr: float,
                     jac: np.ndarray, step: Vector) -> Optional[Tuple[Vector, Vector, float]]:
        """The best of a few points along ``step``, if any lowers the sum of squares.

        The full step comes first; the change of the sum of squares there
        and its slope at the start fix a parabola along the step, whose
        minimum is tried next when it lies elsewhere: Gauss-Newton over- or
        undershoots by a steady factor on large-residual problems, and this
        removes it. Changes are computed as ``(r1 - r0) . (r1 + r0)``, exact
        far below the rounding of the sum of squares itself.
        """
        slope = 2.0 * float(residual.dot(jac.dot(step)))
        if not slope < 0.0:
            return None
        best: Optional[Tuple[Vector, Vector, float]] = None
        best_change = 0.0
        alpha = 1.0
        for _ in range(6):
            trial = point + alpha * step
            r_trial = self.residual(trial)
            change = float((r_trial - residual).dot(r_trial + residual))
            if change < best_change:
                best, best_change = (trial, r_trial, chisqr + change), change
            if not np.isfinite(change):
                alpha *= 0.25
                continue
            curvature = (change - slope * alpha) / (alpha * alpha)
            if curvature <= 0.0:
                if best is not None:
                    break
                alpha *= 0.25
                continue
            vertex = -slope / (2.0 * curvature)
            if 0.8 * alpha <= vertex <= 1.25 * alpha:
                break  # the parabola agrees with the point already tried
            alpha = min(vertex, 16.0 * alpha)
            if best is not None and alpha > 1.0 and np.array_equal(best[0], trial):
                continue  # the longer step is worth one more evaluation
        return best
