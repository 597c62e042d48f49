"""lmfit-host-specfun: values, scalar and array paths, and the pack inside lmfit-host.

The throwaway-pack tests build a second function pack in a temporary
folder, pip-install it into a target folder and run fits in subprocesses
that see it through PYTHONPATH, so the entry-point machinery is exercised
end to end without touching the dev environment.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from scipy.optimize import brentq

import lmfit_host_specfun as specfun
from lmfit_host_specfun import lineshapes, special, widths

try:
    trapezoid = np.trapezoid
except AttributeError:  # numpy < 2
    trapezoid = np.trapz

PACK = "lmfit-host-specfun"
X = np.linspace(-4.0, 6.0, 41)


# --------------------------------------------------------------------------
# special functions
# --------------------------------------------------------------------------

SPECIAL_CASES = [
    # (name, scipy reference, argument tuples covering ordinary and edge values)
    ("erf", sp.erf, [(-3.0,), (0.0,), (0.3,), (7.0,), (math.inf,)]),
    ("erfc", sp.erfc, [(-2.0,), (0.0,), (5.0,), (30.0,)]),
    ("erfcx", sp.erfcx, [(-3.0,), (0.0,), (2.0,), (1e5,)]),
    ("erfinv", sp.erfinv, [(-0.99,), (0.0,), (0.5,), (1.0,), (1.5,)]),
    ("gamma_fn", sp.gamma, [(0.5,), (5.0,), (-1.5,), (-2.0,), (200.0,)]),
    ("gammaln", sp.gammaln, [(0.5,), (10.0,), (1e5,), (-1.5,)]),
    ("beta_fn", sp.beta, [(2.0, 3.0), (0.5, 0.5), (30.0, 40.0)]),
    ("betaln", sp.betaln, [(2.0, 3.0), (300.0, 400.0)]),
    ("digamma", sp.digamma, [(1.0,), (0.25,), (-0.5,), (100.0,)]),
    ("wofz", sp.wofz, [(0.0,), (1.5,), (1.0 + 0.5j,), (-2.0 + 3.0j,)]),
    ("dawsn", sp.dawsn, [(0.0,), (0.9,), (-4.0,), (100.0,)]),
    ("expi", sp.expi, [(1.0,), (-1.0,), (0.01,), (50.0,)]),
    ("expn", sp.expn, [(1, 1.0), (2, 0.3), (5, 10.0), (0, 2.0)]),
    ("sinc", np.sinc, [(0.0,), (0.5,), (1.0,), (-2.5,), (1e-9,)]),
]


@pytest.mark.parametrize("name, reference, cases", SPECIAL_CASES, ids=[c[0] for c in SPECIAL_CASES])
def test_special_function_on_floats_returns_python_scalar_equal_to_scipy(name, reference, cases):
    function = getattr(special, name)
    for args in cases:
        value = function(*args)
        expected = reference(*args)
        assert type(value) in (float, complex), (name, args, type(value))
        np.testing.assert_allclose(value, expected, rtol=1e-14, atol=0, equal_nan=True,
                                   err_msg=f"{name}{args}")


@pytest.mark.parametrize("name, reference, cases", SPECIAL_CASES, ids=[c[0] for c in SPECIAL_CASES])
def test_special_function_on_arrays_returns_array_equal_to_scipy(name, reference, cases):
    function = getattr(special, name)
    columns = [np.array(column) for column in zip(*cases)]
    value = function(*columns)
    assert isinstance(value, np.ndarray) and value.shape == (len(cases),)
    np.testing.assert_allclose(value, reference(*columns), rtol=1e-14, equal_nan=True)


def test_special_function_takes_ints_lists_and_numpy_scalars():
    assert special.erf(1) == special.erf(1.0) and type(special.erf(1)) is float
    assert type(special.gamma_fn(np.float32(2.5))) is float
    assert special.gamma_fn(np.float64(5.0)) == 24.0
    assert special.erf([0.0, 1.0]).tolist() == [0.0, sp.erf(1.0)]
    one_element = special.erfcx(np.array([0.5]))
    assert isinstance(one_element, np.ndarray) and one_element.shape == (1,)


def test_float_only_guard_refuses_arrays_where_numpy_would_convert_them(monkeypatch):
    from lmfit_host_specfun import _fast

    monkeypatch.setattr(_fast, "REFUSES_ARRAYS", False)  # as under NumPy < 2
    guarded = _fast.float_only(math.sqrt)
    assert guarded(4.0) == 2.0
    with pytest.raises(TypeError):
        guarded(np.ones(1))


def test_float_path_refuses_one_element_arrays():
    # the pack relies on this to send arrays to numpy without testing floats first
    for fast in (special._erf, special._erfcx, special._wofz, widths._sqrt):
        with pytest.raises(TypeError):
            fast(np.ones(1))


def test_wofz_real_part_on_voigt_line_is_scipy_voigt_profile():
    sigma, gamma = 0.7, 0.3
    z = (X + 1j * gamma) / (sigma * math.sqrt(2))
    np.testing.assert_allclose(special.wofz(z).real / (sigma * math.sqrt(2 * math.pi)),
                               sp.voigt_profile(X, sigma, gamma), rtol=1e-12)


# --------------------------------------------------------------------------
# line shapes: closed forms and scipy.stats references
# --------------------------------------------------------------------------

def test_gaussian_is_normal_density_times_amplitude():
    np.testing.assert_allclose(lineshapes.gaussian(X, 2.5, 0.4, 1.3),
                               2.5 * st.norm.pdf(X, loc=0.4, scale=1.3), rtol=1e-13)


def test_lorentzian_is_cauchy_density_times_amplitude():
    np.testing.assert_allclose(lineshapes.lorentzian(X, 2.5, 0.4, 1.3),
                               2.5 * st.cauchy.pdf(X, loc=0.4, scale=1.3), rtol=1e-13)


def test_voigt_is_scipy_voigt_profile_times_amplitude():
    np.testing.assert_allclose(lineshapes.voigt(X, 3.0, 0.5, 0.7, 0.2),
                               3.0 * sp.voigt_profile(X - 0.5, 0.7, 0.2), rtol=1e-12)


def test_voigt_gamma_defaults_to_sigma():
    assert lineshapes.voigt(0.3, 1.0, 0.0, 0.8) == lineshapes.voigt(0.3, 1.0, 0.0, 0.8, 0.8)


def test_voigt_without_lorentzian_width_is_gaussian():
    np.testing.assert_allclose(lineshapes.voigt(X, 2.0, 0.1, 0.9, 0.0),
                               lineshapes.gaussian(X, 2.0, 0.1, 0.9), rtol=1e-12)


def test_pvoigt_mixes_gaussian_and_lorentzian_of_equal_fwhm():
    sigma = 0.8
    gauss = lineshapes.gaussian(X, 1.0, 0.0, sigma / math.sqrt(2 * math.log(2)))
    np.testing.assert_allclose(lineshapes.pvoigt(X, 1.0, 0.0, sigma, 0.3),
                               0.7 * gauss + 0.3 * lineshapes.lorentzian(X, 1.0, 0.0, sigma),
                               rtol=1e-13)
    for fraction in (0.0, 0.4, 1.0):
        peak = lineshapes.pvoigt(0.0, 1.0, 0.0, sigma, fraction)
        assert lineshapes.pvoigt(sigma, 1.0, 0.0, sigma, fraction) == pytest.approx(peak / 2)


def test_pseudo_voigt_stays_within_two_percent_of_voigt_peak_height():
    for sigma, gamma in [(1.0, 1.0), (1.0, 0.1), (0.1, 1.0), (0.5, 0.0)]:
        voigt = lineshapes.voigt(X, 1.0, 0.5, sigma, gamma)
        approx = lineshapes.pseudo_voigt(X, 1.0, 0.5, sigma, gamma)
        assert np.max(np.abs(approx - voigt)) < 0.02 * voigt.max()


def test_moffat_is_rescaled_student_t_density():
    sigma, beta = 1.2, 2.5
    nu = 2 * beta - 1
    expected = 3.0 * st.t.pdf((X - 0.5) / sigma * math.sqrt(nu), nu) * math.sqrt(nu) / sigma
    np.testing.assert_allclose(lineshapes.moffat(X, 3.0, 0.5, sigma, beta), expected, rtol=1e-12)


def test_moffat_with_beta_one_is_lorentzian():
    np.testing.assert_allclose(lineshapes.moffat(X, 2.0, 0.3, 0.7, 1.0),
                               lineshapes.lorentzian(X, 2.0, 0.3, 0.7), rtol=1e-13)


def test_pearson7_has_fwhm_two_sigma_for_every_exponent():
    for expon in (0.8, 1.0, 2.0, 10.0):
        peak = lineshapes.pearson7(0.5, 1.0, 0.5, 0.4, expon)
        assert lineshapes.pearson7(0.9, 1.0, 0.5, 0.4, expon) == pytest.approx(peak / 2, rel=1e-12)


def test_pearson7_with_exponent_one_is_lorentzian():
    np.testing.assert_allclose(lineshapes.pearson7(X, 2.0, 0.3, 0.7, 1.0),
                               lineshapes.lorentzian(X, 2.0, 0.3, 0.7), rtol=1e-13)


def test_split_lorentzian_uses_left_and_right_half_widths():
    left, right = 0.5, 1.5
    peak = lineshapes.split_lorentzian(1.0, 1.0, 1.0, left, right)
    assert peak == pytest.approx(2 / (math.pi * (left + right)))
    assert lineshapes.split_lorentzian(1.0 - left, 1.0, 1.0, left, right) == pytest.approx(peak / 2)
    assert lineshapes.split_lorentzian(1.0 + right, 1.0, 1.0, left, right) == pytest.approx(peak / 2)


def test_skewed_gaussian_is_skew_normal_density():
    np.testing.assert_allclose(lineshapes.skewed_gaussian(X, 2.0, 0.5, 1.1, 3.0),
                               2.0 * st.skewnorm.pdf(X, 3.0, loc=0.5, scale=1.1), rtol=1e-12)


def test_exp_gaussian_is_exponnorm_density():
    sigma, gamma = 0.6, 1.7
    expected = 2.0 * st.exponnorm.pdf(X, 1 / (sigma * gamma), loc=0.5, scale=sigma)
    np.testing.assert_allclose(lineshapes.exp_gaussian(X, 2.0, 0.5, sigma, gamma), expected,
                               rtol=1e-11)


def test_exp_gaussian_stays_finite_and_silent_far_from_center():
    far = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = lineshapes.exp_gaussian(far, 1.0, 0.0, 0.01, 30.0)
        scalars = [lineshapes.exp_gaussian(float(v), 1.0, 0.0, 0.01, 30.0) for v in far]
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    np.testing.assert_allclose(scalars, values, rtol=1e-13)


def test_students_t_is_t_density():
    np.testing.assert_allclose(lineshapes.students_t(X, 2.0, 0.5, 1.3, 3.5),
                               2.0 * st.t.pdf(X, 3.5, loc=0.5, scale=1.3), rtol=1e-12)


def test_doniach_matches_its_closed_form_and_reduces_to_lorentzian():
    x, center, sigma, asym = 1.3, 0.2, 0.6, 0.25
    z = (x - center) / sigma
    expected = (2.0 * math.gamma(1 - asym) / (math.pi * sigma)
                * math.cos(math.pi * asym / 2 + (1 - asym) * math.atan(z))
                / (1 + z * z) ** ((1 - asym) / 2))
    assert lineshapes.doniach(x, 2.0, center, sigma, asym) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(lineshapes.doniach(X, 2.0, 0.3, 0.7, 0.0),
                               lineshapes.lorentzian(X, 2.0, 0.3, 0.7), rtol=1e-13)


def test_logistic_is_sigmoid_of_height_amplitude():
    np.testing.assert_allclose(lineshapes.logistic(X, 2.0, 0.5, 0.3),
                               2.0 * sp.expit((X - 0.5) / 0.3), rtol=1e-14)
    assert lineshapes.logistic(-1e6, 1.0, 0.0, 1.0) == 0.0
    assert lineshapes.logistic(1e6, 1.0, 0.0, 1.0) == 1.0


@pytest.mark.parametrize("form, cumulative", [
    ("linear", lambda x, c, s: st.uniform.cdf(x, loc=c - s / 2, scale=s)),
    ("erf", lambda x, c, s: st.norm.cdf(x, loc=c, scale=s)),
    ("atan", lambda x, c, s: st.cauchy.cdf(x, loc=c, scale=s)),
    ("arctan", lambda x, c, s: st.cauchy.cdf(x, loc=c, scale=s)),
    ("logistic", lambda x, c, s: st.logistic.cdf(x, loc=c, scale=s)),
])
def test_step_is_amplitude_times_cumulative_of_matching_peak(form, cumulative):
    np.testing.assert_allclose(lineshapes.step(X, 2.0, 0.5, 1.2, form),
                               2.0 * cumulative(X, 0.5, 1.2), rtol=1e-12, atol=1e-300)
    assert lineshapes.step(0.5, 2.0, 0.5, 1.2, form) == 1.0


def test_step_with_unknown_form_names_the_valid_forms():
    with pytest.raises(ValueError, match=r"'tanh'.*'linear'.*'logistic'"):
        lineshapes.step(0.0, form="tanh")
    with pytest.raises(ValueError, match="'tanh'"):
        lineshapes.step(X, form="tanh")


def test_rectangle_is_a_plateau_between_two_half_heights():
    values = lineshapes.rectangle(np.array([-1.0, 0.0, 1.0, 2.0, 3.0]), 3.0, 0.0, 0.1, 2.0, 0.1,
                                  "erf")
    np.testing.assert_allclose(values, [0.0, 1.5, 3.0, 1.5, 0.0], atol=1e-15)


# --------------------------------------------------------------------------
# areas, widths, scalar vs array
# --------------------------------------------------------------------------

# Peaks of area = amplitude, with parameters that exercise every option.
PEAKS = [
    ("gaussian", (0.3, 0.8)),
    ("lorentzian", (0.3, 0.8)),
    ("voigt", (0.3, 0.8, 0.4)),
    ("pvoigt", (0.3, 0.8, 0.35)),
    ("pseudo_voigt", (0.3, 0.8, 0.4)),
    ("moffat", (0.3, 0.8, 0.9)),
    ("pearson7", (0.3, 0.8, 1.7)),
    ("split_lorentzian", (0.3, 0.4, 1.1)),
    ("skewed_gaussian", (0.3, 0.8, -2.0)),
    ("exp_gaussian", (0.3, 0.8, 1.5)),
    ("students_t", (0.3, 0.8, 1.5)),
    ("doniach", (0.3, 0.8, 0.0)),
]


@pytest.mark.parametrize("name, shape_args", PEAKS, ids=[p[0] for p in PEAKS])
def test_peak_area_is_amplitude(name, shape_args):
    center, sigma = shape_args[:2]
    # sinh spacing: fine near the peak, reaching |x| ~ 1e17 for the heavy tails
    x = center + sigma * np.sinh(np.linspace(-40.0, 40.0, 200001))
    y = getattr(lineshapes, name)(x, 2.5, *shape_args)
    assert trapezoid(y, x) == pytest.approx(2.5, rel=1e-6)


SHAPES = PEAKS + [
    ("doniach", (0.3, 0.8, 0.3)),
    ("logistic", (0.3, 0.8)),
    ("step", (0.3, 0.8, "linear")),
    ("step", (0.3, 0.8, "erf")),
    ("step", (0.3, 0.8, "atan")),
    ("step", (0.3, 0.8, "logistic")),
    ("rectangle", (-1.0, 0.5, 2.0, 0.3, "erf")),
    ("rectangle", (-1.0, 0.5, 2.0, 0.3, "linear")),
]


@pytest.mark.parametrize("name, shape_args", SHAPES, ids=[f"{s[0]}-{s[1][-1]}" for s in SHAPES])
def test_scalar_path_returns_floats_equal_to_array_path(name, shape_args):
    function = getattr(lineshapes, name)
    x = np.concatenate([X, [-1e3, 1e3]])
    on_array = function(x, 1.7, *shape_args)
    on_floats = [function(float(value), 1.7, *shape_args) for value in x]
    assert isinstance(on_array, np.ndarray) and on_array.shape == x.shape
    assert all(type(value) is float for value in on_floats)
    np.testing.assert_allclose(on_floats, on_array, rtol=1e-13, atol=1e-300)
    assert function(list(X), 1.7, *shape_args).shape == X.shape


README = Path(__file__).resolve().parents[1] / "README.md"

# shape, its arguments after x (lmfit's take the same, in the same order), step/rectangle form
LMFIT_COMPARED = [
    ("gaussian", (2.0, 0.3, 0.8), None),
    ("lorentzian", (2.0, 0.3, 0.8), None),
    ("voigt", (2.0, 0.3, 0.8, 0.4), None),
    ("pvoigt", (2.0, 0.3, 0.8, 0.3), None),
    ("moffat", (2.0, 0.3, 0.8, 1.5), None),
    ("pearson7", (2.0, 0.3, 0.8, 1.7), None),
    ("split_lorentzian", (2.0, 0.3, 0.8, 1.3), None),
    ("skewed_gaussian", (2.0, 0.3, 0.8, 1.5), None),
    ("exp_gaussian", (2.0, 0.3, 0.8, 1.2), None),
    ("students_t", (2.0, 0.3, 0.8), None),
    ("doniach", (2.0, 0.3, 0.8, 0.3), None),
    ("logistic", (2.0, 0.3, 0.8), None),
] + [("step", (2.0, 0.3, 0.8), form) for form in ("linear", "erf", "atan", "logistic")] + [
    ("rectangle", (2.0, -1.0, 0.5, 2.0, 0.7), form)
    for form in ("linear", "erf", "atan", "logistic")]

# the README's conversions: (shape, form) -> lmfit's arguments for the same curve
SQRT2 = math.sqrt(2.0)
LMFIT_CONVERSIONS = {
    ("pearson7", None): lambda a, c, s, m: (a, c, s / math.sqrt(2.0 ** (1.0 / m) - 1.0), m),
    ("step", "erf"): lambda a, c, s: (a, c, s * SQRT2),
    ("rectangle", "erf"): lambda a, c1, s1, c2, s2: (a, c1, s1 * SQRT2, c2, s2 * SQRT2),
    ("rectangle", "linear"): lambda a, c1, s1, c2, s2: (a, c1, s1 / 2, c2, s2 / 2),
}


def _readme_differences():
    """The README's "Differences from lmfit.lineshapes" bullets, keyed by the shape each names first."""
    section = README.read_text().split("## Differences from `lmfit.lineshapes`")[1]
    section = section.split("\n## ")[0]
    return {bullet.split("`")[1]: bullet for bullet in section.split("\n- ")[1:]}


