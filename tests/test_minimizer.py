"""Minimizer and minimize: the seed's examples end to end with the leastsq engine."""

import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

from lmfit_host import (
    EngineNotFoundError,
    ExpressionError,
    ExpressionRuntimeError,
    FitError,
    Minimizer,
    MinimizerResult,
    ParameterError,
    Parameters,
    UnknownNameError,
    fit_report,
    minimize,
)

pytest.importorskip("lmfit_host_leastsq")


def damped_sine(params, x, data=None):
    amp = params["amp"].value
    shift = params["shift"].value
    period = params["period"].value
    decay = params["decay"].value
    model = amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)
    return model if data is None else model - data


@pytest.fixture
def sine_data():
    rng = np.random.default_rng(7)
    x = np.linspace(0.0, 100.0, 1001)
    truth = Parameters()
    truth.add("amp", value=14.0)
    truth.add("period", value=5.46)
    truth.add("shift", value=0.123)
    truth.add("decay", value=0.032)
    data = damped_sine(truth, x) + rng.normal(scale=0.4, size=x.size)
    return x, data


def sine_params():
    params = Parameters()
    params.add("amp", value=10.0)
    params.add("decay", value=0.05)
    params.add("shift", value=0.0, min=-np.pi / 2.0, max=np.pi / 2.0)
    params.add("period", value=5.5, min=3.0, max=8.0)
    return params


def test_seed_damped_sine_fit_recovers_truth_with_errors(sine_data):
    x, data = sine_data
    params = sine_params()
    result = minimize(damped_sine, params, args=(x, data))
    assert result.success and result.errorbars
    assert params["amp"].value == pytest.approx(14.0, rel=0.02)
    assert params["period"].value == pytest.approx(5.46, rel=0.01)
    assert params["decay"].value == pytest.approx(0.032, rel=0.02)
    for name in ("amp", "period", "shift", "decay"):
        assert params[name].stderr > 0
        assert set(params[name].correl) == {"amp", "period", "shift", "decay"} - {name}
    assert result.nvarys == 4 and result.ndata == 1001 and result.nfree == 997
    assert result.chisqr == pytest.approx(float(result.residual @ result.residual))
    assert result.redchi == pytest.approx(result.chisqr / 997)
    assert result.redchi == pytest.approx(0.16, rel=0.15)
    assert result.ier in (1, 2, 3, 4) and isinstance(result.lmdif_message, str)
    assert result.engine == "leastsq" and result.engine_version


def test_result_params_are_a_snapshot_and_user_params_are_updated(sine_data):
    x, data = sine_data
    params = sine_params()
    result = minimize(damped_sine, params, args=(x, data))
    assert result.params is not params
    assert result.params["amp"].value == params["amp"].value
    params["amp"].value = 1.0
    assert result.params["amp"].value != 1.0
    assert result.init_values["amp"] == 10.0 and result.init_vals[0] == 10.0


def test_stderr_of_a_straight_line_matches_closed_form():
    rng = np.random.default_rng(1)
    x = np.linspace(0, 10, 50)
    y = 2.5 * x - 1.0 + rng.normal(scale=0.3, size=x.size)
    params = Parameters()
    params.add("slope", value=1.0)
    params.add("offset", value=0.0)
    minimize(lambda p: p["slope"].value * x + p["offset"].value - y, params)
    design = np.column_stack([x, np.ones_like(x)])
    coef, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    cov = np.linalg.inv(design.T @ design) * rss[0] / (x.size - 2)
    assert params["slope"].value == pytest.approx(coef[0], rel=1e-7)
    assert params["slope"].stderr == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-4)
    assert params["offset"].stderr == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-4)
    assert params["slope"].correl["offset"] == pytest.approx(
        cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), rel=1e-4)


def _polynomial_fit(names, seed):
    """Fit ``sum_k p_k x**k`` (one parameter per name) to a noisy line: (params, result)."""
    x = np.linspace(0, 1, 30)
    y = 2 * x + 1 + np.random.default_rng(seed).normal(0, 0.05, 30)
    params = Parameters()
    for name in names:
        params.add(name, value=0.0)
    powers = [x ** k for k in range(len(names))]
    result = minimize(lambda p: sum(p[name].value * power for name, power in
                                    zip(names, powers)) - y, params)
    return params, result


def test_correl_reads_as_a_plain_dict_of_its_own_in_params_and_result():
    params, result = _polynomial_fit(["offset", "slope", "curve"], seed=1)
    mine = params["slope"].correl
    assert type(mine) is dict and list(mine) == ["offset", "curve"]
    expected = result.covar[1, 0] / np.sqrt(result.covar[0, 0] * result.covar[1, 1])
    assert mine["offset"] == pytest.approx(expected, rel=1e-12)
    mine["offset"] = 99.0                         # the user's dict, not the result's
    assert result.params["slope"].correl["offset"] == pytest.approx(expected, rel=1e-12)
    assert type(result.params["slope"].correl) is dict
    copied = params.copy()
    assert copied["curve"].correl == params["curve"].correl
    assert copied["curve"].correl is not params["curve"].correl


