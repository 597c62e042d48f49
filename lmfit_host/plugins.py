"""Plugin discovery: entry points, enable/block, and records of broken plugins.

Plugins are found through the ``lmfit_host`` entry-point group and loaded
lazily, the first time the host needs an engine or the expression
namespace. Two environment variables steer loading, as pytest and llm do:

``LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD=1``
    load no installed plugin (the core's own math pack still loads;
    :func:`register_plugin` still works).
``LMFIT_HOST_PLUGINS=name,name``
    load only these plugins (entry-point or distribution names);
    ``-name`` blocks a plugin and loads all the others. An empty value is
    as if the variable were unset.

A plugin that fails to import, raises in a hook, registers an invalid
object or a name that another plugin already holds is reported with a
:class:`PluginWarning` naming it and the reason, and is listed with that
status by ``lmfit-host plugins``; every other plugin keeps working.
"""

from __future__ import annotations

import difflib
import os
import sys
import threading
import warnings
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any, Dict, Iterable, List, Mapping, Optional

import pluggy

from . import expr, hookspecs
from .errors import EngineNotFoundError, PluginError
from .hookspecs import Engine

if sys.version_info >= (3, 10):
    from importlib import metadata as importlib_metadata
else:  # pragma: no cover - Python 3.9
    import importlib_metadata

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "KNOWN_ENGINES",
    "KNOWN_FUNCTION_PACKS",
    "LMFIT_METHODS",
    "MINIMIZER_NAMES",
    "PluginInfo",
    "PluginWarning",
    "selection_problems",
    "SELECT_ENV",
    "blocked_plugins",
    "get_engine",
    "engine_name_key",
    "engine_names",
    "engine_source",
    "list_plugins",
    "register_plugin",
    "resolve_engine_name",
    "unregister_plugin",
]

ENTRY_POINT_GROUP = "lmfit_host"
AUTOLOAD_ENV = "LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD"
SELECT_ENV = "LMFIT_HOST_PLUGINS"
CORE_DISTRIBUTION = "lmfit-host"

#: Engines the project publishes, so a missing one can be named with its distribution.
KNOWN_ENGINES: Dict[str, str] = {
    "leastsq": "lmfit-host-leastsq",
    "anneal": "lmfit-host-anneal",
    "lbfgsb": "lmfit-host-lbfgsb",
}

#: Functions of the function packs the project publishes, for "not installed" hints.
KNOWN_FUNCTION_PACKS: Dict[str, Iterable[str]] = {
    "lmfit-host-specfun": (
        "erf", "erfc", "erfcx", "erfinv", "gamma_fn", "gammaln", "beta_fn", "betaln",
        "digamma", "wofz", "dawsn", "expi", "expn", "sinc", "gaussian", "lorentzian", "voigt",
        "pvoigt", "pseudo_voigt", "moffat", "pearson7", "split_lorentzian", "skewed_gaussian",
        "exp_gaussian", "students_t", "doniach", "logistic", "step", "rectangle",
        "fwhm_gaussian", "fwhm_lorentzian", "fwhm_voigt", "fwhm_pvoigt", "fwhm_pseudo_voigt",
    ),
}


#: Functions published under another name so that common parameter names stay free.
RENAMED_FUNCTIONS: Dict[str, tuple] = {
    "gamma": ("gamma_fn", "lmfit-host-specfun"),
    "beta": ("beta_fn", "lmfit-host-specfun"),
}


class PluginWarning(UserWarning):
    """A plugin could not be loaded or registered something invalid; named in the message."""