def test_readme_lists_exactly_the_line_shapes_that_differ_from_lmfit():
    lmfit_shapes = pytest.importorskip("lmfit.lineshapes")
    differences = _readme_differences()
    x = np.linspace(-5.0, 6.0, 221)
    wrong = []
    for name, args, form in LMFIT_COMPARED:
        extra = {} if form is None else {"form": form}
        ours = getattr(lineshapes, name)(x, *args, **extra)
        lmfit_function = getattr(lmfit_shapes, {"exp_gaussian": "expgaussian"}.get(name, name))
        differs = not np.allclose(ours, lmfit_function(x, *args, **extra), rtol=1e-12, atol=1e-14)
        bullet = differences.get(name, "")
        # exp_gaussian's bullet is about its name, not its values
        listed = (bool(re.search(rf"\b{form}\b", bullet)) if form else bool(bullet)
                  and name != "exp_gaussian")
        if differs != listed:
            wrong.append(f"{name} {form or ''}: differs from lmfit {differs}, README says {listed}")
        convert = LMFIT_CONVERSIONS.get((name, form))
        if convert is not None:
            np.testing.assert_allclose(ours, lmfit_function(x, *convert(*args), **extra),
                                       rtol=1e-12, atol=1e-14, err_msg=f"{name} {form}")
    assert not wrong, wrong


