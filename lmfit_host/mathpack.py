"""The core function pack: the seed's math functions and constants for expressions.

Every constraint expression and every :class:`~lmfit_host.expr.Interpreter`
sees these names unless a plugin layer replaces the set. Each name has a
scalar version, taken from :mod:`math` because constraint expressions are
float arithmetic on the fit's hot path, and an array version from numpy for
interpreters built with ``arrays=True`` (models evaluated on whole arrays).
``max``, ``min`` and ``fsum`` keep Python's semantics, as the seed documents
them, with one exception in the array versions: ``max``/``min`` of several
arguments of which one is an array is element-wise (``max(a*x, 0)`` clips a
model at zero), as numpy's ``maximum``/``minimum`` reduced over the arguments.

Expressions written for lmfit use numpy's spellings, so the pack has them
too: ``arctan`` is ``atan`` (and ``arcsin``, ``arccos``, ``arctan2``,
``arcsinh``, ``arccosh``, ``arctanh``, ``deg2rad``, ``rad2deg``, ``power``
likewise), and ``log2``, ``sign``, ``square``, ``maximum``, ``minimum``,
``clip``, ``where``, ``mean``, ``real``, ``imag`` and lmfit's ``gamfcn``
(the Gamma function) behave as numpy's (SciPy's) functions of those names.
Of :mod:`math` the pack leaves out only what works on whole integers or
sequences (``comb``, ``perm``, ``gcd``, ``lcm``, ``isqrt``, ``prod``,
``dist``: integer results grow without bound, which an expression must not
be able to ask for), the float inspection helpers ``nextafter``, ``ulp``
and ``remainder``, and two names that formulas use for parameters:
``gamma`` (a line width; lmfit's ``gamfcn`` is the function) and ``tau``
(a decay time: ``amp*exp(-x/tau)`` must give a parameter ``tau``).
On numbers they run as plain Python and give Python numbers; given arrays
(or lists) they hand them to numpy, after the same size checks as the
array interpreters make.

The module is also a pluggy plugin (entry point ``math`` in the
``lmfit_host`` group)::

    >>> from lmfit_host import mathpack
    >>> mathpack.SYMBOLS["sqrt"].value(16.0)
    4.0
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
import operator
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from lmfit_host.errors import ExpressionLimitError
from lmfit_host.expr import (_MIXED, Symbol, _weigh, charge_current_run,
                             check_broadcast_arguments, check_ordered_items)
from lmfit_host.hookspecs import hookimpl

ORIGIN = "lmfit-host math pack"
"""The origin recorded for every symbol of this pack."""

MAX_FACTORIAL_ARGUMENT = 5000
"""Largest n accepted by ``factorial``: 5000! already has 16326 digits."""


def _factorial_argument(value: Any) -> int:
    """Turn an integral number (int, or a float such as a parameter value 5.0) into an int."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        # typeshed's numbers.Real lacks __int__; no cast() call: this runs per evaluation
        return int(value)  # type: ignore[call-overload]
    raise ValueError("factorial() only accepts integral values, got %r" % (value,))


def factorial(n: Any) -> int:
    """n! for a non-negative integral n (an int or a float like 5.0), bounded.

    n above :data:`MAX_FACTORIAL_ARGUMENT` raises ExpressionLimitError, so an
    expression cannot spend minutes building a number with millions of digits.

        >>> factorial(5.0)
        120
    """
    k = _factorial_argument(n)
    if k > MAX_FACTORIAL_ARGUMENT:
        raise ExpressionLimitError(
            "factorial(%d) is above the limit of factorial(%d) "
            "(lmfit_host.mathpack.MAX_FACTORIAL_ARGUMENT); use lgamma(n + 1) style "
            "float arithmetic for large n" % (k, MAX_FACTORIAL_ARGUMENT))
    if k > 100:
        charge_current_run(k)  # its cost grows with k: many calls must meet the run's budgets
    return math.factorial(k)


def factorial_array(n: Any) -> Any:
    """Element-wise factorial of an array as floats (Gamma(n + 1)); a scalar gives factorial(n)."""
    values = np.asarray(n)
    if values.ndim == 0:
        return factorial(values.item())
    if values.size and (np.any(values < 0) or np.any(values != np.floor(values))):
        raise ValueError("factorial() is only defined for non-negative integral values")
    from scipy.special import gamma  # imported on first use: scipy.special is slow to import

    return gamma(values + 1.0)


MAX_COMPARED_ITEMS = 5_000_000
"""Largest nested size (repeats counted) that ``max`` and ``min`` compare."""

