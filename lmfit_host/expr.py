"""The safe expression compiler and Interpreter: parse, whitelist, bound, compile once, run.

Constraint expressions (``expr='2*a + sqrt(b)'``) and the text run through
:class:`Interpreter` come from config files, notebooks and other people, so
they are treated as hostile. Each text goes through four steps, once:

1. ``ast.parse`` (a syntax error quotes the text);
2. a whitelist check: only the seed's language and simple statements, no
   attribute access at all, no import, no name starting with ``_``;
3. a transform that routes the operations whose cost can grow (``**``,
   ``*``, ``+``, ``%``, ``<<``, and the other operators, comparisons and
   ``in`` where two arrays may broadcast, subscripts that may read or store
   through index arrays) through bounded helpers with a
   fast path for floats and arrays, and counts loop iterations,
   comprehension items and calls of functions defined in text;
4. ``compile()`` to a code object.

Every run then executes code objects with the interpreter's ``symtable`` as
the globals and a private ``__builtins__`` that holds only the helpers, so a
fit step runs compiled code, not a tree walk. A run also has budgets for
work, wall-clock time and memory growth (:class:`Limits`), and containers
are weighed before they are compared or hashed.

Constraint blocks (:meth:`Interpreter.compile_block`) compile all of a
Parameters set's expressions into one function with two bodies: native
float arithmetic, taken when a cheap guard confirms that the names read are
floats and the math functions are the pack's own, and the bounded version.

    >>> interp = Interpreter({"a": 2.0})
    >>> interp("b = 3 * a")
    >>> interp.eval("b + pi")
    9.141592653589793
"""

from __future__ import annotations

import ast
import builtins
import copy as _copy
import difflib
import functools
import keyword
import threading
import math
import operator
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, replace
from types import CodeType, FunctionType, MappingProxyType, TracebackType
from typing import (Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Set, Tuple, Type, Union)

import numpy as np

from lmfit_host.errors import (ExpressionError, ExpressionLimitError, ExpressionRuntimeError,
                               ExpressionSyntaxError, LmfitHostError, ParameterError,
                               UnknownNameError, UnsafeExpressionError)

__all__ = [
    "BUILTINS_ORIGIN", "CompiledExpression", "EQUIVALENT_NAMES", "Interpreter", "Limits",
    "Symbol",
    "charge_current_run", "check_broadcast_arguments", "check_identifier", "check_ordered_items",
    "default_symbols", "set_missing_name_hint", "set_symbol_provider", "suggested_name",
]

BUILTINS_ORIGIN = "lmfit-host interpreter builtins"
"""The origin reported by :meth:`Interpreter.symbol_origin` for range, len, list, ..."""

_HELPER_PREFIX = "__lh_"
_perf_counter = time.perf_counter
_ndarray = np.ndarray
_INF = math.inf


# --- public small types ----------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """One default name of the expression namespace, as a function pack provides it.

    ``value`` is used by scalar interpreters (constraint expressions),
    ``array_value`` by ``Interpreter(arrays=True)``; both are the same object
    when one function handles both. ``origin`` says who provides it, e.g.
    ``"lmfit-host math pack"`` or ``"function pack 'lmfit-host-specfun'"``.

        >>> import math
        >>> Symbol("sin", math.sin, math.sin, "lmfit-host math pack").origin
        'lmfit-host math pack'
    """

    name: str
    value: Any
    array_value: Any
    origin: str


@dataclass
class Limits:
    """Resource limits of one Interpreter; change attributes to tune them.

    Every run (one call of the interpreter, one ``evaluate``, one call of a
    compiled block, or one call of a text-defined function from Python)
    gets a fresh ``time_budget`` and ``max_work``.

        >>> interp = Interpreter()
        >>> interp.limits.time_budget = 5.0     # allow longer scripts
    """

    time_budget: float = 0.5
    """Wall-clock seconds one run may take (checked at each loop iteration and call)."""
    max_work: int = 5_000_000
    """Work units per run: loop iterations, comprehension items, calls of text functions,
    and elements (or 64-bit words of big integers) built by sequence and integer operations."""
    max_length: int = 1_000_000
    """Longest string, list or tuple one operation may build, and the longest range."""
    max_int_bits: int = 100_000
    """Largest integer (in bits) a power, product or shift may build."""
    max_array_size: int = 10_000_000
    """Largest numpy result (elements) of broadcasting two arrays against each other: in
    arithmetic (``+ - * / // % **``), bitwise operators, shifts, single comparisons and
    ``in``, pair by pair in a chained comparison, item by item where lists, tuples or
    dicts holding arrays are compared or put in order (``sorted``, ``max``, ``min``: bounded
    from the shapes at each depth of the items), in ``sum()``, and in the calls of functions
    of several arguments in interpreters built with ``arrays=True``; also the largest result
    of indexing an array through index arrays (``a[[0, 0, 0]]``, ``a[i, j]``, bounded from
    the shapes), and the largest store through them (``a[i, j] = 0.0``, ``a[i, j] += 1``:
    numpy walks that many index pairs)."""
    max_recursion: int = 100
    """Deepest nesting of calls of functions defined in text."""
    max_source_length: int = 100_000
    """Longest text (characters) that is compiled."""
    max_memory: int = 512 * 2 ** 20
    """Bytes by which one run may grow the process's resident memory (checked every 10 ms
    of loops and calls; on Linux exact, elsewhere from the peak, on Windows not checked)."""


# --- identifiers, symbols and hints -------------------------------------------------------


def check_identifier(name: str, what: str = "parameter name") -> None:
    """Check that ``name`` can be used in expressions; raise ParameterError naming the rule.

    A valid name is an ASCII identifier, not a Python keyword, and does not
    start with an underscore (those names are reserved, which keeps dunder
    names unreachable from expressions).

        >>> check_identifier("amp")
        >>> check_identifier("2amp")
        Traceback (most recent call last):
        ...
        lmfit_host.errors.ParameterError: invalid parameter name '2amp': ...
    """
    if not isinstance(name, str):
        raise ParameterError("invalid %s %r: it must be a string" % (what, name))
    if not (name.isascii() and name.isidentifier()):
        raise ParameterError(
            "invalid %s %r: it must be an ASCII identifier (letters, digits and underscores, "
            "not starting with a digit)" % (what, name))
    if keyword.iskeyword(name):
        raise ParameterError("invalid %s %r: it is a Python keyword; choose another name"
                             % (what, name))
    if name.startswith("_"):
        raise ParameterError("invalid %s %r: names starting with an underscore are reserved; "
                             "remove the leading underscore" % (what, name))


_symbol_provider: Optional[Callable[[], Mapping[str, Symbol]]] = None
_missing_name_hint: Optional[Callable[[str], Optional[str]]] = None
# arrays flag -> (name -> value, name -> origin); read-only views, never handed out mutable
_default_tables: Dict[bool, Tuple[Mapping[str, Any], Mapping[str, str]]] = {}


def set_symbol_provider(provider: Optional[Callable[[], Mapping[str, Symbol]]]) -> None:
    """Install the source of default symbols (all function packs); None -> the core math pack.

    The plugin layer calls this once with a function returning every pack's
    symbols. Interpreters created afterwards see the new set; the cache of
    :func:`default_symbols` is cleared.
    """
    global _symbol_provider
    _symbol_provider = provider
    _default_tables.clear()


def set_missing_name_hint(hint: Optional[Callable[[str], Optional[str]]] = None) -> None:
    """Install a function that explains an unknown name, e.g. which pack to install.

    ``hint(name)`` returns a sentence such as ``"provided by function pack
    lmfit-host-specfun: pip install lmfit-host-specfun"``, or None. The
    sentence is appended to the UnknownNameError message.
    """
    global _missing_name_hint
    _missing_name_hint = hint


#: Spellings from numpy, SciPy and lmfit whose function the namespace may hold under another
#: name (numpy's arctan, arcsin, ... are in the math pack under both names); an unknown
#: name's error suggests the other name when the namespace has it.
EQUIVALENT_NAMES: Mapping[str, str] = MappingProxyType({
    "absolute": "abs", "amax": "max", "amin": "min", "around": "round", "fix": "trunc",
    "ln": "log", "gamma": "gamfcn", "loggammafcn": "gammaln", "betalnfnc": "betaln",
})


def suggested_name(name: str, namespace: Mapping[str, Any]) -> Optional[str]:
    """A name of ``namespace`` the unknown ``name`` probably means, or None: the namespace's
    spelling of a numpy/SciPy/lmfit function (``gamma`` -> ``gamfcn``), else a close
    spelling (``sqr`` -> ``sqrt``, ``amplitud`` -> ``amplitude``).

        >>> suggested_name("ln", Interpreter().symtable)
        'log'
    """
    equivalent = EQUIVALENT_NAMES.get(name)
    if equivalent is not None and equivalent != name and equivalent in namespace:
        return equivalent
    # a name with a number appended (exp2, amp2) is a name of its own, not a misspelling
    candidates = [key for key in namespace if not key.startswith("_")
                  and not (name.startswith(key) and name[len(key):].isdigit())]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return close[0] if close else None


def _unknown_name_advice(name: str, namespace: Mapping[str, Any]) -> str:
    """The end of the message about the unknown ``name``: what it may be, what to do."""
    hint = _missing_name_hint(name) if _missing_name_hint is not None else None
    equivalent = EQUIVALENT_NAMES.get(name)
    if equivalent is not None and equivalent != name and equivalent in namespace:
        return "; did you mean %s? (this namespace's name for it%s)" % (
            equivalent, "; also: " + hint if hint else "")
    if hint:
        return " (%s)" % hint
    define = "define it first (a parameter, or interp.symtable[%r] = ...)" % name
    close = suggested_name(name, namespace)
    if close is not None:
        return "; did you mean %s? If not, %s" % (close, define)
    return "; " + define


def _default_table(arrays: bool) -> Tuple[Mapping[str, Any], Mapping[str, str]]:
    """The cached default namespace (values and origins) for scalar or array interpreters."""
    table = _default_tables.get(arrays)
    if table is None:
        if _symbol_provider is not None:
            symbols = _symbol_provider()
        else:
            from lmfit_host import mathpack  # imported here: mathpack imports this module

            symbols = mathpack.SYMBOLS
        if arrays:
            # models evaluate on arrays: functions that combine several arguments check
            # first what they would broadcast (see check_broadcast_arguments)
            values = {name: (_array_checked(sym.array_value, name)
                             if _may_broadcast(sym.array_value) else sym.array_value)
                      for name, sym in symbols.items()}
        else:
            values = {name: sym.value for name, sym in symbols.items()}
        origins = {name: sym.origin for name, sym in symbols.items()}
        table = (MappingProxyType(values), MappingProxyType(origins))
        _default_tables[arrays] = table
    return table


def default_symbols(arrays: bool = False) -> Dict[str, Any]:
    """A fresh dict of the default names (math functions and constants of every pack).

        >>> default_symbols()["pi"]
        3.141592653589793
    """
    return dict(_default_table(arrays)[0])


# --- compile-time problems and messages ----------------------------------------------------


def _shorten(text: str, limit: int = 200) -> str:
    """Text for a message: whole if short, else its start with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(source: Optional[str], owner: Optional[str]) -> str:
    """'expression '2*a' of parameter 'b'' style subject for error messages."""
    if source is None:
        subject = "expression"
    elif "\n" in source.strip() or len(source) > 200:
        subject = "interpreter text %r" % _shorten(source)
    else:
        subject = "expression %r" % source
    if owner is not None:
        # a parameter's name, or a description of another owner ('the model formula')
        subject += (" of parameter %r" % owner if owner.isidentifier()
                    else " in %s" % owner)
    return subject


class _CompileProblem(Exception):
    """Raised inside the cached compiler; turned into a public error that names the owner."""

    def __init__(self, kind: Type[ExpressionError], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


# --- the whitelist -------------------------------------------------------------------------

_ALLOWED_NODES: Tuple[type, ...] = (
    # containers of code
    ast.Module, ast.Expression,
    # statements
    ast.FunctionDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign, ast.For, ast.While,
    ast.If, ast.Expr, ast.Pass, ast.Break, ast.Continue,
    # expressions
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call, ast.Constant, ast.Subscript,
    ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice,
    # pieces
    ast.comprehension, ast.arguments, ast.arg, ast.keyword,
    ast.expr_context, ast.boolop, ast.unaryop, ast.cmpop,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd,
)

# What to tell the user when a construct is refused: node type name -> (what, advice).
_REFUSALS: Dict[str, Tuple[str, str]] = {
    "Attribute": ("attribute access", "functions and constants are plain names, "
                  "e.g. sqrt(x) rather than math.sqrt(x)"),
    "Import": ("import", "the functions you may use are already in the namespace"),
    "ImportFrom": ("import", "the functions you may use are already in the namespace"),
    "Lambda": ("lambda", "define a helper with def instead"),
    "ClassDef": ("class definition", "only functions may be defined"),
    "AsyncFunctionDef": ("async function", "use a plain def"),
    "Try": ("try statement", "errors are reported to the caller"),
    "TryStar": ("try statement", "errors are reported to the caller"),
    "Raise": ("raise statement", "errors are reported to the caller"),
    "Assert": ("assert statement", "use an if statement"),
    "With": ("with statement", "no context managers are available"),
    "AsyncWith": ("async with statement", "no context managers are available"),
    "AsyncFor": ("async for loop", "use a plain for loop"),
    "Global": ("global statement", "names assigned at the top level are already global"),
    "Nonlocal": ("nonlocal statement", "return values instead"),
    "Yield": ("yield", "return a list instead"),
    "YieldFrom": ("yield from", "return a list instead"),
    "Await": ("await", "no coroutines are available"),
    "JoinedStr": ("f-string", "use % formatting"),
    "FormattedValue": ("f-string", "use % formatting"),
    "NamedExpr": ("assignment expression (:=)", "use a separate assignment statement"),
    "MatMult": ("matrix multiplication operator @", "use explicit sums"),
    "Match": ("match statement", "use if/elif/else"),
    "AnnAssign": ("annotated assignment", "drop the annotation"),
    "Interactive": ("interactive input", "pass plain text"),
}

# Keyword arguments refused in every call: numpy's out= writes into an existing array,
# which may be shared with other namespaces.
_REFUSED_KEYWORDS = frozenset({"out"})


def _where(node: ast.AST) -> str:
    """'line 1, column 3' for a node (columns counted from 1)."""
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    if line is None:
        return "position unknown"
    return "line %d, column %d" % (line, (col or 0) + 1)


def _segment(source: str, node: ast.AST) -> str:
    """The source text of a node, shortened, for messages."""
    try:
        text = ast.get_source_segment(source, node)
    except Exception:  # positions can be odd in unusual sources; the message still helps
        text = None
    return _shorten(text or type(node).__name__, 80)


def _refuse(source: str, node: ast.AST, what: str, advice: str) -> _CompileProblem:
    """A whitelist violation naming the construct, where it is, and what to do."""
    return _CompileProblem(
        UnsafeExpressionError,
        "%s is not allowed (%s: %r); %s" % (what, _where(node), _segment(source, node), advice))


def _check_name(source: str, node: ast.AST, name: Optional[str], role: str) -> None:
    """Refuse reserved names (leading underscore) used as names, arguments or keywords."""
    if name is not None and name.startswith("_"):
        raise _refuse(source, node, "the %s %r" % (role, name),
                      "names starting with an underscore are reserved (this keeps Python's "
                      "internals unreachable); rename it without the leading underscore")


def _check_tree(tree: ast.AST, source: str) -> None:
    """Walk the whole tree (iteratively) and refuse anything outside the whitelist."""
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            kind = type(node).__name__
            what, advice = _REFUSALS.get(kind, ("the construct %s" % kind,
                                                "only arithmetic, calls of namespace functions "
                                                "and simple statements are allowed"))
            raise _refuse(source, node, what, advice)
        if isinstance(node, ast.Name):
            _check_name(source, node, node.id, "name")
        elif isinstance(node, ast.FunctionDef):
            _check_name(source, node, node.name, "function name")
            if node.decorator_list:
                raise _refuse(source, node.decorator_list[0], "a decorator", "call the function "
                              "explicitly instead")
            if node.returns is not None:
                raise _refuse(source, node.returns, "a return annotation", "drop the annotation")
            if getattr(node, "type_params", None):
                raise _refuse(source, node, "a type parameter list", "drop it")
        elif isinstance(node, ast.arg):
            _check_name(source, node, node.arg, "argument name")
            if node.annotation is not None:
                raise _refuse(source, node.annotation, "an argument annotation",
                              "drop the annotation")
        elif isinstance(node, ast.keyword):
            if node.arg is None:
                raise _refuse(source, node.value, "** unpacking in a call",
                              "pass the keyword arguments explicitly")
            _check_name(source, node, node.arg, "keyword argument")
            if node.arg in _REFUSED_KEYWORDS:
                raise _refuse(source, node, "the keyword argument %r" % node.arg,
                              "it writes into an existing array; assign the result instead")
        elif isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise _refuse(source, node, "** unpacking in a dict display",
                              "write the items explicitly")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, complex, str)) and node.value is not None:
                raise _refuse(source, node, "a %s literal" % type(node.value).__name__,
                              "use numbers, strings, True, False or None")
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                raise _refuse(source, node.iter, "an async comprehension", "use a plain one")
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if not isinstance(target, ast.Name):
                    raise _refuse(source, target, "deleting anything but a name",
                                  "use del name only")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Subscript) and any(
                            isinstance(piece, ast.Slice) for piece in ast.walk(part.slice)):
                        raise _refuse(source, part, "assignment to a slice",
                                      "build a new list instead")