def test_widths_with_invalid_shape_exponents_give_nan_on_both_paths():
    assert math.isnan(lineshapes.moffat(0.0, 1.0, 0.0, 1.0, 0.5))
    assert math.isnan(lineshapes.pearson7(0.0, 1.0, 0.0, 1.0, 0.2))
    assert math.isnan(lineshapes.students_t(0.0, 1.0, 0.0, 1.0, -1.0))
    assert np.all(np.isnan(lineshapes.moffat(X, 1.0, 0.0, 1.0, 0.5)))
    assert np.all(np.isnan(lineshapes.students_t(X, 1.0, 0.0, 1.0, -1.0)))


def _measured_fwhm(function, *shape_args):
    peak = function(0.0, 1.0, 0.0, *shape_args)
    half_right = brentq(lambda x: function(x, 1.0, 0.0, *shape_args) - peak / 2, 0.0, 100.0,
                        xtol=1e-14)
    half_left = brentq(lambda x: function(x, 1.0, 0.0, *shape_args) - peak / 2, -100.0, 0.0,
                       xtol=1e-14)
    return half_right - half_left


@pytest.mark.parametrize("sigma, gamma", [(1.0, 1.0), (1.0, 0.05), (0.05, 1.0), (0.7, 0.0),
                                          (1.0, 0.355)])  # the worst ratio: 0.0236% off
