"""Tests of the lbfgsb engine: on FitProblem objects directly, and through the host's fitting API."""

from __future__ import annotations

import math
import warnings
from typing import Optional, Sequence

import numpy as np
import pytest
from scipy.optimize import leastsq

from lmfit_host import EngineOptionError, FitAborted, FitProblem, ProblemError
from lmfit_host_lbfgsb import DEFAULTS, OPTIONS, LbfgsbEngine, lmfit_host_register_engines

TRUE = (14.0, 5.33, 0.123, 0.010)  # amp, period, shift, decay of the seed's damped sine
SEED_START = (13.0, 2.0, 0.0, 0.02)
NAMES = ("amp", "period", "shift", "decay")
INF = math.inf


def sine_data(seed: int = 0, n: int = 1001):
    """The seed's example: x in [0, 250], noise of 0.7215 on a damped sine."""
    x = np.linspace(0.0, 250.0, n)
    rng = np.random.default_rng(seed)
    return x, sine_model(TRUE, x) + rng.normal(scale=0.7215, size=n)


def sine_model(p: Sequence[float], x: np.ndarray) -> np.ndarray:
    amp, period, shift, decay = p
    return amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)


def sine_jacobian(p: Sequence[float], x: np.ndarray) -> np.ndarray:
    amp, period, shift, decay = p
    phase = shift + x / period
    envelope = np.exp(-x * x * decay * decay)
    sin, cos = np.sin(phase) * envelope, np.cos(phase) * envelope
    return np.column_stack([sin, -amp * cos * x / period**2, amp * cos, -2.0 * amp * sin * x * x * decay])


def sine_problem(start=SEED_START, lower=(-INF,) * 4, upper=(INF,) * 4, seed: int = 0,
                 dfun: bool = False, factor: float = 1.0, max_nfev: Optional[int] = None) -> FitProblem:
    x, data = sine_data(seed)
    return FitProblem(NAMES, start, lower, upper, lambda p: factor * (sine_model(p, x) - data), x.size,
                      jacobian=(lambda p: factor * sine_jacobian(p, x)) if dfun else None,
                      max_nfev=max_nfev)


def reference_fit(start=SEED_START, seed: int = 0, fixed: Optional[dict] = None) -> np.ndarray:
    """Levenberg-Marquardt (MINPACK) at tight tolerances: the minimum to compare with."""
    x, data = sine_data(seed)
    fixed = fixed or {}
    free = [i for i in range(4) if i not in fixed]

    def full(q):
        p = np.empty(4)
        p[free] = q
        for i, v in fixed.items():
            p[i] = v
        return p

    q, ier = leastsq(lambda q: sine_model(full(q), x) - data, np.array(start, dtype=float)[free],
                     xtol=1e-14, ftol=1e-14, maxfev=20000)
    assert ier in (1, 2, 3, 4)
    return full(q)


def canonical(p: Sequence[float]) -> np.ndarray:
    """One representative of the damped sine's equivalent points (decay -> -decay, amp -> -amp ...)."""
    amp, period, shift, decay = p
    if amp < 0:
        amp, shift = -amp, shift + math.pi
    return np.array([amp, period, (shift + math.pi) % (2 * math.pi) - math.pi, abs(decay)])


def digits(value: np.ndarray, reference: np.ndarray) -> float:
    """Matching significant digits of the worst parameter."""
    error = np.max(np.abs(np.asarray(value) - reference) / np.abs(reference))
    return math.inf if error == 0 else -math.log10(error)


# -- reaching the minimum --------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed_example_reaches_the_leastsq_minimum(seed):
    problem = sine_problem(seed=seed)
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    assert digits(canonical(result.x), canonical(reference_fit(seed=seed))) >= 6


def test_seed_example_with_bounds_reaches_the_leastsq_minimum_itself():
    # the bounded version of the seed example (amp, shift and decay boxed): one representative only
    problem = sine_problem(lower=(0.0, -INF, -math.pi / 2, 0.0), upper=(20.0, 10.0, math.pi / 2, 0.1))
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    assert digits(result.x, reference_fit()) >= 6


