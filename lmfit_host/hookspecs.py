"""The plugin contract: the hooks a plugin implements and the Engine protocol.

This module is the plugin author's manual. A plugin is a Python module
(or any object) listed under the ``lmfit_host`` entry-point group of its
distribution; it implements one or more of the hooks below, marked with
:data:`hookimpl`::

    # my_engine_pkg/__init__.py
    from lmfit_host import hookimpl, EngineResult

    class NelderMeadEngine:
        name = "neldermead"
        description = "Nelder-Mead simplex on the sum of squares (SciPy)."

        def run(self, problem, **options):
            ...
            return EngineResult(x=best, success=True, message="converged")

    @hookimpl
    def lmfit_host_register_engines(register):
        register(NelderMeadEngine())

and in its ``pyproject.toml``::

    [project.entry-points.lmfit_host]
    neldermead = "my_engine_pkg"

Hooks are called once, the first time the host needs engines or functions
(loading is lazy). An exception raised by a hook, a name that another plugin
already holds, or an object that does not follow the protocol is reported by
plugin name (a warning, and ``lmfit-host plugins``); the other plugins keep
working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

from typing import Protocol, runtime_checkable

if TYPE_CHECKING:
    from .problem import EngineResult, FitProblem

PROJECT_NAME = "lmfit_host"

#: Marks a function of a plugin module as a hook implementation.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
#: Marks a hook specification (used by the host only).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@runtime_checkable
class Engine(Protocol):
    """What an engine plugin registers: an object with a name, a description and ``run``.

    ``name``
        The engine's name as users type it: ``minimize(..., engine=name)``,
        ``Minimizer(...).<name>()``. A Python identifier, lower case by
        convention, unique among installed engines.
    ``description``
        One line shown by ``lmfit-host plugins``.
    ``run(problem, **options) -> EngineResult``
        Search for the minimum of ``problem`` (a :class:`~lmfit_host.FitProblem`)
        and return an :class:`~lmfit_host.EngineResult` holding the best point in
        the problem's native (user) units. ``options`` are the keyword
        arguments the user passed to ``minimize`` / ``Minimizer.<name>()``;
        reject unknown ones with :class:`~lmfit_host.EngineOptionError` naming
        the option and the engine, before any evaluation. Raise
        :class:`~lmfit_host.ProblemError` for a problem the engine cannot take
        (say which parameter and what to change). Let
        :class:`~lmfit_host.FitAborted` raised by the problem's callables
        propagate: the host turns it into a result holding the best point
        found so far.

    Optional attributes:

    ``options``
        A mapping option name -> one-line description, listed by
        ``lmfit-host plugins`` and used in error messages.

    The engine never touches Parameter objects and never computes error
    bars: the host estimates the covariance after ``run`` returns (from
    ``EngineResult.jacobian`` if given, else by differencing the residual).
    """

    name: str
    description: str

    def run(self, problem: "FitProblem", **options: Any) -> "EngineResult":
        """Minimize ``problem`` and return the best point found."""
        ...


#: Signature of the callback handed to :func:`lmfit_host_register_engines`.
RegisterEngine = Callable[[Engine], None]
#: Signature of the callback handed to :func:`lmfit_host_register_functions`:
#: ``register(name, func, array_func=None)``.
RegisterFunction = Callable[..., None]


@hookspec
def lmfit_host_register_engines(register: RegisterEngine) -> None:
    """Register fitting engines by calling ``register(engine)`` once per engine.

    Called once per process, the first time an engine is looked up (or the
    plugins are listed). ``engine`` must follow the :class:`Engine` protocol.
    Registering a name that another plugin already registered is reported as
    a clash naming both plugins; the first registration is kept.
    """


@hookspec
def lmfit_host_register_functions(register: RegisterFunction) -> None:
    """Register functions and constants for constraint expressions and models.

    Call ``register(name, value, array_func=None)`` once per name:

    ``name``
        The name as expressions spell it (an identifier, no leading underscore).
    ``value``
        The function (or constant) used on scalars, e.g. parameter values
        inside constraint expressions.
    ``array_func``
        Optional version used where expressions are evaluated on numpy
        arrays (``ExpressionModel``); defaults to ``value``, which is then
        expected to accept arrays too.

    Called once per process, the first time an expression namespace is
    built. A name that the core or another pack already provides is a clash:
    it is reported naming both packs, and the earlier registration (the
    core's first) keeps the name, so a new pack never silently changes
    which function an existing expression calls.
    """


__all__ = [
    "Engine",
    "PROJECT_NAME",
    "RegisterEngine",
    "RegisterFunction",
    "hookimpl",
    "hookspec",
    "lmfit_host_register_engines",
    "lmfit_host_register_functions",
]