def test_fwhm_voigt_is_within_its_documented_accuracy(sigma, gamma):
    measured = _measured_fwhm(lineshapes.voigt, sigma, gamma)
    assert widths.fwhm_voigt(sigma, gamma) == pytest.approx(measured, rel=2.4e-4)


@pytest.mark.parametrize("sigma, gamma", [(1.0, 1.0), (1.0, 0.05), (0.05, 1.0)])
def test_fwhm_pseudo_voigt_is_the_width_of_pseudo_voigt(sigma, gamma):
    measured = _measured_fwhm(lineshapes.pseudo_voigt, sigma, gamma)
    assert widths.fwhm_pseudo_voigt(sigma, gamma) == pytest.approx(measured, rel=1e-10)
    assert widths.fwhm_pseudo_voigt(sigma, gamma) == pytest.approx(
        widths.fwhm_voigt(sigma, gamma), rel=3e-3)


def test_simple_fwhm_helpers_match_measured_widths():
    assert widths.fwhm_gaussian(0.6) == pytest.approx(_measured_fwhm(lineshapes.gaussian, 0.6))
    assert widths.fwhm_lorentzian(0.6) == pytest.approx(_measured_fwhm(lineshapes.lorentzian, 0.6))
    assert widths.fwhm_pvoigt(0.6) == pytest.approx(_measured_fwhm(lineshapes.pvoigt, 0.6, 0.3))