def test_correlations_read_late_are_those_of_the_fit_not_of_a_changed_covar():
    params, result = _polynomial_fit(["slope", "offset"], seed=2)
    expected = result.covar[0, 1] / np.sqrt(result.covar[0, 0] * result.covar[1, 1])
    result.covar[0, 1] = result.covar[1, 0] = 0.0   # the user's array, changed before any read
    assert params["slope"].correl["offset"] == pytest.approx(expected, rel=1e-12)
    assert result.params["offset"].correl["slope"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("engine", ["leastsq", "lbfgsb"])
def test_a_residual_that_refills_one_array_fits_like_one_that_returns_new_arrays(engine):
    x = np.linspace(-5, 5, 64)
    y = 4 * np.exp(-((x - 0.3) ** 2) / 1.62) + np.random.default_rng(1).normal(0, 0.05, 64)
    buffer = np.empty(64)

    def fresh(p):
        return p["amp"].value * np.exp(-((x - p["cen"].value) ** 2)
                                       / (2 * p["wid"].value ** 2)) - y

    def refilled(p):
        np.subtract(fresh(p), 0.0, out=buffer)
        return buffer

    results = []
    for function in (fresh, refilled):
        params = Parameters()
        params.add("amp", value=5.0)
        params.add("cen", value=0.0)
        params.add("wid", value=1.0)
        result = minimize(function, params, engine=engine)
        assert result.errorbars, result.errorbars_reason
        results.append([(params[n].value, params[n].stderr) for n in ("amp", "cen", "wid")])
    assert np.allclose(results[0], results[1], rtol=1e-9, atol=0.0)


def test_expression_constraint_and_propagated_stderr():
    # seed section: two curves whose fractions add to one
    x = np.linspace(-5, 5, 201)
    g = lambda c, w: np.exp(-((x - c) ** 2) / (2 * w * w))
    y = 0.3 * g(-1.0, 0.8) + 0.7 * g(1.5, 1.0) + np.random.default_rng(3).normal(0, 0.01, 201)
    params = Parameters()
    params.add("frac_curve1", value=0.5, min=0, max=1)
    params.add("frac_curve2", expr="1 - frac_curve1")
    params.add("c1", value=-0.5)
    params.add("c2", value=1.0)
    params.add("w1", value=1.0, min=0.1)
    params.add("w2", value=1.0, min=0.1)

    def residual(p):
        return (p["frac_curve1"].value * g(p["c1"].value, p["w1"].value)
                + p["frac_curve2"].value * g(p["c2"].value, p["w2"].value) - y)

    result = minimize(residual, params)
    assert params["frac_curve1"].value == pytest.approx(0.3, abs=0.02)
    assert params["frac_curve2"].value == pytest.approx(1 - params["frac_curve1"].value)
    assert params["frac_curve2"].stderr == pytest.approx(params["frac_curve1"].stderr, rel=1e-5)
    assert "frac_curve2" not in result.var_names


def test_user_function_in_asteval_symtable_reaches_constraints():
    x = np.linspace(0, 1, 20)
    y = 3.0 * x + 6.0
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", expr="double(a)")
    mini = Minimizer(lambda p: p["a"].value * x + p["b"].value - y, params)
    mini.asteval.symtable["double"] = lambda v: 2.0 * v
    mini.leastsq()
    assert params["a"].value == pytest.approx(3.0, rel=1e-6)
    assert params["b"].value == pytest.approx(6.0, rel=1e-6)


def test_symtable_addition_of_one_minimizer_does_not_reach_another():
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", expr="triple(a)")
    first = Minimizer(lambda p: np.array([p["a"].value, p["b"].value]) - 1.0, params)
    first.asteval.symtable["triple"] = lambda v: 3.0 * v
    second = Minimizer(lambda p: np.array([p["a"].value, p["b"].value]) - 1.0, params)
    with pytest.raises(UnknownNameError, match="triple"):
        second.leastsq()




def test_a_parameter_removed_after_a_fit_is_unknown_to_the_next_fit_of_that_minimizer():
    # The Minimizer's interpreter was made from the Parameters with `c` (and `e`, which
    # shadows the constant) in them: once they are removed, an expression naming them
    # must not refit with their old values.
    x = np.linspace(0.0, 10.0, 50)
    y = 3.0 * x + 1.0
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 0.5)
    params.add("c", 2.0, vary=False)
    params.add("e", 1.5, vary=False)
    mini = Minimizer(lambda p: p["a"].value * x + p["b"].value - y, params)
    mini.leastsq()
    del params["c"]
    del params["e"]
    params.add("d", expr="c + 1")
    before = (params["a"].value, params["b"].value)
    with pytest.raises(UnknownNameError, match=r"'c \+ 1' of parameter 'd'.*'c'"):
        mini.leastsq()
    assert (params["a"].value, params["b"].value) == before
    params["d"].expr = "e + 1"  # the constant is back
    assert mini.leastsq().params["d"].value == pytest.approx(np.e + 1.0, rel=1e-15)
    mini.asteval.symtable["c"] = 7.0  # the user's own value under that name is kept
    params["d"].expr = "c + 1"
    assert mini.leastsq().params["d"].value == 8.0


def _line(p, x, y):
    return p["a"].value * x + p["b"].value - y


def test_a_pickled_minimizer_still_forgets_a_removed_parameter():
    x = np.linspace(0.0, 10.0, 50)
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 0.5)
    params.add("c", 2.0, vary=False)
    restored = pickle.loads(pickle.dumps(Minimizer(_line, params, fcn_args=(x, 3.0 * x)).leastsq()))
    mini = restored.minimizer
    del mini.params["c"]
    mini.params.add("d", expr="c + 1")
    with pytest.raises(UnknownNameError, match="'c'"):
        mini.leastsq()


def test_another_parameter_set_does_not_read_the_minimizers_own_parameters():
    x = np.linspace(0.0, 1.0, 20)
    own = Parameters()
    own.add("a", 1.0)
    own.add("scale", 4.0, vary=False)
    other = Parameters()
    other.add("a", 1.0)
    other.add("b", expr="scale * a")
    mini = Minimizer(lambda p: p["a"].value * x - 2.0 * x, own)
    mini.leastsq()
    with pytest.raises(UnknownNameError, match="'scale'"):
        mini.leastsq(params=other)
def test_iter_cb_returning_true_aborts_with_best_values(sine_data):
    x, data = sine_data
    params = sine_params()
    calls = []

    def stop_after_ten(p, nfev, resid, *args):
        calls.append(nfev)
        return nfev >= 10

    result = minimize(damped_sine, params, args=(x, data), iter_cb=stop_after_ten)
    assert result.aborted and not result.success
    assert "iter_cb" in result.message and "best values" in result.message
    assert max(calls) == 10
    assert result.chisqr <= float(np.sum(damped_sine(sine_params(), x, data) ** 2))


def test_max_nfev_stops_the_fit(sine_data):
    x, data = sine_data
    result = minimize(damped_sine, sine_params(), args=(x, data), max_nfev=7)
    assert result.aborted and "max_nfev=7" in result.message


@pytest.mark.parametrize("shape", ["list", "2d", "complex"])
def test_residual_shapes_are_accepted(shape):
    x = np.linspace(0, 1, 30)
    y = 2.0 * x

    def residual(p):
        r = p["k"].value * x - y
        if shape == "list":
            return list(r)
        if shape == "2d":
            return r.reshape(5, 6)
        return r + 1j * (p["k"].value - 2.0)

    params = Parameters()
    params.add("k", value=1.0)
    result = minimize(residual, params)
    assert params["k"].value == pytest.approx(2.0, rel=1e-6)
    assert result.ndata == (60 if shape == "complex" else 30)


def test_changing_length_is_an_error_and_params_are_untouched():
    params = Parameters()
    params.add("k", value=1.0)
    calls = [0]

    def residual(p):
        calls[0] += 1
        return np.zeros(5 if calls[0] < 3 else 6) + p["k"].value

    with pytest.raises(FitError, match="returned 6 values after returning 5"):
        minimize(residual, params)
    assert params["k"].value == 1.0 and params["k"].stderr is None


def test_scalar_residual_is_an_error():
    params = Parameters()
    params.add("k", value=1.0)
    with pytest.raises(FitError, match=r"returned a scalar \(1.0\)"):
        minimize(lambda p: p["k"].value ** 2, params)


def test_a_residual_returning_none_is_asked_about_its_return_statement():
    params = Parameters()
    params.add("k", value=1.0)

    def residual(p):
        p["k"].value * 2.0  # the model, computed and dropped

    with pytest.raises(FitError, match=r"residual returned None \(a missing return statement"):
        minimize(residual, params)


