"""Minimizer, minimize and MinimizerResult: run any installed engine over Parameters.

The Minimizer turns a residual function over named Parameters into a
:class:`~lmfit_host.FitProblem` over the varied values, hands it to the
engine the user named, and turns what the engine found back into
Parameters with values, standard errors and correlations, plus the fit
statistics. The user's Parameters are only written after a fit that ran:
a fit that fails on bad input leaves them exactly as they were.

>>> import numpy as np
>>> from lmfit_host import Parameters, minimize
>>> x = np.linspace(0, 10, 101)
>>> data = 3.0 * np.exp(-x / 2.5)
>>> params = Parameters()
>>> params.add('amp', value=1.0)
>>> params.add('tau', value=1.0, min=0)
>>> def residual(params, x, data):
...     return params['amp'] * np.exp(-x / params['tau']) - data
>>> result = minimize(residual, params, args=(x, data))   # doctest: +SKIP
>>> round(params['tau'].value, 6)                          # doctest: +SKIP
2.5
"""

from __future__ import annotations

import math
import numbers
import pickle
import time
import weakref
from functools import lru_cache
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, cast

import numpy as np

from . import plugins
from .covariance import estimate_covariance, fit_statistics, is_at_bound, propagate
from .errors import (ExpressionError, ExpressionRuntimeError, FitAborted, FitError,
                     LmfitHostError, ParameterError, user_failure)
from .expr import Interpreter, _PendingCopy
from .parameter import _STATE_KEYS, CorrelationRow, Parameters, _noop
from .problem import ConstraintFailure, EngineResult, FitProblem, values_text

__all__ = ["Minimizer", "MinimizerResult", "minimize"]

NAN_POLICIES = ("raise", "propagate", "omit")

ResidualFunction = Callable[..., Any]
IterCallback = Callable[..., Optional[bool]]


#: Relative step of the forward differences of expression parameters.
_SQRT_EPS = math.sqrt(float(np.finfo(float).eps))


class _Correlations:
    """The correlation matrix ``C_ij / (s_i s_j)`` of a covariance, formed on first read.

    Indexed like the matrix (what :class:`CorrelationRow` reads); loops of
    many fits mostly never read a correlation.
    """

    __slots__ = ("_covar", "_errors", "_matrix")

    def __init__(self, covar: np.ndarray, errors: np.ndarray) -> None:
        self._covar = covar.copy()  # result.covar is the user's to change
        self._errors = errors
        self._matrix: Optional[np.ndarray] = None

    def __getitem__(self, key: Any) -> Any:
        matrix = self._matrix
        if matrix is None:
            errors = self._errors
            with np.errstate(divide="ignore", invalid="ignore"):
                matrix = self._covar / errors[:, None] / errors
            self._matrix = matrix
        return matrix[key]


class _Snapshot:
    """A fit on the user's own Parameters, frozen at its end and made into Parameters on demand.

    Each parameter's full state (value, bounds, vary, expression, errors) and
    the namespace the values were computed in are taken when the fit ends,
    so later changes to the user's Parameters do not reach the result;
    building the Parameters object is left to the first read of
    ``result.params``, since most loops over many fits never read it (and
    its interpreter waits until something needs it). Pickled, a snapshot is
    the Parameters it stands for.
    """

    def __init__(self, params: Parameters) -> None:
        self.source = params
        params._refresh_if_possible()
        symtable = params._symtable
        # each parameter's attributes and value: cheap to take, cloned when read
        self.states: List[Any] = [(name, par.__dict__.copy()) for name, par in dict.items(params)]
        self.values = {name: symtable.get(name) for name in params}
        # every computed value current (and real): the copy need not compute them again
        self.current = not params._stale and not params._failures
        self.namespace: Optional[Any] = params._copied_namespace()

    def materialize(self) -> Parameters:
        namespace = self.namespace
        if namespace is None:
            return self._materialize_saved()
        namespace = namespace.copy()  # each Parameters made has a namespace of its own
        table = namespace.table if isinstance(namespace, _PendingCopy) else namespace.symtable
        for name in self.values:
            table.pop(name, None)
        params = Parameters(interpreter=namespace)
        params._add_clones(self.states, self.values)
        if self.current:
            params._stale = False
        return params

    def __reduce__(self) -> Tuple[Any, ...]:
        return _as_is, (self.materialize(),)

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        # only snapshots pickled by lmfit-host 0.3.2 and earlier arrive here: each state a
        # tuple in _STATE_KEYS order, the namespace copied from the source when read
        self.__dict__.update(state)
        self.namespace = None
        self.current = False

    def _materialize_saved(self) -> Parameters:
        interpreter = self.source.interpreter.copy()
        for name in set(self.values) | set(self.source):
            interpreter.symtable.pop(name, None)
        params = Parameters(interpreter=interpreter)
        params.__setstate__({"params": [dict(zip(_STATE_KEYS, state))
                                        for state in self.states]})
        return params


def _as_is(value: Any) -> Any:
    """What a pickled snapshot is made again from: the Parameters it stood for."""
    return value