# --- names an expression reads ---------------------------------------------------------------


def _free_names(node: ast.AST, bound: FrozenSet[str] = frozenset()) -> Set[str]:
    """Names an expression reads from the namespace; comprehension variables are excluded."""
    found: Set[str] = set()
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in bound:
            found.add(node.id)
        return found
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        inner = bound
        for number, generator in enumerate(node.generators):
            # the first iterable is evaluated in the enclosing scope
            found |= _free_names(generator.iter, bound if number == 0 else inner)
            inner = inner | _target_names(generator.target)
            for condition in generator.ifs:
                found |= _free_names(condition, inner)
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for part in parts:
            found |= _free_names(part, inner)
        return found
    for child in ast.iter_child_nodes(node):
        found |= _free_names(child, bound)
    return found


def _target_names(target: ast.AST) -> FrozenSet[str]:
    """Names bound by an assignment target (name, tuple, list, starred)."""
    return frozenset(node.id for node in ast.walk(target) if isinstance(node, ast.Name))


# --- the transform -------------------------------------------------------------------------

_RISKY_OPS: Dict[type, str] = {
    ast.Pow: "pow", ast.Mult: "mul", ast.Add: "add", ast.Mod: "mod", ast.LShift: "lshift",
}
#: Operations that grow only by broadcasting arrays against each other: bounded by a
#: size check, native where a number is on either side (a scalar broadcasts nothing).
_BROADCAST_OPS: Dict[type, str] = {
    ast.Sub: "sub", ast.Div: "truediv", ast.FloorDiv: "floordiv", ast.BitAnd: "bitand",
    ast.BitOr: "bitor", ast.BitXor: "bitxor", ast.RShift: "rshift",
}
#: Comparisons that broadcast arrays, checked as a single comparison (a chain goes to the
#: "chain" helper, which checks each pair). ``in`` and ``not in`` compare item by item:
#: see the "contains" helper.
_COMPARE_OPS: Dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
}

#: Helper name -> (the operation, what its limit error calls the result): shared by every
#: interpreter; one per-interpreter helper ("bcast") checks the shapes and applies them.
#: The "i" names are the in-place forms, for augmented assignments.
_BROADCASTING: Dict[str, Tuple[Callable[[Any, Any], Any], str]] = {
    "sub": (operator.sub, "the difference"), "truediv": (operator.truediv, "the quotient"),
    "floordiv": (operator.floordiv, "the quotient"), "bitand": (operator.and_, "the bitwise and"),
    "bitor": (operator.or_, "the bitwise or"), "bitxor": (operator.xor, "the bitwise xor"),
    "rshift": (operator.rshift, "the shift"), "lt": (operator.lt, "the comparison"),
    "le": (operator.le, "the comparison"), "gt": (operator.gt, "the comparison"),
    "ge": (operator.ge, "the comparison"), "eq": (operator.eq, "the comparison"),
    "ne": (operator.ne, "the comparison"),
    "isub": (operator.isub, "the difference"), "itruediv": (operator.itruediv, "the quotient"),
    "ifloordiv": (operator.ifloordiv, "the quotient"),
    "ibitand": (operator.iand, "the bitwise and"), "ibitor": (operator.ior, "the bitwise or"),
    "ibitxor": (operator.ixor, "the bitwise xor"), "irshift": (operator.irshift, "the shift"),
}
_BROADCAST_WHAT: Dict[Any, str] = {operation: what for operation, what in _BROADCASTING.values()}
#: Helpers that read only the limits, never the run: a block calling nothing else runs
#: without one (see _compile_block).
_RUNLESS_HELPERS = frozenset(_HELPER_PREFIX + name for name in ("bcast", "type", "floats",
                                                                  "NameError", "slice"))


#: Nesting deeper than numpy's dimensions (it refuses such lists anyway).
_MAX_NESTING = 64


def _shape(value: Any) -> Tuple[int, ...]:
    """The shape numpy broadcasts ``value`` with, worked out without converting it.

    An array's own shape; for lists, tuples and ranges, their lengths level by
    level along the first items, down to an array's shape (what numpy builds
    when the nesting is regular; ragged nesting it refuses). A host object
    numpy converts itself (it has ``__array__``) gives numpy's answer, unless it
    hands operators back to Python (``__array_ufunc__ = None``). Anything else
    is a scalar: ``()``.
    """
    shape: List[int] = []
    for _ in range(_MAX_NESTING):
        if isinstance(value, np.ndarray):
            return tuple(shape) + value.shape
        if isinstance(value, (list, tuple, range)):
            shape.append(len(value))
            if not shape[-1]:
                break
            value = value[0]
            continue
        if not shape:
            kind = type(value)
            if getattr(kind, "__array_ufunc__", True) is not None \
                    and hasattr(kind, "__array__"):
                return np.shape(value)  # type: ignore[no-any-return]
        break
    return tuple(shape)


#: Index entries that select without an index array: a key made of these alone gives a
#: view, a scalar or (a boolean scalar) a copy of at most the array's own size.
_BASIC_INDEX_TYPES: FrozenSet[type] = frozenset(
    {int, bool, slice, type(None), type(Ellipsis), np.intp, np.int64, np.int32, np.bool_})


def _index_reading(entry: Any) -> Tuple[int, Optional[Tuple[int, ...]]]:
    """How numpy reads one entry of an index: the array dimensions it consumes, and the
    shape it broadcasts with the other index arrays (None when it is no index array).

    A list, tuple or range is read as an integer index array of its :func:`_shape`.
    When it holds only booleans numpy reads a mask instead, which consumes all its
    dimensions and selects at most its size: :func:`_index_bound` then takes the larger
    of the two readings (see :func:`_may_be_mask`).
    """
    kind = type(entry)
    if entry is None or entry is Ellipsis:
        return 0, None
    if kind is slice:
        return 1, None
    if kind is bool or kind is np.bool_:
        return 0, (1,)  # a boolean scalar is a mask of no dimensions: at most one item
    if isinstance(entry, np.ndarray):
        if entry.dtype.kind == "b":
            return entry.ndim, (entry.size,)
        return 1, entry.shape
    shape = _shape(entry)
    if shape or isinstance(entry, (list, tuple, range)):
        return 1, shape
    return 1, None  # an integer, or something numpy refuses as an index


def _may_be_mask(entry: Any) -> bool:
    """Whether numpy may read a list or tuple as a boolean mask: its first item, down
    through nested lists, is a boolean (or a boolean array). Numpy makes a mask only when
    every item is one; whether they all are is left open (both readings are bounded)."""
    if not isinstance(entry, (list, tuple)):
        return False
    for _ in range(_MAX_NESTING):
        if not isinstance(entry, (list, tuple)) or not entry:
            break
        entry = entry[0]
    return type(entry) is bool or type(entry) is np.bool_ \
        or isinstance(entry, np.ndarray) and entry.dtype.kind == "b"


#: Most entries of one index that may be read either as a mask or as integers; beyond, the
#: index is refused (2**n readings would be bounded).
_MAX_AMBIGUOUS_ENTRIES = 4


def _slice_length(entry: slice, length: int) -> int:
    """How many items of a dimension of ``length`` the slice keeps (at most ``length``)."""
    try:
        return len(range(*entry.indices(length)))
    except (TypeError, ValueError):
        return length  # bounds or step numpy refuses: it reports them itself


def _broadcast_bound(shapes: Sequence[Tuple[int, ...]]) -> int:
    """The size of the shapes broadcast together, or more: each dimension (aligned at the
    end) as long as its longest, also where numpy will refuse the lengths as a mismatch."""
    width = max(map(len, shapes))
    longest = [0] * width
    for shape in shapes:
        for position, length in enumerate(shape, start=width - len(shape)):
            longest[position] = max(longest[position], length)
    return math.prod(longest)


def _index_bound(shape: Tuple[int, ...], key: Any
                 ) -> Optional[Tuple[int, List[Tuple[int, ...]]]]:
    """An upper bound of the elements ``array[key]`` builds, for an array of ``shape``,
    and the shapes of the key's index arrays; None when the key uses no index array (numpy
    then builds nothing bigger than the array).

    Worked out from shapes alone, without converting lists: the index arrays broadcast
    together (:func:`_broadcast_bound`), times what the other entries keep of the
    dimensions the index arrays do not consume. A slice keeps at most its dimension, None
    adds a dimension of 1, ``...`` stands for the dimensions no entry names, and the
    dimensions after the last entry are kept whole. See :func:`_index_reading` for what
    each entry consumes. Raises ValueError when numpy could not read an entry's shape.
    """
    if type(key) is _ndarray:  # one index array alone, the usual case: the same answer, faster
        if key.dtype.kind == "b":
            return key.size * math.prod(shape[key.ndim:]), [(key.size,)]
        return key.size * math.prod(shape[1:]), [key.shape]
    entries = key if isinstance(key, tuple) else (key,)
    if all(type(entry) in _BASIC_INDEX_TYPES for entry in entries):
        return None
    readings = [_index_reading(entry) for entry in entries]
    index_shapes = [index for _, index in readings if index is not None]
    if not index_shapes:
        return None
    ambiguous = [k for k, entry in enumerate(entries) if _may_be_mask(entry)]
    if len(ambiguous) > _MAX_AMBIGUOUS_ENTRIES:
        return math.inf, index_shapes  # type: ignore[return-value]
    size = 0
    for choice in range(2 ** len(ambiguous)):
        chosen = list(readings)
        for bit, k in enumerate(ambiguous):
            if choice >> bit & 1:  # read as a mask: all its dimensions, at most its size
                index = readings[k][1]
                assert index is not None
                chosen[k] = (len(index), (math.prod(index),))
        size = max(size, _index_size(shape, entries, chosen))
    return size, index_shapes


def _index_size(shape: Tuple[int, ...], entries: Sequence[Any],
                readings: Sequence[Tuple[int, Optional[Tuple[int, ...]]]]) -> int:
    """:func:`_index_bound` for one reading of each entry."""
    named = sum(dimensions for dimensions, _ in readings)
    size = _broadcast_bound([index for _, index in readings if index is not None])
    axis = 0
    for entry, (dimensions, _) in zip(entries, readings):
        if entry is Ellipsis:
            dimensions = max(len(shape) - named, 0)
            size *= math.prod(shape[axis:axis + dimensions])
        elif type(entry) is slice and axis < len(shape):
            size *= _slice_length(entry, shape[axis])
        axis += dimensions
    return size * math.prod(shape[axis:])


_BROADCAST_RUNTIME: Dict[str, Any] = {_HELPER_PREFIX + "op_" + name: operation
                                      for name, (operation, _) in _BROADCASTING.items()}


def _broadcast_call(name: str, left: ast.expr, right: ast.expr) -> ast.Call:
    """``__lh_bcast(__lh_op_<name>, left, right)``: the operation, shapes checked first."""
    return _call_helper("bcast", _helper("op_" + name), left, right)


#: Comparison node type -> the name its operation has in a chain (see the "chain" helper).
_CHAIN_OPS: Dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
    ast.In: "in", ast.NotIn: "notin", ast.Is: "is", ast.IsNot: "isnot",
}
#: Markers for membership and identity in a chain (the others are _BROADCASTING's).
_CHAIN_IN, _CHAIN_NOT_IN = object(), object()
_CHAIN_RUNTIME: Dict[str, Any] = {
    _HELPER_PREFIX + "cmp_" + name: (_BROADCASTING[name][0] if name in _BROADCASTING else
                                     {"in": _CHAIN_IN, "notin": _CHAIN_NOT_IN,
                                      "is": operator.is_, "isnot": operator.is_not}[name])
    for name in _CHAIN_OPS.values()
}


def _helper(name: str) -> ast.Name:
    """A load of one of the hidden runtime helpers (unreachable from user text)."""
    return ast.Name(id=_HELPER_PREFIX + name, ctx=ast.Load())


def _call_helper(name: str, *args: ast.expr) -> ast.Call:
    """A call of a hidden runtime helper."""
    return ast.Call(func=_helper(name), args=list(args), keywords=[])


def _thunk(node: ast.expr) -> ast.Lambda:
    """``lambda: node``: evaluated when (and if) a helper calls it."""
    return ast.copy_location(ast.Lambda(args=_no_arguments(), body=node), node)


def _mark_tests(node: ast.expr) -> None:
    """Mark the chained comparisons that ``node``, a condition, truth-tests directly
    (through ``and``, ``or`` and ``not``): Python tests each of their results once."""
    if isinstance(node, ast.Compare):
        node._lh_test = True  # type: ignore[attr-defined]
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _mark_tests(value)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _mark_tests(node.operand)


