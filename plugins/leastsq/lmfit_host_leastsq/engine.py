"""The leastsq engine: Levenberg-Marquardt through MINPACK, then a Gauss-Newton check.

MINPACK (``scipy.optimize.leastsq``) searches in the user's own units when
no varied parameter is bounded (the identity: nothing between MINPACK and
the residual), and otherwise in the host's unbounded internal space (the
MINUIT transforms), so that every trial point respects the bounds.

MINPACK's ``lmdif`` differences the residual itself; the engine keeps the
last few evaluations and reads its last Jacobian back from them (a user's
analytic Jacobian goes to ``lmder`` and is remembered), together with the
points where MINPACK built its last two Jacobians: MINPACK's last accepted
iterates. They let the engine judge the returned point at no extra
evaluation (see :mod:`lmfit_host_leastsq.refine`) and hand the Jacobian to
the host for the error bars, so a well converged fit costs no more
evaluations than MINPACK alone.

MINPACK is called through SciPy's own binding of ``lmdif``/``lmder`` when
that binding answers a small test problem as expected (checked once, at
the first fit), else through the public ``scipy.optimize.leastsq``, which
wraps the same routines and adds a covariance the host does not need.
"""

from __future__ import annotations

import math
from collections import deque
from functools import lru_cache
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple

import numpy as np
from scipy.optimize import leastsq

from lmfit_host import EngineOptionError, EngineResult, FitProblem, ProblemError

from .refine import Polisher, secant_update

__all__ = ["DEFAULTS", "OPTIONS", "LeastsqEngine", "minpack_message", "off_the_bounds"]

_EPS = float(np.finfo(float).eps)
_CENTRAL_STEP = _EPS ** (1.0 / 3.0)

#: Default option values; ``maxfev=None`` means ``1000 * (nvarys + 1)``, ``epsfcn=None``
#: machine epsilon, ``diag=None`` MINPACK's automatic scaling.
DEFAULTS: Dict[str, Any] = {
    "xtol": 1e-7,
    "ftol": 1e-7,
    "gtol": 0.0,
    "maxfev": None,
    "epsfcn": None,
    "factor": 100.0,
    "diag": None,
    "polish": True,
}

#: Option name -> one line for ``lmfit-host plugins`` and error messages.
OPTIONS: Dict[str, str] = {
    "xtol": "stop when a step changes the parameters by less than this, relatively (1e-7)",
    "ftol": "stop when a step lowers the sum of squares by less than this, relatively (1e-7)",
    "gtol": "stop when the residual is this orthogonal to every Jacobian column (0.0)",
    "maxfev": "most residual evaluations, Jacobian differences included (1000*(nvarys+1))",
    "epsfcn": "relative step of the forward differences is sqrt(epsfcn) (machine epsilon)",
    "factor": "initial step bound, times the scaled parameter vector, 0.1 to 100 (100)",
    "diag": "positive scale factor per varied parameter, in the engine's search space "
            "(automatic)",
    "polish": "judge MINPACK's point by its last steps and Jacobian, and refine it with "
              "accurate Gauss-Newton steps until no parameter would move by more than "
              "xtol*(|value|+stderr) (True)",
}

_MINPACK_SUCCESS = (1, 2, 3, 4)
#: A polish that stalls while its Gauss-Newton step still promises to lower the sum of
#: squares by more than this share did not converge.
_STALL_PROMISE = 1e-6
#: Validated settings by (nvarys, options with their types), for loops of small fits.
_SETTINGS: Dict[Any, Dict[str, Any]] = {}
#: Evaluations kept after lmdif's last Jacobian: trial steps it may refuse before stopping.
_TRIALS_KEPT = 12
_NEEDS_NO_POLISH = (0, 5)


class _BudgetSpent(Exception):
    """Raised inside MINPACK's callbacks when maxfev evaluations are spent."""