class MinimizerResult:
    """Everything a fit found: best values, errors, statistics and how the engine stopped.

    Attributes
    ----------
    params : Parameters
        A copy of the Parameters at the best fit, with ``stderr`` and ``correl``.
    var_names : list of str
        Names of the varied parameters, the order of ``covar`` and ``init_vals``.
    init_values : dict
        Start value of each varied parameter (``init_vals``: the same as a list).
    covar : ndarray or None
        Covariance matrix of the varied parameters (scaled by ``redchi``
        unless ``scale_covar=False``).
    errorbars : bool
        True when standard errors were estimated; else ``errorbars_reason`` says why.
    nfev : int
        Number of evaluations of the residual function by the fit (the
        engine's search and its own checks). The evaluations after it that
        estimate the error bars where the engine hands over no Jacobian (up
        to ``2 * nvarys`` for central differences, plus the few that derive
        the expressions' errors) are not counted, as ``max_nfev`` does not
        count them either.
    success : bool
        The engine's own convergence test passed (False when aborted).
    aborted : bool
        The fit was stopped early (``iter_cb``, ``max_nfev``); ``params`` hold the
        best values seen.
    message : str
        Why the engine stopped.
    nvarys, ndata, nfree : int
        Varied parameters, residual length, and their difference.
    residual : ndarray
        The residual at the best fit.
    chisqr, redchi, aic, bic : float
        Goodness of fit.
    engine, method : str
        The engine's name (``method`` is lmfit 1.x's word); ``engine_version``
        its distribution's version.
    elapsed : float
        Wall time of the fit in seconds.

    Engine-specific codes (``ier`` and ``lmdif_message`` for leastsq, ...)
    are attributes too. ``result.refit()`` runs the same fit again from the
    best values.
    """

    var_names: List[str]
    init_values: Dict[str, float]
    covar: Optional[np.ndarray]
    errorbars: bool
    errorbars_reason: str
    nfev: int
    success: bool
    aborted: bool
    message: str
    nvarys: int
    ndata: int
    nfree: int
    residual: np.ndarray
    chisqr: float
    redchi: float
    aic: float
    bic: float
    engine: str
    engine_distribution: Optional[str]
    engine_version: Optional[str]
    elapsed: float
    scale_covar: bool
    nan_policy: str
    best_values: Dict[str, float]

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)

    @property
    def params(self) -> Parameters:  # type: ignore[override]
        """A copy of the Parameters at the best fit, with ``stderr`` and ``correl``."""
        params = self.__dict__["_params"]
        if isinstance(params, _Snapshot):
            params = self.__dict__["_params"] = params.materialize()
        return params

    @params.setter
    def params(self, value: Parameters) -> None:
        self.__dict__["_params"] = value

    @property
    def init_vals(self) -> List[float]:
        """Start values of the varied parameters as a list (lmfit 1.x)."""
        return [self.init_values[name] for name in self.var_names]

    @property
    def method(self) -> str:
        """The engine's name, as lmfit 1.x calls it."""
        return self.engine

    def refit(self, engine: Optional[str] = None, **options: Any) -> "MinimizerResult":
        """Run the fit again, starting from this result's best values.

        Returns a new result; ``engine`` defaults to the same engine, and
        ``options`` to the same engine options.
        """
        minimizer: Minimizer = self.__dict__["minimizer"]
        if not options:
            options = dict(self.__dict__.get("engine_options", {}))
        return minimizer.minimize(engine or self.engine, params=self.params, **options)

    def fit_report(self, **kws: Any) -> str:
        """The text report of this fit (see :func:`lmfit_host.fit_report`)."""
        from .report import fit_report

        return fit_report(self, **kws)

    def _repr_html_(self) -> str:
        from .report import fit_report_html

        return fit_report_html(self)

    def __repr__(self) -> str:
        state = "aborted" if self.aborted else ("success" if self.success else "not converged")
        return (f"<MinimizerResult engine={self.engine!r} {state}, nfev={self.nfev}, "
                f"chisqr={self.chisqr:.6g}, nvarys={self.nvarys}>")


def _residual_converter(sample: Any, fcn_name: str) -> Tuple[Callable[[Any], np.ndarray], int]:
    """Decide once, from the first output, how to turn the user's output into a float vector."""
    if sample is None:
        raise FitError(f"the residual function {fcn_name} returned None (a missing return "
                       f"statement?); it must return an array of residuals, one per data point "
                       f"(e.g. return model - data)")
    array = np.asarray(sample)
    if array.ndim == 0:
        raise FitError(f"the residual function {fcn_name} returned a scalar ({sample!r}); it "
                       f"must return an array of residuals, one per data point (e.g. model - "
                       f"data)")
    if np.iscomplexobj(array):
        def convert(out: Any) -> np.ndarray:
            flat = np.asarray(out, dtype=complex).ravel()
            return np.concatenate((flat.real, flat.imag))
    elif array.dtype.kind in "biuf":
        def convert(out: Any) -> np.ndarray:
            if type(out) is np.ndarray and out.dtype == np.float64:
                return out if out.ndim == 1 else out.ravel()
            return np.asarray(out, dtype=float).ravel()
    else:
        raise FitError(f"the residual function {fcn_name} returned values of type "
                       f"{array.dtype} ({array.ravel()[:3]!r}...); it must return numbers")
    first = convert(sample)
    if first.size == 0:
        raise FitError(f"the residual function {fcn_name} returned an empty array")
    return convert, first.size


_ABSENT = object()