@dataclass
class PluginInfo:
    """What ``lmfit-host plugins`` shows about one plugin."""

    name: str
    distribution: Optional[str]
    version: Optional[str]
    module: str
    engines: List[str] = field(default_factory=list)
    functions: List[str] = field(default_factory=list)
    status: str = "ok"
    problems: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict of this record."""
        return asdict(self)


#: What a Minimizer already calls by these names (its attributes, and the statistics of
#: the latest fit that lmfit 0.2 code reads off it): no engine may take one, since
#: ``Minimizer(...).<engine name>()`` must run the engine. The Minimizer's own engine
#: methods (leastsq, anneal, lbfgsb) run the engines of those names and are not here.
MINIMIZER_NAMES = frozenset({
    "Dfun", "asteval", "calc_covar", "col_deriv", "iter_cb", "kws", "max_nfev", "minimize",
    "nan_policy", "params", "prepare_fit", "result", "scale_covar", "userargs", "userfcn",
    "userkws", "aic", "bic", "chisqr", "covar", "errorbars", "ier", "lmdif_message",
    "message", "ndata", "nfev", "nfree", "nvarys", "redchi", "residual", "success",
    "var_names",
})


def _version_of(distribution: Optional[str]) -> Optional[str]:
    if not distribution:
        return None
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return None


def _parse_selection(text: Optional[str]) -> tuple:
    """``'a,b'`` -> ({'a','b'}, set()); ``'-a'`` -> (None, {'a'}); unset -> (None, set())."""
    if text is None:
        return None, set()
    selected, blocked = set(), set()
    # names are compared ignoring case, as engine names are
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        if item.startswith("-"):
            blocked.add(item[1:].strip())
        else:
            selected.add(item)
    if not selected:
        # '-a' blocks a; an empty or blank value selects nothing: as if unset
        return None, blocked
    return selected, blocked


class _PluginHost:
    """Owns the pluggy manager and what the plugins registered; built on first use."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._manager: Optional[pluggy.PluginManager] = None
        self._records: Dict[str, PluginInfo] = {}
        self._engines: Optional[Dict[str, Engine]] = None
        self._engine_owner: Dict[str, str] = {}
        self._symbols: Optional[Dict[str, expr.Symbol]] = None
        # installed plugins that the environment kept from loading, by name
        self._blocked: Dict[str, PluginInfo] = {}
        # what is wrong with the environment's selection (names no plugin has)
        self._selection_problems: List[str] = []

    # -- loading ------------------------------------------------------------
    def _ensure_loaded(self) -> pluggy.PluginManager:
        if self._manager is not None:
            return self._manager
        with self._lock:
            if self._manager is not None:
                return self._manager
            manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            manager.add_hookspecs(hookspecs)
            self._manager = manager
            from . import mathpack  # the core's own pack, registered through the same hook

            self._add(mathpack, "math", CORE_DISTRIBUTION, mathpack.__name__)
            autoload = os.environ.get(AUTOLOAD_ENV, "").strip()
            if autoload not in ("", "0", "false", "False"):
                for entry_point in self._entry_points():
                    self._block(entry_point, f"installed, not loaded: {AUTOLOAD_ENV}={autoload}")
                return manager
            selection = os.environ.get(SELECT_ENV)
            selected, blocked = _parse_selection(selection)
            seen: set = set()
            for entry_point in self._entry_points():
                dist = getattr(getattr(entry_point, "dist", None), "name", None)
                names = {entry_point.name.lower(), (dist or "").lower()}
                seen |= names
                if names & blocked or (selected is not None and not names & selected):
                    self._block(entry_point, f"installed, not loaded: {SELECT_ENV}={selection}")
                    continue
                if entry_point.name in self._records:
                    self._fail(PluginInfo(entry_point.name, dist, _version_of(dist), entry_point.value),
                               f"plugin name {entry_point.name!r} is already taken by "
                               f"{self._records[entry_point.name].distribution}")
                    continue
                try:
                    plugin = entry_point.load()
                except Exception as exc:  # a broken plugin must not break the host
                    self._fail(PluginInfo(entry_point.name, dist, _version_of(dist), entry_point.value),
                               f"failed to import: {type(exc).__name__}: {exc}")
                    continue
                self._add(plugin, entry_point.name, dist, entry_point.value)
            unknown = sorted(((selected or set()) | blocked) - seen)
            if unknown:
                problem = (f"{SELECT_ENV} names {', '.join(map(repr, unknown))}, which no "
                           f"installed plugin is called; installed: "
                           f"{', '.join(sorted(n for n in seen if n)) or 'none'}")
                self._selection_problems.append(problem)
                warnings.warn(problem, PluginWarning, stacklevel=4)
            return manager

    @staticmethod
    def _entry_points() -> List[Any]:
        found = importlib_metadata.entry_points()
        if hasattr(found, "select"):
            group = list(found.select(group=ENTRY_POINT_GROUP))
        else:  # pragma: no cover - old importlib_metadata
            group = list(found.get(ENTRY_POINT_GROUP, []))
        # one distribution may be seen twice (e.g. editable + path entries)
        unique: Dict[tuple, Any] = {}
        for ep in group:
            unique.setdefault((ep.name, ep.value), ep)
        return sorted(unique.values(), key=lambda ep: ep.name)

    def _block(self, entry_point: Any, reason: str) -> None:
        dist = getattr(getattr(entry_point, "dist", None), "name", None)
        self._blocked[entry_point.name] = PluginInfo(entry_point.name, dist, _version_of(dist),
                                                     entry_point.value, status="blocked",
                                                     problems=[reason])

    def blocked(self) -> List[PluginInfo]:
        """The installed plugins the environment kept from loading."""
        self._ensure_loaded()
        return list(self._blocked.values())

    def selection_problems(self) -> List[str]:
        """What is wrong with the environment's plugin selection (also warned once)."""
        self._ensure_loaded()
        return list(self._selection_problems)

    def _add(self, plugin: Any, name: str, distribution: Optional[str], module: str) -> None:
        assert self._manager is not None
        record = PluginInfo(name, distribution, _version_of(distribution), module)
        try:
            self._manager.register(plugin, name=name)
        except Exception as exc:
            self._fail(record, f"could not be registered: {exc}")
            return
        self._records[name] = record

    def _fail(self, record: PluginInfo, reason: str, *, keep: bool = False) -> None:
        record.status = "failed" if not keep else "partly failed"
        record.problems.append(reason)
        self._records.setdefault(record.name, record)
        warnings.warn(f"lmfit-host plugin {record.name!r} ({record.distribution or record.module}): "
                      f"{reason}", PluginWarning, stacklevel=4)

    def _problem(self, plugin_name: str, reason: str) -> None:
        record = self._records[plugin_name]
        if record.status == "ok":
            record.status = "partly failed"
        record.problems.append(reason)
        warnings.warn(f"lmfit-host plugin {plugin_name!r} ({record.distribution or record.module}): "
                      f"{reason}", PluginWarning, stacklevel=4)

    def _each_impl(self, hook_name: str) -> List[Any]:
        manager = self._ensure_loaded()
        impls = getattr(manager.hook, hook_name).get_hookimpls()
        # registration order (core first), not pluggy's LIFO call order
        order = {name: index for index, name in enumerate(self._records)}
        return sorted(impls, key=lambda impl: order.get(impl.plugin_name, len(order)))

    # -- engines --------------------------------------------------------------
    def engines(self) -> Dict[str, Engine]:
        if self._engines is not None:
            return self._engines
        with self._lock:
            if self._engines is not None:
                return self._engines
            engines: Dict[str, Engine] = {}
            for impl in self._each_impl("lmfit_host_register_engines"):
                plugin_name = impl.plugin_name
                offered: List[Any] = []
                try:
                    impl.function(register=offered.append)
                except Exception as exc:
                    self._problem(plugin_name, f"hook lmfit_host_register_engines raised "
                                               f"{type(exc).__name__}: {exc}")
                for engine in offered:
                    self._take_engine(engines, engine, plugin_name)
            self._engines = engines
            return engines

    def _take_engine(self, engines: Dict[str, Engine], engine: Any, plugin_name: str) -> None:
        name = getattr(engine, "name", None)
        if not isinstance(name, str) or not name.isidentifier():
            self._problem(plugin_name, f"registered an engine without a valid name: {engine!r}")
            return
        if name in MINIMIZER_NAMES:
            self._problem(plugin_name, f"engine name {name!r} is refused: Minimizer.{name} is "
                                       f"already something else, so Minimizer(...).{name}() "
                                       f"could not run the engine; choose another name")
            return
        if not callable(getattr(engine, "run", None)):
            self._problem(plugin_name, f"engine {name!r} has no run(problem, **options) method")
            return
        distribution = self._records[plugin_name].distribution
        # the names of this project's engines belong to their distributions: in a clash
        # the owner keeps its name, and another distribution taking it is warned about
        rightful = KNOWN_ENGINES.get(name)
        if name in engines:
            owner = self._engine_owner[name]
            if rightful is None or distribution != rightful:
                self._problem(plugin_name, f"engine name {name!r} clashes with plugin "
                                           f"{owner!r}; {owner!r} keeps it")
                return
            self._problem(owner, f"engine name {name!r} belongs to {rightful} (plugin "
                                 f"{plugin_name!r}), which takes it back")
            self._records[owner].engines.remove(name)
        elif rightful is not None and distribution is not None and distribution != rightful:
            warnings.warn(f"lmfit-host plugin {plugin_name!r} ({distribution}) registers the "
                          f"engine name {name!r}, which is {rightful}'s: fits asking for "
                          f"{name!r} run its engine", PluginWarning, stacklevel=4)
        if not isinstance(getattr(engine, "description", None), str):
            engine.description = ""  # tolerated: only the listing uses it
        engines[name] = engine
        self._engine_owner[name] = plugin_name
        self._records[plugin_name].engines.append(name)

    # -- function packs -----------------------------------------------------------
    def symbols(self) -> Dict[str, expr.Symbol]:
        if self._symbols is not None:
            return self._symbols
        with self._lock:
            if self._symbols is not None:
                return self._symbols
            symbols: Dict[str, expr.Symbol] = {}
            for impl in self._each_impl("lmfit_host_register_functions"):
                plugin_name = impl.plugin_name
                record = self._records[plugin_name]
                origin = ("lmfit-host math pack" if plugin_name == "math"
                          else f"function pack {record.distribution or plugin_name!r}")
                offered: List[tuple] = []

                def register(name: str, value: Any, array_func: Any = None,
                             _offered: List[tuple] = offered) -> None:
                    _offered.append((name, value, array_func))

                try:
                    impl.function(register=register)
                except Exception as exc:
                    self._problem(plugin_name, f"hook lmfit_host_register_functions raised "
                                               f"{type(exc).__name__}: {exc}")
                for name, value, array_func in offered:
                    self._take_symbol(symbols, plugin_name, origin, name, value, array_func)
            self._symbols = symbols
            return symbols

    def _take_symbol(self, symbols: Dict[str, expr.Symbol], plugin_name: str, origin: str,
                     name: Any, value: Any, array_func: Any) -> None:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            self._problem(plugin_name, f"registered an invalid function name {name!r}")
            return
        if name in symbols:
            self._problem(plugin_name, f"function {name!r} clashes with {symbols[name].origin}, "
                                       f"which keeps it")
            return
        symbols[name] = expr.Symbol(name, value, value if array_func is None else array_func, origin)
        self._records[plugin_name].functions.append(name)

    def missing_name_hint(self, name: str) -> Optional[str]:
        renamed = RENAMED_FUNCTIONS.get(name)
        if renamed is not None:
            function, distribution = renamed
            return (f"the function is called {function} (function pack {distribution}), which "
                    f"leaves {name!r} free as a parameter name")
        blocked = self.blocked()
        for distribution, functions in KNOWN_FUNCTION_PACKS.items():
            if name in functions:
                kept = [record for record in blocked if record.distribution == distribution]
                if kept:
                    return (f"{name!r} is provided by the function pack {distribution}, which "
                            f"is {kept[0].problems[0]}")
                return (f"{name!r} is provided by the function pack {distribution}, which is not "
                        f"loaded: pip install {distribution}")
        if blocked:
            # a pack kept from loading may be where the name lives
            return _not_loaded(blocked)
        return None

    # -- in-process registration --------------------------------------------------
    def register(self, plugin: Any, name: Optional[str] = None) -> str:
        manager = self._ensure_loaded()
        if name is None:
            name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if name in self._records:
            raise PluginError(f"a plugin named {name!r} is already registered "
                              f"({self._records[name].distribution or self._records[name].module}); "
                              f"pass another name to register_plugin(obj, name=...)")
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        record = PluginInfo(name, None, None, module, status="ok")
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc
        self._records[name] = record
        self._invalidate()
        return name

    def unregister(self, name: str) -> None:
        manager = self._ensure_loaded()
        if name not in self._records or name == "math":
            raise PluginError(f"no removable plugin named {name!r} is registered")
        if manager.has_plugin(name):
            manager.unregister(name=name)
        del self._records[name]
        self._invalidate()

    def _invalidate(self) -> None:
        self._engines = None
        self._engine_owner = {}
        self._symbols = None
        for record in self._records.values():
            record.engines.clear()
            record.functions.clear()
            record.problems = [p for p in record.problems if p.startswith(("failed", "could not"))]
            if not record.problems:
                record.status = "ok"
        expr.set_symbol_provider(self.symbols)

    def records(self) -> List[PluginInfo]:
        self.engines()
        self.symbols()
        for record in self._records.values():
            if record.status == "partly failed" and not record.engines and not record.functions:
                record.status = "failed"  # its problems left it nothing
        return list(self._records.values()) + list(self._blocked.values())