_FLAT_ITERABLES = (str, bytes, range, np.ndarray)


def _extreme(pick: Callable[..., Any], name: str, args: Tuple[Any, ...],
             kwargs: Dict[str, Any]) -> Any:
    """max/min with Python's semantics, after weighing what will be compared (and, when
    arrays are among it, checking what numpy may broadcast: see check_ordered_items)."""
    if not args:
        raise TypeError("%s expected at least 1 argument, got 0" % name)
    items: Any = args[0] if len(args) == 1 else args
    if not isinstance(items, _FLAT_ITERABLES):
        if not isinstance(items, (list, tuple, set, frozenset, dict)):
            items = list(items)
        key = kwargs.get("key")
        if key is None:
            if _weigh(items, MAX_COMPARED_ITEMS)[1] == _MIXED:  # numbers and strings pay nothing
                check_ordered_items("%s()" % name, items)
        else:
            # the keys are what gets compared: weigh them, then pick by index
            members = items if isinstance(items, (list, tuple)) else list(items)
            keys = []
            for member in members:
                charge_current_run(1)  # each key call is work (it may be a costly function)
                keys.append(key(member))
            if _weigh(keys, MAX_COMPARED_ITEMS)[1] == _MIXED:
                check_ordered_items("%s()" % name, keys)
            if not members:
                return pick(members, **kwargs)
            options = {k: v for k, v in kwargs.items() if k != "key"}
            return members[pick(range(len(members)), key=keys.__getitem__, **options)]
    return pick(items, **kwargs)


def max_(*args: Any, **kwargs: Any) -> Any:
    """max(a, b, ...) or max(iterable, key=None, default=...), with Python's semantics.

    Two floats take a fast path; nested containers are weighed first so that
    comparing them cannot run for hours.

        >>> max_(1.0, 3.0, 2.0)
        3.0
    """
    if len(args) == 2 and not kwargs:
        first, second = args
        if type(first) in _FLOATS and type(second) in _FLOATS:
            return second if second > first else first
    return _extreme(builtins.max, "max", args, kwargs)


def min_(*args: Any, **kwargs: Any) -> Any:
    """min(a, b, ...) or min(iterable, key=None, default=...), with Python's semantics.

        >>> min_([4, 2, 8])
        2
    """
    if len(args) == 2 and not kwargs:
        first, second = args
        if type(first) in _FLOATS and type(second) in _FLOATS:
            return second if second < first else first
    return _extreme(builtins.min, "min", args, kwargs)


max_.__name__ = max_.__qualname__ = "max"
min_.__name__ = min_.__qualname__ = "min"
_FLOATS = frozenset({float, int, np.float64})

MAX_BROADCAST_ELEMENTS = 10_000_000
"""Largest array the element-wise ``max``/``min`` build by broadcasting several arrays."""


def _element_wise(ufunc: Any, scalar: Callable[..., Any], name: str, args: Tuple[Any, ...],
                  kwargs: Dict[str, Any]) -> Any:
    """``ufunc`` reduced over several arguments when one is an array, else ``scalar``'s semantics."""
    if len(args) < 2 or kwargs:
        return scalar(*args, **kwargs)
    arrays = [arg for arg in args if isinstance(arg, np.ndarray) and arg.ndim > 0]
    if not arrays:
        return scalar(*args)
    if len(arrays) > 1:
        # arrays of shapes (n, 1) and (1, n) would build n*n elements: weigh them first
        try:
            shape = np.broadcast_shapes(*(np.shape(arg) for arg in args))
        except ValueError:
            shape = ()  # numpy reports the mismatch itself below
        if math.prod(shape) > MAX_BROADCAST_ELEMENTS:
            raise ExpressionLimitError(
                "%s() would broadcast its arguments to shape %s, more than %d elements "
                "(lmfit_host.mathpack.MAX_BROADCAST_ELEMENTS)" % (name, shape,
                                                                    MAX_BROADCAST_ELEMENTS))
    return functools.reduce(ufunc, args)


def max_array(*args: Any, **kwargs: Any) -> Any:
    """max for array expressions: element-wise over several arguments when one is an array.

    ``max(a, b, ...)`` with an array among the arguments is numpy's
    ``maximum`` reduced over them (broadcasting; a NaN anywhere gives NaN at
    that point); one iterable argument, ``key=`` or ``default=``, or only
    scalars keep Python's semantics (:func:`max_`).

        >>> max_array(np.array([-1.0, 2.0]), 0)
        array([0., 2.])
    """
    return _element_wise(np.maximum, max_, "max", args, kwargs)


