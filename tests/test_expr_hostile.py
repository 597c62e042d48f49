"""Hostile inputs: escape attempts and resource exhaustion, each refused quickly and cleanly.

Every case runs in a fresh Interpreter inside an empty working directory and
must raise the expected error class with a clear message fragment within one
second, create no file, change no name except the ones the text assigns, and
leave the shared defaults and other interpreters untouched.
"""

from __future__ import annotations

import ast
import math
import os
import time
from typing import Any, Dict, Set, Type

import numpy as np
import pytest

from lmfit_host.errors import (ExpressionError, ExpressionLimitError, ExpressionRuntimeError,
                               ExpressionSyntaxError, UnknownNameError, UnsafeExpressionError)
from lmfit_host.expr import Interpreter, default_symbols

UNSAFE, UNKNOWN, LIMIT = UnsafeExpressionError, UnknownNameError, ExpressionLimitError
SYNTAX, RUNTIME = ExpressionSyntaxError, ExpressionRuntimeError
BUDGET = "Limits."  # every work or time budget message names the Limits attribute to raise

# (id, text, expected error class, message fragment)
ESCAPES = [
    ("dunder-import", "__import__('os').system('touch pwned')", UNSAFE, "not allowed"),
    ("dunder-import-call", "__import__('os')", UNSAFE, "the name '__import__'"),
    ("import-statement", "import os", UNSAFE, "import is not allowed"),
    ("from-import", "from os import system", UNSAFE, "import is not allowed"),
    ("import-in-function", "def f():\n    import os\nf()", UNSAFE, "import is not allowed"),
    ("open-for-write", "open('pwned', 'w').write('x')", UNSAFE, "attribute access"),
    ("open-call", "open('pwned', 'w')", UNKNOWN, "'open'"),
    ("read-file", "open('/etc/passwd')", UNKNOWN, "'open'"),
    ("class-walk", "().__class__.__bases__[0].__subclasses__()", UNSAFE, "attribute access"),
    ("class-walk-str", "''.__class__.__mro__[1]", UNSAFE, "attribute access"),
    ("builtin-self", "sin.__self__", UNSAFE, "attribute access"),
    ("function-globals", "def f():\n    pass\nf.__globals__", UNSAFE, "attribute access"),
    ("code-object", "def f():\n    pass\nf.__code__", UNSAFE, "attribute access"),
    ("frame-from-generator", "(i for i in range(3)).gi_frame.f_back", UNSAFE,
     "attribute access"),
    ("lambda-globals", "(lambda: 0).__globals__", UNSAFE, "not allowed"),
    ("lambda-plain", "f = lambda: 0", UNSAFE, "lambda"),
    ("getattr", "getattr(sin, '__self__')", UNKNOWN, "'getattr'"),
    ("eval", "eval('1 + 1')", UNKNOWN, "'eval'"),
    ("exec", "exec('import os')", UNKNOWN, "'exec'"),
    ("compile", "compile('1', 'x', 'eval')", UNKNOWN, "'compile'"),
    ("globals", "globals()", UNKNOWN, "'globals'"),
    ("locals", "locals()", UNKNOWN, "'locals'"),
    ("vars", "vars()", UNKNOWN, "'vars'"),
    ("type-builtin", "type(1)", UNKNOWN, "'type'"),
    ("object-builtin", "object", UNKNOWN, "'object'"),
    ("breakpoint", "breakpoint()", UNKNOWN, "'breakpoint'"),
    ("exit", "exit()", UNKNOWN, "'exit'"),
    ("input", "input()", UNKNOWN, "'input'"),
    ("print", "print('hi')", UNKNOWN, "'print'"),
    ("builtins-name", "__builtins__", UNSAFE, "'__builtins__'"),
    ("builtins-subscript", "__builtins__['open']('pwned', 'w')", UNSAFE, "'__builtins__'"),
    ("hidden-helper", "__lh_tick()", UNSAFE, "'__lh_tick'"),
    ("single-underscore", "_ = 1", UNSAFE, "underscore"),
    ("dunder-name", "__name__", UNSAFE, "'__name__'"),
    ("underscore-argument", "def f(_x):\n    return _x", UNSAFE, "argument name '_x'"),
    ("underscore-keyword", "dict(__class__=1)", UNSAFE, "keyword argument '__class__'"),
    ("underscore-function", "def __init__():\n    pass", UNSAFE, "function name"),
    ("fstring-attribute", "f'{sin.__self__}'", UNSAFE, "not allowed"),
    ("fstring-format-spec", "f'{1:{10**9}}'", UNSAFE, "f-string"),
    ("str-format-method", "'{0.__class__}'.format(1)", UNSAFE, "attribute access"),
    ("global", "def f():\n    global x\n    x = 1", UNSAFE, "global statement"),
    ("nonlocal", "def f():\n    y = 1\n    def g():\n        nonlocal y\n        y = 2",
     UNSAFE, "nonlocal"),
    ("class", "class A:\n    pass", UNSAFE, "class definition"),
    ("try-traceback", "try:\n    1/0\nexcept Exception as e:\n    t = e", UNSAFE,
     "try statement"),
    ("with-open", "with open('pwned') as f:\n    pass", UNSAFE, "with statement"),
    ("yield", "def g():\n    yield 1", UNSAFE, "yield"),
    ("async", "async def f():\n    pass", UNSAFE, "async function"),
    ("await", "def f():\n    await x", UNSAFE, "await"),
    ("raise", "raise SystemExit", UNSAFE, "raise statement"),
    ("assert", "assert False", UNSAFE, "assert statement"),
    ("walrus", "(y := 5)", UNSAFE, "assignment expression"),
    ("decorator", "@sin\ndef f():\n    pass", UNSAFE, "decorator"),
    ("annotation", "def f(v: open):\n    pass", UNSAFE, "annotation"),
    ("annotated-assign", "y: int = 1", UNSAFE, "annotated assignment"),
    ("match", "match x:\n    case _:\n        pass", UNSAFE, "match statement"),
    ("double-star-call", "dict(**{'a': 1})", UNSAFE, "** unpacking"),
    ("double-star-dict", "{**{'a': 1}}", UNSAFE, "** unpacking"),
    ("bytes-literal", "b'abc'", UNSAFE, "bytes literal"),
    ("ellipsis", "...", UNSAFE, "ellipsis literal"),
    ("matmul", "x @ x", UNSAFE, "@"),
    ("os-attribute", "os.system('ls')", UNSAFE, "attribute access"),
    ("sys-modules", "sys.modules['os']", UNSAFE, "attribute access"),
    ("numpy-savetxt", "savetxt('pwned.txt', [1, 2])", UNKNOWN, "'savetxt'"),
    ("numpy-attribute", "np.savetxt('pwned.txt', [1])", UNSAFE, "attribute access"),
    ("slice-assign", "data[0:0] = data", UNSAFE, "assignment to a slice"),
    ("del-attribute", "del sin.__doc__", UNSAFE, "not allowed"),
    ("del-item", "del data[0]", UNSAFE, "deleting anything but a name"),
    ("starred-builtins", "[*__builtins__]", UNSAFE, "'__builtins__'"),
    ("sorted-key-open", "sorted(['pwned'], key=open)", UNKNOWN, "'open'"),
    ("null-byte", "1\x00", SYNTAX, "invalid"),
    ("return-outside", "return 1", SYNTAX, "outside function"),
    ("unterminated", "'abc", SYNTAX, "invalid syntax"),
]