class _Search:
    """The residual and Jacobian in the space MINPACK searches, and MINPACK's last Jacobian.

    Without a user Jacobian MINPACK runs ``lmdif``, which differences the
    residual itself: ``n`` evaluations right after the point they belong
    to, each moving one parameter ``j`` by ``sqrt(epsfcn) * |x_j|`` (or
    ``sqrt(epsfcn)`` at zero). The last few evaluations are kept, so that
    this last Jacobian can be read back after the run at no extra
    evaluation. With a user Jacobian MINPACK runs ``lmder`` and the last one
    is simply remembered. MINPACK passes views of its own work array: every
    point kept is copied.
    """

    def __init__(self, problem: FitProblem, rel_step: float, maxfev: int) -> None:
        self.bounded = problem.has_bounds
        self.transform = problem.transform
        self._fcn = problem.residual_internal if self.bounded else problem.residual
        # Trial points MINPACK or the line search may reject: where the host offers it,
        # a non-finite residual there comes back (and the step is refused) instead of
        # ending the fit under nan_policy='raise'.
        trial = getattr(problem, "trial_residual_internal" if self.bounded else "trial_residual",
                        None)
        self._trial_fcn = trial if callable(trial) else self._fcn
        self._analytic = None
        if problem.has_jacobian:
            self._analytic = problem.jacobian_internal if self.bounded else problem.jacobian
        self.nvarys = problem.nvarys
        self.ndata = problem.ndata
        self.rel_step = rel_step
        self.maxfev = maxfev
        self.count = 0
        self._start: Optional[np.ndarray] = None
        self._start_r: Optional[np.ndarray] = None
        # lmdif: the latest points evaluated, oldest first, long enough to hold two
        # Jacobian blocks; and the residuals of the latest ones (enough for one block)
        self._points: Optional[Deque[np.ndarray]] = None
        self._residuals: Optional[Deque[np.ndarray]] = None
        if self._analytic is None:
            self._points = deque(maxlen=2 * (self.nvarys + 1) + _TRIALS_KEPT)
            self._residuals = deque(maxlen=self.nvarys + 1 + _TRIALS_KEPT)
        # lmder: the last Jacobian asked for, where, and the residual there
        self._last_x: Optional[np.ndarray] = None
        self._last_r: Optional[np.ndarray] = None
        self._jac_x: Optional[np.ndarray] = None
        self._jac: Optional[np.ndarray] = None
        self._jac_r: Optional[np.ndarray] = None
        self._jac_points: Deque[np.ndarray] = deque(maxlen=2)
        # the block bases found last: (the evaluation count they belong to, the bases,
        # their blocks' steps)
        self._bases: Optional[Tuple[int, List[int], List[np.ndarray]]] = None

    @property
    def differences(self) -> bool:
        """True when MINPACK differences the residual itself (no user Jacobian)."""
        return self._analytic is None

    def to_user(self, v: np.ndarray) -> np.ndarray:
        """Search-space point -> user units."""
        return self.transform.to_external(v) if self.bounded else np.array(v, dtype=float)

    def evaluate(self, v: np.ndarray) -> np.ndarray:
        """One counted residual evaluation (start points and Jacobians)."""
        if self.count >= self.maxfev:
            raise _BudgetSpent()
        self.count += 1
        return self._fcn(v)

    def evaluate_trial(self, v: np.ndarray) -> np.ndarray:
        """One counted evaluation at a trial point, which may come back non-finite."""
        if self.count >= self.maxfev:
            raise _BudgetSpent()
        self.count += 1
        return self._trial_fcn(v)

    @property
    def start_residual(self) -> Optional[np.ndarray]:
        """The residual at MINPACK's latest start."""
        return self._start_r

    def start(self, v0: np.ndarray, r0: Optional[np.ndarray] = None) -> None:
        """Set MINPACK's start, evaluated once for scipy's shape check and MINPACK's first calls."""
        if r0 is None:
            r0 = self.evaluate(v0)
        self._start, self._start_r = v0.copy(), r0
        self._last_x, self._last_r = self._start, r0
        if self._points is not None and self._residuals is not None:
            self._points.clear()
            self._residuals.clear()
            self._points.append(self._start)
            self._residuals.append(r0)
        self._jac_points.clear()
        self._bases = None

    def minpack_function(self) -> Callable[[np.ndarray], np.ndarray]:
        """MINPACK's function: counted evaluations, the start served from :meth:`start`.

        A closure over what it needs: MINPACK calls it for every evaluation.
        """
        start, start_r = self._start, self._start_r
        # compared as Python floats: a few numbers, where numpy's call costs more
        start_values = None if start is None else start.tolist()
        fcn = self._trial_fcn
        maxfev = self.maxfev
        keep = keep_r = None
        if self._points is not None and self._residuals is not None:
            keep, keep_r = self._points.append, self._residuals.append

        def residual(v: np.ndarray) -> np.ndarray:
            nonlocal start_values
            if start_values is not None:
                if v.tolist() == start_values:
                    # a copy: SciPy's binding keeps the first array it receives as
                    # MINPACK's own fvec and overwrites it as the search moves
                    return start_r.copy()  # type: ignore[union-attr]
                start_values = None  # MINPACK has moved on: stop comparing
            if self.count >= maxfev:
                raise _BudgetSpent()
            self.count += 1
            r = fcn(v)
            if keep is not None:
                keep(v.copy())
                keep_r(r)  # type: ignore[misc]
            else:
                self._last_x, self._last_r = v.copy(), r
            return r

        return residual

    def jacobian(self, v: np.ndarray) -> np.ndarray:
        """MINPACK's Jacobian, the user's (lmder); shape (ndata, nvarys)."""
        if self._jac_x is not None and (v == self._jac_x).all():
            return self._jac  # type: ignore[return-value]
        jac = self._checked(self._analytic(v))  # type: ignore[misc]
        self._jac_x, self._jac = v.copy(), jac
        self._jac_points.append(self._jac_x)
        # MINPACK asks at the point it evaluated last: the residual there is known
        same = self._last_x is not None and (v == self._last_x).all()
        self._jac_r = self._last_r if same else None
        return jac

    def last_jacobian(self, v: np.ndarray, r: np.ndarray) -> Optional[np.ndarray]:
        """MINPACK's last Jacobian carried to its final point ``v`` (residual ``r``).

        That Jacobian belongs to the point before MINPACK's final step; the
        secant update makes it agree with the residual change seen along that
        step, at no extra evaluation. None when it cannot be recovered.
        """
        if self._points is None:
            if self._jac_r is None or self._jac_x is None or self._jac is None:
                return None
            return secant_update(self._jac, self._jac_x, self._jac_r, v, r)
        bases = self._block_bases(2)
        if not bases:
            return None
        points, residuals = self._points, self._residuals
        assert residuals is not None and self._bases is not None
        b = bases[0]
        offset = len(points) - len(residuals)  # residuals kept for the latest points only
        if b < offset:
            return None
        base = points[b]
        base_r = residuals[b - offset]
        diff = np.array([residuals[b - offset + 1 + j] for j in range(self.nvarys)])
        diff -= base_r
        diff /= self._bases[2][0][:, None]  # the steps as the floats hold them
        return secant_update(diff.T, base, base_r, v, r)

    def iterates(self) -> List[np.ndarray]:
        """The points of MINPACK's last two Jacobians, oldest first: its last accepted iterates."""
        if self._points is None:
            return list(self._jac_points)
        return [self._points[b] for b in reversed(self._block_bases(2))]

    def _block_bases(self, wanted: int) -> List[int]:
        """Indices in the kept points of the latest ``wanted`` forward-difference blocks.

        lmdif differences at a point by moving parameter ``j`` alone to
        exactly ``x_j + sqrt(epsfcn) * |x_j|`` (``sqrt(epsfcn)`` at zero), one
        after the other, right after the point itself was evaluated. The
        result is kept until MINPACK runs again.
        """
        points = self._points
        assert points is not None
        if self._bases is not None and len(self._bases[1]) >= wanted \
                and self._bases[0] == self.count:
            return self._bases[1][:wanted]
        n = self.nvarys
        rel_step = self.rel_step
        found: List[int] = []
        steps: List[np.ndarray] = []
        b = len(points) - n - 1
        while b >= 0 and len(found) < wanted:
            first = points[b].item(0)
            # the first parameter of the first point decides before the whole block
            if points[b + 1].item(0) == first + (rel_step * abs(first) or rel_step):
                moves = self._block_steps(b)
                if moves is not None:
                    found.append(b)
                    steps.append(moves)
                    b -= n + 1
                    continue
            b -= 1
        self._bases = (self.count, found, steps)
        return found

    def _block_steps(self, b: int) -> Optional[np.ndarray]:
        """The steps of the forward-difference block at kept point ``b``, as the floats hold
        them (``(x_j + h_j) - x_j``), or None when the points there are no such block."""
        points = self._points
        assert points is not None
        rel_step = self.rel_step
        n = self.nvarys
        base = points[b]
        # one array comparison beats n list comparisons; differences stand for values
        # exactly while the step is at most half the value (always, unless epsfcn > 0.25)
        if n > 8 and rel_step <= 0.5:
            # where lmdif moves each parameter (see _block_bases), in numpy's float
            # arithmetic, which is Python's
            moves = np.abs(base) * rel_step
            moves[moves == 0.0] = rel_step
            moves += base
            moves -= base
            moved = np.array([points[b + 1 + j] for j in range(n)])
            moved -= base
            # each row moved its own parameter alone, by exactly the step lmdif takes
            if not np.array_equal(moved.diagonal(), moves):
                return None
            # the diagonal matches: nothing else may have moved
            if np.count_nonzero(moved) != np.count_nonzero(moves):
                return None
            return moves
        values = base.tolist()
        stepped = [value + (rel_step * abs(value) or rel_step) for value in values]
        for j in range(n):
            expected = list(values)
            expected[j] = stepped[j]
            if points[b + 1 + j].tolist() != expected:
                return None
        return np.array([after - value for after, value in zip(stepped, values)])

    def forward_jacobian(self, v: np.ndarray, r0: np.ndarray) -> np.ndarray:
        """The analytic Jacobian, else the one lmdif would build at ``v`` next: forward
        differences with its own steps (see :meth:`_block_bases`), ``n`` evaluations."""
        if self._analytic is not None:
            return self._checked(self._analytic(v))
        jac_t = np.empty((v.size, r0.size))
        rel_step = self.rel_step
        evaluate = self.evaluate
        for j, value in enumerate(v.tolist()):
            moved = v.copy()
            moved[j] = value + (rel_step * abs(value) or rel_step)
            row = jac_t[j]
            np.subtract(evaluate(moved), r0, out=row)
            row *= 1.0 / (moved.item(j) - value)  # the step as the floats hold it
        return jac_t.T

    def accurate_jacobian(self, v: np.ndarray, r0: np.ndarray,
                          typical: Optional[np.ndarray] = None) -> np.ndarray:
        """The analytic Jacobian, else central differences; shape (ndata, nvarys).

        Each parameter moves by ``eps**(1/3)`` times its ``typical`` size
        (``|v|`` when not given; see ``Polisher.typical``).
        """
        if self._analytic is not None:
            return self._checked(self._analytic(v))
        jac_t = np.empty((v.size, r0.size))
        steps = _CENTRAL_STEP * (np.abs(v) if typical is None else typical)
        steps[~(steps > 0.0)] = _CENTRAL_STEP
        evaluate = self.evaluate
        # a difference below this (squared) is the residual's rounding, not a slope; a
        # residual beyond 1e150 or so has no such level to speak of
        limit = 8.0 * _EPS * float(np.abs(r0).max(initial=0.0))
        rounding = limit * limit if limit < 1e150 else 0.0
        for j, (value, step) in enumerate(zip(v.tolist(), steps.tolist())):
            row = jac_t[j]
            for _ in range(3):
                up, down = value + step, value - step
                plus = v.copy()
                plus[j] = up
                minus = v.copy()
                minus[j] = down
                np.subtract(evaluate(plus), evaluate(minus), out=row)
                # a step relative to a value far below its scale (0 to rounding, in an
                # exact fit) moves the residual by its rounding only: wider, at least
                # relative to 1, twice at most. (A NaN, from a step beyond the model's
                # domain, is left for the polish to stall on: a difference taken on one
                # side of a singular edge misled it into calling a point 1.5 times the
                # minimum's chi-square converged.)
                if not float(row.dot(row)) <= rounding:
                    break
                step = max(step * 1e4, _CENTRAL_STEP * max(abs(value), 1.0))
            row *= 1.0 / (up - down)
        return jac_t.T

    def _checked(self, jac: Any) -> np.ndarray:
        """The problem's analytic Jacobian as floats, of shape (ndata, nvarys), or an error."""
        jac = np.asarray(jac, dtype=float)
        if jac.shape != (self.ndata, self.nvarys):
            raise ProblemError(f"the problem's Jacobian has shape {jac.shape}; engine 'leastsq' "
                               f"needs ({self.ndata}, {self.nvarys}): one row per residual, "
                               f"one column per varied parameter")
        return jac

    def user_jacobian(self, jac: np.ndarray, v: np.ndarray) -> Optional[np.ndarray]:
        """A search-space Jacobian at ``v`` in user units (chain rule); None at a bound."""
        if not self.bounded:
            return jac
        x = self.transform.to_external(v)
        if (x <= self.transform.lower).any() or (x >= self.transform.upper).any():
            return None  # on a bound dx/du vanishes: the host judges such a parameter
        return jac / self.transform.derivative(v)


