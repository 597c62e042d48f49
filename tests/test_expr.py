"""Tests of lmfit_host.expr: the language, interpreter statements, errors, namespaces, blocks."""

from __future__ import annotations

import ast
import math
import pickle
from typing import Any, Dict, List

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmfit_host import expr as expr_module
from lmfit_host import mathpack
from lmfit_host.errors import (ExpressionError, ExpressionLimitError, ExpressionRuntimeError,
                               ExpressionSyntaxError, ParameterError, UnknownNameError,
                               UnsafeExpressionError)
from lmfit_host.expr import (BUILTINS_ORIGIN, CompiledExpression, Interpreter, Limits, Symbol,
                             check_identifier, default_symbols, set_missing_name_hint,
                             set_symbol_provider)


@pytest.fixture
def interp() -> Interpreter:
    return Interpreter({"a": 3.0, "b": 4.0})


@pytest.fixture
def restore_provider():
    """Put the module-level provider and hint back after a test changes them."""
    provider = expr_module._symbol_provider
    hint = expr_module._missing_name_hint
    yield
    set_symbol_provider(provider)
    set_missing_name_hint(hint)


# --- the expression language ----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3 - 4 / 8", 6.5),
    ("2 ** 10", 1024),
    ("7 // 2", 3),
    ("7 % 3", 1),
    ("-7.5 % 2", 0.5),
    ("-(3)", -3),
    ("+3", 3),
    ("6 & 3", 2),
    ("6 | 3", 7),
    ("6 ^ 3", 5),
    ("1 << 4", 16),
    ("256 >> 4", 16),
    ("~5", -6),
    ("True and False", False),
    ("0 or 5", 5),
    ("not 0", True),
    ("1 < 2 <= 2", True),
    ("3 == 3.0 != 4", True),
    ("1 > 2 or 2 >= 3", False),
    ("None is None", True),
    ("1 is not None", True),
    ("2 in [1, 2]", True),
    ("5 not in (1, 2)", True),
    ("'a' if 1 > 2 else 'b'", "b"),
])
def test_operators_follow_python(interp, text, expected):
    assert interp.eval(text) == expected


@pytest.mark.parametrize("name, value", [
    ("e", math.e), ("pi", math.pi), ("inf", math.inf)])
def test_constants_are_available(interp, name, value):
    assert interp.eval(name) == value


def test_nan_constant_is_nan(interp):
    assert math.isnan(interp.eval("nan"))


@pytest.mark.parametrize("text, expected", [
    ("abs(-2)", 2), ("acos(1)", 0.0), ("acosh(1)", 0.0), ("asin(0)", 0.0), ("asinh(0)", 0.0),
    ("atan(0)", 0.0), ("atan2(0, 1)", 0.0), ("atanh(0)", 0.0), ("ceil(1.2)", 2),
    ("copysign(2, -1)", -2.0), ("cos(0)", 1.0), ("cosh(0)", 1.0), ("degrees(pi)", 180.0),
    ("exp(0)", 1.0), ("fabs(-1)", 1.0), ("factorial(5)", 120), ("floor(1.8)", 1),
    ("fmod(7, 3)", 1.0), ("frexp(8.0)", (0.5, 4)), ("fsum([0.1] * 10)", 1.0),
    ("hypot(3, 4)", 5.0), ("isinf(inf)", True), ("isnan(nan)", True), ("ldexp(1, 3)", 8.0),
    ("log(e)", 1.0), ("log(8, 2)", 3.0), ("log10(100)", 2.0), ("log1p(0)", 0.0),
    ("max(1, 5, 3)", 5), ("min([4, 2, 8])", 2), ("modf(1.5)", (0.5, 1.0)),
    ("pow(2, 3)", 8.0), ("radians(180)", math.pi), ("sin(0)", 0.0), ("sinh(0)", 0.0),
    ("sqrt(16)", 4.0), ("tan(0)", 0.0), ("tanh(0)", 0.0), ("trunc(-1.7)", -1),
])
def test_seed_functions_give_python_results(interp, text, expected):
    assert interp.eval(text) == pytest.approx(expected)


def test_expression_reads_namespace_values(interp):
    assert interp.eval("sqrt(a**2 + b**2)") == 5.0


def test_safe_builtins_are_available(interp):
    assert interp.eval("sum(range(5))") == 10
    assert interp.eval("len([1, 2, 3])") == 3
    assert interp.eval("round(2.567, 2)") == 2.57
    assert interp.eval("int(2.9) + float('1.5')") == 3.5
    assert interp.eval("sorted(reversed([1, 3, 2]))") == [1, 2, 3]
    assert interp.eval("list(zip([1, 2], 'ab'))") == [(1, "a"), (2, "b")]
    assert interp.eval("dict(enumerate('ab'))") == {0: "a", 1: "b"}
    assert interp.eval("any([0, 1]) and not all([0, 1])") is True
    assert interp.eval("tuple(set([1, 1]))") == (1,)
    assert interp.eval("bool(0), complex(1, 2)") == (False, 1 + 2j)


@pytest.mark.parametrize("text", ["round(5, -1)", "round(55, -1)", "round(5, -30)",
                                  "round(-5 * 10 ** 40, -41)", "round(2.675, 2)", "round(7)",
                                  "round(True, -3)", "round(1.5, -400)"])
def test_round_matches_python(interp, text):
    expected = eval(text)
    assert interp.eval(text) == expected and type(interp.eval(text)) is type(expected)


def test_containers_subscripts_and_slices(interp):
    assert interp.eval("[1, 2, 3][1:]") == [2, 3]
    assert interp.eval("(1, 2, 3)[-1]") == 3
    assert interp.eval("{'x': 1}['x']") == 1
    assert interp.eval("{1, 2} | {3}") == {1, 2, 3}
    assert interp.eval("'abc'[::-1]") == "cba"


def test_comprehensions_work(interp):
    assert interp.eval("[x * x for x in range(4) if x % 2 == 0]") == [0, 4]
    assert interp.eval("{x: x + 1 for x in range(2)}") == {0: 1, 1: 2}
    assert interp.eval("{x % 2 for x in range(5)}") == {0, 1}
    assert interp.eval("sum(x for x in range(4))") == 6
    assert interp.eval("[(i, j) for i in range(2) for j in range(i)]") == [(1, 0)]


def test_string_percent_formatting_works(interp):
    assert interp.eval("'%s=%.2f' % ('a', a)") == "a=3.00"
    assert interp.eval("'%(x)d' % {'x': 4}") == "4"


def test_arrays_interpreter_uses_numpy_functions():
    interp = Interpreter({"x": np.array([0.0, 1.0])}, arrays=True)
    result = interp.eval("exp(x) * 2 + sin(x)")
    np.testing.assert_allclose(result, 2 * np.exp([0.0, 1.0]) + np.sin([0.0, 1.0]))


# --- interpreter statements ---------------------------------------------------------------------

def test_assignment_and_final_expression_value(interp):
    assert interp("c = a + b\nc * 2") == 14.0
    assert interp.symtable["c"] == 7.0


def test_statements_without_final_expression_return_none(interp):
    assert interp("c = 1") is None


def test_tuple_unpacking_and_starred_assignment(interp):
    interp("x, (y, z) = 1, (2, 3)\nfirst, *rest = [1, 2, 3]")
    assert (interp.symtable["x"], interp.symtable["z"], interp.symtable["rest"]) == (1, 3, [2, 3])