class _Fit:
    """One prepared fit: the working Parameters, the residual closure and the problem."""

    def __init__(self, minimizer: "Minimizer", source: Parameters, dfun: Optional[Callable],
                 col_deriv: bool, max_nfev: Optional[int] = None) -> None:
        self.source = source
        self.direct = minimizer._single_use and source is minimizer.params
        if self.direct:
            # minimize(): the residual receives the user's own Parameters, as in
            # the seed; minimize() restores their values if the fit fails
            self.work = source
        else:
            interpreter = minimizer.asteval.copy()
            minimizer._hide_departed(interpreter, source)
            self.work = source.with_interpreter(interpreter)
        work = self.work
        work.check_ready_for_fit()  # also evaluates every constraint once
        # one pass over the set (values are current: the check above refreshed them)
        names: List[str] = []
        expr_names: List[str] = []
        start: List[float] = []
        low: List[float] = []
        high: List[float] = []
        symtable = work._symtable
        for name, param in dict.items(work):
            if param._expr is not None:
                expr_names.append(name)
            elif param._vary:
                names.append(name)
                start.append(symtable[name])
                low.append(param._min)
                high.append(param._max)
        if not names:
            raise ParameterError("no parameter is varied: set vary=True on at least one "
                                 "parameter without an expression")
        self.names = names
        self.expr_names = expr_names
        x0 = np.array(start, dtype=float)
        self.init_values = dict(zip(names, x0.tolist()))

        fcn = minimizer.userfcn
        args = minimizer.userargs
        kws = minimizer.userkws
        fcn_name = getattr(fcn, "__name__", None) or repr(fcn)
        set_values = work._set_values_fast
        self.set_values = set_values

        def failed(exc: Exception, x: np.ndarray) -> FitError:
            values = values_text(names, x)
            return user_failure(exc, f"the residual function {fcn_name} raised "
                                     f"{type(exc).__name__}: {exc} (with {values})")

        def call_user(x: np.ndarray) -> Any:
            # Python floats: user arithmetic on them beats numpy scalars
            set_values(names, x.tolist())
            try:
                return fcn(work, *args, **kws)
            except LmfitHostError:
                raise
            except Exception as exc:
                raise failed(exc, x) from exc

        first = call_user(x0)
        convert, ndata = _residual_converter(first, fcn_name)
        start_residual = convert(first)
        omit = minimizer.nan_policy == "omit"
        if omit:
            start_residual = start_residual[np.isfinite(start_residual)]
            ndata = int(start_residual.size)
            if ndata == 0:
                raise FitError(f"the residual function {fcn_name} returned no finite value at "
                               f"the start values")
        elif minimizer.nan_policy == "raise" and not math.isfinite(
                float(start_residual.dot(start_residual))) \
                and not np.isfinite(start_residual).all():
            not_finite = ~np.isfinite(start_residual)
            bad, first = int(not_finite.sum()), int(np.argmax(not_finite))
            error = FitError(f"the residual function {fcn_name} returns {bad} NaN or infinite "
                             f"value(s) at the start values (the first at index {first}), "
                             f"before any fitting; check the data and the start values (NaN "
                             f"in the data: pass nan_policy='omit' to leave those points out; "
                             f"NaN from the model: bound the parameters, with min and max, to "
                             f"where it is finite)")
            error.index = first  # type: ignore[attr-defined]  # the CLI names the data line
            raise error

        def wrong_length(r: np.ndarray) -> FitError:
            return FitError(f"the residual function {fcn_name} returned {r.shape[0]} values "
                            f"after returning {ndata}; its length must not change during a fit"
                            + (" (nan_policy='omit' dropped a different number of NaNs: it "
                               "leaves out points where the residual is NaN throughout, such "
                               "as missing data; NaN that come and go with the parameters "
                               "mean the model leaves its domain: bound the parameters, with "
                               "min and max, to where it is finite)" if omit else ""))

        ndarray, float64 = np.ndarray, np.dtype(float)

        store = _value_setter(tuple(names))
        no_constraints = _noop
        recent: List[Any] = [first, None, False]  # the last two outputs; reuse seen

        def residual(x: np.ndarray) -> np.ndarray:
            # the hot path: set_values, call_user and convert inlined, a float vector
            # passes untouched
            store(symtable, x.tolist())
            runner = work._runner
            if runner is not no_constraints:
                try:
                    (runner or work._rebuild())()
                except ExpressionRuntimeError as exc:
                    # a constraint outside its domain here: FitProblem decides (a refused
                    # trial step, or the error with the values)
                    raise ConstraintFailure(exc) from None
            work._stale = False
            try:
                out = fcn(work, *args, **kws)
            except LmfitHostError:
                raise
            except Exception as exc:
                raise failed(exc, x) from exc
            if type(out) is ndarray and out.dtype is float64 and out.ndim == 1:
                r = out
            else:
                r = convert(out)
            # Engines may keep residual vectors (to read a Jacobian back, say). A
            # function that fills and returns the same array each time would change
            # them under the engine: once seen, every output is copied.
            if out is recent[0] or out is recent[1] or recent[2]:
                recent[2] = True
                r = np.array(r)
            else:
                recent[0], recent[1] = out, recent[0]
            if omit:
                r = r[np.isfinite(r)]
            if r.shape[0] != ndata:
                raise wrong_length(r)
            return r

        self.residual = residual
        self.ndata = ndata

        jacobian = None
        if dfun is not None:
            dfun_name = getattr(dfun, "__name__", repr(dfun))

            def jacobian(x: np.ndarray) -> np.ndarray:
                set_values(names, x.tolist())
                try:
                    out = np.asarray(dfun(work, *args, **kws), dtype=float)
                except LmfitHostError:
                    raise
                except Exception as exc:
                    values = values_text(names, x)
                    raise user_failure(exc, f"the Jacobian function {dfun_name} raised "
                                            f"{type(exc).__name__}: {exc} (with {values})"
                                       ) from exc
                if col_deriv:
                    out = out.T
                if out.shape != (ndata, len(names)):
                    raise FitError(f"the Jacobian function {getattr(dfun, '__name__', dfun)} "
                                   f"returned shape {out.shape}; expected ({ndata}, {len(names)}) "
                                   f"(or ({len(names)}, {ndata}) with col_deriv=True)")
                return out

        callback = None
        iter_cb = minimizer.iter_cb
        if iter_cb is not None:
            cb_name = getattr(iter_cb, "__name__", repr(iter_cb))

            def callback(x: np.ndarray, r: np.ndarray, nfev: int) -> bool:
                try:
                    return bool(iter_cb(work, nfev, r, *args, **kws))
                except LmfitHostError:
                    raise
                except Exception as exc:
                    raise user_failure(exc, f"the iteration callback {cb_name} raised "
                                            f"{type(exc).__name__}: {exc} at evaluation {nfev}"
                                       ) from exc

        self.problem = FitProblem(names, start, low, high, residual, ndata, jacobian=jacobian,
                                  max_nfev=minimizer.max_nfev if max_nfev is None else max_nfev,
                                  callback=callback,
                                  nan_policy=minimizer.nan_policy,
                                  start_residual=start_residual)

    def finish(self, minimizer: "Minimizer", engine_name: str, outcome: Optional[EngineResult],
               aborted: Optional[str], started: float, options: Mapping[str, Any]
               ) -> MinimizerResult:
        problem = self.problem
        names = self.names
        work = self.work
        if outcome is None:
            x = problem.best_x
        else:
            x = np.asarray(outcome.x, dtype=float).reshape(len(names))
        nfev = problem.nfev
        if problem.best_residual is not None and x.tolist() == problem.best_x.tolist():
            r = problem.best_residual
        else:
            try:
                r = self.residual(x)  # the engine's answer, evaluated again: not counted
            except ConstraintFailure as failure:
                # an engine's answer where a constraint is undefined: the expression's error
                raise problem._explain(failure.error, x,
                                       f"at the point engine {engine_name!r} returned"
                                       ) from failure.error.__cause__
        stats = fit_statistics(r, len(names))

        covar = None
        reason = ""
        # parameters that ended at a bound are held there for the error bars of the others
        pinned: Tuple[str, ...] = ()
        free: Sequence[str] = names
        if not minimizer.calc_covar:
            reason = "the covariance was not requested (calc_covar=False)"
        elif stats.nfree <= 0:
            reason = (f"too few data points: {stats.ndata} residuals for {len(names)} varied "
                      f"parameters leave no degree of freedom")
        elif problem.has_bounds and \
                len(pinned := is_at_bound(x, problem.lower, problem.upper, names)) == len(names) \
                and _on_bounds(x, problem.lower, problem.upper).all():
            reason = _at_bounds_reason(pinned)
        else:
            jac = inverse = None
            if outcome is not None:
                jac, inverse = outcome.jacobian, outcome.normal_inverse
            if jac is None:
                # not counted in nfev: the fit's budget (max_nfev) is about the search
                jac = problem.difference_jacobian(x, central=True, residual=self.residual)
                inverse = None
            if pinned:
                pinned = _held_at_bounds(x, problem.lower, problem.upper, names, pinned, jac,
                                         stats, minimizer.scale_covar)
            if len(pinned) == len(names):
                reason = _at_bounds_reason(pinned)
                jac = None
            elif pinned:
                free = [name for name in names if name not in pinned]
                jac = np.asarray(jac)[:, [names.index(name) for name in free]]
                inverse = None
            if jac is not None:
                estimate = estimate_covariance(jac, free, stats, minimizer.scale_covar, inverse)
                covar, reason = estimate.matrix, estimate.reason
            # an engine working through the bounds transform sees no slope at a bound
            near = covar is None and problem.has_bounds and \
                is_at_bound(x, problem.lower, problem.upper, names, tolerance=1e-6)
            if near:
                reason = _at_bounds_reason(near)
            elif covar is not None and pinned:
                reason = (f"{pinned[0]} ended at a bound: it has no error bar, and the "
                          f"others' are estimated with it held there" if len(pinned) == 1 else
                          f"{', '.join(pinned)} ended at bounds: they have no error bars, and "
                          f"the others' are estimated with them held there")
        self.set_values(names, x.tolist())
        if self.expr_names and not work._computed_values_real():
            work._stale = True  # reading such a value reports it (see _computed_values_real)

        stderr: Dict[str, float] = {}
        correl: Dict[str, Mapping[str, float]] = {}
        if covar is not None:
            errors = np.sqrt(np.abs(covar.diagonal()))
            corr = _Correlations(covar, errors)
            # each parameter's row becomes a dict when first read: loops of many fits
            # mostly never read them
            shared = tuple(free)
            stderr.update(zip(free, errors.tolist()))
            for i, name in enumerate(free):
                correl[name] = CorrelationRow(shared, corr, i)
            if pinned:
                # over every varied parameter, as var_names lists them: the ones held at
                # a bound vary by nothing for the expressions, and are unknown to the user
                at = [names.index(name) for name in free]
                held = np.zeros((len(names), len(names)))
                held[np.ix_(at, at)] = covar
                covar = np.full_like(held, np.nan)
                covar[np.ix_(at, at)] = held[np.ix_(at, at)]
            else:
                held = covar
            if self.expr_names:
                stderr.update(self._expression_errors(x, held))

        for name, param in work.items():
            param.stderr = stderr.get(name)
            param.correl = correl.get(name)
        if self.direct:
            snapshot: Any = _Snapshot(work)
        else:
            self._write_back(x, stderr, correl)
            work._refresh_if_possible()  # a value that is not a number: None, as in the snapshot
            snapshot = work

        if aborted:
            message = (f"Fit aborted: {aborted}. The parameters hold the best values found in "
                       f"{nfev} evaluations.")
            success = False
            codes: Dict[str, Any] = {} if outcome is None else dict(outcome.codes)
        else:
            assert outcome is not None
            message, success, codes = outcome.message, bool(outcome.success), dict(outcome.codes)
            if not math.isfinite(stats.chisqr):
                success = False
                message = (f"Fit failed: the sum of squares at the end is not finite (NaN or "
                           f"infinity in the residual, let through by nan_policy='propagate'), "
                           f"so the values are not a fit. The engine reported: {message}")
        distribution, version = plugins.engine_source(engine_name)
        attributes: Dict[str, Any] = dict(codes)
        attributes.update(
            _params=snapshot, var_names=list(names), init_values=self.init_values, covar=covar,
            errorbars=covar is not None, errorbars_reason=reason, nfev=nfev, success=success,
            aborted=bool(aborted), message=message, nvarys=stats.nvarys, ndata=stats.ndata,
            nfree=stats.nfree, residual=r, chisqr=stats.chisqr, redchi=stats.redchi,
            aic=stats.aic, bic=stats.bic, engine=engine_name, engine_distribution=distribution,
            engine_version=version, elapsed=time.perf_counter() - started,
            scale_covar=minimizer.scale_covar, nan_policy=minimizer.nan_policy,
            engine_options=dict(options), minimizer=minimizer,
            best_values=dict(snapshot.values) if self.direct else
            {name: work._symtable.get(name) for name in work},
        )
        return MinimizerResult(**attributes)

    def _expression_errors(self, x: np.ndarray, covar: np.ndarray) -> Dict[str, float]:
        """Standard errors of expression parameters: gradients by forward differences.

        Each varied parameter is stepped once, and only the expressions that
        read it (directly or through other expressions) are evaluated again,
        in dependency order, clamped to their bounds (by one compiled block when
        none of them is bounded). Parameters that no expression reads together
        are stepped at the same time, as a group: each expression evaluated
        then sees exactly one step, so one pass gives the derivatives of every
        member (the grouping of sparse Jacobians by Curtis, Powell and Reid).
        The plan is worked out once per structure of the set (kept until an
        expression or a bound changes). Forward differences are accurate to
        about 1e-8 relative, far below what a standard error needs.
        """
        work, names, expr_names = self.work, self.names, self.expr_names
        plan = _gradient_plan(work, names)
        # the derivatives found, as (expression's row, parameter's column, value)
        at_rows: List[int] = []
        at_columns: List[int] = []
        slopes: List[float] = []
        symtable = work._symtable
        evaluate = work._interp.evaluate
        values = x.tolist()
        deltas = [0.0] * len(names)
        for members, affected, block, rows, columns in plan:
            starts = [(name, symtable[name]) for _, name in members]
            before = [symtable[step[0]] for step in affected]
            try:
                for j, name in members:
                    start = symtable[name]
                    stepped = start + _SQRT_EPS * (abs(values[j]) if values[j] != 0.0 else 1.0)
                    deltas[j] = stepped - start  # the step as the floats hold it
                    symtable[name] = stepped
                if block is not None:
                    try:
                        block()
                    except ExpressionError:
                        block = None  # one fails at the stepped point: find which, below
                if block is not None:
                    slopes.extend([(_real(symtable[step[0]]) - old) / deltas[j]
                                   for step, old, j in zip(affected, before, columns)])
                else:
                    for (target, compiled, lower, upper, j), old in zip(affected, before):
                        # a value that is not real, or none at all (an expression at the
                        # edge of its domain), has no derivative here: NaN, and no
                        # standard error, for it and the expressions that read it
                        try:
                            value = _real(evaluate(compiled))
                        except ExpressionError:
                            value = math.nan
                        if value == value:
                            value = min(max(value, lower), upper)
                        symtable[target] = value
                        slopes.append((value - old) / deltas[j])
                at_rows.extend(rows)
                at_columns.extend(columns)
            finally:
                for name, start in starts:
                    symtable[name] = start
                for step, old in zip(affected, before):
                    symtable[step[0]] = old
        gradients = np.zeros((len(expr_names), len(names)))
        gradients[at_rows, at_columns] = slopes
        errors = propagate(gradients, covar).tolist()  # NaN rows give NaN, silently
        # an expression without a derivative somewhere gets no standard error (None)
        return {name: err for name, err in zip(expr_names, errors) if err == err}

    def _write_back(self, x: np.ndarray, stderr: Mapping[str, float],
                    correl: Mapping[str, Mapping[str, float]]) -> None:
        """Seed behaviour: the user's own Parameters hold the best fit afterwards."""
        source = self.source
        # functions the user gave this fit's interpreter must stay reachable
        # for the constraints of the Parameters that were fitted with them
        needed = set().union(*source._expression_names().values()) if self.expr_names else set()
        own = source.interpreter.symtable
        fitted = self.work.interpreter.symtable
        for name in needed:
            if name not in source and name in fitted and own.get(name) is not fitted[name]:
                own[name] = fitted[name]
        # the values as the fit left them, checked by the user's set itself
        symtable = self.work._symtable
        source._set_values_from_fit({name: symtable.get(name) for name in self.work})
        for name, param in source.items():
            param.stderr = stderr.get(name)
            # a CorrelationRow: each Parameter makes its own dict of it when read
            param.correl = correl.get(name)