def test_exception_in_user_function_names_it_and_values():
    params = Parameters()
    params.add("k", value=1.0)

    def broken_model(p):
        raise ZeroDivisionError("bad model")

    with pytest.raises(FitError, match="broken_model raised ZeroDivisionError: bad model.*k=1"):
        minimize(broken_model, params)
    assert params["k"].value == 1.0


def test_nan_policy_raise_and_omit():
    x = np.linspace(0, 1, 20)
    y = 2.0 * x
    y[3] = np.nan
    params = Parameters()
    params.add("k", value=1.0)
    with pytest.raises(FitError, match="NaN"):
        minimize(lambda p: p["k"].value * x - y, params)
    assert params["k"].value == 1.0
    result = minimize(lambda p: p["k"].value * x - y, params, nan_policy="omit")
    assert result.ndata == 19 and params["k"].value == pytest.approx(2.0)


def test_bad_nan_policy_is_rejected():
    params = Parameters()
    params.add("k", value=1.0)
    with pytest.raises(ValueError, match="nan_policy='never'"):
        minimize(lambda p: np.zeros(3), params, nan_policy="never")


def test_no_varied_parameter_is_an_error():
    params = Parameters()
    params.add("k", value=1.0, vary=False)
    with pytest.raises(ParameterError, match="no parameter is varied"):
        minimize(lambda p: np.zeros(3), params)


def test_unknown_engine_is_named():
    params = Parameters()
    params.add("k", value=1.0)
    with pytest.raises(EngineNotFoundError, match="'nosuch'.*installed engines: .*leastsq"):
        minimize(lambda p: np.zeros(3), params, engine="nosuch")


def test_method_alias_of_lmfit_1x():
    params = Parameters()
    params.add("k", value=1.0)
    result = minimize(lambda p: np.array([p["k"].value - 4.0, 0.0]), params, method="leastsq")
    assert result.method == "leastsq" and params["k"].value == pytest.approx(4.0)


def test_scale_covar_false_uses_absolute_errors():
    x = np.linspace(0, 1, 10)
    params = Parameters()
    params.add("k", value=1.0)
    sigma = 0.5
    y = 2.0 * x + np.where(np.arange(10) % 2, 0.1, -0.1)
    minimize(lambda p: (p["k"].value * x - y) / sigma, params, scale_covar=False)
    assert params["k"].stderr == pytest.approx(sigma / np.sqrt(np.sum(x * x)), rel=1e-4)


def test_too_few_points_gives_no_errorbars_with_reason():
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=1.0)
    result = minimize(lambda p: np.array([p["a"].value - 1.0, p["b"].value - 2.0]), params)
    assert not result.errorbars and "too few data points" in result.errorbars_reason


def test_parameter_at_bound_gives_no_errorbars_with_reason():
    x = np.linspace(0, 1, 10)
    params = Parameters()
    params.add("k", value=1.0, max=1.5)
    result = minimize(lambda p: p["k"].value * x - 2.0 * x, params)
    assert params["k"].value == pytest.approx(1.5, rel=1e-6)
    assert not result.errorbars
    assert "k ended at a bound" in result.errorbars_reason


def peak_with_background(params, x, data):
    model = params["amp"].value * np.exp(-(x - params["cen"].value) ** 2
                                         / (2.0 * params["sig"].value ** 2))
    return model + params["bkg"].value - data


def test_a_parameter_at_a_bound_is_held_there_for_the_error_bars_of_the_others():
    rng = np.random.default_rng(5)
    x = np.linspace(-5.0, 5.0, 201)
    data = 3.0 * np.exp(-(x - 0.3) ** 2 / (2 * 0.8 ** 2)) + 0.02 + rng.normal(0, 0.05, x.size)
    params = Parameters()
    params.add("amp", value=1.0, min=0.0)
    params.add("cen", value=0.0)
    params.add("sig", value=1.0, min=0.01)
    params.add("bkg", value=0.5, min=0.05)  # above the truth: the fit ends at the bound
    params.add("fwhm", expr="2.3548*sig")
    result = minimize(peak_with_background, params, args=(x, data))
    assert params["bkg"].value == pytest.approx(0.05)
    assert result.errorbars and "bkg ended at a bound" in result.errorbars_reason
    assert params["bkg"].stderr is None and params["bkg"].correl is None
    assert set(params["amp"].correl) == {"cen", "sig"}
    # as a fit with bkg fixed at its bound gives, scaled by this fit's reduced chi-square
    # (bkg counts as varied: one degree of freedom fewer)
    fixed = result.params.copy()
    fixed["bkg"].set(vary=False)
    again = minimize(peak_with_background, fixed, args=(x, data))
    assert again.chisqr == pytest.approx(result.chisqr, rel=1e-9)
    scale = result.redchi / again.redchi
    for name in ("amp", "cen", "sig", "fwhm"):
        assert params[name].stderr == pytest.approx(fixed[name].stderr * scale ** 0.5, rel=1e-4)
    assert params["amp"].correl["sig"] == pytest.approx(fixed["amp"].correl["sig"], rel=1e-4)
    at = result.var_names.index("bkg")
    assert np.isnan(result.covar[at]).all() and np.isnan(result.covar[:, at]).all()
    free = [i for i in range(4) if i != at]
    assert np.allclose(result.covar[np.ix_(free, free)], again.covar * scale, rtol=1e-4)
    assert "bkg ended at a bound" in fit_report(result)




def _current(scale, k_max=None, seed=2):
    # a photocurrent decaying from 4e-13 A (SI units), and the same data in other units
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 5.0, 80)
    data = (4e-13 * np.exp(-1.3 * t) + rng.normal(0.0, 5e-15, t.size)) * scale
    params = Parameters()
    params.add("I0", 3e-13 * scale, min=0.0)
    params.add("k", 1.0, min=0.0, max=k_max)
    result = minimize(lambda p: p["I0"].value * np.exp(-p["k"].value * t) - data, params)
    return result, params


def test_a_small_value_above_a_bound_at_zero_is_not_taken_for_one_at_the_bound():
    # 4e-13 lies within 1e-12 of 0, but 150 standard errors above it: it gets its error
    # bar, and k its full one, as the same fit in picoamperes gives
    result, params = _current(1.0)
    in_pico, pico = _current(1e12)
    assert result.errorbars and result.errorbars_reason == ""
    assert params["I0"].stderr == pytest.approx(pico["I0"].stderr * 1e-12, rel=1e-6)
    assert params["k"].stderr == pytest.approx(pico["k"].stderr, rel=1e-6)


def test_a_small_parameter_pressed_against_its_bound_is_still_held_there():
    result, params = _current(1.0, k_max=1.0)  # the data want k = 1.3
    assert params["k"].value == pytest.approx(1.0, abs=1e-9)
    assert "k ended at a bound" in result.errorbars_reason
    assert params["k"].stderr is None and params["I0"].stderr > 0.0