def min_array(*args: Any, **kwargs: Any) -> Any:
    """min for array expressions: element-wise over several arguments when one is an array.

        >>> min_array(np.array([-1.0, 2.0]), 0)
        array([-1.,  0.])
    """
    return _element_wise(np.minimum, min_, "min", args, kwargs)


max_array.__name__ = max_array.__qualname__ = "max"
min_array.__name__ = min_array.__qualname__ = "min"


def log_array(x: Any, base: Optional[float] = None) -> Any:
    """Natural logarithm of an array, or the logarithm to ``base`` as ``math.log`` allows."""
    if base is None:
        return np.log(x)
    return np.log(x) / np.log(base)


# --- numpy's spellings: Python on numbers, numpy (checked) on anything else ----------------

#: Exact types the numpy-named functions handle as plain Python numbers.
_REAL_NUMBERS = frozenset({float, int, bool, np.float64})
#: Conditions ``where`` tests as plain Python values.
_CONDITIONS = _REAL_NUMBERS | {np.bool_}


def _with_numpy(name: str, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` for arguments that are not plain numbers (arrays, lists, numpy
    scalars), refused first if numpy would build more than the run's
    ``Limits.max_array_size`` elements from them: scalar interpreters do not wrap their
    functions, so these functions check for themselves."""
    check_broadcast_arguments("%s()" % name, args)
    return function(*args)


def sign(x: Any) -> Any:
    """-1.0, 0.0 or 1.0 as ``x`` is negative, zero or positive (nan for nan), as numpy's.

        >>> sign(-2.5), sign(0), sign(3)
        (-1.0, 0.0, 1.0)
    """
    if type(x) in _REAL_NUMBERS:
        if x > 0:
            return 1.0
        if x < 0:
            return -1.0
        return 0.0 if x == 0 else math.nan
    return _with_numpy("sign", np.sign, x)


def square(x: Any) -> Any:
    """``x*x`` as a float (numbers are squared as floats: an integer cannot grow without
    bound, as for ``pow``); arrays and complex numbers as numpy's ``square``.

        >>> square(1.5), square(3)
        (2.25, 9.0)
    """
    if type(x) is float:
        return x * x
    if type(x) in _REAL_NUMBERS:
        value = float(x)
        return value * value
    return _with_numpy("square", square_array, x)


def square_array(x: Any) -> Any:
    """numpy's ``square``, for namespaces of arrays; Python integers, and integers beyond
    int64 (numpy's object arrays), are squared as floats, as :func:`square` squares
    them: an integer cannot grow without bound.

        >>> square_array(3), square_array([2, 3]).tolist(), square_array([10**20]).tolist()
        (9.0, [4, 9], [1e+40])
    """
    if type(x) in _REAL_NUMBERS:
        return square(x)
    values = np.asarray(x)
    if values.dtype == object:
        values = values.astype(float)  # an integer beyond a float raises OverflowError
    return np.square(values)


def maximum(a: Any, b: Any) -> Any:
    """The larger of two values, nan when either is nan (numpy's ``maximum``; ``max``
    skips a nan that comes second).

        >>> maximum(2.0, 3.0), maximum(float('nan'), 1.0)
        (3.0, nan)
    """
    if type(a) in _REAL_NUMBERS and type(b) in _REAL_NUMBERS:
        if a != a:
            return a
        if b != b:
            return b
        return a if a > b else b
    return _with_numpy("maximum", np.maximum, a, b)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of two values, nan when either is nan (numpy's ``minimum``).

        >>> minimum(2.0, 3.0)
        2.0
    """
    if type(a) in _REAL_NUMBERS and type(b) in _REAL_NUMBERS:
        if a != a:
            return a
        if b != b:
            return b
        return a if a < b else b
    return _with_numpy("minimum", np.minimum, a, b)


def clip(a: Any, a_min: Any, a_max: Any) -> Any:
    """``a`` limited to [a_min, a_max] (``minimum(maximum(a, a_min), a_max)``, as numpy's
    ``clip``); a bound of None is no bound.

        >>> clip(1.7, 0.0, 1.0), clip(-3, 0, None)
        (1.0, 0)
    """
    if type(a) in _REAL_NUMBERS and (a_min is None or type(a_min) in _REAL_NUMBERS) \
            and (a_max is None or type(a_max) in _REAL_NUMBERS):
        if a_min is not None:
            a = maximum(a, a_min)
        if a_max is not None:
            a = minimum(a, a_max)
        return a
    return _with_numpy("clip", np.clip, a, a_min, a_max)


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (numpy's ``where``; on numbers, ``x if
    condition else y``).

        >>> where(2.0 > 1.0, 2.0, 0.0)
        2.0
    """
    if type(condition) in _CONDITIONS and type(x) in _REAL_NUMBERS \
            and type(y) in _REAL_NUMBERS:
        return x if condition else y
    return _with_numpy("where", np.where, condition, x, y)


def mean(values: Any, axis: Optional[int] = None) -> Any:
    """The arithmetic mean of numbers (a list, a tuple, a generator) or of an array, as
    numpy's ``mean``; numbers are summed exactly (``fsum``), nan when there are none.

        >>> mean([1.0, 2.0, 4.5])
        2.5
    """
    if axis is None and not isinstance(values, np.ndarray):
        if type(values) in _REAL_NUMBERS:
            return float(values)
        items = values if isinstance(values, (list, tuple)) else list(values)
        charge_current_run(len(items))
        if set(map(type, items)) <= _REAL_NUMBERS:
            return math.fsum(items) / len(items) if items else math.nan
        values = items
    check_broadcast_arguments("mean()", (values,))
    return np.mean(values, axis=axis)


def real(x: Any) -> Any:
    """The real part of a number or an array (numpy's ``real``).

        >>> real(2.5), real(1 + 2j)
        (2.5, 1.0)
    """
    if type(x) in _REAL_NUMBERS or type(x) is complex:
        return x.real
    return _with_numpy("real", np.real, x)


def imag(x: Any) -> Any:
    """The imaginary part of a number or an array (numpy's ``imag``).

        >>> imag(2.5), imag(1 + 2j)
        (0.0, 2.0)
    """
    if type(x) in _REAL_NUMBERS or type(x) is complex:
        return x.imag
    return _with_numpy("imag", np.imag, x)


def gamfcn(x: Any) -> Any:
    """The Gamma function, lmfit's ``gamfcn``: ``math.gamma`` with SciPy's values where
    it raises (inf at 0 and past 171.6, nan at the negative integers and -inf).

        >>> gamfcn(5.0), gamfcn(0.0), gamfcn(-2.0)
        (24.0, inf, nan)
    """
    try:
        return math.gamma(x)
    except OverflowError:
        return math.copysign(math.inf, x)   # x above 171.6, or within 1e-308 of zero
    except ValueError:
        if x == 0:
            return math.copysign(math.inf, x)
        return math.nan                     # the poles at the negative integers, and -inf
    except TypeError:
        return _with_numpy("gamfcn", gamfcn_array, x)


def gamfcn_array(x: Any) -> Any:
    """The Gamma function of an array (SciPy's ``gamma``; complex arguments too)."""
    from scipy.special import gamma  # imported on first use: scipy.special is slow to import

    return gamma(x)


# name -> (scalar version, array version or None when the scalar one handles arrays too)
def _cbrt(x: float) -> float:
    """The real cube root (``math.cbrt`` before Python 3.11)."""
    root = abs(float(x)) ** (1.0 / 3.0)
    return math.copysign(root, x)


def _exp2(x: float) -> float:
    """``2 ** x`` (``math.exp2`` before Python 3.11)."""
    return math.pow(2.0, x)


def isclose_array(a: Any, b: Any, *, rel_tol: float = 1e-9, abs_tol: float = 0.0) -> Any:
    """``math.isclose`` element-wise: ``|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)``
    (numpy's own ``isclose`` has other defaults and is not symmetric).

    >>> isclose_array(np.array([1.0, 1.0, np.inf]), np.array([1.0 + 1e-12, 1.000001, np.inf])
    ...               ).tolist()
    [True, False, True]
    """
    if rel_tol < 0.0 or abs_tol < 0.0:
        raise ValueError("tolerances must be non-negative")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        # equal values (infinities included) are close; an infinity is close to nothing else
        near = np.abs(a - b) <= np.maximum(rel_tol * np.maximum(np.abs(a), np.abs(b)), abs_tol)
        return (a == b) | (near & np.isfinite(a) & np.isfinite(b))


def _special(name: str) -> Callable[..., Any]:
    """SciPy's ``scipy.special.<name>`` for arrays, imported when first called."""
    def function(x: Any) -> Any:
        import scipy.special

        return getattr(scipy.special, name)(x)

    function.__name__ = name
    return function


_FUNCTIONS: Dict[str, Tuple[Callable[..., Any], Optional[Callable[..., Any]]]] = {
    "abs": (builtins.abs, None),
    "acos": (math.acos, np.arccos),
    "acosh": (math.acosh, np.arccosh),
    "asin": (math.asin, np.arcsin),
    "asinh": (math.asinh, np.arcsinh),
    "atan": (math.atan, np.arctan),
    "atan2": (math.atan2, np.arctan2),
    "atanh": (math.atanh, np.arctanh),
    "ceil": (math.ceil, np.ceil),
    "copysign": (math.copysign, np.copysign),
    "cos": (math.cos, np.cos),
    "cosh": (math.cosh, np.cosh),
    "degrees": (math.degrees, np.degrees),
    "exp": (math.exp, np.exp),
    "fabs": (math.fabs, np.fabs),
    "factorial": (factorial, factorial_array),
    "floor": (math.floor, np.floor),
    "fmod": (math.fmod, np.fmod),
    "frexp": (math.frexp, np.frexp),
    "fsum": (math.fsum, None),
    "hypot": (math.hypot, np.hypot),
    "isinf": (math.isinf, np.isinf),
    "isnan": (math.isnan, np.isnan),
    "ldexp": (math.ldexp, np.ldexp),
    "log": (math.log, log_array),
    "log10": (math.log10, np.log10),
    "log1p": (math.log1p, np.log1p),
    "max": (max_, max_array),
    "min": (min_, min_array),
    "modf": (math.modf, np.modf),
    # math.pow, not the builtin: it works on floats, so 10**10**10 style growth is impossible.
    "pow": (math.pow, np.power),
    "radians": (math.radians, np.radians),
    "sin": (math.sin, np.sin),
    "sinh": (math.sinh, np.sinh),
    "sqrt": (math.sqrt, np.sqrt),
    "tan": (math.tan, np.tan),
    "tanh": (math.tanh, np.tanh),
    "trunc": (math.trunc, np.trunc),
    # numpy's (and lmfit's) spellings that have no math twin; see the module docstring
    "clip": (clip, None),
    "gamfcn": (gamfcn, gamfcn_array),
    "imag": (imag, None),
    "log2": (math.log2, np.log2),
    "maximum": (maximum, np.maximum),
    "mean": (mean, None),
    "minimum": (minimum, np.minimum),
    "real": (real, None),
    "sign": (sign, np.sign),
    "square": (square, square_array),
    "where": (where, None),
    # more of math's float functions (exp2 and cbrt came with Python 3.11)
    "cbrt": (getattr(math, "cbrt", None) or _cbrt, np.cbrt),
    "exp2": (getattr(math, "exp2", None) or _exp2, np.exp2),
    "expm1": (math.expm1, np.expm1),
    "isclose": (math.isclose, isclose_array),
    "isfinite": (math.isfinite, np.isfinite),
    "lgamma": (math.lgamma, _special("gammaln")),
}

#: numpy's names of functions the pack has under math's names: the same functions.
ALIASES: Dict[str, str] = {
    "arccos": "acos", "arccosh": "acosh", "arcsin": "asin", "arcsinh": "asinh",
    "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh", "deg2rad": "radians",
    "power": "pow", "rad2deg": "degrees",
}
_FUNCTIONS.update({alias: _FUNCTIONS[name] for alias, name in ALIASES.items()})

_CONSTANTS: Dict[str, float] = {"e": math.e, "pi": math.pi, "inf": math.inf, "nan": math.nan}


def _build_symbols() -> Dict[str, Symbol]:
    """Assemble SYMBOLS from the function and constant tables."""
    symbols: Dict[str, Symbol] = {}
    for name, (func, array_func) in _FUNCTIONS.items():
        symbols[name] = Symbol(name, func, func if array_func is None else array_func, ORIGIN)
    for name, value in _CONSTANTS.items():
        symbols[name] = Symbol(name, value, value, ORIGIN)
    return symbols


SYMBOLS: Dict[str, Symbol] = _build_symbols()
"""Every name of the pack as a :class:`~lmfit_host.expr.Symbol`; the core's fallback namespace."""


@hookimpl
def lmfit_host_register_functions(register: Callable[..., None]) -> None:
    """Register the seed's math functions and constants: ``register(name, func, array_func)``."""
    for name, (func, array_func) in _FUNCTIONS.items():
        register(name, func, array_func)
    for name, value in _CONSTANTS.items():
        register(name, value)