class LeastsqEngine:
    """Levenberg-Marquardt (MINPACK lmder via scipy.optimize.leastsq).

    Options (defaults as lmfit 0.2): ``xtol=1e-7``, ``ftol=1e-7``,
    ``gtol=0``, ``maxfev=1000*(nvarys+1)``, ``epsfcn``, ``factor=100``,
    ``diag``, and ``polish=True`` (see :mod:`lmfit_host_leastsq.refine`).
    The result carries MINPACK's ``ier`` and ``lmdif_message``, and
    ``polish_status``, ``polish_steps`` and ``polish_nfev``.

    >>> LeastsqEngine().name
    'leastsq'
    """

    name = "leastsq"
    description = ("Levenberg-Marquardt least squares (MINPACK via scipy.optimize.leastsq), "
                   "with a Gauss-Newton check of the converged point")
    options = OPTIONS

    def settings(self, problem: FitProblem, options: Mapping[str, Any]) -> Dict[str, Any]:
        """Validate ``options`` and fill in defaults; EngineOptionError on anything wrong."""
        # loops of small fits pass the same options every time: remember valid ones
        # (keyed with the value types, so that polish=1 is not taken for polish=True)
        key: Any = None
        if options.get("diag") is None:
            try:
                key = (problem.nvarys,) + tuple(
                    (name, type(value), value) for name, value in sorted(options.items()))
                known = _SETTINGS.get(key)
            except TypeError:  # an unhashable value: validated every time
                key = known = None
            if known is not None:
                return dict(known)
        merged = self._validate(problem, options)
        if key is not None:
            if len(_SETTINGS) >= 256:
                _SETTINGS.pop(next(iter(_SETTINGS)))
            _SETTINGS[key] = dict(merged)
        return merged

    def _validate(self, problem: FitProblem, options: Mapping[str, Any]) -> Dict[str, Any]:
        unknown = sorted(set(options) - set(DEFAULTS))
        if unknown:
            raise EngineOptionError(
                f"engine 'leastsq' has no option {', '.join(repr(k) for k in unknown)}; "
                f"valid options: {', '.join(DEFAULTS)}")
        merged = dict(DEFAULTS)
        merged.update(options)
        n = problem.nvarys
        for key in ("xtol", "ftol", "gtol"):
            merged[key] = _real(key, merged[key], minimum=0.0)
        merged["factor"] = _real("factor", merged["factor"], minimum=0.0, strict=True)
        if merged["epsfcn"] is None:
            merged["epsfcn"] = _EPS
        merged["epsfcn"] = _real("epsfcn", merged["epsfcn"], minimum=0.0)
        maxfev = merged["maxfev"]
        if maxfev is None:
            maxfev = 1000 * (n + 1)
        if isinstance(maxfev, bool) or not isinstance(maxfev, (int, np.integer)) or maxfev < 1:
            raise EngineOptionError(f"engine 'leastsq' option maxfev must be a positive "
                                    f"integer, got {maxfev!r}")
        merged["maxfev"] = int(maxfev)
        if merged["diag"] is not None:
            try:
                diag = np.array(merged["diag"], dtype=float).ravel()
            except (TypeError, ValueError):
                diag = np.array([np.nan])
            if diag.size != n or not np.all(np.isfinite(diag)) or not np.all(diag > 0.0):
                raise EngineOptionError(
                    f"engine 'leastsq' option diag must hold {n} positive numbers, one per "
                    f"varied parameter ({', '.join(problem.names)}), got {merged['diag']!r}")
            merged["diag"] = diag
        if not isinstance(merged["polish"], (bool, np.bool_)):
            raise EngineOptionError(f"engine 'leastsq' option polish must be True or False, "
                                    f"got {merged['polish']!r}")
        return merged

    def run(self, problem: FitProblem, **options: Any) -> EngineResult:
        """Fit ``problem`` with MINPACK, check (and polish) the point; see the module doc."""
        settings = self.settings(problem, options)
        n, m = problem.nvarys, problem.ndata
        if n == 0:
            raise ProblemError("engine 'leastsq' needs at least one varied parameter")
        if m < n:
            raise ProblemError(
                f"engine 'leastsq' needs at least as many residuals as varied parameters: "
                f"{m} residual(s) for {n} parameters ({', '.join(problem.names)}); fix some "
                f"parameters or fit more data")
        search = _Search(problem, math.sqrt(max(settings["epsfcn"], _EPS)), settings["maxfev"])
        v0 = problem.x0_internal.copy() if search.bounded else problem.x0.copy()
        # the host may have evaluated the start already (FitProblem.start_residual)
        r0 = getattr(problem, "start_residual", None)
        if search.bounded:
            inside = off_the_bounds(problem.transform, v0, search.rel_step)
            if inside is not None:
                v0, r0 = inside, None  # a start of our own: evaluated by MINPACK
        try:
            return self._fit(search, v0, settings, r0)
        except _BudgetSpent:
            return self._spent(problem, settings["maxfev"])

    def _fit(self, search: _Search, v0: np.ndarray, settings: Mapping[str, Any],
             r0: Optional[np.ndarray] = None) -> EngineResult:
        start_chisqr = math.inf if r0 is None else float(r0.dot(r0))
        point, residual, ier, lmdif_message = _minpack(search, v0, r0, settings,
                                                       settings["xtol"], settings["ftol"])
        if r0 is None and search.start_residual is not None:
            start_chisqr = float(search.start_residual.dot(search.start_residual))
        codes: Dict[str, Any] = {"ier": ier, "lmdif_message": lmdif_message,
                                 "polish_status": "off", "polish_steps": 0, "polish_nfev": 0,
                                 "polish_promised": 0.0, "restarted": False}
        success = ier in _MINPACK_SUCCESS
        minpack_nfev = search.count
        jac = search.last_jacobian(point, residual)
        if search.bounded:
            principal = _principal(search.transform, point)
            if principal is not None:
                # MINPACK wandered many periods away in the sine of a two-sided bound: the
                # same user values, but steps relative to |u| no longer resolve anything
                # there. The check and the error bars start afresh from the principal point.
                point, residual, jac = principal, search.evaluate(principal), None
        polisher = None
        if settings["polish"] and ier not in _NEEDS_NO_POLISH:
            # with an analytic Jacobian there is no cheaper one to start from
            forward = search.forward_jacobian if search.differences else None
            polisher = Polisher(search.evaluate_trial, search.accurate_jacobian, search.to_user,
                                search.transform.derivative if search.bounded else None,
                                rtol=settings["xtol"], forward_jacobian=forward)
            # MINPACK's own convergence, judged from its last steps and its last
            # Jacobian (see Polisher.accepts): no evaluation
            if jac is not None and polisher.accepts(point, residual, jac, search.iterates()):
                codes["polish_status"] = "passed"
            else:
                outcome = polisher.polish(point, residual, guide=jac)
                steps = outcome.steps
                if not outcome.passed:
                    # MINPACK stopped where the linear model fails: typically its trust
                    # region shrank to nothing after trial steps that gave non-finite or
                    # worse residuals (xtol test, ier=2). Restart it once from the best
                    # point with a fresh trust region and tolerances at the rounding level.
                    point, residual, ier, lmdif_message = _minpack(
                        search, outcome.point, outcome.residual, settings, _EPS, _EPS)
                    codes.update(ier=ier, lmdif_message=lmdif_message, restarted=True)
                    guide = search.last_jacobian(point, residual)
                    principal = _principal(search.transform, point) if search.bounded else None
                    if principal is not None:  # wandered again (see above)
                        point, residual, guide = principal, search.evaluate(principal), None
                    outcome = polisher.polish(point, residual, guide=guide)
                    steps += outcome.steps
                point, residual, jac = outcome.point, outcome.residual, outcome.jacobian
                codes["polish_steps"] = steps
                codes["polish_nfev"] = search.count - minpack_nfev
                codes["polish_status"] = "refined" if outcome.passed else "stalled"
                codes["polish_promised"] = outcome.promised
                # a stall where the Gauss-Newton model still promises a real decrease of the
                # sum of squares is no minimum, whatever MINPACK's own test said; unless the
                # sum of squares is down to rounding (an exact fit: 1e-20 of the start's)
                exact = float(outcome.residual.dot(outcome.residual)) <= 1e-20 * start_chisqr
                if exact:
                    codes["polish_promised"] = 0.0
                success = outcome.passed or (ier in _MINPACK_SUCCESS and (
                    exact or not outcome.promised > _STALL_PROMISE))
        if search.bounded:
            principal = _principal(search.transform, point)
            if principal is not None:
                # the final point far out in a sine coordinate: its Jacobian there is noise;
                # the host differences the (same) values in user units for the error bars
                point, jac = principal, None
        x = search.to_user(point)
        user_jac = inverse = None
        if jac is not None:
            user_jac = search.user_jacobian(jac, point)
            # the check solved with this Jacobian already: the host's error bars reuse
            # that factorization (same units only: no bounds)
            if polisher is not None and user_jac is jac:
                inverse = polisher.normal_inverse(jac)
        message = _message(ier, settings, codes)
        return EngineResult(x=x, success=bool(success), message=message, codes=codes,
                            jacobian=user_jac, normal_inverse=inverse)

    def _spent(self, problem: FitProblem, maxfev: int) -> EngineResult:
        text = minpack_message(5, maxfev=maxfev)
        return EngineResult(
            x=problem.best_x.copy(), success=False,
            message=f"Fit stopped: the {maxfev} evaluations allowed by maxfev are spent; the "
                    f"parameters hold the best point seen. Raise maxfev to go on.",
            codes={"ier": 5, "lmdif_message": text, "polish_status": "off", "polish_steps": 0,
                   "polish_nfev": 0, "polish_promised": 0.0, "restarted": False})


