"""Parameter and Parameters: the named, bounded, possibly constrained values a fit varies.

A :class:`Parameter` holds one number with its bounds, whether a fit varies
it, and optionally a constraint expression (``expr``) that computes it from
other parameters.  A :class:`Parameters` set is an ordered mapping
name -> Parameter that owns one :class:`~lmfit_host.expr.Interpreter`; the
interpreter's symtable holds the current value of every parameter, and the
constraint expressions run there, compiled once, in dependency order.

>>> params = Parameters()
>>> params.add('a', value=3.0, min=0)
>>> params.add('b', expr='2*a')
>>> params['b'].value
6.0
>>> params['a'].value = 5
>>> params['b'].value
10.0
"""

from __future__ import annotations

import ast
import copy as _copy
import functools
import html
import json
import math
import numbers
import pickle
import sys
import textwrap
import warnings
import weakref
from types import CodeType, FunctionType
from typing import (IO, Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    NamedTuple, Optional, Sequence, Tuple, Union, cast, overload)

import numpy as np

from .errors import (ExpressionCycleError, ExpressionError, ExpressionRuntimeError,
                     ParameterError, UnknownNameError)
from .expr import (BUILTIN_NAMES, CompiledExpression, Interpreter, Limits, _PendingCopy,
                   check_identifier, default_symbols, suggested_name)

__all__ = ["Parameter", "Parameters", "ParameterBoundsWarning", "ShadowedNameWarning",
           "create_params"]

_INF = math.inf
_FORMAT_NAME = "lmfit-host parameters"
_FORMAT_VERSION = 2          # written only when there are functions (version 1 otherwise)

Number = Union[float, int]
ParameterTuple = Tuple[Any, ...]


class ParameterBoundsWarning(UserWarning):
    """A value given for a parameter lay outside its bounds and was moved to the nearest bound."""


class ShadowedNameWarning(UserWarning):
    """A new parameter took the name of a default symbol (``e``, ``max``, a function pack's
    function) that expressions already in the set read: they now read the parameter."""


# --- small helpers -------------------------------------------------------------


def _label(name: Optional[str]) -> str:
    return f"parameter {name!r}" if name else "unnamed parameter"