def test_augmented_assignment_on_names_and_items(interp):
    interp("n = 2\nn += 3\nn *= 2\nn **= 2\nn -= 1\nn //= 3\nn %= 7\nn <<= 2")
    assert interp.symtable["n"] == ((((2 + 3) * 2) ** 2 - 1) // 3 % 7) << 2
    interp("l = [1, 2]\nl[0] += 10\nd = {'k': 'a'}\nd['k'] *= 3")
    assert interp.symtable["l"] == [11, 2]
    assert interp.symtable["d"] == {"k": "aaa"}


def test_list_augmented_add_extends_in_place(interp):
    interp("l = [1]\nm = l\nl += [2]\nl += range(2)")
    assert interp.symtable["m"] == [1, 2, 0, 1]


def test_if_elif_else(interp):
    text = "if a > 5:\n    r = 'big'\nelif a > 2:\n    r = 'mid'\nelse:\n    r = 'small'\nr"
    assert interp(text) == "mid"


def test_for_while_break_continue_pass(interp):
    text = ("total = 0\nfor i in range(10):\n    if i == 2:\n        continue\n"
            "    if i == 5:\n        break\n    total += i\nelse:\n    pass\n"
            "while total < 100:\n    total *= 2\ntotal")
    assert interp(text) == 128


def test_def_with_return_sees_the_symtable(interp):
    interp("def hyp(x):\n    return sqrt(x**2 + b**2)")
    assert interp.eval("hyp(a)") == 5.0
    interp.symtable["b"] = 0.0
    assert interp.eval("hyp(a)") == 3.0


def test_text_functions_support_defaults_and_recursion(interp):
    interp("def fact(n, acc=1):\n    if n <= 1:\n        return acc\n    return fact(n - 1, acc * n)")
    assert interp.eval("fact(10)") == math.factorial(10)


def test_python_function_in_symtable_is_usable(interp):
    interp.symtable["myfunc"] = lambda x: x + 100
    assert interp.eval("myfunc(a)") == 103.0


def test_text_function_called_from_python_works(interp):
    interp("def double(x):\n    return 2 * x")
    assert interp.symtable["double"](21) == 42


def test_del_removes_a_name(interp):
    interp("tmp = 1\ndel tmp")
    assert "tmp" not in interp.symtable


def test_interpreter_accepts_empty_text(interp):
    assert interp("") is None


# --- compile_expression, names, pickling --------------------------------------------------------

def test_compile_expression_records_source_owner_and_free_names(interp):
    compiled = interp.compile_expression("a * sqrt(c) + [x for x in range(d)][0]", owner="p")
    assert isinstance(compiled, CompiledExpression)
    assert compiled.source.startswith("a * sqrt")
    assert compiled.owner == "p"
    assert compiled.names == frozenset({"a", "sqrt", "c", "range", "d"})


def test_compile_expression_does_not_check_names(interp):
    compiled = interp.compile_expression("later + 1")
    interp.symtable["later"] = 1.0
    assert interp.evaluate(compiled) == 2.0


def test_compiled_expression_pickles_by_source():
    compiled = Interpreter().compile_expression("2 * x", owner="y")
    again = pickle.loads(pickle.dumps(compiled))
    assert (again.source, again.owner, again.names) == ("2 * x", "y", frozenset({"x"}))
    assert Interpreter({"x": 2.0}).evaluate(again) == 4.0


def test_expression_may_span_lines_inside_brackets(interp):
    assert interp.eval("(a +\n b)") == 7.0


def test_unknown_names_lists_missing_names(interp):
    compiled = interp.compile_expression("a + zz + yy")
    assert interp.unknown_names(compiled) == ["yy", "zz"]


# --- errors ----------------------------------------------------------------------------------------

def test_syntax_error_quotes_expression_and_owner(interp):
    with pytest.raises(ExpressionSyntaxError) as info:
        interp.compile_expression("2 * (a +", owner="width")
    message = str(info.value)
    assert "'2 * (a +'" in message and "'width'" in message
    assert info.value.expr == "2 * (a +" and info.value.owner == "width"


def test_statement_in_expression_is_a_syntax_error(interp):
    with pytest.raises(ExpressionSyntaxError, match="invalid syntax"):
        interp.eval("x = 1")


def test_unsafe_construct_named_with_position(interp):
    with pytest.raises(UnsafeExpressionError) as info:
        interp.compile_expression("a + b.real", owner="c")
    message = str(info.value)
    assert "attribute access is not allowed" in message
    assert "line 1, column 5" in message and "'b.real'" in message and "'c'" in message


def test_unknown_name_error_names_expression_owner_and_name(interp):
    compiled = interp.compile_expression("a + missing", owner="amp")
    with pytest.raises(UnknownNameError) as info:
        interp.evaluate(compiled)
    error = info.value
    assert error.name == "missing" and error.owner == "amp" and error.expr == "a + missing"
    assert "'missing'" in str(error) and "'amp'" in str(error) and "'a + missing'" in str(error)
    assert isinstance(error, NameError) and isinstance(error, ExpressionError)


def test_unknown_name_message_includes_hint(interp, restore_provider):
    set_missing_name_hint(lambda name: "provided by pack X: pip install x"
                          if name == "nosuchfunc" else None)
    with pytest.raises(UnknownNameError, match="pip install x"):
        interp.eval("nosuchfunc(a)")


@pytest.mark.parametrize("unknown, meant", [
    ("ln", "log"), ("absolute", "abs"), ("amax", "max"), ("fix", "trunc"), ("gamma", "gamfcn")])
def test_unknown_numpy_spelling_suggests_the_namespaces_name_and_no_definition(interp, unknown,
                                                                                meant):
    with pytest.raises(UnknownNameError) as info:
        interp.eval("%s(a)" % unknown)
    message = str(info.value)
    assert "unknown name %r; did you mean %s?" % (unknown, meant) in message
    assert "define it" not in message


def test_unknown_name_close_to_a_known_one_suggests_it_and_still_says_how_to_define_it(interp):
    interp.symtable["amplitude"] = 2.0
    for unknown, meant in (("sqr", "sqrt"), ("amplitud", "amplitude"), ("sine", "sin")):
        with pytest.raises(UnknownNameError) as info:
            interp.eval("%s(a)" % unknown if unknown != "amplitud" else unknown)
        message = str(info.value)
        assert "did you mean %s? If not, define it first" % meant in message, message


def test_unknown_name_with_a_number_appended_suggests_nothing(interp):
    # exp3 would be 3**x, not a misspelling of exp
    with pytest.raises(UnknownNameError) as info:
        interp.eval("exp3(a)")
    assert "did you mean" not in str(info.value) and "define it first" in str(info.value)
    assert expr_module.suggested_name("exp3", interp.symtable) is None
    assert expr_module.suggested_name("arctan", {"atan": 1}) == "atan"


def test_runtime_error_is_chained_and_named(interp):
    with pytest.raises(ExpressionRuntimeError) as info:
        interp.evaluate(interp.compile_expression("a / (b - 4)", owner="ratio"))
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert "'ratio'" in str(info.value) and "ZeroDivisionError" in str(info.value)


def test_math_domain_error_is_runtime_error(interp):
    with pytest.raises(ExpressionRuntimeError, match="math domain error"):
        interp.eval("sqrt(-1)")


def test_limit_error_names_expression_and_limit(interp):
    with pytest.raises(ExpressionLimitError) as info:
        interp.evaluate(interp.compile_expression("2 ** 10 ** 8", owner="big"))
    assert "'big'" in str(info.value) and "max_int_bits" in str(info.value)


def test_unknown_name_inside_text_function_is_reported(interp):
    interp("def f():\n    return nowhere")
    with pytest.raises(UnknownNameError, match="nowhere"):
        interp("f()")


def test_keyboard_interrupt_passes_through(interp):
    def interrupt():
        raise KeyboardInterrupt

    interp.symtable["interrupt"] = interrupt
    with pytest.raises(KeyboardInterrupt):
        interp.eval("interrupt()")


# --- limits ------------------------------------------------------------------------------------------

def test_limits_are_configurable_per_interpreter():
    interp = Interpreter(limits=Limits(max_length=10))
    with pytest.raises(ExpressionLimitError, match="max_length"):
        interp.eval("[0] * 11")
    assert Interpreter().eval("len([0] * 11)") == 11


def test_limits_attribute_changes_take_effect(interp):
    interp.limits.max_int_bits = 50
    with pytest.raises(ExpressionLimitError):
        interp.eval("2 ** 60")
    interp.limits = Limits()
    assert interp.eval("2 ** 60") == 2 ** 60


def test_time_budget_stops_a_runaway_loop(interp):
    interp.limits.time_budget = 0.05
    interp.limits.max_work = 10 ** 9
    with pytest.raises(ExpressionLimitError, match="time budget"):
        interp("while True:\n    pass")


@pytest.mark.skipif(expr_module._resident_memory() is None, reason="no memory reading here")
def test_memory_growth_of_a_run_is_limited(interp):
    interp.limits.max_memory = 40 * 2 ** 20
    interp.limits.time_budget = 5.0
    with pytest.raises(ExpressionLimitError, match="max_memory"):
        interp("row = list(range(10 ** 5))\nkeep = []\nwhile True:\n    keep += [row[:]]")


def test_each_run_gets_a_fresh_budget(interp):
    interp.limits.max_work = 1000
    for _ in range(5):
        interp("for i in range(500):\n    pass")


def test_text_function_called_from_python_is_bounded(interp):
    interp("def spin():\n    while True:\n        pass")
    interp.limits.time_budget = 0.05
    with pytest.raises(ExpressionLimitError):
        interp.symtable["spin"]()
    # and the interpreter is usable afterwards
    assert interp.eval("a + 1") == 4.0


def test_failed_run_leaves_interpreter_usable(interp):
    with pytest.raises(ExpressionLimitError):
        interp("def f(n):\n    return f(n + 1)\nf(0)")
    assert interp("def g(n):\n    return n if n < 1 else g(n - 1)\ng(50)") == 0


# --- namespaces: copy and isolation -------------------------------------------------------------

def test_symtable_starts_with_defaults_and_given_values():
    interp = Interpreter({"x": 1.0})
    assert interp.symtable["x"] == 1.0
    assert interp.symtable["sin"] is math.sin
    assert "range" in interp.symtable


def test_use_defaults_false_gives_an_empty_namespace():
    interp = Interpreter({"x": 2.0}, use_defaults=False)
    assert interp.user_names() == ["x"]
    with pytest.raises(UnknownNameError):
        interp.eval("sin(x)")


def test_copy_is_independent(interp):
    twin = interp.copy()
    twin("a = 100.0\nnew = 1")
    assert interp.symtable["a"] == 3.0 and "new" not in interp.symtable
    assert twin.eval("a + b") == 104.0


def test_copy_keeps_user_functions_and_limits(interp):
    interp("def double(x):\n    return 2 * x")
    interp.limits.max_length = 5
    twin = interp.copy()
    assert twin.eval("double(a)") == 6.0
    assert twin.limits.max_length == 5 and twin.limits is not interp.limits


def test_copied_text_function_reads_the_copys_names(interp):
    interp("def scaled(v):\n    return a * v")
    twin = interp.copy()
    twin("a = 100.0")
    assert twin.eval("scaled(2)") == 200.0
    assert interp.eval("scaled(2)") == 6.0


def test_adopt_function_rebinds_only_text_functions(interp):
    interp("def scaled(v):\n    return a * v")
    other = Interpreter({"a": -1.0})
    adopted = other.adopt_function(interp.symtable["scaled"])
    assert adopted(2) == -2.0
    assert other.adopt_function(math.sin) is math.sin
    python_function = lambda v: v  # noqa: E731
    assert other.adopt_function(python_function) is python_function


def test_text_cannot_change_other_interpreters(interp):
    other = Interpreter()
    interp("sin = 5\npi = 3\ndel cos")
    assert other.eval("sin(pi / 2)") == 1.0
    assert Interpreter().eval("cos(0)") == 1.0
    assert default_symbols()["pi"] == math.pi


def test_default_symbols_returns_fresh_dicts():
    first = default_symbols()
    first["sin"] = None
    assert default_symbols()["sin"] is math.sin


def test_user_names_lists_additions_and_replaced_defaults(interp):
    interp("c = 1\nsin = 2")
    assert sorted(interp.user_names()) == ["a", "b", "c", "sin"]


def test_symbol_origin_of_defaults(interp):
    assert interp.symbol_origin("sqrt") == "lmfit-host math pack"
    assert interp.symbol_origin("range") == BUILTINS_ORIGIN
    assert interp.symbol_origin("a") is None


def test_default_value_is_what_a_fresh_namespace_holds():
    interp = Interpreter()
    assert interp.default_value("sqrt") is math.sqrt and interp.default_value("e") == math.e
    assert interp.default_value("sum") is interp.symtable["sum"]   # this interpreter's own
    with pytest.raises(KeyError):
        interp.default_value("amp")
    with pytest.raises(KeyError):
        Interpreter(use_defaults=False).default_value("sum")


def test_holds_default_is_false_once_a_name_is_given_another_value():
    interp = Interpreter({"a": 1.0})
    assert interp.holds_default("pi") and interp.holds_default("range")
    interp("pi = 3\ndel range")
    assert not interp.holds_default("pi") and not interp.holds_default("range")
    assert not interp.holds_default("a") and not interp.holds_default("nothing")
    assert interp.symbol_origin("pi") == "lmfit-host math pack"   # about the name, still


def test_a_pending_copy_answers_defaults_as_the_built_copy_will():
    interp = Interpreter()
    pending = interp._copy_later()
    assert pending.holds_default("sum") and pending.default_value("sum") is interp.symtable["sum"]
    pending.table["sum"] = 1.0
    assert not pending.holds_default("sum")
    pending.table["sum"] = pending.default_value("sum")
    built = pending.build()
    assert built.holds_default("sum") and built.symtable["sum"] is not interp.symtable["sum"]


def test_builtins_entry_is_hidden_from_user_names(interp):
    assert "__builtins__" in interp.symtable
    assert "__builtins__" not in interp.user_names()


def test_replacing_symtable_dict_still_runs_safely(interp):
    interp.symtable = {"a": 1.0}
    assert interp.eval("a + 1") == 2.0
    with pytest.raises(UnknownNameError):
        interp.eval("open('x')")


# --- symbol provider and hints -------------------------------------------------------------------

def test_symbol_provider_replaces_defaults(restore_provider):
    def provider() -> Dict[str, Symbol]:
        symbols = dict(mathpack.SYMBOLS)
        symbols["twice"] = Symbol("twice", lambda x: 2 * x, lambda x: 2 * np.asarray(x),
                                  "function pack 'demo'")
        return symbols

    set_symbol_provider(provider)
    interp = Interpreter()
    assert interp.eval("twice(3)") == 6
    assert interp.symbol_origin("twice") == "function pack 'demo'"
    assert "twice" in default_symbols(arrays=True)
    assert "twice" not in interp.user_names()
    set_symbol_provider(None)
    assert "twice" not in default_symbols()


def test_arrays_defaults_use_array_versions(restore_provider):
    set_symbol_provider(None)
    assert default_symbols(arrays=True)["sin"].__wrapped__ is np.sin  # checked: see below
    assert default_symbols(arrays=False)["sin"] is math.sin


def test_array_functions_check_what_they_would_broadcast(restore_provider):
    set_symbol_provider(None)
    x, y, v = np.ones((300, 1)), np.ones((1, 300)), np.arange(1.0, 301.0)
    interp = Interpreter({"x": x, "y": y, "v": v}, arrays=True)
    interp.limits.max_array_size = 10_000
    with pytest.raises(ExpressionLimitError, match=r"atan2\(\) would broadcast its arguments "
                       r"of shapes \(300, 1\), \(1, 300\) to 90000 elements"):
        interp.eval("atan2(x, y)")
    with pytest.raises(ExpressionLimitError, match=r"pow\(\) would broadcast"):
        interp.eval("pow(x, [list(v)])")               # a list counts with numpy's shape
    with pytest.raises(ExpressionLimitError, match=r"sum\(\) would broadcast"):
        interp.eval("sum([1.0, x, y])")
    # within the limit, of one shape, or with a number: numpy's own answer
    assert np.array_equal(interp.eval("atan2(x[:50], y[:, :50])"),
                          np.arctan2(x[:50], y[:, :50]))
    assert np.array_equal(interp.eval("hypot(v, v)"), np.hypot(v, v))
    assert np.array_equal(interp.eval("pow(v, 2.0)"), np.power(v, 2.0))
    assert np.array_equal(interp.eval("sum([v, v, 1.0])"), v + v + 1.0)
    assert interp.eval("sum([1, 2.5, 3])") == 6.5
    # numpy functions of one input are checked too (where= broadcasts); the scalar
    # interpreter's functions are the functions themselves
    with pytest.raises(ExpressionLimitError, match=r"sin\(\) would (broadcast|convert)"):
        interp.eval("sin(v, where=[list(v > 0)] * 300)")
    assert np.array_equal(interp.eval("sin(v)"), np.sin(v))
    assert Interpreter().symtable["atan2"] is math.atan2
    assert interp.symtable["atan2"].__wrapped__ is np.arctan2
    # called from Python, outside any run, nothing is checked
    assert interp.symtable["atan2"](x, y).shape == (300, 300)


# --- check_identifier -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, fragment", [
    ("2amp", "ASCII identifier"), ("a-b", "ASCII identifier"), ("", "ASCII identifier"),
    ("ämp", "ASCII identifier"), ("lambda", "keyword"), ("None", "keyword"),
    ("_hidden", "underscore"), ("__class__", "underscore"), (3, "string"),
])
def test_check_identifier_refuses_bad_names(name, fragment):
    with pytest.raises(ParameterError, match=fragment):
        check_identifier(name)