def test_solution_does_not_depend_on_the_size_of_the_sum_of_squares():
    reference = canonical(reference_fit())
    for factor in (1e-6, 1e6):
        result = LbfgsbEngine().run(sine_problem(factor=factor))
        assert digits(canonical(result.x), reference) >= 6, factor


def test_parameters_of_very_different_magnitudes_converge():
    # NIST Misra1a from its first start: b1 ~ 240, b2 ~ 5.5e-4
    x = np.array([77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8,
                  593.1, 689.1, 760.0])
    y = np.array([10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01,
                  66.40, 75.47, 81.78])
    problem = FitProblem(["b1", "b2"], [500.0, 1e-4], [-INF] * 2, [INF] * 2,
                         lambda b: b[0] * (1 - np.exp(-b[1] * x)) - y, x.size)
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    assert digits(result.x, np.array([2.3894212918e02, 5.5015643181e-04])) >= 6


# -- bounds ----------------------------------------------------------------------------


def test_parameter_pinned_at_its_upper_bound_stays_exactly_there():
    problem = sine_problem(start=(13.0, 5.0, 0.0, 0.02), upper=(13.5, INF, INF, INF))
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    assert result.x[0] == 13.5
    others = reference_fit(start=(13.5, 5.0, 0.0, 0.02), fixed={0: 13.5})
    assert digits(canonical(result.x)[1:], canonical(others)[1:]) >= 6
    # the gradient still pushes amp against its bound; grad_norm leaves that out
    x, data = sine_data()
    r = sine_model(result.x, x) - data
    push = abs(2.0 * sine_jacobian(result.x, x)[:, 0].dot(r))
    assert result.codes["grad_norm"] < 1e-3 * push


def test_points_never_leave_the_bounds():
    lower, upper = (12.0, 4.0, -0.5, 0.0), (13.8, 6.0, 0.5, 0.05)
    x, data = sine_data()
    seen = []

    def residual(p):
        seen.append(np.array(p))
        return sine_model(p, x) - data

    problem = FitProblem(NAMES, (13.0, 5.0, 0.0, 0.02), lower, upper, residual, x.size)
    result = LbfgsbEngine().run(problem)
    points = np.array(seen)
    assert np.all(points >= lower) and np.all(points <= upper)
    assert result.x[0] == 13.8  # amp wants 13.96: pinned at its max


def test_bounded_and_unbounded_parameters_mix():
    problem = sine_problem(start=(13.0, 5.0, 0.0, 0.02), lower=(0.0, -INF, -1.0, -INF),
                           upper=(INF, INF, 1.0, INF))
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    assert digits(canonical(result.x), canonical(reference_fit())) >= 6


def test_start_outside_bounds_is_moved_inside():
    problem = sine_problem(start=(30.0, 5.0, 0.0, 0.02), upper=(20.0, INF, INF, INF))
    result = LbfgsbEngine().run(problem)
    assert result.x[0] <= 20.0
    assert digits(canonical(result.x), canonical(reference_fit())) >= 6


def test_parameter_with_equal_bounds_is_held_fixed():
    problem = sine_problem(start=(14.0, 5.0, 0.0, 0.02), lower=(14.0, -INF, -INF, -INF),
                           upper=(14.0, INF, INF, INF))
    result = LbfgsbEngine().run(problem)
    assert result.x[0] == 14.0


# -- the gradient ------------------------------------------------------------------------