def test_fwhm_helpers_take_arrays():
    sigmas = np.array([0.5, 1.0])
    np.testing.assert_allclose(widths.fwhm_voigt(sigmas, 0.2),
                               [widths.fwhm_voigt(0.5, 0.2), widths.fwhm_voigt(1.0, 0.2)])
    assert widths.fwhm_pseudo_voigt(sigmas).shape == (2,)


# --------------------------------------------------------------------------
# the pack inside lmfit-host
# --------------------------------------------------------------------------

def test_every_pack_function_has_a_docstring_and_its_registered_name():
    for name, function in specfun.FUNCTIONS.items():
        assert function.__name__ == name
        assert function.__doc__ and function.__doc__.strip()


def test_no_pack_name_is_a_parameter_name_of_its_own_line_shapes():
    # a parameter may not be named like a namespace function, and users name
    # their parameters after these arguments (gamma, beta, sigma, ...)
    import inspect

    arguments = {name for function in specfun.FUNCTIONS.values()
                 for name in inspect.signature(function).parameters}
    assert not arguments & set(specfun.FUNCTIONS)


def test_names_match_the_hosts_hint_table():
    from lmfit_host.plugins import KNOWN_FUNCTION_PACKS

    assert sorted(specfun.FUNCTIONS) == sorted(KNOWN_FUNCTION_PACKS[PACK])


def test_pack_is_listed_by_the_plugin_host():
    import lmfit_host.plugins

    records = [r for r in lmfit_host.plugins.list_plugins() if r.distribution == PACK]
    assert len(records) == 1
    record = records[0]
    assert (record.name, record.status, record.version) == ("specfun", "ok", specfun.__version__)
    assert record.functions == list(specfun.FUNCTIONS)