class BadCalibration(Exception):
    """A user's own exception class, with an __init__ of its own."""

    def __init__(self, code, text):
        super().__init__(code, text)
        self.code = code


def raises_after_five(params, exc):
    raises_after_five.calls += 1
    if raises_after_five.calls > 5:
        raise exc
    return np.array([params["a"].value - 1.0, params["a"].value + 1.0, 0.5])


@pytest.mark.parametrize("exc", [ValueError("bad x"), BadCalibration(3, "drift"),
                                 FileNotFoundError(2, "no such file"), KeyError("k")])
def test_an_exception_of_the_users_function_is_caught_by_its_own_class_too(exc):
    params = Parameters()
    params.add("a", value=0.3)
    raises_after_five.calls = 0
    with pytest.raises(type(exc)) as info:
        minimize(raises_after_five, params, args=(exc,))
    error = info.value
    assert isinstance(error, FitError) and error.__cause__ is exc
    assert "residual function raises_after_five raised" in str(error)
    assert params["a"].value == 0.3  # left as before the fit
    again = pickle.loads(pickle.dumps(error))  # e.g. from a worker process
    assert isinstance(again, type(exc)) and isinstance(again, FitError)
    assert str(again) == str(error)


def test_ctrl_c_stops_the_caller_and_leaves_the_parameters_as_they_were():
    x = np.linspace(0.0, 5.0, 50)
    data = 3.0 * np.exp(-x / 1.3)
    calls = []

    def decay(p):
        calls.append(1)
        if len(calls) == 8:  # inside the engine's search
            raise KeyboardInterrupt
        return p["amp"].value * np.exp(-x / p["tau"].value) - data

    params = Parameters()
    params.add("amp", value=1.0)
    params.add("tau", value=5.0)
    with pytest.raises(KeyboardInterrupt):
        minimize(decay, params)
    assert params.valuesdict() == {"amp": 1.0, "tau": 5.0} and len(calls) == 8


def test_max_nfev_per_call_as_lmfit_1x_takes_it():
    x = np.linspace(0.0, 5.0, 50)
    data = 3.0 * np.exp(-x / 1.3)

    def decay(p):
        return p["amp"].value * np.exp(-x / p["tau"].value) - data

    params = Parameters()
    params.add("amp", value=1.0)
    params.add("tau", value=5.0)
    mini = Minimizer(decay, params)
    for result in (mini.leastsq(max_nfev=5), mini.minimize(method="leastsq", max_nfev=5),
                   minimize(decay, params.copy(), method="lbfgsb", max_nfev=5)):
        assert result.aborted and result.nfev == 5 and "max_nfev=5" in result.message
    assert mini.max_nfev is None and mini.leastsq().success  # for that call only
    with pytest.raises(ValueError, match="max_nfev must be a positive integer"):
        mini.leastsq(max_nfev=0)


def test_a_sum_of_squares_left_nan_by_propagate_is_no_success():
    x = np.linspace(0.0, 1.0, 10)

    def with_nan(p):
        out = p["a"].value * x - 2.0 * x
        out[3] = np.nan
        return out

    params = Parameters()
    params.add("a", value=1.0)
    result = minimize(with_nan, params, nan_policy="propagate")
    assert not result.success and "not finite" in result.message
    assert not result.errorbars and "not finite" in result.errorbars_reason


def test_lmfit_02_reads_the_statistics_of_the_latest_fit_off_the_minimizer():
    x = np.linspace(0.0, 1.0, 10)
    params = Parameters()
    params.add("a", value=1.0)
    mini = Minimizer(lambda p: p["a"].value * x - 2.0 * x + 0.01 * np.cos(7 * x), params)
    with pytest.raises(AttributeError, match="before a fit.*leastsq"):
        mini.chisqr
    result = mini.leastsq()
    for name in ("nfev", "success", "errorbars", "message", "ier", "lmdif_message", "nvarys",
                 "ndata", "nfree", "chisqr", "redchi", "aic", "bic", "var_names"):
        assert getattr(mini, name) == getattr(result, name)
    assert mini.residual is result.residual and mini.covar is result.covar


def test_a_result_of_a_lambda_residual_pickles_and_refitting_it_says_why_it_cannot():
    x = np.linspace(0.0, 1.0, 10)
    params = Parameters()
    params.add("a", value=1.0)
    result = minimize(lambda p: p["a"].value * x - 2.0 * x + 0.01 * np.cos(9 * x), params)
    restored = pickle.loads(pickle.dumps(result))
    assert restored.params["a"].value == result.params["a"].value
    assert restored.chisqr == result.chisqr
    with pytest.raises(FitError, match="could not hold its userfcn '.*lambda.*def at module"):
        restored.refit()


def test_nan_advice_tells_data_from_model():
    x = np.linspace(0.1, 2.0, 30)
    data = 2.0 * np.log(x + 0.3)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=-0.5)  # log of a negative number for the first points

    def logarithm(p):
        return p["a"].value * np.log(x + p["b"].value) - data

    with np.errstate(invalid="ignore"):
        with pytest.raises(FitError, match="NaN from the model: bound the parameters"):
            minimize(logarithm, params)


def test_dfun_analytic_jacobian_is_used():
    x = np.linspace(0, 2, 40)
    y = 1.7 * np.exp(-0.9 * x)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=0.5)
    calls = [0]

    def jac(p):
        calls[0] += 1
        e = np.exp(-p["b"].value * x)
        return np.column_stack([e, -p["a"].value * x * e])

    minimize(lambda p: p["a"].value * np.exp(-p["b"].value * x) - y, params, Dfun=jac)
    assert calls[0] > 0
    assert params["b"].value == pytest.approx(0.9, rel=1e-7)


def test_result_can_refit_and_minimizer_can_rerun(sine_data):
    x, data = sine_data
    mini = Minimizer(damped_sine, sine_params(), fcn_args=(x, data))
    first = mini.leastsq()
    again = first.refit()
    assert isinstance(again, MinimizerResult)
    assert again.chisqr == pytest.approx(first.chisqr, rel=1e-6)
    assert mini.leastsq().chisqr == pytest.approx(first.chisqr, rel=1e-6)


def test_a_fit_leaves_no_reference_cycle(sine_data):
    # loops of many fits: each result must be freed when dropped, not left to the
    # cyclic garbage collector, whose full passes stall a loop for tens of ms
    x, data = sine_data
    params = sine_params()
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = minimize(damped_sine, params, args=(x, data))
        assert result.minimizer.result is result
        gone_result, gone_minimizer = weakref.ref(result), weakref.ref(result.minimizer)
        del result
        assert gone_result() is None and gone_minimizer() is None  # freed without gc
    finally:
        if enabled:
            gc.enable()


