"""Tests of lmfit_host.mathpack: the seed's math functions and constants as the core pack."""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple

import numpy as np
import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmfit_host import Parameters, hookspecs, mathpack
from lmfit_host.errors import ExpressionLimitError, ExpressionRuntimeError
from lmfit_host.expr import Interpreter, Limits, Symbol

SEED_FUNCTIONS = (
    "abs acos acosh asin asinh atan atan2 atanh ceil copysign cos cosh degrees exp fabs "
    "factorial floor fmod frexp fsum hypot isinf isnan ldexp log log10 log1p max min modf pow "
    "radians sin sinh sqrt tan tanh trunc").split()
SEED_CONSTANTS = ["e", "pi", "inf", "nan"]
#: numpy's and lmfit's names that lmfit users write in constraint expressions
NUMPY_FUNCTIONS = (
    "arccos arccosh arcsin arcsinh arctan arctan2 arctanh deg2rad rad2deg power log2 sign "
    "square maximum minimum clip where mean real imag gamfcn").split()
#: more of math's float functions
MORE_MATH = "cbrt exp2 expm1 isclose isfinite lgamma".split()


def test_symbols_are_the_seed_names_and_numpys_spellings():
    assert set(mathpack.SYMBOLS) == set(SEED_FUNCTIONS) | set(SEED_CONSTANTS) | \
        set(NUMPY_FUNCTIONS) | set(MORE_MATH)


def test_math_names_left_out_are_the_integer_sequence_and_inspection_ones():
    left_out = {name for name in dir(math) if not name.startswith("_")} - set(mathpack.SYMBOLS)
    assert left_out <= {"comb", "perm", "gcd", "lcm", "isqrt", "prod", "dist", "nextafter",
                        "ulp", "remainder", "gamma", "tau", "erf", "erfc", "fma",
                        "sumprod"}


@settings(max_examples=200, deadline=None)  # the first example imports scipy.special
@given(x=st.floats(-700.0, 700.0))
def test_more_math_functions_are_pythons_own_on_numbers_and_numpys_on_arrays(x):
    import scipy.special

    interp = Interpreter({"x": x})
    assert interp.eval("cbrt(x)") == pytest.approx(math.copysign(abs(x) ** (1 / 3), x),
                                                   rel=1e-13)
    assert interp.eval("expm1(x)") == math.expm1(x)
    assert interp.eval("exp2(x / 2)") == pytest.approx(2.0 ** (x / 2), rel=1e-15)
    if x > 0.0:
        assert interp.eval("lgamma(x)") == math.lgamma(x)
        arrays = Interpreter({"x": np.array([x, 1.0])}, arrays=True)
        assert arrays.eval("lgamma(x)") == pytest.approx(scipy.special.gammaln([x, 1.0]))
        assert arrays.eval("cbrt(x)").tolist() == np.cbrt([x, 1.0]).tolist()
    assert interp.eval("isfinite(x)") is True and interp.eval("isclose(x, x)") is True


def test_every_symbol_names_the_pack_as_origin():
    for name, symbol in mathpack.SYMBOLS.items():
        assert isinstance(symbol, Symbol) and symbol.name == name
        assert symbol.origin == "lmfit-host math pack"


@pytest.mark.parametrize("name", [n for n in SEED_FUNCTIONS
                                  if n not in ("abs", "max", "min", "factorial")])
def test_scalar_versions_come_from_math(name):
    assert mathpack.SYMBOLS[name].value is getattr(math, name)


@pytest.mark.parametrize("name, numpy_func", [
    ("sin", np.sin), ("acos", np.arccos), ("atan2", np.arctan2), ("exp", np.exp),
    ("sqrt", np.sqrt), ("pow", np.power), ("isnan", np.isnan), ("trunc", np.trunc)])
def test_array_versions_come_from_numpy(name, numpy_func):
    assert mathpack.SYMBOLS[name].array_value is numpy_func


def test_constants_have_their_values():
    symbols = mathpack.SYMBOLS
    assert symbols["e"].value == math.e and symbols["pi"].value == math.pi
    assert symbols["inf"].value == math.inf and math.isnan(symbols["nan"].value)


def test_pow_is_float_power_so_it_cannot_build_giant_integers():
    assert mathpack.SYMBOLS["pow"].value(2, 10) == 1024.0
    with pytest.raises(OverflowError):
        mathpack.SYMBOLS["pow"].value(10, 10 ** 6)


