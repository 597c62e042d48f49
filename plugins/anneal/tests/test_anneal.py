"""Tests of the anneal engine: the seed's examples, bounds, constraints, options, global search."""

from __future__ import annotations

import math
from typing import Any, List

import numpy as np
import pytest
from scipy.optimize import leastsq

from lmfit_host import (EngineOptionError, FitAborted, FitProblem, Minimizer, Parameters,
                        ProblemError, engine_names, minimize)
from lmfit_host_anneal import AnnealEngine
from lmfit_host_anneal.engine import parse_options, search_box
from lmfit_host_anneal.schedules import BoltzmannSchedule, CauchySchedule, FastSchedule

# --- the seed's damped sine ------------------------------------------------------

X = np.linspace(0.0, 250.0, 2500)
TRUE = {"amp": 14.0, "period": 5.33, "shift": 0.123, "decay": 0.010}


def damped_sine(pars: Parameters, x: np.ndarray, data: Any = None) -> np.ndarray:
    """The seed's residual: amp*sin(shift + x/period)*exp(-x*x*decay*decay), shift folded."""
    amp = pars["amp"].value
    per = pars["period"].value
    shift = pars["shift"].value
    decay = pars["decay"].value
    if abs(shift) > math.pi / 2:
        shift = shift - math.copysign(math.pi, shift)
    model = amp * np.sin(shift + x / per) * np.exp(-x * x * decay * decay)
    return model if data is None else model - data


def true_params() -> Parameters:
    params = Parameters()
    for name, value in TRUE.items():
        params.add(name, value=value)
    return params


DATA = damped_sine(true_params(), X) + np.random.default_rng(7).normal(scale=0.7215, size=X.size)


def start_params(period: float = 2.0, decay: float = 0.02, bounded: bool = False) -> Parameters:
    """The seed's start values, optionally with the seed anneal example's bounds."""
    params = Parameters()
    if bounded:
        params.add("amp", value=13.0, min=-5, max=40)
        params.add("period", value=period, min=0, max=7)
        params.add("shift", value=0.0, min=-1.5, max=1.5)
        params.add("decay", value=decay, min=0, max=1.0)
    else:
        params.add("amp", value=13.0)
        params.add("period", value=period)
        params.add("shift", value=0.0)
        params.add("decay", value=decay)
    return params


def best_chisqr() -> float:
    """Chi-square of the global minimum: MINPACK started at the true values."""
    found = leastsq(lambda p: sine_residual(p), np.array(list(TRUE.values())), full_output=True)
    return float(np.sum(found[2]["fvec"] ** 2))


def sine_residual(p: np.ndarray) -> np.ndarray:
    """damped_sine on a plain vector, for SciPy's leastsq."""
    amp, per, shift, decay = p
    if abs(shift) > math.pi / 2:
        shift = shift - math.copysign(math.pi, shift)
    return amp * np.sin(shift + X / per) * np.exp(-X * X * decay * decay) - DATA


GLOBAL_CHISQR = best_chisqr()


def at_global_minimum(chisqr: float) -> bool:
    return chisqr <= GLOBAL_CHISQR * (1.0 + 1e-7)


def fit(params: Parameters, **options: Any):
    return minimize(damped_sine, params, engine="anneal", args=(X,), kws={"data": DATA},
                    **options)


# --- a small direct problem for engine-level tests ---------------------------------

def cosine_problem(lower=(-np.inf, 0.0), upper=(np.inf, 4.0), calls: List[int] = None,
                   **kwargs: Any) -> FitProblem:
    x = np.linspace(0.0, 10.0, 101)
    data = 3.0 * np.cos(1.7 * x)

    def residual(p: np.ndarray) -> np.ndarray:
        if calls is not None:
            calls.append(1)
        return p[0] * np.cos(p[1] * x) - data

    return FitProblem(["amp", "freq"], [1.0, 1.0], list(lower), list(upper), residual, x.size,
                      **kwargs)


# --- registration ------------------------------------------------------------------