#: How far a start on a bound is moved inside: this share of the range for two bounds; for
#: one, this share of |bound| (at least _START_INSIDE_ONE, the transform's own scale).
_START_INSIDE = 0.01
_START_INSIDE_ONE = 0.1
#: A forward difference of the value below this many of its units in the last place
#: resolves nothing (ten: a column to about 10%).
_RESOLVED_ULPS = 10.0


def off_the_bounds(transform: Any, u: np.ndarray, rel_step: float) -> Optional[np.ndarray]:
    """The internal start ``u`` with every parameter that sits on a bound moved inside, or
    None when none does.

    On a bound the MINUIT transforms are stationary (``dx/du = 0``): MINPACK's
    linear model sees no effect of such a parameter, its first step throws
    it far away, or it stays on the bound for good, since no derivative in
    the search space can say that moving inside lowers the sum of squares.
    A start on a bound (for two bounds: where ``|cos u| < 1e-7``, on it to
    rounding) is moved a little inside: 1% of
    the range for two bounds, ``max(0.1, 1e-4 * |bound|)`` for one; one that
    belongs on the bound goes back.

    Close to a bound of a large value the same happens by rounding: MINPACK's
    forward difference (a step of ``rel_step * |u|``) changes the value by
    fewer than ten units in its last place. Such a start moves only
    as far as it must for that difference to resolve (twice the distance,
    at each try), so that it stays near where it was put: 1 + 1e-12 above a
    bound at 1 goes to about 1 + 4e-8. Anything else is left as given.

    >>> from lmfit_host.problem import BoundsTransform
    >>> t = BoundsTransform([0.0, 0.0, 0.0, 1.0], [np.inf, 1.0, np.inf, np.inf])
    >>> start = t.to_internal([0.0, 1.0, 3e-13, 1.0 + 1e-12])
    >>> [float(f"{v:.3g}") for v in t.to_external(off_the_bounds(t, start, 1.5e-8))]
    [0.1, 0.99, 3e-13, 1.0]
    >>> off_the_bounds(t, t.to_internal([0.5, 0.5, 1e-9, 1.1]), 1.5e-8) is None
    True
    """
    lower, upper = transform.lower, transform.upper
    bounded = (np.isfinite(lower) | np.isfinite(upper)) & (upper > lower)
    if not bounded.any():
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        x = transform.to_external(u)
        stationary = bounded & np.where(transform.both, np.abs(np.cos(u)) < 1e-7, u == 0.0)
        unresolved = bounded & ~stationary & ~_resolves(transform, u, x, rel_step)
    if not (stationary.any() or unresolved.any()):
        return None
    start = x.copy()
    width = upper - lower
    both = stationary & transform.both
    near_lower = x - lower <= upper - x
    start[both] = np.where(near_lower[both], lower[both] + _START_INSIDE * width[both],
                           upper[both] - _START_INSIDE * width[both])
    low = stationary & transform.lower_only
    start[low] = lower[low] + np.maximum(_START_INSIDE_ONE, 1e-4 * np.abs(lower[low]))
    up = stationary & transform.upper_only
    start[up] = upper[up] - np.maximum(_START_INSIDE_ONE, 1e-4 * np.abs(upper[up]))
    with np.errstate(invalid="ignore", over="ignore"):
        inside = np.asarray(transform.to_internal(start), dtype=float)
        # inside but unresolved: twice as far from the bound until MINPACK's difference
        # resolves the value (a handful of tries; 60 reach any distance a float can hold)
        for _ in range(60):
            if not unresolved.any():
                break
            far = np.where(np.isfinite(lower), x - lower, upper - x)
            distance = np.maximum(2.0 * far, np.spacing(np.abs(x)))
            moved = np.where(np.isfinite(lower), lower + distance, upper - distance)
            x = np.where(unresolved, moved, x)
            candidate = np.asarray(transform.to_internal(x), dtype=float)
            inside = np.where(unresolved, candidate, inside)
            unresolved = unresolved & ~_resolves(transform, inside, x, rel_step)
    # a bound beyond 1e154 or so overflows the transform: that start stays as given
    inside = np.where(np.isfinite(inside), inside, u)
    return None if np.array_equal(inside, u) else inside