def _is_float_constant(node: ast.AST) -> bool:
    """A float or complex literal: mixing it with anything cannot build a big object."""
    return isinstance(node, ast.Constant) and type(node.value) in (float, complex)


def _is_number_constant(node: ast.AST) -> bool:
    """A number literal (int, float, complex; bool counts as int)."""
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, complex, bool)


class _Bounder(ast.NodeTransformer):
    """Route growable operations through bounded helpers and count loops and calls."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = _RISKY_OPS.get(type(node.op))
        if name is None:
            name = _BROADCAST_OPS.get(type(node.op))
            if name is None or _is_number_constant(node.left) \
                    or _is_number_constant(node.right):
                return node
            return ast.copy_location(_broadcast_call(name, node.left, node.right), node)
        if _native_in_bounded(node, name):
            return node
        return ast.copy_location(_call_helper(name, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        """``x op= y`` through a bounded helper: the growable operations' own in-place
        helpers, or the broadcast check (an array target keeps its shape, but a list or
        tuple one takes the broadcast result); ``c[k] op= y`` through "augitem" or
        "augbcast", which read ``c[k]`` before evaluating ``y``, as Python does, or
        ``c[k] op= 1`` through "augnumber"; each checks the read and the store of an array
        through index arrays."""
        target = node.target
        plain = True  # a name, or a subscript by literals: nothing to check but the operation
        if isinstance(target, ast.Subscript):
            self.generic_visit(target)  # its container and key: the store is built below
            plain = _plain_index(target.slice)
            if not plain:
                target.slice = _weighed(_index_value(target.slice))
        node.value = self.visit(node.value)
        number = _is_number_constant(node.value) or _is_signed_number(node.value)
        name = _RISKY_OPS.get(type(node.op))
        if name is not None:
            operation, apply, prefix, item_helper = (_helper("i" + name), _helper("i" + name),
                                                     [], "augitem")
        else:
            name = _BROADCAST_OPS.get(type(node.op))
            if name is None or number and plain:
                return node  # a number broadcasts nothing, and literals index no array
            operation = _helper("op_i" + name)
            apply, prefix, item_helper = _helper("bcast"), [operation], "augbcast"
        if isinstance(target, ast.Name):
            load = ast.Name(id=target.id, ctx=ast.Load())
            value = ast.Call(func=apply, args=[*prefix, load, node.value], keywords=[])
            new: ast.stmt = ast.Assign(targets=[target], value=value)
        else:
            assert isinstance(target, ast.Subscript)
            if number:  # no text runs between the read and the store: no thunk to call
                call = _call_helper("augnumber", target.value, target.slice, operation,
                                    node.value)
            else:
                call = _call_helper(item_helper, target.value, target.slice, operation,
                                    _thunk(node.value))
            new = ast.Expr(value=call)
        return ast.copy_location(new, node)

    def _tick_first(self, body: List[ast.stmt], node: ast.AST) -> None:
        tick = ast.copy_location(ast.Expr(value=_call_helper("tick")), node)
        body.insert(0, tick)

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        self._tick_first(node.body, node)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        _mark_tests(node.test)
        self.generic_visit(node)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        _mark_tests(node.test)
        self.generic_visit(node)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        _mark_tests(node.test)
        self.generic_visit(node)
        self._tick_first(node.body, node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        for condition in node.ifs:
            _mark_tests(condition)
        self.generic_visit(node)
        # first condition, so items that later conditions reject are counted too
        node.ifs.insert(0, ast.copy_location(_call_helper("tick"), node.iter))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        enter = ast.Expr(value=_call_helper("enter"))
        leave = ast.Expr(value=_call_helper("leave"))
        guarded = ast.Try(body=[enter] + node.body, handlers=[], orelse=[], finalbody=[leave])
        node.body = [ast.copy_location(guarded, node)]
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = ast.copy_location(_call_helper("sized", node.value), node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Subscript) \
                and not _plain_index(target.slice):
            # c[k] = v as __lh_store(v, c, k): Python evaluates the arguments in the order
            # it evaluates the assignment (the value, the container, the key)
            self.generic_visit(target)
            call = _call_helper("store", self.visit(node.value), target.value,
                                _index_value(target.slice))
            return ast.copy_location(ast.Expr(value=ast.copy_location(call, node)), node)
        self.generic_visit(node)
        if any(isinstance(part, ast.Starred) for target in node.targets
               for part in ast.walk(target)):
            # a, *rest = value builds a list as long as the value
            node.value = ast.copy_location(_call_helper("sized", node.value), node.value)
        return node

    # Comparing or hashing nested containers costs their size counted with repeats:
    # [[0]*10**6]*10**6 takes 16 MB but == on it would take 10**12 steps. Operands that
    # are containers are weighed first (see _weigh): comparisons weigh them in their
    # helpers, when they are compared.

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        return _checked_comparison(node)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.keys = [None if key is None else _weighed(key) for key in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [item if isinstance(item, ast.Starred) else _weighed(item)
                     for item in node.elts]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = _weighed(node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = _weighed(node.key)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        """A subscript that may go through index arrays (or hash a key): a read through
        the "item" helper; a store in a target list (``a[i], b = ...``, ``for a[i] in``,
        a comprehension's target) into the container the "target" helper hands back, its
        key weighed. A single target goes to "store" (see visit_Assign), an augmented one
        to the "aug..." helpers (see visit_AugAssign)."""
        self.generic_visit(node)
        index = node.slice
        if _plain_index(index):
            return node
        if isinstance(node.ctx, ast.Load):
            call = _call_helper("item", node.value, _index_value(index))
            return ast.copy_location(call, node)
        node.value = ast.copy_location(_call_helper("target", node.value), node.value)
        node.slice = _weighed(_index_value(index))
        return node


def _plain_index(index: ast.expr) -> bool:
    """An index of literals and slices only (``a[1]``, ``a[-1]``, ``d['k']``,
    ``a[1:n, None]``): it holds no index array, nor a key worth weighing, so the
    subscript stays native."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(part, (ast.Constant, ast.Slice)) or _is_signed_number(part)
               for part in parts)


def _is_signed_number(node: ast.AST) -> bool:
    """A number literal with a sign, such as ``-1`` (parsed as an operation on ``1``)."""
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
        and _is_number_constant(node.operand)


def _index_value(index: ast.expr) -> ast.expr:
    """The key a subscript passes, as an expression of its own: ``lo:hi:step`` (valid
    only inside brackets) becomes ``slice(lo, hi, step)``."""
    def value(part: ast.expr) -> ast.expr:
        if not isinstance(part, ast.Slice):
            return part
        bounds = [ast.Constant(value=None) if bound is None else bound
                  for bound in (part.lower, part.upper, part.step)]
        return ast.copy_location(_call_helper("slice", *bounds), part)

    if isinstance(index, ast.Tuple):
        return ast.copy_location(ast.Tuple(elts=[value(part) for part in index.elts],
                                           ctx=ast.Load()), index)
    return value(index)


def _checked_comparison(node: ast.Compare) -> ast.expr:
    """A comparison (not of identities only) through the helpers that weigh and check its
    operands: a chain through "chain", a single comparison through "compared" or, for
    ``in``, "contains"; one with a literal side stays native, the other side weighed."""
    if len(node.ops) > 1:
        # a < b < c as __lh_chain(a, (op, lambda: b), (op, lambda: c)): each pair weighed
        # and checked as a single comparison, each operand evaluated only when Python would
        pairs = [ast.Tuple(elts=[_helper("cmp_" + _CHAIN_OPS[type(op)]), _thunk(item)],
                           ctx=ast.Load()) for op, item in zip(node.ops, node.comparators)]
        # a condition tests each result once: the helper answers with a bool there
        helper = "chain_test" if getattr(node, "_lh_test", False) else "chain"
        return ast.copy_location(_call_helper(helper, node.left, *pairs), node)
    op, right = node.ops[0], node.comparators[0]
    if isinstance(node.left, ast.Constant) or isinstance(right, ast.Constant):
        node.left, node.comparators = _weighed(node.left), [_weighed(right)]
        return node
    if isinstance(op, (ast.In, ast.NotIn)):
        call: ast.expr = ast.copy_location(
            _call_helper("contains", _weighed(node.left), _weighed(right)), node)
        if isinstance(op, ast.NotIn):
            call = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=call), node)
        return call
    operation = _helper("op_" + _COMPARE_OPS[type(op)])
    return ast.copy_location(_call_helper("compared", operation, node.left, right), node)


def _weighed(node: ast.expr) -> ast.expr:
    """``__lh_weigh(node)``, unless the node is a literal (cheap to compare and hash)."""
    if isinstance(node, ast.Constant) or _is_signed_number(node):
        return node
    return ast.copy_location(_call_helper("weigh", node), node)


# --- the cached compiler ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    """What compiling one text produces; shared by every interpreter through the cache."""

    tree: ast.AST                 # the transformed tree (Expression or Module)
    code: CodeType                # eval code (expressions) or exec code of all but the last
    last: Optional[CodeType]      # eval code of a final expression statement (exec mode)
    names: FrozenSet[str]         # free names (expressions only)
    checked: Optional[ast.AST] = None  # the checked tree before the transform (expressions)


def _parse(source: str, mode: str) -> ast.AST:
    """ast.parse, with syntax problems turned into a message that quotes the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            return ast.parse(source, "<expression>", mode)
    except SyntaxError as exc:
        where = ""
        if exc.lineno is not None:
            # Python gives column 0 where the text ended before the syntax was complete
            where = (" (line %d, column %d)" % (exc.lineno, exc.offset) if exc.offset
                     else " (the text ends too early, on line %d)" % exc.lineno)
        detail = "" if exc.msg == "invalid syntax" else ": %s" % exc.msg
        raise _CompileProblem(ExpressionSyntaxError, "invalid syntax%s%s; check the text"
                              % (detail, where)) from None
    except (RecursionError, MemoryError):
        raise _CompileProblem(ExpressionLimitError, "the text is nested too deeply to compile; "
                              "split it into smaller pieces") from None
    except ValueError as exc:  # e.g. null bytes, or integer literals too long to convert
        raise _CompileProblem(ExpressionSyntaxError, "invalid text: %s" % exc) from None


def _compile_tree(tree: Union[ast.Expression, ast.Module], filename: str, mode: str) -> CodeType:
    """compile() a transformed tree; compiler errors become syntax problems."""
    ast.fix_missing_locations(tree)
    try:
        with warnings.catch_warnings():
            # e.g. "'is not' with a literal": Python's advice, not ours to print per expression
            warnings.simplefilter("ignore")
            return compile(tree, filename, mode, dont_inherit=True)
    except SyntaxError as exc:  # e.g. 'return' outside function, 'break' outside loop
        where = ""
        if exc.lineno is not None:
            where = " (line %d)" % exc.lineno
        raise _CompileProblem(ExpressionSyntaxError, "invalid syntax: %s%s; check the text"
                              % (exc.msg, where)) from None
    except (RecursionError, MemoryError):
        raise _CompileProblem(ExpressionLimitError, "the text is nested too deeply to compile; "
                              "split it into smaller pieces") from None


@functools.lru_cache(maxsize=2048)
def _compile_source(source: str, mode: str) -> _Compiled:
    """Parse, check, transform and compile one text ('eval' or 'exec'), once per process."""
    tree = _parse(source, mode)
    try:
        _check_tree(tree, source)
        names = frozenset(_free_names(tree)) if mode == "eval" else frozenset()
        checked = _copy.deepcopy(tree) if mode == "eval" else None
        tree = _Bounder().visit(tree)
    except RecursionError:
        raise _CompileProblem(ExpressionLimitError, "the text is nested too deeply to compile; "
                              "split it into smaller pieces") from None
    if mode == "eval":
        return _Compiled(tree, _compile_tree(tree, "<expression>", "eval"), None, names, checked)
    assert isinstance(tree, ast.Module)
    last: Optional[CodeType] = None
    body = tree.body
    if body and isinstance(body[-1], ast.Expr):
        final = ast.Expression(body=body[-1].value)
        last = _compile_tree(final, "<interpreter>", "eval")
        body = body[:-1]
    code = _compile_tree(ast.Module(body=body, type_ignores=[]), "<interpreter>", "exec")
    return _Compiled(tree, code, last, names)


class CompiledExpression:
    """One checked and compiled expression, ready to be evaluated many times.

    Made by :meth:`Interpreter.compile_expression`; ``names`` are the free
    names it reads (for dependency ordering), ``owner`` the parameter that
    owns it (used in error messages).

        >>> compiled = Interpreter().compile_expression("2*a + b", owner="c")
        >>> sorted(compiled.names)
        ['a', 'b']
    """

    __slots__ = ("source", "owner", "names", "_code", "_tree", "_checked")

    source: str
    owner: Optional[str]
    names: FrozenSet[str]

    def __init__(self, source: str, owner: Optional[str], compiled: _Compiled) -> None:
        self.source = source
        self.owner = owner
        self.names = compiled.names
        self._code = compiled.code
        self._tree = compiled.tree
        self._checked = compiled.checked

    def __repr__(self) -> str:
        owner = "" if self.owner is None else ", owner=%r" % self.owner
        return "CompiledExpression(%r%s)" % (self.source, owner)

    def __reduce__(self) -> Tuple[Any, ...]:
        # code objects do not pickle; recompiling from the text is cheap and cached
        return (_recompile, (self.source, self.owner))


def _recompile(source: str, owner: Optional[str]) -> CompiledExpression:
    """Unpickle a CompiledExpression by compiling its text again."""
    return _compile_expression(source, owner, Limits().max_source_length)


def _compile_expression(source: str, owner: Optional[str], max_length: int) -> CompiledExpression:
    """compile_expression without an interpreter: check the size, compile, name the owner."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError("%s must be a string, not %s"
                                    % (_describe(None, owner), type(source).__name__),
                                    None, owner)
    if len(source) > max_length:
        raise ExpressionLimitError(
            "%s is %d characters long, more than the limit of %d (Limits.max_source_length)"
            % (_describe(_shorten(source, 60), owner), len(source), max_length), source, owner)
    try:
        compiled = _compile_source(source.strip(), "eval")
    except _CompileProblem as problem:
        raise problem.kind("%s: %s" % (_describe(source, owner), problem.detail),
                           source, owner) from None
    return CompiledExpression(source, owner, compiled)


# --- the runtime: per-interpreter state and bounded helpers ----------------------------------


class _ResidentMemory:
    """Reads this process's resident memory in bytes (Linux /proc, else peak RSS, else None)."""

    def __init__(self) -> None:
        self._pid = -1
        self._fd = -1

    def __call__(self) -> Optional[int]:
        pid = os.getpid()
        if pid != self._pid:  # first use, or a forked child: /proc/self was the parent's
            self._pid, self._fd = pid, -1
            try:
                self._fd = os.open("/proc/self/statm", os.O_RDONLY)
            except OSError:
                pass
        if self._fd >= 0:
            try:
                return int(os.pread(self._fd, 64, 0).split()[1]) * _PAGE_SIZE
            except (OSError, ValueError, IndexError):
                return None
        try:
            import resource  # not on Windows
        except ImportError:
            return None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


