"""The lbfgsb engine: L-BFGS-B (SciPy) on the sum of squares, with native bounds.

The engine minimizes ``S(x) = sum(r(x)**2)`` over the varied parameters with
``scipy.optimize.minimize(method='L-BFGS-B')``. Each parameter's min and max
are L-BFGS-B's own box constraints, in the user's units: no sine or square
root transform. The gradient is ``2 J^T r`` from the residual's Jacobian (the
user's ``Dfun`` where given, else forward differences of the residual), and
value and gradient come from one call, so no point is evaluated twice.

Conditioning. Before the search the engine measures the problem once at the
start point ``x0`` (the residual ``r0`` and Jacobian ``J0`` that the first
gradient needs anyway) and hands SciPy a rescaled but equivalent problem:

- the objective ``F = S / S_ref``, where ``S_ref`` is the sum of squares
  that Gauss-Newton forecasts from ``J0`` (the minimum of the linearized
  model), kept between ``1e-12 * S(x0)`` and ``S(x0)``: L-BFGS-B's
  reduction test ``(F_k - F_k+1) / max(|F_k|, |F_k+1|, 1) <= ftol`` is then
  relative near the end of the search, however large or small the sum of
  squares is in the user's units;
- parameters in units of ``d_j = sqrt(S_ref) / |J0[:, j]|``, so that the
  Hessian of ``F`` starts near ``2 I``, which is what L-BFGS-B's first step
  assumes, whatever the parameters' magnitudes. A unit moves a parameter by
  at most ``sqrt(S_ref / S(x0)) * max(|x0_j|, 1)`` (a parameter the residual
  barely feels would otherwise jump far), and each unit is rounded to a
  power of two so that the rescaling is exact: bounds and points survive it
  bit for bit.

Stopping. SciPy's reduction test (``ftol``) and the engine's own gradient
test (``gtol``: the largest cosine between the residual and a Jacobian
column that the bounds do not block, MINPACK's measure, free of units).
When L-BFGS-B stops on a tiny step (a bound in the way) with that cosine
above 1e-4, or by a reduction test that ended far below ``S_ref`` (where the
floor of 1 makes it absolute), the engine restarts it from the best point,
with units and ``S_ref`` measured there (at most 10 times, while each run
still improves). A line search that finds no lower point where the cosine is
below 1e-6 has reached the minimum as well as rounding allows: success.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any, ContextManager, Dict, Mapping, Optional, Tuple

import numpy as np
from scipy.optimize import minimize as _scipy_minimize

from lmfit_host import EngineOptionError, EngineResult, FitProblem, ProblemError

__all__ = ["LbfgsbEngine", "DEFAULTS", "OPTIONS"]

_EPS = float(np.finfo(float).eps)

#: S_ref is at least OBJECTIVE_FLOOR * S(x0): the sum of squares SciPy sees is S / S_ref.
OBJECTIVE_FLOOR = 1e-12

#: A stop with a larger residual-Jacobian cosine than this is a stall: restart from the best point.
RESTART_COSINE = 1e-4
#: A stop below this share of S_ref came from a reduction test made absolute: restart, re-measured.
LOOSE_FRACTION = 1e-2
#: A line search that finds no lower point where the cosine is below this has hit rounding:
#: the minimum, as precisely as it can be resolved.
ROUNDING_COSINE = 1e-6
#: At most this many restarts per fit.
MAX_RESTARTS = 10

#: Default settings, in the engine's own (SciPy ``minimize``) names.
DEFAULTS: Dict[str, Any] = {
    "m": 20,
    "ftol": 1e-13,
    "gtol": 1e-10,
    "maxfun": 15000,
    "maxiter": 15000,
    "maxls": 20,
    "epsilon": None,
    "blas_threads": 1,
}

#: Every option the engine accepts, with a one-line description.
OPTIONS: Dict[str, str] = {
    "m": "number of stored corrections of the limited-memory Hessian (default 20); alias maxcor",
    "maxcor": "alias of m (scipy.optimize.minimize's name)",
    "ftol": "stop when one iteration reduces the sum of squares by a relative amount <= ftol "
            "(default 1e-13); alias factr = ftol / machine epsilon",
    "factr": "fmin_l_bfgs_b's spelling of ftol, in units of machine epsilon (ftol = factr * 2.2e-16)",
    "gtol": "stop when |cos| of the angle between the residual and every Jacobian column not "
            "blocked by a bound is <= gtol (MINPACK's gtol; default 1e-10, 0 turns it off); alias pgtol",
    "pgtol": "fmin_l_bfgs_b's spelling of gtol",
    "maxfun": "most evaluations of sum of squares and gradient (default 15000); each costs one residual "
              "evaluation plus nvarys more when the Jacobian is differenced",
    "maxiter": "most L-BFGS-B iterations (default 15000)",
    "maxls": "most line-search steps per iteration (default 20)",
    "epsilon": "absolute finite-difference step(s) for the Jacobian, a number or one per varied "
               "parameter (default: relative steps sqrt(eps)*|x|); ignored when Dfun is given; alias eps",
    "eps": "alias of epsilon (scipy.optimize.minimize's name)",
    "blas_threads": "BLAS threads while L-BFGS-B runs (default 1: its m-by-m algebra is too small for "
                    "threads, which only cost hand-offs; None leaves the BLAS setting alone)",
    "iprint": "accepted for compatibility and ignored (SciPy's L-BFGS-B no longer prints)",
    "disp": "accepted for compatibility and ignored (SciPy's L-BFGS-B no longer prints)",
}

# (engine name, alternative name, factor: engine value = factor * alternative value)
_ALIASES: Tuple[Tuple[str, str, float], ...] = (
    ("m", "maxcor", 1.0),
    ("ftol", "factr", _EPS),
    ("gtol", "pgtol", 1.0),
    ("epsilon", "eps", 1.0),
)
_POSITIVE_INTEGERS = ("m", "maxfun", "maxiter", "maxls")


def _option_error(message: str) -> EngineOptionError:
    return EngineOptionError(f"engine 'lbfgsb': {message}")


def resolve_options(options: Mapping[str, Any], nvarys: int) -> Dict[str, Any]:
    """Check the user's options and return the full settings in the engine's own names.

    Unknown names, a name given together with its alias (``factr`` and
    ``ftol``), and values out of range raise :class:`EngineOptionError`
    naming the option.

    >>> resolve_options({"factr": 10.0}, 2)["ftol"] == 10.0 * 2.0 ** -52
    True
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise _option_error(
            f"unknown option(s) {', '.join(map(repr, unknown))}; valid options are "
            f"{', '.join(sorted(OPTIONS))} (see lmfit-host plugins, or the lmfit-host-lbfgsb README)")
    settings = dict(DEFAULTS)
    for name, alias, factor in _ALIASES:
        if name in options and alias in options:
            raise _option_error(
                f"options {name!r} and {alias!r} set the same thing; pass only one of them")
        if alias in options:
            value = options[alias]
            settings[name] = value if factor == 1.0 or value is None else _to_float(alias, value) * factor
        elif name in options:
            settings[name] = options[name]
    for name in ("maxfun", "maxiter", "maxls"):
        if name in options:
            settings[name] = options[name]
    for name in _POSITIVE_INTEGERS:
        settings[name] = _to_positive_int(name, settings[name])
    for name, alias, _ in _ALIASES[1:3]:
        value = _to_float(f"{name}/{alias}", settings[name])
        if not value >= 0.0 or value == math.inf:
            raise _option_error(f"option {name!r} (or {alias!r}) must be a finite number >= 0, got {value!r}")
        settings[name] = value
    settings["epsilon"] = _check_epsilon(settings["epsilon"], nvarys)
    if "blas_threads" in options:
        threads = options["blas_threads"]
        settings["blas_threads"] = None if threads is None else _to_positive_int("blas_threads", threads)
    return settings