_host = _PluginHost()
expr.set_symbol_provider(_host.symbols)
expr.set_missing_name_hint(_host.missing_name_hint)


def engine_names() -> List[str]:
    """Names of the installed engines, sorted."""
    return sorted(_host.engines())


def engine_name_key(name: str) -> str:
    """``name`` as engine names are compared when not given exactly: no case, ``-`` or ``_``.

    >>> engine_name_key("L-BFGS-B")
    'lbfgsb'
    """
    return name.casefold().replace("-", "").replace("_", "")


#: Method names of lmfit 1.x and the SciPy names its ``scalar_minimize`` takes, as
#: :func:`engine_name_key` keys: asking for one that is not installed says what it is.
LMFIT_METHODS = frozenset(engine_name_key(name) for name in (
    "leastsq", "least_squares", "differential_evolution", "brute", "basinhopping", "ampgo",
    "nelder", "Nelder-Mead", "lbfgsb", "powell", "cg", "bfgs", "newton", "Newton-CG", "cobyla",
    "tnc", "trust-ncg", "trust-exact", "trust-krylov", "trust-constr", "dogleg", "slsqp",
    "emcee", "shgo", "dual_annealing"))


def resolve_engine_name(name: str) -> str:
    """The installed engine's own name for ``name``.

    An installed engine of exactly that name always wins. Otherwise names
    are compared ignoring case, ``-`` and ``_`` (``'Leastsq'`` and
    ``'L-BFGS-B'`` find ``leastsq`` and ``lbfgsb``), as lmfit ignores case,
    provided exactly one installed engine matches.

    Raises :class:`EngineNotFoundError` naming the installed engines and the
    closest ones, the distribution to install when a distribution of this
    project provides the name, and every match of an ambiguous name.

    >>> resolve_engine_name("Leastsq")  # doctest: +SKIP
    'leastsq'
    """
    engines = _host.engines()
    if not isinstance(name, str):
        raise EngineNotFoundError(f"an engine name is a string, such as 'leastsq'; got "
                                  f"{type(name).__name__} {name!r}")
    if name in engines:
        return name
    key = engine_name_key(name)
    matches = sorted(engine for engine in engines if engine_name_key(engine) == key)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise EngineNotFoundError(
            f"engine name {name!r} is ambiguous: the installed engines {', '.join(matches)} all "
            f"match it when case, '-' and '_' are ignored; give the exact name")
    raise EngineNotFoundError(_missing_engine_message(name, key, sorted(engines)))


