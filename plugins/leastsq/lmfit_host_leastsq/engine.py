"""The leastsq engine: Levenberg-Marquardt through MINPACK, then a Gauss-Newton check.

MINPACK (``scipy.optimize.leastsq``) searches in the user's own units when
no varied parameter is bounded (the identity: nothing between MINPACK and
the residual), and otherwise in the host's unbounded internal space (the
MINUIT transforms), so that every trial point respects the bounds.

MINPACK's ``lmdif`` differences the residual itself; the engine keeps the
last few evaluations and reads its last Jacobian back from them (a user's
analytic Jacobian goes to ``lmder`` and is remembered). Knowing that
Jacobian lets the engine check the returned point at no extra evaluation
(see :mod:`lmfit_host_leastsq.refine`) and hand it to the host for the
error bars, so a well converged fit costs no more evaluations than
MINPACK alone.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Callable, Deque, Dict, Mapping, Optional, Tuple

import numpy as np
from scipy.optimize import leastsq

from lmfit_host import EngineOptionError, EngineResult, FitProblem, ProblemError

from .refine import Polisher, secant_update

__all__ = ["DEFAULTS", "OPTIONS", "LeastsqEngine"]

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
    "polish": "check MINPACK's point with a Gauss-Newton step and refine it until no "
              "parameter would move by more than xtol*(|value|+stderr) (True)",
}

_MINPACK_SUCCESS = (1, 2, 3, 4)
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
        self.rel_step = rel_step
        self.maxfev = maxfev
        self.count = 0
        self._start: Optional[np.ndarray] = None
        self._start_r: Optional[np.ndarray] = None
        # lmdif: the latest evaluations, (point, residual), oldest first
        self._history: Optional[Deque[Tuple[np.ndarray, np.ndarray]]] = None
        if self._analytic is None:
            self._history = deque(maxlen=self.nvarys + _TRIALS_KEPT)
        # lmder: the last Jacobian asked for, where, and the residual there
        self._last_x: Optional[np.ndarray] = None
        self._last_r: Optional[np.ndarray] = None
        self._jac_x: Optional[np.ndarray] = None
        self._jac: Optional[np.ndarray] = None
        self._jac_r: Optional[np.ndarray] = None

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

    def start(self, v0: np.ndarray, r0: Optional[np.ndarray] = None) -> None:
        """Set MINPACK's start, evaluated once for scipy's shape check and MINPACK's first calls."""
        if r0 is None:
            r0 = self.evaluate(v0)
        self._start, self._start_r = v0.copy(), r0
        self._last_x, self._last_r = self._start, r0
        if self._history is not None:
            self._history.clear()
            self._history.append((self._start, r0))

    def minpack_function(self) -> Callable[[np.ndarray], np.ndarray]:
        """MINPACK's function: counted evaluations, the start served from :meth:`start`.

        A closure over what it needs: MINPACK calls it for every evaluation.
        """
        start, start_r = self._start, self._start_r
        fcn = self._trial_fcn
        maxfev = self.maxfev
        keep = self._history.append if self._history is not None else None

        def residual(v: np.ndarray) -> np.ndarray:
            nonlocal start
            if start is not None:
                if (v == start).all():
                    return start_r  # type: ignore[return-value]
                start = None  # MINPACK has moved on: stop comparing
            if self.count >= maxfev:
                raise _BudgetSpent()
            self.count += 1
            r = fcn(v)
            if keep is not None:
                keep((v.copy(), r))
            else:
                self._last_x, self._last_r = v.copy(), r
            return r

        return residual

    def jacobian(self, v: np.ndarray) -> np.ndarray:
        """MINPACK's Jacobian, the user's (lmder); shape (ndata, nvarys)."""
        if self._jac_x is not None and (v == self._jac_x).all():
            return self._jac  # type: ignore[return-value]
        jac = np.asarray(self._analytic(v), dtype=float)  # type: ignore[misc]
        self._jac_x, self._jac = v.copy(), jac
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
        found = self._differenced() if self._history is not None else (
            None if self._jac_r is None else (self._jac_x, self._jac_r, self._jac))
        if found is None:
            return None
        base, base_r, jac = found
        return secant_update(jac, base, base_r, v, r)

    def _differenced(self) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """lmdif's last forward-difference Jacobian, read back from the kept evaluations."""
        history = self._history
        n = self.nvarys
        if history is None or len(history) <= n:
            return None
        rel_step = self.rel_step
        for b in range(len(history) - n - 1, -1, -1):
            base = history[b][0]
            # lmdif moves parameter j alone, to exactly base[j] + steps[j]: test the
            # first parameter of the first point before the whole block
            first = float(base[0])
            if float(history[b + 1][0][0]) != first + (rel_step * abs(first) or rel_step):
                continue
            block = np.array([history[b + 1 + j][0] for j in range(n)])
            steps = rel_step * np.abs(base)
            steps[steps == 0.0] = rel_step
            if not (block.diagonal() == base + steps).all() \
                    or np.count_nonzero(block - base) != n:
                continue
            base_r = history[b][1]
            diff = np.array([history[b + 1 + j][1] for j in range(n)])
            diff -= base_r
            diff /= (block.diagonal() - base)[:, None]
            return base, base_r, diff.T
        return None

    def accurate_jacobian(self, v: np.ndarray, r0: np.ndarray) -> np.ndarray:
        """The analytic Jacobian, else central differences; shape (ndata, nvarys)."""
        if self._analytic is not None:
            return np.asarray(self._analytic(v), dtype=float)
        jac_t = np.empty((v.size, r0.size))
        steps = _CENTRAL_STEP * np.abs(v)
        steps[steps == 0.0] = _CENTRAL_STEP
        for j in range(v.size):
            plus = v.copy()
            plus[j] += steps[j]
            minus = v.copy()
            minus[j] -= steps[j]
            row = jac_t[j]
            np.subtract(self.evaluate(plus), self.evaluate(minus), out=row)
            row /= plus[j] - minus[j]
        return jac_t.T

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
        try:
            return self._fit(search, v0, settings, r0)
        except _BudgetSpent:
            return self._spent(problem, settings["maxfev"])

    def _fit(self, search: _Search, v0: np.ndarray, settings: Mapping[str, Any],
             r0: Optional[np.ndarray] = None) -> EngineResult:
        point, residual, ier, lmdif_message = _minpack(search, v0, r0, settings,
                                                       settings["xtol"], settings["ftol"])
        codes: Dict[str, Any] = {"ier": ier, "lmdif_message": lmdif_message,
                                 "polish_status": "off", "polish_steps": 0, "polish_nfev": 0,
                                 "restarted": False}
        success = ier in _MINPACK_SUCCESS
        minpack_nfev = search.count
        jac = search.last_jacobian(point, residual)
        if settings["polish"] and ier not in _NEEDS_NO_POLISH:
            polisher = Polisher(search.evaluate_trial, search.accurate_jacobian, search.to_user,
                                search.transform.derivative if search.bounded else None,
                                rtol=settings["xtol"])
            # MINPACK's last Jacobian belongs to the point before its last step and
            # to forward differences; carried to the final point by the secant update
            # it is an estimate that can err by a decade either way (large residuals,
            # ill-conditioned problems): ask ten times more of it
            if jac is not None and polisher.check(point, residual, jac, settings["xtol"] / 10.0):
                codes["polish_status"] = "passed"
            else:
                outcome = polisher.polish(point, residual)
                steps = outcome.steps
                if not outcome.passed:
                    # MINPACK stopped where the linear model fails: typically its trust
                    # region shrank to nothing after trial steps that gave non-finite or
                    # worse residuals (xtol test, ier=2). Restart it once from the best
                    # point with a fresh trust region and tolerances at the rounding level.
                    point, residual, ier, lmdif_message = _minpack(
                        search, outcome.point, outcome.residual, settings, _EPS, _EPS)
                    codes.update(ier=ier, lmdif_message=lmdif_message, restarted=True)
                    outcome = polisher.polish(point, residual)
                    steps += outcome.steps
                point, residual, jac = outcome.point, outcome.residual, outcome.jacobian
                codes["polish_steps"] = steps
                codes["polish_nfev"] = search.count - minpack_nfev
                codes["polish_status"] = "refined" if outcome.passed else "stalled"
                success = ier in _MINPACK_SUCCESS or outcome.passed
        x = search.to_user(point)
        user_jac = None if jac is None else search.user_jacobian(jac, point)
        message = _message(ier, settings, codes)
        return EngineResult(x=x, success=bool(success), message=message, codes=codes,
                            jacobian=user_jac)

    def _spent(self, problem: FitProblem, maxfev: int) -> EngineResult:
        text = f"Number of calls to function has reached maxfev = {maxfev}."
        return EngineResult(
            x=problem.best_x.copy(), success=False,
            message=f"Fit stopped: the {maxfev} evaluations allowed by maxfev are spent; the "
                    f"parameters hold the best point seen. Raise maxfev to go on.",
            codes={"ier": 5, "lmdif_message": text, "polish_status": "off", "polish_steps": 0,
                   "polish_nfev": 0, "restarted": False})