def _as_value(value: Any, name: Optional[str], what: str = "value") -> Optional[float]:
    """Return ``value`` as a Python float (or None), or raise ParameterError naming the parameter."""
    if value is None:
        return None
    if type(value) is float:
        return value
    if isinstance(value, (str, bytes, complex, np.complexfloating)):
        raise ParameterError(
            f"{_label(name)}: {what} must be a real number or None, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"{_label(name)}: {what} must be a real number or None, got {value!r}") from exc


def _as_bound(bound: Any, which: str, name: Optional[str]) -> Tuple[Optional[float], float]:
    """Return (bound as exposed, bound as a float) for a min or max given by the user."""
    if bound is None:
        return None, (-_INF if which == "min" else _INF)
    number = _as_value(bound, name, which)
    assert number is not None
    if math.isnan(number):
        side = "lower" if which == "min" else "upper"
        raise ParameterError(
            f"{_label(name)}: {which} is NaN; use None (or {'-' if which == 'min' else ''}inf) "
            f"for no {side} bound")
    return number, number


def _warn_from_caller(message: str, category: type = ParameterBoundsWarning) -> None:
    """Issue a warning (ParameterBoundsWarning by default) located at the first caller
    outside this module."""
    frame: Any = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def _is_real_result(value: Any) -> bool:
    """Whether a constraint's result may be a parameter's value: a real number or None.

    Complex numbers are refused as for plain values: a parameter is real.
    """
    return value is None or isinstance(value, (numbers.Real, np.bool_))


def _not_a_number(name: str, expr: Optional[str], value: Any) -> ExpressionRuntimeError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ExpressionRuntimeError(
        f"expression {expr!r} of parameter {name!r} gives a {type(value).__name__} ({shown}), "
        f"not a number: a parameter's value must be a real number (int, float, bool or a "
        f"numpy real scalar); change the expression so that it gives one", expr, name)


def _check_order(lower: float, upper: float, name: Optional[str]) -> None:
    if lower > upper:
        raise ParameterError(
            f"{_label(name)}: min ({lower!r}) is greater than max ({upper!r}); "
            f"give a min that is not above the max")


def _normalize_expr(expr: Any, name: Optional[str]) -> Optional[str]:
    if expr is None:
        return None
    if not isinstance(expr, str):
        raise ParameterError(
            f"{_label(name)}: expr must be a string (or None to clear it), got {expr!r}")
    return expr if expr.strip() else None


_SCRATCH: Optional[Interpreter] = None


def _scratch_interpreter() -> Interpreter:
    """An interpreter used only to check the syntax of expressions of Parameters not in a set."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Interpreter()
    return _SCRATCH


def _find_cycle(deps: Mapping[str, Iterable[str]],
                starts: Iterable[str] = ()) -> Optional[List[str]]:
    """Return one dependency cycle as ['a', 'b', 'a'] (a uses b uses a), or None.

    ``deps`` maps each constrained parameter to the names its expression
    reads; names that are not keys have no dependencies.  The search begins
    at ``starts`` (the parameters just changed), so the cycle is reported
    from the user's point of view.  Iterative, so long chains of
    constraints cannot hit the recursion limit.
    """
    state: Dict[str, int] = {}   # 1: on the current path, 2: finished
    for start in [*(s for s in starts if s in deps), *deps]:
        if state.get(start):
            continue
        path = [start]
        iters = [iter(deps[start])]
        state[start] = 1
        while path:
            for dep in iters[-1]:
                if dep not in deps:
                    continue
                mark = state.get(dep)
                if mark == 1:
                    return path[path.index(dep):] + [dep]
                if mark is None:
                    state[dep] = 1
                    path.append(dep)
                    iters.append(iter(deps[dep]))
                    break
            else:
                state[path.pop()] = 2
                iters.pop()
    return None


def _topological_order(deps: Mapping[str, Iterable[str]]) -> List[str]:
    """Order the keys of ``deps`` so that every key comes after the keys it reads."""
    order: List[str] = []
    done: set = set()
    for start in deps:
        if start in done:
            continue
        path = [start]
        iters = [iter(deps[start])]
        on_path = {start}
        while path:
            for dep in iters[-1]:
                if dep in deps and dep not in done:
                    if dep in on_path:  # cannot happen: cycles are refused on assignment
                        raise ExpressionCycleError(
                            f"constraint expressions form a cycle through {dep!r}", (dep,))
                    on_path.add(dep)
                    path.append(dep)
                    iters.append(iter(deps[dep]))
                    break
            else:
                node = path.pop()
                iters.pop()
                on_path.discard(node)
                done.add(node)
                order.append(node)
    return order


def _cycle_error(cycle: List[str], sources: Mapping[str, str]) -> ExpressionCycleError:
    chain = " -> ".join(cycle)
    exprs = ", ".join(f"{n} = {sources[n]!r}" for n in cycle[:-1])
    return ExpressionCycleError(
        f"constraint expressions form a cycle: {chain} ({exprs}); "
        f"clear or change one of these expressions", tuple(cycle))


class CorrelationRow(Mapping[str, float]):
    """One parameter's correlations after a fit, read from the fit's correlation matrix.

    A read-only mapping name -> correlation; :attr:`Parameter.correl` turns
    it into a plain dict the first time it is read, so that a loop of many
    fits does not build dicts nobody reads.
    """

    __slots__ = ("_names", "_matrix", "_index")

    def __init__(self, names: Sequence[str], matrix: Any, index: int) -> None:
        self._names = names
        self._matrix = matrix
        self._index = index

    def __getitem__(self, name: str) -> float:
        if name == self._names[self._index] or name not in self._names:
            raise KeyError(name)
        return float(self._matrix[self._index, list(self._names).index(name)])

    def as_dict(self) -> Dict[str, float]:
        """The correlations as a plain dict, in the order of the fit's varied parameters."""
        row = dict(zip(self._names, self._matrix[self._index].tolist()))
        del row[self._names[self._index]]
        return row

    def __iter__(self) -> Iterator[str]:
        mine = self._names[self._index]
        return (name for name in self._names if name != mine)

    def __len__(self) -> int:
        return len(self._names) - 1

    def __repr__(self) -> str:
        return repr(dict(self))


#: The keys of a Parameter's pickled state, in the order of ``Parameter._state_tuple``.
_STATE_KEYS = ("version", "name", "value", "vary", "min", "max", "expr", "brute_step", "stderr",
               "correl", "init_value", "user_data")


def _noop() -> None:
    return None


# --- functions defined in interpreter text: their text, for pickle and JSON --------------
#
# A function defined by interpreter text is compiled code that has no picklable
# or JSON form; what can be saved is its def statement, run again on loading.
# expr.py does not keep that text, so the interpreters of Parameters sets
# (_TextKeepingInterpreter) note it whenever their text defines a function.
# The note is keyed by the function's code object, which every copy of the
# function shares (Interpreter.copy and adopt_function re-create functions
# around the same code), and it goes when the code object does.

_DEF_TEXTS: Dict[int, Tuple["weakref.ref[CodeType]", str]] = {}


def _remember_def(code: CodeType, text: str) -> None:
    key = id(code)   # not the code itself: equal code objects may differ in their defaults

    def forget(_ref: Any, key: int = key) -> None:
        _DEF_TEXTS.pop(key, None)
    _DEF_TEXTS[key] = (weakref.ref(code, forget), text)


def _def_text(function: Any) -> Optional[str]:
    """The def statement that made ``function``, if it was noted (else None)."""
    if type(function) is not FunctionType or function.__closure__ is not None:
        return None
    code = function.__code__
    entry = _DEF_TEXTS.get(id(code))
    if entry is None or entry[0]() is not code:
        return None
    return entry[1]


def _def_name(text: str) -> Optional[str]:
    """The function name if ``text`` is exactly one def statement, else None."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    return tree.body[0].name


def _note_defs(text: Any, symtable: Mapping[str, Any], before: Sequence[Any]) -> None:
    """Remember the def statement of each function that running ``text`` put in ``symtable``."""
    if not isinstance(text, str) or "def" not in text:
        return
    known = {id(value) for value in before}   # ``before`` keeps them alive: ids stay unique
    fresh = [value for value in symtable.values()
             if type(value) is FunctionType and id(value) not in known and
             value.__closure__ is None and value.__code__.co_filename == "<interpreter>"]
    if not fresh:
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    defs = {(node.name, node.lineno): node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)}
    for function in fresh:
        code = function.__code__
        node = defs.get((code.co_name, code.co_firstlineno))
        if node is None:
            continue
        segment = ast.get_source_segment(text, node, padded=True)
        if segment is None:
            continue
        segment = textwrap.dedent(segment)
        if _def_name(segment) == code.co_name:   # e.g. odd indentation inside strings: skip
            _remember_def(code, segment)


class _TextKeepingInterpreter(Interpreter):
    """An Interpreter that remembers the def text of the functions its text defines.

    Parameters sets use it so that such functions can be pickled and written
    to JSON as their text.  Copies are of the same kind.
    """

    def __call__(self, text: str) -> Any:
        """Run text as :class:`~lmfit_host.expr.Interpreter` does, noting new def statements."""
        before = [value for value in self.symtable.values() if type(value) is FunctionType]
        try:
            return super().__call__(text)
        finally:
            _note_defs(text, self.symtable, before)

    def copy(self) -> "_TextKeepingInterpreter":
        """A copy as :meth:`Interpreter.copy` makes, that keeps noting def statements."""
        return cast(_TextKeepingInterpreter, self._copy_later(type(self)).build())

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle support (a Minimizer's ``asteval``): the limits, the user symbols, and the
        functions defined in text as their text, as a Parameters set saves them."""
        symbols, functions = _saved_symbols(self.symtable, self.user_names(),
                                            _SAVING_INTERPRETER)
        return _restored_interpreter, (self.arrays, self._use_defaults, self.limits, symbols,
                                       functions)


def _restored_interpreter(arrays: bool, use_defaults: bool, limits: Limits,
                          symbols: Mapping[str, Any], functions: Mapping[str, str]
                          ) -> _TextKeepingInterpreter:
    """An interpreter saved by :meth:`_TextKeepingInterpreter.__reduce__`, made again."""
    interp = _TextKeepingInterpreter(arrays=arrays, use_defaults=use_defaults, limits=limits)
    interp.symtable.update(symbols)
    _install_functions(interp, functions, "unpickling an interpreter")
    return interp


def _install_functions(interp: Interpreter, functions: Mapping[str, str], what: str) -> None:
    """Define saved functions in ``interp``: run each def text, bind it to its symbol.

    A symbol may hold a function under another name (``g = f``): the def's own
    name is bound only for the time of the run.
    """
    symtable = interp.symtable
    missing = object()
    for symbol, text in functions.items():
        if not isinstance(symbol, str) or not symbol.isidentifier() or symbol.startswith("__"):
            raise ParameterError(f"{what}: {symbol!r} cannot name a function; use an "
                                 f"identifier that does not start with '__'")
        name = _def_name(text) if isinstance(text, str) else None
        if name is None:
            raise ParameterError(
                f"{what}: function {symbol!r} must be given as the text of one def "
                f"statement, got {text!r:.80}")
        old = symtable.get(name, missing)
        interp(text)
        function = symtable[name]
        if symbol != name:
            if old is missing:
                del symtable[name]
            else:
                symtable[name] = old
        symtable[symbol] = function
        _remember_def(function.__code__, text)   # whatever kind of interpreter ran it


def _describe_object(value: Any) -> str:
    if type(value) is FunctionType:
        if value.__name__ == "<lambda>":
            return "a lambda"
        if value.__code__.co_filename.startswith("<interpreter>"):
            return f"function {value.__name__!r} defined in interpreter text"
        return f"Python function {value.__module__}.{value.__qualname__}"
    return f"a {type(value).__name__}"


class _Saver(NamedTuple):
    """Who pickles a namespace, for the messages: the object, where its symbols live, how
    the user reaches its interpreter."""

    what: str       # "these Parameters"
    of: str         # " of their interpreter"
    through: str    # "this set"
    holder: str     # "params.interpreter"


_SAVING_PARAMETERS = _Saver("these Parameters", " of their interpreter", "this set",
                            "params.interpreter")
_SAVING_INTERPRETER = _Saver("this interpreter (a Minimizer's asteval)", "", "this interpreter",
                             "minimizer.asteval")


def _unsaved_def_advice(key: str, value: Any, saver: _Saver = _SAVING_PARAMETERS
                        ) -> Optional[str]:
    """Why a function defined in interpreter text has no saved text, and what to do; or None."""
    if type(value) is not FunctionType or \
            not value.__code__.co_filename.startswith("<interpreter>"):
        return None
    if value.__closure__ is not None:
        return (f"it was made inside another function (a closure); define it with def at the "
                f"top level of the text: {saver.holder}('def {key}(...): ...')")
    return (f"its text was run through an interpreter that did not keep it; run its def "
            f"again through {saver.through}: {saver.holder}('def {key}(...): ...')")


def _saved_symbols(symtable: Mapping[str, Any], names: Iterable[str], saver: _Saver
                   ) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The symbols ``names`` of ``symtable`` as pickle keeps them: (values, def texts of the
    functions defined in interpreter text).

    A symbol that cannot be pickled (a lambda, a function defined inside
    another function) is an error naming it: nothing is left out silently.
    """
    symbols: Dict[str, Any] = {}
    functions: Dict[str, str] = {}
    for key in names:
        value = symtable[key]
        text = _def_text(value)
        if text is not None:
            functions[key] = text
            continue
        advice = _unsaved_def_advice(key, value, saver)
        if advice is None:
            try:
                pickle.dumps(value)
            except Exception as exc:
                advice = (f"pickle refused it ({type(exc).__name__}: {exc}); define it with "
                          f"def at module level or in interpreter text "
                          f"({saver.holder}('def {key}(...): ...')), or delete it first "
                          f"(del {saver.holder}.symtable[{key!r}])")
            else:
                symbols[key] = value
                continue
        raise ParameterError(f"cannot pickle {saver.what}: symbol {key!r}{saver.of} "
                             f"({_describe_object(value)}) cannot be saved: {advice}")
    return symbols, functions


# --- Parameter -------------------------------------------------------------------

_ORDER_LMFIT02 = ("value", "vary", "min", "max", "name", "expr", "brute_step", "user_data")
_ORDER_LMFIT1 = ("name", "value", "vary", "min", "max", "expr", "brute_step", "user_data")


class Parameter:
    """One named value of a fit: its number, bounds, whether it varies, or its constraint.

    ``Parameter(value=None, vary=True, min=None, max=None, name=None, expr=None)``
    (the lmfit 0.2 order).  lmfit 1.x's order with the name first,
    ``Parameter('amp', 5.0, min=0)``, is accepted too: a string as first
    argument is taken as the name.  Keyword-only extras: ``brute_step`` and
    ``user_data`` (free for the user).

    Every argument is an attribute that can be changed later.  ``min``/``max``
    of None (or -inf/inf) mean unbounded; they read back as given, and
    :attr:`bounds` gives them as floats.  A value outside the bounds moves to
    the nearest bound with a :class:`ParameterBoundsWarning`.  Setting
    ``expr`` makes the parameter computed (``vary`` becomes False); setting it
    to None or '' makes it a plain, fixed parameter holding its last value.

    After a fit, ``stderr`` (float) and ``correl`` (dict name -> correlation)
    are filled in; both are None before.  ``init_value`` is the value given
    at creation or by the last assignment of ``value``.

    A Parameter behaves as its number: ``2 * p``, ``p > 0``, ``float(p)``,
    ``amp * np.sin(x)`` and ``np.asarray(p)`` all use its value.  It hashes
    by identity (it is mutable), while ``==`` compares values as lmfit does.

    >>> p = Parameter(5.0, min=0, name='amp')
    >>> p.max = 10
    >>> 2 * p
    10.0
    >>> p
    <Parameter 'amp' value=5.0, varied, bounds=[0.0, 10.0]>
    """

    @overload
    def __init__(self, value: Any = None, vary: Optional[bool] = True, min: Any = None,
                 max: Any = None, name: Optional[str] = None, expr: Optional[str] = None,
                 *, brute_step: Optional[float] = None, user_data: Any = None) -> None: ...

    @overload
    def __init__(self, name: str, value: Any = None, vary: Optional[bool] = True,
                 min: Any = None,
                 max: Any = None, expr: Optional[str] = None,
                 brute_step: Optional[float] = None, user_data: Any = None) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        lmfit1_call = bool(args) and isinstance(args[0], str) and "name" not in kwargs
        order = _ORDER_LMFIT1 if lmfit1_call else _ORDER_LMFIT02
        most = len(order) if lmfit1_call else 6
        if len(args) > most:
            raise TypeError(f"Parameter() takes at most {most} positional arguments "
                            f"({len(args)} given)")
        given: Dict[str, Any] = dict(zip(order, args))
        for key, val in kwargs.items():
            if key not in _ORDER_LMFIT02:
                raise TypeError(f"Parameter() got an unexpected keyword argument {key!r}")
            if key in given:
                raise TypeError(f"Parameter() got multiple values for argument {key!r}")
            given[key] = val
        self._setup(**given)

    def _setup(self, value: Any = None, vary: Any = True, min: Any = None, max: Any = None,
               name: Optional[str] = None, expr: Optional[str] = None,
               brute_step: Optional[float] = None, user_data: Any = None) -> None:
        if name is not None:
            _check_name(name)
        min_given, lower = _as_bound(min, "min", name)
        max_given, upper = _as_bound(max, "max", name)
        _check_order(lower, upper, name)
        number = _as_value(value, name)
        text = _normalize_expr(expr, name)
        if text is not None:
            _scratch_interpreter().compile_expression(text, owner=name)
        # only now that everything checked out does the object take a state
        self._owner: Optional[Parameters] = None
        self._compiled: Optional[CompiledExpression] = None
        self._name = name
        self._min_given, self._min = min_given, lower
        self._max_given, self._max = max_given, upper
        self._vary = True if vary is None else bool(vary)
        self._expr = text
        if text is not None:
            self._vary = False
        self._val = self._clamp(number)
        self.init_value: Optional[float] = self._val
        self.stderr: Optional[float] = None
        self._correl: Any = None  # a dict, None, or a row a fit has not made into a dict yet
        self.brute_step = brute_step
        self.user_data = user_data
        self._warn_moved(number, self._val)

    # --- state that reads through to the owning set ---------------------------------

    @property
    def name(self) -> Optional[str]:
        """The parameter's name: an ASCII identifier, not a keyword (None until given)."""
        return self._name

    @name.setter
    def name(self, name: Optional[str]) -> None:
        if name == self._name:
            return
        if self._owner is not None:
            raise ParameterError(
                f"cannot rename {_label(self._name)} to {name!r} while it belongs to a "
                f"Parameters set; add it under the new name (params[{name!r}] = ...) instead")
        if name is not None:
            _check_name(name)
        self._name = name

    @property
    def value(self) -> Optional[float]:
        """The current value; for a constrained parameter, computed from its expression.

        Assigning a value to a parameter with an ``expr`` is an error: clear
        the expression first, or use ``set(value=...)`` which does both.

        >>> p = Parameter(1.0, max=5, name='x')
        >>> p.value = 3
        >>> p.value
        3.0
        """
        owner = self._owner
        if owner is None:
            return self._val
        # read by the user's residual at every step of a fit, when nothing is stale
        if owner._stale and self._expr is not None:
            owner._refresh()
            if owner._failures is not None:
                owner._raise_failure_of(self._name)  # type: ignore[arg-type]
        # an owned parameter always has a name; no assert or cast here: this read is per step
        return owner._symtable[self._name]  # type: ignore[index]

    @value.setter
    def value(self, value: Any) -> None:
        if self._expr is not None:
            raise ParameterError(
                f"{_label(self._name)} is computed from its expression {self._expr!r}; "
                f"clear the expression first (.expr = None) or use .set(value=...)")
        self._assign_value(_as_value(value, self._name))

    @property
    def vary(self) -> bool:
        """Whether a fit varies this parameter.

        Setting True on a constrained parameter clears its expression (as lmfit does).
        """
        return self._vary

    @vary.setter
    def vary(self, vary: bool) -> None:
        vary = bool(vary)
        if vary and self._expr is not None:
            self._set_expr(None)
        self._vary = vary

    @property
    def min(self) -> Optional[float]:
        """Lower bound as given: None or a float (-inf also means unbounded)."""
        return self._min_given

    @min.setter
    def min(self, bound: Any) -> None:
        given, lower = _as_bound(bound, "min", self._name)
        _check_order(lower, self._max, self._name)
        self._assign_bounds(given, lower, self._max_given, self._max)

    @property
    def max(self) -> Optional[float]:
        """Upper bound as given: None or a float (inf also means unbounded)."""
        return self._max_given

    @max.setter
    def max(self, bound: Any) -> None:
        given, upper = _as_bound(bound, "max", self._name)
        _check_order(self._min, upper, self._name)
        self._assign_bounds(self._min_given, self._min, given, upper)

    @property
    def bounds(self) -> Tuple[float, float]:
        """(lower, upper) as floats, with -inf/inf for unbounded sides.

        >>> Parameter(1.0, min=0).bounds
        (0.0, inf)
        """
        return self._min, self._max

    @property
    def expr(self) -> Optional[str]:
        """The constraint expression (None for a plain parameter).

        Setting it checks the syntax at once (quoting the expression on error)
        and, inside a Parameters set, refuses a dependency cycle; names that
        do not exist yet are reported when the value is evaluated.  The
        expression must give a real number (int, float, bool or a numpy real
        scalar); a tuple, string, list or complex number is an error naming
        the parameter, the expression and the type when the value is
        computed (checked once at the start of a fit, not at each step).
        """
        return self._expr

    @expr.setter
    def expr(self, expr: Optional[str]) -> None:
        self._set_expr(_normalize_expr(expr, self._name))

    def set(self, value: Any = None, vary: Optional[bool] = None, min: Any = None,
            max: Any = None, expr: Optional[str] = None, brute_step: Optional[float] = None,
            is_init_value: bool = True) -> None:
        """Change several attributes at once, as lmfit 1.x's ``Parameter.set``.

        None leaves an attribute unchanged, so to lift a bound pass -inf/inf
        and to clear an expression pass ''.  Giving ``value`` clears the
        expression (unless ``expr`` is given too); ``vary=True`` clears it
        as well; ``brute_step=0`` clears the brute step.  All arguments are
        checked before anything changes.

        >>> p = Parameter(1.0, name='x')
        >>> p.set(value=2.0, min=0, vary=False)
        >>> p.value, p.min, p.vary
        (2.0, 0.0, False)
        """
        name = self._name
        min_given, lower = (self._min_given, self._min) if min is None else \
            _as_bound(min, "min", name)
        max_given, upper = (self._max_given, self._max) if max is None else \
            _as_bound(max, "max", name)
        _check_order(lower, upper, name)
        number = _as_value(value, name)
        new_expr = self._expr
        if (vary is not None and vary) or value is not None:
            new_expr = None
        if expr is not None:
            new_expr = _normalize_expr(expr, name)
        token = self._prepare_expr(new_expr) if new_expr != self._expr else None
        # everything is checked: apply, and warn only once the state is complete
        if vary is not None:
            self._vary = bool(vary)
        if new_expr != self._expr:
            self._commit_expr(new_expr, token)
        if brute_step is not None:
            self.brute_step = None if brute_step == 0 else brute_step
        moves = []
        if (lower, upper, min_given, max_given) != (self._min, self._max, self._min_given,
                                                    self._max_given):
            moves.append(self._assign_bounds(min_given, lower, max_given, upper, warn=False))
        if value is not None:
            old = self._raw_value()
            moves.append(self._assign_value(
                number, update_init=is_init_value or old is None or math.isinf(old), warn=False))
        for given, moved in moves[-1:]:   # the value's own move supersedes the bounds' one
            self._warn_moved(given, moved)

    # --- internals that keep the owning set consistent ------------------------------

    def _raw_value(self) -> Optional[float]:
        """The stored value without evaluating the expression (for copies, pickles, repr)."""
        owner = self._owner
        if owner is None:
            return self._val
        assert self._name is not None  # an owned parameter always has a name
        return owner._symtable.get(self._name)

    def _store(self, number: Optional[float]) -> None:
        owner = self._owner
        if owner is None:
            self._val = number
        else:
            assert self._name is not None  # an owned parameter always has a name
            owner._symtable[self._name] = number
            owner._stale = True

    def _clamp(self, number: Optional[float]) -> Optional[float]:
        if number is None:
            return None
        if number < self._min:
            return self._min
        if number > self._max:
            return self._max
        return number

    def _warn_moved(self, number: Optional[float], moved: Optional[float]) -> None:
        # called once the state is complete, so warnings-as-errors cannot leave it half-changed
        if moved is not number:
            # compare with the value, not the bound: when min == max both bounds are equal
            side = "below min" if number < moved else "above max"  # type: ignore[operator]
            _warn_from_caller(f"{_label(self._name)}: value {number!r} is {side} {moved!r}; "
                              f"moved to {moved!r}")

    def _assign_value(self, number: Optional[float], update_init: bool = True,
                      warn: bool = True) -> Tuple[Optional[float], Optional[float]]:
        moved = self._clamp(number)
        self._store(moved)
        if update_init:
            self.init_value = moved
        if warn:
            self._warn_moved(number, moved)
        return number, moved

    def _assign_bounds(self, min_given: Optional[float], lower: float,
                       max_given: Optional[float], upper: float,
                       warn: bool = True) -> Tuple[Optional[float], Optional[float]]:
        self._min_given, self._min = min_given, lower
        self._max_given, self._max = max_given, upper
        current = moved = None
        if self._expr is None:
            current = self._raw_value()
            moved = self._clamp(current)
            if moved is not current:
                self._store(moved)
                if warn:
                    self._warn_moved(current, moved)
        elif self._owner is not None:
            # the owner clamps computed values; its compiled runner holds the old bounds
            self._owner._structure_changed()
        return current, moved

    def _prepare_expr(self, text: Optional[str]) -> Optional[CompiledExpression]:
        """Check ``text`` as this parameter's new expression without changing anything."""
        if text is None:
            return None
        if self._owner is not None:
            return self._owner._prepare_expr(self, text)
        _scratch_interpreter().compile_expression(text, owner=self._name)
        return None

    def _commit_expr(self, text: Optional[str], compiled: Optional[CompiledExpression]) -> None:
        owner = self._owner
        if owner is not None:
            owner._commit_expr(self, text, compiled)
        else:
            self._expr = text
        if text is not None:
            self._vary = False

    def _set_expr(self, text: Optional[str]) -> None:
        if text == self._expr:
            return
        self._commit_expr(text, self._prepare_expr(text))

    def __getstate__(self) -> Dict[str, Any]:
        """The picklable state: a copy outside any set, with the current value."""
        if self._expr is not None and self._owner is not None:
            self._owner._refresh_if_possible()
        return self._state()

    def _state(self) -> Dict[str, Any]:
        """:meth:`__getstate__` with the values as they are now (the caller refreshed them)."""
        state = dict(zip(_STATE_KEYS, self._state_tuple()))
        if type(state["correl"]) is CorrelationRow:
            state["correl"] = state["correl"].as_dict()
        return state

    def _state_tuple(self) -> Tuple[Any, ...]:
        """:meth:`_state` as a tuple in the order of ``_STATE_KEYS`` (cheaper to take; the
        correlations may still be a :class:`CorrelationRow`)."""
        return (1, self._name, self._raw_value(), self._vary, self._min_given, self._max_given,
                self._expr, self.brute_step, self.stderr, self._correl, self.init_value,
                self.user_data)

    @property
    def correl(self) -> Optional[Dict[str, float]]:
        """Correlation with each other varied parameter after a fit (dict name -> value)."""
        found = self._correl
        if type(found) is CorrelationRow:
            found = self._correl = found.as_dict()
        return found  # type: ignore[no-any-return]

    @correl.setter
    def correl(self, value: Optional[Mapping[str, float]]) -> None:
        self._correl = value

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`__getstate__` (the Parameter is not in any set afterwards)."""
        self._owner = None
        self._compiled = None
        self._name = state["name"]
        self._min_given, self._min = _as_bound(state["min"], "min", self._name)
        self._max_given, self._max = _as_bound(state["max"], "max", self._name)
        self._val = _as_value(state["value"], self._name)
        self._vary = bool(state["vary"])
        self._expr = _normalize_expr(state["expr"], self._name)
        self.brute_step = state.get("brute_step")
        self.stderr = state.get("stderr")
        self.correl = state.get("correl")
        self.init_value = state.get("init_value")
        self.user_data = state.get("user_data")

    def __repr__(self) -> str:
        head = f"<Parameter {self._name!r} " if self._name else "<Parameter "
        try:
            number = self.value
        except Exception as exc:   # a repr must always work, whatever the expression does
            number_text = f"<cannot evaluate: {type(exc).__name__}>"
        else:
            number_text = repr(number)
        parts = [f"value={number_text}" + (f" +/- {self.stderr:.3g}"
                                            if isinstance(self.stderr, (int, float)) else "")]
        if self._expr is not None:
            parts.append(f"expr={self._expr!r}")
        else:
            parts.append("varied" if self._vary else "fixed")
        if self._min > -_INF or self._max < _INF:
            parts.append(f"bounds=[{self._min!r}, {self._max!r}]")
        return head + ", ".join(parts) + ">"

    def __format__(self, spec: str) -> str:
        """Format the value with a format spec (``f'{p:.3f}'``); an empty spec gives the repr."""
        if not spec:
            return repr(self)
        return format(self._number(), spec)

    # --- behaving as a number ------------------------------------------------------

    def _number(self) -> float:
        number = self.value
        if number is None:
            raise ParameterError(f"{_label(self._name)} has no value yet; give it one "
                                 f"(.value = ...) before using it as a number")
        return number

    __hash__ = object.__hash__   # identity: a Parameter is mutable, its value changes

    def __eq__(self, other: object) -> bool:
        return self.value == other  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        return self.value != other  # type: ignore[no-any-return]

    def __lt__(self, other: Any) -> Any:
        return self._number() < other

    def __le__(self, other: Any) -> Any:
        return self._number() <= other

    def __gt__(self, other: Any) -> Any:
        return self._number() > other

    def __ge__(self, other: Any) -> Any:
        return self._number() >= other

    def __bool__(self) -> bool:
        return bool(self.value != 0)

    def __float__(self) -> float:
        return float(self._number())

    def __int__(self) -> int:
        return int(self._number())

    def __complex__(self) -> complex:
        return complex(self._number())

    def __abs__(self) -> Any:
        return abs(self._number())

    def __neg__(self) -> Any:
        return -self._number()

    def __pos__(self) -> Any:
        return +self._number()

    def __round__(self, ndigits: Optional[int] = None) -> Any:
        return round(self._number()) if ndigits is None else round(self._number(), ndigits)

    def __trunc__(self) -> int:
        return math.trunc(self._number())

    def __floor__(self) -> int:
        return math.floor(self._number())

    def __ceil__(self) -> int:
        return math.ceil(self._number())

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        return np.asarray(self._number(), dtype=dtype)

    def __add__(self, other: Any) -> Any:
        return self._number() + other

    def __radd__(self, other: Any) -> Any:
        return other + self._number()

    def __sub__(self, other: Any) -> Any:
        return self._number() - other

    def __rsub__(self, other: Any) -> Any:
        return other - self._number()

    def __mul__(self, other: Any) -> Any:
        return self._number() * other

    def __rmul__(self, other: Any) -> Any:
        return other * self._number()

    def __truediv__(self, other: Any) -> Any:
        return self._number() / other

    def __rtruediv__(self, other: Any) -> Any:
        return other / self._number()

    def __floordiv__(self, other: Any) -> Any:
        return self._number() // other

    def __rfloordiv__(self, other: Any) -> Any:
        return other // self._number()

    def __mod__(self, other: Any) -> Any:
        return self._number() % other

    def __rmod__(self, other: Any) -> Any:
        return other % self._number()

    def __divmod__(self, other: Any) -> Any:
        return divmod(self._number(), other)

    def __rdivmod__(self, other: Any) -> Any:
        return divmod(other, self._number())

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is None:
            return self._number() ** other
        return pow(self._number(), other, modulo)

    def __rpow__(self, other: Any) -> Any:
        return other ** self._number()


def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        raise ParameterError(f"a parameter name must be a string, got {name!r}")
    check_identifier(name, "parameter name")


# --- Parameters ------------------------------------------------------------------


class _ClassOrInstanceMethod:
    """``Parameters.loads(s)`` builds a new set; ``params.loads(s)`` replaces params' content."""

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        self.func = func
        self.name = name
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type) -> Callable[..., Any]:
        target = obj

        @functools.wraps(self.func)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.func(owner() if target is None else target, *args, **kwargs)
        call.__name__ = call.__qualname__ = self.name
        return call