# --- factorial ----------------------------------------------------------------------------

def test_factorial_of_ints_and_integral_floats():
    assert mathpack.factorial(5) == 120
    assert mathpack.factorial(5.0) == 120
    assert mathpack.factorial(np.int64(4)) == 24
    assert mathpack.factorial(True) == 1


@pytest.mark.parametrize("bad", [2.5, float("nan"), float("inf"), "3"])
def test_factorial_refuses_non_integral_values(bad):
    with pytest.raises(ValueError, match="integral"):
        mathpack.factorial(bad)


def test_factorial_of_negative_number_is_an_error():
    with pytest.raises(ValueError):
        mathpack.factorial(-1)


def test_factorial_is_bounded():
    assert mathpack.factorial(mathpack.MAX_FACTORIAL_ARGUMENT) > 0
    with pytest.raises(ExpressionLimitError, match="MAX_FACTORIAL_ARGUMENT"):
        mathpack.factorial(mathpack.MAX_FACTORIAL_ARGUMENT + 1)


def test_factorial_array_gives_floats():
    np.testing.assert_allclose(mathpack.factorial_array(np.array([0, 1, 5])), [1.0, 1.0, 120.0])
    assert mathpack.factorial_array(np.int64(4)) == 24


def test_factorial_array_refuses_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        mathpack.factorial_array(np.array([1.0, -2.0]))


def test_log_array_accepts_a_base_like_math_log():
    np.testing.assert_allclose(mathpack.log_array(np.array([8.0, 4.0]), 2), [3.0, 2.0])
    np.testing.assert_allclose(mathpack.log_array(np.array([math.e])), [1.0])


# --- max, min, fsum: Python semantics -------------------------------------------------------

@pytest.mark.parametrize("args, kwargs", [
    ((1.0, 3.0), {}), ((3, 1, 2), {}), (([4, 2, 8],), {}), (((-3, 2),), {"key": abs}),
    (([],), {"default": 7}), (("abc",), {}), ((float("nan"), 1.0), {}),
    ((1.0, float("nan")), {}), (([(1, 2), (1, 3)],), {}), ((range(5),), {}),
    ((np.array([1.0, 5.0, 2.0]),), {}),
    ((2, 2.0), {}), ((1.0, 1), {}),
])
def test_max_and_min_match_python(args, kwargs):
    for ours, python in ((mathpack.max_, max), (mathpack.min_, min)):
        expected = python(*args, **kwargs)
        result = ours(*args, **kwargs)
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(result)
        else:
            assert result == expected and type(result) is type(expected)


def test_max_and_min_accept_generators():
    assert mathpack.max_(x * x for x in range(4)) == 9
    assert mathpack.min_((x - 2) ** 2 for x in range(4)) == 0


def test_max_of_equal_values_keeps_the_first():
    assert type(mathpack.max_(2, 2.0)) is int
    assert type(mathpack.min_(2.0, 2)) is float


def test_max_without_arguments_is_a_type_error():
    with pytest.raises(TypeError):
        mathpack.max_()
    with pytest.raises(ValueError):
        mathpack.min_([])


def test_max_refuses_to_compare_huge_shared_structures():
    row = [0] * 1000
    with pytest.raises(ExpressionLimitError, match="comparing"):
        mathpack.max_([row] * 10000, [row] * 10000)


# --- max, min on arrays: element-wise over several arguments ---------------------------------

def test_array_max_of_an_array_and_a_number_is_element_wise():
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(mathpack.SYMBOLS["max"].array_value(x, 0), [0.0, 0.5, 3.0])
    np.testing.assert_array_equal(mathpack.SYMBOLS["min"].array_value(0, x), [-2.0, 0.0, 0.0])


def test_array_max_of_several_arrays_reduces_over_them_with_broadcasting():
    a = np.array([1.0, 5.0, 2.0])
    b = np.array([[4.0], [0.0]])
    expected = np.maximum(np.maximum(a, b), 3.0)
    np.testing.assert_array_equal(mathpack.SYMBOLS["max"].array_value(a, b, 3.0), expected)
    np.testing.assert_array_equal(mathpack.SYMBOLS["min"].array_value(a, b, 3.0),
                                  np.minimum(np.minimum(a, b), 3.0))