def test_user_jacobian_replaces_differencing():
    x, data = sine_data()
    calls = {"residual": 0, "jacobian": 0}

    def residual(p):
        calls["residual"] += 1
        return sine_model(p, x) - data

    def jacobian(p):
        calls["jacobian"] += 1
        return sine_jacobian(p, x)

    problem = FitProblem(NAMES, (13.0, 5.0, 0.0, 0.02), [-INF] * 4, [INF] * 4, residual, x.size,
                         jacobian=jacobian)
    result = LbfgsbEngine().run(problem)
    assert result.success, result.message
    # one Jacobian per residual (value and gradient together), plus one for the result
    assert calls["jacobian"] == calls["residual"] + 1
    assert result.jacobian is not None and result.jacobian.shape == (x.size, 4)
    assert digits(canonical(result.x), canonical(reference_fit())) >= 6


def test_differenced_gradient_costs_one_residual_per_parameter():
    problem = sine_problem(start=(13.0, 5.0, 0.0, 0.02))
    result = LbfgsbEngine().run(problem)
    assert problem.nfev % (problem.nvarys + 1) == 0  # every evaluation is value + n differences
    assert result.jacobian is None  # the host differences centrally for error bars


def test_epsilon_sets_an_absolute_difference_step():
    x, data = sine_data()
    seen = []

    def residual(p):
        seen.append(np.array(p))
        return sine_model(p, x) - data

    problem = FitProblem(NAMES, (13.0, 5.0, 0.0, 0.02), [-INF] * 4, [INF] * 4, residual, x.size)
    result = LbfgsbEngine().run(problem, epsilon=[1e-6, 1e-7, 1e-7, 1e-9])
    steps = np.abs(seen[1:5] - seen[0]).max(axis=1)
    np.testing.assert_allclose(steps, [1e-6, 1e-7, 1e-7, 1e-9], rtol=1e-6)
    assert digits(canonical(result.x), canonical(reference_fit())) >= 5


# -- options -----------------------------------------------------------------------------


def test_unknown_option_is_refused_before_any_evaluation():
    problem = sine_problem()
    with pytest.raises(EngineOptionError) as caught:
        LbfgsbEngine().run(problem, xtol=1e-8)
    message = str(caught.value)
    assert "'xtol'" in message and "lbfgsb" in message
    assert "ftol" in message and "maxfun" in message  # lists the valid ones
    assert problem.nfev == 0


@pytest.mark.parametrize("pair", [("factr", "ftol"), ("pgtol", "gtol"), ("m", "maxcor"), ("epsilon", "eps")])
def test_both_names_of_one_setting_conflict(pair):
    first, second = pair
    with pytest.raises(EngineOptionError, match=f"'{first}' and '{second}'|'{second}' and '{first}'"):
        LbfgsbEngine().run(sine_problem(), **{first: 1e-3, second: 1e-3})


@pytest.mark.parametrize("options", [{"m": 0}, {"maxiter": 2.5}, {"maxfun": "many"}, {"ftol": -1.0},
                                     {"gtol": math.nan}, {"factr": "tight"}, {"maxls": True},
                                     {"epsilon": [1e-8, 1e-8]}, {"epsilon": 0.0}])
def test_bad_option_values_are_refused_by_name(options):
    (name,) = options
    problem = sine_problem()
    with pytest.raises(EngineOptionError, match=name):
        LbfgsbEngine().run(problem, **options)
    assert problem.nfev == 0


def test_factr_is_ftol_in_units_of_machine_epsilon():
    by_ftol = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)), ftol=1e-10)
    by_factr = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)),
                                  factr=1e-10 / np.finfo(float).eps)
    np.testing.assert_array_equal(by_ftol.x, by_factr.x)


def test_scipy_spellings_are_accepted():
    result = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)), maxcor=15, pgtol=1e-10,
                                eps=1e-8, maxls=30)
    assert result.success, result.message


def test_print_options_are_accepted_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)), iprint=-1, disp=False)
    assert result.success


def test_iteration_limit_ends_without_success_and_says_what_to_raise():
    result = LbfgsbEngine().run(sine_problem(), maxiter=3)
    assert not result.success
    assert result.codes["warnflag"] == 1 and result.codes["nit"] == 3
    assert "maxiter" in result.message


