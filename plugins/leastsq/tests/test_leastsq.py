"""Tests of the leastsq engine: on FitProblem objects directly, and through the host's API."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import pytest
from scipy.optimize import leastsq as scipy_leastsq

import lmfit_host
import lmfit_host.covariance
import lmfit_host_leastsq.engine as engine_module
import lmfit_host_leastsq.refine as refine_module
from lmfit_host import (EngineOptionError, FitAborted, FitProblem, Minimizer, Parameters,
                        ProblemError, minimize)
from lmfit_host_leastsq import (DEFAULTS, OPTIONS, LeastsqEngine, __version__,
                                lmfit_host_register_engines)

INF = math.inf
NAMES = ("amp", "period", "shift", "decay")
TRUE = (14.0, 5.46, 0.123, 0.032)
START = (10.0, 5.5, 0.0, 0.02)


def sine_model(p: Sequence[float], x: np.ndarray) -> np.ndarray:
    amp, period, shift, decay = p
    return amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)


def sine_jacobian(p: Sequence[float], x: np.ndarray) -> np.ndarray:
    amp, period, shift, decay = p
    phase = shift + x / period
    envelope = np.exp(-x * x * decay * decay)
    sin, cos = np.sin(phase) * envelope, np.cos(phase) * envelope
    return np.column_stack([sin, -amp * cos * x / period**2, amp * cos,
                            -2.0 * amp * sin * x * x * decay])


X = np.linspace(0.0, 250.0, 1001)
DATA = sine_model(TRUE, X) + np.random.default_rng(2024).normal(scale=0.4, size=X.size)


def reference() -> np.ndarray:
    """The minimum, by MINPACK at the tightest tolerances."""
    out = scipy_leastsq(lambda p: sine_model(p, X) - DATA, START,
                        Dfun=lambda p: sine_jacobian(p, X), xtol=1e-15, ftol=1e-15)
    return out[0]


BEST = reference()


class Recorder:
    """A residual that records every point it is asked for."""

    def __init__(self) -> None:
        self.points: List[np.ndarray] = []
        self.jacobian_calls = 0

    def residual(self, p: np.ndarray) -> np.ndarray:
        self.points.append(np.array(p, dtype=float))
        return sine_model(p, X) - DATA

    def jacobian(self, p: np.ndarray) -> np.ndarray:
        self.jacobian_calls += 1
        return sine_jacobian(p, X)


def sine_problem(recorder: Optional[Recorder] = None, start: Sequence[float] = START,
                 lower: Sequence[float] = (-INF,) * 4, upper: Sequence[float] = (INF,) * 4,
                 dfun: bool = False, **kws: Any) -> FitProblem:
    recorder = recorder or Recorder()
    return FitProblem(NAMES, start, lower, upper, recorder.residual, X.size,
                      jacobian=recorder.jacobian if dfun else None, **kws)


def relative_error(x: np.ndarray, best: np.ndarray = BEST) -> float:
    return float(np.max(np.abs(x - best) / np.abs(best)))


#: What the Gauss-Newton check promises with the default xtol=1e-7: no parameter
#: further than about xtol * (|value| + stderr) from the minimum.
PROMISED = 2e-7


# -- the plugin --------------------------------------------------------------------------------

def test_hook_registers_one_engine_named_leastsq() -> None:
    registered: List[Any] = []
    lmfit_host_register_engines(registered.append)
    assert [engine.name for engine in registered] == ["leastsq"]
    assert registered[0].description


def test_version_comes_from_the_distribution_metadata() -> None:
    from importlib.metadata import version

    assert __version__ == version("lmfit-host-leastsq")
    assert tuple(int(part) for part in __version__.split(".")[:2]) >= (0, 2)


def test_every_option_is_documented() -> None:
    assert set(OPTIONS) == set(DEFAULTS)
    assert LeastsqEngine().options is OPTIONS


def test_minimize_uses_the_leastsq_engine_by_default() -> None:
    params = Parameters()
    for name, value in zip(NAMES, START):
        params.add(name, value=value)
    result = minimize(lambda p: sine_model([p[n].value for n in NAMES], X) - DATA, params)
    assert result.engine == "leastsq"
    assert result.success
    assert relative_error(np.array([params[n].value for n in NAMES])) < 1e-7


def test_minimizer_has_a_leastsq_method_taking_engine_options() -> None:
    params = Parameters()
    for name, value in zip(NAMES, START):
        params.add(name, value=value)
    mini = Minimizer(lambda p: sine_model([p[n].value for n in NAMES], X) - DATA, params)
    result = mini.leastsq(xtol=1e-9, ftol=1e-9)
    assert result.ier in (1, 2, 3, 4)
    assert all(params[name].stderr > 0 for name in NAMES)


# -- options -----------------------------------------------------------------------------------

def spy_on_scipy(monkeypatch: pytest.MonkeyPatch, direct: bool) -> List[Dict[str, Any]]:
    """Record MINPACK's options, through SciPy's binding (direct) or its public leastsq."""
    calls: List[Dict[str, Any]] = []
    binding = engine_module._binding()
    if direct:
        if binding is None:
            pytest.skip("this SciPy's MINPACK binding differs: the engine uses public leastsq")
        lmdif, lmder = binding

        def spy_lmdif(*args: Any) -> Any:
            names = ("fcn", "x0", "args", "full_output", "ftol", "xtol", "gtol", "maxfev",
                     "epsfcn", "factor", "diag")
            calls.append(dict(zip(names, args)))
            return lmdif(*args)

        monkeypatch.setattr(engine_module, "_BINDING", (spy_lmdif, lmder))
        return calls

    def spy(*args: Any, **kws: Any) -> Any:
        calls.append(kws)
        return scipy_leastsq(*args, **kws)

    monkeypatch.setattr(engine_module, "_BINDING", None)
    monkeypatch.setattr(engine_module, "leastsq", spy)
    return calls


@pytest.mark.parametrize("direct", [True, False], ids=["binding", "public"])
def test_defaults_are_the_seeds_tolerances_and_budget(monkeypatch: pytest.MonkeyPatch,
                                                      direct: bool) -> None:
    calls = spy_on_scipy(monkeypatch, direct)
    LeastsqEngine().run(sine_problem())
    first = calls[0]
    assert (first["xtol"], first["ftol"], first["gtol"]) == (1e-7, 1e-7, 0.0)
    assert first["maxfev"] == 1000 * (4 + 1)
    assert first["factor"] == 100.0 and first["diag"] is None


@pytest.mark.parametrize("direct", [True, False], ids=["binding", "public"])
def test_minpack_options_reach_scipy(monkeypatch: pytest.MonkeyPatch, direct: bool) -> None:
    calls = spy_on_scipy(monkeypatch, direct)
    LeastsqEngine().run(sine_problem(), xtol=1e-9, ftol=1e-10, gtol=1e-12, maxfev=777,
                        factor=10, diag=[1, 2, 3, 4])
    first = calls[0]
    assert (first["xtol"], first["ftol"], first["gtol"]) == (1e-9, 1e-10, 1e-12)
    assert (first["maxfev"], first["factor"]) == (777, 10.0)
    assert first["diag"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_epsfcn_sets_the_forward_difference_step() -> None:
    recorder = Recorder()
    LeastsqEngine().run(sine_problem(recorder), epsfcn=1e-10, polish=False)
    start = np.array(START)
    # the first Jacobian steps each parameter by sqrt(epsfcn)*|x| from the start
    steps = [p - start for p in recorder.points[1:5]]
    for j, step in enumerate(steps):
        assert step[j] == pytest.approx(1e-5 * (abs(start[j]) or 1.0), rel=1e-9)


def test_unknown_option_raises_before_any_evaluation() -> None:
    problem = sine_problem()
    with pytest.raises(EngineOptionError) as info:
        LeastsqEngine().run(problem, xtoll=1e-3)
    message = str(info.value)
    assert "'xtoll'" in message and "leastsq" in message and "xtol" in message
    assert problem.nfev == 0


@pytest.mark.parametrize("option, value", [
    ("xtol", -1.0), ("ftol", "tight"), ("gtol", math.nan), ("maxfev", 0), ("maxfev", 2.5),
    ("factor", 0.0), ("epsfcn", -1e-3), ("diag", [1.0, 2.0]), ("diag", [1, 1, 1, -1]),
    ("polish", "yes"),
])
def test_bad_option_values_name_the_option(option: str, value: Any) -> None:
    problem = sine_problem()
    with pytest.raises(EngineOptionError, match=option):
        LeastsqEngine().run(problem, **{option: value})
    assert problem.nfev == 0


def test_fewer_residuals_than_parameters_is_a_problem_error() -> None:
    problem = FitProblem(("a", "b", "c"), (1.0, 2.0, 3.0), (-INF,) * 3, (INF,) * 3,
                         lambda p: np.array([p[0] - 1.0, p[1] * p[2]]), 2)
    with pytest.raises(ProblemError, match="2 residual"):
        LeastsqEngine().run(problem)


# -- results and codes ---------------------------------------------------------------------------

def test_result_carries_minpack_codes_and_a_message() -> None:
    result = LeastsqEngine().run(sine_problem())
    assert result.success
    assert result.codes["ier"] in (1, 2, 3, 4)
    assert isinstance(result.codes["lmdif_message"], str) and result.codes["lmdif_message"]
    assert result.codes["polish_status"] in ("passed", "refined")
    assert result.message.startswith("Fit succeeded: ")
    assert "1e-07" in result.message  # the tolerance that stopped MINPACK, readable


def test_codes_become_attributes_of_the_users_result() -> None:
    params = Parameters()
    for name, value in zip(NAMES, START):
        params.add(name, value=value)
    result = minimize(lambda p: sine_model([p[n].value for n in NAMES], X) - DATA, params)
    assert result.ier in (1, 2, 3, 4)
    assert result.lmdif_message.startswith("MINPACK converged in the ")
    assert result.polish_status in ("passed", "refined")


def test_default_fit_reaches_the_minimum_within_xtol() -> None:
    result = LeastsqEngine().run(sine_problem())
    assert relative_error(result.x) < PROMISED


def test_polish_false_leaves_minpacks_point() -> None:
    result = LeastsqEngine().run(sine_problem(), polish=False)
    assert result.codes["polish_status"] == "off"
    out = scipy_leastsq(lambda p: sine_model(p, X) - DATA, START, xtol=1e-7, ftol=1e-7)
    assert relative_error(result.x, out[0]) < 1e-5


def test_polish_nfev_counts_the_evaluations_spent_after_minpack() -> None:
    plain = sine_problem()
    LeastsqEngine().run(plain, polish=False)
    polished = sine_problem()
    result = LeastsqEngine().run(polished)
    assert result.codes["polish_nfev"] == polished.nfev - plain.nfev
    if result.codes["polish_status"] == "passed":
        assert result.codes["polish_nfev"] == 0


def test_a_resolved_point_is_polished_from_forward_differences() -> None:
    # MINPACK stops a few tolerances short with every parameter resolved by its own
    # differences: the polish differences as MINPACK would next (n evaluations, not
    # the 2n of central differences), and one Gauss-Newton step ends within xtol
    problem = sine_problem()
    result = LeastsqEngine().run(problem)
    assert result.codes["polish_status"] == "refined" and result.codes["polish_steps"] == 1
    assert result.codes["polish_nfev"] <= problem.nvarys + 2
    assert relative_error(result.x) < PROMISED


def test_a_refit_from_near_the_minimum_is_polished_from_forward_differences() -> None:
    # MINPACK's first Jacobian is its last: no rate of convergence is known, but its
    # differences resolve every parameter, so the polish starts from forward
    # differences too (n evaluations) and ends within xtol
    near = LeastsqEngine().run(sine_problem(), polish=False).x
    problem = sine_problem(start=near)
    result = LeastsqEngine().run(problem)
    assert result.codes["polish_status"] == "refined"
    assert result.codes["polish_nfev"] == problem.nvarys
    assert relative_error(result.x) < PROMISED


def test_one_jacobian_and_a_refused_step_is_polished_from_accurate_differences() -> None:
    # MINPACK refused its step from its only Jacobian: its own model failed there, and
    # the polish judges from central differences, as after a refused last step
    pol, calls, best, residual = _line_fit_polisher(1.0)
    pol._resolved = pol._rate = None
    start = best * (1.0 + 3e-7)
    jac = np.column_stack([np.ones(6), np.arange(6.0)])
    assert not pol.accepts(start, residual(start), jac, [start.copy()])
    assert not pol._resolved
    pol.polish(start, residual(start))
    assert calls["forward"] == 0 and calls["accurate"] >= 1
    # the step was accepted: forward differences at the new point
    calls.update(forward=0, accurate=0)
    moved = best * (1.0 + 1e-9)
    assert not pol.accepts(moved, residual(moved), jac, [start.copy()])
    assert pol._resolved and pol._rate is None
    outcome = pol.polish(moved, residual(moved))
    assert calls == {"forward": 1, "accurate": 0} and outcome.passed


def _line_fit_polisher(forward_sign: float) -> Any:
    """A Polisher of a straight-line fit whose check found the point resolved (as
    accepts() leaves it), with counted forward and accurate Jacobians; the forward one
    is scaled by ``forward_sign`` (-1: a wrong one, whose step leads nowhere)."""
    design = np.column_stack([np.ones(6), np.arange(6.0)])
    data = design.dot([1.0, 2.0]) + np.array([0.1, -0.1, 0.05, 0.0, -0.05, 0.1])
    calls = {"forward": 0, "accurate": 0}

    def forward(v: np.ndarray, r: np.ndarray) -> np.ndarray:
        calls["forward"] += 1
        return forward_sign * design

    def accurate(v: np.ndarray, r: np.ndarray, typical: np.ndarray) -> np.ndarray:
        calls["accurate"] += 1
        return design

    pol = refine_module.Polisher(lambda v: design.dot(v) - data, accurate, lambda v: v, None,
                                 rtol=1e-7, forward_jacobian=forward)
    pol._resolved, pol._rate = True, 0.1
    best = np.linalg.lstsq(design, data, rcond=None)[0]
    return pol, calls, best, lambda v: design.dot(v) - data


def test_the_forward_first_step_falls_back_to_an_accurate_jacobian() -> None:
    pol, calls, best, residual = _line_fit_polisher(-1.0)
    start = best * (1.0 + 3e-7)  # a few tolerances off
    outcome = pol.polish(start, residual(start))
    assert calls == {"forward": 1, "accurate": 1} and outcome.passed
    assert np.allclose(outcome.point, best, rtol=1e-12)
    # the forward start is used once: a second polish (after a MINPACK restart) is
    # judged from accurate differences
    pol.polish(start, residual(start))
    assert calls["forward"] == 1 and calls["accurate"] == 2


def test_a_forward_step_that_works_needs_no_accurate_jacobian() -> None:
    pol, calls, best, residual = _line_fit_polisher(1.0)
    start = best * (1.0 + 3e-7)  # a few tolerances off
    outcome = pol.polish(start, residual(start))
    assert calls == {"forward": 1, "accurate": 0} and outcome.passed and outcome.steps == 1
    assert np.allclose(outcome.point, best, rtol=1e-12)


def test_gauss_newton_solves_the_linear_least_squares_problem() -> None:
    rng = np.random.default_rng(5)
    jac = rng.standard_normal((50, 4)) * np.array([1e-3, 1.0, 1e3, 10.0])
    residual = rng.standard_normal(50)
    step, variance, decrease = refine_module.gauss_newton(jac, residual)
    expected = np.linalg.lstsq(jac, -residual, rcond=None)[0]
    assert np.allclose(step, expected, rtol=1e-10, atol=0.0)
    assert np.allclose(variance, np.diag(np.linalg.inv(jac.T @ jac)), rtol=1e-10, atol=0.0)
    predicted = jac @ step
    assert decrease == pytest.approx(predicted @ predicted, rel=1e-10)


def test_secant_update_matches_the_step_and_leaves_the_jacobian_alone() -> None:
    rng = np.random.default_rng(6)
    jac = np.asfortranarray(rng.standard_normal((30, 3)))
    before = jac.copy()
    start, point = rng.standard_normal(3), rng.standard_normal(3)
    start_r, point_r = rng.standard_normal(30), rng.standard_normal(30)
    updated = refine_module.secant_update(jac, start, start_r, point, point_r)
    assert np.allclose(updated @ (point - start), point_r - start_r, rtol=1e-12, atol=1e-12)
    assert np.array_equal(jac, before)


def test_maxfev_stops_with_ier_5_and_the_best_point() -> None:
    problem = sine_problem()
    result = LeastsqEngine().run(problem, maxfev=12)
    assert result.codes["ier"] == 5 and not result.success
    assert "maxfev" in result.message
    assert problem.nfev == 12
    assert np.array_equal(result.x, problem.best_x)


def test_the_start_point_is_evaluated_once() -> None:
    recorder = Recorder()
    LeastsqEngine().run(sine_problem(recorder))
    start = np.array(START)
    assert sum(np.array_equal(p, start) for p in recorder.points) == 1


@pytest.mark.parametrize("route", ["binding", "public"])
@pytest.mark.parametrize("dfun", [False, True])
def test_a_refit_from_near_the_minimum_reads_minpacks_jacobian_correctly(
        monkeypatch: pytest.MonkeyPatch, dfun: bool, route: str) -> None:
    # MINPACK stops after one Jacobian, taken at the start; SciPy's binding (also under
    # the public leastsq) adopts the first residual array it is handed as its own work
    # array, so the start's residual must not be one the engine keeps (it read back a
    # singular Jacobian here)
    if route == "public":
        monkeypatch.setattr(engine_module, "_BINDING", None)
    near = LeastsqEngine().run(sine_problem(dfun=dfun), polish=False).x  # not the minimum
    problem = sine_problem(start=near, dfun=dfun, start_residual=sine_model(near, X) - DATA)
    kept = problem.start_residual.copy()
    result = LeastsqEngine().run(problem, polish=False)
    assert np.array_equal(problem.start_residual, kept)
    exact = sine_jacobian(result.x, X)
    assert result.jacobian is not None
    assert np.max(np.abs(result.jacobian - exact) / np.abs(exact).max(axis=0)) < 1e-5


def test_a_refit_keeps_its_error_bars_without_the_polish() -> None:
    params = Parameters()
    for name, value in zip(NAMES, START):
        params.add(name, value=value)

    def residual(p: Parameters) -> np.ndarray:
        return sine_model([p[name].value for name in NAMES], X) - DATA

    first = minimize(residual, params, polish=False)
    again = minimize(residual, params, polish=False)
    assert first.errorbars and again.errorbars, again.errorbars_reason
    assert np.allclose(np.sqrt(np.diag(again.covar)), np.sqrt(np.diag(first.covar)), rtol=1e-4)


def test_returned_jacobian_is_in_user_units_at_the_solution() -> None:
    result = LeastsqEngine().run(sine_problem())
    assert result.jacobian is not None and result.jacobian.shape == (X.size, 4)
    exact = sine_jacobian(result.x, X)
    scale = np.abs(exact).max(axis=0)
    assert np.max(np.abs(result.jacobian - exact) / scale) < 1e-5


def test_fit_aborted_by_the_callback_propagates() -> None:
    problem = sine_problem(callback=lambda x, r, nfev: nfev >= 5)
    with pytest.raises(FitAborted):
        LeastsqEngine().run(problem)


# -- user Jacobian -------------------------------------------------------------------------------

def test_user_jacobian_is_handed_to_minpack() -> None:
    recorder = Recorder()
    result = LeastsqEngine().run(sine_problem(recorder, dfun=True))
    assert recorder.jacobian_calls > 0
    # no forward differences: every evaluated point is MINPACK's or the polish's trial
    assert len(recorder.points) < 40
    assert relative_error(result.x) < PROMISED


def test_user_jacobian_with_bounds_goes_through_the_chain_rule() -> None:
    recorder = Recorder()
    result = LeastsqEngine().run(sine_problem(recorder, dfun=True, lower=(0, 3, -1.5, 0),
                                              upper=(INF, 8, 1.5, INF)))
    assert recorder.jacobian_calls > 0
    assert relative_error(result.x) < PROMISED


# -- bounds ----------------------------------------------------------------------------------------

def test_unbounded_problem_is_searched_in_user_units() -> None:
    recorder = Recorder()
    LeastsqEngine().run(sine_problem(recorder))
    assert np.array_equal(recorder.points[0], np.array(START))


def test_bounded_problem_never_leaves_the_bounds() -> None:
    lower, upper = (0.0, 5.0, -0.1, 0.0), (12.0, 6.0, 0.1, 0.1)
    recorder = Recorder()
    result = LeastsqEngine().run(sine_problem(recorder, lower=lower, upper=upper))
    points = np.array(recorder.points)
    assert np.all(points >= lower) and np.all(points <= upper)
    assert result.x[0] == pytest.approx(12.0)  # the amplitude wants 14: it ends at its bound


def test_bounds_that_do_not_bind_give_the_unbounded_minimum() -> None:
    result = LeastsqEngine().run(sine_problem(lower=(0, 3, -1.5, 0), upper=(INF, 8, 1.5, INF)))
    assert relative_error(result.x) < PROMISED
    exact = sine_jacobian(result.x, X)
    assert np.max(np.abs(result.jacobian - exact) / np.abs(exact).max(axis=0)) < 1e-5


def test_parameter_on_its_bound_gives_no_jacobian() -> None:
    result = LeastsqEngine().run(sine_problem(lower=(0.0, 5.0, -0.1, 0.0),
                                              upper=(12.0, 6.0, 0.1, 0.1)))
    assert result.x[0] == 12.0  # on the bound, where the chain rule divides by zero
    assert result.jacobian is None


def _decay_data(seed: int = 0) -> Any:
    x = np.linspace(0.0, 10.0, 101)
    rng = np.random.default_rng(seed)
    return x, 3.0 * np.exp(-x / 2.5) + 0.5 + rng.normal(0.0, 0.02, x.size)


def _decay_fit(a: Dict[str, Any], c: Dict[str, Any], seed: int = 0) -> Any:
    x, y = _decay_data(seed)
    params = Parameters()
    params.add("a", **a)
    params.add("t", 1.0, min=0.01)
    params.add("c", **c)
    return lmfit_host.minimize(lambda p: p["a"].value * np.exp(-x / p["t"].value)
                               + p["c"].value - y, params)


@pytest.mark.parametrize("a, c", [
    ({"value": 1.0}, {"value": 0.0, "min": 0.0}),                 # a background started on 0
    ({"value": 1.0}, {"value": 0.0, "min": 0.0, "max": 2.0}),     # ... and on the lower end
    ({"value": 1.0}, {"value": 2.0, "min": 0.0, "max": 2.0}),     # ... on the upper end
    ({"value": 1.0 + 1e-12, "min": 1.0}, {"value": 0.0}),         # a hair off the bound
    ({"value": 1.0, "min": 1.0, "max": 5.0}, {"value": 0.0}),     # another on its bound
    ({"value": 1.0, "min": 1.0}, {"value": 0.0}),
    ({"value": 5.0 - 1e-13, "min": 1.0, "max": 5.0}, {"value": 0.0}),
])
def test_a_start_on_a_bound_reaches_the_minimum_inside_with_its_error_bars(
        a: Dict[str, Any], c: Dict[str, Any]) -> None:
    # On a bound the transforms are stationary: MINPACK's differences there are rounding
    # noise. Such starts used to stay on the bound (chi-square 55 times the minimum) or
    # give standard errors hundreds of times too large. The reference is the same fit
    # without bounds.
    reference = _decay_fit({"value": 2.0}, {"value": 0.3})
    result = _decay_fit(a, c)
    assert result.success and result.errorbars, result.message
    assert result.chisqr == pytest.approx(reference.chisqr, rel=1e-9)
    for name, param in reference.params.items():
        assert result.params[name].value == pytest.approx(param.value, abs=1e-4 * param.stderr)
        assert result.params[name].stderr == pytest.approx(param.stderr, rel=1e-4)


def test_a_parameter_started_on_its_bound_that_belongs_there_goes_back() -> None:
    # the data want c = 0.5; bounded above by 0.2, started on the lower bound, it ends on
    # the upper one and the others get error bars with it held there
    result = _decay_fit({"value": 1.0}, {"value": 0.0, "min": 0.0, "max": 0.2})
    assert result.params["c"].value == pytest.approx(0.2, abs=1e-9)
    assert result.params["c"].stderr is None and result.params["a"].stderr > 0.0


def test_a_fraction_started_on_its_bound_is_fitted() -> None:
    x = np.linspace(0.0, 10.0, 101)
    y = 0.3 * np.exp(-x / 1.0) + 0.7 * np.exp(-x / 4.0)
    params = Parameters()
    params.add("f", 1.0, min=0.0, max=1.0)
    params.add("t1", 0.5, min=0.01)
    params.add("t2", 3.0, min=0.01)
    lmfit_host.minimize(lambda p: p["f"].value * np.exp(-x / p["t1"].value)
                        + (1.0 - p["f"].value) * np.exp(-x / p["t2"].value) - y, params)
    assert [params[n].value for n in ("f", "t1", "t2")] == pytest.approx([0.3, 1.0, 4.0],
                                                                          rel=1e-7)


def test_only_starts_where_the_transform_is_flat_are_moved() -> None:
    transform = lmfit_host.problem.BoundsTransform([0.0, 0.0, 1.0, -INF], [INF, 1.0, INF, INF])
    step = math.sqrt(np.finfo(float).eps)
    # a small value above a bound at zero is resolved by relative steps: left alone
    assert engine_module.off_the_bounds(
        transform, transform.to_internal([3e-13, 0.5, 2.0, 0.0]), step) is None
    moved = transform.to_external(engine_module.off_the_bounds(
        transform, transform.to_internal([0.0, 1.0, 1.0 + 1e-12, 7.0]), step)).tolist()
    # on a bound: 10% of the transform's scale, 1% of a range; a hair inside a bound at 1:
    # just far enough for MINPACK's differences to resolve it
    assert [moved[0], moved[1], moved[3]] == pytest.approx([0.1, 0.99, 7.0], rel=1e-12)
    assert 1.0 + 1e-9 < moved[2] < 1.0 + 1e-5


@pytest.mark.parametrize("start", [5000.1, 5000.2, 5000.3, 5001.0, 5000.0, 5000.01,
                                   5000.0001])
def test_a_start_near_a_large_bound_is_left_alone_or_moved_a_little(start: float) -> None:
    # a peak at 5000.3 with its centre bounded below by 5000: starts near the bound used to
    # be moved to 5500 (a tenth of the bound), where the fit found another minimum
    x = np.linspace(4995.0, 5005.0, 201)
    y = 100.0 * np.exp(-0.5 * ((x - 5000.3) / 0.5) ** 2) \
        + np.random.default_rng(1).normal(0.0, 1.0, x.size)
    params = Parameters()
    params.add("a", 80.0)
    params.add("c", start, min=5000.0)
    params.add("w", 0.6, min=0.01)
    result = lmfit_host.minimize(lambda p: p["a"].value * np.exp(
        -0.5 * ((x - p["c"].value) / p["w"].value) ** 2) - y, params)
    assert result.success and params["c"].value == pytest.approx(5000.3, abs=0.01)


def test_a_start_on_a_bound_beyond_1e154_is_left_as_given() -> None:
    transform = lmfit_host.problem.BoundsTransform([-1e300], [INF])
    assert engine_module.off_the_bounds(transform, transform.to_internal([-1e300]),
                                        1.5e-8) is None

# -- non-finite trial points -----------------------------------------------------------------------

class TrialProblem(FitProblem):
    """A problem offering ``trial_residual``: non-finite residuals come back instead of raising."""

    def trial_residual(self, x: np.ndarray) -> np.ndarray:
        saved, self._raise_nonfinite = self._raise_nonfinite, False
        try:
            return self.residual(x)
        finally:
            self._raise_nonfinite = saved

    def trial_residual_internal(self, u: np.ndarray) -> np.ndarray:
        return self.trial_residual(self.transform.to_external(u))


def overflowing_problem(cls: type) -> FitProblem:
    """Two exponentials whose first trial steps overflow (NIST MGH17 from its first start)."""
    x = np.arange(33) * 10.0
    y = 0.375 + 1.936 * np.exp(-0.01287 * x) - 1.4647 * np.exp(-0.02212 * x)

    def residual(b: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return y - (b[0] + b[1] * np.exp(-x * b[3]) + b[2] * np.exp(-x * b[4]))

    return cls(("b1", "b2", "b3", "b4", "b5"), (50.0, 150.0, -100.0, 1.0, 2.0), (-INF,) * 5,
               (INF,) * 5, residual, x.size)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_trial_residuals_are_refused_steps_when_the_host_allows() -> None:
    result = LeastsqEngine().run(overflowing_problem(TrialProblem))
    assert result.success
    assert result.x[3] == pytest.approx(0.01287, rel=1e-3)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_minpack_stuck_after_non_finite_trials_is_restarted_once() -> None:
    result = LeastsqEngine().run(overflowing_problem(TrialProblem))
    assert result.codes.get("restarted") is True
    assert result.codes["polish_status"] == "refined"


# -- MINPACK through SciPy's binding or its public leastsq -------------------------------------

def test_the_binding_and_public_leastsq_give_the_same_fit(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    if engine_module._binding() is None:
        pytest.skip("this SciPy's MINPACK binding differs: the engine uses public leastsq")
    direct_problem = sine_problem()
    direct = LeastsqEngine().run(direct_problem)
    monkeypatch.setattr(engine_module, "_BINDING", None)
    public_problem = sine_problem()
    public = LeastsqEngine().run(public_problem)
    assert np.array_equal(direct.x, public.x)
    assert direct_problem.nfev == public_problem.nfev
    assert direct.codes == public.codes


def test_a_binding_that_fails_the_probe_falls_back_to_public_leastsq(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy.optimize import _minpack

    def changed(*args: Any) -> Any:
        raise TypeError("a new signature")

    with monkeypatch.context() as patched:
        patched.setattr(_minpack, "_lmdif", changed)
        monkeypatch.setattr(engine_module, "_BINDING", engine_module._UNCHECKED)
        assert engine_module._binding() is None
    # SciPy's own leastsq works again (it calls the restored binding); the engine uses it
    public: List[int] = []

    def spy(*args: Any, **kws: Any) -> Any:
        public.append(1)
        return scipy_leastsq(*args, **kws)

    monkeypatch.setattr(engine_module, "leastsq", spy)
    result = LeastsqEngine().run(sine_problem())
    assert public and result.success and relative_error(result.x) < PROMISED


def test_lmdif_message_is_minpacks_verdict_with_the_tolerances() -> None:
    assert engine_module.minpack_message(2, xtol=1e-7) == (
        "MINPACK converged in the parameters: its last step changed them by a relative "
        "amount of at most xtol=1e-07.")
    assert engine_module.minpack_message(2) == (
        "MINPACK converged in the parameters: its last step changed them by a relative "
        "amount of at most xtol.")
    assert "maxfev = 12" in engine_module.minpack_message(5, maxfev=12)
    assert "unknown code 42" in engine_module.minpack_message(42)
    result = LeastsqEngine().run(sine_problem(), maxfev=12)
    assert result.codes["lmdif_message"] == engine_module.minpack_message(5, maxfev=12)


# -- accepting MINPACK's point without evaluating --------------------------------------------------

def polisher(rtol: float = 1e-7) -> Any:
    return refine_module.Polisher(lambda v: v, lambda v, r, typical: r, lambda v: v, None,
                                  rtol=rtol)


def linear_case(offset: float, best: Sequence[float] = (1.0, 2.0)) -> Any:
    """A linear residual whose minimum is at ``best``; the point sits ``offset`` (relative) away."""
    jac = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    noise = np.array([0.05, -0.05, -0.05, 0.05])  # orthogonal to the columns: stderr ~ 0.04
    best = np.array(best)
    point = best * (1.0 + offset)
    residual = jac.dot(point - best) + noise
    return jac, residual, point, best


def test_a_fast_contraction_that_ended_within_tolerance_is_accepted() -> None:
    jac, residual, point, best = linear_case(0.0)
    last = best * 1e-8          # MINPACK's last step: a hundredth of a tolerance
    iterates = [point - last - 10.0 * last, point - last]
    assert polisher().accepts(point, residual, jac, iterates)


def test_slow_contraction_is_not_accepted_even_when_the_steps_are_small() -> None:
    jac, residual, point, best = linear_case(0.0)
    last = best * 5e-8          # a third of a tolerance, shrinking by only 0.8 per step
    iterates = [point - last - last / 0.8, point - last]
    assert not polisher().accepts(point, residual, jac, iterates)


def test_a_point_the_carried_jacobian_would_still_move_is_not_accepted() -> None:
    jac, residual, point, best = linear_case(1e-6)   # ten tolerances from the minimum
    last = best * 1e-9
    iterates = [point - last - 100.0 * last, point - last]
    assert not polisher().accepts(point, residual, jac, iterates)


def test_a_parameter_within_ten_standard_errors_of_zero_is_not_vouched_for() -> None:
    # MINPACK's difference step, relative to the value, drowns in rounding there
    jac, residual, point, best = linear_case(0.0, best=(1.0, 0.2))   # stderr of b: 0.03
    last = np.abs(best) * 1e-9
    iterates = [point - last - 100.0 * last, point - last]
    assert not polisher().accepts(point, residual, jac, iterates)
    jac, residual, point, best = linear_case(0.0, best=(1.0, 2.0))
    assert polisher().accepts(point, residual, jac, [point - last - 100.0 * last, point - last])


def test_without_two_iterates_nothing_is_accepted() -> None:
    jac, residual, point, _ = linear_case(0.0)
    assert not polisher().accepts(point, residual, jac, [point])
    assert not polisher().accepts(point, residual, jac, [point, point])


def test_the_iterates_are_minpacks_last_two_jacobian_points() -> None:
    recorder = Recorder()
    problem = sine_problem(recorder)
    search = engine_module._Search(problem, math.sqrt(engine_module._EPS), 10_000)
    point, residual, _, _ = engine_module._minpack(search, problem.x0.copy(), None,
                                                   LeastsqEngine().settings(problem, {}),
                                                   1e-7, 1e-7)
    iterates = search.iterates()
    assert len(iterates) == 2
    points = [np.asarray(p) for p in recorder.points]
    for base in iterates:
        # each is followed by its forward differences, one parameter at a time
        at = next(i for i, p in enumerate(points) if np.array_equal(p, base))
        moved = [np.flatnonzero(points[at + 1 + j] != base).tolist() for j in range(4)]
        assert moved == [[0], [1], [2], [3]]


class Peak:
    """A Gaussian peak fit (64 points): residual, exact Jacobian, and the exact minimum."""

    x = np.linspace(-5.0, 5.0, 64)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def residual(self, p: np.ndarray) -> np.ndarray:
        return p[0] * np.exp(-((self.x - p[1]) ** 2) / (2.0 * p[2] * p[2])) - self.data

    def jacobian(self, p: np.ndarray) -> np.ndarray:
        x = self.x
        bell = np.exp(-((x - p[1]) ** 2) / (2.0 * p[2] * p[2]))
        return np.column_stack([bell, p[0] * bell * (x - p[1]) / p[2] ** 2,
                                p[0] * bell * (x - p[1]) ** 2 / p[2] ** 3])

    def problem(self, lower: Sequence[float] = (-INF,) * 3,
                upper: Sequence[float] = (INF,) * 3) -> FitProblem:
        return FitProblem(("amp", "cen", "wid"), (5.0, 0.0, 1.0), lower, upper,
                          self.residual, self.x.size)

    def minimum(self, start: Sequence[float] = (5.0, 0.0, 1.0)) -> Any:
        """(best, tolerance): MINPACK at the tightest settings with the exact Jacobian (the
        reference must not depend on differences), and xtol * (|value| + stderr) there."""
        best = scipy_leastsq(self.residual, start, Dfun=self.jacobian, xtol=1e-15,
                             ftol=1e-15, full_output=1)
        best = scipy_leastsq(self.residual, best[0], Dfun=self.jacobian, xtol=1e-15,
                             ftol=1e-15, full_output=1)
        r = self.residual(best[0])
        stderr = np.sqrt(np.diag(best[1]) * r.dot(r) / (self.x.size - 3))
        return best[0], 1e-7 * (np.abs(best[0]) + stderr)

    @classmethod
    def drawn(cls, rng: np.random.Generator, noise: float) -> "Peak":
        amp, cen, wid = rng.uniform(2, 8), rng.uniform(-1, 1), rng.uniform(0.6, 1.6)
        return cls(amp * np.exp(-((cls.x - cen) ** 2) / (2 * wid**2))
                   + rng.normal(scale=noise, size=cls.x.size))


def test_many_small_fits_end_within_a_few_tolerances_of_their_minimum() -> None:
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(60):
        peak = Peak.drawn(rng, 0.05)
        result = LeastsqEngine().run(peak.problem())
        best, tolerance = peak.minimum(result.x)
        worst = max(worst, float(np.max(np.abs(result.x - best) / tolerance)))
    assert worst < 5.0


def test_the_polish_resolves_a_parameter_near_zero() -> None:
    # a peak centred at -5e-5 (its standard error is 3e-3): differences relative to
    # the value alone are lost in rounding, and MINPACK's point is 10 tolerances off
    rng = np.random.default_rng(3)
    x = Peak.x
    truths = np.column_stack([rng.uniform(2, 8, 1000), rng.uniform(-1, 1, 1000),
                              rng.uniform(0.6, 1.6, 1000)])
    noise = [rng.normal(scale=0.05, size=x.size) for _ in range(1000)]
    amp, cen, wid = truths[997]
    peak = Peak(amp * np.exp(-((x - cen) ** 2) / (2 * wid**2)) + noise[997])
    best, tolerance = peak.minimum()
    assert abs(best[1]) < 1e-4
    minpack = LeastsqEngine().run(peak.problem(), polish=False)
    assert np.max(np.abs(minpack.x - best) / tolerance) > 5.0
    result = LeastsqEngine().run(peak.problem())
    assert result.codes["polish_status"] == "refined"
    assert np.max(np.abs(result.x - best) / tolerance) < 2.0


@pytest.mark.parametrize("nvarys", [3, 12])
def test_minpacks_last_jacobian_is_read_back_for_few_and_many_parameters(nvarys: int) -> None:
    rng = np.random.default_rng(nvarys)
    design = rng.standard_normal((60, nvarys))
    data = design.dot(rng.standard_normal(nvarys)) + 0.01 * rng.standard_normal(60)

    def residual(p: np.ndarray) -> np.ndarray:
        # mildly nonlinear, so that MINPACK takes a few iterations
        return design.dot(p) + 0.1 * np.sin(p).sum() - data

    problem = FitProblem(tuple(f"p{k}" for k in range(nvarys)), np.ones(nvarys),
                         (-INF,) * nvarys, (INF,) * nvarys, residual, 60)
    search = engine_module._Search(problem, math.sqrt(engine_module._EPS), 10_000)
    point, r, _, _ = engine_module._minpack(search, problem.x0.copy(), None,
                                            LeastsqEngine().settings(problem, {}), 1e-7, 1e-7)
    assert len(search.iterates()) == 2
    jac = search.last_jacobian(point, r)
    exact = design + 0.1 * np.cos(point)[None, :]
    assert jac is not None and np.max(np.abs(jac - exact)) < 1e-5 * np.abs(exact).max()


def test_remembered_settings_still_refuse_a_bad_value_of_an_equal_number() -> None:
    engine = LeastsqEngine()
    good = engine.settings(sine_problem(), {"polish": True, "maxfev": 50})
    good["maxfev"] = -1                        # the caller's copy, not the remembered one
    assert engine.settings(sine_problem(), {"polish": True, "maxfev": 50})["maxfev"] == 50
    with pytest.raises(EngineOptionError, match="polish"):
        engine.settings(sine_problem(), {"polish": 1, "maxfev": 50})   # 1 == True
    with pytest.raises(EngineOptionError, match="maxfev"):
        engine.settings(sine_problem(), {"polish": True, "maxfev": 50.0})


def test_an_analytic_jacobian_of_the_wrong_shape_is_a_clear_problem_error() -> None:
    problem = FitProblem(NAMES, START, (-INF,) * 4, (INF,) * 4,
                         lambda p: sine_model(p, X) - DATA, X.size,
                         jacobian=lambda p: sine_jacobian(p, X).T)
    with pytest.raises(ProblemError, match=r"shape \(4, 1001\).*\(1001, 4\)"):
        LeastsqEngine().run(problem)


def test_the_callers_start_vector_is_left_alone() -> None:
    problem = sine_problem()
    start = problem.x0.copy()
    search = engine_module._Search(problem, math.sqrt(engine_module._EPS), 10_000)
    v0 = problem.x0.copy()
    engine_module._minpack(search, v0, None, LeastsqEngine().settings(problem, {}), 1e-7, 1e-7)
    assert np.array_equal(v0, start)


def test_a_bounded_large_residual_fit_is_polished_to_its_minimum() -> None:
    # noise 0.5 on a peak of height ~7: Gauss-Newton converges linearly, and after a
    # polish step the carried Jacobian alone would call a point 100 tolerances off done
    rng = np.random.default_rng(11)
    for _ in range(55):
        peak = Peak.drawn(rng, rng.choice([0.005, 0.05, 0.5]))
    best, tolerance = peak.minimum()
    result = LeastsqEngine().run(peak.problem((0.0, -3.0, 0.1), (20.0, 3.0, 5.0)))
    assert np.max(np.abs(result.x - best) / tolerance) < 1.5


def test_a_jacobian_holding_nan_gives_no_step_and_is_not_accepted() -> None:
    jac = np.ones((5, 2))
    jac[0, 0] = np.nan
    step, variance, decrease = refine_module.gauss_newton(jac, np.ones(5))
    assert np.isnan(step).all() and np.isinf(variance).all() and math.isnan(decrease)
    point = np.array([1.0, 2.0])
    assert not polisher().accepts(point, np.ones(5), jac, [point - 0.1, point - 0.01])


def test_the_checks_normal_inverse_goes_to_the_host_for_the_error_bars() -> None:
    problem = FitProblem(NAMES, START, (-INF,) * 4, (INF,) * 4,
                         lambda p: sine_model(p, X) - DATA, X.size)
    result = LeastsqEngine().run(problem)
    assert result.normal_inverse is not None
    assert np.array_equal(result.normal_inverse, lmfit_host.normal_inverse(result.jacobian))
    # through minimize: the same error bars as the host computes from the Jacobian alone
    params = Parameters()
    for name, value in zip(NAMES, START):
        params.add(name, value=value)
    fitted = minimize(lambda p: sine_model([p[n].value for n in NAMES], X) - DATA, params)
    alone = lmfit_host.covariance.estimate_covariance(
        result.jacobian, NAMES, lmfit_host.covariance.fit_statistics(fitted.residual, 4))
    assert fitted.covar == pytest.approx(alone.matrix, rel=1e-6)
    # bounded: the search space is not the user's, nothing is handed over
    bounded = FitProblem(NAMES, START, (0.0, -INF, -INF, -INF), (INF,) * 4,
                         lambda p: sine_model(p, X) - DATA, X.size)
    assert LeastsqEngine().run(bounded).normal_inverse is None


def test_an_exact_fit_with_a_parameter_at_zero_is_not_called_one_without_effect() -> None:
    # MINPACK's relative difference at b = 5e-16 is rounding: its Jacobian column came out
    # 0, the check passed it, and the error bars said "the residual does not change with b"
    x = np.array([1.0, 2.0, 3.0])
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 1.0)
    result = lmfit_host.minimize(lambda p: p["a"].value * x + p["b"].value - 2.0 * x, params)
    assert "the fit is exact" in result.errorbars_reason
    assert abs(params["b"].value) < 1e-12
    weighted = lmfit_host.minimize(lambda p: p["a"].value * x + p["b"].value - 2.0 * x,
                                   params, scale_covar=False)
    # with unit uncertainties: the standard errors of a straight line through three points
    assert weighted.errorbars
    assert [params["a"].stderr, params["b"].stderr] == pytest.approx(
        [math.sqrt(1 / 2), math.sqrt(14 / 6)], rel=1e-6)


@pytest.mark.parametrize("offset", [2.5, 2.8, 3.2])
def test_a_start_just_above_a_bound_at_a_million_is_left_where_it_was_put(offset: float) -> None:
    # a narrow peak at 1e6 + 3: moved ten units in (a tenth of a mille of the bound), these
    # starts found another minimum
    x = np.linspace(1e6 - 5.0, 1e6 + 15.0, 201)
    y = 100.0 * np.exp(-0.5 * ((x - 1e6 - 3.0) / 0.7) ** 2) \
        + np.random.default_rng(2).normal(0.0, 1.0, x.size)
    params = Parameters()
    params.add("a", 80.0)
    params.add("c", 1e6 + offset, min=1e6)
    params.add("w", 0.7, min=0.01)
    transform = lmfit_host.problem.BoundsTransform([1e6], [INF])
    assert engine_module.off_the_bounds(transform, transform.to_internal([1e6 + offset]),
                                        math.sqrt(np.finfo(float).eps)) is None
    lmfit_host.minimize(lambda p: p["a"].value * np.exp(
        -0.5 * ((x - p["c"].value) / p["w"].value) ** 2) - y, params)
    assert params["c"].value == pytest.approx(1e6 + 3.0, abs=0.05)


def test_a_tiny_start_above_a_bound_at_zero_keeps_its_size() -> None:
    # a start of 1e-18 may be the size the user expects (a rate constant of 3e-7, say):
    # moving it to 0.1 sent such a fit astray; only a start exactly on the bound moves
    transform = lmfit_host.problem.BoundsTransform([0.0, 0.0], [INF, INF])
    moved = engine_module.off_the_bounds(transform, transform.to_internal([1e-18, 0.0]), 1.5e-8)
    assert transform.to_external(moved).tolist() == pytest.approx([1e-18, 0.1])