_PRETTY_COLUMNS = ("value", "min", "max", "stderr", "vary", "expr")


class Parameters(Dict[str, Parameter]):
    """An ordered mapping name -> Parameter with one expression namespace.

    Each set owns an :class:`~lmfit_host.expr.Interpreter` (``interpreter``,
    also ``_asteval`` as in lmfit 1.x) whose symtable holds every parameter's
    current value next to the math functions; constraint expressions run
    there.  Values are always consistent: writing a value marks the
    constraints stale and reading any constrained value recomputes all of
    them in one compiled call, in dependency order.  An expression that
    cannot be computed (an unknown name, a failing function) makes only its
    own parameter, and those that read it, raise when read; the others stay
    readable, while :meth:`update_constraints`, :meth:`valuesdict` and a fit
    refuse to go on.  Extra symbols can be given as ``usersyms`` (a mapping
    name -> value or function).

    A parameter may be named like a default symbol of the namespace (``e``,
    ``max``, ``sum``, a function pack's ``step``): as in lmfit, the name then
    means the parameter in this set's expressions, and the default comes back
    when the parameter leaves.  Names the user put in the namespace
    (``usersyms``, functions defined in interpreter text) are refused.

    Copies, pickles and JSON (:meth:`dumps`) keep the user symbols; a
    function defined in interpreter text (``params.interpreter('def f(v): ...')``)
    is saved as its def statement, which the set's interpreter notes when it
    runs the text (an :class:`~lmfit_host.expr.Interpreter` given to a set
    starts noting from then on).  A symbol that cannot be saved (a lambda;
    for JSON any Python function) is an error naming it, never dropped
    silently.

    Operations are all-or-nothing: one that fails (bad name, syntax error,
    cycle, bad bounds) leaves the set as it was.

    >>> params = Parameters()
    >>> params.add('amp', value=10, min=0)
    >>> params.add_many(('cen', 4.0, True, None, None, None), ('wid', 1.0, False))
    >>> params.add('fwhm', expr='2.3548*wid')
    >>> params.valuesdict()
    {'amp': 10.0, 'cen': 4.0, 'wid': 1.0, 'fwhm': 2.3548}
    """

    def __init__(self, usersyms: Optional[Mapping[str, Any]] = None, *,
                 interpreter: Optional[Interpreter] = None) -> None:
        super().__init__()
        pending: Optional[_PendingCopy] = None
        if type(interpreter) is _PendingCopy:
            # a copy of another set's namespace (copy(), a fit's result.params): its
            # interpreter is built when something first needs it, often never
            pending, interpreter = cast(_PendingCopy, interpreter), None
        elif interpreter is None:
            interpreter = _TextKeepingInterpreter()
        elif type(interpreter) is Interpreter:
            # from now on it notes the def statements run through it, so that the
            # functions they define can be saved; it behaves the same otherwise
            interpreter.__class__ = _TextKeepingInterpreter
        self._built: Optional[Interpreter] = interpreter
        self._pending = pending
        self._symtable: Dict[str, Any] = \
            pending.table if pending is not None else interpreter.symtable  # type: ignore[union-attr]
        self._runner: Optional[Callable[[], None]] = None
        self._order: Tuple[str, ...] = ()   # constrained names in dependency order
        # parameter -> why it cannot be computed, from the last refresh (None: all computed)
        self._failures: Optional[Dict[str, ExpressionError]] = None
        self._stale = False
        if usersyms:
            self._symtable.update(usersyms)

    # --- the namespace ----------------------------------------------------------

    @property
    def _interp(self) -> Interpreter:
        """The interpreter of this set, built now if it was left pending."""
        built = self._built
        if built is None:
            assert self._pending is not None
            built = self._built = self._pending.build()
            self._pending = None
        return built

    @property
    def _namespace(self) -> Union[Interpreter, _PendingCopy]:
        """What compiles expressions and names the origin of symbols, without building a
        pending interpreter."""
        return self._built if self._built is not None else self._pending  # type: ignore[return-value]

    @property
    def interpreter(self) -> Interpreter:
        """The Interpreter whose symtable holds these parameters' values.

        Symbols added to its symtable can be used in expressions.  Getting it
        marks the constraints for recomputation, since the caller may change
        symbols; if you keep a reference and change symbols later, call
        :meth:`update_constraints`.
        """
        self._stale = True
        return self._interp

    @property
    def _asteval(self) -> Interpreter:
        """lmfit 1.x's name for :attr:`interpreter`."""
        return self.interpreter

    def eval(self, expr: str) -> Any:
        """Evaluate an expression in this set's namespace, with current values.

        An expression that reads a parameter which cannot be computed raises
        that parameter's error.

        >>> params = Parameters(); params.add('a', 2.0)
        >>> params.eval('a**2 + 1')
        5.0
        """
        if self._stale:
            self._refresh()
            failures = self._failures
            if failures:
                reads = self._interp.compile_expression(expr).names
                for name, error in failures.items():
                    if name in reads:
                        raise error.with_traceback(None)
        result = self._interp.eval(expr)
        self._stale = True
        return result

    # --- constraints ------------------------------------------------------------

    def _structure_changed(self) -> None:
        self._runner = None
        self._stale = True

    def _expression_names(self) -> Dict[str, frozenset]:
        return {name: par._compiled.names for name, par in dict.items(self)
                if par._compiled is not None}

    def _rebuild(self) -> Callable[[], None]:
        deps = self._expression_names()
        if not deps:
            self._order = ()
            self._runner = _noop
            return _noop
        # functions a pack registered since this set's interpreter was made count too
        self._interp._take_new_defaults()
        order = _topological_order(deps)
        self._order = tuple(order)
        read_by_others = set().union(*deps.values())
        symtable = self._symtable
        steps: List[Callable[[], None]] = []
        pending: List[Tuple[str, CompiledExpression]] = []
        late_clamps: List[Callable[[], None]] = []
        for name in order:
            par = dict.__getitem__(self, name)
            assert par._compiled is not None  # ``order`` holds only constrained parameters
            pending.append((name, par._compiled))
            if par._min > -_INF or par._max < _INF:
                clamp = _make_clamp(symtable, name, par._min, par._max)
                if name in read_by_others:
                    # dependents must see the clamped value: cut the block here
                    steps.append(self._interp.compile_block(pending))
                    pending = []
                    steps.append(clamp)
                else:
                    late_clamps.append(clamp)
        if pending:
            steps.append(self._interp.compile_block(pending))
        steps.extend(late_clamps)
        if len(steps) == 1:
            runner = steps[0]
        else:
            def runner() -> None:
                for step in steps:
                    step()
        self._runner = runner
        return runner

    def _refresh(self) -> None:
        """Recompute the constrained values; what cannot be computed goes to ``_failures``.

        One failing expression must not hide the values of the others: when
        the compiled block fails, the expressions run one at a time and each
        parameter that cannot be computed (or reads one that cannot) records
        its error.  The set then stays stale, so the next read tries again
        (the namespace may have gained the missing name meanwhile).
        """
        runner = self._runner
        if runner is None:
            runner = self._rebuild()
        try:
            runner()
        except ExpressionError:
            ok = False
        else:
            ok = True
            symtable = self._symtable
            for name in self._order:
                value = symtable[name]
                if type(value) is not float and not _is_real_result(value):
                    ok = False
                    break
        if not ok:
            failures = self._evaluate_one_by_one()
            self._failures = failures
            self._stale = failures is not None
            return
        if self._failures is not None:
            self._failures = None
        self._stale = False

    def _evaluate_one_by_one(self) -> Optional[Dict[str, ExpressionError]]:
        """Compute each constrained value on its own, in dependency order; return the failures.

        A value that is not a real number (a tuple, a string, a complex) is a
        failure too; the parameter is left without a value (None).
        """
        symtable = self._symtable
        evaluate = self._interp.evaluate
        failures: Dict[str, ExpressionError] = {}
        for name in self._order:
            par = dict.__getitem__(self, name)
            compiled = par._compiled
            reads = compiled.names  # type: ignore[union-attr]
            cause = next((error for failed, error in failures.items() if failed in reads), None)
            if cause is not None:
                failures[name] = cause   # its input is missing: report the root cause
                continue
            try:
                value = evaluate(compiled)  # type: ignore[arg-type]
            except ExpressionError as exc:
                failures[name] = self._explain_failure(name, par, exc).with_traceback(None)
                continue
            if not _is_real_result(value):
                failures[name] = _not_a_number(name, par._expr, value)
                symtable[name] = None   # the set never holds a non-number as a value
                continue
            symtable[name] = _clamped(value, par._min, par._max)
        return failures or None

    def _explain_failure(self, name: str, par: Parameter,
                         error: ExpressionError) -> ExpressionError:
        """The error to report for ``par``: name the parameter without a value, if that is why."""
        if not isinstance(error.__cause__, TypeError):
            return error   # None in arithmetic shows up as a TypeError; others say enough
        shadowed = self._shadowed_calls(par._compiled)  # type: ignore[arg-type]
        if shadowed:
            called = shadowed[0]
            origin = self._namespace.symbol_origin(called) or "default"
            explained = ExpressionRuntimeError(
                f"expression {par._expr!r} of parameter {name!r} calls {called}(), but in this "
                f"set {called!r} is a parameter (value {self._symtable.get(called)!r}), which "
                f"shadows the {origin}'s function {called}; rename the parameter {called!r} "
                f"to call the function [the evaluation failed with "
                f"{type(error.__cause__).__name__}: {error.__cause__}]", par._expr, name)
            explained.__cause__ = error
            return explained
        missing = self._valueless_inputs(par._compiled.names)  # type: ignore[union-attr]
        if not missing:
            return error
        first = missing[0]
        explained = ExpressionRuntimeError(
            f"parameter {first!r} has no value (None); expression {par._expr!r} of parameter "
            f"{name!r} needs it: give {first!r} a value (params[{first!r}].value = ...) "
            f"[the evaluation failed with {type(error.__cause__).__name__}: {error.__cause__}]",
            par._expr, name)
        explained.__cause__ = error
        return explained

    def _shadowed_calls(self, compiled: CompiledExpression) -> List[str]:
        """Names an expression calls that are parameters here, shadowing a default function."""
        tree = compiled._checked
        if tree is None:
            return []
        found: List[str] = []
        namespace = self._namespace
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called = node.func.id
                if called in found or not dict.__contains__(self, called):
                    continue
                try:
                    default = namespace.default_value(called)
                except KeyError:
                    continue
                if callable(default):
                    found.append(called)
        return found

    def _valueless_inputs(self, reads: Iterable[str]) -> List[str]:
        """The parameters without a value that ``reads`` depend on, traced through constraints.

        A constrained parameter whose value is None is followed to its own
        inputs; it is named itself only if none of them lacks a value.
        """
        symtable = self._symtable
        found: List[str] = []
        seen: set = set()
        todo = [n for n in dict.keys(self) if n in reads]
        while todo:
            name = todo.pop(0)
            if name in seen or symtable.get(name) is not None:
                continue
            seen.add(name)
            compiled = dict.__getitem__(self, name)._compiled
            inputs = [] if compiled is None else \
                [n for n in dict.keys(self) if n in compiled.names and symtable.get(n) is None]
            if inputs:
                todo.extend(inputs)
            elif name not in found:
                found.append(name)
        return found

    def _raise_failure_of(self, name: str) -> None:
        """Raise the error of ``name`` if the last refresh could not compute it."""
        failures = self._failures
        if failures is not None and name in failures:
            raise failures[name].with_traceback(None)

    def _raise_first_failure(self) -> None:
        failures = self._failures
        if failures:
            raise next(iter(failures.values())).with_traceback(None)

    def _check_names_known(self) -> None:
        known = self._interp.symtable.keys()
        for name, par in dict.items(self):
            compiled = par._compiled
            if compiled is None or compiled.names <= known:
                continue
            for used in self._interp.unknown_names(compiled):
                close = suggested_name(used, self._interp.symtable)
                maybe = f" (did you mean {close}?)" if close else ""
                raise UnknownNameError(
                    f"expression {par._expr!r} of parameter {name!r} uses unknown name "
                    f"{used!r}{maybe}: add a parameter or symbol named {used!r}, or change the "
                    f"expression", par._expr, name, used)

    def update_constraints(self) -> None:
        """Recompute every constrained parameter now, in dependency order.

        Raises UnknownNameError if an expression names something that is
        neither a parameter nor a symbol (checked for every name, even in a
        branch that is not taken), and the evaluation errors of expr.py.
        A fit calls this before it starts.
        """
        # run first: the evaluation's own error names the function pack of a missing name
        self._refresh()
        self._raise_first_failure()
        self._check_names_known()

    def check_ready_for_fit(self) -> None:
        """Raise ParameterError unless a fit can start from these parameters.

        Every varied parameter needs a finite value and every fixed one a
        value; all are named in one message.  Then runs
        :meth:`update_constraints`, so unknown names and failing expressions
        are reported too.

        >>> params = Parameters(); params.add('a')
        >>> params.check_ready_for_fit()
        Traceback (most recent call last):
        ...
        lmfit_host.errors.ParameterError: cannot start a fit: parameter 'a' is varied but has no value (None); give it a finite start value
        """
        problems = []
        for name, par in dict.items(self):
            if par._expr is not None:
                continue
            number = par._raw_value()
            if number is None:
                problems.append(f"parameter {name!r} is {'varied' if par._vary else 'fixed'} "
                                f"but has no value (None)")
            elif par._vary and not math.isfinite(number):
                problems.append(f"parameter {name!r} is varied but its value is {number!r}")
        if problems:
            raise ParameterError("cannot start a fit: " + "; ".join(problems) +
                                 "; give " + ("it" if len(problems) == 1 else "each") +
                                 " a finite start value")
        self.update_constraints()

    def _set_values_fast(self, names: Sequence[str], values: Iterable[float]) -> None:
        """The fit's hot path: write values of plain parameters, then recompute the constraints.

        No checks at all: the names must be plain (non-expression)
        parameters of this set and the values already within bounds.
        ``init_value`` is left alone.  Pass Python floats (``x.tolist()``)
        for the best speed.
        """
        self._symtable.update(zip(names, values))
        runner = self._runner
        if runner is None:
            runner = self._rebuild()
        runner()
        self._stale = False

    def _set_values_from_fit(self, values: Mapping[str, Any]) -> None:
        """Store a fit's values as they are, computed ones included (the Minimizer's write-back).

        The fit ran in another namespace (a Minimizer's interpreter may hold
        functions this set lacks), so constrained values are taken, not
        recomputed here; they are recomputed in this set's namespace when a
        value changes next.  No bounds checks, no warnings, ``init_value``
        untouched.
        """
        self._symtable.update((name, values[name]) for name in dict.keys(self) if name in values)
        if all(name in values for name, par in dict.items(self) if par._expr is not None):
            self._stale = not self._computed_values_real()
        else:
            self._stale = True

    def _computed_values_real(self) -> bool:
        """Whether every constrained value is a real number (or None).

        A constraint block run by a fit stores what its expressions give,
        unchecked (a fit step must be cheap); at the end of a fit a value
        that is not a real number marks the set for recomputation, which
        reports it when the value is read.
        """
        symtable = self._symtable
        # the constrained names in order, while the block that computes them is current
        names = self._order if self._runner is not None else \
            [name for name, par in dict.items(self) if par._expr is not None]
        values = list(map(symtable.get, names))
        return all([type(value) is float for value in values]) or \
            all(_is_real_result(value) for value in values)

    # --- adding and removing ------------------------------------------------------

    def _check_new_name(self, name: Any, pending: Iterable[str] = ()) -> None:
        """Refuse a name that is not an identifier, or that the user's own symbols hold.

        A default symbol's name (``e``, ``max``, ``sum``, a function pack's
        ``step``) is free: the parameter shadows the symbol while it is in
        the set, as in lmfit, and the default comes back when it leaves.
        """
        _check_name(name)
        if name in self or name in pending:
            return
        namespace = self._namespace
        if name in self._symtable and not namespace.holds_default(name):
            origin = namespace.symbol_origin(name)
            where = (f"a value put in this set's interpreter in place of {name!r} of {origin}"
                     if origin else "a symbol added to this set's interpreter")
            raise ParameterError(
                f"parameter name {name!r} is not allowed: the expression namespace already "
                f"holds {name!r} (from {where}); choose another name")

    def _prepare_expr(self, par: Parameter, text: str) -> CompiledExpression:
        """Compile ``text`` for ``par`` and refuse it if it would close a cycle."""
        compiled = self._namespace.compile_expression(text, owner=par._name)
        deps = self._expression_names()
        deps[par._name] = compiled.names  # type: ignore[index]
        cycle = _find_cycle(deps, [par._name])  # type: ignore[list-item]
        if cycle:
            sources = {n: p._expr for n, p in dict.items(self) if p._expr is not None}
            sources[par._name] = text  # type: ignore[index]
            raise _cycle_error(cycle, sources)
        return compiled

    def _commit_expr(self, par: Parameter, text: Optional[str],
                     compiled: Optional[CompiledExpression]) -> None:
        if text is None:
            # the parameter becomes plain and keeps its latest computed value
            self._refresh_if_possible()
        par._expr = text
        par._compiled = compiled
        self._structure_changed()

    def _add_parameters(self, pairs: Sequence[Tuple[str, Parameter]]) -> None:
        """Add (name, Parameter) pairs all at once, or none if any is refused.

        A Parameter that already belongs to another set (or to this one under
        another name) is copied, so two sets never share a Parameter object.
        """
        prepared: List[Tuple[str, Parameter, Optional[CompiledExpression]]] = []
        pending: Dict[str, Parameter] = {}
        taken = set()
        for name, par in pairs:
            if not isinstance(par, Parameter):
                raise ParameterError(
                    f"parameter {name!r}: a Parameters set holds Parameter objects, got "
                    f"{par!r}; use params.add({name!r}, value) for a number")
            self._check_new_name(name, pending)
            same_slot = par._owner is self and par._name == name
            if (par._owner is not None and not same_slot) or id(par) in taken:
                par = _copy.copy(par)
            taken.add(id(par))
            compiled = None
            if par._expr is not None:
                compiled = self._namespace.compile_expression(par._expr, owner=name)
            prepared.append((name, par, compiled))
            pending[name] = par
        deps = self._expression_names()
        sources = {n: p._expr for n, p in dict.items(self) if p._expr is not None}
        for name, par, compiled in prepared:
            if compiled is None:
                deps.pop(name, None)
                sources.pop(name, None)
            else:
                assert par._expr is not None  # ``compiled`` was compiled from it
                deps[name] = compiled.names
                sources[name] = par._expr
        cycle = _find_cycle(deps, [name for name, _, _ in prepared])
        if cycle:
            raise _cycle_error(cycle, sources)  # type: ignore[arg-type]
        namespace = self._namespace
        shadowing = [name for name, _, _ in prepared
                     if not dict.__contains__(self, name) and namespace.holds_default(name)]
        for name, par, compiled in prepared:
            old = dict.get(self, name)
            if old is par:
                continue
            if old is not None:
                self._release(old)
            par._name = name
            par._owner = self
            par._compiled = compiled
            self._symtable[name] = par._val
            dict.__setitem__(self, name, par)
        self._structure_changed()
        if shadowing:
            # last: the set is complete, so warnings-as-errors cannot leave it half-changed
            self._warn_shadowing(shadowing, set(pending))

    def _warn_shadowing(self, names: Sequence[str], added: Iterable[str]) -> None:
        """Warn when new parameters shadow default symbols that expressions already in the
        set read: those expressions silently change meaning (added together, they meant
        the parameters from the start)."""
        namespace = self._namespace
        before = set(added)
        for name in names:
            readers = [f"{n} = {p._expr!r}" for n, p in dict.items(self)
                       if n not in before and p._compiled is not None
                       and name in p._compiled.names]
            if not readers:
                continue
            origin = namespace.symbol_origin(name) or "default"
            _warn_from_caller(
                f"parameter {name!r} shadows {name!r} of the {origin}: the expression"
                f"{'s' if len(readers) > 1 else ''} {', '.join(readers)} now read"
                f"{'' if len(readers) > 1 else 's'} the parameter's value; rename the parameter "
                f"to keep the {origin}'s {name} there", ShadowedNameWarning)

    def _refresh_if_possible(self) -> None:
        """Bring computed values up to date where possible, before parameters leave or change."""
        if self._stale:
            try:
                self._refresh()
            except ExpressionError:
                pass  # they keep their last computed values

    def _release(self, par: Parameter, refresh: bool = True) -> None:
        """Detach ``par`` from this set; it keeps its latest value."""
        if refresh and par._expr is not None:
            self._refresh_if_possible()
        name: str = par._name  # type: ignore[assignment]  # an owned parameter has a name
        par._val = self._symtable.get(name)
        self._vacate(name)
        par._owner = None
        par._compiled = None

    def _vacate(self, name: str) -> None:
        """Take a leaving parameter's name out of the namespace: the default symbol it
        shadowed (``e``, ``max``, a pack's function) comes back, any other name goes."""
        try:
            self._symtable[name] = self._namespace.default_value(name)
        except KeyError:
            self._symtable.pop(name, None)

    def _dependents(self, names: Iterable[str]) -> Dict[str, str]:
        leaving = set(names)
        return {n: p._expr for n, p in dict.items(self)  # type: ignore[misc]
                if p._compiled is not None and n not in leaving and
                p._compiled.names & leaving}

    def _remove(self, names: Sequence[str]) -> List[Parameter]:
        for name in names:
            if name not in self:
                raise KeyError(name)
        users = self._dependents(names)
        if users:
            which = ", ".join(repr(n) for n in names)
            uses = ", ".join(f"{n} = {e!r}" for n, e in users.items())
            raise ParameterError(
                f"cannot remove parameter {which}: the expressions of {uses} use it; "
                f"change or clear those expressions first")
        removed = []
        for name in names:
            par = dict.__getitem__(self, name)
            self._release(par)
            dict.__delitem__(self, name)
            removed.append(par)
        self._structure_changed()
        return removed

    def __setitem__(self, name: str, par: Parameter) -> None:
        """``params[name] = Parameter(...)``: add or replace, giving the Parameter that name."""
        self._add_parameters([(name, par)])

    def __delitem__(self, name: str) -> None:
        """Remove a parameter; refused, naming them, if expressions use it."""
        self._remove([name])

    def __missing__(self, name: str) -> Parameter:
        known = ", ".join(repr(n) for n in self) or "none"
        raise KeyError(f"no parameter named {name!r} (parameters: {known})")

    def add(self, name: Union[str, Parameter], value: Any = None, vary: Optional[bool] = True,
            min: Any = None, max: Any = None, expr: Optional[str] = None,
            brute_step: Optional[float] = None, user_data: Any = None) -> None:
        """Add a parameter by name and attributes, or add a Parameter object.

        >>> params = Parameters()
        >>> params.add('xvar', value=0.50, min=0, max=1)
        >>> params.add('yvar', expr='1.0 - xvar')
        >>> params.add(Parameter(2.0, name='zvar'))
        """
        if isinstance(name, Parameter):
            if name.name is None:
                raise ParameterError("cannot add a Parameter without a name; give it "
                                     "name=... or use params[name] = parameter")
            self._add_parameters([(name.name, name)])
            return
        _check_name(name)
        par = Parameter(value=value, vary=vary, min=min, max=max, name=name, expr=expr,
                        brute_step=brute_step, user_data=user_data)
        self._add_parameters([(name, par)])

    def add_many(self, *parlist: Union[Parameter, ParameterTuple]) -> None:
        """Add several parameters at once; expressions are checked after all are in.

        Each item is a Parameter (with a name) or a tuple
        ``(name, value, vary, min, max, expr, brute_step)`` of which only the
        name is required.  All items are added, or none if one is refused.

        >>> params = Parameters()
        >>> params.add_many(('amp', 10, True, None, None, None),
        ...                 ('cen', 4, True, 0.0, None, None),
        ...                 ('half', None, False, None, None, 'amp/2'),
        ...                 Parameter(1.0, name='wid'))
        >>> list(params)
        ['amp', 'cen', 'half', 'wid']
        """
        pairs = []
        for item in parlist:
            if isinstance(item, Parameter):
                if item.name is None:
                    raise ParameterError("add_many: a Parameter without a name cannot be "
                                         "added; give it name=...")
                pairs.append((item.name, item))
            else:
                if isinstance(item, str) or not isinstance(item, (tuple, list)) or not item:
                    raise ParameterError(
                        f"add_many takes Parameters or tuples (name, value, vary, min, max, "
                        f"expr, brute_step), got {item!r}")
                name = item[0]
                _check_name(name)
                par = Parameter(*item)
                pairs.append((name, par))
        self._add_parameters(pairs)

    def update(self, other: Any = (), **kwargs: Parameter) -> "Parameters":  # type: ignore[override]
        """Add or replace parameters from another Parameters (or a mapping name -> Parameter).

        From a Parameters set, its interpreter's user symbols that this set
        lacks are copied too.  Parameters that belong to another set are
        copied.  Returns self (as lmfit 1.x does).

        >>> first = Parameters(); first.add('a', 1.0)
        >>> other = Parameters(); other.add('b', expr='2*a')
        >>> first.update(other)['b'].value
        2.0
        """
        if isinstance(other, Mapping):
            pairs = list(other.items())
        else:
            pairs = list(other)
        pairs.extend(kwargs.items())
        self._add_parameters(pairs)
        if isinstance(other, Parameters):
            self._take_user_symbols(other, overwrite=False)
        return self

    def _take_user_symbols(self, other: "Parameters", overwrite: bool) -> None:
        adopt = self._interp.adopt_function
        for key in other._user_symbol_names():
            if overwrite or key not in self._symtable:
                # a function defined in text must read this set's names, not the other's
                self._symtable[key] = adopt(other._symtable[key])
        self._stale = True

    def _user_symbol_names(self) -> List[str]:
        return [n for n in self._namespace.user_names() if n not in self]

    def _copied_namespace(self) -> Union[_PendingCopy, Interpreter]:
        """A copy of this set's namespace for a new set, its interpreter built on first need
        (:class:`Parameters` takes it in place of an interpreter); an interpreter of the
        user's own class is copied by its own ``copy()``, at once."""
        built = self._built
        if built is None:
            # still pending here: copy the pending table, with the same original
            assert self._pending is not None
            return self._pending.copy()
        if type(built) is not _TextKeepingInterpreter:
            return built.copy()
        return built._copy_later(_TextKeepingInterpreter)

    def setdefault(self, name: str, par: Parameter) -> Parameter:  # type: ignore[override]
        """Return ``self[name]``, first adding ``par`` under that name if it is missing."""
        if name not in self:
            self[name] = par
        return dict.__getitem__(self, name)

    _NO_DEFAULT: Any = object()

    def pop(self, name: str, default: Any = _NO_DEFAULT) -> Any:  # type: ignore[override]
        """Remove and return a parameter (refused, naming them, if expressions use it).

        The returned Parameter belongs to no set and keeps its last value.
        """
        if name not in self:
            if default is self._NO_DEFAULT:
                raise KeyError(name)
            return default
        return self._remove([name])[0]

    def popitem(self) -> Tuple[str, Parameter]:
        """Remove and return the last (name, Parameter) pair."""
        if not self:
            raise KeyError("popitem(): Parameters is empty")
        name = next(reversed(self))
        return name, self._remove([name])[0]

    def clear(self) -> None:
        """Remove all parameters (user symbols of the interpreter stay)."""
        self._refresh_if_possible()
        self._stale = False   # nothing left to recompute while parameters leave
        for par in list(dict.values(self)):
            self._release(par)
        dict.clear(self)
        self._structure_changed()

    def set(self, **kws: Union[Number, Mapping[str, Any]]) -> None:
        """Set values or attributes of several parameters, as lmfit 1.x's ``Parameters.set``.

        Each keyword is a parameter name (created if missing); its value is a
        number (the new value) or a dict of ``Parameter.set`` arguments.  All
        changes apply, or none if one fails.

        >>> params = Parameters()
        >>> params.set(a=1.0, b={'value': 3, 'min': 0}, c={'expr': 'a + b'})
        >>> params['c'].value
        4.0
        """
        snapshot = self._snapshot()
        try:
            # the new names first, together: an expression given here reads them, also
            # one called like a default symbol (e, max) that comes later in the call
            self._add_parameters([(name, Parameter(name=name)) for name in kws
                                  if name not in self])
            for name, spec in kws.items():
                par = dict.__getitem__(self, name)
                if isinstance(spec, Mapping):
                    par.set(**spec)
                else:
                    par.set(value=spec)
        except BaseException:
            self._restore(snapshot)
            raise

    def _snapshot(self) -> Tuple[Any, ...]:
        items = list(dict.items(self))
        states = [dict(p.__dict__) for _, p in items]
        values = {n: self._symtable.get(n) for n, _ in items}
        return (items, states, values, self._runner, self._order, self._failures,
                self._stale)

    def _restore(self, snapshot: Tuple[Any, ...]) -> None:
        items, states, values, runner, order, failures, stale = snapshot
        for name in dict.keys(self):
            if name not in values:
                self._vacate(name)
        dict.clear(self)
        for (name, par), state in zip(items, states):
            par.__dict__.clear()
            par.__dict__.update(state)
            dict.__setitem__(self, name, par)
        self._symtable.update(values)
        self._runner = runner
        self._order = order
        self._failures = failures
        self._stale = stale

    # --- reading ----------------------------------------------------------------

    def valuesdict(self) -> Dict[str, Optional[float]]:
        """Return a dict name -> current value, in order.

        >>> params = Parameters(); params.add('a', 1.0); params.add('b', expr='a + 1')
        >>> params.valuesdict()
        {'a': 1.0, 'b': 2.0}
        """
        if self._stale:
            self._refresh()
            self._raise_first_failure()
        symtable = self._symtable
        return {name: symtable[name] for name in self}

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        return np.array(list(self.valuesdict().values()), dtype=dtype)

    # --- copying ------------------------------------------------------------------

    def _copy_into(self, new: "Parameters", memo: Optional[Dict[int, Any]],
                   overwrite_symbols: bool) -> "Parameters":
        """Fill the empty set ``new`` with deep copies of these parameters and user symbols."""
        self._refresh_if_possible()
        for name in dict.keys(self):
            # a copied symtable holds our values under our names: the new parameters take them
            if name in new._symtable and new._namespace.symbol_origin(name) is None:
                del new._symtable[name]
        for key in self._user_symbol_names():
            if key in new._symtable and not overwrite_symbols:
                continue
            value = self._symtable[key]
            if type(value) is FunctionType:
                # shared, as lmfit does; one defined in text is re-made to read the copy's
                # names (by the copy's interpreter when it is built, if it is not yet)
                pending = new._pending
                if pending is None or not pending.adopts(value):
                    value = new._interp.adopt_function(value)
            else:
                try:
                    value = _copy.deepcopy(value, memo)
                except Exception:
                    pass  # objects that cannot be copied are shared
            new._symtable[key] = value
        # Names, bounds and expressions were checked when they entered this set
        # and the namespace was checked by the caller: clone without re-checking
        # (a fit copies its Parameters every time; this is on its setup path).
        new._add_clones([(name, par.__dict__) for name, par in dict.items(self)],
                        self._symtable, memo, deep=True)
        return new

    def _add_clones(self, states: Sequence[Tuple[str, Mapping[str, Any]]],
                    values: Mapping[str, Any], memo: Optional[Dict[int, Any]] = None,
                    deep: bool = False) -> None:
        """Add clones of parameters, given as (name, the attributes of a Parameter that
        belonged to a set), with their values; no checks: they were checked when they
        entered that set, and the caller checked this set's namespace. ``deep`` copies
        their ``user_data`` too (else it is shared)."""
        symtable = self._symtable
        for name, attributes in states:
            clone = Parameter.__new__(Parameter)
            state = dict(attributes)
            found = state["_correl"]
            # a CorrelationRow is read-only: shared, each clone makes its own dict on reading
            if found is not None and type(found) is not CorrelationRow:
                state["_correl"] = dict(found)
            if deep and state["user_data"] is not None:
                state["user_data"] = _copy.deepcopy(state["user_data"], memo)
            state["_owner"] = self
            clone.__dict__ = state
            symtable[name] = values.get(name)
            dict.__setitem__(self, name, clone)
        self._structure_changed()

    def copy(self) -> "Parameters":
        """A deep copy: new Parameter objects and a new interpreter with the same symbols.

        A fit works on such a copy, so it never changes the original.

        >>> params = Parameters(); params.add('a', 1.0)
        >>> clone = params.copy(); clone['a'].value = 2.0
        >>> params['a'].value, clone['a'].value
        (1.0, 2.0)
        """
        self._refresh_if_possible()  # first: it may build this set's own interpreter
        new = type(self)(interpreter=cast(Interpreter, self._copied_namespace()))
        return self._copy_into(new, memo=None, overwrite_symbols=True)

    def with_interpreter(self, interpreter: Interpreter) -> "Parameters":
        """A copy whose namespace is ``interpreter``: its symtable receives the parameter values.

        User symbols of this set that ``interpreter`` lacks are copied into it.
        The parameters take their names over in ``interpreter``: a default
        symbol of that name (``e``, ``max``) is shadowed while the parameter is
        in the copy and comes back when it leaves; any other symbol of that
        name is replaced (a Minimizer's interpreter holds the values of the
        parameters it was made from).

        >>> params = Parameters(); params.add('a', 1.0); params.add('e', 2.0)
        >>> interp = Interpreter()
        >>> work = params.with_interpreter(interp)
        >>> interp.symtable['a'], interp.eval('e')
        (1.0, 2.0)
        """
        new = type(self)(interpreter=interpreter)
        return self._copy_into(new, memo=None, overwrite_symbols=False)

    def __copy__(self) -> "Parameters":
        return self.copy()

    def __deepcopy__(self, memo: Optional[Dict[int, Any]]) -> "Parameters":
        self._refresh_if_possible()  # first: it may build this set's own interpreter
        new = type(self)(interpreter=cast(Interpreter, self._copied_namespace()))
        if memo is not None:
            memo[id(self)] = new
        return self._copy_into(new, memo=memo, overwrite_symbols=True)

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle support: parameters, user symbols, and text-defined functions as their text.

        A symbol that cannot be pickled (a lambda, a function defined inside
        another function) is an error naming it: nothing is left out silently.
        """
        self._refresh_if_possible()
        symbols, functions = _saved_symbols(self._symtable, self._user_symbol_names(),
                                            _SAVING_PARAMETERS)
        state = {"version": 1, "params": [p._state() for p in dict.values(self)],
                 "symbols": symbols, "functions": functions}
        return type(self), (), state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        # the user's symbols as they were, a default's name given another value included
        self._symtable.update(state.get("symbols", {}))
        functions = state.get("functions")
        if functions:
            _install_functions(self._interp, functions, "unpickling Parameters")
        pairs: List[Tuple[str, Parameter]] = []
        for par_state in state["params"]:
            par = Parameter.__new__(Parameter)
            par.__setstate__(par_state)
            pairs.append((cast(str, par.name), par))  # a pickled set's parameters have names
        self._add_parameters(pairs)

    def __add__(self, other: "Parameters") -> "Parameters":
        """``params1 + params2``: a copy of params1 updated with copies of params2's parameters."""
        if not isinstance(other, Parameters):
            return NotImplemented
        out = self.copy()
        out.update(other)
        return out

    def __iadd__(self, other: "Parameters") -> "Parameters":  # type: ignore[override]
        """``params1 += params2``: add (copies of) params2's parameters to params1."""
        if not isinstance(other, Parameters):
            return NotImplemented
        return self.update(other)

    def __or__(self, other: Any) -> "Parameters":  # type: ignore[override]
        return self.__add__(other)

    def __ior__(self, other: Any) -> "Parameters":  # type: ignore[override]
        return self.update(other)

    # --- JSON -----------------------------------------------------------------------

    def dumps(self, *, leave_out: Iterable[str] = (), **kws: Any) -> str:
        """Return the set as JSON text; :meth:`loads` restores it exactly.

        Floats round-trip exactly; inf, -inf and NaN are written as the
        strings "inf", "-inf", "nan", so the text is standard JSON.  Bounds
        given as None stay None.  Constrained values are brought up to date
        first (where they can be computed).

        User symbols of the interpreter are written when they are JSON-like
        (numbers, strings, lists, tuples, dicts, real numpy arrays) and
        functions defined in interpreter text are written as their def
        statement.  Any other symbol (a Python function, a lambda, another
        object) is an error naming it, as for pickle: name it in
        ``leave_out`` to write the set without it, and give it again when
        loading (``Parameters(usersyms={'f': f}).loads(text)``).
        ``user_data`` that has no JSON form is left out with a warning.
        Other keyword arguments go to ``json.dumps`` (e.g. ``indent=2``).

        >>> params = Parameters(); params.add('a', 2.0)
        >>> params.interpreter('def dbl(v):\\n    return 2*v')
        >>> params.add('b', expr='dbl(a)')
        >>> Parameters.loads(params.dumps())['b'].value
        4.0
        """
        self._refresh_if_possible()
        skipped = set(leave_out)
        records = []
        for name, par in dict.items(self):
            record = {
                "name": name, "value": _float_to_json(par._raw_value()), "vary": par._vary,
                "min": _float_to_json(par._min_given), "max": _float_to_json(par._max_given),
                "expr": par._expr, "init_value": _float_to_json(par.init_value),
                "stderr": _float_to_json(par.stderr),
                "correl": None if par.correl is None else
                {k: _float_to_json(v) for k, v in par.correl.items()},
                "brute_step": _float_to_json(par.brute_step),
            }
            if par.user_data is not None:
                try:
                    record["user_data"] = _data_to_json(par.user_data)
                except TypeError as exc:
                    warnings.warn(f"parameter {name!r}: user_data left out of the JSON: {exc}",
                                  stacklevel=2)
            records.append(record)
        symbols: Dict[str, Any] = {}
        functions: Dict[str, str] = {}
        for key in self._user_symbol_names():
            if key in skipped:
                continue
            value = self._symtable[key]
            text = _def_text(value)
            if text is not None:
                functions[key] = text
                continue
            advice = _unsaved_def_advice(key, value)
            if advice is None:
                try:
                    symbols[key] = _data_to_json(value)
                except TypeError:
                    advice = (f"JSON has no form for it (it holds numbers, strings, lists, "
                              f"tuples, dicts, real numpy arrays and functions defined in "
                              f"interpreter text); define it in text (params.interpreter('def "
                              f"{key}(...): ...')), or write the set without it, "
                              f"dumps(leave_out=[{key!r}]), and give it again when loading: "
                              f"Parameters(usersyms={{{key!r}: ...}}).loads(text)")
                else:
                    continue
            raise ParameterError(
                f"cannot write these Parameters as JSON: symbol {key!r} of their interpreter "
                f"({_describe_object(value)}) cannot be saved: {advice}")
        version = _FORMAT_VERSION if functions else 1   # older readers take what they can
        document: Dict[str, Any] = {"format": _FORMAT_NAME, "version": version,
                                    "params": records, "symbols": symbols}
        if functions:
            document["functions"] = functions
        kws.setdefault("allow_nan", False)
        return json.dumps(document, **kws)

    def _loads(self, s: Union[str, bytes], **kws: Any) -> "Parameters":
        """Load JSON text from :meth:`dumps` (or lmfit 1.x's ``dumps``).

        ``Parameters.loads(s)`` returns a new set; ``params.loads(s)``
        replaces the content of ``params`` and returns it (as lmfit 1.x).
        Keyword arguments go to ``json.loads``.

        >>> params = Parameters(); params.add('a', 1.5, max=float('inf'))
        >>> Parameters.loads(params.dumps())['a'].max
        inf
        """
        document = json.loads(s, **kws)
        pars, symbols, functions = _parse_document(document)
        for par in pars:
            self._check_new_name(par.name)   # against symbols this set already holds
        # build and check everything on a fresh set first, so a bad document changes nothing
        trial = type(self)()
        trial._symtable.update(symbols)   # the user's, a default's name given a value included
        _install_functions(trial._interp, functions, "JSON parameters")
        trial._add_parameters([(p.name, p) for p in pars])  # type: ignore[misc]
        for par in pars:
            trial._release(par, refresh=False)   # keep the loaded values as they are
        self.clear()
        self._symtable.update(symbols)
        _install_functions(self._interp, functions, "JSON parameters")
        self._add_parameters([(p.name, p) for p in pars])  # type: ignore[misc]
        return self

    loads = _ClassOrInstanceMethod(_loads, "loads")

    def dump(self, fp: IO[str], **kws: Any) -> int:
        """Write :meth:`dumps` text to an open text file; return the number of characters."""
        return fp.write(self.dumps(**kws))

    def _load(self, fp: IO[str], **kws: Any) -> "Parameters":
        """Read JSON written by :meth:`dump` from an open file (class or instance call, as loads)."""
        return self._loads(fp.read(), **kws)

    load = _ClassOrInstanceMethod(_load, "load")

    # --- display -------------------------------------------------------------------

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        items = [repr(p) for p in dict.values(self)]
        one_line = f"{type(self).__name__}({', '.join(items)})"
        if len(one_line) <= 100:
            return one_line
        return f"{type(self).__name__}(\n" + "".join(f"    {r},\n" for r in items) + ")"

    def pretty_repr(self, oneline: bool = False, colwidth: int = 8, precision: int = 4,
                    fmt: str = "g", columns: Sequence[str] = _PRETTY_COLUMNS) -> str:
        """Return the table that :meth:`pretty_print` prints (or the repr if ``oneline``)."""
        if oneline:
            return repr(self)
        if fmt not in ("g", "e", "f"):
            raise ParameterError(f"pretty_print: fmt must be 'g', 'e' or 'f', got {fmt!r}")
        header, rows = self._pretty_rows(precision, fmt, columns)
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        widths[1:] = [max(w, colwidth) for w in widths[1:]]

        def line(row: List[str]) -> str:
            return " ".join([row[0].ljust(widths[0])] +
                            [c.rjust(w) for c, w in zip(row[1:], widths[1:])]).rstrip()
        return "\n".join([line(header)] + [line(r) for r in rows])

    def _pretty_rows(self, precision: int, fmt: str, columns: Sequence[str]
                     ) -> Tuple[List[str], List[List[str]]]:
        """The header and the rows of :meth:`pretty_repr`'s table, as strings."""
        if self._stale:
            try:
                self._refresh()
            except ExpressionError:
                pass  # show what is stored; the table must print even when an expression fails

        def cell(par: Parameter, column: str) -> str:
            if column == "value":
                number = par._raw_value()
            elif column == "min":
                number = par._min
            elif column == "max":
                number = par._max
            else:
                number = getattr(par, column, None)
                if column in ("stderr", "brute_step") and isinstance(number, (int, float)):
                    return f"{number:.{precision}{fmt}}"
                return str(number)
            if number is None:
                return "None"
            return f"{number:.{precision}{fmt}}"

        header = ["Name"] + [c.title() for c in columns]
        return header, [[name] + [cell(par, c) for c in columns] for name, par in dict.items(self)]

    def _repr_html_(self) -> str:
        """The :meth:`pretty_print` table as HTML (what Jupyter shows for a Parameters set)."""
        header, rows = self._pretty_rows(4, "g", _PRETTY_COLUMNS)
        esc = html.escape
        return ("<table class='lmfit-host-parameters'><tr>"
                + "".join(f"<th>{esc(cell)}</th>" for cell in header) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
                          for row in rows)
                + "</table>")

    def pretty_print(self, oneline: bool = False, colwidth: int = 8, precision: int = 4,
                     fmt: str = "g", columns: Sequence[str] = _PRETTY_COLUMNS) -> None:
        """Print a table: one row per parameter; columns name, value, min, max, stderr, vary, expr.

        >>> params = Parameters(); params.add('amp', 5.0, min=0)
        >>> params.pretty_print()
        Name    Value      Min      Max   Stderr     Vary     Expr
        amp         5        0      inf     None     True     None
        """
        print(self.pretty_repr(oneline=oneline, colwidth=colwidth, precision=precision,
                               fmt=fmt, columns=columns))