def _to_float(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _option_error(f"option {name!r} must be a number, got {value!r}") from None


def _to_positive_int(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float)) \
            or value != int(value) or int(value) < 1:
        raise _option_error(f"option {name!r} must be a positive whole number, got {value!r}")
    return int(value)


def _check_epsilon(value: Any, nvarys: int) -> Optional[np.ndarray]:
    if value is None:
        return None
    try:
        steps = np.array(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise _option_error(f"option 'epsilon' must be a number or one number per varied "
                            f"parameter, got {value!r}") from None
    if steps.size == 1:
        steps = np.full(nvarys, steps[0])
    if steps.size != nvarys:
        raise _option_error(f"option 'epsilon' holds {steps.size} steps but {nvarys} parameters "
                            f"are varied; pass one number, or one per varied parameter")
    if not np.all(np.isfinite(steps) & (steps > 0.0)):
        raise _option_error(f"option 'epsilon' must hold finite steps > 0, got {value!r}")
    return steps


class LbfgsbEngine:
    """L-BFGS-B on the sum of squares, with parameter bounds as native box constraints.

    >>> import numpy as np
    >>> from lmfit_host import FitProblem
    >>> x = np.linspace(0, 1, 11)
    >>> problem = FitProblem(["a"], [0.0], [-np.inf], [np.inf], lambda p: p[0] * x - 2 * x, 11)
    >>> round(float(LbfgsbEngine().run(problem).x[0]), 9)
    2.0
    """

    name = "lbfgsb"
    description = ("L-BFGS-B quasi-Newton (SciPy) on the sum of squares, parameter bounds as native "
                   "box constraints, gradient 2 J^T r from the residual's Jacobian.")
    options = OPTIONS

    def run(self, problem: FitProblem, **options: Any) -> EngineResult:
        """Minimize the sum of squares of ``problem`` with L-BFGS-B; see the module docstring."""
        settings = resolve_options(options, problem.nvarys)
        # a bound that arrives as NaN (None on a Parameter) means no bound
        lower = np.where(np.isnan(problem.lower), -math.inf, problem.lower)
        upper = np.where(np.isnan(problem.upper), math.inf, problem.upper)
        x0 = np.clip(problem.x0, lower, upper)
        if problem.nvarys == 0:
            return EngineResult(x=x0, success=True, message="no parameter is varied: nothing to search",
                                codes=_codes(0, 0, 0.0, "", 0))

        search = _ScaledSearch(problem, _jacobian_function(problem, settings["epsilon"]),
                               settings["gtol"], lower, upper)
        # measure the start once: the scaling and SciPy's first request both use it
        chisqr0 = search.start(x0)
        if chisqr0 == 0.0:
            return EngineResult(x=x0, success=True, message="the start point fits the data exactly "
                                "(sum of squares 0)", codes=_codes(0, 0, 0.0, "", 0))
        if not chisqr0 < math.inf:
            values = ", ".join(f"{n}={v:.6g}" for n, v in zip(problem.names, x0))
            raise ProblemError(f"engine 'lbfgsb' cannot start: the sum of squares at the start "
                               f"point ({values}) is not finite; change the start values or "
                               f"bounds so the model is defined there")

        iterations = calls = restarts = 0
        warnflag, scipy_message = 0, ""
        counted = [0]

        def count_iteration(*_: Any) -> None:
            counted[0] += 1

        try:
            if search.gradient_is_small():
                raise _GradientConverged()
            while True:
                scipy_options = {
                    "maxcor": settings["m"],
                    "ftol": settings["ftol"],
                    # the gradient test is the engine's own (free of units); SciPy's would
                    # compare gradients with distances to the bounds in the scaled units
                    "gtol": 0.0,
                    "maxfun": settings["maxfun"] - calls,
                    "maxiter": settings["maxiter"] - iterations,
                    "maxls": settings["maxls"],
                }
                value_before = search.best_value
                scale = search.scale
                counted[0] = 0
                with warnings.catch_warnings(), _blas_threads(settings["blas_threads"]):
                    # infinite values are stepped back from; SciPy's warnings about them add nothing
                    warnings.simplefilter("ignore", RuntimeWarning)
                    found = _scipy_minimize(search, search.restart_point(), jac=True,
                                            method="L-BFGS-B",
                                            bounds=list(zip(lower / scale, upper / scale)),
                                            options=scipy_options, callback=count_iteration)
                iterations += int(found.nit)
                calls += int(found.nfev)
                warnflag, scipy_message = int(found.status), str(found.message)
                if search.best_value == 0.0:
                    warnflag, scipy_message = 0, "the residual vanishes: an exact fit"
                    break
                if warnflag == 1 or restarts >= MAX_RESTARTS or calls >= settings["maxfun"] \
                        or iterations >= settings["maxiter"]:
                    break
                # L-BFGS-B may stop on a tiny step (often a bound in the way) far from a
                # stationary point, or by a reduction test that S_ref made absolute (far below
                # S_ref); a fresh start from the best point, measured anew, settles both
                stalled = search.best_cosine > (RESTART_COSINE if warnflag == 0 else ROUNDING_COSINE)
                loose = search.best_value < LOOSE_FRACTION * search.objective_ref
                improved = search.best_value < value_before * (1.0 - settings["ftol"])
                if not ((stalled or loose) and improved):
                    break
                restarts += 1
                search.rescale_at_best()
            if warnflag == 2 and search.best_cosine <= ROUNDING_COSINE:
                # the line search found no lower point at a point where the gradient
                # vanishes to rounding: that is the minimum, as well as it can be resolved
                warnflag = 0
                message = (f"L-BFGS-B converged: no lower point to rounding accuracy, where the "
                           f"residual is orthogonal to every free Jacobian column to within "
                           f"{search.best_cosine:.1g} ({scipy_message})")
            else:
                message = _explain(scipy_message, warnflag)
        except _GradientConverged:
            iterations += counted[0]
            warnflag = 0
            scipy_message = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
            message = ("L-BFGS-B converged: the residual vanishes (an exact fit)"
                       if search.best_value == 0.0 else
                       f"L-BFGS-B converged: the residual is orthogonal to every free Jacobian "
                       f"column to within gtol={settings['gtol']:g}")
        if restarts:
            message += f" (after {restarts} restart{'s' if restarts > 1 else ''} from the best point)"

        x = np.clip(search.best_x, lower, upper)
        grad_norm = _projected_norm(2.0 * search.best_jtr, x, lower, upper)
        jacobian = problem.jacobian(x) if problem.has_jacobian else None
        return EngineResult(x=x, success=warnflag == 0, message=message,
                            codes=_codes(iterations, warnflag, grad_norm, scipy_message, restarts),
                            jacobian=jacobian)


class _GradientConverged(Exception):
    """Raised inside SciPy's loop when the engine's own gradient test passes."""


class _ScaledSearch:
    """The rescaled problem SciPy sees: value and gradient of S(d*z) / S_ref, in one call.

    Keeps the best point SciPy asked about (the last iterate, normally), its
    gradient, the norms of its Jacobian columns and its largest cosine
    between the residual and a column that the bounds do not block
    (MINPACK's ``gtol`` measure); a cosine at or below ``gtol`` stops the
    search.
    """

    def __init__(self, problem: FitProblem, jacobian_at, gtol: float, lower: np.ndarray,
                 upper: np.ndarray) -> None:
        self.problem = problem
        self.jacobian_at = jacobian_at
        self.gtol = gtol
        self.bounded = bool(np.isfinite(lower).any() or np.isfinite(upper).any())
        self.lower, self.upper = lower, upper
        self.best_value = math.inf
        self.best_cosine = math.inf
        self.best_x = problem.x0.copy()
        self.best_jtr = np.zeros(problem.nvarys)
        self.best_column_norms = np.zeros(problem.nvarys)
        self._cached = False

    def start(self, x0: np.ndarray) -> float:
        """Measure ``x0`` and choose the scales; returns the sum of squares there."""
        problem = self.problem
        r0 = problem.residual(x0)
        chisqr0 = float(r0.dot(r0))
        if chisqr0 == 0.0 or not chisqr0 < math.inf:
            return chisqr0
        jacobian0 = np.asarray(self.jacobian_at(x0, r0), dtype=float)
        self._keep(x0, chisqr0, jacobian0, jacobian0.T.dot(r0))
        self._set_scales(_linearized_minimum(r0, chisqr0, jacobian0))
        return chisqr0

    def rescale_at_best(self) -> None:
        """New units from the best point (for a restart): S_ref = S there, columns there."""
        self._set_scales(self.best_value)

    def _set_scales(self, reference: float) -> None:
        self.scale, self.objective_ref = _scales(self.best_x, self.best_value,
                                                 self.best_column_norms, reference)
        self.inverse_ref = 1.0 / self.objective_ref
        self.gradient_factor = self.scale * (2.0 * self.inverse_ref)

    def restart_point(self) -> np.ndarray:
        """The best point in the current units; SciPy's first request there is answered from memory."""
        self.best_z = self.best_x / self.scale
        self._cached = True
        return self.best_z.copy()

    def gradient_is_small(self) -> bool:
        """True when the engine's gradient test passes at the best point."""
        return self.best_cosine <= self.gtol

    def __call__(self, z: np.ndarray) -> Tuple[float, np.ndarray]:
        if self._cached:
            self._cached = False
            if np.array_equal(z, self.best_z):
                return self.best_value * self.inverse_ref, self.best_jtr * self.gradient_factor
        x = z * self.scale
        r = self.problem.residual(x)
        chisqr = float(r.dot(r))
        if not chisqr < math.inf:
            # NaN or overflow (nan_policy='propagate'): a value above the best with a flat
            # gradient makes the line search step back; an infinite one would derail it
            return 4.0 * self.best_value * self.inverse_ref + 1.0, np.zeros_like(z)
        jacobian = self.jacobian_at(x, r)
        jtr = jacobian.T.dot(r)
        if chisqr < self.best_value:
            self._keep(x, chisqr, jacobian, jtr)
            if self.best_cosine <= self.gtol:
                raise _GradientConverged()
        return chisqr * self.inverse_ref, jtr * self.gradient_factor

    def _keep(self, x: np.ndarray, chisqr: float, jacobian: np.ndarray, jtr: np.ndarray) -> None:
        self.best_value = chisqr
        self.best_x = np.array(x, dtype=float)
        self.best_jtr = jtr
        column_norms = np.sqrt(np.einsum("ij,ij->j", jacobian, jacobian))
        self.best_column_norms = column_norms
        with np.errstate(divide="ignore", invalid="ignore"):
            cosines = np.abs(jtr) / (column_norms * math.sqrt(chisqr))
        cosines = np.where(column_norms > 0.0, cosines, 0.0)
        if self.bounded:
            blocked = ((x <= self.lower) & (jtr > 0.0)) | ((x >= self.upper) & (jtr < 0.0))
            cosines = np.where(blocked, 0.0, cosines)
        # an exact fit (chisqr 0) is as stationary as it gets
        self.best_cosine = 0.0 if chisqr == 0.0 else float(np.nan_to_num(cosines.max(), nan=math.inf))


_THREADPOOLS: list = []


def _blas_threads(threads: Optional[int]) -> ContextManager[Any]:
    """Limit the BLAS thread count while L-BFGS-B runs (a no-op without threadpoolctl).

    Each L-BFGS-B iteration calls BLAS/LAPACK on tiny m-by-m matrices; with
    several BLAS threads every call pays a thread hand-off, and on a busy
    machine (parallel fits in several processes, say) an iteration measured
    18 ms instead of 80 us.
    """
    if threads is None:
        return contextlib.nullcontext()
    if not _THREADPOOLS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional: without it, BLAS keeps its own setting
            _THREADPOOLS.append(None)
        else:
            # built once (it scans the loaded libraries), after SciPy's BLAS is loaded
            _THREADPOOLS.append(ThreadpoolController())
    controller = _THREADPOOLS[0]
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=threads, user_api="blas")