def test_check_identifier_names_what_is_checked():
    with pytest.raises(ParameterError, match="invalid assignment target '1x'"):
        check_identifier("1x", "assignment target")


@pytest.mark.parametrize("name", ["amp", "x1", "Center_2", "match"])
def test_check_identifier_accepts_good_names(name):
    check_identifier(name)


# --- compile_block -----------------------------------------------------------------------------------

def _block(interp: Interpreter, pairs):
    return interp.compile_block([(target, interp.compile_expression(text, owner=target))
                                 for target, text in pairs])


def test_block_assigns_in_order(interp):
    update = _block(interp, [("c", "a + b"), ("d", "2 * c"), ("e", "d - c")])
    update()
    assert (interp.symtable["c"], interp.symtable["d"], interp.symtable["e"]) == (7.0, 14.0, 7.0)


def test_block_sees_new_values_each_call(interp):
    update = _block(interp, [("c", "a * b")])
    update()
    interp.symtable["a"] = 10.0
    update()
    assert interp.symtable["c"] == 40.0


def test_block_reads_old_value_before_assigning_it(interp):
    interp.symtable["c"] = 1.0
    update = _block(interp, [("d", "c + 1"), ("c", "a")])
    update()
    assert (interp.symtable["d"], interp.symtable["c"]) == (2.0, 3.0)