EXHAUSTION = [
    ("huge-power", "2 ** 10 ** 10", LIMIT, "max_int_bits"),
    ("tower-power", "10 ** 10 ** 10 ** 10", LIMIT, "max_int_bits"),
    ("power-in-function", "pow2 = 2\ndef p(n):\n    return pow2 ** n\np(10 ** 9)", LIMIT,
     "max_int_bits"),
    ("augmented-power-loop", "v = 3\nwhile True:\n    v **= 3", LIMIT, "max_int_bits"),
    ("squaring-loop", "v = 3\nwhile True:\n    v = v * v", LIMIT, "max_int_bits"),
    ("product-of-giants", "(7 ** 50000) * (7 ** 50000)", LIMIT, "max_int_bits"),
    ("huge-shift", "1 << 10 ** 9", LIMIT, "max_int_bits"),
    ("shift-loop", "v = 1\nfor i in range(1000):\n    v = v << 10000", LIMIT, "max_int_bits"),
    ("augmented-shift-loop", "v = 1\nwhile True:\n    v <<= 64", LIMIT, "max_int_bits"),
    ("string-repeat", "'a' * 10 ** 9", LIMIT, "max_length"),
    ("list-repeat", "[0] * 10 ** 9", LIMIT, "max_length"),
    ("tuple-repeat", "(1,) * (1 << 40)", LIMIT, "max_length"),
    ("reversed-repeat", "10 ** 9 * 'ab'", LIMIT, "max_length"),
    ("string-doubling", "s = 'ab'\nwhile True:\n    s = s + s", LIMIT, "max_length"),
    ("augmented-string-doubling", "s = 'ab'\nwhile True:\n    s += s", LIMIT, "max_length"),
    ("list-doubling", "l = [1]\nwhile True:\n    l += l", LIMIT, "max_length"),
    ("list-times-two", "l = [1]\nwhile True:\n    l *= 2", LIMIT, "max_length"),
    ("item-doubling", "l = ['ab']\nwhile True:\n    l[0] += l[0]", LIMIT, "max_length"),
    ("string-growth", "s = ''\nfor i in range(10 ** 6):\n    s = s + 'xxxxxxxxxx'", LIMIT,
     BUDGET),
    ("concatenate-giants", "[0] * 10 ** 6 + [0] * 10 ** 6", LIMIT, "max_length"),
    ("format-width", "'%999999999d' % 1", LIMIT, "max_length"),
    ("format-star-width", "'%*d' % (10 ** 9, 1)", LIMIT, "'*' widths"),
    ("format-many", "('%s' * 100000) % (('x' * 1000,) * 100000)", LIMIT, "max_length"),
    ("format-nested", "t = ()\nfor i in range(60):\n    t = (t, t)\n'%s' % (t,)", LIMIT,
     "numbers and strings only"),
    ("range-list", "list(range(10 ** 12))", LIMIT, "max_length"),
    ("range-len", "len(range(10 ** 100))", LIMIT, "max_length"),
    ("range-comprehension", "[i for i in range(10 ** 12)]", LIMIT, "max_length"),
    ("range-sorted", "sorted(range(10 ** 7))", LIMIT, "max_length"),
    ("range-unpack", "first, *rest = range(10 ** 8)", LIMIT, "max_length"),
    ("nested-comprehension", "[[j for j in range(10 ** 5)] for i in range(10 ** 5)]", LIMIT,
     BUDGET),
    ("generator-sum", "sum(1 for i in range(10 ** 6) for j in range(10 ** 6))", LIMIT, BUDGET),
    ("comprehension-of-big-lists", "[[0] * 10 ** 6 for i in range(1000)]", LIMIT, BUDGET),
    ("starred-lists", "[[*range(10 ** 6)] for i in range(1000)]", LIMIT, BUDGET),
    ("kept-slices", "big = list(range(10 ** 6))\nkeep = [big[:] for i in range(10 ** 4)]",
     LIMIT, BUDGET),
    ("kept-slices-loop", "big = list(range(10 ** 6))\nkeep = []\nwhile True:\n"
     "    keep += [big[:]]", LIMIT, BUDGET),
    ("zip-transpose-bomb", "list(zip(*[range(10 ** 6)] * 10 ** 6))", LIMIT, BUDGET),
    ("infinite-while", "while True:\n    pass", LIMIT, BUDGET),
    ("infinite-while-one", "while 1:\n    y = 1", LIMIT, BUDGET),
    ("nested-for", "for i in range(10 ** 6):\n    for j in range(10 ** 6):\n        pass", LIMIT,
     BUDGET),
    ("growing-dict", "d = {}\ni = 0\nwhile True:\n    d[i] = i\n    i += 1", LIMIT, BUDGET),
    ("nesting-lists", "y = []\nwhile True:\n    y = [y, y]", LIMIT, BUDGET),
    ("slow-membership", "big = list(range(10 ** 6))\nwhile True:\n    -1 in big", LIMIT,
     BUDGET),
    ("deep-recursion", "def f(n):\n    return f(n + 1)\nf(0)", LIMIT, "max_recursion"),
    ("mutual-recursion", "def f(n):\n    return g(n)\ndef g(n):\n    return f(n)\nf(0)", LIMIT,
     "max_recursion"),
    ("exponential-recursion", "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nf(60)",
     LIMIT, BUDGET),
    ("factorial-huge", "factorial(10 ** 6)", LIMIT, "factorial"),
    ("factorial-float", "factorial(1e300)", LIMIT, "factorial"),
    ("factorial-loop", "v = 0\nwhile True:\n    v = factorial(4000)", LIMIT, BUDGET),
    ("compare-shared-rows", "[[0] * 10 ** 6] * 10 ** 6 == [[0] * 10 ** 6] * 10 ** 6", LIMIT,
     "max_work"),
    ("hash-tuple-dag", "t = ()\nfor i in range(100):\n    t = (t, t)\n{t}", LIMIT, "max_work"),
    ("dict-key-dag", "t = ()\nfor i in range(100):\n    t = (t, t)\n{}.get", UNSAFE,
     "attribute access"),
    ("subscript-dag", "t = ()\nfor i in range(100):\n    t = (t, t)\nd = {}\nd[t] = 1", LIMIT,
     "max_work"),
    ("max-of-dags", "t = ()\nfor i in range(100):\n    t = (t, t)\nmax(t, t)", LIMIT,
     "comparing"),
    ("sorted-dag-keys", "t = ()\nfor i in range(100):\n    t = (t, t)\nsorted([1, 2], "
     "key=lambda v: t)", UNSAFE, "lambda"),
    ("self-containing", "l = [0]\nl[0] = l\nl == [l]", LIMIT, "holds itself"),
    ("source-too-long", "1 + " * 40000 + "1", LIMIT, "max_source_length"),
    ("deep-parentheses", "(" * 5000 + "1" + ")" * 5000, SYNTAX, "parenthes"),
    ("deep-unary", "-" * 90000 + "1", LIMIT, "nested too deeply"),
    ("round-to-huge-digits", "y = round(5, -10 ** 9)\nround(y, 'x')", RUNTIME, "TypeError"),
    ("float-pow-overflow", "pow(10, 10 ** 10)", RUNTIME, "OverflowError"),
    ("sum-of-lists", "sum([[0] * 1000] * 1000, [])", RUNTIME, "sum()"),
]