def _resolves(transform: Any, u: np.ndarray, x: np.ndarray, rel_step: float) -> np.ndarray:
    """Whether MINPACK's forward difference at ``u`` moves each value by more than
    ``_RESOLVED_ULPS`` units in its last place."""
    step = rel_step * np.abs(u)
    step[step == 0.0] = rel_step
    moved = np.abs(transform.to_external(u + step) - x)
    return moved > _RESOLVED_ULPS * np.spacing(np.abs(x))


def _principal(transform: Any, u: np.ndarray) -> Optional[np.ndarray]:
    """``u`` with each two-sided sine coordinate brought back to [-pi/2, pi/2] (the same
    user values), or None when all are there already."""
    both = transform.both
    if not both.any() or not (np.abs(u[both]) > 0.5 * math.pi + 1e-9).any():
        return None
    return np.asarray(transform.to_internal(transform.to_external(u)), dtype=float)


def _minpack(search: _Search, v0: np.ndarray, r0: Optional[np.ndarray],
             settings: Mapping[str, Any], xtol: float, ftol: float
             ) -> Tuple[np.ndarray, np.ndarray, int, str]:
    """One MINPACK run from ``v0``: (point, residual there, ier, MINPACK's message).

    ``lmdif`` (MINPACK differences the residual) unless the user gave a
    Jacobian, then ``lmder``.
    """
    search.start(v0, r0)
    fcn = search.minpack_function()
    gtol, maxfev, factor, diag = (settings["gtol"], settings["maxfev"], settings["factor"],
                                  settings["diag"])
    binding = _binding()
    if binding is not None:
        lmdif, lmder = binding
        start = np.array(v0, dtype=float)  # the binding works in this array, in place
        if search.differences:
            point, info, ier = lmdif(fcn, start, (), 1, ftol, xtol, gtol, maxfev,
                                     settings["epsfcn"], factor, diag)
        else:
            point, info, ier = lmder(fcn, search.jacobian, start, (), 1, 0, ftol, xtol, gtol,
                                     maxfev, factor, diag)
    else:
        common = dict(full_output=1, ftol=ftol, xtol=xtol, gtol=gtol, maxfev=maxfev,
                      factor=factor, diag=diag)
        if search.differences:
            out = leastsq(fcn, v0, epsfcn=settings["epsfcn"], **common)
        else:
            out = leastsq(fcn, v0, Dfun=search.jacobian, **common)
        point, _cov, info, _text, ier = out
    ier = int(ier)
    return point, info["fvec"], ier, minpack_message(ier, ftol=ftol, xtol=xtol, gtol=gtol,
                                                     maxfev=maxfev)