def test_block_error_names_failing_expression_and_owner(interp):
    update = _block(interp, [("c", "a + b"), ("d", "c / (a - 3)"), ("e", "1.0")])
    with pytest.raises(ExpressionRuntimeError) as info:
        update()
    assert info.value.owner == "d" and info.value.expr == "c / (a - 3)"
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_block_unknown_name_names_the_owner(interp):
    update = _block(interp, [("c", "a + b"), ("d", "c * nothing")])
    with pytest.raises(UnknownNameError) as info:
        update()
    assert info.value.owner == "d" and info.value.name == "nothing"


def test_block_owner_defaults_to_target(interp):
    update = interp.compile_block([("c", interp.compile_expression("1 / 0"))])
    with pytest.raises(ExpressionRuntimeError, match="'c'"):
        update()


def test_empty_block_does_nothing(interp):
    before = dict(interp.symtable)
    interp.compile_block([])()
    assert interp.symtable == before


def test_block_refuses_bad_targets(interp):
    with pytest.raises(ParameterError):
        interp.compile_block([("__class__", interp.compile_expression("1"))])


def test_block_with_non_float_values_gives_same_results(interp):
    pairs = [("c", "2 * a + b ** 2"), ("d", "max(c, a) % 5"), ("e", "c if c > d else d")]
    update = _block(interp, pairs)
    for values in ({"a": 3.0, "b": 4.0}, {"a": 3, "b": 4}, {"a": np.float64(3.0), "b": 4.0},
                   {"a": np.array([1.0, 2.0]), "b": 1.0}):
        if isinstance(values["a"], np.ndarray):
            pairs = [("c", "2 * a + b ** 2"), ("d", "c % 5 + a * 3"), ("e", "c ** 2")]
            update = _block(interp, pairs)
        interp.symtable.update(values)
        update()
        expected = {}
        namespace: Dict[str, Any] = {"max": max, **values}
        for target, text in pairs:
            namespace[target] = expected[target] = eval(text, namespace)
        for target in expected:
            np.testing.assert_array_equal(interp.symtable[target], expected[target])


def test_block_bounded_path_still_limits_growth(interp):
    interp.symtable["s"] = "ab"
    update = _block(interp, [("c", "s * 10 ** 7")])
    with pytest.raises(ExpressionLimitError, match="max_length"):
        update()


def test_block_fast_path_still_charges_the_run():
    # the guarded native path runs inside a run: a pack function it calls charges it
    interp = Interpreter({"a": 1.5}, limits=Limits(max_work=150))
    update = _block(interp, [("t", "factorial(200) + a")])
    with pytest.raises(ExpressionLimitError):
        update()


def test_plain_block_runs_without_a_run_and_still_names_its_failure(interp):
    # plain arithmetic (no call, no counting helper) skips the run's bookkeeping
    update = _block(interp, [("c", "a - 4"), ("d", "2.0 / (a - 3)")])
    started = []
    begin = expr_module._RunState.begin

    def counted(state: Any) -> bool:
        started.append(1)
        return begin(state)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expr_module._RunState, "begin", counted)
        with pytest.raises(ExpressionRuntimeError) as info:
            update()
        assert not started
        _block(interp, [("e", "sqrt(a)")])()  # a call: inside a run
        assert started
    assert info.value.owner == "d" and interp.symtable["c"] == -1.0


def test_array_operations_keep_their_meaning_under_the_broadcast_checks():
    x = np.array([1.0, 2.0, 3.0])
    interp = Interpreter({"x": x, "z": np.array(2.0), "one": np.array([2.0])})
    big = [x] * 100_000  # identity first, as Python's own membership test: no work per item
    interp.symtable["big"] = big
    assert interp.eval("x in big") is True
    assert interp.eval("2.0 in x") and not interp.eval("5.0 in x")
    assert interp.eval("(1, 2) in [0, (1, 2)]") is True
    assert interp.eval("(1, 2) not in [(1, 3), 0]") is True
    np.testing.assert_array_equal(interp.eval("1 < 2 < x"), [False, False, True])
    assert interp.eval("0 < z < 5") and interp.eval("0 < one < 5")
    assert interp.eval("x is not None != 3") is True
    interp("y = [1.0, 2.0, 3.0]\ny -= x\nq = 7\nq //= 2")
    np.testing.assert_array_equal(interp.symtable["y"], [0.0, 0.0, 0.0])
    assert interp.symtable["q"] == 3
    with pytest.raises(ExpressionRuntimeError, match="truth value"):  # as Python says
        interp.eval("0 < x < 5")
    # a chain evaluates each operand only when Python would
    assert interp.eval("1 < 0 < 1 / 0") is False
    assert interp.eval("{1: 2} in x >= x != 2") is False


def test_chains_in_conditions_and_augmented_items_follow_python():
    class Result:
        tests = 0

        def __bool__(self) -> bool:
            Result.tests += 1
            return Result.tests > 1  # false the first time only

    class Operand:
        def __lt__(self, other: Any) -> Result:
            return Result()

    names = {"a": Operand(), "b": Operand(), "c": Operand()}
    for text in ("r = 1 if a < b < c else 2", "r = 1 if not (a < b < c) else 2"):
        Result.tests = 0
        native = dict(names)
        exec(text, native)
        expected = (native["r"], Result.tests)
        Result.tests = 0
        interp = Interpreter(dict(names))
        interp(text)
        assert (interp.symtable["r"], Result.tests) == expected, text
    interp = Interpreter()
    # c[k] op= v reads c[k] before evaluating v, as Python does: 5 - 1, then 4 + 1
    interp("l = [5.0]\ndef f():\n    l[0] = 100.0\n    return 1.0\nl[0] -= f()\nl[0] += f()")
    assert interp.symtable["l"] == [5.0]
    with pytest.raises(ExpressionRuntimeError, match="free variable 'y'"):
        interp("def g():\n    r = 0 < 1 < y\n    y = 1\n    return r\ng()")