def test_engine_is_registered_under_the_name_anneal():
    assert "anneal" in engine_names()


def test_minimizer_anneal_method_runs_the_engine():
    mini = Minimizer(damped_sine, start_params(), fcn_args=(X,), fcn_kws={"data": DATA})
    result = mini.anneal(seed=1)
    assert result.engine == "anneal"
    assert at_global_minimum(result.chisqr)


# --- the seed's examples -------------------------------------------------------------

def test_seed_example_without_bounds_reaches_the_global_minimum_with_error_bars():
    params = start_params()
    result = fit(params, seed=2)
    assert result.success
    assert at_global_minimum(result.chisqr)
    assert result.errorbars
    # sign flips of period, decay (and amp with shift) give the same curve
    period = result.params["period"]
    assert abs(abs(period.value) - TRUE["period"]) < 5 * period.stderr
    assert abs(abs(result.params["decay"].value) - TRUE["decay"]) < 1e-3
    # the user's own Parameters receive the best values and error bars (seed behaviour)
    assert params["amp"].value == pytest.approx(result.params["amp"].value)
    assert params["amp"].stderr == pytest.approx(result.params["amp"].stderr)


def test_seed_example_with_bounds_and_Tf_reaches_the_global_minimum():
    result = fit(start_params(bounded=True), Tf=1000, seed=3)
    assert at_global_minimum(result.chisqr)
    assert result.errorbars
    for name, p in result.params.items():
        assert p.min <= p.value <= p.max, name


def test_polished_values_are_as_precise_as_leastsq():
    result = fit(start_params(), seed=4)
    reference = leastsq(sine_residual, np.array([result.params[n].value for n in TRUE]),
                        full_output=True)
    assert result.polished
    assert result.chisqr == pytest.approx(float(np.sum(reference[2]["fvec"] ** 2)), rel=1e-10)
    for name, value in zip(TRUE, reference[0]):
        assert result.params[name].value == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_stderr_matches_minpack_covariance():
    result = fit(start_params(), seed=5)
    values = np.array([result.params[name].value for name in TRUE])
    found = leastsq(sine_residual, values, full_output=True)
    redchi = float(np.sum(found[2]["fvec"] ** 2)) / (X.size - len(TRUE))
    stderr = np.sqrt(np.diag(found[1]) * redchi)
    for name, expected in zip(TRUE, stderr):
        assert result.params[name].stderr == pytest.approx(expected, rel=1e-3)


# --- bounds, constraints, codes ------------------------------------------------------

def test_bounded_parameters_stay_inside_their_bounds():
    params = start_params()
    params["amp"].set(min=0.0, max=13.5)  # the true 14 lies outside: the fit ends at the bound
    result = fit(params, seed=6)
    assert 0.0 <= result.params["amp"].value <= 13.5
    assert result.params["amp"].value == pytest.approx(13.5, abs=1e-6)


def test_one_sided_bounds_search_from_the_bound():
    params = start_params(period=1.0, decay=0.01)
    params["decay"].set(min=0.0)
    params["period"].set(min=0.5)
    result = fit(params, seed=7)
    assert at_global_minimum(result.chisqr)
    assert result.params["decay"].value > 0.0


def test_expression_constraint_is_respected():
    params = Parameters()
    params.add("amp", value=13.0)
    params.add("frequency", value=1.0, min=0.05, max=2.0)
    params.add("period", expr="1/frequency")
    params.add("shift", value=0.0, min=-1.5, max=1.5)
    params.add("decay", value=0.01, min=0.0, max=0.2)
    result = fit(params, seed=8)
    assert at_global_minimum(result.chisqr)
    assert result.params["period"].value == pytest.approx(1.0 / result.params["frequency"].value)
    assert result.params["period"].stderr is not None and result.params["period"].stderr > 0