#: MINPACK's verdict per ``ier`` (its ``info``), in words.
_MINPACK_MESSAGES = {
    0: "MINPACK refused its input (a negative tolerance, or fewer residuals than "
       "parameters).",
    1: "MINPACK converged in the sum of squares: a step reduced it, and the linear model "
       "predicted it would reduce it, by a relative amount of at most ftol={ftol:g}.",
    2: "MINPACK converged in the parameters: its last step changed them by a relative "
       "amount of at most xtol={xtol:g}.",
    3: "MINPACK converged in the sum of squares (relative reductions, actual and predicted, "
       "at most ftol={ftol:g}) and in the parameters (relative change at most xtol={xtol:g}).",
    4: "MINPACK converged in the gradient: the residual is orthogonal to every column of the "
       "Jacobian to within gtol={gtol:g} (cosine of the angle).",
    5: "MINPACK stopped: the residual was evaluated maxfev = {maxfev} times.",
    6: "MINPACK stopped: ftol={ftol:g} asks for more than rounding allows; the sum of "
       "squares cannot decrease further.",
    7: "MINPACK stopped: xtol={xtol:g} asks for more than rounding allows; the parameters "
       "cannot improve further.",
    8: "MINPACK stopped: gtol={gtol:g} asks for more than rounding allows; the residual is "
       "already orthogonal to the Jacobian's columns to machine precision.",
}