def test_a_minimizer_keeps_its_latest_result(sine_data):
    x, data = sine_data
    mini = Minimizer(damped_sine, sine_params(), fcn_args=(x, data))
    chisqr = mini.leastsq().chisqr  # the result itself is not kept by the caller
    gc.collect()
    assert mini.result is not None and mini.result.chisqr == chisqr


def test_fits_run_again_through_the_minimizer_of_minimize_are_kept(sine_data):
    x, data = sine_data
    first = minimize(damped_sine, sine_params(), args=(x, data))
    mini = first.minimizer
    mini.minimize("leastsq")  # its result is not kept by the caller
    gc.collect()
    assert mini.result is not None and mini.result is not first
    first.refit()
    gc.collect()
    assert first.minimizer.result is not None and first.minimizer.result is not first
    result = minimize(damped_sine, sine_params(), args=(x, data))
    for copied in (pickle.loads(pickle.dumps(result.minimizer)),
                   copy.deepcopy(result.minimizer)):
        gc.collect()
        assert copied.result is not None and copied.result.chisqr == result.chisqr


def test_a_result_pickles_with_its_minimizer(sine_data):
    x, data = sine_data
    result = minimize(damped_sine, sine_params(), args=(x, data))
    restored = pickle.loads(pickle.dumps(result))
    assert restored.chisqr == result.chisqr
    assert restored.minimizer.result is restored
    assert restored.refit().chisqr == pytest.approx(result.chisqr, rel=1e-6)


def test_result_params_pickle(sine_data):
    x, data = sine_data
    result = minimize(damped_sine, sine_params(), args=(x, data))
    restored = pickle.loads(pickle.dumps(result.params))
    assert restored["amp"].value == result.params["amp"].value
    assert restored["amp"].stderr == result.params["amp"].stderr


def test_result_params_are_read_without_building_an_interpreter_and_recompute_in_their_own():
    x = np.linspace(0.0, 5.0, 40)
    data = 3.0 * np.exp(-x / 1.5) + 0.5
    params = Parameters(usersyms={"floor": 0.5})
    params.add("amp", value=1.0)
    params.add("tau", value=1.0, min=0.1)
    params.interpreter("def rate(t):\n    return 1.0/t + floor*0.0")
    params.add("k", expr="rate(tau)")

    def residual(p):
        return p["amp"].value * np.exp(-x * p["k"].value) + p.interpreter.symtable["floor"] \
            - data

    result = minimize(residual, params)
    snap = result.params
    assert snap["tau"].value == pytest.approx(1.5, rel=1e-6)
    assert snap["k"].value == pytest.approx(1.0 / snap["tau"].value)
    assert snap["amp"].stderr is not None and set(snap["amp"].correl) == {"tau"}
    assert snap._built is None  # reading values and errors built nothing
    snap["tau"].value = 2.0
    assert snap["k"].value == 0.5  # recomputed by the copy's own function
    snap.interpreter.symtable["floor"] = 1.0
    assert params["k"].value == pytest.approx(1.0 / params["tau"].value)
    assert params.interpreter.symtable["floor"] == 0.5


def line(params, x, y):
    return params["a"].value * x + params["b"].value - y


def test_result_params_hold_the_namespace_of_the_fits_end():
    x = np.linspace(0.0, 1.0, 20)
    params = Parameters(usersyms={"k": 1.0})
    params.add("a", 1.0)
    params.add("b", 0.0)
    params.add("c", expr="k*a")
    result = minimize(line, params, args=(x, 3.0 * x + 1.0))
    params.interpreter.symtable["k"] = 10.0  # after the fit, before result.params is read
    snap = result.params
    assert snap.eval("k") == 1.0 and snap["c"].value == pytest.approx(3.0)


def test_result_params_share_user_data_that_cannot_be_copied():
    import threading
    x = np.linspace(0.0, 1.0, 20)
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 0.0)
    lock = threading.Lock()
    params["a"].user_data = lock
    result = minimize(line, params, args=(x, 3.0 * x + 1.0))
    assert result.params["a"].user_data is lock and "a" in fit_report(result)


@pytest.mark.parametrize("how", ["minimize", "Minimizer"])
def test_a_constrained_value_that_ends_complex_is_reported_when_read(how):
    x = np.linspace(0.0, 1.0, 20)
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 0.0)
    params.add("c", expr="a**0.5")  # a ends at -4: c has no real value
    if how == "minimize":
        result = minimize(line, params, args=(x, -4.0 * x + 1.0))
    else:
        result = Minimizer(line, params, fcn_args=(x, -4.0 * x + 1.0)).leastsq()
    assert params["a"].value == pytest.approx(-4.0) and result.params["a"].value == params["a"].value
    for holder in (params, result.params, params.copy()):
        with pytest.raises(ExpressionError, match="'c' gives a complex"):
            holder["c"].value
    assert result.best_values["c"] is None


def test_result_params_pickled_by_lmfit_host_0_3_2_still_load():
    # 0.3.2 kept each parameter of a snapshot as a tuple in _STATE_KEYS order
    from lmfit_host.minimizer import _Snapshot
    params = Parameters(usersyms={"k": 2.0})
    params.add("a", 1.5, min=0.0)
    params.add("b", expr="k*a")
    params["a"].stderr = 0.25
    saved = {"source": params, "states": [p._state_tuple() for p in params.values()],
             "values": params.valuesdict()}
    snapshot = _Snapshot.__new__(_Snapshot)
    snapshot.__setstate__(pickle.loads(pickle.dumps(saved)))
    made = snapshot.materialize()
    assert made.valuesdict() == {"a": 1.5, "b": 3.0}
    assert made["a"].stderr == 0.25 and made["a"].min == 0.0


def two_targets(params):
    return np.array([params["a"].value - 3.0, params["b"].value - 6.5])


def test_a_fit_run_through_minimizer_methods_pickles_with_the_asteval_symbols():
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", expr="scale*a + shift(a)")
    mini = Minimizer(two_targets, params)
    mini.asteval.symtable["scale"] = 2.0
    mini.asteval("def shift(v):\n    return 0.1*v")
    result = mini.leastsq()
    restored = pickle.loads(pickle.dumps(result))
    assert restored.minimizer.result is restored
    assert restored.params["b"].value == result.params["b"].value
    asteval = restored.minimizer.asteval
    assert asteval.symtable["scale"] == 2.0 and asteval.eval("shift(10.0)") == 1.0
    assert asteval.limits == mini.asteval.limits
    assert restored.refit().chisqr == pytest.approx(result.chisqr, rel=1e-9)
    mini.asteval.symtable["bad"] = lambda v: v
    with pytest.raises(ParameterError, match=r"symbol 'bad' \(a lambda\).*minimizer\.asteval"):
        pickle.dumps(mini)


def sum_targets(params):
    return np.array([params["sum"].value - 3.0, params["b"].value - 6.5])