def test_broadcast_checks_follow_the_limit():
    interp = Interpreter({"a": np.ones((20, 1)), "b": np.ones((1, 20))},
                         limits=Limits(max_array_size=400))
    for text in ("a - b", "a / b", "a // b", "a < b", "a != b", "(a > 0) | (b > 0)"):
        assert interp.eval(text).shape == (20, 20), text
    interp.limits = Limits(max_array_size=399)
    for text in ("a - b", "a / b", "a // b", "a < b", "a != b", "(a > 0) | (b > 0)",
                 "a in [b]", "a - range(20)", "a < [range(20)]"):
        with pytest.raises(ExpressionLimitError, match="max_array_size"):
            interp.eval(text)
    # the shape is worked out without converting: a list of many references to one
    # array is refused (or passed) at once, without building it
    interp.symtable["x"] = np.ones(2000)
    interp.limits = Limits(max_array_size=10_000)
    assert interp.eval("[x] * 20000 in [0]") is False
    with pytest.raises(ExpressionLimitError, match="max_array_size"):
        interp.eval("x - [x] * 20000")


@pytest.mark.parametrize("text", ["exp([x] * 200)", "sqrt(tuple([x] * 200))",
                                  "factorial([x] * 200)", "isnan([[x] * 20] * 10)"])
def test_array_function_of_one_list_is_refused_when_numpy_would_convert_it_past_the_limit(
        text):
    # one array alone broadcasts nothing, but numpy converts a list of arrays to one array
    interp = Interpreter({"x": np.ones(1000)}, arrays=True, limits=Limits(max_array_size=10_000))
    with pytest.raises(ExpressionLimitError, match=r"would convert its argument of shape "
                       r"\((200|10, 20), 1000\) to an array of 200000 elements.*max_array_size"):
        interp.eval(text)
    interp.limits.max_array_size = 200_000
    assert np.shape(interp.eval(text)) in ((200, 1000), (10, 20, 1000))


def test_numpy_named_pack_functions_of_floats_run_in_the_native_block():
    from lmfit_host import mathpack

    interp = Interpreter({"a": 1.5, "b": 0.5})
    text = "2*gamfcn(a) + sign(b)*square(a) + clip(a, b, 1.0) - maximum(a, b)/minimum(a, b)"
    entries = [("c", interp.compile_expression(text))]
    _, guarded, _ = expr_module._compile_block(entries, interp.symtable)
    assert {mathpack.gamfcn, mathpack.sign, mathpack.square, mathpack.clip, mathpack.maximum,
            mathpack.minimum} <= set(guarded)
    interp.compile_block(entries)()
    expected = 2 * math.gamma(1.5) + 2.25 + 1.0 - 3.0
    assert interp.symtable["c"] == pytest.approx(expected, rel=1e-15)


def _indexing_interpreter(limit: int = 100_000) -> Interpreter:
    """Arrays whose fancy indexing builds far more than the arrays themselves hold."""
    return Interpreter({"x": np.ones((3000, 1)), "y": np.ones((1, 3000)), "z": np.ones((10, 10)),
                        "i": np.zeros((3000, 1), int), "j": np.zeros((1, 3000), int),
                        "w": np.ones((10, 10000)), "k": np.zeros(1000, int)},
                       arrays=True, limits=Limits(max_array_size=limit))


@pytest.mark.parametrize("text, shapes", [
    ("z[i, j]", "(3000, 1), (1, 3000)"),            # two index arrays broadcast to 3000 x 3000
    ("w[k]", "(1000,)"),                            # each index picks a whole row of 10000
    ("w[k, :]", "(1000,)"),
    ("w[[0] * 20]", "(20,)"),                       # a list is an index array
    ("w[[[0] * 20] * 2, 1:]", "(2, 20)"),
    ("w[None][0, k]", "(1000,)"),                   # None adds a dimension of 1
    ("z[i][:, 0, j]", "(1, 3000)"),
    ("w[[k, k]]", "(2, 1000)"),                     # a list of index arrays is one array
])
def test_fancy_indexing_is_refused_before_numpy_builds_it(text, shapes):
    interp = _indexing_interpreter()
    with pytest.raises(ExpressionLimitError) as info:
        interp.eval(text)
    message = str(info.value)
    assert "indexing an array of shape" in message and shapes in message, message
    assert "max_array_size" in message


def test_augmented_fancy_index_is_refused_before_reading():
    interp = _indexing_interpreter()
    with pytest.raises(ExpressionLimitError, match="max_array_size"):
        interp("w[k] += 1.0")
    with pytest.raises(ExpressionLimitError, match="max_array_size"):
        interp("w[k] -= w[k, 0]")  # the broadcasting operators' in-place path
    assert interp.symtable["w"].sum() == 10 * 10000


def test_fancy_indexing_within_the_limit_is_numpy_indexing():
    interp = _indexing_interpreter()
    w = interp.symtable["w"]
    interp.symtable.update(m=np.arange(12.0).reshape(3, 4), n=np.array([2, 0]), ell=Ellipsis,
                           v=np.arange(5.0), d={"key": 1, (1, 2): 3}, t=(4, 5, 6), s="abc",
                           p=1, q=2)
    namespace = dict(interp.symtable)
    for text in ["w[w > 0]",  # a mask of exactly the limit's size
                 "w[k[:9]]", "z[i][:, 0]", "m[[0, 2]]", "m[1:3]", "m[None, :]", "m[n]",
                 "m[n, 1:]", "m[:, n]", "m[[0, 1], [1, 2]]", "m[m > 4]", "m[m[:, 0] > 2]",
                 "m[ell, 0]", "m[0, ell]", "m[p]", "m[p, q]", "m[p:q]", "m[-p]", "m[None][0]",
                 "v[[True, False, True, False, True]]", "v[range(1, 4)]", "v[(1, 2),]",
                 "v[[[0, 1], [2, 3]]]", "m[True]", "m[n, None, 1]", "m[[]]", "d['key']",
                 "d[p, q]", "t[p]", "t[p:]", "s[q]", "m[-1]", "m[-1, -2]", "t[-1]",
                 "v[[-1, 0]]"]:
        expected = eval(text, {"__builtins__": {}, **namespace})
        result = interp.eval(text)
        assert type(result) is type(expected), text
        np.testing.assert_array_equal(result, expected, err_msg=text)
    assert interp.symtable["w"] is w
    interp("m[n] += 1.0\nm[n, p] *= 2.0\nm[n] -= m[p]")
    expected = np.arange(12.0).reshape(3, 4)
    expected[[2, 0]] += 1.0
    expected[[2, 0], 1] *= 2.0
    expected[[2, 0]] -= expected[1]
    np.testing.assert_array_equal(interp.symtable["m"], expected)


@pytest.mark.parametrize("text, shapes", [
    ("z[i, j] = 0.0", "(3000, 1), (1, 3000)"),      # numpy walks 3000 x 3000 index pairs
    ("z[i, j] = x", "(3000, 1), (1, 3000)"),        # and broadcasts the value to them
    ("w[k] = 1.0", "(1000,)"),                      # each index sets a whole row of 10000
    ("z[[0] * 200000] = 1.0", "(200000,)"),
    ("w[[k, k]] = 1.0", "(2, 1000)"),                # a list of index arrays is one array
    ("d = {}\nd['k'] = z\nd['k'][i, j] = 0.0", "(3000, 1), (1, 3000)"),
    # targets in lists, loops and comprehensions, and chained targets
    ("z[i, j], n = 0.0, 1", "(3000, 1), (1, 3000)"), ("n = z[i, j] = 0.0", "(3000, 1), (1, 3000)"),
    ("[n, z[i, j]] = [1, 0.0]", "(3000, 1), (1, 3000)"),
    ("for z[i, j] in [0.0]:\n    pass", "(3000, 1), (1, 3000)"),
    ("[0 for z[i, j] in [0.0]]", "(3000, 1), (1, 3000)"),
    ("def f():\n    z[i, j] = 0.0\nf()", "(3000, 1), (1, 3000)"),
])
def test_stores_through_index_arrays_are_refused_before_numpy_walks_them(text, shapes):
    interp = _indexing_interpreter()
    z = interp.symtable["z"]
    with pytest.raises(ExpressionLimitError) as info:
        interp(text)
    message = str(info.value)
    assert "storing into an array of shape" in message and shapes in message, message
    assert "max_array_size" in message
    assert interp.symtable["z"] is z and (z == 1.0).all() and (interp.symtable["w"] == 1.0).all()