def test_result_carries_the_engine_codes():
    result = fit(start_params(), seed=9)
    assert result.schedule == "fast"
    assert result.nit >= 1
    assert 0 < result.naccept <= result.nfev
    assert 0.0 < result.T_final < result.T0
    assert result.polished is True
    assert result.search_chisqr >= result.chisqr
    assert result.search_nfev < result.nfev


def test_polish_false_returns_the_search_point():
    result = fit(start_params(), seed=10, polish=False)
    assert result.polished is False
    assert result.chisqr == pytest.approx(result.search_chisqr)


@pytest.mark.parametrize("schedule", ["cauchy", "boltzmann"])
def test_classic_schedules_reach_the_global_minimum(schedule):
    result = fit(start_params(), schedule=schedule, maxiter=100, seed=11)
    assert result.schedule == schedule
    assert at_global_minimum(result.chisqr)


@pytest.mark.parametrize("bounded", [False, True])
def test_gsa_schedule_reaches_the_global_minimum(bounded):
    result = fit(start_params(period=1.0, decay=0.01, bounded=bounded), schedule="gsa",
                 maxiter=100, seed=12)
    assert result.schedule == "gsa"
    assert at_global_minimum(result.chisqr)
    assert result.errorbars


def test_analytic_jacobian_is_used_by_the_polish():
    calls = []

    def dfun(pars, x, data=None):
        calls.append(1)
        amp, per, shift, decay = (pars[n].value for n in TRUE)
        envelope = np.exp(-x * x * decay * decay)
        phase = shift + x / per
        return np.column_stack([np.sin(phase) * envelope,
                                -amp * np.cos(phase) * envelope * x / per ** 2,
                                amp * np.cos(phase) * envelope,
                                -2.0 * decay * x * x * amp * np.sin(phase) * envelope])

    params = start_params()
    params["shift"].set(min=-1.5, max=1.5)  # keep the seed's shift folding out of the way
    result = fit(params, Dfun=dfun, seed=13)
    assert calls
    assert at_global_minimum(result.chisqr)


def test_nan_residuals_are_rejected_with_nan_policy_propagate():
    def residual(pars, x, data):
        with np.errstate(invalid="ignore"):
            return np.sqrt(pars["scale"].value) * np.ones_like(x) * pars["amp"].value - data

    x = np.linspace(0.0, 1.0, 20)
    params = Parameters()
    params.add("scale", value=0.5)  # the default box reaches below 0, where sqrt is NaN
    params.add("amp", value=1.0)
    result = minimize(residual, params, engine="anneal", args=(x, np.full(20, 2.0)),
                      nan_policy="propagate", seed=14)
    assert result.chisqr == pytest.approx(0.0, abs=1e-12)


# --- progress and budget ---------------------------------------------------------------

def test_iter_cb_returning_true_stops_with_the_best_point_so_far():
    seen = []

    def stop_after_300(params, nfev, residual, *args, **kws):
        seen.append(float(np.sum(residual ** 2)))
        return nfev >= 300

    result = fit(start_params(), iter_cb=stop_after_300, seed=15)
    assert result.aborted
    assert not result.success
    # evaluation 1 is the host's look at the start values, before the engine runs
    assert len(seen) == 299
    assert result.chisqr <= min(seen)


def test_max_nfev_leaves_room_for_the_polish():
    result = fit(start_params(), max_nfev=800, seed=16)
    assert not result.aborted
    assert result.polished
    assert result.search_nfev < 800


@pytest.mark.parametrize("schedule", ["fast", "gsa"])
def test_fit_aborted_propagates_out_of_run(schedule):
    problem = cosine_problem(callback=lambda x, r, nfev: nfev >= 30)
    with pytest.raises(FitAborted):
        AnnealEngine().run(problem, seed=0, schedule=schedule)
    assert problem.nfev == 30


def test_search_stays_within_max_nfev_and_keeps_room_to_polish():
    problem = cosine_problem(max_nfev=200)
    result = AnnealEngine().run(problem, seed=0)
    assert result.codes["search_nfev"] <= 160
    assert result.codes["polished"]
    assert problem.nfev <= 200