def test_pack_functions_are_default_symbols_with_their_origin():
    from lmfit_host.expr import Interpreter

    interpreter = Interpreter()
    for name, function in specfun.FUNCTIONS.items():
        assert interpreter.symtable[name] is function
    assert PACK in interpreter.symbol_origin("wofz")
    assert interpreter.eval("erf(0.5) + step(0.0, 2.0, 0.0, 1.0, 'erf')") == pytest.approx(
        sp.erf(0.5) + 1.0)


def test_array_interpreter_evaluates_line_shapes_on_arrays():
    from lmfit_host.expr import Interpreter

    interpreter = Interpreter({"x": X}, arrays=True)
    value = interpreter.eval("voigt(x, 2.0, 0.5, 0.3, 0.1) + gaussian(x)")
    np.testing.assert_allclose(value, lineshapes.voigt(X, 2.0, 0.5, 0.3, 0.1)
                               + lineshapes.gaussian(X), rtol=1e-14)


def test_constraint_uses_pack_functions():
    from lmfit_host import Parameters

    params = Parameters()
    params.add("sigma", value=0.5)
    params.add("gamma", value=0.2)
    params.add("fwhm", expr="fwhm_voigt(sigma, gamma)")
    params.add("frac", expr="erf(gamma / sigma)")
    params.update_constraints()
    assert params["fwhm"].value == pytest.approx(widths.fwhm_voigt(0.5, 0.2), rel=1e-15)
    assert params["frac"].value == pytest.approx(sp.erf(0.4), rel=1e-15)
    params["gamma"].value = 0.4
    params.update_constraints()
    assert params["fwhm"].value == pytest.approx(widths.fwhm_voigt(0.5, 0.4), rel=1e-15)


def test_parameter_named_like_a_pack_function_shadows_it_while_it_is_in_the_set():
    from lmfit_host import Parameters

    params = Parameters()
    params.add("step", value=0.25)            # a step height, as lmfit users name it
    params.add("double", expr="2*step")
    assert params["double"].value == 0.5
    params.pop("double")
    params.pop("step")
    assert params.interpreter.symtable["step"] is lineshapes.step
    params.add("edge", expr="step(1.0, 1.0, 0.0, 1.0)")
    assert params["edge"].value == 1.0


def test_pack_function_name_given_by_the_user_is_refused_naming_the_pack():
    from lmfit_host import ParameterError, Parameters

    params = Parameters()
    params.interpreter.symtable["erf"] = lambda v: v   # the user's own erf
    with pytest.raises(ParameterError,
                       match=f"'erf' is not allowed.*in place of 'erf' of function pack '{PACK}'"):
        params.add("erf", value=1.0)


def test_minimizer_asteval_holds_pack_functions():
    from lmfit_host import Minimizer, Parameters

    params = Parameters()
    params.add("a", value=1.0)
    mini = Minimizer(lambda p: np.array([p["a"].value - 1.0, 0.0]), params)
    assert mini.asteval.symtable["voigt"] is lineshapes.voigt
    assert mini.asteval.eval("gammaln(5.0)") == pytest.approx(math.log(24.0))


def _engine_for_tests() -> str:
    import lmfit_host.plugins

    names = lmfit_host.plugins.engine_names()
    for preferred in ("leastsq", "lbfgsb", "anneal"):
        if preferred in names:
            return preferred
    pytest.skip("no fitting engine is installed")


def test_fit_with_constraints_using_pack_functions_recovers_voigt_peak():
    from lmfit_host import Parameters, minimize

    engine = _engine_for_tests()
    x = np.linspace(-2.0, 3.0, 201)
    data = lineshapes.voigt(x, 3.0, 0.4, 0.25, 0.1)

    params = Parameters()
    params.add("amplitude", value=2.0, min=0)
    params.add("center", value=0.3)
    params.add("sigma", value=0.3, min=0.01, max=2)
    # gamma/sigma lives in (0, 1) through erf of an unbounded variable
    params.add("shape", value=0.5)
    params.add("gamma", expr="sigma * erf(shape)")
    params.add("fwhm", expr="fwhm_voigt(sigma, gamma)")

    def residual(p, x, data):
        return voigt_model(x, p) - data

    def voigt_model(x, p):
        return lineshapes.voigt(x, p["amplitude"].value, p["center"].value, p["sigma"].value,
                                p["gamma"].value)

    result = minimize(residual, params, args=(x, data), engine=engine)
    best = result.params
    assert best["amplitude"].value == pytest.approx(3.0, rel=1e-4)
    assert best["center"].value == pytest.approx(0.4, abs=1e-5)
    assert best["sigma"].value == pytest.approx(0.25, rel=1e-3)
    assert best["gamma"].value == pytest.approx(0.1, rel=1e-2)
    assert best["fwhm"].value == pytest.approx(widths.fwhm_voigt(best["sigma"].value,
                                                                 best["gamma"].value), rel=1e-12)


# --------------------------------------------------------------------------
# subprocesses: the pack blocked, and a throwaway pack installed with pip
# --------------------------------------------------------------------------