def _codes(nit: int, warnflag: int, grad_norm: float, scipy_message: str,
           restarts: int) -> Dict[str, Any]:
    return {"nit": nit, "warnflag": warnflag, "status": warnflag, "grad_norm": grad_norm,
            "lbfgsb_message": scipy_message, "restarts": restarts}


def _jacobian_function(problem: FitProblem, epsilon: Optional[np.ndarray]):
    """Pick, once per fit, how the Jacobian at (x, r(x)) is computed."""
    if problem.has_jacobian:
        return lambda x, r: problem.jacobian(x)
    if epsilon is None:
        return problem.difference_jacobian
    upper = problem.upper

    def differenced(x: np.ndarray, r: np.ndarray) -> np.ndarray:
        jac = np.empty((r.size, x.size))
        for j in range(x.size):
            step = epsilon[j]
            if x[j] + step > upper[j]:  # step away from a bound rather than across it
                step = -step
            shifted = x.copy()
            shifted[j] += step
            jac[:, j] = (problem.residual(shifted) - r) / (shifted[j] - x[j])
        return jac

    return differenced


def _linearized_minimum(r0: np.ndarray, chisqr0: float, jacobian0: np.ndarray) -> float:
    """Sum of squares at the minimum of the linearized model at x0 (Gauss-Newton's forecast)."""
    with np.errstate(all="ignore"):
        try:
            step = np.linalg.lstsq(jacobian0, r0, rcond=None)[0]
        except (np.linalg.LinAlgError, ValueError):
            return chisqr0
        left = r0 - jacobian0.dot(step)
        forecast = float(left.dot(left))
    return forecast if forecast < chisqr0 else chisqr0