@pytest.mark.parametrize("how", ["minimize", "minimizer", "refit", "pickled"])
def test_fits_of_a_parameter_named_like_a_default_symbol(how):
    params = Parameters()
    params.add("sum", value=1.0)          # shadows the safe builtin sum
    params.add("b", expr="2*sum + 0.5")
    if how == "minimize":
        result = minimize(sum_targets, params)
    else:
        mini = Minimizer(sum_targets, params)
        result = mini.leastsq()
        if how == "refit":
            result = result.refit()
        elif how == "pickled":
            result = pickle.loads(pickle.dumps(result))
            # the Minimizer's namespace was copied from the set, its start value included
            assert result.minimizer.asteval.eval("sum") == 1.0
            result = result.refit()
    assert result.params["sum"].value == pytest.approx(3.0)
    assert result.params["b"].value == pytest.approx(6.5)
    fitted = result.params
    fitted.pop("b")
    fitted.pop("sum")
    assert fitted.eval("sum([1.0, 2.0])") == 3.0
    if how != "pickled":
        assert params.eval("sum") == pytest.approx(3.0)   # the seed: the set holds the fit


def test_prepare_fit_checks_before_any_work():
    params = Parameters()
    params.add("a", value=np.nan)
    with pytest.raises(ParameterError, match="'a'"):
        Minimizer(lambda p: np.zeros(3), params).prepare_fit()


def test_per_fit_override_of_a_default_function_stays_with_the_fitted_params():
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", expr="sqrt(a)")
    mini = Minimizer(lambda p: np.array([p["a"].value - 3.0, p["b"].value - 6.0]), params)
    mini.asteval.symtable["sqrt"] = lambda v: 2.0 * v
    result = mini.leastsq()
    assert result.params["b"].value == pytest.approx(6.0, rel=1e-6)
    assert params["b"].value == pytest.approx(result.params["b"].value)


def test_unbounded_parameters_given_as_none_fit_normally():
    params = Parameters()
    params.add("k", value=1.0, min=None, max=None)
    minimize(lambda p: np.array([p["k"].value - 2.0, 0.0]), params)
    assert params["k"].value == pytest.approx(2.0)


def test_write_back_keeps_the_start_value_as_init_value():
    params = Parameters()
    params.add("k", value=1.0)
    minimize(lambda p: np.array([p["k"].value - 2.0, 0.0]), params)
    assert params["k"].init_value == 1.0


def test_result_params_do_not_follow_later_changes_to_the_user_params(sine_data):
    x, data = sine_data
    params = sine_params()
    first = minimize(damped_sine, params, args=(x, data))
    amp = params["amp"].value
    params["amp"].set(vary=False)
    params["period"].set(min=5.0)
    params.add("extra", value=1.0)
    minimize(damped_sine, params, args=(x, data))
    snap = first.params
    assert "extra" not in snap
    assert snap["amp"].vary and snap["amp"].value == amp
    assert snap["period"].min == 3.0
    assert snap["amp"].stderr is not None and snap["amp"].correl


def test_positional_args_as_in_lmfit_02_and_positional_method_as_in_lmfit_1x():
    x = np.linspace(0, 1, 10)
    y = 3.0 * x

    def residual(p, x, y):
        return p["k"].value * x - y

    params = Parameters()
    params.add("k", value=1.0)
    minimize(residual, params, (x, y))
    assert params["k"].value == pytest.approx(3.0)
    params["k"].value = 1.0
    assert minimize(residual, params, "leastsq", kws={"x": x, "y": y}).success


def test_errors_in_dfun_and_iter_cb_name_the_user_function():
    x = np.linspace(0, 1, 10)
    params = Parameters()
    params.add("k", value=1.0)

    def bad_jacobian(p):
        raise ZeroDivisionError("no slope")

    with pytest.raises(FitError, match="Jacobian function bad_jacobian raised ZeroDivisionError"):
        minimize(lambda p: p["k"].value * x - x, params, Dfun=bad_jacobian)

    def bad_callback(p, nfev, resid):
        return np.array([1, 2])

    with pytest.raises(FitError, match="iteration callback bad_callback raised ValueError"):
        minimize(lambda p: p["k"].value * x - x, params, iter_cb=bad_callback)
    assert params["k"].value == 1.0


def test_nfev_stays_within_max_nfev():
    x = np.linspace(0, 10, 50)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=0.1)
    result = minimize(lambda p: p["a"].value * np.exp(-p["b"].value * x) - 3 * np.exp(-x / 2),
                      params, max_nfev=10)
    assert result.nfev <= 10


@pytest.mark.parametrize("expr, derivative", [
    ("a * b + 2", lambda a, b: (b, a)),                      # arrays: one run of the constraints
    ("sqrt(a) * exp(b)", lambda a, b: (0.5 * np.exp(b) / np.sqrt(a), np.sqrt(a) * np.exp(b))),
])
def test_expression_stderr_matches_analytic_propagation(expr, derivative):
    x = np.linspace(0, 1, 40)
    y = 2.0 * x + 0.5 + np.random.default_rng(5).normal(0, 0.05, 40)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=0.1)
    params.add("c", expr=expr)
    result = minimize(lambda p: p["a"].value * x + p["b"].value - y, params)
    g = np.array(derivative(params["a"].value, params["b"].value))
    expected = np.sqrt(g @ result.covar @ g)
    assert params["c"].stderr == pytest.approx(expected, rel=1e-5)


def test_expression_stderr_follows_a_changed_expression_and_bounds_between_fits():
    x = np.linspace(0, 1, 40)
    y = 2.0 * x + 0.5 + np.random.default_rng(5).normal(0, 0.05, 40)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=0.1)
    params.add("c", expr="3 * a")
    params.add("d", expr="c + b")

    def residual(p):
        return p["a"].value * x + p["b"].value - y

    result = minimize(residual, params)
    assert params["d"].stderr == pytest.approx(
        np.sqrt(np.array([3.0, 1.0]) @ result.covar @ np.array([3.0, 1.0])), rel=1e-5)
    params["c"].expr = "-2 * b"           # d now reads b only, through c
    result = minimize(residual, params)
    assert params["d"].stderr == pytest.approx(np.sqrt(result.covar[1, 1]), rel=1e-5)
    assert params["c"].stderr == pytest.approx(2 * np.sqrt(result.covar[1, 1]), rel=1e-5)
    params["c"].set(min=-0.5, max=-0.5)   # c pinned by its bounds: d follows b alone
    result = minimize(residual, params)
    assert params["c"].stderr == 0.0
    assert params["d"].stderr == pytest.approx(np.sqrt(result.covar[1, 1]), rel=1e-5)