def _run(script: str, *, env_extra: dict, timeout: float = 120.0) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_blocked_pack_makes_expression_fail_naming_function_and_pack():
    script = """
        from lmfit_host import Parameters
        params = Parameters()
        params.add("a", value=0.5)
        try:
            params.add("b", expr="2 * erf(a)")
            params.update_constraints()
            print("NO ERROR", params["b"].value)
        except Exception as exc:
            print(type(exc).__name__)
            print(exc)
    """
    done = _run(script, env_extra={"LMFIT_HOST_PLUGINS": "-specfun"})
    assert done.returncode == 0, done.stderr
    kind, _, message = done.stdout.partition("\n")
    assert kind == "UnknownNameError", done.stdout
    # installed but kept from loading: installing again would not help
    assert "'erf'" in message and PACK in message and "pip install" not in message
    assert "installed, not loaded: LMFIT_HOST_PLUGINS=-specfun" in message


THROWAWAY_MODULE = '''
"""A throwaway function pack for the tests: softplus, and a clashing erf."""
import math

from lmfit_host import hookimpl


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def erf(x):
    """Clashes with lmfit-host-specfun's erf; must never be called."""
    return 42.0


@hookimpl
def lmfit_host_register_functions(register):
    register("softplus", softplus)
    register("erf", erf)
'''

THROWAWAY_PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "lmfit-host-throwaway"
version = "0.0.1"
dependencies = ["lmfit-host"]

[project.entry-points.lmfit_host]
throwaway = "lmfit_host_throwaway"

