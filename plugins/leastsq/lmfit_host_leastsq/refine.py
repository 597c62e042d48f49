"""Check and polish the point MINPACK returns, by Gauss-Newton steps.

MINPACK stops when one step changes the sum of squares by less than
``ftol`` or the parameters by less than ``xtol``. On problems that converge
slowly (large residuals, long curved valleys) one small step is no proof of
a minimum: the parameters can still be several tolerances away, where a
tolerance is ``rtol * (|value| + stderr)`` in user units, and at most a
thousandth of the standard error.

The first judgement costs no evaluation (:meth:`Polisher.accepts`). Near a
minimum MINPACK converges linearly, each step shrinking by about a factor
``rho``, so the distance left after its last step ``d`` is about
``rho / (1 - rho) * |d|``, the classical a-posteriori bound of a
contraction; ``rho`` is read off MINPACK's last two steps, parameter by
parameter (the slowest counts). To that comes what MINPACK's last
Jacobian, carried to the final point, still sees: the Gauss-Newton step
from there. The point passes when the steps did shrink (``rho < 1/2``) and
the estimate is at most a tolerance. It does not pass while a
parameter lies within ten standard errors of zero: MINPACK's difference
step, relative to the value, then drowns in the residual's rounding and
its Jacobian column cannot vouch for anything.

Otherwise the point is polished: Gauss-Newton steps with a
central-difference (or the user's analytic) Jacobian, each parameter
moved by ``eps**(1/3) * (|value| + stderr)``. When the point failed the
check only on its distance, every parameter resolved and MINPACK's last
step accepted, the first step uses the forward differences MINPACK would
take next instead (half the evaluations; the kind of Jacobian the check
trusted), and central differences take over if a further step is needed.
So does a point MINPACK reached in one step from its only Jacobian (a
refit from near the minimum), where that Jacobian resolves every
parameter: with no rate known, the step's own Jacobian may then judge
the new point only when the step moved no parameter beyond a tolerance.
Each step is followed by a one-dimensional search along it, which undoes
the slow, linear convergence of Gauss-Newton on large-residual problems.
After a step the Jacobian, carried along it, judges whether another is
needed, but only while MINPACK's observed rate times the step stays
within a tolerance: what is left after a Gauss-Newton step on a
large-residual problem lies off the step, where the carried Jacobian
learned nothing; otherwise a fresh accurate Jacobian judges. The Jacobian
of the final point then serves the host's error bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from scipy.linalg import get_blas_funcs

from lmfit_host import normal_inverse

__all__ = ["Polisher", "PolishOutcome", "gauss_newton", "gauss_newton_step", "secant_update"]

_EPS = float(np.finfo(float).eps)
#: A Gauss-Newton decrease below this fraction of the sum of squares that no
#: trial point confirms is taken for rounding noise of the residual.
_NOISE_DECREASE = 1e-10
_ger, = get_blas_funcs(("ger",), (np.zeros((1, 1)),))
_TINY = float(np.finfo(float).tiny)
#: MINPACK's steps must shrink at least this fast for the contraction estimate to be used.
_CONTRACTION_LIMIT = 0.5
#: The estimated distance to the minimum accepted without evaluating, in tolerances.
_ACCEPT_LIMIT = 1.0
#: A parameter is within tolerance only within this share of its standard error too.
_STDERR_SHARE = 1e-3
#: MINPACK's difference of a parameter is trusted when its value is at least this
#: many standard errors away from zero (search space).
_RESOLVED = 10.0

Vector = np.ndarray


def gauss_newton(jac: np.ndarray, residual: Vector) -> Tuple[Vector, Vector, float]:
    """The Gauss-Newton step ``-J^+ r``, the unscaled variances ``diag((J^T J)^+)`` and
    the decrease of the sum of squares the linear model promises, ``|J step|^2``.

    Solved through the inverse of the normal equations the host's error
    bars use (:func:`lmfit_host.normal_inverse`: column-scaled, Cholesky,
    cheap for long residuals) while their condition number stays below
    1e10, otherwise through the SVD of ``J``. Directions the Jacobian does
    not resolve are left out of all three.

    >>> step, var, decrease = gauss_newton(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...                                    np.array([1.0, 1.0, 5.0]))
    >>> np.round(step, 12).tolist(), np.round(var, 12).tolist(), round(decrease, 12)
    ([-0.5, -1.0], [0.25, 1.0], 2.0)
    """
    return _solve(jac, residual)[:3]


def _solve(jac: np.ndarray, residual: Vector
           ) -> Tuple[Vector, Vector, float, Optional[np.ndarray]]:
    """:func:`gauss_newton`, and ``normal_inverse(jac)`` when that route solved it."""
    inverse = normal_inverse(jac)
    if inverse is not None:
        gradient = jac.T.dot(residual)
        step = inverse.dot(gradient)
        step *= -1.0
        # |J step|^2 = -step . J^T r for the solution of the normal equations
        return step, inverse.diagonal().copy(), float(-step.dot(gradient)), inverse
    step, variance = _svd_step(jac, residual)
    predicted = jac.dot(step)
    return step, variance, float(predicted.dot(predicted)), None


def gauss_newton_step(jac: np.ndarray, residual: Vector) -> Tuple[Vector, Vector]:
    """The Gauss-Newton step ``-J^+ r`` and the unscaled variances ``diag((J^T J)^+)``.

    See :func:`gauss_newton`, which also gives the promised decrease.

    >>> step, var = gauss_newton_step(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...                               np.array([1.0, 1.0, 5.0]))
    >>> np.round(step, 12).tolist(), np.round(var, 12).tolist()
    ([-0.5, -1.0], [0.25, 1.0])
    """
    step, variance, _ = gauss_newton(jac, residual)
    return step, variance


def _svd_step(jac: np.ndarray, residual: Vector) -> Tuple[Vector, Vector]:
    try:
        u, s, vt = np.linalg.svd(jac, full_matrices=False)
    except np.linalg.LinAlgError:  # a NaN or infinity in the Jacobian: no step to trust
        return np.full(jac.shape[1], np.nan), np.full(jac.shape[1], np.inf)
    if s.size == 0 or not s[0] > 0.0:
        return np.zeros(jac.shape[1]), np.full(jac.shape[1], np.inf)
    keep = s > s[0] * _EPS * max(jac.shape)
    u, s, vt = u[:, keep], s[keep], vt[keep]
    step = -vt.T.dot(u.T.dot(residual) / s)
    variance = ((vt / s[:, None]) ** 2).sum(axis=0)
    return step, variance


def secant_update(jac: np.ndarray, start: Vector, start_residual: Vector,
                  point: Vector, residual: Vector) -> np.ndarray:
    """Carry a Jacobian from ``start`` to ``point`` by a Broyden (secant) update.

    The rank-one correction makes ``J`` reproduce the residual change seen
    along the step, which is where the curvature shows; it costs no
    evaluation.

    >>> secant_update(np.array([[1.0], [1.0]]), np.array([0.0]), np.array([0.0, 0.0]),
    ...               np.array([1.0]), np.array([1.0, 3.0])).tolist()
    [[1.0], [3.0]]
    """
    step = point - start
    norm2 = float(step.dot(step))
    if norm2 == 0.0:
        return jac
    mismatch = residual - start_residual
    mismatch -= jac.dot(step)
    # one BLAS rank-one update into a copy of J (numpy's outer product is several
    # times slower for the few columns a Jacobian has)
    return _ger(1.0 / norm2, mismatch, step, a=jac)


def _spreads(residual: Vector, variance: Vector, chisqr: float) -> List[float]:
    """Standard errors from unscaled variances, scaled by reduced chi-square: 0 with no
    degree of freedom, NaN where a variance is unknown (an infinite one times a zero
    chi-square)."""
    nfree = residual.size - variance.size
    factor = chisqr / nfree if nfree > 0 else None
    spreads = []
    for var in variance.tolist():
        square = 0.0 if factor is None else var * factor
        spreads.append(math.sqrt(square) if square >= 0.0 else math.nan)
    return spreads


@dataclass
class PolishOutcome:
    """Where the polish ended, in the search space of the engine."""

    point: Vector
    residual: Vector
    jacobian: np.ndarray       # (ndata, nvarys) at ``point``
    steps: int                 # accepted Gauss-Newton steps
    passed: bool               # the final point passed the Gauss-Newton check
    #: the decrease of the sum of squares, as a share of it, that the last Gauss-Newton
    #: step promised and no trial confirmed (0 when the check passed)
    promised: float = 0.0


class Polisher:
    """Gauss-Newton check and polish of a least-squares point.

    ``residual(v)`` evaluates the residual at a trial point, ``jacobian(v, r,
    typical)`` gives an accurate Jacobian at ``v`` (central differences with
    steps relative to ``typical``, or analytic);
    ``to_user(v)`` and ``derivative(v)`` (None for the identity) map the
    search space to user units, where tolerances are judged.
    """

    def __init__(self, residual: Callable[[Vector], Vector],
                 jacobian: Callable[[Vector, Vector, Vector], np.ndarray],
                 to_user: Callable[[Vector], Vector],
                 derivative: Optional[Callable[[Vector], Vector]],
                 rtol: float, max_steps: int = 20,
                 forward_jacobian: Optional[Callable[[Vector, Vector], np.ndarray]] = None
                 ) -> None:
        self.residual = residual
        self.jacobian = jacobian
        self.forward_jacobian = forward_jacobian
        # accepts() found every parameter resolved by MINPACK's own differences
        self._resolved = False
        self.to_user = to_user
        self.derivative = derivative
        self.rtol = rtol
        self.max_steps = max_steps
        self._guide: Optional[Tuple[np.ndarray, Vector]] = None
        self._rate: Optional[float] = None
        self._inverse: Optional[Tuple[np.ndarray, Optional[np.ndarray]]] = None
        # the latest line search found the residual undefined (NaN) at every trial
        self._all_undefined = False

    def _gauss_newton(self, jac: np.ndarray, residual: Vector) -> Tuple[Vector, Vector, float]:
        """:func:`gauss_newton`, remembering the normal inverse for :meth:`normal_inverse`."""
        step, variance, decrease, inverse = _solve(jac, residual)
        self._inverse = (jac, inverse)
        return step, variance, decrease

    def normal_inverse(self, jac: np.ndarray) -> Optional[np.ndarray]:
        """``lmfit_host.normal_inverse(jac)`` when the latest Gauss-Newton step was solved
        with this very ``jac`` by that route, else None: the host's error bars need it."""
        known = self._inverse
        return known[1] if known is not None and known[0] is jac else None

    def _limits(self, point: Vector, residual: Vector, variance: Vector,
                chisqr: float) -> Tuple[List[float], List[float], List[float]]:
        """Per parameter ``(scale, allowed, spread)``: a search-space move ``s`` is within
        tolerance where ``|s| * scale <= allowed``, ``allowed = rtol * (|value| +
        stderr)`` in user units, ``scale = |dx/dv|``; ``spread`` is the standard
        error in the search space (NaN where unknown).

        Python floats: a handful of numbers, where numpy's per-call cost would
        exceed the work.
        """
        values = point.tolist()
        if self.derivative is None:
            scales = [1.0] * len(values)
            sizes = [abs(value) for value in values]
        else:
            scales = np.abs(self.derivative(point)).tolist()
            sizes = np.abs(self.to_user(point)).tolist()
        spreads = _spreads(residual, variance, chisqr)
        rtol = self.rtol
        # and never more than a thousandth of a standard error: a peak centred at 5000,
        # measured to 1e-5, would otherwise stop 30 standard errors off (NaN spreads, and
        # zero ones of an exact fit, leave the first bound alone)
        share = _STDERR_SHARE
        allowed = [max(min(rtol * (size + spread * scale), share * spread * scale),
                       1e-4 * rtol * size)  # an exact fit: the values' own rounding
                   if spread * scale > 0.0 else rtol * (size + spread * scale)
                   for size, spread, scale in zip(sizes, spreads, scales)]
        return scales, allowed, spreads

    def _per_tolerance(self, point: Vector, residual: Vector, variance: Vector,
                       chisqr: float) -> Vector:
        """Tolerances per unit of search-space move, per parameter (see :meth:`_limits`)."""
        scales, allowed, _ = self._limits(point, residual, variance, chisqr)
        return np.array([scale / max(limit, _TINY) for scale, limit in zip(scales, allowed)])

    def is_small(self, point: Vector, residual: Vector, step: Vector, variance: Vector,
                 chisqr: Optional[float] = None) -> bool:
        """True when ``step`` moves no parameter by more than rtol * (|value| + stderr)."""
        if chisqr is None:
            chisqr = float(residual.dot(residual))
        scales, allowed, _ = self._limits(point, residual, variance, chisqr)
        # a NaN move fails the comparison
        return all([abs(move) * scale <= limit
                    for move, scale, limit in zip(step.tolist(), scales, allowed)])

    def accepts(self, point: Vector, residual: Vector, jac: np.ndarray,
                iterates: Sequence[Vector]) -> bool:
        """Is MINPACK's ``point`` within tolerance, judged without evaluating?

        ``jac`` is MINPACK's last Jacobian carried to ``point``; ``iterates``
        are the points of its last two Jacobians (oldest first), its last
        accepted iterates before ``point``. With the steps ``d = point -
        iterates[-1]`` and ``d0 = iterates[-1] - iterates[-2]``, the rate is
        ``rho = max_j |d_j| / |d0_j|`` (the slowest parameter's); the distance
        left is estimated, in tolerances, as the largest Gauss-Newton move
        with ``jac`` plus ``rho / (1 - rho)`` times the largest move of ``d``.
        Accepted when ``rho < 1/2`` and the estimate is at most a tolerance,
        and every parameter lies at least ten standard errors from zero.
        Fewer than two iterates: not accepted.
        """
        self._resolved = False
        if len(iterates) == 1 and not np.array_equal(point, iterates[0]):
            # MINPACK's first Jacobian was its last and its step from there was accepted
            # (a refit from near the minimum, say): no rate to judge the point by, but
            # where MINPACK's differences resolve every parameter, the polish may start
            # from that kind of Jacobian (see polish)
            self._rate = None
            chisqr = float(residual.dot(residual))
            variance = self._gauss_newton(jac, residual)[1]
            self._guide = (jac, variance)
            self._resolved = all([abs(value) >= _RESOLVED * spread for value, spread
                                  in zip(point.tolist(), _spreads(residual, variance, chisqr))])
        if len(iterates) < 2:
            return False
        # a handful of numbers per parameter: Python floats, where numpy's per-call cost
        # would exceed the work
        values = point.tolist()
        newest, older = iterates[-1].tolist(), iterates[-2].tolist()
        last = [abs(a - b) for a, b in zip(values, newest)]
        # near a minimum each parameter shrinks at its own pace; a ratio per parameter
        # needs no units, so it decides before any algebra
        rho = 0.0
        for moved, a, b in zip(last, newest, older):
            before = abs(a - b)
            if not before > 0.0:
                return False
            if moved / before > rho:
                rho = moved / before
        self._rate = rho  # polish() uses it to judge its own steps
        if not rho < _CONTRACTION_LIMIT:
            return False
        chisqr = float(residual.dot(residual))
        step, variance, _ = self._gauss_newton(jac, residual)
        self._guide = (jac, variance)  # polish() sizes its differences with it
        if self._inverse is not None and self._inverse[1] is None \
                and not np.any(jac != 0.0, axis=0).all():
            # a column MINPACK's differences left at zero (rounding noise: a parameter near
            # zero in an exact fit) says nothing of that parameter: an accurate Jacobian,
            # with wider steps where needed, must judge
            return False
        scales, allowed, spreads = self._limits(point, residual, variance, chisqr)
        gauss_newton_left = tail = 0.0
        for value, spread, move, moved, scale, limit in zip(values, spreads, step.tolist(), last,
                                                             scales, allowed):
            # MINPACK differences each parameter by a step relative to its value; for
            # a value within a few of its standard errors of zero that step is too small
            # to rise above the residual's rounding, and the Jacobian column, noise,
            # cannot vouch for the point (a peak centred near zero: several tolerances off)
            if spread < math.inf and abs(value) < _RESOLVED * spread:
                return False
            per_unit = scale / max(limit, _TINY)  # an unknown spread fails below
            left = abs(move) * per_unit
            if not left <= gauss_newton_left:
                if left != left:
                    return False  # a NaN in the step
                gauss_newton_left = left
            if moved * per_unit > tail:
                tail = moved * per_unit
        self._resolved = True
        return gauss_newton_left + rho / (1.0 - rho) * tail <= _ACCEPT_LIMIT

    def _converged(self, point: Vector, residual: Vector, chisqr: float,
                   jac: np.ndarray) -> bool:
        step, variance, decrease = self._gauss_newton(jac, residual)
        return self._done(point, residual, chisqr, step, variance, decrease)

    def _done(self, point: Vector, residual: Vector, chisqr: float, step: Vector,
              variance: Vector, decrease: float) -> bool:
        # within tolerance, or promising a decrease that no evaluation of the sum of
        # squares could confirm (its rounding floor): nothing left to gain
        return decrease <= _EPS * chisqr or self.is_small(point, residual, step, variance,
                                                          chisqr)

    def polish(self, point: Vector, residual: Vector,
               guide: Optional[np.ndarray] = None) -> PolishOutcome:
        """Gauss-Newton steps with a line search until the step is within tolerance.

        Each step starts from an accurate Jacobian (the first one, at a point
        that failed :meth:`accepts` on its distance alone, from forward
        differences: see the module doc). After a step, that
        Jacobian, carried to the new point by a secant update, answers
        whether another step is needed, so a converged point costs no
        second Jacobian. Stops when no trial lowers the sum of squares, or
        after ``max_steps``. ``guide``, a rougher Jacobian at ``point``
        (MINPACK's, carried), sizes the first differences (see
        :meth:`typical`).
        """
        chisqr = float(residual.dot(residual))
        variance = None
        if guide is not None:
            known = self._guide
            variance = known[1] if known is not None and known[0] is guide \
                else gauss_newton(guide, residual)[1]
        # MINPACK's point failed only on its distance to the minimum, with every
        # parameter resolved by MINPACK's differences and its last step accepted
        # (see accepts): the Jacobian MINPACK would build next (forward differences,
        # n evaluations) is as good as the one accepts() trusted; an accurate one (2n)
        # takes over if it falls short. A refused last step (rate 0: MINPACK's point
        # is its previous iterate) says that MINPACK's own model failed here.
        forward = self._resolved and self._rate != 0.0 and self.forward_jacobian is not None
        self._resolved = False  # once: a restarted MINPACK must be judged again
        if forward:
            jac = self.forward_jacobian(point, residual)  # type: ignore[misc]
        else:
            jac = self._accurate(point, residual, variance, chisqr)
        # MINPACK's observed rate of convergence (see accepts); unknown: assume the worst
        rate = 1.0 if self._rate is None else self._rate
        taken = 0
        while True:
            step, variance, decrease = self._gauss_newton(jac, residual)
            if self._done(point, residual, chisqr, step, variance, decrease):
                return PolishOutcome(point, residual, jac, taken, True)
            if taken == self.max_steps:
                break
            found = self._line_search(point, residual, chisqr, jac, step)
            if found is None and forward:
                # no gain along the forward-difference step: judge with an accurate one
                forward = False
                jac = self._accurate(point, residual, variance, chisqr)
                continue
            if found is None:
                # a promised decrease this small that no trial confirms is rounding noise
                # in the residual; a larger one means the linear model fails here
                noise = decrease <= _NOISE_DECREASE * chisqr
                # the promise counts against the point unless every trial along the step
                # left the model's domain: then the point lies on that edge, where the
                # constrained minimum may well be (s = sqrt(v) held at v = 0)
                promised = 0.0 if noise or self._all_undefined \
                    else decrease / max(chisqr, _TINY)
                return PolishOutcome(point, residual, jac, taken, bool(noise), promised)
            new_point, new_residual, new_chisqr = found
            taken += 1
            # Gauss-Newton converges linearly on large residuals: after a move of m
            # tolerances about rate * m are left, which the carried Jacobian does not
            # see (it learns only along the move). It may judge the new point while
            # that is within a tolerance; else an accurate Jacobian does.
            moved = np.abs(new_point - point) * self._per_tolerance(point, residual, variance,
                                                                    chisqr)
            trusted = min(rate, 1.0) * float(moved.max()) <= 1.0
            carried = secant_update(jac, point, residual, new_point, new_residual)
            point, residual, chisqr = new_point, new_residual, new_chisqr
            if trusted and self._converged(point, residual, chisqr, carried):
                return PolishOutcome(point, residual, carried, taken, True)
            forward = False
            jac = self._accurate(point, residual, variance, chisqr)
        step, variance, decrease = self._gauss_newton(jac, residual)
        return PolishOutcome(point, residual, jac, taken, False, decrease / max(chisqr, _TINY))

    def _accurate(self, point: Vector, residual: Vector, variance: Optional[Vector],
                  chisqr: float) -> np.ndarray:
        """The accurate Jacobian at ``point``, its differences sized by :meth:`typical`."""
        return self.jacobian(point, residual, self.typical(point, residual, variance, chisqr))

    @staticmethod
    def typical(point: Vector, residual: Vector, variance: Optional[Vector],
                chisqr: float) -> Vector:
        """The size of each parameter that its differences should resolve: ``|v| + stderr``.

        A step relative to ``|v|`` alone is lost in the residual's rounding
        for a parameter near zero (a peak centre at 5e-5, say), and the
        Jacobian column then misleads the Gauss-Newton step by several
        tolerances; its standard error is the scale at which it matters.
        """
        if variance is None:
            return np.abs(point)
        # an unknown or infinite standard error adds nothing
        return np.array([abs(value) + (spread if spread < math.inf else 0.0)
                         for value, spread in zip(point.tolist(),
                                                  _spreads(residual, variance, chisqr))])


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
        self._all_undefined = False
        slope = 2.0 * float(residual.dot(jac.dot(step)))
        if not slope < 0.0:
            return None
        best: Optional[Tuple[Vector, Vector, float]] = None
        best_change = 0.0
        alpha = 1.0
        self._all_undefined = True
        for _ in range(6):
            trial = point + alpha * step
            r_trial = self.residual(trial)
            change = float((r_trial - residual).dot(r_trial + residual))
            if change == change:
                self._all_undefined = False
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