def test_store_bound_follows_the_limit():
    interp = _indexing_interpreter()
    interp("z[[0] * 10000] = 2.0\nten = k[:10]\nw[ten] = 2.0")  # 10000 x 10, 10 x 10000
    assert interp.symtable["z"][0, 0] == 2.0 and interp.symtable["w"][0, 0] == 2.0
    with pytest.raises(ExpressionLimitError, match="to 100010 elements"):
        interp("z[[0] * 10001] = 3.0")
    with pytest.raises(ExpressionLimitError, match="to 110000 elements"):
        interp("eleven = k[:11]\nw[eleven] = 3.0")
    assert interp.symtable["z"][0, 0] == 2.0 and interp.symtable["w"][0, 0] == 2.0


@pytest.mark.parametrize("text", ["z[i, j] += 1", "z[i, j] -= 1", "z[i, j] /= 2", "z[i, j] *= x",
                                  "z[i, j] |= 1", "w[k] -= 1.0", "w[k] //= 2"])
def test_augmented_stores_through_index_arrays_are_refused(text):
    # the read is checked before numpy builds it (with a number on the right too, which
    # broadcasts nothing but leaves the read and the store to check)
    interp = _indexing_interpreter()
    with pytest.raises(ExpressionLimitError, match="indexing an array of shape .*max_array_size"):
        interp(text)
    assert (interp.symtable["z"] == 1.0).all() and (interp.symtable["w"] == 1.0).all()


def test_augmented_store_is_checked_again_after_the_value():
    # the value's text grows the list key in place after the read was checked
    interp = _indexing_interpreter()
    text = ("v = w[:1] * 1.0\nkey = [0]\nbox = [key]\ndef grow():\n    box[0] += [0] * 20\n"
            "    return 1.0\nv[key] %s grow()")
    for operator_ in ("+=", "-="):
        with pytest.raises(ExpressionLimitError, match="storing into an array of shape"):
            interp(text % operator_)
        assert len(interp.symtable["key"]) == 21 and (interp.symtable["v"] == 1.0).all()


def test_stores_within_the_limit_are_numpy_and_python_stores():
    def names() -> Dict[str, Any]:
        return {"m": np.arange(12.0).reshape(3, 4), "v": np.arange(5.0), "n": np.array([2, 0]),
                "p": 1, "q": 2, "i0": np.int64(2), "d": {"key": 1}, "s": "key", "l": [0, 1, 2],
                "mask": np.array([True, False, True, False, True]), "t": (4, 5)}
    interp = Interpreter(names(), arrays=True, limits=Limits(max_array_size=12))
    texts = ["m[n] = 5.0", "m[n, p] = -1.0", "m[[0, 1], [1, 2]] = [7.0, 8.0]", "m[p, q] = 3.0",
             "v[mask] = 0.0", "v[[True, False, True, False, True]] = 9.0", "m[m > 4] = -1.0",
             "m[n] = m[p]", "v[range(1, 3)] = 9.0", "m[-p] = 2.0", "v[i0] = 4.0",
             "m[0, 1] = 6.0", "m[None] = 1.0", "m[n] -= 1", "m[n] /= 2", "m[n, p] *= 3.0",
             "v[v > 2] += 1.0", "m[n], r = 0.5, 3", "a1 = m[n] = 4.0", "[r, v[n]] = (1, 2.0)",
             "for v[p] in [1.0, 2.0]:\n    pass", "c = [0 for v[q] in [3.0]]",
             "def f(k):\n    m[k] = 0.0\nf(n)", "d[s] = 2", "d[p, q] = 'x'", "d[s] -= 1",
             "l[p] = 5", "l[-p] = 6", "l[p] -= 1", "l[p], r = 7, 8", "d[s] += 1", "l[p] *= 2",
             "m[n, p] += -1", "p -= -1", "ll = [[1], [2]]\nll[p] *= 3", "v[n] **= 2",
             # Python's and numpy's own errors
             "l[[0]] = 1", "d[[1]] = 2", "m[[5]] = 1.0", "t[p] = 1", "v[[0, 1]] = [1.0] * 3",
             "m[n, n, n] = 1.0", "v[1.5] = 1.0"]
    for text in texts:
        interp.symtable.update(names())
        theirs_names = {"__builtins__": {"range": range}, **names()}
        ours = _outcome(lambda: interp(text))
        theirs = _outcome(lambda: exec(text, theirs_names))
        assert ours[0] == theirs[0], (text, ours, theirs)
        if ours[0] == "error":
            assert ours[1] is theirs[1], (text, ours, theirs)
        for name, value in theirs_names.items():
            if name not in ("__builtins__", "f"):
                np.testing.assert_equal(interp.symtable[name], value, err_msg=text)


def test_plain_stores_stay_native():
    # literals cannot hold an index array: a native store, as before
    def compiled(text: str) -> str:
        return ast.unparse(expr_module._compile_source(text, "exec").tree)

    for text in ["a[1] = v", "a[-1] = v", "d['key'] = v", "a[0, 1] = v", "a[None] = v",
                 "a[1], b = v", "for a[0] in v:\n    pass", "a[1] -= 1"]:
        assert not any(helper in compiled(text) for helper in
                       ("__lh_store", "__lh_target", "__lh_weigh", "__lh_aug")), text
    assert "__lh_store(v, a, i)" in compiled("a[i] = v")
    assert "__lh_store(v, a, (i, 1))" in compiled("a[i, 1] = v")
    assert "__lh_target(a)[__lh_weigh(i)], b = v" in compiled("a[i], b = v")
    assert "__lh_augnumber(a, __lh_weigh(i), __lh_op_isub, 1)" in compiled("a[i] -= 1")
    assert "__lh_augbcast(a, __lh_weigh(i)" in compiled("a[i] -= b")
    with pytest.raises(UnsafeExpressionError, match="assignment to a slice"):
        Interpreter()("a = [1, 2, 3]\na[1:3] = [0]")


def test_plain_subscripts_stay_native():
    # literals and slices cannot hold an index array: no helper call, as before
    for text in ["a[1]", "a[-1]", "d['key']", "a[1:n, None]", "a[-1, ::2]", "a[+2]"]:
        assert "__lh_" not in ast.unparse(expr_module._compile_source(text, "eval").tree), text
    for text in ["a[i]", "a[i, 1:]", "a[[0, 1]]", "a[-i]"]:
        assert "__lh_item" in ast.unparse(expr_module._compile_source(text, "eval").tree), text


def test_fancy_index_bound_is_never_below_numpy_result():
    # every key that numpy accepts builds at most the bound (exactly, for integer arrays)
    pool = [0, -1, slice(None), slice(1, 3), slice(None, None, 2), slice(5, 1, -1), None,
            Ellipsis, [0, 1], [[0], [1]], (0, 0, 0), range(2), np.array([0, 1, 1]),
            np.zeros((2, 1), int), np.array(1), True, False, [True, False, True],
            # nested lists of booleans are masks of all their dimensions; mixed with
            # integers they are integer arrays
            [[True]], [[True, False, True, True]], [[True, 1]], [[[True]]]]
    checked = 0
    for shape in [(5,), (4, 6), (3, 4, 5), (0, 3), (1, 1, 6, 1)]:
        array = np.zeros(shape)
        for first in pool:
            for second in pool:
                for key in (first, (first, second)):
                    try:
                        actual = array[key].size
                    except (IndexError, ValueError, TypeError):
                        continue
                    found = expr_module._index_bound(shape, key)
                    bound = max(array.size, 1) if found is None else found[0]
                    assert bound >= actual, (shape, key)
                    if isinstance(key, np.ndarray):  # its shortcut gives the general answer
                        assert found == expr_module._index_bound(shape, (key,)), (shape, key)
                    checked += 1
        assert expr_module._index_bound(shape, np.ones(shape, bool))[0] == array.size
        assert expr_module._index_bound(shape, (np.ones(shape, bool),))[0] == array.size
    assert checked > 1000