def _scales(x: np.ndarray, chisqr: float, column_norms: np.ndarray,
            reference: float) -> Tuple[np.ndarray, float]:
    """Parameter units and objective reference S_ref for a well-conditioned search (module docstring).

    ``x``, ``chisqr`` and ``column_norms`` describe the point where the units
    are measured; ``reference`` is the sum of squares one expects to end
    near (kept between OBJECTIVE_FLOOR * chisqr and chisqr).
    """
    objective_ref = min(max(reference, OBJECTIVE_FLOOR * chisqr), chisqr)
    # a unit step moves the residual by sqrt(S_ref), and a parameter by at most this share
    # of its own size: the residual may barely feel a parameter at x (a first step far
    # beyond its size would land in overflow, often)
    size_cap = math.sqrt(objective_ref / chisqr) * np.maximum(np.abs(x), 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw = math.sqrt(objective_ref) / column_norms
    usable = np.isfinite(raw) & (raw > 0.0)
    raw = np.minimum(np.where(usable, raw, size_cap), size_cap)
    # powers of two: z * scale and x / scale are exact, so bounds and x survive the round trip
    return np.exp2(np.round(np.log2(raw))), objective_ref


def _projected_norm(gradient: np.ndarray, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Largest component of the gradient that the bounds do not block (L-BFGS-B's measure)."""
    projected = np.where((x <= lower) & (gradient > 0.0), 0.0, gradient)
    projected = np.where((x >= upper) & (projected < 0.0), 0.0, projected)
    return float(np.max(np.abs(projected))) if projected.size else 0.0


def _explain(scipy_message: str, warnflag: int) -> str:
    if warnflag == 0:
        return f"L-BFGS-B converged: {scipy_message}"
    if warnflag == 1:
        return (f"L-BFGS-B stopped at its limit ({scipy_message}); raise maxfun or maxiter, "
                f"or start closer to the solution")
    return (f"L-BFGS-B stopped without meeting its tests ({scipy_message}); the sum of squares "
            f"may be at rounding level (loosen ftol/gtol) or the model's gradient may be "
            f"inconsistent (check Dfun)")