# --- reproducibility ---------------------------------------------------------------------

def test_same_seed_repeats_the_same_run():
    first = fit(start_params(), seed=17)
    second = fit(start_params(), seed=17)
    assert first.nfev == second.nfev
    assert first.search_chisqr == second.search_chisqr
    assert [p.value for p in first.params.values()] == [p.value for p in second.params.values()]


def test_different_seeds_take_different_paths():
    first, second = fit(start_params(), seed=18), fit(start_params(), seed=19)
    assert (first.search_nfev, first.search_chisqr) != (second.search_nfev, second.search_chisqr)


def test_seed_accepts_a_numpy_generator():
    problem = cosine_problem()
    result = AnnealEngine().run(problem, seed=np.random.default_rng(3))
    assert result.x == pytest.approx([3.0, 1.7])


# --- up-front errors ---------------------------------------------------------------------

def run_expecting(error, calls: List[int], **options: Any) -> str:
    problem = cosine_problem(calls=calls)
    with pytest.raises(error) as info:
        AnnealEngine().run(problem, **options)
    assert not calls, "the engine evaluated the residual before refusing"
    return str(info.value)


def test_unknown_option_is_named_with_the_engine_and_the_valid_options():
    message = run_expecting(EngineOptionError, [], temprature=5.0)
    assert "'temprature'" in message and "'anneal'" in message
    assert "T0" in message and "dwell" in message and "seed" in message


def test_unknown_option_through_minimize_fails_before_fitting():
    with pytest.raises(EngineOptionError, match="'colling'"):
        fit(start_params(), colling="fast")


def test_retired_scipy_keyword_says_why_it_is_not_needed():
    message = run_expecting(EngineOptionError, [], full_output=1)
    assert "full_output" in message and "nit" in message


def test_negative_T0_is_refused():
    message = run_expecting(EngineOptionError, [], T0=-1.0)
    assert "T0=-1.0" in message and "greater than 0" in message


def test_unknown_schedule_lists_the_valid_ones():
    message = run_expecting(EngineOptionError, [], schedule="quantum")
    assert "'quantum'" in message
    for name in ("'fast'", "'cauchy'", "'boltzmann'", "'gsa'"):
        assert name in message


@pytest.mark.parametrize("options, words", [
    ({"dwell": 0}, ["dwell=0", "at least 1"]),
    ({"maxiter": 2.5}, ["maxiter=2.5", "whole number"]),
    ({"feps": -1e-3}, ["feps", "negative"]),
    ({"learn_rate": 0.0, "schedule": "cauchy"}, ["learn_rate", "greater than 0"]),
    ({"polish": "yes"}, ["polish", "True or False"]),
    ({"seed": "abc"}, ["seed", "default_rng"]),
    ({"span": float("inf")}, ["span", "finite"]),
    ({"dwell": 10, "schedule": "gsa"}, ["'dwell'", "'gsa'"]),
    ({"learn_rate": 0.3}, ["'learn_rate'", "cauchy"]),
    ({"lower": [0.0]}, ["lower", "1 values for 2"]),
    ({"lower": {"ampp": 0.0}}, ["'ampp'", "amp, freq"]),
    ({"lower": {"freq": 3.0}, "upper": {"freq": 2.0}}, ["'freq'", "empty"]),
    ({"upper": {"freq": -1.0}}, ["'freq'", "empty"]),
])
def test_bad_option_values_are_refused_naming_the_option(options, words):
    message = run_expecting(EngineOptionError, [], **options)
    for word in words:
        assert word in message


def test_min_equal_to_max_is_refused_naming_engine_and_parameter():
    problem = FitProblem(["amp", "freq"], [1.0, 2.0], [-np.inf, 2.0], [np.inf, 2.0],
                         lambda p: np.zeros(3), 3)
    with pytest.raises(ProblemError) as info:
        AnnealEngine().run(problem)
    message = str(info.value)
    assert "'anneal'" in message and "'freq'" in message and "vary=False" in message
    assert problem.nfev == 0


