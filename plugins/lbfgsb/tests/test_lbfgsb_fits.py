"""The lbfgsb engine through the host: minimize(..., engine='lbfgsb'), Minimizer.lbfgsb(), error bars."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmfit_host import EngineOptionError, Minimizer, Parameters, engine_names, minimize

TRUE = dict(amp=14.0, period=5.33, shift=0.123, decay=0.010)


def residual(params, x, data=None):
    """The seed's damped sine, written as the seed's documentation writes it."""
    amp = params["amp"].value
    period = params["period"].value
    shift = params["shift"].value
    decay = params["decay"].value
    model = amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)
    return model if data is None else model - data


def jacobian(params, x, data=None):
    amp, period = params["amp"].value, params["period"].value
    shift, decay = params["shift"].value, params["decay"].value
    phase = shift + x / period
    envelope = np.exp(-x * x * decay * decay)
    sin, cos = np.sin(phase) * envelope, np.cos(phase) * envelope
    return np.column_stack([sin, -amp * cos * x / period**2, amp * cos, -2.0 * amp * sin * x * x * decay])


@pytest.fixture(scope="module")
def sine():
    x = np.linspace(0.0, 250.0, 1001)
    truth = Parameters()
    for name, value in TRUE.items():
        truth.add(name, value=value)
    rng = np.random.default_rng(3)
    return x, residual(truth, x) + rng.normal(scale=0.7215, size=x.size)


def seed_params(**bounds) -> Parameters:
    params = Parameters()
    for name, value in dict(amp=13.0, period=2.0, shift=0.0, decay=0.02).items():
        params.add(name, value=value, **bounds.get(name, {}))
    return params


def values(params) -> np.ndarray:
    return np.array([params[name].value for name in TRUE])


def digits(value: np.ndarray, reference: np.ndarray) -> float:
    error = np.max(np.abs(value - reference) / np.abs(reference))
    return math.inf if error == 0 else -math.log10(error)


def test_engine_is_installed_under_its_name():
    assert "lbfgsb" in engine_names()


def test_seed_example_matches_leastsq_to_six_digits(sine):
    x, data = sine
    # a bound on decay picks one of the two equivalent minima (decay enters as decay**2)
    bounds = {"decay": {"min": 0.0}}
    by_leastsq = minimize(residual, seed_params(**bounds), args=(x,), kws={"data": data}, engine="leastsq")
    by_lbfgsb = minimize(residual, seed_params(**bounds), args=(x,), kws={"data": data}, engine="lbfgsb")
    assert by_lbfgsb.success, by_lbfgsb.message
    assert digits(values(by_lbfgsb.params), values(by_leastsq.params)) >= 6
    assert by_lbfgsb.chisqr == pytest.approx(by_leastsq.chisqr, rel=1e-10)


def test_minimizer_method_and_method_keyword_run_the_engine(sine):
    x, data = sine
    by_method = Minimizer(residual, seed_params(), fcn_args=(x,), fcn_kws={"data": data}).lbfgsb()
    by_keyword = minimize(residual, seed_params(), args=(x,), kws={"data": data}, method="lbfgsb")
    assert by_method.engine == by_keyword.engine == "lbfgsb"
    np.testing.assert_allclose(values(by_method.params), values(by_keyword.params), rtol=1e-12)


def test_user_params_receive_values_and_error_bars(sine):
    x, data = sine
    params = seed_params(decay={"min": 0.0})
    result = minimize(residual, params, args=(x,), kws={"data": data}, engine="lbfgsb")
    assert result.errorbars
    for name in TRUE:
        assert params[name].stderr is not None and 0.0 < params[name].stderr < abs(params[name].value)
    assert params["period"].correl["shift"] == pytest.approx(result.params["period"].correl["shift"])


def test_error_bars_agree_with_leastsq(sine):
    x, data = sine
    bounds = {"decay": {"min": 0.0}}
    by_leastsq = minimize(residual, seed_params(**bounds), args=(x,), kws={"data": data}, engine="leastsq")
    by_lbfgsb = minimize(residual, seed_params(**bounds), args=(x,), kws={"data": data}, engine="lbfgsb")
    for name in TRUE:
        assert by_lbfgsb.params[name].stderr == pytest.approx(by_leastsq.params[name].stderr, rel=1e-4)


def test_engine_codes_become_result_attributes(sine):
    x, data = sine
    result = minimize(residual, seed_params(), args=(x,), kws={"data": data}, engine="lbfgsb")
    assert result.nit > 0 and result.warnflag == 0 and result.grad_norm >= 0.0
    assert "CONVERGENCE" in result.lbfgsb_message


def test_parameter_pinned_at_a_bound(sine):
    x, data = sine
    params = seed_params(amp={"max": 13.5}, decay={"min": 0.0})
    params["period"].value = 5.0
    result = minimize(residual, params, args=(x,), kws={"data": data}, engine="lbfgsb")
    assert result.success, result.message
    assert result.params["amp"].value == 13.5
    # the others: the best fit with amp held at 13.5
    fixed = seed_params(decay={"min": 0.0})
    fixed["amp"].set(value=13.5, vary=False)
    fixed["period"].value = 5.0
    reference = minimize(residual, fixed, args=(x,), kws={"data": data}, engine="leastsq")
    for name in ("period", "shift", "decay"):
        assert result.params[name].value == pytest.approx(reference.params[name].value, rel=1e-6)


def test_bounded_and_unbounded_parameters_in_one_fit(sine):
    x, data = sine
    params = seed_params(amp={"min": 0.0, "max": 20.0}, shift={"min": -math.pi / 2, "max": math.pi / 2},
                         decay={"min": 0.0})
    result = minimize(residual, params, args=(x,), kws={"data": data}, engine="lbfgsb")
    reference = minimize(residual, seed_params(decay={"min": 0.0}), args=(x,), kws={"data": data},
                         engine="leastsq")
    assert digits(values(result.params), values(reference.params)) >= 6
    assert result.errorbars


def test_expression_constraints_are_honoured(sine):
    x, data = sine
    params = seed_params(decay={"min": 0.0})
    params["period"].value = 5.0
    params.add("omega", expr="1 / period")
    params.add("half_amp", expr="amp / 2")
    result = minimize(residual, params, args=(x,), kws={"data": data}, engine="lbfgsb")
    assert result.success, result.message
    best = result.params
    assert best["omega"].value == pytest.approx(1.0 / best["period"].value, rel=1e-14)
    assert best["half_amp"].value == pytest.approx(best["amp"].value / 2.0, rel=1e-14)
    assert best["omega"].stderr == pytest.approx(best["period"].stderr / best["period"].value ** 2, rel=1e-6)


def test_a_constraint_that_ties_two_varied_shapes():
    # two Gaussians whose widths are tied by an expression: sigma2 = 2 * sigma1
    x = np.linspace(-10.0, 10.0, 401)

    def gaussians(params, x, data=None):
        v = params.valuesdict()
        model = (v["a1"] * np.exp(-((x - v["c1"]) ** 2) / (2 * v["s1"] ** 2))
                 + v["a2"] * np.exp(-((x - v["c2"]) ** 2) / (2 * v["s2"] ** 2)))
        return model if data is None else model - data

    truth = Parameters()
    truth.add_many(("a1", 3.0), ("c1", -2.0), ("s1", 0.8), ("a2", 2.0), ("c2", 3.0), ("s2", 1.6))
    data = gaussians(truth, x) + np.random.default_rng(5).normal(scale=0.02, size=x.size)
    params = Parameters()
    params.add_many(("a1", 2.0), ("c1", -1.5), ("s1", 1.0), ("a2", 1.5), ("c2", 2.5))
    params.add("s2", expr="2 * s1")
    by_lbfgsb = minimize(gaussians, params, args=(x,), kws={"data": data}, engine="lbfgsb")
    by_leastsq = minimize(gaussians, params, args=(x,), kws={"data": data}, engine="leastsq")
    names = ["a1", "c1", "s1", "a2", "c2"]
    got = np.array([by_lbfgsb.params[n].value for n in names])
    want = np.array([by_leastsq.params[n].value for n in names])
    assert digits(got, want) >= 6
    assert by_lbfgsb.params["s2"].value == pytest.approx(2 * by_lbfgsb.params["s1"].value, rel=1e-14)


def test_user_dfun_is_used_for_the_gradient(sine):
    x, data = sine
    counts = {"fcn": 0, "dfun": 0}

    def counted_residual(params, x, data=None):
        counts["fcn"] += 1
        return residual(params, x, data)

    def counted_jacobian(params, x, data=None):
        counts["dfun"] += 1
        return jacobian(params, x, data)

    params = seed_params(decay={"min": 0.0})
    result = minimize(counted_residual, params, args=(x,), kws={"data": data}, engine="lbfgsb",
                      Dfun=counted_jacobian)
    assert result.success, result.message
    # no differencing: about one residual evaluation per Jacobian evaluation
    assert counts["dfun"] > 10
    assert result.nfev <= counts["dfun"] + 1
    reference = minimize(residual, seed_params(decay={"min": 0.0}), args=(x,), kws={"data": data},
                         engine="leastsq")
    assert digits(values(result.params), values(reference.params)) >= 6


def test_unknown_option_through_minimize_names_engine_and_option(sine):
    x, data = sine
    with pytest.raises(EngineOptionError, match="lbfgsb.*'xtol'"):
        minimize(residual, seed_params(), args=(x,), kws={"data": data}, engine="lbfgsb", xtol=1e-9)


def test_conflicting_option_names_through_the_minimizer(sine):
    x, data = sine
    mini = Minimizer(residual, seed_params(), fcn_args=(x,), fcn_kws={"data": data})
    with pytest.raises(EngineOptionError, match="'ftol' and 'factr'"):
        mini.lbfgsb(factr=10.0, ftol=1e-12)


def test_max_nfev_stops_with_the_best_point_so_far(sine):
    x, data = sine
    result = minimize(residual, seed_params(), args=(x,), kws={"data": data}, engine="lbfgsb", max_nfev=30)
    assert not result.success
    assert result.nfev <= 30 + 10  # the host may add evaluations for the error bars
    assert result.chisqr < minimize(residual, seed_params(), args=(x,), kws={"data": data},
                                    engine="lbfgsb", max_nfev=1).chisqr