def test_expression_gradients_by_compiled_blocks_match_the_one_by_one_route():
    # the first use of a gradient plan evaluates expression by expression; later uses
    # run one compiled block per group of parameters whose expressions are all unbounded
    from lmfit_host.minimizer import _SQRT_EPS
    params = Parameters()
    params.add("a", value=2.0)
    params.add("b", value=1.0)
    params.add("k", value=4.0)
    params.interpreter.symtable["K"] = 4.0 + 0.5 * _SQRT_EPS * 4.0
    params.add("c", expr="3 * a + b")
    params.add("d", expr="c * c - a")              # reads a through c as well
    params.add("h", expr="a - b", min=-10, max=10)  # bounded: a and b keep the slow route
    params.add("f", expr="(K - k) ** 0.5")          # real at k, complex at k + step
    params.add("g", expr="2 * k")
    mini = Minimizer(lambda p: np.array([p["a"].value, p["b"].value, p["k"].value, 0.0]),
                     params)
    fit = mini._prepare(None, None, False)
    x = np.array([2.0, 1.0, 4.0])
    covar = np.array([[1.0, 0.2, 0.0], [0.2, 2.0, 0.1], [0.0, 0.1, 0.5]])
    first = fit._expression_errors(x, covar)
    again = fit._expression_errors(x, covar)
    plan = fit.work.__dict__["_gradient_plan"][2]
    # a, b and k each in a group of their own (a and b reach the same expressions; k
    # reaches only unbounded ones, which a group with h would not allow a block)
    assert [[name for _, name in group.members] for group in plan] == [["a"], ["b"], ["k"]]
    assert [group.block is not None for group in plan] == [False, False, True]  # k's block
    assert again.keys() == first.keys() == {"c", "d", "h", "g"}  # f: no derivative, no stderr
    for name in first:
        assert again[name] == pytest.approx(first[name], rel=1e-12)
    gradient = {"c": [3.0, 1.0, 0.0], "d": [2 * 7.0 * 3 - 1, 2 * 7.0, 0.0],
                "h": [1.0, -1.0, 0.0], "g": [0.0, 0.0, 2.0]}
    for name, g in gradient.items():
        g = np.array(g)
        assert again[name] == pytest.approx(np.sqrt(g @ covar @ g), rel=1e-6)


def test_parameters_no_expression_reads_together_are_stepped_as_one_group():
    params = Parameters()
    for k in range(4):
        params.add(f"a{k}", value=1.0 + k)
    params.add("t", expr="a0 + 2*a1")
    params.add("u", expr="a1 * a2")
    params.add("v", expr="u - a3")                   # a1 and a2 through u, and a3
    params.add("w", expr="3*a3", min=-100, max=100)  # bounded: a3 groups apart
    for k in range(3):
        params.add(f"s{k}", value=0.5)
        params.add(f"e{k}", expr=f"s{k}**2")         # one expression each: one group
    mini = Minimizer(lambda p: np.zeros(10), params)
    fit = mini._prepare(None, None, False)
    x = np.array([1.0, 2.0, 3.0, 4.0, 0.5, 0.5, 0.5])
    rng = np.random.default_rng(5)
    half = rng.standard_normal((7, 7))
    covar = half @ half.T + 7 * np.eye(7)
    gradient = {"t": [1, 2, 0, 0, 0, 0, 0], "u": [0, 3, 2, 0, 0, 0, 0],
                "v": [0, 3, 2, -1, 0, 0, 0], "w": [0, 0, 0, 3, 0, 0, 0],
                "e0": [0, 0, 0, 0, 1, 0, 0], "e1": [0, 0, 0, 0, 0, 1, 0],
                "e2": [0, 0, 0, 0, 0, 0, 1]}
    for _ in range(2):  # one by one, then by compiled blocks
        errors = fit._expression_errors(x, covar)
        for name, g in gradient.items():
            g = np.array(g, dtype=float)
            assert errors[name] == pytest.approx(np.sqrt(g @ covar @ g), rel=1e-6), name
    plan = fit.work.__dict__["_gradient_plan"][2]
    assert [[name for _, name in group.members] for group in plan] == \
        [["a0", "a2", "s0", "s1", "s2"], ["a1"], ["a3"]]
    assert [group.block is not None for group in plan] == [True, True, False]
    # the values are left as they were
    assert [fit.work[name].value for name in ("t", "u", "v", "w")] == [5.0, 6.0, 2.0, 12.0]


def test_an_expression_calling_a_text_function_counts_as_reading_every_parameter():
    # scaled() reads k from the namespace; b names only a. Stepping a and k together
    # (nothing else b reads is shared) would put db/dk into db/da
    x = np.linspace(0, 1, 40)
    y = 1.0 + 2.0 * x + np.random.default_rng(1).normal(0, 0.05, 40)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("k", value=2.0)
    params.interpreter("def scaled(v):\n    return k*v")
    params.add("b", expr="scaled(a)")
    params.add("m", expr="2*k")
    mini = Minimizer(lambda p: p["a"].value + p["k"].value * x - y, params)
    for _ in range(2):  # one by one, then by compiled blocks
        result = mini.leastsq()
        a, k = result.params["a"].value, result.params["k"].value
        g = np.array([k, a])
        assert result.params["b"].stderr == pytest.approx(np.sqrt(g @ result.covar @ g),
                                                          rel=1e-5)


def test_an_expression_failing_at_the_stepped_point_gets_no_stderr():
    params = Parameters()
    params.add("a", value=0.0)
    params.add("b", value=1.0)
    params.add("c", expr="sqrt(-a) + b")   # a math domain error once a is stepped up
    params.add("d", expr="2 * c")          # reads the failing one
    params.add("f", expr="3 * b")
    mini = Minimizer(lambda p: np.zeros(5), params)
    fit = mini._prepare(None, None, False)
    x, covar = np.array([0.0, 1.0]), np.array([[1.0, 0.1], [0.1, 0.5]])
    for _ in range(2):  # one by one, then by compiled blocks
        errors = fit._expression_errors(x, covar)
        assert set(errors) == {"f"} and errors["f"] == pytest.approx(3 * np.sqrt(0.5))
        assert [fit.work[name].value for name in "cdf"] == [1.0, 2.0, 3.0]


def test_gradient_blocks_stay_within_their_budget(monkeypatch):
    import lmfit_host.minimizer as minimizer_module
    monkeypatch.setattr(minimizer_module, "_PLAN_EXPRESSIONS", 3)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=2.0)
    for k in range(2):
        params.add(f"u{k}", expr=f"a + {k}")   # a's group: two expressions
    for k in range(2):
        params.add(f"v{k}", expr=f"a * b + {k}")  # b's group (shares them with a): two
    mini = Minimizer(lambda p: np.zeros(5), params)
    fit = mini._prepare(None, None, False)
    x, covar = np.array([1.0, 2.0]), np.eye(2)
    first = fit._expression_errors(x, covar)
    again = fit._expression_errors(x, covar)
    plan = fit.work.__dict__["_gradient_plan"][2]
    assert [len(group.steps) for group in plan] == [4, 2]
    assert [group.block is not None for group in plan] == [False, True]  # 4 > 3; 2 fits
    assert again == pytest.approx(first, rel=1e-12)