def _assigned_names(text: str) -> Set[str]:
    """Names a text may legitimately bind before it is stopped."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def _run_hostile(text: str, error: Type[ExpressionError], fragment: str, tmp_path: Any,
                 monkeypatch: pytest.MonkeyPatch, arrays: bool = False) -> None:
    monkeypatch.chdir(tmp_path)
    defaults_before = default_symbols(arrays)
    interp = Interpreter({"x": 1.5, "data": [1.0, 2.0]}, arrays=arrays)
    before: Dict[str, Any] = dict(interp.symtable)
    start = time.perf_counter()
    with pytest.raises(error) as info:
        interp(text)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert fragment in message, message
    # refused within a few budgets of 0.5 s (left alone, each would run for minutes or
    # forever); the slack covers a loaded machine, where wall time stretches
    assert elapsed < 2.0, "took %.2f s" % elapsed
    assert os.listdir(tmp_path) == []
    allowed = _assigned_names(text)
    for name, value in before.items():
        if name not in allowed:
            assert interp.symtable.get(name) is value, name
    assert set(interp.symtable) - set(before) <= allowed
    assert interp.symtable["data"] == [1.0, 2.0]
    assert default_symbols(arrays).keys() == defaults_before.keys()
    assert all(default_symbols(arrays)[name] is value
               for name, value in defaults_before.items())
    # the interpreter and fresh ones still work normally afterwards
    assert interp.eval("x * 2") == 3.0
    assert Interpreter().eval("sin(pi / 2)") == 1.0


@pytest.mark.parametrize("text, error, fragment",
                         [case[1:] for case in ESCAPES], ids=[case[0] for case in ESCAPES])
def test_escape_attempt_is_refused(text, error, fragment, tmp_path, monkeypatch):
    _run_hostile(text, error, fragment, tmp_path, monkeypatch)


@pytest.mark.parametrize("text, error, fragment",
                         [case[1:] for case in EXHAUSTION], ids=[case[0] for case in EXHAUSTION])
def test_resource_exhaustion_is_refused(text, error, fragment, tmp_path, monkeypatch):
    _run_hostile(text, error, fragment, tmp_path, monkeypatch)


ARRAY_CASES = [
    ("numpy-out-keyword", "sin(x, out=x)", UNSAFE, "keyword argument 'out'"),
    ("numpy-savetxt-arrays", "savetxt('pwned.txt', x)", UNKNOWN, "'savetxt'"),
    ("numpy-tofile", "x.tofile('pwned.bin')", UNSAFE, "attribute access"),
    ("broadcast-bomb", "big = x * [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-power-bomb", "big = x ** [[v] for v in x]", LIMIT, "max_array_size"),
    ("format-array", "'%999999999d' % x", LIMIT, "numbers and strings only"),
    ("broadcast-sum-bomb", "big = [[v] for v in x] + x", LIMIT, "max_array_size"),
    ("broadcast-difference-bomb", "big = x - [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-quotient-bomb", "big = x / [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-floor-quotient-bomb", "big = x // [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-comparison-bomb", "big = x < [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-equality-bomb", "big = x == [[v] for v in x]", LIMIT, "max_array_size"),
    ("broadcast-bitwise-bomb", "big = (x > 0.5) | [[v > 0.5] for v in x]", LIMIT,
     "max_array_size"),
    ("broadcast-membership-bomb", "big = [[v] for v in x] in x", LIMIT, "max_array_size"),
    ("broadcast-membership-list-bomb", "big = x in [[[v] for v in x], 0]", LIMIT,
     "max_array_size"),
    ("broadcast-chain-bomb", "big = x < [[v] for v in x] < 2", LIMIT, "max_array_size"),
    ("broadcast-in-place-bomb", "big = [[v] for v in x]\nbig -= x", LIMIT, "max_array_size"),
    ("broadcast-in-place-item-bomb", "big = {'k': [[v] for v in x]}\nbig['k'] /= x", LIMIT,
     "max_array_size"),
    ("broadcast-function-bomb", "big = atan2(x, [[v] for v in x])", LIMIT, "max_array_size"),
    ("broadcast-pow-function-bomb", "big = pow([[v] for v in x], x)", LIMIT, "max_array_size"),
    ("broadcast-keyword-function-bomb", "big = hypot(x, x2=[[v] for v in x])", LIMIT,
     "max_array_size"),
    ("broadcast-max-bomb", "big = max(x, [[v] for v in x])", LIMIT, "max_array_size"),
    ("broadcast-sum-of-list-bomb", "big = sum([x, [[v] for v in x]])", LIMIT, "max_array_size"),
    ("broadcast-sum-of-generator-bomb", "big = sum(a for a in (x, [[v] for v in x]))", LIMIT,
     "max_array_size"),
    # fancy indexing copies what the index arrays select: rows of a 2-D view, pairs of
    # broadcast index arrays, a short list of long ranges (each refused before numpy converts)
    ("fancy-index-rows-bomb", "big = x[None][[0] * 200]", LIMIT, "max_array_size"),
    # a nested list of booleans is a mask of all its dimensions: the slice after it falls
    # on the long axis, not on the one a one-dimension reading would give it
    ("fancy-index-nested-mask-bomb", "big = x[None, None, :, None][[[True]], 1:, [[0]] * 200]",
     LIMIT, "max_array_size"),
    # where= of a one-input function broadcasts against its input
    ("broadcast-where-bomb", "big = exp(x, where=[[True]] * 200)", LIMIT, "max_array_size"),
    ("fancy-index-slice-bomb", "big = x[None][[0] * 200, :]", LIMIT, "max_array_size"),
    ("fancy-index-pair-bomb", "n = (x[:4000] > 2) * 1\nbig = x[None][n[:, None], n[None, :]]",
     LIMIT, "max_array_size"),
    ("fancy-index-ranges-bomb", "big = x[[range(10 ** 5)] * 200]", LIMIT, "max_array_size"),
    ("fancy-index-in-place-bomb", "v = x[None]\nv[[0] * 200] += 1.0", LIMIT,
     "max_array_size"),
    # a store through index arrays walks their broadcast (and broadcasts the value to it):
    # checked as a read is, in a single target, a target list, a loop target, and after
    # the value of an augmented store (whose text may grow a list key in place)
    ("store-index-pair-bomb", "v = x[:10, None] * x[None, :10]\n"
     "n = (x[:4000] > 2) * 1\na = n[:, None]\nb = n[None, :]\nv[a, b] = 0.0", LIMIT,
     "max_array_size"),
    ("store-index-rows-bomb", "v = x[None] * 1.0\nv[[0] * 200] = 1.0", LIMIT, "max_array_size"),
    ("store-index-target-list-bomb", "v = x[None] * 1.0\nv[[0] * 200], n = 1.0, 2", LIMIT,
     "max_array_size"),
    ("store-index-loop-target-bomb", "v = x[None] * 1.0\nfor v[[0] * 200] in [1.0]:\n    pass",
     LIMIT, "max_array_size"),
    ("store-index-in-place-number-bomb", "v = x[:10, None] * x[None, :10]\n"
     "n = (x[:4000] > 2) * 1\na = n[:, None]\nb = n[None, :]\nv[a, b] -= 1", LIMIT,
     "max_array_size"),
    ("store-index-grown-key-bomb", "v = x[None] * 1.0\nkey = [0]\nbox = [key]\n"
     "def grow():\n    box[0] += [0] * 200\n    return 1.0\nv[key] += grow()", LIMIT,
     "max_array_size"),
    # comparing containers compares their items pair by pair: numpy broadcasts each pair
    # of arrays in full before Python finds the result ambiguous
    ("compare-list-of-arrays-bomb", "big = [x[:4000]] == [x[:4000, None]]", LIMIT,
     "max_array_size"),
    ("compare-tuple-of-arrays-bomb", "big = (x[:4000],) < (x[:4000, None],)", LIMIT,
     "max_array_size"),
    ("compare-nested-lists-bomb", "big = [[1.0, x[:4000]]] != [[1.0, x[:4000, None]]]",
     LIMIT, "max_array_size"),
    ("compare-dict-of-arrays-bomb", "big = {'k': x[:4000]} == {'k': x[:4000, None]}", LIMIT,
     "max_array_size"),
    ("compare-chain-of-lists-bomb", "big = 1 < 2 != [x[:4000]] == [x[:4000, None]]", LIMIT,
     "max_array_size"),
    ("compare-membership-of-lists-bomb", "big = [x[:4000]] in [0, [x[:4000, None]]]", LIMIT,
     "max_array_size"),
    # sorted, max and min compare their items two at a time (lists and tuples item by item):
    # checked from the shapes found at each depth of the items before any comparison
    ("sorted-arrays-bomb", "big = sorted([x[:4000], x[:4000, None]])", LIMIT, "max_array_size"),
    ("sorted-lists-of-arrays-bomb", "big = sorted([[x[:4000]], [x[:4000, None]]])", LIMIT,
     "max_array_size"),
    ("sorted-tuples-of-arrays-bomb", "big = sorted([(1.0, x[:4000]), (1.0, x[:4000, None])])",
     LIMIT, "max_array_size"),
    ("sorted-key-bomb", "def k(v):\n    return [x[:4000, None]] if v else [x[:4000]]\n"
     "big = sorted([0, 1], key=k)", LIMIT, "max_array_size"),
    ("max-of-lists-bomb", "big = max([[x[:4000]], [x[:4000, None]]])", LIMIT, "max_array_size"),
    ("min-of-padded-lists-bomb", "big = min([1.0, x[:4000]], [1.0, x[:4000, None]])", LIMIT,
     "max_array_size"),
    ("max-key-bomb", "big = max([[x[:4000]], [x[:4000, None]]], key=tuple)", LIMIT,
     "max_array_size"),
]


@pytest.mark.parametrize("text, error, fragment", [case[1:] for case in ARRAY_CASES],
                         ids=[case[0] for case in ARRAY_CASES])
def test_array_interpreter_attack_is_refused(text, error, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.linspace(0.0, 1.0, 10 ** 5)
    interp = Interpreter({"x": x}, arrays=True)
    # the size checks must refuse these, not the clock: some first build a list of 10**5
    # items (0.15 s alone, several times that on a loaded machine), so the time budget
    # is set well above that and the wall-time guard above the budget
    interp.limits.time_budget = 5.0
    start = time.perf_counter()
    with pytest.raises(error, match=fragment.replace("*", r"\*")):
        interp(text)
    assert time.perf_counter() - start < 10.0
    assert os.listdir(tmp_path) == []
    assert interp.symtable["x"] is x and x[-1] == 1.0


def test_constraint_expression_attack_names_its_parameter():
    interp = Interpreter({"a": 1.0})
    compiled = interp.compile_expression("a * 10 ** 10 ** 10", owner="evil")
    start = time.perf_counter()
    with pytest.raises(ExpressionLimitError, match="parameter 'evil'"):
        interp.evaluate(compiled)
    assert time.perf_counter() - start < 1.0


def test_constraint_block_attack_names_its_parameter():
    interp = Interpreter({"a": 1.0, "s": "ab"})
    c = interp.compile_expression
    update = interp.compile_block([("b", c("2 * a", owner="b")),
                                   ("evil", c("s * 10 ** 9", owner="evil"))])
    with pytest.raises(ExpressionLimitError, match="parameter 'evil'"):
        update()


def test_hostile_set_is_large_enough():
    assert len(ESCAPES) + len(EXHAUSTION) + len(ARRAY_CASES) >= 60


def test_text_cannot_reach_shared_math_functions():
    first, second = Interpreter(), Interpreter()
    first("sqrt = 0\nfactorial = 1\nmax = min")
    assert second.eval("sqrt(4) + factorial(3) + max(1, 2)") == 10.0
    assert math.sqrt(4) == 2.0


@pytest.mark.parametrize("text", [
    "sorted([[1]*999999]*999999, key=sum)",
    "max([5000]*20000, key=factorial)",
    "min([5000]*999999, key=factorial)",
    "sum([sum([1]*999999) for i in range(999999)])",
])
def test_costly_keys_and_sums_meet_the_run_budget(text):
    import time as _time

    from lmfit_host import ExpressionLimitError, Interpreter

    interp = Interpreter()
    started = _time.perf_counter()
    with pytest.raises(ExpressionLimitError):
        interp(text)
    assert _time.perf_counter() - started < 2.0