def _missing_engine_message(name: str, key: str, installed: List[str]) -> str:
    """Why no installed engine is called ``name``, and what to do about it."""
    message = (f"no fitting engine named {name!r} is installed (installed engines: "
               f"{', '.join(installed) or 'none'})")
    blocked = _host.blocked()
    known = [engine for engine in KNOWN_ENGINES if engine_name_key(engine) == key]
    if known:
        engine = known[0]
        distribution = KNOWN_ENGINES[engine]
        kept = [record for record in blocked if record.distribution == distribution]
        if kept:
            # installing again would change nothing
            return (f"no fitting engine named {name!r} is loaded (loaded engines: "
                    f"{', '.join(installed) or 'none'}); {distribution}, which provides it, "
                    f"is {kept[0].problems[0]}")
        what = "" if engine == name else f"it is the engine {engine!r}: "
        return f"{message}; {what}install it with: pip install {distribution}"
    if blocked:
        message += "; " + _not_loaded(blocked)
    keys = [engine_name_key(engine) for engine in installed]
    # the nearest spellings, and names that begin the other (lmfit's 'least_squares': leastsq)
    near = set(difflib.get_close_matches(key, keys, n=3, cutoff=0.6))
    close = [engine for engine, k in zip(installed, keys)
             if k in near or (min(len(k), len(key)) >= 3 and (k.startswith(key)
                                                              or key.startswith(k)))]
    if close:
        message += f"; closest: {', '.join(close)}"
    if key in LMFIT_METHODS:
        message += (f"; {name!r} is a method of lmfit 1.x that no distribution of lmfit-host "
                    f"provides")
    else:
        message += "; check the spelling (case, '-' and '_' do not matter)"
    return message