try:
    _PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):
    _PAGE_SIZE = 4096
_resident_memory = _ResidentMemory()
_MEMORY_CHECK_INTERVAL = 0.01  # seconds between memory readings inside one run


_CURRENT = threading.local()


def charge_current_run(units: int) -> None:
    """Count ``units`` of work against the interpreter run active in this thread, if any.

    For functions in the namespace (packs, ``max``/``min`` with a key) whose
    cost grows with their input: the run's work and time budgets then stop
    them like any loop written in text. Outside a run it does nothing.
    """
    state = getattr(_CURRENT, "state", None)
    if state is None or not state.active:
        return
    state.work += units
    now = _perf_counter()
    if state.work > state.work_limit or now >= state.checkpoint:
        state.check(now)


def check_broadcast_arguments(what: str, args: Sequence[Any],
                              kwargs: Optional[Mapping[str, Any]] = None) -> None:
    """Refuse, before any work, arguments that numpy would broadcast to more elements than
    the active run's ``Limits.max_array_size``.

    For functions in the namespace that combine several arguments element by
    element (numpy's binary functions, the packs' line shapes): arrays of
    shapes ``(n, 1)`` and ``(1, n)`` would build ``n*n`` elements, as they
    would through ``+``. Lists and tuples count with the shape numpy gives
    them, worked out without converting them, and a nested one alone is
    refused when numpy would build more elements than the limit in
    converting it (``[x]*20000`` for a long array ``x``). Arguments of one
    shape, or shapes that do not broadcast (numpy reports those itself),
    pass. Outside a run it does nothing, like :func:`charge_current_run`.

    ``what`` names the call in the message, e.g. ``"atan2()"``.
    """
    state = getattr(_CURRENT, "state", None)
    if state is None or not state.active:
        return
    shapes = []
    for group in (args, () if not kwargs else kwargs.values()):
        for value in group:
            if type(value) in _SCALAR_EXACT_TYPES:
                continue  # floats and ints: the usual case, decided at once
            try:
                shape = value.shape if type(value) is _ndarray else _shape(value)
            except (ValueError, TypeError):
                continue  # a host object numpy cannot size: it reports the problem itself
            if shape:
                shapes.append(shape)
                if len(shape) > 1 and type(value) in _CONVERTED_TYPES:
                    _check_converted(what, shape, state.limits.max_array_size)
    if len(shapes) < 2 or all(shape == shapes[0] for shape in shapes):
        return
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return
    size = math.prod(shape)
    limit = state.limits.max_array_size
    if size > limit:
        raise _limit_error("%s would broadcast its arguments of shapes %s to %d elements, more "
                           "than the limit of %d (Limits.max_array_size)"
                           % (what, ", ".join(str(s) for s in shapes), size, limit))


#: What numpy converts to an array of :func:`_shape` when a function is given it. Nested,
#: it may hold one array (or list) many times over: ``[x]*20000`` is small, its array is not.
#: (A flat one converts to no more elements than it holds.)
_CONVERTED_TYPES = frozenset({list, tuple})


def _check_converted(what: str, shape: Tuple[int, ...], limit: int) -> None:
    """Refuse a list (tuple) that numpy would convert to more than ``limit`` elements."""
    size = math.prod(shape)
    if size > limit:
        raise _limit_error("%s would convert its argument of shape %s to an array of %d "
                           "elements, more than the limit of %d (Limits.max_array_size)"
                           % (what, shape, size, limit))


def check_ordered_items(what: str, items: Iterable[Any]) -> None:
    """Refuse, before any comparison, items whose ordering could make numpy broadcast two
    arrays to more elements than the active run's ``Limits.max_array_size``.

    For functions in the namespace that sort their input or pick its largest or
    smallest item (``max``, ``min``): Python compares the items two at a time,
    and lists or tuples holding arrays item by item, so ``[x]`` against ``[y]``
    of shapes ``(n,)`` and ``(n, 1)`` makes numpy build ``n*n`` elements before
    the truth test fails. The check is conservative and costs one pass over the
    items (see :func:`_ordering_bound`); callers that weigh the items anyway
    can skip it when weighing found nothing but numbers and strings. Outside a
    run it does nothing, like :func:`check_broadcast_arguments`.

    ``what`` names the call in the message, e.g. ``"sorted()"``.
    """
    state = getattr(_CURRENT, "state", None)
    if state is None or not state.active:
        return
    _check_ordering(what, items, state.limits.max_array_size)


def _check_ordering(what: str, items: Iterable[Any], limit: int) -> None:
    """Raise the limit error when the ordering bound of ``items`` passes ``limit``."""
    found = _ordering_bound(items)
    if found is None or found[0] <= limit:
        return
    size, shapes = found
    named = ", ".join(map(str, shapes[:6])) + (", ..." if len(shapes) > 6 else "")
    raise _limit_error("ordering the items in %s may make numpy broadcast arrays of shapes %s "
                       "to up to %d elements, more than the limit of %d "
                       "(Limits.max_array_size)" % (what, named, size, limit))


def _may_broadcast(function: Any) -> bool:
    """Whether ``function`` may take arguments numpy would broadcast or convert: numpy
    ufuncs (one input too: ``where=`` broadcasts against it, and a list is converted),
    and Python functions of any parameters."""
    if isinstance(function, np.ufunc):
        return True
    code = getattr(function, "__code__", None)
    if not isinstance(code, CodeType):
        return False  # builtins and classes of the namespace take no arrays to broadcast
    return code.co_argcount + code.co_kwonlyargcount >= 1 or bool(code.co_flags & 0x0C)