def test_defaults_are_documented_in_options():
    for name in DEFAULTS:
        assert name in OPTIONS
    assert "default 20" in OPTIONS["m"] and "default 1e-13" in OPTIONS["ftol"]


# -- results and contract --------------------------------------------------------------------


def test_result_codes_report_iterations_status_and_gradient():
    result = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)))
    codes = result.codes
    assert codes["nit"] > 0 and codes["warnflag"] == 0 and codes["status"] == 0
    _, start_gradient = sine_problem(start=(13.0, 5.0, 0.0, 0.02)).gradient(np.array([13.0, 5.0, 0.0, 0.02]))
    assert 0.0 <= codes["grad_norm"] < 1e-6 * np.abs(start_gradient).max()
    assert "CONVERGENCE" in codes["lbfgsb_message"]


def test_evaluation_budget_stops_the_fit_by_fitaborted():
    problem = sine_problem(max_nfev=20)
    with pytest.raises(FitAborted):
        LbfgsbEngine().run(problem)
    assert problem.nfev == 20


def test_exact_start_returns_at_once():
    x = np.linspace(0.0, 1.0, 11)
    problem = FitProblem(["a"], [2.0], [-INF], [INF], lambda p: p[0] * x - 2.0 * x, x.size)
    result = LbfgsbEngine().run(problem)
    assert result.success and result.x[0] == 2.0 and problem.nfev == 1


def test_start_where_the_model_is_undefined_is_a_problem_error():
    x = np.linspace(0.0, 1.0, 11)
    problem = FitProblem(["a"], [-1.0], [-INF], [INF], lambda p: np.sqrt(p[0]) * x - x, x.size,
                         nan_policy="propagate")
    with np.errstate(invalid="ignore"), pytest.raises(ProblemError, match="lbfgsb.*a=-1"):
        LbfgsbEngine().run(problem)


def test_undefined_region_met_during_the_search_is_stepped_back_from():
    # sqrt(p) is NaN for p < 0; the minimum (p = 0.04) lies close to that edge
    x = np.linspace(0.0, 1.0, 11)
    problem = FitProblem(["p"], [9.0], [-INF], [INF], lambda p: np.sqrt(p[0]) * x - 0.2 * x, x.size,
                         nan_policy="propagate")
    with np.errstate(invalid="ignore"):
        result = LbfgsbEngine().run(problem)
    assert result.x[0] == pytest.approx(0.04, rel=1e-6)


def test_no_varied_parameter_is_a_trivial_success():
    problem = FitProblem([], [], [], [], lambda p: np.ones(3), 3)
    result = LbfgsbEngine().run(problem)
    assert result.success and result.x.size == 0


def test_plugin_hook_registers_the_engine():
    registered = []
    lmfit_host_register_engines(registered.append)
    (engine,) = registered
    assert engine.name == "lbfgsb" and engine.description and engine.options is OPTIONS


def test_blas_runs_single_threaded_during_the_search():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, data = sine_data()
    seen = []

    def residual(p):
        if len(seen) == 5:  # once, inside SciPy's loop
            seen.append([lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                         if lib["user_api"] == "blas"])
        seen.append(None)
        return sine_model(p, x) - data

    problem = FitProblem(NAMES, (13.0, 5.0, 0.0, 0.02), [-INF] * 4, [INF] * 4, residual, x.size)
    LbfgsbEngine().run(problem)
    threads = [entry for entry in seen if entry is not None][0]
    assert threads and set(threads) == {1}


@pytest.mark.parametrize("threads", [0, -1, 1.5, "all"])
def test_blas_threads_must_be_a_positive_count_or_none(threads):
    with pytest.raises(EngineOptionError, match="blas_threads"):
        LbfgsbEngine().run(sine_problem(), blas_threads=threads)


def test_blas_threads_none_leaves_blas_alone():
    result = LbfgsbEngine().run(sine_problem(start=(13.0, 5.0, 0.0, 0.02)), blas_threads=None)
    assert result.success