def test_min_equal_to_max_through_minimize_fails_up_front():
    params = start_params()
    params["decay"].set(value=0.01, min=0.01, max=0.01)
    with pytest.raises(ProblemError, match="'decay'"):
        fit(params)


# --- search box and schedules (units) -------------------------------------------------

def test_default_search_box_spans_span_times_start_or_the_bounds():
    problem = FitProblem(list("abcd"), [2.0, 0.0, 0.02, -3.0],
                         [-np.inf, -np.inf, 0.0, -4.0], [np.inf, np.inf, np.inf, 10.0],
                         lambda p: np.zeros(4), 4)
    low, high = search_box(problem, parse_options({}))
    assert list(low) == pytest.approx([-8.0, -5.0, 0.0, -4.0])
    assert list(high) == pytest.approx([12.0, 5.0, 0.12, 10.0])


def test_lower_upper_options_set_the_box_inside_the_bounds():
    problem = FitProblem(list("ab"), [1.0, 1.0], [0.0, -np.inf], [5.0, np.inf],
                         lambda p: np.zeros(2), 2)
    low, high = search_box(problem, parse_options({"lower": -100, "upper": {"b": 3.0}}))
    assert list(low) == [0.0, -100.0]
    assert list(high) == [5.0, 3.0]


def test_fast_schedule_cools_exponentially_and_moves_within_one_box_width():
    schedule = FastSchedule(quench=1.0, m=1.0, n=1.0)
    c = math.exp(-1.0)
    assert schedule.relative_temperature(10) == pytest.approx(math.exp(-10 * c))
    moves = schedule.steps(1e-200, 1000, 3, np.random.default_rng(0))
    assert np.all(np.isfinite(moves)) and np.all(np.abs(moves) <= 1.0)


def test_cauchy_and_boltzmann_laws():
    assert CauchySchedule(0.5).relative_temperature(9) == pytest.approx(0.1)
    assert BoltzmannSchedule(0.5).relative_temperature(0) == pytest.approx(1.0)
    assert BoltzmannSchedule(0.5).relative_temperature(100) == pytest.approx(
        1 / math.log(100 + math.e))


def test_engine_documents_every_option():
    engine = AnnealEngine()
    for name in ("schedule", "T0", "Tf", "maxeval", "maxaccept", "maxiter", "dwell", "lower",
                 "upper", "learn_rate", "quench", "m", "n", "feps", "boltzmann", "seed"):
        assert engine.options[name]


# --- the global search ---------------------------------------------------------------

GLOBAL_START = {"period": 1.0, "decay": 0.01}


def test_leastsq_from_the_global_test_start_stops_in_a_wrong_minimum():
    start = np.array([13.0, GLOBAL_START["period"], 0.0, GLOBAL_START["decay"]])
    found = leastsq(sine_residual, start, full_output=True)
    assert float(np.sum(found[2]["fvec"] ** 2)) > 10 * GLOBAL_CHISQR


def test_anneal_from_the_same_start_reaches_the_global_minimum_in_19_of_20_seeds():
    hits = 0
    for seed in range(20):
        result = fit(start_params(**GLOBAL_START), seed=seed)
        hits += at_global_minimum(result.chisqr)
    assert hits >= 19


def test_unbounded_model_that_can_overflow_still_fits():
    import lmfit_host

    x = np.linspace(0, 10, 48)
    data = 3.0 * np.exp(-x / 2.0) + np.random.default_rng(0).normal(0, 0.01, x.size)
    params = lmfit_host.Parameters()
    params.add("a", value=1.0)
    params.add("b", value=1.0)

    def residual(p):
        return p["a"].value * np.exp(-x / p["b"].value) - data

    with np.errstate(all="ignore"):
        lmfit_host.minimize(residual, params, engine="anneal", seed=3)
    assert params["a"].value == pytest.approx(3.0, rel=1e-2)
    assert params["b"].value == pytest.approx(2.0, rel=1e-2)