def _array_checked(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``function`` behind :func:`check_broadcast_arguments`, for array interpreters;
    ``name`` is the one expressions call it by."""
    what = "%s()" % name
    check = check_broadcast_arguments
    converted = _CONVERTED_TYPES

    def checked(*args: Any, **kwargs: Any) -> Any:
        # one array alone broadcasts nothing; one list is converted, which may build much
        if kwargs or len(args) > 1 or (args and type(args[0]) in converted):
            check(what, args, kwargs)
        return function(*args, **kwargs)

    functools.update_wrapper(checked, function)
    return checked


class _RunState:
    """Counters of the current run of one interpreter (work, time, memory, call depth)."""

    __slots__ = ("active", "work", "work_limit", "deadline", "checkpoint", "memory_start",
                 "depth", "run_depth", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.active = False
        self.work = 0
        # Outside a run nothing is limited: code that ticks then is driven by Python code
        # (e.g. a generator made by text, consumed later by the caller).
        self.work_limit: float = _INF
        self.deadline = _INF
        self.checkpoint = _INF  # next time to look at the clock's and memory's budgets
        self.memory_start: Optional[int] = None
        self.depth = 0          # nesting of calls of text-defined functions
        self.run_depth = -1     # depth at which a run started by a text function ends

    def begin(self) -> bool:
        """Start a run unless one is active; True when this call started it."""
        if self.active:
            return False
        self.active = True
        _CURRENT.state = self  # pack functions charge the run that calls them
        self.work = 0
        self.work_limit = self.limits.max_work
        self.checkpoint = now = _perf_counter()
        self.deadline = now + self.limits.time_budget
        self.memory_start = None  # measured at the first checkpoint: runs without loops never pay
        return True

    def end(self) -> None:
        """Close the run: counters stop limiting until the next begin()."""
        self.active = False
        self.work_limit = _INF
        self.deadline = self.checkpoint = _INF
        self.run_depth = -1
        if getattr(_CURRENT, "state", None) is self:
            _CURRENT.state = None

    def check(self, now: float) -> None:
        """Raise the limit error for an exhausted budget; else plan the next checkpoint."""
        limits = self.limits
        if self.work > self.work_limit:
            raise ExpressionLimitError(
                "the run did more than %d units of work (loop iterations, calls and built "
                "elements; Limits.max_work); look for a runaway loop or raise the limit"
                % limits.max_work)
        if now > self.deadline:
            raise ExpressionLimitError(
                "the run took longer than its time budget of %g s (Limits.time_budget); "
                "look for a runaway loop or raise the limit" % limits.time_budget)
        if now >= self.checkpoint:
            memory = _resident_memory()
            if memory is not None:
                if self.memory_start is None:
                    self.memory_start = memory
                elif memory - self.memory_start > limits.max_memory:
                    grown = (memory - self.memory_start) / 2 ** 20
                    raise ExpressionLimitError(
                        "the run grew the process's memory by %.0f MiB, more than the limit "
                        "of %.0f MiB (Limits.max_memory); look for a loop that keeps big "
                        "objects or raise the limit" % (grown, limits.max_memory / 2 ** 20))
            self.checkpoint = min(self.deadline, now + _MEMORY_CHECK_INTERVAL)


_SEQUENCE_TYPES = (str, bytes, bytearray, list, tuple)
# Types whose arithmetic with anything is cheap: a float (or numpy float64, or complex)
# operand makes the result a number, an array of an existing array's size, or an error.
_FLOAT_TYPES: FrozenSet[type] = frozenset({float, np.float64})
_FAST_TYPES: FrozenSet[type] = frozenset({float, np.float64, complex})
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)
_SCALAR_TYPES = (int, float, complex, str, bytes, type(None), np.number, np.bool_)


_CONTAINER_TYPES = (list, tuple, dict, set, frozenset)
# exact types that are cheap to compare and hash (strings: at most Limits.max_length long)
_SCALAR_EXACT_TYPES: FrozenSet[type] = frozenset(
    {float, int, bool, complex, str, type(None), np.float64})


#: What weighing found in a container (see _weigh): only exact scalars as its own items;
#: containers and exact scalars all the way down; or something else somewhere (an array,
#: a numpy scalar, a host object).
_FLAT, _NESTED, _MIXED = "flat", "nested", "mixed"


def _weigh(value: Any, limit: int) -> Tuple[int, str]:
    """Items reached by walking nested containers, repeats counted each time (capped),
    and what the walk found: _FLAT, _NESTED or _MIXED.

    The second answer comes with the walk for free; a comparison of two containers
    uses it to skip looking at their item pairs when no array can be among them.

    Shared sub-containers are measured once (memo by id) so measuring is
    cheap even when the counted size is astronomically large. Raises
    ExpressionLimitError when the size passes ``limit`` or the nesting is
    too deep or cyclic.
    """
    memo: Dict[int, int] = {}
    busy: Set[int] = set()
    # every walk starts at the outermost container: "walked" means it held more than scalars
    walked = mixed = False

    def size(item: Any) -> int:
        nonlocal walked, mixed
        key = id(item)
        known = memo.get(key)
        if known is not None:
            return known
        if key in busy:
            raise _limit_error("a container holds itself; comparing or hashing it is refused")
        members: Iterable[Any] = (list(item.keys()) + list(item.values())
                                  if isinstance(item, dict) else item)
        members = members if isinstance(members, (list, tuple)) else list(members)
        total = 1 + len(members)
        if not set(map(type, members)) <= _SCALAR_EXACT_TYPES:  # something nested: walk
            busy.add(key)
            walked = True
            total = 1
            for member in members:
                if isinstance(member, _CONTAINER_TYPES):
                    total += size(member)
                else:
                    total += 1
                    if type(member) not in _SCALAR_EXACT_TYPES:
                        mixed = True
                if total > limit:
                    break
            busy.discard(key)
        if total > limit:
            raise _limit_error("comparing or hashing a container of about %d nested items "
                               "(repeats counted) is more work than the limit of %d "
                               "(Limits.max_work)" % (total, limit))
        memo[key] = total
        return total

    try:
        total = size(value)
    except RecursionError:
        raise _limit_error("containers are nested too deeply to compare or hash") from None
    return total, (_MIXED if mixed else _NESTED if walked else _FLAT)


def _holds_only_scalars(container: Any) -> bool:
    """A list or tuple (a dict: its values) holding only exact scalars, read at C speed."""
    members = container.values() if isinstance(container, dict) else container
    return set(map(type, members)) <= _SCALAR_EXACT_TYPES


def _ordering_bound(items: Iterable[Any]
                    ) -> Optional[Tuple[int, List[Tuple[int, ...]]]]:
    """An upper bound of the largest array numpy may build while Python puts ``items`` in
    order (a sort, ``max``, ``min``), and the shapes it comes from; None when no pair of
    shapes can grow.

    Ordering compares items two at a time; two lists (or two tuples) are compared item
    by item at one index, nested, and two dicts by ``==``, value by value under one key.
    So numpy only meets two objects found at one depth below the items, one of them an
    array. The bound is conservative: at each depth that holds an array, the shapes of
    everything numpy would take there (arrays, and lists, tuples and ranges it converts:
    see :func:`_shape`) broadcast together as one, each dimension as long as its longest
    (:func:`_broadcast_bound`). That covers every pair at that depth, also the pairs
    Python never compares, so it may refuse items that would sort; finding the pairs a
    sort compares would take the sort, and checking every pair O(n**2) work. One pass,
    level by level, each container looked at once per depth; containers of exact scalars
    alone (numbers, strings) add nothing below them.
    """
    level = items if isinstance(items, list) else list(items)
    if len(level) < 2:
        return None  # one item is never compared
    worst: Optional[Tuple[int, List[Tuple[int, ...]]]] = None
    for _ in range(sys.getrecursionlimit()):  # Python cannot compare deeper nesting anyway
        kinds = set(map(type, level))
        if kinds <= _SCALAR_EXACT_TYPES:
            break
        if any(issubclass(kind, _ndarray) for kind in kinds):
            shapes: Dict[Tuple[int, ...], None] = {}  # distinct, in order of appearance
            for value in level:
                if type(value) in _SCALAR_EXACT_TYPES or isinstance(value, dict):
                    continue
                try:
                    shape = value.shape if isinstance(value, _ndarray) else _shape(value)
                except (ValueError, TypeError):
                    continue  # numpy cannot take it: it reports the problem itself
                if shape:
                    shapes[shape] = None
            if len(shapes) > 1:  # one shape against itself builds no more than it holds
                size = _broadcast_bound(list(shapes))
                if worst is None or size > worst[0]:
                    worst = size, list(shapes)
        if not any(issubclass(kind, (list, tuple, dict)) for kind in kinds):
            break
        following: List[Any] = []
        seen: Set[int] = set()
        for value in level:
            if not isinstance(value, (list, tuple, dict)) or id(value) in seen:
                continue
            seen.add(id(value))
            if not _holds_only_scalars(value):
                following.extend(value.values() if isinstance(value, dict) else value)
        if not following:
            break
        level = following
    return worst


def _limit_error(message: str) -> ExpressionLimitError:
    return ExpressionLimitError(message)


class _CheckedStore:
    """An array standing as the container of a subscript in a target list (``a[i], b =
    ...``, ``for a[i] in ...``): a store through index arrays is checked first, as the
    "store" helper checks a single target. Made by the "target" helper for one store;
    text never holds one (a target is never read)."""

    __slots__ = ("_array", "_check")

    def __init__(self, array: Any, check: Callable[[Any, Any], None]) -> None:
        self._array = array
        self._check = check

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(key) not in _SCALAR_EXACT_TYPES:
            self._check(self._array, key)
        self._array[key] = value


def _build_runtime(state: _RunState) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The hidden helpers (for __builtins__) and the safe builtins (for the symtable).

    All closures share one _RunState, so limits are counted per interpreter
    and per run.
    """

    fast_types = _FAST_TYPES
    scalar_types = _SCALAR_EXACT_TYPES

    def charge(units: int) -> None:
        state.work += units
        now = _perf_counter()
        if state.work > state.work_limit or now >= state.checkpoint:
            state.check(now)

    def tick() -> bool:
        state.work += 1
        now = _perf_counter()
        if state.work > state.work_limit or now >= state.checkpoint:
            state.check(now)
        return True

    def enter() -> None:
        state.depth += 1
        if not state.active:
            # a text function called from Python: it is a run of its own
            state.begin()
            state.run_depth = state.depth
        if state.depth > state.limits.max_recursion:
            raise _limit_error("functions defined in text are nested more than %d calls deep "
                               "(Limits.max_recursion); look for a recursion without end"
                               % state.limits.max_recursion)
        tick()

    def leave() -> None:
        if state.depth == state.run_depth:
            state.end()
        state.depth -= 1

    def check_int_bits(bits: int, what: str) -> None:
        limit = state.limits.max_int_bits
        if bits > limit:
            raise _limit_error("%s would build an integer of about %d bits, more than the "
                               "limit of %d (Limits.max_int_bits); use floats (e.g. 2.0**n) "
                               "or raise the limit" % (what, bits, limit))
        if bits > 64:
            charge(bits >> 6)

    def check_length(length: int, what: str) -> None:
        limit = state.limits.max_length
        if length > limit:
            raise _limit_error("%s would build a sequence of %d items, more than the limit "
                               "of %d (Limits.max_length)" % (what, length, limit))
        charge(length)

    def check_broadcast(a: Any, b: Any, what: str) -> None:
        try:
            shape_a = a.shape if type(a) is _ndarray else _shape(a)
            shape_b = b.shape if type(b) is _ndarray else _shape(b)
        except ValueError:
            return  # ragged: numpy itself reports the problem
        check_shapes(shape_a, shape_b, what)

    def check_shapes(shape_a: Tuple[int, ...], shape_b: Tuple[int, ...], what: str) -> None:
        if shape_a == shape_b or not shape_a or not shape_b:
            return
        try:
            shape = np.broadcast_shapes(shape_a, shape_b)
        except ValueError:
            return  # mismatched shapes: numpy itself reports the problem
        size = math.prod(shape)
        limit = state.limits.max_array_size
        if size > limit:
            raise _limit_error("%s would broadcast arrays of shapes %s and %s to %d elements, "
                               "more than the limit of %d (Limits.max_array_size)"
                               % (what, shape_a, shape_b, size, limit))

    def check_index(array: Any, key: Any, store: bool = False) -> None:
        """Refuse reading ``array[key]`` through index arrays when the result could have
        more elements than the array limit (numpy builds it whole, as a copy); with
        ``store``, refuse ``array[key] = value`` alike (numpy walks the index arrays'
        broadcast, as big as that result, and broadcasts the value to it)."""
        try:
            found = _index_bound(array.shape, key)
        except ValueError:
            return  # numpy cannot read the key: it reports the problem itself
        if found is None:
            return
        size, index_shapes = found
        limit = state.limits.max_array_size
        if size > limit:
            shapes = ", ".join(map(str, index_shapes))
            if store:
                raise _limit_error("storing into an array of shape %s through index arrays of "
                                   "shapes %s would set up to %d elements, more than the limit "
                                   "of %d (Limits.max_array_size)"
                                   % (array.shape, shapes, size, limit))
            raise _limit_error("indexing an array of shape %s with index arrays of shapes %s "
                               "would build up to %d elements, more than the limit of %d "
                               "(Limits.max_array_size)" % (array.shape, shapes, size, limit))

    def check_store(array: Any, key: Any) -> None:
        check_index(array, key, True)

    def is_array(a: Any, b: Any) -> bool:
        return isinstance(a, _ndarray) or isinstance(b, _ndarray)

    def check_pow(a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            if b > 1 and (a > 1 or a < -1):
                check_int_bits(a.bit_length() * b, "this power")
        elif is_array(a, b):
            check_broadcast(a, b, "the power")

    def check_mul(a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            check_int_bits(a.bit_length() + b.bit_length(), "this product")
        elif is_array(a, b):
            check_broadcast(a, b, "the product")
        elif isinstance(a, _SEQUENCE_TYPES) and not isinstance(b, _SEQUENCE_TYPES):
            check_repeat(a, b)
        elif isinstance(b, _SEQUENCE_TYPES) and not isinstance(a, _SEQUENCE_TYPES):
            check_repeat(b, a)

    def check_repeat(sequence: Any, count: Any) -> None:
        try:
            times = operator.index(count)
        except TypeError:
            return  # Python raises its own error for seq * non-integer
        check_length(len(sequence) * max(times, 0), "repeating a %s" % type(sequence).__name__)

    def check_add(a: Any, b: Any) -> None:
        if is_array(a, b):
            check_broadcast(a, b, "the sum")
        elif isinstance(a, _SEQUENCE_TYPES) and isinstance(b, _SEQUENCE_TYPES):
            check_length(len(a) + len(b), "concatenating")

    def check_mod(a: Any, b: Any) -> None:
        if isinstance(a, (str, bytes)):
            check_format(a, b)  # refuses array arguments: they are not numbers or strings
        elif is_array(a, b):
            check_broadcast(a, b, "the remainder")

    def check_format(template: Any, values: Any) -> None:
        pattern = template if isinstance(template, str) else template.decode("latin-1")
        specs = _FORMAT_SPEC.findall(pattern)
        widths = 0
        for width, precision, _conversion in specs:
            if width == "*" or precision == "*":
                raise _limit_error("'*' widths in %% formatting are not supported; write the "
                                   "width into the format")
            widths += int(width or 0) + int(precision or 0)
        if isinstance(values, Mapping):
            items: Iterable[Any] = values.values()
        elif isinstance(values, tuple):
            items = values
        else:
            items = (values,)
        biggest = 0
        for item in items:
            if not isinstance(item, _SCALAR_TYPES):
                raise _limit_error("%% formatting accepts numbers and strings only, not %s"
                                   % type(item).__name__)
            if isinstance(item, (str, bytes)):
                size = len(item)
            elif isinstance(item, int):
                size = item.bit_length() // 3 + 2
            else:
                size = 700  # '%f' of a float near 1e308 (complex: twice that is not possible)
            biggest = max(biggest, size)
        check_length(len(pattern) + widths + len(specs) * biggest, "this % formatting")

    def check_lshift(a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            if a and b > 0:
                check_int_bits(a.bit_length() + b, "this left shift")
        elif is_array(a, b):
            check_broadcast(a, b, "the shift")

    # Fast paths: a float operand (the constraint hot path) cannot build anything big,
    # and numpy arrays of one shape combine element-wise.
    def pow_(a: Any, b: Any) -> Any:
        if type(a) in fast_types or type(b) in fast_types:
            return a ** b
        check_pow(a, b)
        return a ** b

    def mul(a: Any, b: Any) -> Any:
        if type(a) in fast_types or type(b) in fast_types:
            return a * b
        check_mul(a, b)
        return a * b

    def add(a: Any, b: Any) -> Any:
        if type(a) in fast_types or type(b) in fast_types:
            return a + b
        check_add(a, b)
        return a + b

    def bcast(operation: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
        if type(a) not in fast_types and type(b) not in fast_types and is_array(a, b):
            check_broadcast(a, b, _BROADCAST_WHAT[operation])
        return operation(a, b)

    def augbcast(container: Any, key: Any, operation: Callable[[Any, Any], Any],
                 value: Callable[[], Any]) -> None:
        """``container[key] op= value`` for an operation that broadcasts (see augitem)."""
        augitem(container, key, functools.partial(bcast, operation), value)

    def compared(operation: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
        """``a op b`` for ``== != < <= > >=``: the operands weighed (comparing containers
        walks them), an array's broadcast checked, and the item pairs of two containers
        when both hold more than scalars and an array may be among them."""
        kind_a, kind_b = type(a), type(b)
        if kind_a in fast_types or kind_b in fast_types \
                or kind_a in scalar_types and kind_b in scalar_types:
            return operation(a, b)  # numbers, strings: nothing to weigh or broadcast
        if is_array(a, b):
            check_broadcast(a, b, _BROADCAST_WHAT[operation])  # from shapes: cheap, first
            contents(a)
            contents(b)
            return operation(a, b)
        found_a, found_b = contents(a), contents(b)
        if _MIXED in (found_a, found_b) and _FLAT not in (found_a, found_b):
            # a flat side pairs only scalars with the other side's items: nothing broadcasts
            check_pairs(a, b, operation is operator.eq or operation is operator.ne)
        return operation(a, b)

    def check_pairs(a: Any, b: Any, equality: bool) -> None:
        """Check the broadcast of every pair of items that comparing ``a`` with ``b`` may
        hand to numpy: items at one index of two lists (or two tuples) up to the shorter
        length, values under one key of two dicts of one length, nested. ``==`` and ``!=``
        compare nothing in sequences of different lengths. A pair of one object twice is
        skipped: Python takes it as equal without comparing."""
        pending = [(a, b)]
        seen: Set[Tuple[int, int]] = set()
        while pending:
            left, right = pending.pop()
            if left is right:
                continue
            if isinstance(left, _ndarray) or isinstance(right, _ndarray):
                check_broadcast(left, right, "comparing the items of two containers")
                continue
            sequences = (isinstance(left, list) and isinstance(right, list)
                         or isinstance(left, tuple) and isinstance(right, tuple))
            if not sequences and not (isinstance(left, dict) and isinstance(right, dict)):
                continue  # scalars, or kinds that Python does not compare item by item
            pair = (id(left), id(right))
            if pair in seen:  # shared rows are looked at once
                continue
            seen.add(pair)
            if sequences:
                if not (equality and len(left) != len(right)
                        or _holds_only_scalars(left) or _holds_only_scalars(right)):
                    pending.extend(zip(left, right))
            elif len(left) == len(right):
                # dicts are compared by == only, even inside an ordering of lists
                pending.extend((value, right[key]) for key, value in left.items()
                               if key in right)

    def compare(operation: Any, left: Any, right: Any) -> Any:
        """One comparison of a chain, weighed and checked as a single one."""
        if operation is _CHAIN_IN:
            return contains(weigh(left), weigh(right))
        if operation is _CHAIN_NOT_IN:
            return not contains(weigh(left), weigh(right))
        if operation is operator.is_ or operation is operator.is_not:
            return operation(left, right)
        return compared(operation, left, right)

    def chain(first: Any, *pairs: Tuple[Any, Callable[[], Any]]) -> Any:
        """``first op1 b op2 c ...`` as Python evaluates it: each operand only when the
        comparison before it was true, each elementwise pair checked as a single
        comparison, the last result returned untested."""
        left, last = first, len(pairs) - 1
        for index, (operation, thunk) in enumerate(pairs):
            right = thunk()
            result = compare(operation, left, right)
            if index == last or not result:
                return result
            left = right
        raise AssertionError("a chain has at least two comparisons")  # not reached

    def chain_test(first: Any, *pairs: Tuple[Any, Callable[[], Any]]) -> bool:
        """:func:`chain` where a condition tests it: each result truth-tested once."""
        left = first
        for operation, thunk in pairs:
            right = thunk()
            if not compare(operation, left, right):
                return False
            left = right
        return True

    def contains(item: Any, container: Any) -> bool:
        """``item in container``, where numpy would broadcast ``item`` against the
        container (an array) or against one of its items (a list or tuple, compared
        one by one, identity first, as Python does)."""
        if type(item) in scalar_types:
            return item in container  # a scalar broadcasts nothing
        if isinstance(container, _ndarray):
            check_broadcast(item, container, "the membership test")
            return item in container
        if type(container) is not list and type(container) is not tuple:
            return item in container
        # only an array meeting an array or a sequence, or a container holding more than
        # scalars meeting one of its kind (compared item by item), can broadcast: else
        # Python's own
        item_is_array = isinstance(item, _ndarray)
        if not item_is_array and not isinstance(item, (list, tuple, range, dict)):
            return item in container
        kinds = set(map(type, container))
        paired: Optional[type] = None  # the members compared with the item pair by pair
        if isinstance(item, (list, tuple, dict)):
            same = dict if isinstance(item, dict) else list if isinstance(item, list) else tuple
            if any(issubclass(kind, same) for kind in kinds) and not _holds_only_scalars(item):
                paired = same
        meets = (_ndarray, list, tuple, range) if item_is_array else _ndarray
        if paired is None and not any(issubclass(kind, meets) for kind in kinds):
            return item in container
        try:
            shape_item = _shape(item)
        except ValueError:
            shape_item = ()  # numpy refuses to compare it
        for member in container:
            if member is item:
                return True
            charge(1)
            if shape_item and (item_is_array or isinstance(member, _ndarray)):
                try:
                    shape_member = _shape(member)
                except ValueError:
                    shape_member = ()
                check_shapes(shape_item, shape_member, "the membership test")
            elif paired is not None and isinstance(member, paired):
                check_pairs(item, member, True)
            if member == item:
                return True
        return False

    def mod(a: Any, b: Any) -> Any:
        if type(a) in fast_types:
            return a % b
        check_mod(a, b)
        return a % b

    def lshift(a: Any, b: Any) -> Any:
        check_lshift(a, b)
        return a << b

    def ipow(a: Any, b: Any) -> Any:
        if type(a) in fast_types:
            return a ** b
        check_pow(a, b)
        a **= b
        return a

    def imul(a: Any, b: Any) -> Any:
        if type(a) in fast_types:
            return a * b
        check_mul(a, b)
        a *= b
        return a

    def iadd(a: Any, b: Any) -> Any:
        if type(a) in fast_types:
            return a + b
        if isinstance(a, list) and not isinstance(b, _SEQUENCE_TYPES):
            # list += iterable extends by any iterable: materialize it, counted, first
            b = list_(b)
        check_add(a, b)
        a += b
        return a

    def imod(a: Any, b: Any) -> Any:
        if type(a) in fast_types:
            return a % b
        check_mod(a, b)
        a %= b
        return a

    def ilshift(a: Any, b: Any) -> Any:
        check_lshift(a, b)
        a <<= b
        return a

    def augitem(container: Any, key: Any, operation: Callable[[Any, Any], Any],
                value: Callable[[], Any]) -> None:
        checked = isinstance(container, _ndarray) and type(key) not in scalar_types
        if checked:
            check_index(container, key)
        # the item is read before the value is evaluated, as Python does
        current = container[key]
        result = operation(current, value())
        if checked:
            check_index(container, key, True)  # the value's text may have grown a list key
        container[key] = result

    def augnumber(container: Any, key: Any, operation: Callable[[Any, Any], Any],
                  number: Any) -> None:
        """``container[key] op= number``: a number broadcasts nothing (a growable operation
        checks itself), and nothing runs between the read and the store, so one check of
        an array's index arrays covers both."""
        if type(key) not in scalar_types and isinstance(container, _ndarray):
            check_index(container, key)
        container[key] = operation(container[key], number)

    def sized(value: Any) -> Any:
        if isinstance(value, (_SEQUENCE_TYPES, range, dict, set, frozenset, _ndarray)):
            check_length(len(value), "unpacking with *")
            weigh(value)
        return value

    def item(container: Any, key: Any) -> Any:
        """``container[key]`` in an expression: through index arrays an array builds a
        copy, checked against the array limit first; the key is weighed (a dict hashes
        it, and an array converts a list key item by item)."""
        if type(key) in scalar_types:
            return container[key]
        if isinstance(container, _ndarray):
            check_index(container, key)
        weigh(key)
        return container[key]

    def store(value: Any, container: Any, key: Any) -> None:
        """``container[key] = value`` as a statement: through index arrays an array is
        checked against the array limit first, as a read is; the key is weighed (a dict
        hashes it, and an array converts a list key item by item)."""
        if type(key) in scalar_types:
            container[key] = value
            return
        if isinstance(container, _ndarray):
            check_index(container, key, True)
        weigh(key)
        container[key] = value

    def target(container: Any) -> Any:
        """The container of a subscript store in a target list: an array behind the
        wrapper that checks the store (see _CheckedStore), anything else as it is."""
        if isinstance(container, _ndarray):
            return _CheckedStore(container, check_store)
        return container

    def weigh(value: Any) -> Any:
        if type(value) in scalar_types:
            return value
        if isinstance(value, _CONTAINER_TYPES):
            contents(value)
        return value

    def contents(value: Any) -> Optional[str]:
        """Weigh a container (its size is work) and say what it holds (_FLAT, _NESTED,
        _MIXED); None for anything else."""
        if not isinstance(value, _CONTAINER_TYPES):
            return None
        size, found = _weigh(value, state.limits.max_work)
        if size > 64:
            charge(size)
        return found

    # --- safe builtins ---
    def range_(*args: Any) -> range:
        """range(stop) / range(start, stop[, step]), at most Limits.max_length long."""
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = _INF  # type: ignore[assignment]
        if length > state.limits.max_length:
            raise _limit_error("range(%s) has more than %d items (Limits.max_length)"
                               % (", ".join(_short_int(arg) for arg in args),
                                  state.limits.max_length))
        return result

    def list_(iterable: Iterable[Any] = ()) -> List[Any]:
        """list(iterable), counted against the run's work budget."""
        result = list(iterable)
        check_length(len(result), "list()")
        return result

    def tuple_(iterable: Iterable[Any] = ()) -> Tuple[Any, ...]:
        """tuple(iterable), counted against the run's work budget."""
        result = tuple(iterable)
        check_length(len(result), "tuple()")
        return result

    def set_(iterable: Iterable[Any] = ()) -> Set[Any]:
        """set(iterable), counted against the run's work budget."""
        items = list_(iterable)
        for item in items:
            weigh(item)
        return set(items)

    def dict_(*args: Any, **kwargs: Any) -> Dict[Any, Any]:
        """dict(...), counted against the run's work budget."""
        if args:
            source = args[0]
            pairs = list_(source.items() if isinstance(source, Mapping) else source)
            for pair in pairs:
                weigh(pair)
            args = (pairs,) + args[1:]
        result = dict(*args, **kwargs)
        check_length(len(result), "dict()")
        return result

    def sorted_(iterable: Iterable[Any], *, key: Optional[Callable[[Any], Any]] = None,
                reverse: bool = False) -> List[Any]:
        """sorted(iterable, key=None, reverse=False), counted against the work budget; items
        (or keys) holding arrays are checked first against the array limit, as numpy may
        broadcast any two of them while they are compared."""
        items = list_(iterable)
        if key is None:
            if contents(items) == _MIXED:  # numbers, strings and lists of them pay nothing
                _check_ordering("sorted()", items, state.limits.max_array_size)
            return sorted(items, reverse=reverse)
        keys = []
        for item in items:
            charge(1)  # each key call is work of its own (it may be sum of a long list)
            keys.append(key(item))
        if contents(keys) == _MIXED:  # the keys are what gets compared
            _check_ordering("sorted()", keys, state.limits.max_array_size)
        order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
        return [items[index] for index in order]

    def zip_(*iterables: Iterable[Any]) -> Iterator[Tuple[Any, ...]]:
        """zip(*iterables); every tuple built is counted against the work budget."""
        width = len(iterables)
        for item in zip(*iterables):
            charge(width)
            yield item

    def round_(number: Any, ndigits: Optional[int] = None) -> Any:
        """round(number, ndigits=None); an int rounded to far more digits than it has is 0."""
        if ndigits is None:
            return round(number)
        if isinstance(number, int) and isinstance(ndigits, int) \
                and -ndigits > number.bit_length() // 3 + 2:
            # Python would build 10**-ndigits first: round(5, -10**9) never ends
            return 0
        return round(number, ndigits)

    def sum_(iterable: Iterable[Any], start: Any = 0) -> Any:
        """sum(iterable, start=0) of numbers or arrays (not of lists: that grows quadratically)."""
        if not isinstance(start, (int, float, complex, np.number, _ndarray)):
            raise TypeError("sum() in expressions adds numbers only; start must be a number, "
                            "not %s" % type(start).__name__)
        if isinstance(iterable, range):
            charge(len(iterable))
            return sum(iterable, start)
        if isinstance(iterable, (list, tuple)):
            charge(len(iterable))  # a long list summed many times (e.g. as a sort key) is work
            items = iterable
        else:
            items = list(iterable)  # a generator's items were counted as it made them
        if type(start) in scalar_types and set(map(type, items)) <= scalar_types:
            # numbers only: nothing can broadcast, and Python's own sum adds them (its
            # rounding, whatever the iterable)
            return sum(items, start)
        # arrays added one after the other: each addition checked as `+` would be
        total = start
        for item in items:
            if type(total) not in fast_types and type(item) not in fast_types \
                    and is_array(total, item):
                check_broadcast(total, item, "sum()")
            total = total + item
        return total

    hidden: Dict[str, Any] = {
        "pow": pow_, "mul": mul, "add": add, "mod": mod, "lshift": lshift,
        "ipow": ipow, "imul": imul, "iadd": iadd, "imod": imod, "ilshift": ilshift,
        "augitem": augitem, "augnumber": augnumber, "sized": sized, "weigh": weigh,
        "item": item, "slice": slice, "store": store, "target": target,
        "tick": tick, "enter": enter, "leave": leave,
        "bcast": bcast, "augbcast": augbcast, "compared": compared, "contains": contains,
        "chain": chain, "chain_test": chain_test,
        # for the guards of the float fast path of constraint blocks
        "type": type, "floats": _FLOAT_TYPES, "NameError": NameError,
    }
    runtime = {_HELPER_PREFIX + name: value for name, value in hidden.items()}
    runtime.update(_BROADCAST_RUNTIME)
    runtime.update(_CHAIN_RUNTIME)
    safe: Dict[str, Any] = {
        "range": range_, "len": len, "sum": sum_, "round": round_, "int": int, "float": float,
        "complex": complex, "bool": bool, "list": list_, "tuple": tuple_, "dict": dict_,
        "set": set_, "enumerate": enumerate, "zip": zip_, "sorted": sorted_,
        "reversed": reversed, "any": any, "all": all,
    }
    for name, value in safe.items():
        if callable(value) and value.__name__.endswith("_"):
            value.__name__ = name
            value.__qualname__ = name
    return runtime, safe


def _short_int(value: Any) -> str:
    """An int for a message, without printing thousands of digits."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "<%d-bit integer>" % value.bit_length()
    return repr(value)


#: Names every interpreter adds to its symtable next to the function packs' symbols.
BUILTIN_NAMES: FrozenSet[str] = frozenset(_build_runtime(_RunState(Limits()))[1])


# --- the constraint block: one function, with a float fast path -------------------------------

# Functions that return a float (or raise) whatever they are given: with them, an operand
# is certainly a float, so the bounded helpers are not needed around it.
_FLOAT_FUNCTIONS: FrozenSet[Any] = frozenset({
    math.acos, math.acosh, math.asin, math.asinh, math.atan, math.atan2, math.atanh,
    math.copysign, math.cos, math.cosh, math.degrees, math.erf, math.erfc, math.exp, math.expm1,
    math.fabs, math.fmod, math.fsum, math.gamma, math.hypot, math.ldexp, math.lgamma, math.log,
    math.log10, math.log1p, math.log2, math.pow, math.radians, math.remainder, math.sin,
    math.sinh, math.sqrt, math.tan, math.tanh,
})
#: Functions of the core math pack (by name) that give a float when every argument is one.
_PACK_FLOAT_PRESERVING: FrozenSet[str] = frozenset({
    "max", "min", "maximum", "minimum", "clip", "sign", "square", "gamfcn"})
_FLOAT, _INT, _UNKNOWN = "float", "int literal", "unknown"
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _FastPath:
    """Build the native-float version of a block's expressions, and the guards it needs.

    An operation is made native when an operand is certainly a float (or a
    complex): a float literal, a name guarded by ``type(name) is float``, the
    result of a pack function that always returns floats (guarded by
    identity), or arithmetic of those. The guards are checked once per call
    of the block; when any fails, the bounded version runs.
    """

    def __init__(self, table: Mapping[str, Any]) -> None:
        self.table = table
        self.kinds: Dict[str, str] = {}          # block targets assigned so far -> kind
        self.float_names: Dict[str, None] = {}   # names guarded as floats (ordered set)
        self.functions: Dict[str, Any] = {}      # names guarded by identity -> object
        self.native = 0                          # operations made native by the guards

    def expression(self, checked: ast.AST) -> Tuple[ast.expr, str]:
        """The fast version of one checked expression tree, and its result kind."""
        tree = _copy.deepcopy(checked.body)  # type: ignore[attr-defined]
        if any(isinstance(node, _COMPREHENSIONS) for node in ast.walk(tree)):
            return _Bounder().visit(tree), _UNKNOWN  # local names: keep it simple and bounded
        return self.visit(tree)

    def visit(self, node: ast.expr) -> Tuple[ast.expr, str]:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return _Bounder().visit(node), _UNKNOWN
        return method(node)  # type: ignore[no-any-return]

    def visit_Constant(self, node: ast.Constant) -> Tuple[ast.expr, str]:
        if type(node.value) in (float, complex):
            return node, _FLOAT
        if type(node.value) in (int, bool):
            return node, _INT
        return node, _UNKNOWN

    def visit_Name(self, node: ast.Name) -> Tuple[ast.expr, str]:
        kind = self.kinds.get(node.id)
        if kind is not None:
            return node, kind
        self.float_names[node.id] = None
        return node, _FLOAT

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Tuple[ast.expr, str]:
        node.operand, kind = self.visit(node.operand)
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return node, kind
        return node, _UNKNOWN

    def visit_BinOp(self, node: ast.BinOp) -> Tuple[ast.expr, str]:
        node.left, left = self.visit(node.left)
        node.right, right = self.visit(node.right)
        numeric = left in (_FLOAT, _INT) and right in (_FLOAT, _INT)
        has_float = _FLOAT in (left, right)
        helper = _RISKY_OPS.get(type(node.op))
        if helper is None:
            broadcast = _BROADCAST_OPS.get(type(node.op))
            if broadcast is not None and not (_is_number_constant(node.left)
                                              or _is_number_constant(node.right)):
                if left not in (_FLOAT, _INT) and right not in (_FLOAT, _INT):
                    # two operands that may be arrays: checked as in the bounded version
                    call = _broadcast_call(broadcast, node.left, node.right)
                    return ast.copy_location(call, node), _UNKNOWN
                self.native += 1  # a scalar on one side: native under the guards
            if isinstance(node.op, (ast.Sub, ast.FloorDiv)) and numeric and has_float:
                return node, _FLOAT
            if isinstance(node.op, ast.Div) and numeric:
                return node, _FLOAT
            return node, _UNKNOWN
        if not _native_in_bounded(node, helper):
            native = left == _FLOAT if helper == "mod" else has_float
            if not native:
                call = _call_helper(helper, node.left, node.right)
                return ast.copy_location(call, node), _UNKNOWN
            self.native += 1
        kind = _FLOAT if numeric and has_float and helper != "lshift" else _UNKNOWN
        return node, kind

    def visit_IfExp(self, node: ast.IfExp) -> Tuple[ast.expr, str]:
        _mark_tests(node.test)
        node.test, _ = self.visit(node.test)
        node.body, body = self.visit(node.body)
        node.orelse, orelse = self.visit(node.orelse)
        return node, (_FLOAT if body == orelse == _FLOAT else _UNKNOWN)

    def visit_BoolOp(self, node: ast.BoolOp) -> Tuple[ast.expr, str]:
        kinds = []
        for index, value in enumerate(node.values):
            node.values[index], kind = self.visit(value)
            kinds.append(kind)
        return node, (_FLOAT if all(kind == _FLOAT for kind in kinds) else _UNKNOWN)

    def visit_Compare(self, node: ast.Compare) -> Tuple[ast.expr, str]:
        operands, scalars = [], []
        for item in [node.left, *node.comparators]:
            new, kind = self.visit(item)
            operands.append(new)
            scalars.append(kind in (_FLOAT, _INT))
        node.left, node.comparators = operands[0], operands[1:]
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node, _UNKNOWN
        if all(scalars) or (len(scalars) == 2 and any(scalars)):
            # a scalar broadcasts nothing: native, a container operand weighed
            weighed = [new if scalar else _weighed(new) for new, scalar in zip(operands, scalars)]
            node.left, node.comparators = weighed[0], weighed[1:]
            return node, _UNKNOWN
        return _checked_comparison(node), _UNKNOWN

    def visit_Call(self, node: ast.Call) -> Tuple[ast.expr, str]:
        kinds = []
        for index, argument in enumerate(node.args):
            node.args[index], kind = self.visit(argument)
            kinds.append(kind)
        for keyword_node in node.keywords:
            keyword_node.value, _ = self.visit(keyword_node.value)
        func = node.func
        if not isinstance(func, ast.Name) or func.id in self.kinds:
            node.func, _ = self.visit(func)
            return node, _UNKNOWN
        value = self.table.get(func.id)
        simple = not node.keywords and not any(isinstance(arg, ast.Starred) for arg in node.args)
        kind = _UNKNOWN
        try:
            if value in _FLOAT_FUNCTIONS:
                kind = _FLOAT
            elif value is builtins.abs and simple and len(kinds) == 1:
                kind = kinds[0]
            elif getattr(value, "__module__", None) == "lmfit_host.mathpack" \
                    and getattr(value, "__name__", None) in _PACK_FLOAT_PRESERVING and simple \
                    and kinds and all(item == _FLOAT for item in kinds):
                kind = _FLOAT
        except TypeError:  # unhashable value: not one of ours
            kind = _UNKNOWN
        if kind != _UNKNOWN:
            self.functions[func.id] = value
        return node, kind

    def guard(self) -> Tuple[ast.expr, List[str]]:
        """The test 'every guarded name holds what was assumed', and its closure names."""
        tests: List[ast.expr] = []
        for name in self.float_names:
            tests.append(ast.Compare(
                left=ast.Call(func=_helper("type"), args=[ast.Name(id=name, ctx=ast.Load())],
                              keywords=[]),
                ops=[ast.In()], comparators=[_helper("floats")]))
        closure = []
        for number, name in enumerate(self.functions):
            cell = "%sk%d" % (_HELPER_PREFIX, number)
            closure.append(cell)
            tests.append(ast.Compare(left=ast.Name(id=name, ctx=ast.Load()), ops=[ast.Is()],
                                     comparators=[ast.Name(id=cell, ctx=ast.Load())]))
        if not tests:
            return ast.Constant(value=True), closure
        if len(tests) == 1:
            return tests[0], closure
        return ast.BoolOp(op=ast.And(), values=tests), closure


def _native_in_bounded(node: ast.BinOp, helper: str) -> bool:
    """True when the bounded transform itself leaves this operation native."""
    if _is_float_constant(node.left):
        return True
    if helper in ("add", "mul", "pow") and _is_float_constant(node.right):
        return True
    return helper == "add" and (_is_number_constant(node.left)
                                or _is_number_constant(node.right))


def _place(node: ast.AST, line: int) -> ast.AST:
    """Put every node of a tree on one line (the line number identifies the assignment)."""
    for part in ast.walk(node):
        if "lineno" in part._attributes:
            part.lineno = part.end_lineno = line  # type: ignore[attr-defined]
            part.col_offset = part.end_col_offset = 0  # type: ignore[attr-defined]
    return node


def _assign(target: str, value: ast.expr, line: int) -> ast.stmt:
    """``target = value`` on the given line."""
    return _place(ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=value),
                  line)  # type: ignore[return-value]


#: Compiled constraint blocks, shared by every interpreter: a fit copies its
#: Parameters, and compiling the same block again would cost milliseconds.
_BLOCK_CACHE: "Dict[Tuple[Any, ...], Tuple[Any, ...]]" = {}
_BLOCK_CACHE_SIZE = 512


_CALLED_BY_SOURCE: Dict[str, FrozenSet[str]] = {}


def _called_names(entries: Sequence[Tuple[str, CompiledExpression]]) -> Tuple[str, ...]:
    """Names the block calls as functions (walked once per source text)."""
    names: set = set()
    for _, compiled in entries:
        called = _CALLED_BY_SOURCE.get(compiled.source)
        if called is None:
            called = frozenset(
                node.func.id for node in ast.walk(compiled._tree)  # type: ignore[attr-defined]
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))
            if len(_CALLED_BY_SOURCE) < 4096:
                _CALLED_BY_SOURCE[compiled.source] = called
        names.update(called)
    return tuple(sorted(names))


#: A compiled block: ``(fast, bounded)``, see :func:`_compile_block`.
_BlockPair = Tuple[Optional[Callable[[], bool]], Callable[[], None]]


def _build_block(entries: Sequence[Tuple[str, CompiledExpression]], table: Mapping[str, Any]
                 ) -> Tuple[Callable[[Dict[str, Any]], Callable[..., _BlockPair]],
                            List[Any], Tuple[bool, bool]]:
    """A compiled block from the cache, or compiled now (see :func:`_compile_block`).

    The fast path depends on which function objects the block calls, so the
    key holds their identities, and a hit is checked against the objects
    themselves (kept alive in the entry, so an identity cannot be reused).
    """
    called = _called_names(entries)
    functions = tuple(table.get(name) for name in called)
    key = (tuple((target, compiled.source) for target, compiled in entries),
           tuple(id(function) for function in functions))
    hit = _BLOCK_CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[2], functions)):
        return hit[0], hit[1], hit[3]
    make, guard_objects, runless = _compile_block(entries, table)
    if len(_BLOCK_CACHE) >= _BLOCK_CACHE_SIZE:
        _BLOCK_CACHE.pop(next(iter(_BLOCK_CACHE)))
    _BLOCK_CACHE[key] = (make, guard_objects, functions, runless)
    return make, guard_objects, runless


def _compile_block(entries: Sequence[Tuple[str, CompiledExpression]], table: Mapping[str, Any]
                   ) -> Tuple[Callable[[Dict[str, Any]], Callable[..., _BlockPair]],
                              List[Any], Tuple[bool, bool]]:
    """Compile a block; return (globals -> maker of the block functions, guard objects,
    which of them need no run).

    The maker returns ``(fast, bounded)``; each function assigns line ``i``
    for entry ``i`` (so a traceback names the failing entry). ``bounded``
    runs the checked version of every assignment. With a fast path,
    ``fast`` reads::

        def fast():
            global <targets>
            try: ok = <guards>
            except NameError: ok = False
            if not ok: return False
            <native assignments>
            return True

    else it is None. Each runs inside an interpreter run (the limits count
    its work) unless it calls nothing that could consult one, neither a
    function (a pack function may charge the run) nor a helper that counts
    work: the flags ``(fast needs no run, bounded needs no run)`` say so.
    """
    fast = _FastPath(table)
    bounded_body: List[ast.stmt] = []
    fast_body: List[ast.stmt] = []
    for line, (target, compiled) in enumerate(entries, start=1):
        value = _copy.deepcopy(compiled._tree.body)  # type: ignore[attr-defined]
        bounded_body.append(_assign(target, value, line))
        if compiled._checked is not None:
            fast_value, kind = fast.expression(compiled._checked)
        else:
            fast_value, kind = _copy.deepcopy(value), _UNKNOWN
        fast.kinds[target] = kind
        fast_body.append(_assign(target, fast_value, line))
    targets = list(dict.fromkeys(target for target, _ in entries))
    extra = len(entries) + 1
    closure: List[str] = []
    bounded = _function_def("%sbounded" % _HELPER_PREFIX, _no_arguments(),
                            [ast.Global(names=targets), *bounded_body])
    functions: List[ast.stmt] = [bounded]
    fast_result: ast.expr = ast.Constant(value=None)
    fast_runless = False
    if fast.native:
        test, closure = fast.guard()
        flag = "%sok" % _HELPER_PREFIX
        fast_function = _function_def("%sfast" % _HELPER_PREFIX, _no_arguments(), [
            ast.Global(names=targets),
            ast.Try(
                body=[ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())], value=test)],
                handlers=[ast.ExceptHandler(type=_helper("NameError"), name=None, body=[
                    ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                               value=ast.Constant(value=False))])],
                orelse=[], finalbody=[]),
            ast.If(test=ast.UnaryOp(op=ast.Not(), operand=ast.Name(id=flag, ctx=ast.Load())),
                   body=[ast.Return(value=ast.Constant(value=False))], orelse=[]),
            *fast_body,
            ast.Return(value=ast.Constant(value=True))])
        functions.append(fast_function)
        fast_result = ast.Name(id=fast_function.name, ctx=ast.Load())
        fast_runless = not _any_needs_run(fast_body)
    maker = _function_def(
        "%smake" % _HELPER_PREFIX,
        _no_arguments([ast.arg(arg=cell, annotation=None) for cell in closure]),
        [*functions, ast.Return(value=ast.Tuple(
            elts=[fast_result, ast.Name(id=bounded.name, ctx=ast.Load())], ctx=ast.Load()))])
    module = ast.Module(body=[maker], type_ignores=[])
    _place_missing(module, extra)  # the scaffolding goes on a line after the entries
    try:
        code = _compile_tree(module, "<constraints>", "exec")
    except _CompileProblem as problem:
        raise problem.kind("compiling the constraint block: %s" % problem.detail) from None
    maker_code = next(const for const in code.co_consts if isinstance(const, CodeType))
    guard_objects = [fast.functions[name] for name in fast.functions] if fast.native else []

    def make(globals_: Dict[str, Any]) -> Callable[..., _BlockPair]:
        return FunctionType(maker_code, globals_)

    return make, guard_objects, (fast_runless, not _any_needs_run(bounded_body))


def _any_needs_run(body: Sequence[ast.stmt]) -> bool:
    return any(_needs_run(node) for statement in body for node in ast.walk(statement))


def _needs_run(node: ast.AST) -> bool:
    """Whether a node of a checked expression may consult an interpreter run: a call of
    anything but a helper that reads only the limits, or a helper name that counts work."""
    if isinstance(node, ast.Call):
        return not (isinstance(node.func, ast.Name) and node.func.id in _RUNLESS_HELPERS)
    if isinstance(node, ast.Name) and node.id.startswith(_HELPER_PREFIX):
        return node.id not in _RUNLESS_HELPERS and \
            not node.id.startswith(_HELPER_PREFIX + "op_")
    return False


def _function_def(name: str, args: ast.arguments, body: List[ast.stmt]) -> ast.FunctionDef:
    """A plain ``def`` node on any supported Python (3.12 added type_params)."""
    node = ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                           type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        node.type_params = []  # type: ignore[attr-defined]
    return node


def _no_arguments(args: Optional[List[ast.arg]] = None) -> ast.arguments:
    """An ast.arguments with only positional arguments (none by default)."""
    return ast.arguments(posonlyargs=[], args=args or [], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])


def _place_missing(tree: ast.AST, line: int) -> None:
    """Give the nodes that have no position yet the given line (placed nodes keep theirs)."""
    for node in ast.walk(tree):
        if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
            node.lineno = node.end_lineno = line  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]



# --- the Interpreter -----------------------------------------------------------------------------


class Interpreter:
    """One flat namespace (``symtable``) and a safe runner of text.

    ``symtable`` starts as a copy of :func:`default_symbols` (unless
    ``use_defaults=False``) plus a few safe builtins (range, len, list, ...),
    updated with ``symtable``. ``arrays=True`` uses the numpy versions of the
    math functions, for models evaluated on arrays. Text run through this
    interpreter changes this namespace only. Every run is bounded by
    ``limits`` (a :class:`Limits`); exceeding one raises ExpressionLimitError.
    Like a dict, an Interpreter is not meant to be run from several threads
    at once (the run counters are per interpreter).

        >>> interp = Interpreter({"x": 1.5})
        >>> interp("def double(v):\\n    return 2*v")
        >>> interp.eval("double(x) + sin(0)")
        3.0
    """

    symtable: Dict[str, Any]
    """The flat namespace: parameter values, functions, constants; add or replace freely."""

    def __init__(self, symtable: Optional[Mapping[str, Any]] = None, *, arrays: bool = False,
                 use_defaults: bool = True, limits: Optional[Limits] = None) -> None:
        self.arrays = bool(arrays)
        self._use_defaults = bool(use_defaults)   # whether the safe builtins are defaults too
        if use_defaults:
            self._defaults, self._origins = _default_table(self.arrays)
        else:
            self._defaults, self._origins = MappingProxyType({}), MappingProxyType({})
        self._limits = Limits() if limits is None else replace(limits)
        self._state = _RunState(self._limits)
        self._runtime, self._builtins = _build_runtime(self._state)
        table: Dict[str, Any] = dict(self._builtins) if use_defaults else {}
        table.update(self._defaults)
        if symtable is not None:
            table.update(symtable)
        table["__builtins__"] = self._runtime
        self.symtable = table

    @property
    def limits(self) -> Limits:
        """The resource limits of this interpreter (a :class:`Limits`; edit its attributes)."""
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = value
        self._state.limits = value

    # --- compiling ---

    def compile_expression(self, source: str, *, owner: Optional[str] = None
                           ) -> CompiledExpression:
        """Parse, check and compile one expression; names are not looked up yet.

        Raises ExpressionSyntaxError (quoting the text), UnsafeExpressionError
        (naming the construct and where) or ExpressionLimitError (text too big).

            >>> Interpreter().compile_expression("a*b", owner="c").names == {"a", "b"}
            True
        """
        return _compile_expression(source, owner, self._limits.max_source_length)

    # --- running ---

    def evaluate(self, compiled: CompiledExpression) -> Any:
        """The value of a compiled expression in this namespace.

        An unknown name raises UnknownNameError naming the expression, its
        owner and the name; other failures raise ExpressionRuntimeError
        (chained) or ExpressionLimitError.
        """
        table = self.symtable
        table["__builtins__"] = self._runtime
        state = self._state
        started = state.begin()
        try:
            return eval(compiled._code, table)
        except BaseException as exc:
            self._reraise(exc, compiled.source, compiled.owner, compiled.names)
            raise  # not reached: _reraise always raises
        finally:
            if started:
                state.end()

    def eval(self, expression: str) -> Any:
        """Compile (cached) and evaluate a single expression.

            >>> Interpreter().eval("max(2, 3) * pi / pi")
            3.0
        """
        return self.evaluate(self.compile_expression(expression))

    def __call__(self, text: str) -> Any:
        """Run statements and expressions; return the value of a final expression statement.

            >>> interp = Interpreter()
            >>> interp("total = 0\\nfor i in range(4):\\n    total += i\\ntotal")
            6
        """
        if not isinstance(text, str):
            raise ExpressionSyntaxError("interpreter text must be a string, not %s"
                                        % type(text).__name__)
        limit = self._limits.max_source_length
        if len(text) > limit:
            raise ExpressionLimitError(
                "%s is %d characters long, more than the limit of %d (Limits.max_source_length)"
                % (_describe(_shorten(text, 60), None), len(text), limit), text)
        try:
            compiled = _compile_source(text, "exec")
        except _CompileProblem as problem:
            raise problem.kind("%s: %s" % (_describe(text, None), problem.detail),
                               text) from None
        table = self.symtable
        table["__builtins__"] = self._runtime
        state = self._state
        started = state.begin()
        try:
            exec(compiled.code, table)
            if compiled.last is not None:
                return eval(compiled.last, table)
            return None
        except BaseException as exc:
            self._reraise(exc, text, None, None)
            raise
        finally:
            if started:
                state.end()

    def compile_block(self, assignments: Sequence[Tuple[str, CompiledExpression]]
                      ) -> Callable[[], None]:
        """One compiled function that sets ``symtable[target]`` for every pair, in order.

        Calling the returned function runs all assignments in one go (the
        fit's hot path). A failure raises the same errors as :meth:`evaluate`,
        naming the failing expression and its owner. While the values read
        are Python floats and the math functions are the pack's own, the
        block runs native float arithmetic (checked once per call); otherwise
        it runs the bounded version.

            >>> interp = Interpreter({"a": 1.0})
            >>> c = interp.compile_expression
            >>> update = interp.compile_block([("b", c("2*a")), ("d", c("b + 1"))])
            >>> update(); interp.symtable["d"]
            3.0
        """
        entries = list(assignments)
        if not entries:
            return _nothing
        for target, compiled in entries:
            check_identifier(target, "assignment target")
            if not isinstance(compiled, CompiledExpression):
                raise TypeError("compile_block() takes (target, CompiledExpression) pairs, got %r"
                                % (compiled,))
        try:
            make, guard_objects, (fast_runless, bounded_runless) = _build_block(
                entries, self.symtable)
        except RecursionError:
            raise ExpressionLimitError("the constraint block is nested too deeply to compile; "
                                       "simplify the expressions") from None
        interp = self
        runtime = self._runtime
        state = self._state
        table = self.symtable
        table["__builtins__"] = runtime  # functions take their builtins from here when made
        fast, bounded = make(table)(*guard_objects)
        codes = tuple(function.__code__ for function in (fast, bounded) if function is not None)

        def update() -> None:
            nonlocal table, fast, bounded
            current = interp.symtable
            current["__builtins__"] = runtime
            if current is not table:  # the interpreter got a new symtable dict: rebind
                table = current
                fast, bounded = make(current)(*guard_objects)
            started = False
            try:
                # what consults no run skips the run's bookkeeping (the fit's hot path)
                if fast_runless and fast():  # type: ignore[misc]
                    return
                if bounded_runless:
                    bounded()
                    return
                started = state.begin()
                if fast is None or fast_runless or not fast():
                    bounded()
            except BaseException as exc:
                interp._reraise_block(exc, codes, entries)
                raise
            finally:
                if started:
                    state.end()

        update.__doc__ = "Recompute %d constrained values: %s" % (
            len(entries), ", ".join(target for target, _ in entries[:10]))
        return update

    # --- namespace bookkeeping ---

    def copy(self) -> "Interpreter":
        """An interpreter with its own symtable (a shallow copy of the values) and limits.

        Functions defined in text are re-created in the copy so that they read
        the copy's names (a function's globals are the namespace it was
        defined in). Blocks made by :meth:`compile_block` stay bound to this
        interpreter; compile new ones for the copy.

            >>> a = Interpreter({"x": 1.0}); b = a.copy(); b("x = 2.0")
            >>> a.symtable["x"]
            1.0
        """
        return self._copy_later().build()

    def _take_new_defaults(self) -> None:
        """Let names that function packs registered after this interpreter was made (an
        in-process ``register_plugin``, say) join its namespace; a name it holds stays."""
        if not self._use_defaults:
            return
        current, origins = _default_table(self.arrays)
        if current is self._defaults:
            return
        table = self.symtable
        for name, value in current.items():
            if name not in table:
                table[name] = value
        self._defaults, self._origins = current, origins

    def __copy__(self) -> "Interpreter":
        """``copy.copy(interp)`` is :meth:`copy`."""
        return self.copy()

    def __deepcopy__(self, memo: Optional[Dict[int, Any]]) -> "Interpreter":
        """``copy.deepcopy(interp)``: :meth:`copy`, with deep copies of the user's values
        (functions are shared, or re-made as :meth:`copy` does; values that cannot be
        copied are shared)."""
        new = self.copy()
        table = new.symtable
        for name in new.user_names():
            value = table[name]
            if not callable(value):
                try:
                    table[name] = _copy.deepcopy(value, memo)
                except Exception:
                    pass
        return new

    def _copy_later(self, kind: Optional[Type["Interpreter"]] = None) -> "_PendingCopy":
        """:meth:`copy` in two halves: the new namespace now, the interpreter around it later.

        The namespace is taken now (a shallow copy of this one, with copies of
        the limits), so later changes here do not reach it; building the run
        time (its helpers, its safe builtins, its own text functions) waits
        for :meth:`_PendingCopy.build`. ``kind`` is the class of the copy
        (:class:`Interpreter` by default, as :meth:`copy` gives).
        """
        return _PendingCopy(self, Interpreter if kind is None else kind)

    def adopt_function(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A function defined in another interpreter's text, re-created to read this namespace.

        Other values are returned unchanged. Use it when copying user names
        from one interpreter to another.

            >>> a = Interpreter({"k": 1.0}); a("def f(x):\\n    return k * x")
            >>> b = Interpreter({"k": 10.0}); b.symtable["f"] = b.adopt_function(a.symtable["f"])
            >>> b.eval("f(2)")
            20.0
        """
        if not isinstance(function, FunctionType) or function.__globals__ is self.symtable \
                or not function.__code__.co_filename.startswith("<interpreter>"):
            return function
        self.symtable["__builtins__"] = self._runtime  # the new function takes its builtins here
        twin = FunctionType(function.__code__, self.symtable, function.__name__,
                            function.__defaults__, function.__closure__)
        twin.__kwdefaults__ = function.__kwdefaults__
        return twin

    def user_names(self) -> List[str]:
        """Names in the symtable that are not defaults (or that replace a default's value).

            >>> interp = Interpreter(); interp("a = 1")
            >>> interp.user_names()
            ['a']
        """
        return _user_names(self.symtable, self._defaults, self._builtins)

    def symbol_origin(self, name: str) -> Optional[str]:
        """Where a default name comes from (e.g. ``"lmfit-host math pack"``); None otherwise.

        The answer is about the name, not about what the symtable holds under it
        now: a name given another value (a parameter of a Parameters set that
        shadows it, a value the user stored) keeps its origin.

            >>> Interpreter().symbol_origin("sqrt")
            'lmfit-host math pack'
        """
        return _symbol_origin(name, self._origins, self._builtins)

    def default_value(self, name: str) -> Any:
        """What ``name`` holds in this namespace by default: a function pack's function or
        constant, or a safe builtin (``sum``, ``range``, ...). KeyError when it has none.

        A Parameters set puts it back when a parameter that shadowed the name leaves.

            >>> Interpreter().default_value("pi")
            3.141592653589793
        """
        return _default_value(name, self._defaults, self._builtins, self._use_defaults)

    def holds_default(self, name: str) -> bool:
        """Whether ``symtable[name]`` is the name's default (not replaced, not shadowed).

            >>> interp = Interpreter(); interp.holds_default("e")
            True
            >>> interp.symtable["e"] = 2.5; interp.holds_default("e")
            False
        """
        return _holds_default(self.symtable, name, self._defaults, self._builtins,
                              self._use_defaults)

    def unknown_names(self, compiled: CompiledExpression) -> List[str]:
        """The names a compiled expression reads that this namespace does not hold (sorted).

            >>> interp = Interpreter({"a": 1.0})
            >>> interp.unknown_names(interp.compile_expression("a + b"))
            ['b']
        """
        table = self.symtable
        return sorted(name for name in compiled.names if name not in table)

    # --- errors ---

    def _reraise(self, exc: BaseException, source: Optional[str], owner: Optional[str],
                 names: Optional[FrozenSet[str]]) -> None:
        """Raise the public error for an exception of a run (or re-raise it unchanged)."""
        error = self._translate(exc, source, owner, names)
        if error is exc:
            raise exc
        raise error from exc

    def _reraise_block(self, exc: BaseException, codes: Tuple[CodeType, ...],
                       entries: Sequence[Tuple[str, CompiledExpression]]) -> None:
        """Find which assignment of a block failed (from the traceback line) and raise."""
        line = None
        trace: Optional[TracebackType] = exc.__traceback__
        while trace is not None:
            if any(trace.tb_frame.f_code is code for code in codes):
                line = trace.tb_lineno
            trace = trace.tb_next
        if line is not None and 1 <= line <= len(entries):
            target, compiled = entries[line - 1]
            owner = compiled.owner if compiled.owner is not None else target
            self._reraise(exc, compiled.source, owner, compiled.names)
        self._reraise(exc, None, None, None)

    def _translate(self, exc: BaseException, source: Optional[str], owner: Optional[str],
                   names: Optional[FrozenSet[str]]) -> BaseException:
        """Map an exception of a run to ExpressionError subclasses naming expression and owner."""
        if not isinstance(exc, Exception):
            return exc  # KeyboardInterrupt, SystemExit: never swallowed
        subject = _describe(source, owner)
        if isinstance(exc, ExpressionError):
            if exc.expr is not None:
                return exc
            message = "%s: %s" % (subject, exc)
            if isinstance(exc, UnknownNameError):
                return UnknownNameError(message, source, owner, exc.name)
            return type(exc)(message, source, owner)
        if isinstance(exc, LmfitHostError):
            return exc
        if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError) \
                and not str(exc).startswith("cannot access free variable"):
            name = _missing_name(exc)
            if name is not None and name not in self.symtable:
                message = "%s uses the unknown name %r%s" % (
                    subject, name, _unknown_name_advice(name, self.symtable))
                return UnknownNameError(message, source, owner, name)
        if isinstance(exc, RecursionError):
            return ExpressionLimitError("%s recursed too deeply; look for a recursion without "
                                        "end" % subject, source, owner)
        if isinstance(exc, MemoryError):
            return ExpressionLimitError("%s ran out of memory" % subject, source, owner)
        return ExpressionRuntimeError("%s failed: %s: %s" % (subject, type(exc).__name__, exc),
                                      source, owner)


def _missing_name(exc: NameError) -> Optional[str]:
    """The name a NameError is about (its ``name`` attribute on 3.10+, else the message)."""
    name = getattr(exc, "name", None)
    if name:
        return str(name)
    match = re.search(r"name '([^']+)' is not defined", str(exc))
    return match.group(1) if match else None


def _nothing() -> None:
    """The update of an empty constraint block."""


class _PendingCopy:
    """A copy of an Interpreter whose namespace exists and whose run time is not built yet.

    ``table`` is the copy's symtable: values may be read and stored in it
    (a Parameters set keeps its values there), but until :meth:`build` it
    still holds the original's safe builtins and text functions, so nothing
    may run in it. Compiling and the origin of a name need no run time and
    are answered as the built copy would answer them. Building replaces the
    original's builtins that are still in place by the copy's own and
    re-creates the functions defined in the original's text to read the new
    namespace, exactly as :meth:`Interpreter.copy` does.
    """

    __slots__ = ("table", "_namespace", "_builtins", "_defaults", "_origins",
                 "_arrays", "_use_defaults", "_limits", "_kind")

    def __init__(self, source: Union[Interpreter, "_PendingCopy"],
                 kind: Type[Interpreter]) -> None:
        self.table: Dict[str, Any]
        # The original's namespace, by identity only (a copy must not keep the original's
        # symbols alive): the functions its text defined hold it as their globals, so while
        # one of them lives, so does the namespace, and no other dict can take its id.
        self._namespace: int
        self._builtins: Mapping[str, Any]
        self._arrays: bool
        if isinstance(source, _PendingCopy):
            # a copy of a copy not built yet: it copies the same original
            self.table = dict(source.table)
            self._namespace, self._builtins = source._namespace, source._builtins
            self._arrays = source._arrays
        else:
            self.table = dict(source.symtable)
            self._namespace, self._builtins = id(source.symtable), source._builtins
            self._arrays = source.arrays
        self._defaults: Mapping[str, Any] = source._defaults
        self._origins: Mapping[str, str] = source._origins
        self._use_defaults: bool = source._use_defaults
        self._limits: Limits = replace(source._limits)
        self._kind = kind

    def copy(self) -> "_PendingCopy":
        """Another pending copy of the same namespace, as it is now."""
        return _PendingCopy(self, self._kind)

    def compile_expression(self, source: str, *, owner: Optional[str] = None
                           ) -> CompiledExpression:
        """:meth:`Interpreter.compile_expression`, under the copy's limits."""
        return _compile_expression(source, owner, self._limits.max_source_length)

    def symbol_origin(self, name: str) -> Optional[str]:
        """:meth:`Interpreter.symbol_origin` of the copy (the same defaults, the same builtins)."""
        return _symbol_origin(name, self._origins, self._builtins)

    def user_names(self) -> List[str]:
        """:meth:`Interpreter.user_names` of the copy: until it is built, the builtins in
        ``table`` are the original's."""
        return _user_names(self.table, self._defaults, self._builtins)

    def default_value(self, name: str) -> Any:
        """:meth:`Interpreter.default_value` of the copy; a safe builtin is the original's
        until :meth:`build` puts the copy's own in its place."""
        return _default_value(name, self._defaults, self._builtins, self._use_defaults)

    def holds_default(self, name: str) -> bool:
        """:meth:`Interpreter.holds_default` of the copy."""
        return _holds_default(self.table, name, self._defaults, self._builtins,
                              self._use_defaults)

    def adopts(self, function: Any) -> bool:
        """Whether :meth:`build` re-makes ``function`` to read the copy's names (a function
        the original's text defined), as :meth:`Interpreter.adopt_function` would now."""
        return type(function) is FunctionType and id(function.__globals__) == self._namespace \
            and function.__code__.co_filename.startswith("<interpreter>")

    def build(self) -> Interpreter:
        """The interpreter around ``table`` (call once)."""
        kind = self._kind
        new = kind.__new__(kind)
        new.arrays = self._arrays
        new._use_defaults = self._use_defaults
        new._defaults, new._origins = self._defaults, self._origins
        new._limits = self._limits
        new._state = _RunState(new._limits)
        new._runtime, new._builtins = _build_runtime(new._state)
        table = self.table
        builtins_here = new._builtins
        for name, value in self._builtins.items():
            if table.get(name) is value:
                table[name] = builtins_here[name]
        table["__builtins__"] = new._runtime
        new.symtable = table
        namespace = self._namespace
        # a function type cannot be subclassed: the type test is exact
        for name, value in [(name, value) for name, value in table.items()
                            if type(value) is FunctionType and id(value.__globals__) == namespace]:
            table[name] = new.adopt_function(value)
        return new


def _user_names(table: Mapping[str, Any], defaults: Mapping[str, Any],
                builtins_: Mapping[str, Any]) -> List[str]:
    """The names of ``table`` that are neither a default nor a safe builtin holding its own
    value (:meth:`Interpreter.user_names`)."""
    names = []
    for name, value in table.items():
        if name == "__builtins__":
            continue
        if name in defaults:
            if defaults[name] is value:
                continue
        elif name in builtins_ and builtins_[name] is value:
            continue
        names.append(name)
    return names


def _symbol_origin(name: str, origins: Mapping[str, str], builtins_: Mapping[str, Any]
                   ) -> Optional[str]:
    """Where a default or safe builtin name comes from (:meth:`Interpreter.symbol_origin`)."""
    origin = origins.get(name)
    if origin is None and name in builtins_:
        return BUILTINS_ORIGIN
    return origin


def _default_value(name: str, defaults: Mapping[str, Any], builtins_: Mapping[str, Any],
                   use_defaults: bool) -> Any:
    """The default of ``name`` in a namespace (:meth:`Interpreter.default_value`)."""
    if name in defaults:
        return defaults[name]
    if use_defaults and name in builtins_:
        return builtins_[name]
    raise KeyError(name)


def _holds_default(table: Mapping[str, Any], name: str, defaults: Mapping[str, Any],
                   builtins_: Mapping[str, Any], use_defaults: bool) -> bool:
    """Whether ``table[name]`` is the name's default (:meth:`Interpreter.holds_default`)."""
    if name not in table:
        return False
    try:
        return table[name] is _default_value(name, defaults, builtins_, use_defaults)
    except KeyError:
        return False