def test_array_max_of_one_array_keeps_python_semantics():
    x = np.array([1.0, 5.0, 2.0])
    assert mathpack.SYMBOLS["max"].array_value(x) == 5.0
    assert mathpack.SYMBOLS["min"].array_value([4, 2, 8]) == 2
    assert mathpack.SYMBOLS["max"].array_value([], default=7) == 7


def test_array_max_of_scalars_keeps_python_semantics():
    assert type(mathpack.SYMBOLS["max"].array_value(2, 2.0)) is int
    assert mathpack.SYMBOLS["min"].array_value((-3, 2), key=abs) == 2


def test_scalar_max_and_min_are_unchanged_by_the_array_versions():
    assert mathpack.SYMBOLS["max"].value is mathpack.max_
    assert mathpack.SYMBOLS["min"].value is mathpack.min_


def test_array_max_refuses_a_huge_broadcast():
    column = np.zeros((10_000, 1))
    row = np.zeros((1, 10_000))
    with pytest.raises(ExpressionLimitError, match="MAX_BROADCAST_ELEMENTS"):
        mathpack.SYMBOLS["max"].array_value(column, row)


def test_array_interpreter_max_clips_an_array_expression():
    interp = Interpreter({"x": np.array([-1.0, 0.0, 2.0]), "a": 2.0}, arrays=True)
    np.testing.assert_array_equal(interp.eval("max(a*x, 0)"), [0.0, 0.0, 4.0])
    np.testing.assert_array_equal(interp.eval("min(a*x, 1, x + 3)"), [-2.0, 0.0, 1.0])


def test_fsum_is_exact_summation():
    assert mathpack.SYMBOLS["fsum"].value([0.1] * 10) == 1.0
    assert mathpack.SYMBOLS["fsum"].array_value(np.full(10, 0.1)) == 1.0


# --- the plugin hook --------------------------------------------------------------------------------

def _registered() -> Dict[str, Tuple[Any, Optional[Any]]]:
    seen: Dict[str, Tuple[Any, Optional[Any]]] = {}

    def register(name: str, func: Any, array_func: Optional[Any] = None) -> None:
        assert name not in seen
        seen[name] = (func, array_func)

    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(mathpack, name="math-test")
    manager.hook.lmfit_host_register_functions(register=register)
    return seen


def test_hook_registers_every_symbol():
    seen = _registered()
    assert set(seen) == set(mathpack.SYMBOLS)
    for name, (func, array_func) in seen.items():
        symbol = mathpack.SYMBOLS[name]
        assert func is symbol.value
        assert (array_func or func) is symbol.array_value


# --- through the Interpreter ------------------------------------------------------------------------

def test_scalar_interpreter_returns_python_floats():
    interp = Interpreter({"x": 0.5})
    for name in ("sin", "exp", "sqrt", "atan", "log1p"):
        assert type(interp.eval("%s(x)" % name)) is float


def test_array_interpreter_applies_functions_element_wise():
    x = np.array([0.25, 0.5])
    interp = Interpreter({"x": x}, arrays=True)
    for name in ("acos", "asin", "atan", "atanh", "ceil", "cos", "cosh", "degrees", "exp",
                 "fabs", "floor", "log", "log10", "log1p", "radians", "sin", "sinh", "sqrt",
                 "tan", "tanh", "trunc", "isinf", "isnan"):
        expected = mathpack.SYMBOLS[name].array_value(x)
        np.testing.assert_allclose(interp.eval("%s(x)" % name), expected)
    np.testing.assert_allclose(interp.eval("hypot(x, x)"), np.hypot(x, x))
    np.testing.assert_allclose(interp.eval("log(x, 2)"), np.log2(x))
    np.testing.assert_allclose(interp.eval("factorial(x * 4)"), [1.0, 2.0])
    assert interp.eval("max(x)") == 0.5 and interp.eval("fsum(x)") == 0.75


# --- numpy's and lmfit's spellings --------------------------------------------------------------

@pytest.mark.parametrize("alias, name", sorted(mathpack.ALIASES.items()))
def test_numpy_spellings_of_math_functions_are_the_same_functions(alias, name):
    assert mathpack.SYMBOLS[alias].value is mathpack.SYMBOLS[name].value
    assert mathpack.SYMBOLS[alias].array_value is mathpack.SYMBOLS[name].array_value
    sample = np.linspace(0.1, 0.9, 5)
    arguments = (sample, sample[::-1]) if alias in ("arctan2", "power") else (sample + 1.0 * (
        alias == "arccosh"),)
    np.testing.assert_array_equal(mathpack.SYMBOLS[alias].array_value(*arguments),
                                  getattr(np, alias)(*arguments))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
