"""What an engine receives (FitProblem) and what it returns (EngineResult).

An engine works on a plain float vector of the varied parameters, never on
Parameter objects. It may search in the user's own units with native
bounds (``x0``, ``lower``, ``upper``, :meth:`FitProblem.residual`), or in an
unbounded internal space where the MINUIT-style transforms keep every
point inside the bounds (``x0_internal``, :meth:`FitProblem.residual_internal`,
:meth:`FitProblem.to_external`). Either way, the problem counts
evaluations, remembers the best point seen, calls the user's progress
callback and raises :class:`~lmfit_host.FitAborted` when the fit must stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from numpy.typing import ArrayLike

import numpy as np

from .errors import ExpressionError, FitAborted, FitError

__all__ = ["BoundsTransform", "EngineResult", "FitProblem"]

_INF = float("inf")
_NO_INDEX = np.zeros(0, dtype=np.intp)


_EPS = float(np.finfo(float).eps)


class _Differencing:
    """The columns of one difference Jacobian (:meth:`FitProblem.difference_jacobian`):
    the point, its residual once known, and the rounding level of the residual."""

    def __init__(self, problem: "FitProblem", x: np.ndarray,
                 residual: Callable[[np.ndarray], np.ndarray], r0: Optional[np.ndarray],
                 central: bool) -> None:
        self.x = x
        self.values = x.tolist()
        # a bound given as NaN (None) is no bound
        self.lower = np.where(np.isnan(problem.lower), -_INF, problem.lower).tolist()
        self.upper = np.where(np.isnan(problem.upper), _INF, problem.upper).tolist()
        self.ndata = problem.ndata
        self.residual = residual
        self.r0 = r0
        self.central = central
        self.limit: Optional[float] = None if r0 is None else self._rounding(r0)

    @staticmethod
    def _rounding(r: np.ndarray) -> float:
        # a change within a few roundings of the residual's size is no slope
        return 8.0 * _EPS * float(np.abs(r).max())

    def _base(self) -> np.ndarray:
        if self.r0 is None:
            self.r0 = self.residual(self.x)
        return self.r0

    def column(self, j: int, h: float) -> Optional[np.ndarray]:
        """Column ``j`` with step ``h`` (away from a bound we sit on), or None when the
        residual did not change beyond its rounding."""
        value, low, high = self.values[j], self.lower[j], self.upper[j]
        if value + h > high:
            h = -h
            if value + h < low:
                # wider than the room on either side: half the larger room
                h = 0.5 * (high - value) if high - value >= value - low else -0.5 * (value - low)
                if h == 0.0:
                    return None
        for narrowed in range(7):
            xp = self.x.copy()
            xp[j] = value + h
            plus = _defined(self.residual, xp)
            minus = None
            xm = None
            if self.central or plus is None:
                if low <= value - h <= high:
                    xm = self.x.copy()
                    xm[j] = value - h
                    minus = _defined(self.residual, xm)
            if plus is not None and (minus is not None or not self.central or xm is None):
                break
            # a side beyond the domain (sqrt(v) near v = 0): a step ten times narrower, up
            # to a millionth, before a one-sided difference from the other side
            if narrowed < 6:
                h *= 0.1
        if plus is None and minus is None:
            # a constraint undefined on both sides (sqrt(v) at v = 0): no derivative
            return np.full(self.ndata, np.nan)
        if plus is not None and minus is not None:
            change = plus - minus
            width = xp.item(j) - xm.item(j)  # type: ignore[union-attr]
        elif plus is not None:
            change, width = plus - self._base(), xp.item(j) - value
        else:
            assert minus is not None and xm is not None
            change, width = self._base() - minus, value - xm.item(j)
        if self.limit is None:
            self.limit = self._rounding(plus if plus is not None else minus)  # type: ignore
        if not float(np.abs(change).max()) > self.limit:
            return None
        change *= 1.0 / width
        return change


def values_text(names: Sequence[str], x: Any) -> str:
    """``'a=1.5, b=-2'``: parameter values as messages show them."""
    return ", ".join(f"{n}={v:.6g}" for n, v in zip(names, np.asarray(x, dtype=float).tolist()))


def _defined(residual: Callable[[np.ndarray], np.ndarray], x: np.ndarray
             ) -> Optional[np.ndarray]:
    """``residual(x)``, or None where it is undefined at ``x``: a constraint expression
    fails there, or the residual is NaN or infinite (the model beyond its domain)."""
    try:
        r = residual(x)
    except ConstraintFailure:
        return None
    return r if float(r.dot(r)) < _INF else None


class ConstraintFailure(Exception):
    """Raised by a host's residual function when a constraint expression cannot be
    evaluated at the values tried (``sqrt(v)`` with ``v < 0``); ``error`` is the
    expression's error.

    :class:`FitProblem` never lets it reach an engine: at a trial point (and
    under ``nan_policy`` 'propagate' or 'omit') the residual there is NaN, a
    step the engine refuses; where NaN is an error, the expression's error is
    raised, naming the evaluation and the values.
    """

    def __init__(self, error: ExpressionError) -> None:
        super().__init__(str(error))
        self.error = error


class BoundsTransform:
    """MINUIT-style maps between bounded user values x and unbounded internal values u.

    Per parameter, chosen once from its bounds:

    - both bounds ``a <= x <= b``: ``x = a + (b - a) * (sin(u) + 1) / 2``
    - lower bound only: ``x = a - 1 + sqrt(u**2 + 1)``
    - upper bound only: ``x = b + 1 - sqrt(u**2 + 1)``

    (the one-sided maps are evaluated as ``a + u**2 / (sqrt(u**2 + 1) + 1)``,
    the same value without the cancellation that would lose a small ``a``).
    - no bound: ``x = u``

    Every internal vector maps to a point inside the bounds, so an
    unconstrained engine never leaves them. ``to_external(to_internal(x))``
    returns ``x`` to rounding for any ``x`` inside the bounds.

    >>> t = BoundsTransform([0.0], [10.0])
    >>> float(t.to_external(t.to_internal([2.5]))[0])
    2.5
    """

    def __init__(self, lower: ArrayLike, upper: ArrayLike) -> None:
        self.lower = np.array(lower, dtype=float)
        self.upper = np.array(upper, dtype=float)
        # plain Python over the few bounds a fit has: cheaper than two array reductions
        if max(self.lower.tolist(), default=-_INF) == -_INF \
                and min(self.upper.tolist(), default=_INF) == _INF:
            # no bounds at all (common): nothing else is needed, and a small fit
            # should not pay for the bookkeeping below
            self.is_identity = True
            self.both = self.lower_only = self.upper_only = np.zeros(self.lower.shape, bool)
            self._half_width = np.zeros(self.lower.shape)
            self._both_index = self._lower_index = self._upper_index = _NO_INDEX
            return
        low_finite = np.isfinite(self.lower)
        up_finite = np.isfinite(self.upper)
        self.both = low_finite & up_finite
        self.lower_only = low_finite & ~up_finite
        self.upper_only = ~low_finite & up_finite
        self.is_identity = not bool(np.any(low_finite | up_finite))
        self._half_width = np.where(self.both, (self.upper - self.lower) / 2.0, 0.0)
        self._both_index = np.flatnonzero(self.both)
        self._both_lower = self.lower[self._both_index]
        self._both_upper = self.upper[self._both_index]
        self._both_half = self._half_width[self._both_index]
        self._lower_index = np.flatnonzero(self.lower_only)
        self._lower_bound = self.lower[self._lower_index]
        self._upper_index = np.flatnonzero(self.upper_only)
        self._upper_bound = self.upper[self._upper_index]

    def to_internal(self, values: ArrayLike) -> np.ndarray:
        """Map user values (inside their bounds) to internal, unbounded values."""
        x = np.array(values, dtype=float)
        if self.is_identity:
            return x
        u = x.copy()
        m = self.both
        if m.any():
            width = self._half_width[m]
            # min == max pins the value: any u maps to it, take 0
            safe = np.where(width > 0.0, width, 1.0)
            ratio = np.where(width > 0.0, (x[m] - self.lower[m]) / safe - 1.0, 0.0)
            u[m] = np.arcsin(np.clip(ratio, -1.0, 1.0))
        m = self.lower_only
        if m.any():
            distance = np.maximum(x[m] - self.lower[m], 0.0)
            u[m] = np.sqrt(distance * (distance + 2.0))
        m = self.upper_only
        if m.any():
            distance = np.maximum(self.upper[m] - x[m], 0.0)
            u[m] = np.sqrt(distance * (distance + 2.0))
        return u

    def to_external(self, internal: ArrayLike) -> np.ndarray:
        """Map internal values to user values, always inside the bounds."""
        u = np.asarray(internal, dtype=float)
        x = u.copy()
        if self.is_identity:
            return x
        # index arrays and bound slices were taken once: this runs every evaluation
        index = self._both_index
        if index.size:
            low = self._both_lower
            value = low + self._both_half * (np.sin(u[index]) + 1.0)
            # rounding may step a hair outside; bounds are a promise
            x[index] = np.minimum(np.maximum(value, low), self._both_upper)
        index = self._lower_index
        if index.size:
            square = u[index] * u[index]
            x[index] = self._lower_bound + square / (np.sqrt(square + 1.0) + 1.0)
        index = self._upper_index
        if index.size:
            square = u[index] * u[index]
            x[index] = self._upper_bound - square / (np.sqrt(square + 1.0) + 1.0)
        return x

    def derivative(self, internal: ArrayLike) -> np.ndarray:
        """dx/du for each parameter at internal point ``internal`` (chain rule for Jacobians)."""
        u = np.asarray(internal, dtype=float)
        d = np.ones(u.shape)
        index = self._both_index
        if index.size:
            d[index] = self._both_half * np.cos(u[index])
        index = self._lower_index
        if index.size:
            d[index] = u[index] / np.sqrt(u[index] * u[index] + 1.0)
        index = self._upper_index
        if index.size:
            d[index] = -u[index] / np.sqrt(u[index] * u[index] + 1.0)
        return d


@dataclass
class EngineResult:
    """What an engine returns from ``run``.

    Attributes
    ----------
    x:
        The best point found, in the problem's native (user) units, one value
        per varied parameter in ``FitProblem.names`` order.
    success:
        True when the engine's own convergence test passed.
    message:
        A human-readable account of why the engine stopped.
    codes:
        Engine-specific extras (``{'ier': 1, 'lmdif_message': ...}`` for
        leastsq, ``{'nit': 40}`` ...). Each key also becomes an attribute of
        the user's result object.
    jacobian:
        Optional Jacobian of the residual at ``x``, shape ``(ndata, nvarys)``,
        in native units, accurate enough for error bars. When None the host
        estimates it by central differences.
    normal_inverse:
        Optional ``lmfit_host.normal_inverse(jacobian)`` for the ``jacobian``
        above, for an engine that computed it anyway (a Gauss-Newton step
        needs it): the host then scales it rather than factorizing again.
        Ignored without ``jacobian``.
    """

    x: np.ndarray
    success: bool
    message: str
    codes: Dict[str, Any] = field(default_factory=dict)
    jacobian: Optional[np.ndarray] = None
    normal_inverse: Optional[np.ndarray] = None


class FitProblem:
    """A least-squares problem over the varied parameters, as an engine sees it.

    Built by the host; an engine reads it and calls its callables.

    Attributes
    ----------
    names:
        Names of the varied parameters, the order of every vector.
    x0, lower, upper:
        Start vector and bounds in user units (``-inf`` / ``inf`` where unbounded).
    ndata:
        Length of the residual vector.
    max_nfev:
        The evaluation budget, or None. Exceeding it raises FitAborted.
    transform:
        The :class:`BoundsTransform` used by the ``*_internal`` methods.
    x0_internal:
        ``x0`` mapped to the unbounded internal space.
    nfev:
        Number of residual evaluations so far.
    best_x, best_chisqr:
        The best point seen so far (user units) and its sum of squares.
    has_jacobian:
        True when the user gave an analytic Jacobian (:meth:`jacobian`).
    best_residual:
        The residual vector at ``best_x``.
    start_residual:
        The residual at ``x0`` when the host already evaluated it (counted in
        ``nfev``), else None: an engine may use it instead of evaluating ``x0``.

    Every callable raises :class:`~lmfit_host.FitAborted` when the user's
    callback asks to stop or the budget is spent; engines let it propagate.
    """

    def __init__(self, names: Sequence[str], x0: ArrayLike,
                 lower: ArrayLike, upper: ArrayLike,
                 residual: Callable[[np.ndarray], np.ndarray], ndata: int, *,
                 jacobian: Optional[Callable[[np.ndarray], np.ndarray]] = None,
                 max_nfev: Optional[int] = None,
                 callback: Optional[Callable[[np.ndarray, np.ndarray, int], bool]] = None,
                 nan_policy: str = "raise",
                 start_residual: Optional[np.ndarray] = None) -> None:
        self.names: Tuple[str, ...] = tuple(names)
        self.x0 = np.array(x0, dtype=float)
        self.ndata = int(ndata)
        self.max_nfev = None if max_nfev is None else int(max_nfev)
        self.transform = BoundsTransform(lower, upper)  # it keeps its own copies
        self.lower = self.transform.lower
        self.upper = self.transform.upper
        self.x0_internal = self.transform.to_internal(self.x0) if self.has_bounds \
            else self.x0.copy()
        self.nfev = 0
        self.best_x = self.x0.copy()
        self.best_chisqr = np.inf
        self.aborted: Optional[str] = None
        self._fcn = residual
        self._jac = jacobian
        self._callback = callback
        self._budget = np.inf if max_nfev is None else int(max_nfev)
        self._raise_nonfinite = nan_policy == "raise"
        self.best_residual: Optional[np.ndarray] = None
        self.start_residual: Optional[np.ndarray] = None
        if start_residual is not None:
            # the host already evaluated the start (to learn the residual's shape):
            # it counts, and an engine may take it instead of evaluating x0 again
            self.start_residual = np.array(start_residual, dtype=float)
            self.nfev = 1
            self.best_residual = self.start_residual
            self.best_chisqr = float(self.start_residual.dot(self.start_residual))

    @property
    def nvarys(self) -> int:
        """Number of varied parameters."""
        return len(self.names)

    @property
    def has_bounds(self) -> bool:
        """True when any varied parameter has a finite bound."""
        return not self.transform.is_identity

    @property
    def has_jacobian(self) -> bool:
        """True when the user supplied an analytic Jacobian."""
        return self._jac is not None

    def abort(self, reason: str) -> None:
        """Stop the fit: record ``reason`` and raise FitAborted."""
        self.aborted = reason
        raise FitAborted(reason)

    # -- user units ---------------------------------------------------------
    def residual(self, x: np.ndarray) -> np.ndarray:
        """Residual vector (length ``ndata``) at ``x`` in user units.

        An engine may keep the vectors it receives: the host does not change
        them afterwards.
        """
        return self._evaluate(x, self._raise_nonfinite)

    def _evaluate(self, x: np.ndarray, strict: bool, undefined_raises: bool = False
                  ) -> np.ndarray:
        if self.nfev >= self._budget:
            self.abort(f"the evaluation budget max_nfev={self.max_nfev} is spent")
        self.nfev += 1
        try:
            r = self._fcn(x)
        except ConstraintFailure as failure:
            if undefined_raises:
                raise  # a difference step beyond the domain: it tries the other side
            if strict:
                raise self._explain(failure.error, x) from failure.error.__cause__
            r = np.full(self.ndata, np.nan)
        chisqr = float(r.dot(r))
        if chisqr < self.best_chisqr:
            self.best_chisqr = chisqr
            self.best_x = np.array(x, dtype=float)
            self.best_residual = r.copy()
        elif strict and not chisqr < _INF:  # NaN or inf somewhere in r
            self._reject_nonfinite(x, r)
        if self._callback is not None and self._callback(x, r, self.nfev):
            self.abort("the iteration callback iter_cb returned True")
        return r

    def _explain(self, error: ExpressionError, x: np.ndarray,
                 where: Optional[str] = None) -> Exception:
        """``error`` (a constraint that failed at ``x``), told where and what to do; ``where``
        replaces the default account (a trial of the fit's, at its evaluation number)."""
        values = values_text(self.names, x)
        if where is None:
            message = (f"{error} (at evaluation {self.nfev}, with {values}): the fit tried "
                       f"values where the expression is not defined; bound the parameters it "
                       f"reads (min, max) to its domain, or pass nan_policy='propagate' to let "
                       f"the engine step back from such points")
        else:
            message = (f"{error} {where} ({values}): the expression is not defined there; "
                       f"bound the parameters it reads (min, max) to its domain")
        try:
            explained: Exception = type(error)(message, getattr(error, "expr", None),
                                               getattr(error, "owner", None))
        except Exception:  # an error class with another signature
            explained = FitError(message)
        return explained

    def _reject_nonfinite(self, x: np.ndarray, r: np.ndarray) -> None:
        bad = ~np.isfinite(r)
        if not bad.any():
            return  # huge but finite values whose squares overflowed
        values = values_text(self.names, x)
        first = int(np.flatnonzero(bad)[0])
        raise FitError(f"the residual holds {int(bad.sum())} NaN or infinite value(s) (first at "
                       f"index {first}) at evaluation {self.nfev}, with {values}; fix the model, "
                       f"bound the parameters, or pass nan_policy='omit' or 'propagate'")

    def trial_residual(self, x: np.ndarray) -> np.ndarray:
        """Like :meth:`residual`, but a NaN or infinite residual is returned, not raised.

        For trial steps an engine is about to refuse anyway (a step into a
        region where the model overflows): the engine sees the non-finite
        sum of squares and steps back. Start points, Jacobians and the
        final point should use :meth:`residual`, which enforces the user's
        ``nan_policy``.
        """
        return self._evaluate(x, False)

    def objective(self, x: np.ndarray) -> float:
        """Sum of squares of the residual at ``x`` (user units)."""
        r = self.residual(x)
        return float(r.dot(r))

    def trial_objective(self, x: np.ndarray) -> float:
        """Sum of squares at a trial point: NaN or inf is returned, not raised.

        For searches that sample points they may refuse (annealing, line
        searches): see :meth:`trial_residual`.
        """
        r = self._evaluate(x, False)
        return float(r.dot(r))

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Analytic Jacobian ``d r_i / d x_j`` at ``x``, shape (ndata, nvarys).

        Only when :attr:`has_jacobian`; engines otherwise difference the residual.
        """
        if self._jac is None:
            raise RuntimeError("this problem has no analytic Jacobian; check has_jacobian first")
        return self._jac(x)

    def gradient(self, x: np.ndarray) -> Tuple[float, np.ndarray]:
        """Sum of squares and its gradient ``2 J^T r`` at ``x`` (user units).

        Uses the analytic Jacobian where given, else forward differences of
        the residual with steps scaled to each parameter and kept inside
        the bounds.
        """
        x = np.asarray(x, dtype=float)
        r = self.residual(x)
        jac = self.jacobian(x) if self._jac is not None else self.difference_jacobian(x, r)
        return float(r.dot(r)), 2.0 * jac.T.dot(r)

    def difference_jacobian(self, x: np.ndarray, r0: Optional[np.ndarray] = None,
                            central: bool = False,
                            residual: Optional[Callable[[np.ndarray], np.ndarray]] = None
                            ) -> np.ndarray:
        """Jacobian by finite differences of the residual (user units), inside the bounds.

        Forward differences (n evaluations, ``r0`` reused) or central ones
        (2n evaluations, more accurate: for error bars). ``residual``
        replaces :meth:`residual` (the host passes one that neither counts
        against the budget nor calls the progress callback). Where a step
        lands beyond the model's domain (a NaN or infinite residual, or a
        constraint that fails), the column is a one-sided difference from
        the other side; undefined on both sides, it is NaN.
        """
        x = np.asarray(x, dtype=float)
        if residual is None:
            # a step beyond the domain (NaN, or a failing constraint) tries the other side
            def residual(point: np.ndarray) -> np.ndarray:
                return self._evaluate(point, False, undefined_raises=True)
        eps = np.finfo(float).eps
        scale = eps ** (1.0 / 3.0) if central else np.sqrt(eps)
        # relative steps: parameters of size 1e-5 need steps of their own size
        steps = (scale * np.where(x != 0.0, np.abs(x), 1.0)).tolist()
        if r0 is None and not central:
            r0 = residual(x)
        jac = np.empty((self.ndata, x.size))
        state = _Differencing(self, x, residual, r0, central)
        for j, h in enumerate(steps):
            column = state.column(j, h)
            # A value far below its own scale (a background started at 0, or at 5e-7, on
            # counts of 1e5): a step relative to it moves the residual by less than its
            # rounding, and the column would be 0. Twice more, with steps 1e4 times wider
            # (at least relative to 1); a parameter still without effect gets a zero column.
            for _ in range(2):
                if column is not None:
                    break
                h = max(h * 1e4, scale * max(abs(state.values[j]), 1.0))
                column = state.column(j, h)
            jac[:, j] = 0.0 if column is None else column
        return jac

    # -- internal (unbounded) space -------------------------------------------
    def to_external(self, u: np.ndarray) -> np.ndarray:
        """Internal vector -> user units (inside the bounds)."""
        return self.transform.to_external(u)

    def to_internal(self, x: np.ndarray) -> np.ndarray:
        """User units -> internal vector."""
        return self.transform.to_internal(x)

    def residual_internal(self, u: np.ndarray) -> np.ndarray:
        """Residual at internal point ``u``."""
        return self.residual(self.transform.to_external(u))

    def trial_residual_internal(self, u: np.ndarray) -> np.ndarray:
        """:meth:`trial_residual` at internal point ``u``."""
        return self.trial_residual(self.transform.to_external(u))

    def objective_internal(self, u: np.ndarray) -> float:
        """Sum of squares at internal point ``u``."""
        r = self.residual(self.transform.to_external(u))
        return float(r.dot(r))

    def jacobian_internal(self, u: np.ndarray) -> np.ndarray:
        """Analytic Jacobian with respect to internal values (chain rule); needs has_jacobian."""
        return self.jacobian(self.transform.to_external(u)) * self.transform.derivative(u)