#: A parameter within this many of its standard errors of a bound is held there for the
#: error bars of the others (see _held_at_bounds).
_HELD_WITHIN = 1e-3


def _at_bounds_reason(names: Sequence[str]) -> str:
    """Why there are no error bars when every parameter named ended at a bound."""
    return ("the parameter(s) " + ", ".join(names) + " ended at a bound, where the covariance "
            "does not describe the uncertainty; widen the bound or fix the parameter")


def _on_bounds(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Which values lie exactly on a bound."""
    return (x == lower) | (x == upper)


def _held_at_bounds(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, names: Sequence[str],
                    candidates: Sequence[str], jac: np.ndarray, stats: Any,
                    scale_covar: bool) -> Tuple[str, ...]:
    """The parameters among ``candidates`` (within 1e-12 of a bound, relatively, or
    absolutely below 1) that the bound holds: exactly on it, or closer to it than a
    thousandth of their standard error (a fit pressing a parameter against its bound
    leaves it far closer). A parameter that is merely small, a current of 4e-13 A above
    a bound at 0, is fitted like any other. Without a covariance of all parameters to
    judge by, every candidate is held.
    """
    on = _on_bounds(x, lower, upper)
    index = {name: i for i, name in enumerate(names)}
    if all(on[index[name]] for name in candidates):
        return tuple(candidates)
    estimate = estimate_covariance(jac, names, stats, scale_covar)
    if estimate.matrix is None:
        return tuple(candidates)
    errors = np.sqrt(np.abs(estimate.matrix.diagonal()))
    held = []
    for name in candidates:
        i = index[name]
        distance = min(abs(x[i] - lower[i]), abs(upper[i] - x[i]))
        if on[i] or not distance > _HELD_WITHIN * errors[i]:
            held.append(name)
    return tuple(held)


class _Group(NamedTuple):
    """Varied parameters stepped together (no expression reads two of them), for
    :meth:`_Fit._expression_errors`."""

    members: List[Tuple[int, str]]        # (index among the varied parameters, name)
    #: the expressions they reach, in dependency order: (target, compiled code, bounds,
    #: index of the one member it reads)
    steps: List[Tuple[str, Any, float, float, int]]
    block: Optional[Callable[[], None]]   # one compiled block computing them (_with_blocks)
    rows: List[int]                       # per step, its row among the expression parameters
    columns: List[int]                    # per step, its member's index


_Plan = List[_Group]


@lru_cache(maxsize=256)
def _value_setter(names: Tuple[str, ...]) -> Callable[[Dict[str, Any], List[float]], None]:
    """``store(table, values)`` writing ``values`` into ``table`` under ``names``.

    Generated once per tuple of names as one unpacking assignment
    (``table['a'], table['b'] = values``): the residual of every evaluation
    starts with it, and it takes half the time of ``table.update(zip(names,
    values))`` for a few names. The names enter the code as string literals.
    """
    targets = "".join(f"table[{name!r}], " for name in names)
    namespace: Dict[str, Any] = {}
    exec(f"def store(table, values):\n    {targets}= values\n", namespace)
    return namespace["store"]  # type: ignore[no-any-return]


def _gradient_plan(params: Parameters, names: Sequence[str]) -> _Plan:
    """The groups of varied parameters :meth:`_Fit._expression_errors` steps together, with
    the expressions each group reaches; cached on ``params`` until its structure changes.

    Greedy grouping: each parameter joins the first group none of whose
    expressions it reaches, else starts one; a parameter reaching only
    unbounded expressions joins only groups of such parameters, which keep
    their compiled block (see :func:`_with_blocks`). Parameters that reach no
    expression are left out.
    """
    runner = params._runner or params._rebuild()  # also sets the dependency order
    key = tuple(names)
    cached = params.__dict__.get("_gradient_plan")
    if cached is not None and cached[0] is runner and cached[1] == key:
        plan: _Plan = cached[2]
        if not cached[3]:
            # used again: worth compiling blocks (a fit on a fresh copy, as Minimizer and
            # Model.fit make, uses its plan once: compiling would cost more than it saves)
            plan = _with_blocks(params, plan)
            params.__dict__["_gradient_plan"] = (runner, key, plan, True)
        return plan
    reads = params._expression_names()
    order = params._order
    # a function of the user's own (defined in text, or put in the namespace) may read
    # parameters its caller does not name: such an expression counts as reading them all
    symtable = params._symtable
    own_functions = {name for name in params._interp.user_names()
                     if name not in params and callable(symtable[name])}
    varied = set(names)
    depends: Dict[str, set] = {}
    for target in order:  # each after the expressions it reads: one pass
        found: set = set(varied) if not own_functions.isdisjoint(reads[target]) else set()
        for used in reads[target]:
            found.add(used)
            found |= depends.get(used, set())
        depends[target] = found
    reached_by: Dict[str, List[str]] = {name: [] for name in names}
    for target in order:
        for used in depends[target]:
            if used in reached_by:
                reached_by[used].append(target)
    unbounded = {target for target in order
                 if dict.__getitem__(params, target)._min == -math.inf
                 and dict.__getitem__(params, target)._max == math.inf}
    owners: List[Dict[str, int]] = []         # per group: expression -> its member
    members: List[List[Tuple[int, str]]] = []
    kinds: List[bool] = []                    # per group: all its expressions unbounded
    claimed: Dict[str, List[int]] = {}        # expression -> the groups that reach it
    for j, name in enumerate(names):
        reached = reached_by[name]
        if not reached:
            continue
        kind = unbounded.issuperset(reached)
        if any(len(claimed.get(target, ())) == len(owners) for target in reached):
            group = len(owners)  # an expression every group reaches already: a new one
        else:
            taken = {group for target in reached for group in claimed.get(target, ())}
            group = 0
            while group < len(owners) and (group in taken or kinds[group] != kind):
                group += 1
        if group == len(owners):
            owners.append({})
            members.append([])
            kinds.append(kind)
        members[group].append((j, name))
        for target in reached:
            owners[group][target] = j
            claimed.setdefault(target, []).append(group)
    position = {target: i for i, target in enumerate(order)}
    # rows of the gradient matrix: the expression parameters in the set's order
    row_of = {name: i for i, name in enumerate(name for name, param in dict.items(params)
                                               if param._expr is not None)}
    plan = []
    for group_members, owner in zip(members, owners):
        steps = []
        for target in sorted(owner, key=position.__getitem__):
            param = dict.__getitem__(params, target)
            steps.append((target, param._compiled, param._min, param._max, owner[target]))
        plan.append(_Group(group_members, steps, None, [row_of[step[0]] for step in steps],
                           [step[4] for step in steps]))
    params.__dict__["_gradient_plan"] = (runner, key, plan, False)
    return plan


def _real(value: Any) -> float:
    """``value`` as a float when it is a real number, else NaN (complex, None, arrays)."""
    if type(value) is float:
        return value  # type: ignore[no-any-return]
    if isinstance(value, (numbers.Real, np.bool_)):
        return float(value)
    return math.nan


#: Most compiled blocks one gradient plan may add to the interpreter's shared cache.
_PLAN_BLOCKS = 64
#: Most expressions one gradient plan compiles into blocks: compiling costs about half a
#: millisecond per expression, which a block wins back only over many fits.
_PLAN_EXPRESSIONS = 256


def _with_blocks(params: Parameters, plan: _Plan) -> _Plan:
    """``plan`` with one compiled block per group whose expressions are all unbounded
    (no clamp between them: one block computes them, plain arithmetic natively,
    without an interpreter run each), while the blocks stay within ``_PLAN_BLOCKS``
    and ``_PLAN_EXPRESSIONS``; the groups beyond keep the one-by-one route."""
    compile_block = params._interp.compile_block
    blocks = expressions = 0
    planned: _Plan = []
    for group in plan:
        steps = group.steps
        if blocks < _PLAN_BLOCKS and expressions + len(steps) <= _PLAN_EXPRESSIONS and \
                all(lower == -math.inf and upper == math.inf for _, _, lower, upper, _ in steps):
            group = group._replace(block=compile_block([(target, compiled)
                                                        for target, compiled, _, _, _ in steps]))
            blocks += 1
            expressions += len(steps)
        planned.append(group)
    return planned


#: What lmfit 0.2's Minimizer held after a fit (its table of fit statistics), read from the
#: latest result.
_SEED_STATISTICS = frozenset({
    "nfev", "success", "errorbars", "message", "ier", "lmdif_message", "nvarys", "ndata",
    "nfree", "residual", "chisqr", "redchi", "covar", "var_names", "aic", "bic",
})


class _Unsaved:
    """What a pickled Minimizer holds in place of a function pickle could not save."""

    def __init__(self, key: str, function: Any, exc: Exception) -> None:
        self.key = key
        self.name = getattr(function, "__qualname__", None) or repr(function)
        self.why = f"{type(exc).__name__}: {exc}"

    def __call__(self, *args: Any, **kws: Any) -> Any:
        raise FitError(f"this Minimizer was restored from a pickle that could not hold its "
                       f"{self.key} {self.name!r} ({self.why}); define it with def at module "
                       f"level to refit after pickling, or give the function again "
                       f"(minimizer.{self.key} = ...)")


def _check_outcome(outcome: Any, engine: str, names: Sequence[str]) -> None:
    """Refuse what an engine returned unless it is an EngineResult with a finite point of
    the right length (third-party engines are checked here, not trusted)."""
    if not isinstance(outcome, EngineResult):
        raise FitError(f"engine {engine!r} returned {type(outcome).__name__}, not an "
                       f"EngineResult")
    try:
        x = np.asarray(outcome.x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise FitError(f"engine {engine!r} returned a point that is not numbers: "
                       f"{outcome.x!r:.80}") from exc
    if x.size != len(names):
        raise FitError(f"engine {engine!r} returned a point of {x.size} value(s) for "
                       f"{len(names)} varied parameter(s) ({', '.join(names)})")
    values = x.ravel().tolist()  # a few numbers: cheaper as Python floats, once per fit
    if not all(map(math.isfinite, values)):
        bad = [name for name, value in zip(names, values) if not math.isfinite(value)]
        raise FitError(f"engine {engine!r} returned a point that is not finite "
                       f"({', '.join(bad)}); the parameters are left as they were")


def _checked_max_nfev(max_nfev: Any) -> Optional[int]:
    """``max_nfev`` as an int (or None), refused unless a positive integer."""
    if max_nfev is not None and (not isinstance(max_nfev, (int, np.integer))
                                 or isinstance(max_nfev, bool) or max_nfev < 1):
        raise ValueError(f"max_nfev must be a positive integer or None, got {max_nfev!r}")
    return None if max_nfev is None else int(max_nfev)


class Minimizer:
    """A fit of a residual function over Parameters, runnable with any installed engine.

    Parameters
    ----------
    userfcn:
        ``userfcn(params, *fcn_args, **fcn_kws)`` returning the residual
        array (any shape: it is flattened; complex values count with their
        real and imaginary parts).
    params:
        The :class:`~lmfit_host.Parameters` to fit. They receive the best
        values, ``stderr`` and ``correl`` after a fit.
    fcn_args, fcn_kws:
        Extra positional and keyword arguments for ``userfcn``.
    iter_cb:
        ``iter_cb(params, nfev, resid, *fcn_args, **fcn_kws)`` called after
        every evaluation the engine asks for (evaluation 1, the host's look
        at the start values, comes before it); returning True stops the
        fit, keeping the best values found so far.
    scale_covar:
        Scale the covariance by reduced chi-square (True, the default) or
        take the residual as already divided by absolute uncertainties.
    nan_policy:
        ``'raise'`` (a NaN or inf in the residual stops the fit with an
        error), ``'propagate'`` (hand it to the engine) or ``'omit'`` (drop
        non-finite residuals).
    max_nfev:
        Evaluation budget of the search; the fit stops with the best values
        when spent. The error bars afterwards may evaluate the residual up
        to ``2 * nvarys`` more times (see ``MinimizerResult.nfev``); an
        aborted fit's error bars describe the point where it stopped.
    calc_covar:
        Estimate the covariance after the fit (True).
    Dfun, col_deriv:
        Analytic Jacobian ``Dfun(params, *fcn_args, **fcn_kws)`` of the
        residual with respect to the varied parameters, shape
        ``(ndata, nvarys)`` (or transposed with ``col_deriv=True``).
    **kws:
        Default engine options for every fit of this Minimizer.

    Every installed engine is a method: ``Minimizer(...).leastsq()``,
    ``.anneal(seed=1)``, ``.lbfgsb()``, or a third party's by its name.

    >>> mini = Minimizer(residual, params, fcn_args=(x, data))   # doctest: +SKIP
    >>> mini.asteval.symtable['myfunc'] = lambda v: 2 * v           # doctest: +SKIP
    >>> result = mini.leastsq(xtol=1e-9)                             # doctest: +SKIP
    """

    def __init__(self, userfcn: ResidualFunction, params: Parameters,
                 fcn_args: Optional[Sequence[Any]] = None,
                 fcn_kws: Optional[Mapping[str, Any]] = None,
                 iter_cb: Optional[IterCallback] = None, scale_covar: bool = True,
                 nan_policy: str = "raise", max_nfev: Optional[int] = None,
                 calc_covar: bool = True, Dfun: Optional[Callable[..., Any]] = None,
                 col_deriv: bool = False, **kws: Any) -> None:
        if not callable(userfcn):
            raise TypeError(f"the residual function must be callable, got {userfcn!r}")
        if not isinstance(params, Parameters):
            raise ParameterError(f"params must be a Parameters object, got "
                                 f"{type(params).__name__}; build one with Parameters() and add()")
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f"nan_policy={nan_policy!r} is not one of {', '.join(NAN_POLICIES)}")
        max_nfev = _checked_max_nfev(max_nfev)
        if iter_cb is not None and not callable(iter_cb):
            raise TypeError(f"iter_cb must be callable or None, got {iter_cb!r}")
        if Dfun is not None and not callable(Dfun):
            raise TypeError(f"Dfun must be callable or None, got {Dfun!r}")
        self.userfcn = userfcn
        self.params = params
        self.userargs: Tuple[Any, ...] = tuple(fcn_args) if fcn_args is not None else ()
        self.userkws: Dict[str, Any] = dict(fcn_kws) if fcn_kws is not None else {}
        self.iter_cb = iter_cb
        self.scale_covar = bool(scale_covar)
        self.nan_policy = nan_policy
        self.max_nfev = max_nfev
        self.calc_covar = bool(calc_covar)
        self.Dfun = Dfun
        self.col_deriv = bool(col_deriv)
        self.kws = kws
        self._asteval_source = params
        self._asteval_copy: Optional[Interpreter] = None
        # the parameter values the interpreter copy received, by name (see _hide_departed)
        self._asteval_params: Dict[str, Any] = {}
        self._single_use = False
        self._result: Any = None

    @property
    def result(self) -> Optional[MinimizerResult]:
        """The result of this Minimizer's latest fit (None before the first).

        The Minimizer that :func:`minimize` makes holds the result it returns
        weakly (that result holds the Minimizer): it is there as long as the
        caller keeps the result.
        """
        held = self._result
        return held() if type(held) is weakref.ref else held  # type: ignore[no-any-return]

    @result.setter
    def result(self, value: Optional[MinimizerResult]) -> None:
        self._result = value

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_result"] = self.result  # a weak reference does not pickle; the result does
        # A residual that pickle cannot save (a lambda, a closure) is left out, so that a
        # result still pickles (for a worker process, say); refitting it then says why.
        for key in ("userfcn", "Dfun", "iter_cb"):
            function = state.get(key)
            if function is not None:
                try:
                    pickle.dumps(function)
                except Exception as exc:
                    state[key] = _Unsaved(key, function, exc)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        latest = state.pop("_result", state.pop("result", None))  # 0.3.0 kept "result"
        state.setdefault("_asteval_params", {})  # pickled by 0.4.0
        self.__dict__.update(state)
        self._result = latest
        # pickle gives the interpreter's values and these their own copies: what is still
        # equal is what the interpreter received (see _hide_departed)
        copy = self._asteval_copy
        if copy is not None:
            table = copy.symtable
            for name, value in list(self._asteval_params.items()):
                now = table.get(name, _ABSENT)
                try:
                    same = type(now) is type(value) and bool(now == value)
                except Exception:  # an array, say: compared by identity only
                    same = False
                if same:
                    self._asteval_params[name] = now

    @property
    def asteval(self) -> Interpreter:
        """The expression interpreter of this Minimizer's fits.

        Names put in ``asteval.symtable`` are usable in the constraint
        expressions of this Minimizer's fits only.
        """
        if self._asteval_copy is None:
            source = self._asteval_source
            copy = source.interpreter.copy()
            table = copy.symtable
            self._asteval_params = {name: table[name] for name in dict.keys(source)
                                    if name in table}
            self._asteval_copy = copy
        return self._asteval_copy

    def _hide_departed(self, interpreter: Interpreter, params: Parameters) -> None:
        """Take out of ``interpreter`` (a copy of :attr:`asteval`) the values of parameters
        that :attr:`asteval` was made from and ``params`` no longer holds.

        Such a value is the parameter's as it was when this Minimizer made its
        interpreter: an expression reading the name after the parameter was
        removed (or in another Parameters set) must fail as an unknown name,
        not fit with that old value. A value the user stored under the name
        since stays; a default the parameter shadowed (``e``) comes back.
        """
        table = interpreter.symtable
        for name, value in self._asteval_params.items():
            if name not in params and name in table and table[name] is value:
                try:
                    table[name] = interpreter.default_value(name)
                except KeyError:
                    del table[name]

    def prepare_fit(self, params: Optional[Parameters] = None) -> FitProblem:
        """Check the Parameters and build the problem an engine would receive.

        Every check a fit makes before the engine starts (values, bounds,
        expressions, the residual's shape at the start values) runs here,
        so bad input fails before any work. Returns the
        :class:`~lmfit_host.FitProblem`.
        """
        return self._prepare(params, self.Dfun, self.col_deriv).problem

    def _prepare(self, params: Optional[Parameters], dfun: Optional[Callable],
                 col_deriv: bool, max_nfev: Optional[int] = None) -> _Fit:
        source = self.params if params is None else params
        if not isinstance(source, Parameters):
            raise ParameterError(f"params must be a Parameters object, got {type(source).__name__}")
        interpreter = source.interpreter if self._single_use else self.asteval
        # functions registered after this interpreter was made reach its fits too
        interpreter._take_new_defaults()
        return _Fit(self, source, dfun, col_deriv, max_nfev)

    def minimize(self, engine: str = "leastsq", params: Optional[Parameters] = None,
                 method: Optional[str] = None, **options: Any) -> MinimizerResult:
        """Fit with the installed engine called ``engine`` (``method`` is an alias).

        ``options`` go to the engine (merged over the Minimizer's own
        ``**kws``); ``Dfun`` and ``col_deriv`` may be given here too.
        """
        started = time.perf_counter()
        if method is not None:
            if engine != "leastsq" and \
                    plugins.resolve_engine_name(engine) != plugins.resolve_engine_name(method):
                raise ValueError(f"engine={engine!r} and method={method!r} disagree; give one")
            engine = method
        # the installed engine's own name ('L-BFGS-B' -> 'lbfgsb'), as the result records it
        engine = plugins.resolve_engine_name(engine)
        engine_object = plugins.get_engine(engine)
        merged = dict(self.kws)
        merged.update(options)
        dfun = merged.pop("Dfun", self.Dfun)
        col_deriv = bool(merged.pop("col_deriv", self.col_deriv))
        # lmfit 1.x takes max_nfev per call too: for this fit only
        max_nfev = _checked_max_nfev(merged.pop("max_nfev", None))
        source = self.params if params is None else params
        start_values = source.valuesdict() if self._single_use else None
        try:
            fit = self._prepare(params, dfun, col_deriv, max_nfev)
            outcome: Optional[EngineResult] = None
            aborted: Optional[str] = None
            try:
                outcome = engine_object.run(fit.problem, **merged)
            except FitAborted as stop:
                aborted = stop.reason
            # Ctrl-C (KeyboardInterrupt) goes on to the caller, so that a script or a
            # loop of fits stops; the user's Parameters are left as they were (below).
            # iter_cb stops a fit and keeps its best values.
            except LmfitHostError:
                raise
            except Exception as exc:
                raise FitError(f"engine {engine!r} failed: {type(exc).__name__}: {exc}") from exc
            if aborted is None and fit.problem.aborted is not None:
                # the engine caught the host's stop (max_nfev, iter_cb) and went on: the
                # fit was still stopped, and the host's best point is its answer
                aborted, outcome = fit.problem.aborted, None
            if aborted is None:
                _check_outcome(outcome, engine, fit.names)
            result = fit.finish(self, engine, outcome, aborted, started, merged)
        except BaseException:
            if start_values is not None:
                # a fit on the user's own Parameters failed: leave them as they were
                source._set_values_from_fit(start_values)
            raise
        self.result = result
        return result

    def leastsq(self, params: Optional[Parameters] = None, **options: Any) -> MinimizerResult:
        """Levenberg-Marquardt (MINPACK) through the ``leastsq`` engine (lmfit-host-leastsq)."""
        return self.minimize("leastsq", params=params, **options)

    def anneal(self, params: Optional[Parameters] = None, **options: Any) -> MinimizerResult:
        """Simulated annealing through the ``anneal`` engine (lmfit-host-anneal)."""
        return self.minimize("anneal", params=params, **options)

    def lbfgsb(self, params: Optional[Parameters] = None, **options: Any) -> MinimizerResult:
        """L-BFGS-B with native bounds through the ``lbfgsb`` engine (lmfit-host-lbfgsb)."""
        return self.minimize("lbfgsb", params=params, **options)

    def __getattr__(self, name: str) -> Any:
        # third-party engines become methods by their names
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _SEED_STATISTICS:
            # lmfit 0.2 code reads the statistics of the latest fit off the Minimizer
            result = self.result
            if result is None:
                raise AttributeError(f"'Minimizer' object has no attribute {name!r} before a "
                                     f"fit: it holds the latest fit's statistics (run "
                                     f".leastsq() first)")
            return getattr(result, name)
        if name in plugins.engine_names():
            def run(params: Optional[Parameters] = None, **options: Any) -> MinimizerResult:
                return self.minimize(name, params=params, **options)

            run.__name__ = name
            run.__doc__ = getattr(plugins.get_engine(name), "description", "")
            return run
        raise AttributeError(f"'Minimizer' object has no attribute {name!r} (installed engines: "
                             f"{', '.join(plugins.engine_names()) or 'none'})")


def minimize(fcn: ResidualFunction, params: Parameters,
             args: Optional[Sequence[Any]] = None, kws: Optional[Mapping[str, Any]] = None,
             engine: str = "leastsq", method: Optional[str] = None,
             iter_cb: Optional[IterCallback] = None,
             scale_covar: bool = True, nan_policy: str = "raise",
             max_nfev: Optional[int] = None, calc_covar: bool = True,
             **engine_options: Any) -> MinimizerResult:
    """Fit ``fcn(params, *args, **kws)`` by adjusting ``params`` with an installed engine.

    ``engine`` (or lmfit 1.x's ``method``) names the engine: ``'leastsq'``
    (default), ``'anneal'``, ``'lbfgsb'`` or any third-party engine.
    Remaining keywords are engine options; ``Dfun``/``col_deriv`` give an
    analytic Jacobian. The user's ``params`` hold the best values,
    ``stderr`` and ``correl`` afterwards; the returned
    :class:`MinimizerResult` holds a copy and the statistics.

    The third positional argument is ``args``, as in lmfit 0.2; a string
    there is taken as the engine's name, as lmfit 1.x's positional ``method``.

    As in lmfit 0.2, ``fcn`` receives ``params`` itself, holding the values
    being tried (they are restored if the fit fails). Fits running at the
    same time in several threads therefore each need their own Parameters
    (``params.copy()``); ``Minimizer`` always fits a private copy.

    >>> result = minimize(residual, params, args=(x, data))              # doctest: +SKIP
    >>> result = minimize(residual, params, args=(x, data), method='lbfgsb')  # doctest: +SKIP
    """
    if isinstance(args, str):
        if method is not None or engine != "leastsq":
            raise TypeError(f"minimize() got the engine name {args!r} where args go, and an "
                            f"engine or method keyword too; pass the engine once, by keyword")
        engine, fcn_args = args, None
    else:
        fcn_args = args
    fit_kws = engine_options.pop("fit_kws", None)
    if fit_kws:
        engine_options.update(fit_kws)
    minimizer = Minimizer(fcn, params, fcn_args=fcn_args, fcn_kws=kws, iter_cb=iter_cb,
                          scale_covar=scale_covar, nan_policy=nan_policy, max_nfev=max_nfev,
                          calc_covar=calc_covar)
    minimizer._single_use = True
    result = minimizer.minimize(engine, method=method, **engine_options)
    # The result refers to its Minimizer (refit); this Minimizer, reachable only
    # through that result, refers back weakly: no reference cycle, so a loop of
    # fits frees each one at once instead of leaving it to the cyclic garbage
    # collector (whose full passes cost tens of ms). Later fits run through the
    # Minimizer itself are held as any Minimizer holds them.
    minimizer._result = weakref.ref(result)
    return result