reals = st.floats(width=64) | st.integers(-10**6, 10**6)


def same(ours: Any, numpys: Any) -> bool:
    """Equal values (nan equal to nan; numpy scalars compared as Python numbers)."""
    ours, numpys = complex(ours), complex(numpys)
    return ours == numpys or (cmath_isnan(ours) and cmath_isnan(numpys))


def cmath_isnan(value: complex) -> bool:
    return math.isnan(value.real) or math.isnan(value.imag)


@settings(max_examples=300, deadline=None)
@given(a=reals, b=reals, c=reals)
def test_numpy_named_functions_agree_with_numpy_on_numbers(a, b, c):
    s = mathpack.SYMBOLS
    pairs = [
        (s["sign"].value(a), np.sign(a)), (s["maximum"].value(a, b), np.maximum(a, b)),
        (s["minimum"].value(a, b), np.minimum(a, b)), (s["real"].value(a), np.real(a)),
        (s["imag"].value(a), np.imag(a)), (s["where"].value(a > b, a, c), np.where(a > b, a, c)),
    ]
    if not (math.isnan(b) or math.isnan(c)):  # numpy's clip with a nan bound varies by version
        pairs.append((s["clip"].value(a, b, c), np.clip(a, b, c)))
    if abs(a) < 1e150:
        pairs.append((s["square"].value(a), np.square(float(a))))
    for ours, numpys in pairs:
        assert same(ours, numpys), (ours, numpys)
        assert not isinstance(ours, np.generic)   # Python numbers for Python numbers
    finite_values = [v for v in (a, b, c) if math.isfinite(v)]
    if finite_values and max(abs(v) for v in finite_values) < 1e300:
        # numpy adds in order, the pack exactly: they agree to numpy's rounding
        ours = s["mean"].value(finite_values)
        assert type(ours) is float
        assert ours == math.fsum(finite_values) / len(finite_values)
        assert ours == pytest.approx(np.mean(finite_values), rel=1e-15,
                                     abs=1e-15 * max(abs(v) for v in finite_values))


@settings(max_examples=300, deadline=None)
@given(x=st.floats(width=64) | st.integers(-200, 200))
def test_gamfcn_is_scipys_gamma(x):
    from scipy.special import gamma

    ours, theirs = mathpack.gamfcn(x), float(gamma(x))
    assert type(ours) is float
    if theirs == 0.0:
        # underflow at a large negative x: Gamma's sign there is (-1)**floor(x), which
        # math.gamma keeps and SciPy does not always (it gave -0.0 at -2147483649.5)
        assert ours == 0.0 and math.copysign(1, ours) == (-1.0) ** math.floor(x)
    elif math.isnan(theirs) or math.isinf(theirs):
        assert same(ours, theirs)
        assert math.isnan(ours) or math.copysign(1, ours) == math.copysign(1, theirs)
    else:
        assert ours == pytest.approx(theirs, rel=1e-13)


def test_gamfcn_array_and_complex_values():
    from scipy.special import gamma

    z = np.array([0.5, 3.0, 1.0 + 1.0j])
    np.testing.assert_array_equal(mathpack.gamfcn_array(z), gamma(z))
    assert mathpack.gamfcn(1.0 + 1.0j) == gamma(1.0 + 1.0j)   # no math twin: SciPy's


def test_numpy_named_functions_in_a_constraint_give_python_floats():
    params = Parameters()
    params.add("a", 0.7)
    params.add("b", 2.0)
    expressions = {
        "arctan(a)": math.atan(0.7), "arctan2(a, b)": math.atan2(0.7, 2.0),
        "arcsin(0.5)": math.asin(0.5), "arccos(0.5)": math.acos(0.5),
        "sign(a - b)": -1.0, "where(a > 0, a, 0)": 0.7, "clip(b, 0, 1)": 1,
        "maximum(a, b)": 2.0, "minimum(a, b)": 0.7, "deg2rad(180)": math.pi,
        "rad2deg(pi)": 180.0, "log2(b)": 1.0, "power(b, 3)": 8.0, "square(a)": 0.7 * 0.7,
        "mean([a, b])": 1.35, "real(a)": 0.7, "imag(a)": 0.0, "gamfcn(b + 3)": 24.0,
    }
    for number, (text, expected) in enumerate(expressions.items()):
        params.add("c%d" % number, expr=text)
    values = params.valuesdict()
    for number, (text, expected) in enumerate(expressions.items()):
        assert values["c%d" % number] == pytest.approx(expected, rel=1e-15), text
        assert type(values["c%d" % number]) in (float, int), text