@lru_cache(maxsize=512)
def minpack_message(ier: int, ftol: Optional[float] = None, xtol: Optional[float] = None,
                    gtol: Optional[float] = None, maxfev: Optional[int] = None) -> str:
    """MINPACK's own verdict for ``ier`` (the result's ``lmdif_message``).

    The tolerances fill in the values the verdict names; one not given
    stays a name.

    >>> minpack_message(5, maxfev=500)
    'MINPACK stopped: the residual was evaluated maxfev = 500 times.'
    """
    text = _MINPACK_MESSAGES.get(ier)
    if text is None:
        return f"MINPACK returned the unknown code {ier}."
    given = {"ftol": ftol, "xtol": xtol, "gtol": gtol, "maxfev": maxfev}
    for name, value in given.items():
        if value is None:  # "at most xtol" rather than "at most xtol=xtol"
            text = text.replace("%s={%s:g}" % (name, name), name)
            text = text.replace("%s = {%s}" % (name, name), name)
        else:
            text = text.replace("{%s:g}" % name, f"{value:g}").replace("{%s}" % name,
                                                                        str(value))
    return text


_UNCHECKED: Any = object()
_BINDING: Any = _UNCHECKED


def _binding() -> Optional[Tuple[Callable[..., Any], Callable[..., Any]]]:
    """SciPy's ``_lmdif``/``_lmder`` when they behave as this engine expects, else None.

    They are SciPy's private bindings of MINPACK, the very routines
    ``scipy.optimize.leastsq`` calls; calling them directly saves the
    wrapper's checks and the covariance it computes (about a fifth of a
    small fit). A small linear problem, solved once by each, decides;
    any surprise falls back to the public ``leastsq``.
    """
    global _BINDING
    if _BINDING is _UNCHECKED:
        _BINDING = _probe_binding()
    return _BINDING  # type: ignore[no-any-return]


