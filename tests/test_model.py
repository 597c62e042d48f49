"""Tests for lmfit_host.model: Model, CompositeModel, ExpressionModel and ModelResult."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lmfit_host.errors import FitError, LmfitHostError, UnknownNameError
from lmfit_host.model import CompositeModel, ExpressionModel, Model, ModelError, ModelResult
from lmfit_host.parameter import Parameter, Parameters
from lmfit_host.plugins import engine_names


def decay(t, amp=1.0, tau=1.0):
    return amp * np.exp(-t / tau)


def gauss(x, amp, cen, wid):
    return amp * np.exp(-((x - cen) ** 2) / (2 * wid ** 2))


def line(x, slope=1.0, intercept=0.0):
    return slope * x + intercept


T = np.linspace(0.0, 10.0, 41)
DECAY_DATA = 3.0 * np.exp(-T / 2.0)


def noisy_line(seed: int = 3):
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 10.0, 25)
    return x, 1.5 * x - 2.0 + rng.normal(0.0, 0.3, x.size)


# -- building ------------------------------------------------------------------------------------


def test_parameters_come_from_the_signature():
    model = Model(decay)
    assert model.param_names == ["amp", "tau"]
    assert model.independent_vars == ["t"]


def test_numeric_defaults_are_start_values():
    params = Model(decay).make_params()
    assert params["amp"].value == 1.0 and params["tau"].value == 1.0


def test_arguments_without_defaults_have_no_start_value():
    params = Model(gauss).make_params()
    assert all(params[name].value is None for name in ("amp", "cen", "wid"))


def test_independent_vars_can_be_named():
    model = Model(gauss, independent_vars=["cen"])
    assert model.param_names == ["x", "amp", "wid"]


def test_non_numeric_default_makes_an_extra_independent_variable():
    def shifted(x, a=1.0, offset=None):
        return a * x + (0 if offset is None else offset)

    model = Model(shifted)
    assert model.independent_vars == ["x", "offset"]
    assert model.param_names == ["a"]
    assert np.allclose(model.eval(x=np.ones(2), a=2.0), [2.0, 2.0])


def test_varargs_model_function_is_rejected():
    def bad(x, *coefficients):
        return x

    with pytest.raises(ModelError, match=r"\*coefficients"):
        Model(bad)


def test_prefix_goes_in_front_of_parameter_names():
    assert Model(gauss, prefix="g1_").param_names == ["g1_amp", "g1_cen", "g1_wid"]


def test_model_keyword_sets_a_hint():
    params = Model(decay, tau=dict(value=2.0, min=0)).make_params()
    assert params["tau"].value == 2.0 and params["tau"].min == 0


def test_model_keyword_that_is_no_argument_is_an_error():
    with pytest.raises(ModelError, match="keyword 'taus'"):
        Model(decay, taus=2.0)


# -- make_params and hints -------------------------------------------------------------------------


def test_make_params_takes_values_and_attribute_dicts():
    params = Model(decay).make_params(amp=5, tau=dict(value=2, min=0, max=10, vary=True))
    assert params["amp"].value == 5
    assert (params["tau"].value, params["tau"].min, params["tau"].max) == (2, 0, 10)


def test_make_params_takes_a_parameter():
    params = Model(decay).make_params(tau=Parameter(3.0, min=1))
    assert params["tau"].value == 3.0 and params["tau"].min == 1


def test_make_params_rejects_an_unknown_name():
    with pytest.raises(ModelError, match="'ampp' is not a parameter"):
        Model(decay).make_params(ampp=1)


def test_make_params_adds_a_derived_parameter_with_expr():
    params = Model(decay).make_params(amp=2, tau=4, half=dict(expr="tau*log(2)"))
    params.update_constraints()
    assert params["half"].value == pytest.approx(4 * math.log(2))


def test_param_hint_sets_bounds_and_expressions():
    model = Model(decay)
    model.set_param_hint("tau", min=0.5, max=5)
    model.set_param_hint("rate", expr="1/tau")
    params = model.make_params(tau=2)
    params.update_constraints()
    assert params["tau"].min == 0.5 and params["tau"].max == 5
    assert params["rate"].value == pytest.approx(0.5)


def test_unknown_hint_attribute_is_an_error():
    with pytest.raises(ModelError, match="unknown hint 'mn'"):
        Model(decay).set_param_hint("tau", mn=0)


def test_hint_expression_gets_the_models_prefix():
    model = Model(gauss, prefix="g1_")
    model.set_param_hint("fwhm", expr="2.3548200*wid")
    model.set_param_hint("wid", min=0)
    params = model.make_params(amp=1, cen=0, wid=2)
    params.update_constraints()
    assert "g1_fwhm" in params
    assert params["g1_fwhm"].expr == "2.35482 * g1_wid"
    assert params["g1_fwhm"].value == pytest.approx(4.70964)
    assert params["g1_wid"].min == 0


def test_hint_expression_already_prefixed_is_left_alone():
    model = Model(gauss, prefix="g1_")
    model.set_param_hint("g1_cen", expr="g1_wid + 1")
    params = model.make_params(amp=1, wid=2)
    params.update_constraints()
    assert params["g1_cen"].value == pytest.approx(3.0)


# -- evaluation ----------------------------------------------------------------------------------


def test_eval_takes_parameter_values_as_keywords():
    assert np.allclose(Model(line).eval(x=np.arange(3.0), slope=2, intercept=1), [1, 3, 5])


def test_eval_takes_params():
    model = Model(line)
    params = model.make_params(slope=3, intercept=0)
    assert np.allclose(model.eval(params, x=np.arange(3.0)), [0, 3, 6])


def test_eval_without_the_independent_variable_is_an_error():
    with pytest.raises(ModelError, match="independent variable 'x' is missing"):
        Model(line).eval(slope=1)


def test_eval_with_an_unknown_keyword_is_an_error():
    with pytest.raises(ModelError, match=r"Model\(decay\)\.eval: unknown keyword 'x'; .*"
                                         r"independent variable\(s\) t and the parameters amp, tau"):
        Model(decay).eval(x=T)


def test_eval_with_an_unprefixed_parameter_of_a_prefixed_model_names_the_full_name():
    with pytest.raises(ModelError, match="unknown keyword 'amp'.*write g1_amp="):
        Model(gauss, prefix="g1_").eval(x=X64, amp=1.0, g1_cen=0.0, g1_wid=1.0)


def test_eval_takes_function_arguments_that_are_not_parameters():
    def shifted(x, a=1.0, offset=None):
        return a * x + (offset or 0.0)

    model = Model(shifted, independent_vars=["x"])
    assert model.independent_vars == ["x"] and model.param_names == ["a"]
    assert np.allclose(model.eval(x=np.arange(2.0), offset=5.0), [5.0, 6.0])


def test_composite_eval_takes_every_components_parameters_and_variables():
    model = Model(line) + Model(gauss, prefix="g_")
    out = model.eval(x=np.zeros(1), slope=1.0, intercept=2.0, g_amp=3.0, g_cen=0.0, g_wid=1.0)
    assert np.allclose(out, [5.0])
    with pytest.raises(ModelError, match="unknown keyword 'cen'.*write g_cen="):
        model.eval(x=np.zeros(1), cen=0.0)


def test_eval_components_with_an_unknown_keyword_is_an_error():
    with pytest.raises(ModelError, match=r"eval_components: unknown keyword 'x'"):
        Model(decay).eval_components(x=T)


# -- fitting ---------------------------------------------------------------------------------------


def test_fit_recovers_a_known_exponential_decay():
    result = Model(decay).fit(DECAY_DATA, t=T, amp=1.0, tau=1.0)
    assert isinstance(result, ModelResult)
    assert result.success
    assert result.best_values["amp"] == pytest.approx(3.0, rel=1e-7)
    assert result.best_values["tau"] == pytest.approx(2.0, rel=1e-7)
    assert np.allclose(result.best_fit, DECAY_DATA, atol=1e-8)


def poly4(x, a, b, c, d, e):
    return a + b * x + c * x ** 2 + d * x ** 3 + e * x ** 4


def test_fit_with_arguments_named_like_default_symbols():
    x = np.linspace(-2.0, 2.0, 41)
    truth = dict(a=1.0, b=2.0, c=0.5, d=-0.3, e=0.1)
    model = Model(poly4)
    assert model.param_names == ["a", "b", "c", "d", "e"]
    result = model.fit(poly4(x, **truth), x=x, a=1, b=1, c=1, d=1, e=1)
    assert result.best_values == pytest.approx(truth, abs=1e-8)
    # the fitted parameter shadows the constant e; popped, the constant is back
    params = result.params
    assert params.eval("e") == pytest.approx(0.1)
    params.pop("e")
    assert params.eval("e") == math.e


def test_model_with_parameters_named_like_functions_and_a_hint_reading_them():
    def shifted(x, max, sum=1.0):
        return max * x + sum

    model = Model(shifted)
    model.set_param_hint("sum", expr="2*max")     # reads the parameter max, not the function
    x = np.linspace(0.0, 1.0, 11)
    params = model.make_params(max=3.0)
    assert params["sum"].value == 6.0
    result = model.fit(shifted(x, 2.0, 4.0), params, x=x)
    assert result.params["max"].value == pytest.approx(2.0)
    assert result.params["sum"].value == pytest.approx(4.0)


def test_expression_model_with_a_numpy_spelling_suggests_the_namespaces_name():
    with pytest.raises(UnknownNameError, match=r"'absolute' is not defined \(did you mean abs"):
        ExpressionModel("a*absolute(x)")
    model = ExpressionModel("a*arctan(x/w) + c*sign(x)")   # numpy's names are there too
    assert model.param_names == ["a", "w", "c"]


def test_fit_result_has_init_fit_and_residual():
    result = Model(decay).fit(DECAY_DATA, t=T, tau=1.5)
    assert np.allclose(result.init_fit, 1.0 * np.exp(-T / 1.5))
    assert np.allclose(result.residual, result.best_fit - DECAY_DATA)
    assert result.init_values == {"amp": 1.0, "tau": 1.5}
    assert result.init_params["tau"].value == 1.5


def test_fit_leaves_the_given_params_unchanged():
    model = Model(decay)
    params = model.make_params(amp=1.0, tau=1.0)
    model.fit(DECAY_DATA, params, t=T)
    assert params["amp"].value == 1.0 and params["tau"].value == 1.0


def test_fit_keyword_starts_override_params():
    model = Model(decay)
    params = model.make_params(amp=1.0, tau=1.0)
    result = model.fit(DECAY_DATA, params, t=T, tau=Parameter(2.5, min=0.1))
    assert result.init_values["tau"] == 2.5
    assert result.params["tau"].min == 0.1


def test_fit_without_a_start_value_is_an_error():
    x = np.linspace(-3, 3, 31)
    with pytest.raises(ModelError, match="no start value for amp, cen, wid"):
        Model(gauss).fit(gauss(x, 1, 0, 1), x=x)


def test_fit_with_an_unknown_keyword_is_an_error():
    with pytest.raises(ModelError, match="keyword 'xtol'.*fit_kws"):
        Model(decay).fit(DECAY_DATA, t=T, xtol=1e-9)


class _Column:
    """A stand-in for a pandas Series: an array-like that is not a list or an ndarray."""

    def __init__(self, values):
        self.values = list(values)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=dtype)


def test_fit_takes_lists_for_independent_variables_and_data():
    xs = [0, 1, 2, 3, 4]
    ys = [1.1, 2.9, 5.2, 7.1, 8.8]
    result = Model(line).fit(ys, x=xs)
    assert result.best_values["slope"] == pytest.approx(1.96)
    assert result.best_values["intercept"] == pytest.approx(1.1)
    assert result.userkws["x"].dtype == float


def test_fit_takes_tuples_and_array_likes_as_arrays():
    seen = []

    def decay_seen(t, amp=1.0, tau=1.0):
        seen.append(t)
        return amp * np.exp(-t / tau)

    result = Model(decay_seen).fit(_Column(DECAY_DATA), t=_Column(T), tau=1.5)
    assert result.best_values["tau"] == pytest.approx(2.0)
    assert all(type(t) is np.ndarray and t.dtype == float for t in seen)
    result = Model(decay).fit(tuple(DECAY_DATA), t=tuple(T), tau=1.5)
    assert result.best_values["tau"] == pytest.approx(2.0)


def test_fit_leaves_independent_variables_that_are_not_numbers_alone():
    def pick(x, labels, scale=1.0):
        assert labels == ["a", "b", "c"]
        return scale * x

    result = Model(pick, independent_vars=["x", "labels"]).fit(
        [2.0, 4.0, 6.0], x=[1, 2, 3], labels=["a", "b", "c"])
    assert result.best_values["scale"] == pytest.approx(2.0)


# -- errors name the user's model function -------------------------------------------------------


X64 = np.linspace(-3.0, 3.0, 64)


def counting(func):
    """``func`` with a call counter (``.calls``), keeping its signature."""
    def wrapper(x, a=1.0):
        wrapper.calls += 1
        return func(x, a)
    wrapper.calls = 0
    wrapper.__name__ = func.__name__
    return wrapper


def test_model_function_that_raises_is_named_in_the_error():
    def boom(x, a=1.0):
        raise RuntimeError("kaput")

    with pytest.raises(FitError, match=r"model function boom raised RuntimeError: kaput"):
        Model(boom).fit(X64, x=X64)


def test_model_function_raising_during_the_fit_is_named_in_the_error():
    def picky(x, a=1.0):
        if a > 1.5:
            raise ValueError("a is too big")
        return a * x

    with pytest.raises(FitError, match=r"model function picky raised ValueError: a is too big"):
        Model(picky).fit(3.0 * X64, x=X64)


def test_model_returning_the_wrong_shape_fails_before_the_fit():
    def truncated(x, a):
        return (a * x)[:10]
    model_function = counting(truncated)

    with pytest.raises(ModelError, match=r"model truncated returned shape \(10,\) but the data "
                                         r"has shape \(64,\)"):
        Model(model_function).fit(X64, x=X64)
    assert model_function.calls == 1


def test_independent_variable_shorter_than_the_data_fails_before_the_fit():
    model_function = counting(lambda x, a: a * x)
    model_function.__name__ = "scaled"

    with pytest.raises(ModelError, match="'x' has length 10 but the data has length 64"):
        Model(model_function).fit(X64, x=X64[:10])
    assert model_function.calls == 1


def test_independent_variable_length_is_named_when_the_model_function_fails():
    def weighted(x, a=1.0):
        return a * x * np.ones(64)

    with pytest.raises(ModelError, match="'x' has length 10 but the data has length 64.*"
                                         "ValueError"):
        Model(weighted).fit(X64, x=X64[:10])


def test_composite_whose_components_do_not_combine_fails_at_the_start_values():
    def short(x, a=1.0):
        return a * x[:10]

    model = Model(line) + Model(short)
    with pytest.raises(ModelError, match=r"\(Model\(line\) \+ Model\(short\)\) failed at the "
                                         r"start values: ValueError"):
        model.fit(X64, x=X64)


def test_minimizer_messages_name_the_models_residual():
    def positive_only(x, a=1.0):
        return a * np.where(x < 0, np.nan, x)

    with pytest.raises(FitError, match=r"residual function of Model\(positive_only\) returns "
                                       r"32 NaN"):
        Model(positive_only).fit(X64, x=X64)


def test_fit_with_a_parameter_name_shared_by_prefixed_components_is_an_error():
    model = Model(gauss, prefix="g1_") + Model(gauss, prefix="g2_")
    with pytest.raises(ModelError, match="'amp' is ambiguous.*g1_amp and g2_amp"):
        model.fit(X64, x=X64, amp=1.0, g1_cen=0, g1_wid=1, g2_amp=1, g2_cen=1, g2_wid=1)


def test_fit_statistics_are_delegated_to_the_minimizer_result():
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    assert result.nvarys == 2 and result.ndata == x.size and result.nfree == x.size - 2
    assert result.chisqr == pytest.approx(float(np.sum((result.best_fit - y) ** 2)))
    assert result.redchi == pytest.approx(result.chisqr / result.nfree)
    assert result.var_names == ["slope", "intercept"]
    assert result.covar.shape == (2, 2)
    assert result.errorbars and result.nfev > 0 and result.engine == "leastsq"
    assert result.method == "leastsq"
    assert math.isfinite(result.aic) and math.isfinite(result.bic)
    assert isinstance(result.message, str)


def test_rsquared_is_one_minus_residual_over_total_sum_of_squares():
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    expected = 1 - np.sum((y - result.best_fit) ** 2) / np.sum((y - y.mean()) ** 2)
    assert result.rsquared == pytest.approx(expected)
    assert result.r2 == result.rsquared


def test_linear_fit_matches_the_analytic_least_squares_solution():
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    design = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert result.best_values["slope"] == pytest.approx(coef[0], rel=1e-7)
    assert result.best_values["intercept"] == pytest.approx(coef[1], rel=1e-6)
    redchi = np.sum((design @ coef - y) ** 2) / (x.size - 2)
    covar = np.linalg.inv(design.T @ design) * redchi
    assert np.allclose(result.covar, covar, rtol=1e-5)


def test_weights_multiply_the_residual():
    x, y = noisy_line()
    weights = np.linspace(1.0, 3.0, x.size)
    result = Model(line).fit(y, x=x, weights=weights)
    assert np.allclose(result.residual, (result.best_fit - y) * weights)
    assert result.chisqr == pytest.approx(float(np.sum(result.residual ** 2)))


def test_nan_policy_omit_drops_nan_data_points_and_their_x():
    x, y = noisy_line()
    y = y.copy()
    y[[3, 7]] = np.nan
    result = Model(line, nan_policy="omit").fit(y, x=x)
    assert result.ndata == x.size - 2
    assert result.userkws["x"].size == x.size - 2
    assert np.isfinite(result.best_values["slope"])


def test_nan_policy_omit_drops_nan_model_values_too():
    def gappy(x, slope=1.0, intercept=0.0):
        out = slope * x + intercept
        out[0] = np.nan
        return out

    x, y = noisy_line()
    result = Model(gappy, nan_policy="omit").fit(y, x=x)
    assert result.ndata == x.size - 1 and result.success


def test_nan_in_data_is_an_error_by_default():
    x, y = noisy_line()
    y = y.copy()
    y[4] = np.nan
    with pytest.raises(ModelError, match="first at index 4.*nan_policy='omit'"):
        Model(line).fit(y, x=x)


def test_method_is_accepted_as_the_engine_name():
    result = Model(decay).fit(DECAY_DATA, t=T, method="leastsq")
    assert result.engine == "leastsq"


@pytest.mark.parametrize("engine", ["lbfgsb", "anneal"])
def test_any_installed_engine_fits_a_model(engine):
    if engine not in engine_names():
        pytest.skip(f"engine {engine} is not installed")
    options = {"seed": 1} if engine == "anneal" else {}
    model = Model(decay)
    params = model.make_params(amp=dict(value=2.0, min=0, max=10),
                               tau=dict(value=1.5, min=0.1, max=10))
    result = model.fit(DECAY_DATA, params, t=T, engine=engine, fit_kws=options)
    assert result.engine == engine
    assert result.best_values["tau"] == pytest.approx(2.0, rel=1e-3)


def test_iter_cb_returning_true_aborts_with_the_best_values():
    calls = []

    def stop_early(params, nfev, resid, *args, **kws):
        calls.append(nfev)
        return nfev >= 3

    result = Model(decay).fit(DECAY_DATA, t=T, tau=1.5, iter_cb=stop_early)
    assert result.aborted and not result.success
    assert result.nfev >= 3
    assert "iter_cb" in result.message


def test_fit_report_names_the_model_and_its_parameters():
    report = Model(decay).fit(DECAY_DATA, t=T).fit_report()
    assert report.startswith("Model: Model(decay)")
    assert "amp" in report and "tau" in report and "R-squared" in report


def test_summary_is_json_ready():
    x, y = noisy_line()
    summary = Model(line).fit(y, x=x).summary()
    text = json.dumps(summary)
    assert "slope" in text
    assert summary["params"]["slope"]["stderr"] > 0
    assert summary["engine"] == "leastsq" and summary["nvarys"] == 2
    assert summary["rsquared"] == pytest.approx(summary["rsquared"])


def test_result_eval_takes_new_independent_values():
    result = Model(decay).fit(DECAY_DATA, t=T)
    assert np.allclose(result.eval(t=np.array([0.0, 2.0])), [3.0, 3.0 / math.e])


def test_result_eval_with_an_unknown_keyword_is_an_error():
    result = Model(decay).fit(DECAY_DATA, t=T)
    with pytest.raises(ModelError, match=r"ModelResult\.eval: unknown keyword 'x'.*variable\(s\) t"):
        result.eval(x=np.array([0.0, 2.0]))


def test_result_eval_components_with_an_unknown_keyword_is_an_error():
    result = Model(decay).fit(DECAY_DATA, t=T)
    with pytest.raises(ModelError, match="ModelResult.eval_components: unknown keyword 'x'"):
        result.eval_components(x=np.array([0.0, 2.0]))


# -- uncertainty band ------------------------------------------------------------------------------


def test_eval_uncertainty_of_a_line_matches_the_analytic_band():
    from scipy.special import erf
    from scipy.stats import t as student_t

    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    band = result.eval_uncertainty()
    design = np.column_stack([x, np.ones_like(x)])
    analytic = np.sqrt(np.einsum("ij,jk,ik->i", design, result.covar, design))
    scale = student_t.ppf((erf(1 / math.sqrt(2)) + 1) / 2, result.nfree)
    assert np.allclose(band, scale * analytic, rtol=1e-6)
    assert result.dely is band


def test_eval_uncertainty_at_new_x_and_two_sigma():
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    one = result.eval_uncertainty(x=np.array([20.0]))
    two = result.eval_uncertainty(x=np.array([20.0]), sigma=2)
    assert one.shape == (1,) and two[0] > 1.9 * one[0]


def test_eval_uncertainty_follows_expression_parameters():
    # intercept tied to slope: the band comes from slope's variance alone
    x, y = noisy_line()
    model = Model(line)
    params = model.make_params(slope=1.0, intercept=dict(expr="-slope"))
    result = model.fit(y, params, x=x)
    band = result.eval_uncertainty()
    gradient = x - 1.0
    scale = band[0] / (abs(gradient[0]) * math.sqrt(result.covar[0, 0]))
    assert np.allclose(band, scale * np.abs(gradient) * math.sqrt(result.covar[0, 0]))


def test_eval_uncertainty_with_an_unknown_keyword_is_an_error():
    result = Model(decay).fit(DECAY_DATA, t=T)
    with pytest.raises(ModelError, match=r"eval_uncertainty: unknown keyword 'x'; Model\(decay\) "
                                         r"takes the independent variable\(s\) t$"):
        result.eval_uncertainty(x=np.array([0.0, 2.0]))


def test_eval_uncertainty_with_a_parameter_keyword_says_to_pass_params():
    result = Model(decay).fit(DECAY_DATA, t=T)
    with pytest.raises(ModelError, match="'tau' is a parameter.*pass params="):
        result.eval_uncertainty(tau=3.0)


def test_eval_uncertainty_takes_lmfits_dscale():
    # a line is linear in its parameters: any difference step gives the same band
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    assert np.allclose(result.eval_uncertainty(dscale=0.01), result.eval_uncertainty(),
                       rtol=1e-9)
    with pytest.raises(ModelError, match="dscale must be a positive number"):
        result.eval_uncertainty(dscale=0.0)


def test_eval_uncertainty_without_covariance_is_an_error():
    x = np.array([0.0, 1.0])
    result = Model(line).fit(1.0 + x, x=x)
    with pytest.raises(ModelError, match="no covariance"):
        result.eval_uncertainty()


# -- composite models ----------------------------------------------------------------------------


def two_peaks():
    x = np.linspace(-10, 10, 201)
    y = gauss(x, 4.0, -2.0, 1.0) + gauss(x, 2.5, 3.0, 1.5)
    return x, y


def test_sum_of_prefixed_models_merges_parameter_names():
    model = Model(gauss, prefix="g1_") + Model(gauss, prefix="g2_")
    assert isinstance(model, CompositeModel)
    assert model.param_names == ["g1_amp", "g1_cen", "g1_wid", "g2_amp", "g2_cen", "g2_wid"]
    assert model.independent_vars == ["x"]
    assert model.name == "(Model(gauss, prefix='g1_') + Model(gauss, prefix='g2_'))"


def test_two_peaks_fit_apart_with_prefixes():
    x, y = two_peaks()
    model = Model(gauss, prefix="g1_") + Model(gauss, prefix="g2_")
    params = model.make_params(g1_amp=3, g1_cen=-1, g1_wid=1.5, g2_amp=2, g2_cen=2, g2_wid=1)
    result = model.fit(y, params, x=x)
    assert result.best_values["g1_cen"] == pytest.approx(-2.0, abs=1e-6)
    assert result.best_values["g2_cen"] == pytest.approx(3.0, abs=1e-6)
    assert result.best_values["g2_wid"] == pytest.approx(1.5, abs=1e-6)
    components = result.eval_components()
    assert set(components) == {"g1_", "g2_"}
    assert np.allclose(components["g1_"] + components["g2_"], result.best_fit)


def test_composite_shares_hints_with_expressions_across_components():
    x, y = two_peaks()
    left = Model(gauss, prefix="g1_")
    right = Model(gauss, prefix="g2_")
    model = left + right
    model.set_param_hint("g2_wid", expr="1.5*g1_wid")
    params = model.make_params(g1_amp=3, g1_cen=-1, g1_wid=1.2, g2_amp=2, g2_cen=2)
    result = model.fit(y, params, x=x)
    assert result.best_values["g1_wid"] == pytest.approx(1.0, abs=1e-6)
    assert result.best_values["g2_wid"] == pytest.approx(1.5, abs=1e-6)
    # noise-free data fit exactly: no uncertainty to scale, and the result says so
    assert not result.errorbars and "exact" in result.errorbars_reason


def test_same_parameter_names_without_prefix_are_an_error():
    with pytest.raises(ModelError, match="both have a parameter named 'amp'.*prefix"):
        Model(gauss) + Model(gauss)


@pytest.mark.parametrize("op, expected", [("-", 1.0), ("*", 2.0), ("/", 2.0)])
def test_composite_operators(op, expected):
    def const_a(x, a=2.0):
        return a + 0 * x

    def const_b(x, b=1.0):
        return b + 0 * x

    left, right = Model(const_a), Model(const_b)
    model = {"-": left - right, "*": left * right, "/": left / right}[op]
    assert np.allclose(model.eval(x=np.zeros(2)), expected)


def test_composite_of_models_with_different_independent_variables():
    def f(x, a=1.0):
        return a * x

    def g(t, b=1.0):
        return b * t

    model = Model(f) + Model(g)
    assert model.independent_vars == ["x", "t"]
    assert np.allclose(model.eval(x=np.ones(2), t=np.full(2, 2.0), a=3, b=1), [5, 5])


# -- ExpressionModel -------------------------------------------------------------------------------


def test_expression_model_finds_parameters_in_order_of_appearance():
    model = ExpressionModel("amp*exp(-x/tau) + c")
    assert model.param_names == ["amp", "tau", "c"]
    assert model.independent_vars == ["x"]


def test_expression_model_skips_constants_and_functions():
    model = ExpressionModel("a*sin(2*pi*x/period) + e")
    assert model.param_names == ["a", "period"]


def test_function_name_read_as_a_value_is_a_parameter():
    model = ExpressionModel("amp*x + floor")
    assert model.param_names == ["amp", "floor"]
    assert np.allclose(model.eval(x=np.arange(2.0), amp=2.0, floor=0.5), [0.5, 2.5])


def test_expression_model_evaluates_on_arrays():
    model = ExpressionModel("amp*exp(-x/tau)")
    out = model.eval(x=np.array([0.0, 1.0]), amp=2.0, tau=1.0)
    assert np.allclose(out, [2.0, 2.0 / math.e])


def test_expression_model_max_of_an_array_is_element_wise():
    model = ExpressionModel("max(a*x, 0)")
    out = model.eval(x=np.array([-1.0, 0.5, 2.0]), a=2.0)
    np.testing.assert_array_equal(out, [0.0, 1.0, 4.0])


def test_expression_model_fits_a_known_decay():
    model = ExpressionModel("amp*exp(-t/tau)", independent_vars=["t"])
    result = model.fit(DECAY_DATA, t=T, amp=1, tau=1)
    assert result.best_values["tau"] == pytest.approx(2.0, rel=1e-7)


def test_expression_model_without_x_is_an_error():
    with pytest.raises(ModelError, match="does not use the independent variable x"):
        ExpressionModel("a*t + b")


def test_expression_model_with_an_unknown_function_is_an_error():
    with pytest.raises(UnknownNameError, match="function 'nosuchfunc'"):
        ExpressionModel("nosuchfunc(x, a)")


def test_expression_model_syntax_error_is_a_library_error():
    with pytest.raises(LmfitHostError):
        ExpressionModel("a*x +")


def test_expression_models_combine_with_prefixes():
    peak = ExpressionModel("amp*exp(-(x-cen)**2/(2*wid**2))", prefix="p1_")
    base = ExpressionModel("c + 0*x", prefix="bg_")
    model = peak + base
    assert model.param_names == ["p1_amp", "p1_cen", "p1_wid", "bg_c"]
    x = np.linspace(-5, 5, 101)
    y = 2.0 * np.exp(-(x - 0.5) ** 2 / 2.0) + 0.3
    result = model.fit(y, x=x, p1_amp=1, p1_cen=0, p1_wid=2, bg_c=0)
    assert result.best_values["p1_cen"] == pytest.approx(0.5, abs=1e-6)
    assert result.best_values["bg_c"] == pytest.approx(0.3, abs=1e-6)


# -- plots -----------------------------------------------------------------------------------------


def test_plot_draws_fit_and_residual_axes(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = noisy_line()
    result = Model(line).fit(y, x=x, weights=np.full(x.size, 1 / 0.3))
    figure = result.plot(numpoints=200)
    try:
        top, bottom = figure.axes
        assert [t.get_text() for t in top.get_legend().get_texts()] == [
            "1-sigma band", "best fit", "data"]
        assert bottom.get_ylabel() == "data - fit"
        figure.savefig(tmp_path / "fit.png")
        assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(figure)


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch):
    x, y = noisy_line()
    result = Model(line).fit(y, x=x)
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.pyplot", None)
    with pytest.raises(ModelError, match=r"pip install 'lmfit-host\[plot\]'"):
        result.plot_fit()


def test_model_result_values_are_the_best_values_as_in_lmfit():
    t = np.linspace(0.0, 5.0, 40)
    result = Model(decay).fit(3.0 * np.exp(-t / 1.5), t=t, amp=1.0, tau=1.0)
    assert result.values == result.best_values
    assert result.values["tau"] == pytest.approx(1.5, rel=1e-6)


def test_the_band_of_a_fit_with_a_parameter_held_at_a_bound_is_that_of_the_others():
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 10.0, 101)
    y = 3.0 * np.exp(-x / 2.5) + 0.5 + rng.normal(0.0, 0.02, x.size)

    def offset_decay(x, a=3.0, t=2.5, c=0.3):
        return a * np.exp(-x / t) + c

    model = Model(offset_decay)
    params = model.make_params()
    params["c"].set(max=0.3)  # below the truth: c ends at its bound
    held = model.fit(y, params, x=x)
    assert held.errorbars and "c ended at a bound" in held.errorbars_reason
    fixed_params = model.make_params()
    fixed_params["c"].set(vary=False)
    fixed = model.fit(y, fixed_params, x=x)
    scale = math.sqrt(held.redchi / fixed.redchi)  # c counts as varied in the held fit
    assert np.allclose(held.eval_uncertainty(x=x), fixed.eval_uncertainty(x=x) * scale,
                       rtol=1e-3)