def _not_loaded(blocked: List[PluginInfo]) -> str:
    """``'installed, not loaded: <why>: a (dist), b (dist)'`` for plugins the environment kept."""
    names = ", ".join(f"{record.name} ({record.distribution or record.module})"
                      for record in blocked)
    return f"{blocked[0].problems[0]}: {names}"


def blocked_plugins() -> List[PluginInfo]:
    """The installed plugins that ``LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD`` or
    ``LMFIT_HOST_PLUGINS`` kept from loading (status ``'blocked'``; also in
    :func:`list_plugins`)."""
    return _host.blocked()


def selection_problems() -> List[str]:
    """Names in ``LMFIT_HOST_PLUGINS`` that no installed plugin has (a typo, say), as
    sentences; empty when the selection is fine. ``lmfit-host plugins`` and
    ``lmfit-host engines`` show them."""
    return _host.selection_problems()


def get_engine(name: str) -> Engine:
    """The installed engine called ``name`` (see :func:`resolve_engine_name` for spellings).

    Raises :class:`EngineNotFoundError` naming the installed engines and, for
    a known engine, the distribution to install.
    """
    return _host.engines()[resolve_engine_name(name)]


def engine_source(name: str) -> tuple:
    """``(distribution, version)`` of the plugin that registered engine ``name``."""
    try:
        name = resolve_engine_name(name)
    except EngineNotFoundError:
        return None, None
    owner = _host._engine_owner.get(name)
    record = _host._records.get(owner) if owner else None
    if record is None:
        return None, None
    return record.distribution, record.version


def list_plugins() -> List[PluginInfo]:
    """Every plugin the host knows: loaded, failed or registered in-process."""
    return _host.records()


def register_plugin(plugin: Any, name: Optional[str] = None) -> str:
    """Register a plugin object or module in this process; returns its name.

    For code that is not an installed distribution: the object implements
    hooks of :mod:`lmfit_host.hookspecs` with :data:`~lmfit_host.hookimpl`.
    Its engines and functions reach every later fit in the process.

    >>> import lmfit_host
    >>> class Pack:
    ...     @lmfit_host.hookimpl
    ...     def lmfit_host_register_functions(self, register):
    ...         register("double", lambda v: 2 * v)
    >>> lmfit_host.register_plugin(Pack(), name="doubles")
    'doubles'
    >>> lmfit_host.unregister_plugin("doubles")
    """
    return _host.register(plugin, name)


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`."""
    _host.unregister(name)


def _reset_for_tests() -> None:
    """Forget everything loaded so the next use rescans entry points and the environment."""
    global _host
    _host = _PluginHost()
    expr.set_symbol_provider(_host.symbols)
    expr.set_missing_name_hint(_host.missing_name_hint)