@pytest.mark.parametrize("text", [
    "[x] == [y]", "(x,) == (y,)", "[x] != [y]", "[x] < [y]", "(x,) >= (y,)",
    "[[1.0, x]] == [[1.0, y]]", "[(x,)] == [(y,)]", "[x, 1] == [y, 1]", "{'a': x} == {'a': y}",
    "[{'a': [x]}] == [{'a': [y]}]", "[x] == [[0.0] * 3000]",  # a list item numpy converts
    "[x] == [y] == [x]", "1 < 2 != [x] == [y]", "1 if 1 < 2 != [x] == [y] else 0",
    "[x] in [[y]]", "(x,) in [0, (y,)]", "{'a': x} in [{'a': y}]", "[x] not in [[y]]",
    # every pair up to the shorter length is checked, also past the first pair that differs
    # (where Python would stop): a bound, like the other array checks
    "[1, x] < [2, y]",
])
def test_container_comparisons_check_their_item_pairs(text):
    interp = _indexing_interpreter()
    with pytest.raises(ExpressionLimitError) as info:
        interp.eval(text)
    message = str(info.value)
    assert "comparing the items of two containers" in message, message
    assert "to 9000000 elements" in message and "max_array_size" in message


def test_container_comparisons_that_compare_no_arrays_are_not_refused():
    interp = _indexing_interpreter()
    for text, expected in [
            ("[x, y] == [x, y]", True),        # Python takes one object twice as equal
            ("(x, y) <= (x, y)", True), ("[[x], y] == [[x], y]", True),
            ("{'a': x} == {'a': x}", True), ("[x] in [[x]]", True),
            ("[x] == [y, y]", False),          # == compares nothing in lists of two lengths
            ("{'a': x} == {'b': y}", False),   # nor in dicts without a common key
            ("[x] == (y,)", False), ("[x] in [(y,)]", False), ("[x] != 3", True)]:
        assert interp.eval(text) is expected, text


def _outcome(call: Any) -> Any:
    """A result, or the type of the exception Python (or the interpreter, its cause) raised."""
    try:
        return ("value", call())
    except ExpressionRuntimeError as exc:
        return ("error", type(exc.__cause__))
    except Exception as exc:  # noqa: BLE001 - native evaluation: any error Python raises
        return ("error", type(exc))


def test_container_comparisons_within_the_limits_are_python_comparisons():
    a, b, one = np.arange(3.0), np.arange(3.0), np.array([2.0])
    names = {"a": a, "b": b, "one": one, "two": np.array([2.0]), "l1": [1.0] * 1000,
             "l2": [1.0] * 999 + [2.0], "nested": [[1, 2], [3, (4, 5)]]}
    interp = Interpreter(dict(names), arrays=True)
    for text in ["[1, 2] == [1, 2]", "(1, 2) < (1, 3)", "[1, 2] < [1]", "(1, 'a') == (1, 'a')",
                 "l1 == l2", "l1 < l2", "l1 != l1", "nested == [[1, 2], [3, (4, 5)]]",
                 "nested <= [[1, 2], [3, (4, 6)]]", "[[1, 2], [3]] > [[1, 2], [2, 9]]",
                 "{'k': [1, 2]} == {'k': [1, 2]}", "[a] == [a]", "[a] != [a]", "[a, 1] < [a, 2]",
                 "(a,) == (a,)", "[one] == [two]", "[one] < [two]", "[one, a] == [two, a]",
                 "{'k': one} == {'k': two}", "[a] == [b]", "[a] < [b]", "(a, 1) == (b, 1)",
                 "{'k': a} == {'k': b}", "[a] == [a, a]", "[1] < [2] < [3]",
                 "[one] == [two] == [one]", "[a] in [[a]]", "[one] in [[two]]", "[a] in [[b]]",
                 "[1.0, 2.0] in [[1.0, 2.0]]", "(1, 2) in [(1, 2)]", "{'k': one} in [{'k': two}]"]:
        ours = _outcome(lambda: interp.eval(text))
        theirs = _outcome(lambda: eval(text, {"__builtins__": {}}, dict(names)))
        assert ours[0] == theirs[0], (text, ours, theirs)
        if ours[0] == "error":
            assert ours[1] is theirs[1], (text, ours, theirs)
        else:
            assert type(ours[1]) is type(theirs[1]) and ours[1] == theirs[1], text


def _ordering_interpreter(arrays: bool, limit: int = 100_000) -> Interpreter:
    """Arrays of shapes (3000,) and (3000, 1): any comparison of the two builds 9M elements."""
    interp = Interpreter({"x": np.ones(3000), "y": np.ones((3000, 1))}, arrays=arrays,
                         limits=Limits(max_array_size=limit))
    interp("def k(v):\n    return [y] if v else [x]")
    return interp


@pytest.mark.parametrize("arrays", [False, True])
@pytest.mark.parametrize("text", [
    "sorted([[x], [y]])", "sorted([x, y])", "sorted([(1.0, x), (1.0, y)])",
    "sorted([[1.0, (2, x)], [1.0, (2, y)]])", "sorted([[{'a': x}], [{'a': y}]])",
    "sorted(v for v in [[x], [y]])", "sorted([0, 1], key=k)", "sorted([[x], [[[0.0]] * 3000]])",
    "max([[x], [y]])", "min([[x], [y]])", "max([0, 1], key=k)", "min([0, 1], key=k)",
    # lists whose first items are numbers: numpy's view of their shape sees no arrays
    "max([1.0, x], [1.0, y])", "min((1.0, x), (1.0, y))",
])
def test_orderings_of_items_holding_arrays_are_refused_before_comparing(text, arrays):
    interp = _ordering_interpreter(arrays)
    with pytest.raises(ExpressionLimitError) as info:
        interp.eval(text)
    message = str(info.value)
    assert "ordering the items in" in message and "(3000,), (3000, 1)" in message, message
    assert "to up to 9000000 elements" in message and "max_array_size" in message


@pytest.mark.parametrize("text", ["max([x], [y])", "min([x], [y])", "max(x, y)", "min(y, x)"])
def test_max_and_min_of_several_arrays_are_refused_in_both_interpreters(text):
    # the scalar versions order their arguments; the array versions (element-wise over
    # arrays) check the arguments' broadcast from their shapes before anything else
    with pytest.raises(ExpressionLimitError, match="ordering the items in m..\\(\\)"):
        _ordering_interpreter(False).eval(text)
    with pytest.raises(ExpressionLimitError, match="would broadcast its arguments"):
        _ordering_interpreter(True).eval(text)


def test_orderings_that_broadcast_nothing_big_are_python_orderings():
    a, b, c = np.arange(3.0), np.arange(3.0) + 1, np.arange(5.0)
    names = {"a": a, "b": b, "c": c, "words": ["pear", "fig", "apple"], "big": [1.0] * 500,
             "rows": [[3, 1], [1, 2, 3], [1, 2], [3, 0]], "pairs": [(2, "b"), (1, "z"), (2, "a")]}
    interp = Interpreter(dict(names), arrays=True, limits=Limits(max_array_size=10))
    builtins_ = {"sorted": sorted, "max": max, "min": min, "len": len, "sum": sum}
    for text in ["sorted([3, 1.5, 2, -7, 0])", "sorted(words)", "sorted(words, reverse=True)",
                 "sorted(rows)", "sorted(pairs)", "sorted([(1, 'b'), (1, 'a'), (0, 'c')])",
                 "sorted(rows, key=len)", "sorted(rows, key=sum)", "max(rows)", "min(rows)",
                 "max([[1, 2], [1, 2, 0]])", "min([[3, [1, 2]], [3, [1, 1]]])", "max(pairs)",
                 "max(big)", "min([[1.0, 2.0], [1.0]])", "max(rows, key=len)",
                 "max([], default=4)", "max(3, 1, 2)", "min('b', 'a')",
                 # arrays among the items: one shape, or pairs Python settles before the
                 # arrays (and whose broadcast is within the limit anyway)
                 "sorted([(2.0, a), (1.0, b)])", "sorted([(2.0, a), (1.0, c)])",
                 "max([(1, a), (0, c)])", "min([[1.0, a], [0.5, b]])", "sorted([[a], [b]])",
                 "max([a], [b])", "sorted([a])", "max([[a]])", "sorted([a, a])",
                 "sorted([{'k': a}, {'k': a}])"]:
        ours = _outcome(lambda: interp.eval(text))
        theirs = _outcome(lambda: eval(text, {"__builtins__": builtins_}, dict(names)))
        assert ours[0] == theirs[0], (text, ours, theirs)
        if ours[0] == "error":
            assert ours[1] is theirs[1], (text, ours, theirs)
        else:
            np.testing.assert_equal(ours[1], theirs[1], err_msg=text)
            assert type(ours[1]) is type(theirs[1]), text