def test_numpy_named_functions_in_array_interpreters_are_numpys():
    x = np.linspace(-0.9, 0.9, 7)
    y = np.linspace(0.1, 2.0, 7)
    interp = Interpreter({"x": x, "y": y}, arrays=True)
    from scipy.special import gamma

    expected = {
        "arctan(x)": np.arctan(x), "arcsinh(x)": np.arcsinh(x), "arctan2(x, y)": np.arctan2(x, y),
        "sign(x)": np.sign(x), "square(x)": np.square(x), "maximum(x, 0)": np.maximum(x, 0),
        "minimum(x, y)": np.minimum(x, y), "clip(x, -0.5, 0.5)": np.clip(x, -0.5, 0.5),
        "where(x > 0, x, y)": np.where(x > 0, x, y), "mean(x)": np.mean(x),
        "mean([x, y], 0)": np.mean([x, y], axis=0), "real(x)": x, "imag(x)": 0.0 * x,
        "log2(y)": np.log2(y), "power(y, x)": np.power(y, x), "deg2rad(x)": np.deg2rad(x),
        "rad2deg(x)": np.rad2deg(x), "gamfcn(y)": gamma(y),
    }
    for text, value in expected.items():
        np.testing.assert_array_equal(interp.eval(text), value, err_msg=text)


@pytest.mark.parametrize("arrays", [False, True])
@pytest.mark.parametrize("text", [
    "maximum(x[:, None], x)", "minimum(x, x[:, None])", "clip(x[:, None], x, 1.0)",
    "where(x[:, None] > 0, x, 0.0)", "mean([x] * 2000)", "sign([x] * 2000)",
    "square([x] * 2000)", "real([x] * 2000)", "imag([x] * 2000)", "gamfcn([x] * 2000)",
])
def test_numpy_named_functions_are_bounded_by_max_array_size(arrays, text):
    interp = Interpreter({"x": np.linspace(0.0, 1.0, 20_000)}, arrays=arrays)
    with pytest.raises(ExpressionLimitError, match="max_array_size"):
        interp.eval(text)


def test_mean_of_no_numbers_is_nan_and_of_a_generator_is_counted_work():
    assert math.isnan(mathpack.mean([]))
    interp = Interpreter(limits=Limits(max_work=1000))
    assert interp.eval("mean(v for v in range(100))") == 49.5
    with pytest.raises(ExpressionLimitError):
        interp.eval("mean(v for v in range(10000))")


@pytest.mark.parametrize("arrays", [False, True])
def test_square_of_integers_cannot_grow_without_bound(arrays):
    from lmfit_host.errors import ExpressionError
    from lmfit_host.expr import Interpreter
    interp = Interpreter(arrays=arrays)
    assert interp.eval("square(3)") == 9.0
    for text in ("square(square(square(10**400)))", "square([10**400])"):
        with pytest.raises(ExpressionError, match="OverflowError"):
            interp.eval(text)


def test_isclose_means_the_same_on_numbers_and_on_arrays():
    numbers = Interpreter({"a": 1.0, "b": 1.000001})
    arrays = Interpreter({"a": np.array([1.0]), "b": np.array([1.000001])}, arrays=True)
    for text in ("isclose(a, b)", "isclose(a, b, rel_tol=1e-5)", "isclose(a, b, abs_tol=1e-3)"):
        assert bool(arrays.eval(text)[0]) is numbers.eval(text), text


def test_isclose_on_arrays_treats_infinities_and_bad_tolerances_as_math_does():
    numbers = Interpreter({"a": math.inf, "b": math.inf, "c": 1e308})
    arrays = Interpreter({"a": np.array([math.inf]), "b": np.array([math.inf]),
                          "c": np.array([1e308])}, arrays=True)
    for text in ("isclose(a, b)", "isclose(a, -b)", "isclose(a, c)", "isclose(c, a)"):
        assert bool(arrays.eval(text)[0]) is numbers.eval(text), text
    with pytest.raises(ExpressionRuntimeError):
        arrays.eval("isclose(c, c, rel_tol=-1.0)")
