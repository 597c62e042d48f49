"""The core function pack: the seed's math functions and constants for expressions.

Every constraint expression and every :class:`~lmfit_host.expr.Interpreter`
sees these names unless a plugin layer replaces the set. Each name has a
scalar version, taken from :mod:`math` because constraint expressions are
float arithmetic on the fit's hot path, and an array version from numpy for
interpreters built with ``arrays=True`` (models evaluated on whole arrays).
``max``, ``min`` and ``fsum`` keep Python's semantics in both versions, as
the seed documents them.

The module is also a pluggy plugin (entry point ``math`` in the
``lmfit_host`` group)::

    >>> from lmfit_host import mathpack
    >>> mathpack.SYMBOLS["sqrt"].value(16.0)
    4.0
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from lmfit_host.errors import ExpressionLimitError
from lmfit_host.expr import Symbol, _tree_size, charge_current_run
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
        return int(value)
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
    """max/min with Python's semantics, after weighing what will be compared."""
    if not args:
        raise TypeError("%s expected at least 1 argument, got 0" % name)
    items: Any = args[0] if len(args) == 1 else args
    if not isinstance(items, _FLAT_ITERABLES):
        if not isinstance(items, (list, tuple, set, frozenset, dict)):
            items = list(items)
        key = kwargs.get("key")
        if key is None:
            _tree_size(items, MAX_COMPARED_ITEMS)
        else:
            # the keys are what gets compared: weigh them, then pick by index
            members = items if isinstance(items, (list, tuple)) else list(items)
            keys = []
            for member in members:
                charge_current_run(1)  # each key call is work (it may be a costly function)
                keys.append(key(member))
            _tree_size(keys, MAX_COMPARED_ITEMS)
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


def log_array(x: Any, base: Optional[float] = None) -> Any:
    """Natural logarithm of an array, or the logarithm to ``base`` as ``math.log`` allows."""
    if base is None:
        return np.log(x)
    return np.log(x) / np.log(base)


# name -> (scalar version, array version or None when the scalar one handles arrays too)
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
    "max": (max_, None),
    "min": (min_, None),
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
}

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