def _clamped(number: Any, lower: float, upper: float) -> Any:
    """``number`` moved into [lower, upper]; None and non-numbers are returned as they are."""
    try:
        if number < lower:
            return lower
        if number > upper:
            return upper
    except (TypeError, ValueError):
        pass  # None or an array: nothing sensible to clamp
    return number


def _make_clamp(symtable: Dict[str, Any], name: str, lower: float,
                upper: float) -> Callable[[], None]:
    def clamp() -> None:
        number = symtable[name]
        try:
            if number < lower:
                symtable[name] = lower
            elif number > upper:
                symtable[name] = upper
        except (TypeError, ValueError):
            pass  # None or an array: nothing sensible to clamp
    return clamp


def create_params(**kws: Union[Number, Mapping[str, Any]]) -> Parameters:
    """Build a Parameters set from keywords, as lmfit 1.x's ``create_params``.

    >>> params = create_params(amp=2, sigma={'value': 3, 'min': 0}, fwhm={'expr': '2*sigma'})
    >>> params['fwhm'].value
    6.0
    """
    params = Parameters()
    params.set(**kws)
    return params


# --- JSON encoding helpers ------------------------------------------------------------


def _float_to_json(number: Optional[float]) -> Union[None, float, str]:
    if number is None:
        return None
    number = float(number)
    if math.isfinite(number):
        return number
    return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")