[tool.setuptools]
py-modules = ["lmfit_host_throwaway"]
'''

DOCS = Path(__file__).resolve().parents[3] / "docs" / "function-packs.md"


def _files_of_documented_pack() -> dict:
    """The files of the minimal pack in docs/function-packs.md, by file name.

    Each is the code block right after a ``<!-- pack-file: NAME -->`` marker.
    """
    files = {}
    lines = DOCS.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith("<!-- pack-file:"):
            name = line.split(":", 1)[1].replace("-->", "").strip()
            assert lines[index + 1].startswith("```"), f"no code block after the marker of {name}"
            end = lines.index("```", index + 2)
            files[name] = "\n".join(lines[index + 2:end]) + "\n"
    return files


@pytest.fixture(scope="module")
def pack_site(tmp_path_factory) -> Path:
    """The documented pack and the throwaway pack, pip-installed into one folder for PYTHONPATH."""
    root = tmp_path_factory.mktemp("packs")
    throwaway = root / "lmfit-host-throwaway"
    throwaway.mkdir()
    (throwaway / "pyproject.toml").write_text(THROWAWAY_PYPROJECT)
    (throwaway / "lmfit_host_throwaway.py").write_text(THROWAWAY_MODULE)
    documented = root / "lmfit-host-fermi"
    documented.mkdir()
    for name, text in _files_of_documented_pack().items():
        (documented / name).write_text(text)
    site = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", str(site), str(throwaway),
               str(documented)]
    # Fast and offline when this environment can build wheels itself
    # (setuptools >= 70.1, or `wheel` installed); otherwise pip fetches the
    # build requirements into an isolated build environment.
    failures = []
    for extra in (["--no-build-isolation", "--no-index"], []):
        done = subprocess.run(command[:4] + extra + command[4:], capture_output=True, text=True,
                              timeout=300)
        if done.returncode == 0:
            return site
        failures.append(f"{' '.join(extra) or 'isolated build'}:\n{done.stderr[-2000:]}")
    pytest.fail("pip could not install the test packs:\n" + "\n".join(failures))


FITS_WITH_INSTALLED_PACKS = """
    import json, warnings
    import numpy as np

    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        import lmfit_host
        from lmfit_host import Parameters, minimize, plugins
        from lmfit_host_fermi import fermi_array

        names = plugins.engine_names()
        engine = next(n for n in ("leastsq", "lbfgsb", "anneal") if n in names)

        # the throwaway pack: a positive slope through softplus
        x = np.linspace(-3.0, 3.0, 61)
        params = Parameters()
        params.add("raw", value=0.0)
        params.add("offset", value=0.0)
        params.add("slope", expr="softplus(raw)")
        params.add("half", expr="erf(0.5)")                 # must stay specfun's erf
        line = minimize(lambda p: p["slope"].value * x + p["offset"].value - (1.5 * x + 0.3),
                        params, engine=engine)

        # the documented pack, as docs/function-packs.md uses it
        energy = np.linspace(-0.3, 0.3, 121)
        counts = 5.0 * fermi_array(energy, 0.02, 8.617333262e-5 * 150.0)
        params = Parameters()
        params.add("height", value=1.0)
        params.add("mu", value=0.0)
        params.add("temperature", value=300.0, min=1.0)
        params.add("kt", expr="k_B_eV * temperature")
        params.add("at_zero", expr="fermi(0.0, mu, kt)")

        def residual(p, energy, counts):
            return p["height"].value * fermi_array(energy, p["mu"].value, p["kt"].value) - counts

        edge = minimize(residual, params, args=(energy, counts), engine=engine)
        records = {r.name: r.as_dict() for r in plugins.list_plugins()}
    print(json.dumps({
        "slope": line.params["slope"].value,
        "offset": line.params["offset"].value,
        "half": line.params["half"].value,
        "temperature": edge.params["temperature"].value,
        "mu": edge.params["mu"].value,
        "at_zero": edge.params["at_zero"].value,
        "records": records,
        "warnings": [str(w.message) for w in caught],
    }))
"""


@pytest.fixture(scope="module")
def installed_fits(pack_site) -> dict:
    """What fits in a subprocess that sees specfun and both test packs report (run once)."""
    done = _run(FITS_WITH_INSTALLED_PACKS, env_extra={"PYTHONPATH": str(pack_site)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_fit_constraint_uses_function_of_pip_installed_throwaway_pack(installed_fits):
    assert installed_fits["slope"] == pytest.approx(1.5, rel=1e-6)
    assert installed_fits["offset"] == pytest.approx(0.3, rel=1e-6)
    record = installed_fits["records"]["throwaway"]
    assert record["distribution"] == "lmfit-host-throwaway"
    assert "softplus" in record["functions"]


def test_documented_minimal_pack_installs_and_fits_as_the_docs_say(installed_fits):
    record = installed_fits["records"]["fermi"]
    assert (record["distribution"], record["version"], record["status"]) == (
        "lmfit-host-fermi", "0.1.0", "ok")
    assert record["functions"] == ["fermi", "k_B_eV"]
    assert installed_fits["temperature"] == pytest.approx(150.0, rel=1e-6)
    assert installed_fits["at_zero"] == pytest.approx(
        1 / (math.exp(-installed_fits["mu"] / (8.617333262e-5 * 150.0)) + 1), rel=1e-9)


def test_clash_is_reported_naming_both_packs_and_the_earlier_keeps_the_name(installed_fits):
    assert installed_fits["half"] == pytest.approx(sp.erf(0.5), rel=1e-15)
    record = installed_fits["records"]["throwaway"]
    assert "erf" not in record["functions"]
    assert record["status"] == "partly failed"
    clash = [m for m in installed_fits["warnings"] if "'erf'" in m]
    assert len(clash) == 1, installed_fits["warnings"]
    assert "lmfit-host-throwaway" in clash[0] and PACK in clash[0]
    assert any("'erf'" in p and PACK in p for p in record["problems"])


def test_parameters_saved_before_a_pack_is_installed_load_when_it_takes_their_names(
        pack_site, tmp_path):
    saved = tmp_path / "params.json"
    save = f"""
        from lmfit_host import Parameters
        params = Parameters()
        params.add("softplus", value=2.0)
        params.add("twice", expr="2*softplus")
        open({str(saved)!r}, "w").write(params.dumps())
    """
    done = _run(save, env_extra={})
    assert done.returncode == 0, done.stderr
    load = f"""
        from lmfit_host import Parameters
        params = Parameters.loads(open({str(saved)!r}).read())
        print(params["twice"].value)
        params.pop("twice"); params.pop("softplus")
        print(params.eval("softplus(0.0)"))
    """
    # the packs' folder in front of the path this test runs with (the core under test)
    path = os.pathsep.join(filter(None, [str(pack_site), os.environ.get("PYTHONPATH")]))
    done = _run(load, env_extra={"PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    twice, default = done.stdout.split()
    assert float(twice) == 4.0
    assert float(default) == pytest.approx(math.log(2.0))   # the pack's softplus is back


def test_line_shapes_in_array_interpreters_check_what_they_would_broadcast():
    from lmfit_host import ExpressionLimitError
    from lmfit_host.expr import Interpreter

    x, centers = np.linspace(-5.0, 5.0, 400), np.linspace(-1.0, 1.0, 300)[:, None]
    interpreter = Interpreter({"x": x, "c": centers}, arrays=True)
    interpreter.limits.max_array_size = 10_000
    for name in ("gaussian", "lorentzian", "voigt", "pvoigt"):
        with pytest.raises(ExpressionLimitError, match=name + r"\(\) would broadcast"):
            interpreter.eval(f"{name}(x, 1.0, c, 0.5)")
        with pytest.raises(ExpressionLimitError, match="max_array_size"):
            interpreter.eval(f"{name}(x, center=c)")  # keywords count too
        # within the limit: the function's own answer
        assert np.array_equal(interpreter.eval(f"{name}(x, 2.0, 0.3, 0.5)"),
                              getattr(lineshapes, name)(x, 2.0, 0.3, 0.5))
    assert np.array_equal(interpreter.eval("beta_fn(x[:5] + 6, c[:3] + 2)"),
                          specfun.beta_fn(x[:5] + 6, centers[:3] + 2))
    # the scalar interpreter (constraints) keeps the functions themselves
    assert Interpreter().symtable["gaussian"] is lineshapes.gaussian