def _minpack(search: _Search, v0: np.ndarray, r0: Optional[np.ndarray],
             settings: Mapping[str, Any], xtol: float, ftol: float
             ) -> Tuple[np.ndarray, np.ndarray, int, str]:
    """One MINPACK run from ``v0``: (point, residual there, ier, MINPACK's message).

    ``lmdif`` (MINPACK differences the residual) unless the user gave a
    Jacobian, then ``lmder``.
    """
    search.start(v0, r0)
    common = dict(full_output=1, ftol=ftol, xtol=xtol, gtol=settings["gtol"],
                  maxfev=settings["maxfev"], factor=settings["factor"], diag=settings["diag"])
    fcn = search.minpack_function()
    if search.differences:
        out = leastsq(fcn, v0, epsfcn=settings["epsfcn"], **common)
    else:
        out = leastsq(fcn, v0, Dfun=search.jacobian, **common)
    point, _cov, info, lmdif_message, ier = out
    return point, info["fvec"], int(ier), str(lmdif_message)


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
    if ier in _MINPACK_SUCCESS:
        head = "Fit succeeded"
    elif ier == 5:
        head = "Fit stopped"
    else:
        head = "Fit did not converge"
    verdict = _VERDICTS.get(ier, f"MINPACK returned the unknown code {ier}").format(**settings)
    status = codes.get("polish_status")
    if status == "passed":
        tail = " A Gauss-Newton step from the result moves no parameter beyond xtol/10."
    elif status == "refined":
        tail = (f" {codes['polish_steps']} Gauss-Newton step(s) refined the result until no "
                f"parameter moves beyond xtol.")
    elif status == "stalled":
        tail = (" Gauss-Newton steps could not lower the sum of squares further; the result "
                "may be less precise than xtol asks.")
    else:
        tail = ""
    return f"{head}: {verdict} [MINPACK ier={ier}].{tail}"