def _float_from_json(item: Any, what: str) -> Optional[float]:
    if item is None:
        return None
    if isinstance(item, str) and item in ("inf", "-inf", "nan", "Infinity", "-Infinity", "NaN"):
        return float(item.replace("Infinity", "inf"))
    if isinstance(item, (int, float)) and not isinstance(item, bool):
        return float(item)
    raise ParameterError(f"JSON parameters: {what} must be a number, null, 'inf', '-inf' or "
                         f"'nan', got {item!r}")


def _data_to_json(obj: Any) -> Any:
    """Tagged JSON form of user data: exact for numbers, keeps tuples, dicts and arrays apart."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        number = float(obj)
        return number if math.isfinite(number) else {"$float": _float_to_json(number)}
    if isinstance(obj, (complex, np.complexfloating)):
        return {"$complex": [_data_to_json(obj.real), _data_to_json(obj.imag)]}
    if isinstance(obj, list):
        return [_data_to_json(x) for x in obj]
    if isinstance(obj, tuple):
        return {"$tuple": [_data_to_json(x) for x in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("only dicts with string keys have a JSON form")
        return {"$dict": {k: _data_to_json(v) for k, v in obj.items()}}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        return {"$ndarray": {"dtype": obj.dtype.str, "shape": list(obj.shape),
                             "data": [_data_to_json(x) for x in obj.ravel().tolist()]}}
    raise TypeError(f"{type(obj).__name__} objects have no JSON form")


def _data_from_json(item: Any) -> Any:
    if isinstance(item, list):
        return [_data_from_json(x) for x in item]
    if not isinstance(item, dict):
        return item
    if len(item) == 1:
        ((tag, body),) = item.items()
        if tag == "$float":
            return _float_from_json(body, "a float")
        if tag == "$complex":
            return complex(_data_from_json(body[0]), _data_from_json(body[1]))
        if tag == "$tuple":
            return tuple(_data_from_json(x) for x in body)
        if tag == "$dict":
            return {k: _data_from_json(v) for k, v in body.items()}
        if tag == "$ndarray":
            data = [_data_from_json(x) for x in body["data"]]
            return np.array(data, dtype=np.dtype(body["dtype"])).reshape(body["shape"])
    raise ParameterError(f"JSON parameters: cannot decode data item {item!r}")


_LMFIT1_FIELDS = ("name", "value", "vary", "expr", "min", "max", "brute_step", "stderr",
                  "correl", "init_value", "user_data")


def _parse_document(document: Any) -> Tuple[List[Parameter], Dict[str, Any], Dict[str, str]]:
    """Turn a decoded JSON document (ours or lmfit 1.x's) into unbound Parameters, symbols and
    functions (symbol -> def text, checked when they are defined)."""
    functions: Dict[str, str] = {}
    if not isinstance(document, dict) or not isinstance(document.get("params"), list):
        raise ParameterError("JSON parameters: expected an object with a 'params' list, as "
                             "written by Parameters.dumps()")
    if "unique_symbols" in document:     # lmfit 1.x
        records = [dict(zip(_LMFIT1_FIELDS, rec)) if isinstance(rec, list) else rec
                   for rec in document["params"]]
        names = {rec.get("name") for rec in records if isinstance(rec, dict)}
        # lmfit lists parameter values, its own functions and its namespace's constants (e,
        # pi) among the symbols: keep the user's plain data, not the names this namespace has
        found = document["unique_symbols"]
        defaults = default_symbols().keys() | BUILTIN_NAMES
        symbols = {k: v for k, v in (found.items() if isinstance(found, dict) else ())
                   if k not in names and k not in defaults
                   and (isinstance(v, (int, float, str)) or v is None)}
        for record in records:
            if isinstance(record, dict):
                record.pop("user_data", None)   # encoded in lmfit's own scheme
    else:
        version = document.get("version")
        if document.get("format") != _FORMAT_NAME or not isinstance(version, int) or \
                version > _FORMAT_VERSION:
            raise ParameterError(
                f"JSON parameters: unknown format {document.get('format')!r} version "
                f"{version!r}; this lmfit-host reads {_FORMAT_NAME!r} up to version "
                f"{_FORMAT_VERSION}")
        records = document["params"]
        symbols = {k: _data_from_json(v) for k, v in document.get("symbols", {}).items()}
        functions = document.get("functions", {})
        if not isinstance(functions, dict):
            raise ParameterError("JSON parameters: 'functions' must be an object mapping each "
                                 "symbol to the text of its def statement")
    pars = []
    for record in records:
        if not isinstance(record, dict):
            raise ParameterError(f"JSON parameters: each parameter must be an object with a "
                                 f"'name', got {record!r}")
        name = record.get("name")
        _check_name(name)
        label = f"parameter {name!r}"
        correl = record.get("correl")
        state = {
            "name": name,
            "value": _float_from_json(record.get("value"), f"{label} value"),
            "vary": bool(record.get("vary", True)),
            "min": _float_from_json(record.get("min"), f"{label} min"),
            "max": _float_from_json(record.get("max"), f"{label} max"),
            "expr": record.get("expr"),
            "brute_step": _float_from_json(record.get("brute_step"), f"{label} brute_step"),
            "stderr": _float_from_json(record.get("stderr"), f"{label} stderr"),
            "correl": None if correl is None else
            {k: _float_from_json(v, f"{label} correl") for k, v in correl.items()},
            "init_value": _float_from_json(record.get("init_value"), f"{label} init_value"),
            "user_data": _data_from_json(record["user_data"]) if "user_data" in record
            else None,
        }
        if state["expr"] is not None and not isinstance(state["expr"], str):
            raise ParameterError(f"JSON parameters: {label} expr must be a string or null")
        par = Parameter.__new__(Parameter)
        par.__setstate__(state)
        _check_order(par._min, par._max, name)
        if par._expr is None:
            given = par._val
            par._val = par._clamp(given)   # a hand-edited file may break the bounds
            par._warn_moved(given, par._val)
        else:
            _scratch_interpreter().compile_expression(par._expr, owner=name)
        pars.append(par)
    return pars, symbols, functions