def test_parameters_acting_as_one_give_no_errorbars_naming_them():
    x = np.linspace(0, 1, 30)
    y = 2 * x + np.random.default_rng(0).normal(0, 0.01, 30)
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=1.5)
    result = minimize(lambda p: p["a"].value * p["b"].value * x - y, params)
    assert not result.errorbars
    assert "singular" in result.errorbars_reason and "a, b" in result.errorbars_reason


def test_value_setter_writes_names_as_literals_and_is_shared():
    from lmfit_host.minimizer import _value_setter
    names = ("a", "b'c", 'd"\\e', "f\n")
    table = {"other": 1}
    store = _value_setter(names)
    store(table, [1.0, 2.0, 3.0, 4.0])
    assert table == {"other": 1, "a": 1.0, "b'c": 2.0, 'd"\\e': 3.0, "f\n": 4.0}
    assert _value_setter(names) is store
    single = _value_setter(("x",))
    single(table, [5.0])
    assert table["x"] == 5.0


def test_an_lmfit_spelling_of_an_engine_name_is_recorded_as_the_engines_own():
    x = np.linspace(0.0, 1.0, 10)
    params = Parameters()
    params.add("a", value=1.0)
    result = minimize(lambda p: p["a"].value * x - 2.0 * x, params, method="Leastsq")
    assert result.engine == "leastsq" and result.method == "leastsq"
    again = Minimizer(lambda p: p["a"].value * x - 2.0 * x, params).minimize(
        engine="lbfgsb", method="L-BFGS-B")
    assert again.engine == "lbfgsb"


def test_an_exception_group_from_the_users_function_ends_the_fit_as_a_fit_error():
    group = ExceptionGroup("several", [ValueError("a"), KeyError("b")])

    def residual(p):
        raise group

    params = Parameters()
    params.add("a", value=1.0)
    with pytest.raises(FitError, match="residual raised ExceptionGroup: several") as info:
        minimize(residual, params)
    assert info.value.__cause__ is group


def _sqrt_line():
    x = np.linspace(0.0, 10.0, 101)
    y = 0.05 * x + 0.01 + np.random.default_rng(0).normal(0.0, 0.05, x.size)
    params = Parameters()
    params.add("v", 1.0)
    params.add("s", expr="sqrt(v)")
    params.add("c", 0.0)
    return params, lambda p: p["s"].value * x + p["c"].value - y


@pytest.mark.parametrize("nan_policy", ["raise", "propagate", "omit"])
def test_a_constraint_leaving_its_domain_at_a_trial_step_is_a_refused_step(nan_policy):
    # MINPACK tries v < 0, where sqrt(v) is undefined: that trial counts as a NaN residual,
    # which MINPACK steps back from (lmfit 1.3.4 gets there under 'propagate' only)
    params, residual = _sqrt_line()
    result = minimize(residual, params, nan_policy=nan_policy)
    assert result.success and result.errorbars
    assert params["s"].value == pytest.approx(0.0508364, rel=1e-5)


def test_a_constraint_leaving_its_domain_where_nan_is_an_error_says_where():
    pytest.importorskip("lmfit_host_lbfgsb")  # an engine that evaluates strictly
    params, residual = _sqrt_line()
    with pytest.raises(ExpressionRuntimeError,
                       match=r"'sqrt\(v\)' of parameter 's' failed: ValueError: math domain "
                             r"error \(at evaluation \d+, with v=-[\d.e+-]+, c=.*bound the "
                             r"parameters it reads") as info:
        minimize(residual, params, method="lbfgsb")
    assert isinstance(info.value.__cause__, ValueError)
    assert params["v"].value == 1.0 and params["c"].value == 0.0
    result = minimize(residual, params, method="lbfgsb", nan_policy="propagate")
    assert result.success and params["s"].value == pytest.approx(0.0508364, rel=1e-5)


def _sqrt_edge():
    # the best fit wants s = sqrt(v) below 0: v ends at the edge of sqrt's domain, where
    # every difference step of the polish and the error bars reaches v < 0 on one side
    x = np.linspace(0.0, 1.0, 50)
    params = Parameters()
    params.add("a", 1.0)
    params.add("v", 0.01)
    params.add("s", expr="sqrt(v)")
    return params, lambda p: p["a"].value * x + p["s"].value - (2.0 * x - 0.3)


def test_a_fit_ending_at_a_constraints_domain_edge_says_how_to_go_on():
    # leastsq's polish differences strictly (a one-sided difference beside a singular edge
    # misled it once): under 'raise' the error says what to do, and doing it works
    params, residual = _sqrt_edge()
    with pytest.raises(ExpressionRuntimeError, match="nan_policy='propagate'"):
        minimize(residual, params)
    assert params["v"].value == 0.01
    result = minimize(residual, params, nan_policy="propagate")
    assert result.success and 0.0 <= params["v"].value < 1e-12


@pytest.mark.parametrize("engine", ["leastsq", "anneal"])
def test_a_fit_ending_at_a_constraints_domain_edge_steps_to_the_defined_side(engine):
    pytest.importorskip(f"lmfit_host_{engine}")
    params, residual = _sqrt_edge()
    options = {"seed": 1} if engine == "anneal" else {"nan_policy": "propagate"}
    result = minimize(residual, params, method=engine, **options)
    assert result.success
    # s = 0: a is the slope through the origin
    x = np.linspace(0.0, 1.0, 50)
    slope = float(x.dot(2.0 * x - 0.3) / x.dot(x))
    best = float(np.sum((slope * x - (2.0 * x - 0.3)) ** 2))
    if engine == "leastsq":
        assert 0.0 <= params["v"].value < 1e-12
        assert params["a"].value == pytest.approx(slope, rel=1e-6)
    else:  # the infinite slope of sqrt at 0 leaves a polish from a sampled point a bit short
        assert result.chisqr == pytest.approx(best, rel=1e-3)


def test_an_engine_answer_where_a_constraint_is_undefined_is_the_expressions_error():
    import lmfit_host
    from lmfit_host import EngineResult, hookimpl

    class Engine:
        name = "undefinedpoint"
        description = "answers v < 0"
        options: dict = {}

        def run(self, problem, **options):
            return EngineResult(x=np.array([1.0, -0.5]), success=True, message="done")

    class Plugin:
        @hookimpl
        def lmfit_host_register_engines(self, register):
            register(Engine())

    name = lmfit_host.register_plugin(Plugin(), name="undefined-point-plugin")
    try:
        params, residual = _sqrt_edge()
        with pytest.raises(ExpressionRuntimeError,
                           match=r"sqrt\(v\).*engine 'undefinedpoint' returned \(a=1, v=-0\.5\)"):
            minimize(residual, params, method="undefinedpoint", nan_policy="propagate")
        assert params["v"].value == 0.01
    finally:
        lmfit_host.unregister_plugin(name)