def _probe_binding() -> Optional[Tuple[Callable[..., Any], Callable[..., Any]]]:
    try:
        from scipy.optimize import _minpack
        lmdif, lmder = _minpack._lmdif, _minpack._lmder
        design = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
        data = np.array([1.0, 3.0, 5.0])

        def residual(v: np.ndarray) -> np.ndarray:
            return design.dot(v) - data

        def jacobian(v: np.ndarray) -> np.ndarray:
            return design

        start = np.zeros(2)
        for out in (lmdif(residual, start, (), 1, 1e-10, 1e-10, 0.0, 400, _EPS, 100.0, None),
                    lmder(residual, jacobian, start, (), 1, 0, 1e-10, 1e-10, 0.0, 400, 100.0,
                          None)):
            point, info, ier = out
            if int(ier) not in _MINPACK_SUCCESS or not np.allclose(point, [1.0, 2.0]) \
                    or np.asarray(info["fvec"]).shape != (3,):
                return None
        return lmdif, lmder
    except Exception:  # a SciPy without them, or with another signature
        return None


def _real(key: str, value: Any, minimum: float, strict: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < minimum \
            or (strict and number == minimum):
        relation = "greater than" if strict else "at least"
        raise EngineOptionError(f"engine 'leastsq' option {key} must be a number "
                                f"{relation} {minimum:g}, got {value!r}")
    return number


_VERDICTS = {
    0: "improper input (a tolerance is negative, or fewer residuals than parameters)",
    1: "the sum of squares stopped decreasing (relative reductions at most ftol={ftol:g})",
    2: "the parameters stopped changing (relative change at most xtol={xtol:g})",
    3: "the sum of squares stopped decreasing and the parameters stopped changing "
       "(ftol={ftol:g}, xtol={xtol:g})",
    4: "the residual is orthogonal to every Jacobian column (gtol={gtol:g})",
    5: "maxfev={maxfev} evaluations are spent; raise maxfev to go on",
    6: "ftol={ftol:g} is too small: the sum of squares cannot decrease further",
    7: "xtol={xtol:g} is too small: the parameters cannot improve further",
    8: "gtol={gtol:g} is too small: the residual is orthogonal to the Jacobian to machine "
       "precision",
}


def _message(ier: int, settings: Mapping[str, Any], codes: Mapping[str, Any]) -> str:
    """The result's message: MINPACK's verdict (with its tolerances) and the check's."""
    promised = float(codes.get("polish_promised", 0.0))
    return _compose_message(ier, str(codes.get("polish_status")), int(codes.get("polish_steps", 0)),
                            settings["ftol"], settings["xtol"], settings["gtol"],
                            settings["maxfev"],
                            promised if promised > _STALL_PROMISE else 0.0)


@lru_cache(maxsize=512)
def _compose_message(ier: int, status: str, steps: int, ftol: float, xtol: float, gtol: float,
                     maxfev: int, promised: float = 0.0) -> str:
    if promised:
        head = "Fit did not converge"
    elif ier in _MINPACK_SUCCESS:
        head = "Fit succeeded"
    elif ier == 5:
        head = "Fit stopped"
    else:
        head = "Fit did not converge"
    verdict = _VERDICTS.get(ier, f"MINPACK returned the unknown code {ier}").format(
        ftol=ftol, xtol=xtol, gtol=gtol, maxfev=maxfev)
    if status == "passed":
        tail = (" MINPACK's last steps shrank fast enough to place the result within about "
                "xtol of the minimum (judged without further evaluations).")
    elif status == "refined" and steps == 0:
        tail = (" A Gauss-Newton step with an accurate Jacobian moves no parameter beyond "
                "xtol.")
    elif status == "refined":
        tail = (f" {steps} Gauss-Newton step(s) refined the result until no parameter moves "
                f"beyond xtol.")
    elif status == "stalled" and promised:
        tail = (f" A Gauss-Newton step still promises a sum of squares {promised:.2g} (relative) "
                f"lower, and no trial along it confirms that: the point is no minimum (try "
                f"other start values, bounds closer to the solution, or epsfcn=1e-10 for "
                f"coarser differences).")
    elif status == "stalled":
        tail = (" Gauss-Newton steps could not lower the sum of squares further; the result "
                "may be less precise than xtol asks.")
    else:
        tail = ""
    return f"{head}: {verdict} [MINPACK ier={ier}].{tail}"