def test_check_ordered_items_follows_the_active_run():
    items = [[np.ones(3000)], [np.ones((3000, 1))]]
    expr_module.check_ordered_items("f()", items)  # outside a run there is nothing to limit

    def f(values: Any) -> int:
        expr_module.check_ordered_items("f()", values)
        return len(values)

    interp = Interpreter({"f": f, "items": items}, limits=Limits(max_array_size=100_000))
    with pytest.raises(ExpressionLimitError, match=r"ordering the items in f\(\)"):
        interp.eval("f(items)")
    interp.limits.max_array_size = 9_000_000
    assert interp.eval("f(items)") == 2


class _BroadcastRecorder(np.ndarray):
    """An array that notes the size of every broadcast it takes part in."""

    sizes: List[int] = []

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        try:
            shape = np.broadcast_shapes(*(np.shape(value) for value in inputs))
            _BroadcastRecorder.sizes.append(math.prod(shape))
        except ValueError:
            pass  # numpy refuses the shapes (or a ragged list) itself
        plain = [value.view(np.ndarray) if isinstance(value, _BroadcastRecorder) else value
                 for value in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def test_ordering_bound_is_never_below_what_numpy_builds():
    # random items nesting arrays, lists and tuples; every broadcast Python's sort, max
    # and min hand to numpy is at most the bound (one shape's own size needs no bound)
    import random

    generator = random.Random(1)
    arrays = [np.zeros(shape).view(_BroadcastRecorder) for shape in [(5,), (5, 1), (1, 5)]]
    leaves = [*arrays, 1.0, 2, [0.0] * 5, [[0.0]] * 5, (1.0, 2.0), [], "s"]

    def item(depth: int) -> Any:
        if depth > 2 or generator.random() < 0.4:
            return generator.choice(leaves)
        members = [item(depth + 1) for _ in range(generator.randint(1, 3))]
        kind = generator.choice([list, tuple, dict])
        return dict(zip("abc", members)) if kind is dict else kind(members)

    checked = 0
    for _ in range(3000):
        items = [item(0) for _ in range(generator.randint(2, 4))]
        found = expr_module._ordering_bound(items)
        bound = 5 if found is None else max(found[0], 5)
        for order in (sorted, max, min):
            _BroadcastRecorder.sizes = []
            try:
                order(items)
            except (TypeError, ValueError):
                pass
            assert all(size <= bound for size in _BroadcastRecorder.sizes), (items, found)
            checked += bool(_BroadcastRecorder.sizes)
    assert checked > 1000
    assert expr_module._ordering_bound([[1.0, 2.0]] * 3) is None
    assert expr_module._ordering_bound([arrays[0], arrays[1]])[0] == 25


def test_block_follows_a_replaced_symtable(interp):
    update = _block(interp, [("c", "a + 1")])
    interp.symtable = dict(interp.symtable, a=10.0)
    update()
    assert interp.symtable["c"] == 11.0


def test_block_with_replaced_function_uses_the_new_one(interp):
    update = _block(interp, [("c", "sqrt(a)")])
    update()
    interp.symtable["sqrt"] = lambda x: -1.0
    update()
    assert interp.symtable["c"] == -1.0


def test_block_with_comprehension_and_text_function(interp):
    interp("def half(x):\n    return x / 2")
    update = _block(interp, [("c", "sum([half(v) for v in (a, b)])")])
    update()
    assert interp.symtable["c"] == 3.5


# --- property tests: agreement with Python's own evaluation ------------------------------------

_FLOAT_NAMES = {"x": 1.5, "y": -0.25, "z": 3.0, "w": 1e-3}


def _float_expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.sampled_from(sorted(_FLOAT_NAMES)),
        st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).map(repr),
        st.integers(min_value=-5, max_value=5).map(str))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "//", "%"]),
                           children).map(lambda t: "(%s %s %s)" % t)
        unary = st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: "(%s%s)" % t)
        call = st.tuples(st.sampled_from(["sin", "cos", "exp", "sqrt", "fabs", "atan", "log1p",
                                          "abs"]), children).map(lambda t: "%s(%s)" % t)
        call2 = st.tuples(st.sampled_from(["max", "min", "hypot", "atan2", "pow", "fmod"]),
                          children, children).map(lambda t: "%s(%s, %s)" % t)
        cond = st.tuples(children, children, children).map(
            lambda t: "(%s if %s > %s else %s)" % (t[0], t[1], t[2], t[0]))
        return st.one_of(binary, unary, call, call2, cond)

    return st.recursive(leaves, extend, max_leaves=12)


def _python_outcome(text: str, namespace: Dict[str, Any]) -> Any:
    try:
        return ("value", eval(text, {"__builtins__": {}, **namespace}))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        return ("error", type(exc))


def _same(ours: Any, theirs: Any) -> bool:
    if ours[0] != theirs[0]:
        return False
    if ours[0] == "error":
        return ours[1] is theirs[1]
    a, b = ours[1], theirs[1]
    if type(a) is not type(b):
        return False
    if isinstance(a, complex):
        return (a == b) or (math.isnan(a.real) and math.isnan(b.real))
    return a == b or (math.isnan(a) and math.isnan(b))


def _our_outcome(call) -> Any:
    try:
        return ("value", call())
    except ExpressionRuntimeError as exc:
        return ("error", type(exc.__cause__))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_float_expressions())
def test_float_expressions_agree_with_python(text):
    namespace = {**default_symbols(), **_FLOAT_NAMES}
    interp = Interpreter(_FLOAT_NAMES)
    compiled = interp.compile_expression(text)
    expected = _python_outcome(text, namespace)
    assert _same(_our_outcome(lambda: interp.evaluate(compiled)), expected), text
    update = interp.compile_block([("result", compiled)])
    assert _same(_our_outcome(lambda: (update(), interp.symtable["result"])[1]), expected), text


def _integer_expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(["i", "j", "k"]),
                       st.integers(min_value=-1000, max_value=1000).map(str))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "//", "%", "&", "|", "^",
                                                      ">>"]),
                           children).map(lambda t: "(%s %s %s)" % t)
        shift = st.tuples(children, st.integers(min_value=0, max_value=64)).map(
            lambda t: "(%s << %d)" % t)
        power = st.tuples(children, st.integers(min_value=0, max_value=4)).map(
            lambda t: "(%s ** %d)" % t)
        unary = st.tuples(st.sampled_from(["-", "~", "not "]), children).map(
            lambda t: "(%s%s)" % t)
        logic = st.tuples(children, st.sampled_from(["and", "or", "<", "==", "!=", ">="]),
                          children).map(lambda t: "(%s %s %s)" % t)
        return st.one_of(binary, shift, power, unary, logic)

    return st.recursive(leaves, extend, max_leaves=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_integer_expressions(), st.integers(-50, 50), st.integers(-50, 50),
       st.integers(-(2 ** 40), 2 ** 40))
def test_integer_expressions_agree_with_python(text, i, j, k):
    values = {"i": i, "j": j, "k": k}
    interp = Interpreter(values)
    expected = _python_outcome(text, values)
    try:
        ours = ("value", interp.eval(text))
    except ExpressionRuntimeError as exc:
        ours = ("error", type(exc.__cause__))
    except ExpressionLimitError:
        # only when Python's own result is a huge integer
        assert expected[0] == "value" and abs(expected[1]).bit_length() > 50_000, text
        return
    assert ours == expected, text
