"""The exception classes of lmfit-host, all under one base, LmfitHostError.

Every message names who and what: the parameter, the expression, the plugin
or the option, and says what to change.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple


class LmfitHostError(Exception):
    """Base of every error lmfit-host raises on purpose."""


# --- expressions -----------------------------------------------------------


class ExpressionError(LmfitHostError, ValueError):
    """An expression or interpreter text could not be compiled or run.

    ``expr`` holds the offending source text and ``owner`` the parameter
    that owns it (None for text run directly through an Interpreter).
    """

    def __init__(self, message: str, expr: Optional[str] = None,
                 owner: Optional[str] = None) -> None:
        super().__init__(message)
        self.expr = expr
        self.owner = owner


class ExpressionSyntaxError(ExpressionError):
    """The text is not valid Python syntax; the message quotes it."""


class UnsafeExpressionError(ExpressionError):
    """The text uses a construct outside the whitelist (import, attribute access, ...)."""


class UnknownNameError(ExpressionError, NameError):
    """An expression reads a name that the namespace does not hold."""

    def __init__(self, message: str, expr: Optional[str] = None,
                 owner: Optional[str] = None, name: Optional[str] = None) -> None:
        super().__init__(message, expr, owner)
        self.name = name


class ExpressionCycleError(ExpressionError):
    """Constraint expressions depend on each other in a cycle; ``cycle`` lists it."""

    def __init__(self, message: str, cycle: tuple = ()) -> None:
        super().__init__(message)
        self.cycle = tuple(cycle)


class ExpressionLimitError(ExpressionError):
    """Evaluation hit a resource limit (size of a power, loop count, recursion, ...)."""


class ExpressionRuntimeError(ExpressionError):
    """Evaluation raised (division by zero, math domain error, ...); the cause is chained."""


# --- parameters --------------------------------------------------------------


class ParameterError(LmfitHostError, ValueError):
    """A Parameter or Parameters set is invalid (bad name, bounds, value, ...)."""


# --- plugins and engines -------------------------------------------------------


class PluginError(LmfitHostError):
    """A plugin could not be loaded or registered something invalid or clashing."""


class EngineNotFoundError(LmfitHostError, ValueError):
    """No installed engine has the requested name; the message lists the installed ones."""


class EngineOptionError(LmfitHostError, TypeError):
    """An engine was given an option it does not know or a value it cannot use."""


class ProblemError(LmfitHostError, ValueError):
    """The fit problem cannot be taken by the chosen engine (e.g. min == max)."""


# --- fitting -------------------------------------------------------------------


class FitError(LmfitHostError, RuntimeError):
    """The fit could not run: the user's function raised, or returned a bad residual.

    When the user's own function (residual, Jacobian, iteration callback)
    raised, the FitError is also an instance of that exception's class, so
    ``except ValueError`` (or the user's own class) around a fit still
    catches it; the original exception is its ``__cause__``.
    """


def user_failure(exc: BaseException, message: str) -> FitError:
    """A FitError saying ``message`` for ``exc``, raised by the user's function, that is also
    an instance of ``type(exc)`` (a plain FitError where the two classes cannot be
    combined, e.g. OSError's own layout)."""
    return _failure_of_kind(type(exc), message)


def _failure_of_kind(kind: type, message: str) -> FitError:
    combined = _COMBINED.get(kind)
    if combined is None:
        combined = FitError
        if issubclass(kind, Exception) and not issubclass(kind, LmfitHostError):
            try:
                made = type("FitError", (FitError, kind), {
                    "__module__": __name__, "__qualname__": "FitError",
                    # the message is ours: neither the user's __init__ nor __str__ applies
                    "__init__": _plain_init, "__str__": _plain_str,
                    "__reduce__": _combined_reduce,
                })
                made("a message")  # some cannot be made of one (an ExceptionGroup's __new__)
                combined = made
            except Exception:  # incompatible layouts, or not made of a message
                pass
        _COMBINED[kind] = combined
    return combined(message)  # type: ignore[no-any-return]


_COMBINED: Dict[type, type] = {}


def _plain_init(self: BaseException, message: str) -> None:
    Exception.__init__(self, message)


def _plain_str(self: BaseException) -> str:
    return Exception.__str__(self)


def _combined_reduce(self: BaseException) -> Tuple[Any, ...]:
    # pickled (e.g. from a worker process) as what makes it again
    user_kind = next(base for base in type(self).__bases__ if base is not FitError)
    return _remade_failure, (user_kind, str(self))


def _remade_failure(kind: type, message: str) -> FitError:
    return _failure_of_kind(kind, message)


class FitAborted(LmfitHostError):
    """Raised inside a fit to stop it (iter_cb returned True, max_nfev, Ctrl-C).

    Engines let it propagate; the Minimizer catches it and reports the best
    point found so far.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
