"""Models: fit data with a model function or formula instead of a residual function.

A :class:`Model` wraps a function ``f(x, a, b, ...)``: its parameters come
from the signature (numeric keyword defaults are start values) and its
independent variables are named (by default the first argument).
:meth:`Model.fit` builds the residual ``(model - data) * weights``, runs
any installed engine through the :class:`~lmfit_host.Minimizer` and
returns a :class:`ModelResult` holding the best fit, the 1-sigma band
(:meth:`ModelResult.eval_uncertainty`) and every statistic of the fit.
Models combine with ``+ - * /``; ``prefix=`` keeps the parameters of two
components apart. :class:`ExpressionModel` builds a model from a formula
in the safe expression language, evaluated on numpy arrays.

>>> import numpy as np
>>> def decay(t, amp=1.0, tau=1.0):
...     return amp * np.exp(-t / tau)
>>> t = np.linspace(0, 10, 51)
>>> result = Model(decay).fit(3 * np.exp(-t / 2), t=t, tau=1.5)   # doctest: +SKIP
>>> round(result.best_values['tau'], 6)                             # doctest: +SKIP
2.0
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple,
                    cast)

import numpy as np

from .errors import LmfitHostError, UnknownNameError, user_failure
from .expr import Interpreter, suggested_name
from .minimizer import Minimizer, MinimizerResult
from .parameter import Parameter, Parameters

__all__ = ["CompositeModel", "ExpressionModel", "Model", "ModelError", "ModelResult"]

NAN_POLICIES = ("raise", "propagate", "omit")
HINT_NAMES = ("value", "vary", "min", "max", "expr")

ModelFunction = Callable[..., Any]


class ModelError(LmfitHostError, ValueError):
    """A model cannot be built, evaluated or fitted as asked; the message says what to change."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _ordered_names(tree: ast.AST) -> Tuple[List[str], List[str]]:
    """Free names read by an expression in source order, and the names it calls."""
    bound: set = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            for target in ast.walk(node.target):
                if isinstance(target, ast.Name):
                    bound.add(target.id)
        elif isinstance(node, ast.Lambda):
            for arg in node.args.args:
                bound.add(arg.arg)
    names: List[str] = []
    called: List[str] = []

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Load) and node.id not in bound and node.id not in names:
                names.append(node.id)

        def visit_Call(self, node: ast.Call) -> None:
            if isinstance(node.func, ast.Name) and node.func.id not in called:
                called.append(node.func.id)
            self.generic_visit(node)

    Visitor().visit(tree)
    return names, called


def _prefix_expression(expression: str, prefix: str, own_names: Iterable[str]) -> str:
    """Rewrite ``expression`` so names of this model's own parameters carry ``prefix``.

    Lets a hint say ``expr='2.3548*sigma'`` for ``Model(gauss, prefix='g1_')``;
    names already prefixed, and names of other models, are left alone.
    """
    if not prefix:
        return expression
    own = set(own_names)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return expression  # the Parameters report the syntax error with its owner

    class Renamer(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in own:
                return ast.copy_location(ast.Name(id=prefix + node.id, ctx=node.ctx), node)
            return node

    changed = Renamer().visit(tree)
    if not hasattr(ast, "unparse"):  # pragma: no cover - Python 3.8 has no unparse
        return expression
    return ast.unparse(changed)


class Model:
    """A model function ``f(x, a, b, ...)`` to fit data with; parameters from its signature.

    Parameters
    ----------
    func:
        The model function. Arguments without a default, and arguments
        with a numeric default (the start value), are parameters; the
        first argument is the independent variable unless
        ``independent_vars`` says otherwise. Arguments with a non-numeric
        default (None, a string, an array) are extra independent variables.
    independent_vars:
        Names of the arguments that are data, not parameters (``['x']``).
    param_names:
        Names of the parameters, when the signature cannot tell them
        (a function taking ``**kwargs``).
    prefix:
        Put in front of every parameter name, to keep the parameters of
        two components of one composite model apart (``'g1_'``).
    nan_policy:
        ``'raise'`` (default; NaN in data or model is an error), ``'omit'``
        (drop NaN data points) or ``'propagate'``.
    name:
        A name for reports; default the function's name.
    **kws:
        A parameter name with a number or a dict of hint attributes sets a
        hint (``amp=dict(value=1, min=0)``); any other argument of ``func``
        is passed to it unchanged in every evaluation.

    >>> def line(x, slope=1.0, intercept=0.0):
    ...     return slope * x + intercept
    >>> model = Model(line)
    >>> model.param_names, model.independent_vars
    (['slope', 'intercept'], ['x'])
    """

    def __init__(self, func: ModelFunction, independent_vars: Optional[Sequence[str]] = None,
                 param_names: Optional[Sequence[str]] = None, prefix: str = "",
                 nan_policy: str = "raise", name: Optional[str] = None, **kws: Any) -> None:
        if not callable(func):
            raise ModelError(f"Model needs a callable model function, got {func!r}")
        if nan_policy not in NAN_POLICIES:
            raise ModelError(f"nan_policy={nan_policy!r} is not one of {', '.join(NAN_POLICIES)}")
        if not isinstance(prefix, str):
            raise ModelError(f"prefix must be a string such as 'g1_', not {prefix!r}")
        self.func = func
        self._prefix = prefix
        self.nan_policy = nan_policy
        self._name = name
        self.param_hints: Dict[str, Dict[str, Any]] = {}
        self.opts: Dict[str, Any] = {}
        self.independent_vars_defvals: Dict[str, Any] = {}
        self.def_vals: Dict[str, float] = {}
        self._parse_signature(independent_vars, param_names)
        for key, value in kws.items():
            if key in self._param_root_names:
                if isinstance(value, Mapping):
                    self.set_param_hint(key, **value)
                elif isinstance(value, Parameter):
                    self.set_param_hint(key, value=value.value, min=value.min, max=value.max,
                                        vary=value.vary, expr=value.expr)
                else:
                    self.set_param_hint(key, value=value)
            elif key in self._func_allargs or self._func_haskeywords:
                self.opts[key] = value
            else:
                raise ModelError(f"{self._reprstring()}: keyword {key!r} is neither a parameter "
                                 f"nor an argument of {self._func_name()}; arguments: "
                                 f"{', '.join(self._func_allargs)}")

    # -- building ---------------------------------------------------------------------
    def _func_name(self) -> str:
        return getattr(self.func, "__name__", None) or type(self.func).__name__

    def _parse_signature(self, independent_vars: Optional[Sequence[str]],
                         param_names: Optional[Sequence[str]]) -> None:
        try:
            signature = inspect.signature(self.func)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"cannot read the arguments of {self._func_name()}: {exc}; wrap it "
                             f"in a def with named arguments") from exc
        positional: List[str] = []
        extra_independent: List[str] = []
        self._func_haskeywords = False
        self._func_allargs: List[str] = []
        for arg_name, arg in signature.parameters.items():
            if arg.kind == arg.VAR_KEYWORD:
                self._func_haskeywords = True
                continue
            if arg.kind == arg.VAR_POSITIONAL:
                raise ModelError(f"{self._func_name()} takes *{arg_name}; a model function needs "
                                 f"one named argument per parameter")
            if arg.kind == arg.POSITIONAL_ONLY:
                raise ModelError(f"{self._func_name()} has the positional-only argument "
                                 f"{arg_name!r}; models pass arguments by name, remove the '/'")
            self._func_allargs.append(arg_name)
            if arg.default is arg.empty:
                positional.append(arg_name)
            elif _is_number(arg.default):
                positional.append(arg_name)
                self.def_vals[arg_name] = float(arg.default)
            else:
                extra_independent.append(arg_name)
                self.independent_vars_defvals[arg_name] = arg.default

        if independent_vars is None:
            if not positional and not extra_independent:
                raise ModelError(f"{self._func_name()} takes no named arguments; a model function "
                                 f"looks like f(x, a, b)")
            first = positional[0] if positional else extra_independent[0]
            independent = [first] + [n for n in extra_independent if n != first]
        else:
            if isinstance(independent_vars, str):
                independent_vars = [independent_vars]
            independent = list(independent_vars)
            for var in independent:
                if var not in self._func_allargs and not self._func_haskeywords:
                    raise ModelError(f"independent variable {var!r} is not an argument of "
                                     f"{self._func_name()} (arguments: "
                                     f"{', '.join(self._func_allargs)})")
        self.independent_vars: List[str] = independent

        if param_names is None:
            roots = [n for n in positional if n not in independent]
        else:
            roots = []
            for pname in param_names:
                root = pname[len(self._prefix):] if self._prefix and pname.startswith(
                    self._prefix) else pname
                if root not in self._func_allargs and not self._func_haskeywords:
                    raise ModelError(f"parameter {pname!r} is not an argument of "
                                     f"{self._func_name()} (arguments: "
                                     f"{', '.join(self._func_allargs)})")
                roots.append(root)
        for root in roots:
            if not root.isidentifier():
                raise ModelError(f"parameter name {root!r} is not a valid identifier")
        self._param_root_names: List[str] = roots

    @property
    def prefix(self) -> str:
        """The prefix in front of every parameter name of this model."""
        return self._prefix

    @property
    def name(self) -> str:
        """The model's name as reports show it: ``Model(gauss, prefix='g1_')``."""
        return self._reprstring()

    def _reprstring(self, long: bool = True) -> str:
        base = self._name or self._func_name()
        if not long:
            return base
        prefix = f", prefix={self._prefix!r}" if self._prefix else ""
        return f"Model({base}{prefix})"

    def __repr__(self) -> str:
        return f"<lmfit_host.Model: {self._reprstring()}>"

    @property
    def param_names(self) -> List[str]:
        """Full (prefixed) names of the model function's parameters."""
        return [self._prefix + root for root in self._param_root_names]

    @property
    def components(self) -> List["Model"]:
        """The simple models this model is built from (itself, for a simple model)."""
        return [self]

    def _strip_prefix(self, name: str) -> str:
        if self._prefix and name.startswith(self._prefix):
            return name[len(self._prefix):]
        return name

    # -- parameters -----------------------------------------------------------------
    def set_param_hint(self, name: str, **hints: Any) -> None:
        """Set default attributes (value, vary, min, max, expr) for a parameter of this model.

        ``name`` may carry the prefix or not. A name that is not a parameter
        of the function makes a derived parameter (give it an ``expr``).
        Names of this model's parameters inside ``expr`` get the prefix
        when the parameters are made.

        >>> model.set_param_hint('sigma', min=0)                  # doctest: +SKIP
        >>> model.set_param_hint('fwhm', expr='2.3548*sigma')     # doctest: +SKIP
        """
        unknown = [key for key in hints if key not in HINT_NAMES]
        if unknown:
            raise ModelError(f"set_param_hint({name!r}): unknown hint {unknown[0]!r}; hints are "
                             f"{', '.join(HINT_NAMES)}")
        root = self._strip_prefix(name)
        if not root.isidentifier():
            raise ModelError(f"set_param_hint: {name!r} is not a valid parameter name")
        self.param_hints.setdefault(root, {}).update(hints)

    def print_param_hints(self, colwidth: int = 8) -> None:
        """Print the parameter hints as a table (lmfit 1.x)."""
        print(f"{'Name':<{colwidth * 2}}" + "".join(f"{h:>{colwidth}}" for h in HINT_NAMES))
        for root, hint in self.param_hints.items():
            cells = "".join(f"{str(hint.get(h, '')):>{colwidth}}" for h in HINT_NAMES)
            print(f"{self._prefix + root:<{colwidth * 2}}{cells}")

    def _hint_names(self) -> List[str]:
        """Full names of hinted parameters that the function does not take (derived ones)."""
        return [self._prefix + root for root in self.param_hints
                if root not in self._param_root_names]

    def _all_param_names(self) -> List[str]:
        return self.param_names + self._hint_names()

    def _apply_hint(self, params: Parameters, root: str, full: str) -> None:
        hint = self.param_hints.get(root)
        if not hint:
            return
        attributes = dict(hint)
        if attributes.get("expr"):
            own = set(self._param_root_names) | set(self.param_hints)
            attributes["expr"] = _prefix_expression(attributes["expr"], self._prefix, own)
        _set_attributes(params[full], attributes, full)

    def _fill_params(self, params: Parameters) -> None:
        """Add this model's parameters with defaults and hints (composites call it per component)."""
        for root in self._param_root_names:
            full = self._prefix + root
            if full not in params:
                params.add(full, value=self.def_vals.get(root, _NO_VALUE))
        # hints after all of them: a hint's expression names the model's parameters, also
        # one called like a default symbol (e, max) that is added after it
        for root in self._param_root_names:
            self._apply_hint(params, root, self._prefix + root)
        for root in self.param_hints:
            if root in self._param_root_names:
                continue
            full = self._prefix + root
            if full not in params:
                params.add(full, value=_NO_VALUE)
            self._apply_hint(params, root, full)

    def make_params(self, verbose: bool = False, **starts: Any) -> Parameters:
        """The Parameters of this model, with start values from defaults, hints and ``starts``.

        Each keyword is a parameter name (with or without prefix) and a
        start value, a dict of attributes (``amp=dict(value=1, min=0)``) or
        a Parameter. A name that is not a parameter of the model must come
        with an ``expr`` (a derived parameter).

        >>> params = Model(line).make_params(slope=2, intercept=dict(value=1, vary=False))  # doctest: +SKIP
        """
        params = Parameters()
        for component in self.components:
            component._fill_params(params)
        names = self._all_param_names()
        for key, value in starts.items():
            full = key if key in params else self._full_name(key)
            if full is None:
                if isinstance(value, Mapping) and value.get("expr"):
                    params.add(key, value=_NO_VALUE)
                    full = key
                elif isinstance(value, Parameter) and value.expr:
                    params.add(key, value=_NO_VALUE)
                    full = key
                else:
                    raise ModelError(f"{self.name}: {key!r} is not a parameter of the model "
                                     f"(parameters: {', '.join(names)}); a new derived parameter "
                                     f"needs an expr: {key}=dict(expr='...')")
            _set_start(params[full], value, full)
        if verbose:
            for name in params:
                print(f" - Adding parameter {name!r}")
        return params

    def _full_name(self, key: str) -> Optional[str]:
        """The full parameter name ``key`` refers to (with or without a prefix), or None."""
        names = self._all_param_names()
        if key in names:
            return key
        matches = [name for component in self.components for name in
                   component._all_param_names() if component.prefix + key == name]
        return matches[0] if len(matches) == 1 else None

    # -- evaluation -----------------------------------------------------------------
    def _func_kwargs(self, params: Optional[Parameters], kwargs: Mapping[str, Any]
                     ) -> Dict[str, Any]:
        args: Dict[str, Any] = dict(self.independent_vars_defvals)
        args.update(self.opts)
        for root in self._param_root_names:
            full = self._prefix + root
            if full in kwargs:
                args[root] = _value_of(kwargs[full])
            elif root in kwargs and not self._prefix:
                args[root] = _value_of(kwargs[root])
            elif params is not None and full in params:
                args[root] = params[full].value
            elif root in self.def_vals:
                args[root] = self.def_vals[root]
            else:
                raise ModelError(f"{self.name}: no value for parameter {full!r}; pass params= or "
                                 f"{full}=...")
        for key, value in kwargs.items():
            if key in self.independent_vars or (key in self._func_allargs
                                                and key not in self._param_root_names):
                args[key] = value
        return args

    def _check_independent(self, kwargs: Mapping[str, Any]) -> None:
        for var in self.independent_vars:
            if var not in kwargs and var not in self.opts and var not in \
                    self.independent_vars_defvals:
                raise ModelError(f"{self.name}: the independent variable {var!r} is missing; pass "
                                 f"it as a keyword: {var}=...")

    def _eval_keywords(self, parameters: bool = True) -> List[str]:
        """The keywords an evaluation uses: independent variables, other arguments of the
        model functions and (with ``parameters``) the full parameter names."""
        names = list(self.independent_vars)
        for component in self.components:
            names += [arg for arg in component._func_allargs
                      if arg not in component._param_root_names and arg not in names]
        if parameters:
            names += [name for name in self.param_names if name not in names]
        return names

    def _check_keywords(self, kwargs: Mapping[str, Any], where: str,
                        parameters: bool = True) -> None:
        """Refuse a keyword the evaluation would ignore, naming what it accepts."""
        accepted = self._eval_keywords(parameters)
        unknown = [key for key in kwargs if key not in accepted]
        if not unknown:
            return
        key = unknown[0]
        if not parameters and key in self.param_names:
            raise ModelError(f"{where}: {key!r} is a parameter of {self.name}; keywords here are "
                             f"independent variables ({', '.join(self.independent_vars)}); pass "
                             f"params= with the parameter values to use")
        full = self._full_name(key)
        hint = (f"; parameters of a prefixed model carry the prefix: write {full}="
                if full is not None and full != key else "")
        params_text = (f" and the parameters {', '.join(self.param_names)}"
                       if parameters and self.param_names else "")
        raise ModelError(f"{where}: unknown keyword {key!r}; {self.name} takes the independent "
                         f"variable(s) {', '.join(self.independent_vars)}{params_text}{hint}")

    def eval(self, params: Optional[Parameters] = None, **kwargs: Any) -> Any:
        """The model's values for ``params`` and the independent variables in ``kwargs``.

        Parameter values may also be keywords (``model.eval(x=x, amp=2)``);
        missing ones take their default start values. A keyword that is
        none of these is an error (it would be ignored).

        >>> Model(line).eval(x=np.arange(3.0), slope=2, intercept=1)   # doctest: +SKIP
        array([1., 3., 5.])
        """
        self._check_keywords(kwargs, f"{self.name}.eval")
        return self._eval(params, kwargs)

    def _eval(self, params: Optional[Parameters], kwargs: Mapping[str, Any]) -> Any:
        """eval without the keyword check (composites pass each component all keywords)."""
        self._check_independent(kwargs)
        out = self.func(**self._func_kwargs(params, kwargs))
        if isinstance(out, (list, tuple)):
            out = np.asarray(out)
        return out

    def eval_components(self, params: Optional[Parameters] = None, **kwargs: Any
                        ) -> Dict[str, Any]:
        """Each component's values by its prefix (or name, without one)."""
        self._check_keywords(kwargs, f"{self.name}.eval_components")
        return self._eval_components(params, kwargs)

    def _eval_components(self, params: Optional[Parameters], kwargs: Mapping[str, Any]
                         ) -> Dict[str, Any]:
        key = self._prefix or self._reprstring(long=False)
        return {key: self._eval(params, kwargs)}

    def _make_evaluator(self, params: Parameters, kwargs: Mapping[str, Any]
                        ) -> Callable[[Parameters], Any]:
        """A function params -> model values with everything but the values decided once."""
        self._check_independent(kwargs)
        fixed = self._func_kwargs(params, kwargs)
        pairs = [(root, self._prefix + root) for root in self._param_root_names]
        func = self.func
        func_name = self._func_name()

        def evaluate(current: Parameters) -> Any:
            for root, full in pairs:
                fixed[root] = current[full].value
            try:
                return func(**fixed)
            except LmfitHostError:
                raise
            except Exception as exc:
                # name the user's function, not the residual the Minimizer sees
                values = ", ".join(f"{full}={current[full].value:.6g}" for _, full in pairs)
                raise user_failure(exc, f"the model function {func_name} raised "
                                        f"{type(exc).__name__}: {exc} (with {values})") from exc

        return evaluate

    # -- fitting ------------------------------------------------------------------------
    def fit(self, data: Any, params: Optional[Parameters] = None, weights: Any = None,
            engine: str = "leastsq", method: Optional[str] = None,
            iter_cb: Optional[Callable[..., Any]] = None, scale_covar: bool = True,
            verbose: bool = False, fit_kws: Optional[Mapping[str, Any]] = None,
            nan_policy: Optional[str] = None, calc_covar: bool = True,
            max_nfev: Optional[int] = None, **kwargs: Any) -> "ModelResult":
        """Fit the model to ``data``; returns a :class:`ModelResult`.

        Parameters
        ----------
        data:
            The values to fit (any shape; flattened with the model's values);
            a list or other array-like becomes a float (or complex) array.
        params:
            Start Parameters (default :meth:`make_params`); never changed.
        weights:
            Multiply each residual ``model - data``: ``1/sigma`` for
            uncertainties sigma.
        engine, method:
            The installed engine to fit with (``method`` is lmfit 1.x's
            name for it): ``'leastsq'`` (default), ``'anneal'``, ...
        iter_cb, max_nfev, scale_covar, calc_covar:
            As for :class:`~lmfit_host.Minimizer`.
        fit_kws:
            Options for the engine (``{'xtol': 1e-10}``).
        nan_policy:
            Overrides the model's ``nan_policy`` for this fit.
        **kwargs:
            Independent variables (``x=...``) and parameter start values
            (``amp=3``, or a Parameter). An independent variable given as a
            list, tuple or array-like of numbers (a pandas Series) becomes a
            float (or complex) array, as in lmfit; other objects pass as given.

        >>> result = model.fit(y, x=x, amp=5, cen=1, wid=0.5)              # doctest: +SKIP
        >>> result = model.fit(y, params, weights=1/dy, x=x, engine='anneal')  # doctest: +SKIP
        """
        if params is None:
            params = self.make_params()
        elif not isinstance(params, Parameters):
            raise ModelError(f"params must be a Parameters object (see make_params()), got "
                             f"{type(params).__name__}")
        else:
            params = params.copy()
        names = self._all_param_names()
        data_keywords = self._eval_keywords(parameters=False)
        independent: Dict[str, Any] = {}
        for key, value in kwargs.items():
            full = key if key in params else self._full_name(key)
            if full is not None and key not in self.independent_vars:
                if full not in params:
                    params.add(full, value=_NO_VALUE)
                _set_start(params[full], value, full)
            elif key in data_keywords:
                independent[key] = value
            elif any(key in component._param_root_names for component in self.components):
                # a parameter of several prefixed components: the start would reach none
                owners = [component.prefix + key for component in self.components
                          if key in component._param_root_names]
                raise ModelError(f"{self.name}.fit: {key!r} is ambiguous, it is the parameter "
                                 f"{' and '.join(owners)}; give the full name "
                                 f"({owners[0]}=...)")
            else:
                raise ModelError(
                    f"{self.name}.fit: keyword {key!r} is neither an independent variable "
                    f"({', '.join(self.independent_vars)}) nor a parameter ({', '.join(names)}); "
                    f"engine options go in fit_kws={{...}}")
        for name in self.param_names:
            if name not in params:
                raise ModelError(f"{self.name}.fit: params lacks the model parameter {name!r}; "
                                 f"make them with model.make_params()")
        missing = [name for name, p in params.items() if not p.expr and _has_no_value(p)]
        if missing:
            raise ModelError(f"{self.name}.fit: no start value for {', '.join(missing)}; pass "
                             f"them as keywords ({missing[0]}=...) or to make_params()")
        self._check_independent(independent)
        # lists and pandas columns become arrays, so that model functions can compute with them
        for name in self.independent_vars:
            if name in independent:
                independent[name] = _as_number_array(independent[name])

        policy = self.nan_policy if nan_policy is None else nan_policy
        if policy not in NAN_POLICIES:
            raise ModelError(f"nan_policy={policy!r} is not one of {', '.join(NAN_POLICIES)}")
        data_array = np.asarray(data)
        if data_array.dtype.kind not in "biufc":
            raise ModelError(f"{self.name}.fit: data must be numbers, got {data_array.dtype}")
        data_array = data_array.astype(complex if data_array.dtype.kind == "c" else float)
        weights_array = None
        if weights is not None:
            weights_array = np.asarray(weights, dtype=float)
            try:
                np.broadcast_shapes(weights_array.shape, data_array.shape)
            except ValueError:
                raise ModelError(f"{self.name}.fit: weights of shape {weights_array.shape} do not "
                                 f"match data of shape {data_array.shape}") from None
        if policy != "propagate":
            bad = ~np.isfinite(data_array)
            if weights_array is not None:
                bad = bad | ~np.isfinite(np.broadcast_to(weights_array, data_array.shape))
            if bad.any():
                if policy == "raise":
                    where = tuple(int(i) for i in np.argwhere(bad)[0])
                    index = where[0] if len(where) == 1 else where
                    raise ModelError(f"{self.name}.fit: data (or weights) hold {int(bad.sum())} "
                                     f"NaN or infinite value(s), the first at index {index}; "
                                     f"remove them, or fit with nan_policy='omit'")
                data_array, weights_array, independent = _omit(bad, data_array, weights_array,
                                                              independent)
        engine_options = dict(fit_kws or {})
        result = ModelResult(self, params, data=data_array, weights=weights_array,
                             userkws=independent, engine=engine, method=method, iter_cb=iter_cb,
                             scale_covar=scale_covar, nan_policy=policy, calc_covar=calc_covar,
                             max_nfev=max_nfev, fit_kws=engine_options)
        result.fit()
        if verbose:
            print(result.fit_report())
        return result

    def _residual_function(self, params: Parameters, kwargs: Mapping[str, Any]
                           ) -> Callable[..., np.ndarray]:
        """The residual ``(model - data) * weights`` over Parameters, built once per fit."""
        evaluate = self._make_evaluator(params, kwargs)

        def residual(current: Parameters, data: np.ndarray, weights: Optional[np.ndarray]
                     ) -> np.ndarray:
            diff = evaluate(current) - data
            if weights is not None:
                diff = diff * weights
            return diff

        # the Minimizer names the residual function in its messages ("the residual function
        # of Model(gauss) returns 3 NaN ..."): say whose residual it is
        residual.__name__ = residual.__qualname__ = f"of {self.name}"
        return residual

    def _start_values(self, params: Parameters, kwargs: Mapping[str, Any], data: Any) -> Any:
        """The model at the start values, checked against the data's shape before any fitting.

        A model function that fails, or returns values the data cannot be
        compared with, is reported here, naming the function and the shapes
        (and an independent variable whose length differs from the data's).
        """
        data_shape = np.shape(data)
        evaluate = self._make_evaluator(params, kwargs)
        try:
            out = evaluate(params)
        except Exception as exc:
            mismatch = self._length_mismatch(kwargs, data_shape)
            if mismatch:
                raise ModelError(f"{self.name}: {mismatch}; {type(exc).__name__}: {exc}") from exc
            if isinstance(exc, LmfitHostError):
                raise  # already names the model function or the expression
            # e.g. a composite's operator meeting components of different shapes
            raise ModelError(f"{self.name} failed at the start values: {type(exc).__name__}: "
                             f"{exc}") from exc
        if isinstance(out, (list, tuple)):
            out = np.asarray(out)
        shape = np.shape(out)
        try:
            fits = np.broadcast_shapes(shape, data_shape) == data_shape
        except ValueError:
            fits = False
        if not fits:
            mismatch = self._length_mismatch(kwargs, data_shape)
            returned = (f"model {self._reprstring(long=False)} returned shape {shape} but the "
                        f"data has shape {data_shape}")
            if mismatch:
                raise ModelError(f"{self.name}: {mismatch} ({returned})")
            raise ModelError(f"{self.name}: {returned}; the model must give one value per "
                             f"data point")
        return out

    def _length_mismatch(self, kwargs: Mapping[str, Any], data_shape: Tuple[int, ...]) -> str:
        """Which independent variable has a different length (or shape) than the data, if any."""
        problems = []
        for var in self.independent_vars:
            value = kwargs.get(var)
            if value is None or np.isscalar(value):
                continue
            shape = np.shape(value)
            if len(shape) != len(data_shape) or shape == data_shape:
                continue  # other layouts (a 2-column x, a kernel) may be meant; no guess
            if len(shape) == 1:
                problems.append(f"the independent variable {var!r} has length {shape[0]} but "
                                f"the data has length {data_shape[0]}")
            else:
                problems.append(f"the independent variable {var!r} has shape {shape} but the "
                                f"data has shape {data_shape}")
        if not problems:
            return ""
        return "; ".join(problems) + "; give one value per data point"

    # -- composition ------------------------------------------------------------------------
    def _combine(self, other: Any, op: Callable[[Any, Any], Any]) -> "CompositeModel":
        if not isinstance(other, Model):
            return NotImplemented  # type: ignore[return-value]
        return CompositeModel(self, other, op)

    def __add__(self, other: "Model") -> "CompositeModel":
        return self._combine(other, operator.add)

    def __sub__(self, other: "Model") -> "CompositeModel":
        return self._combine(other, operator.sub)

    def __mul__(self, other: "Model") -> "CompositeModel":
        return self._combine(other, operator.mul)

    def __truediv__(self, other: "Model") -> "CompositeModel":
        return self._combine(other, operator.truediv)


#: What make_params gives a parameter without a start value; fit() then asks for one.
_NO_VALUE = None


def _has_no_value(param: Parameter) -> bool:
    value = param.value
    return value is None or (isinstance(value, float) and math.isnan(value))


def _value_of(value: Any) -> Any:
    return value.value if isinstance(value, Parameter) else value


def _set_attributes(param: Parameter, attributes: Mapping[str, Any], name: str) -> None:
    unknown = [key for key in attributes if key not in HINT_NAMES]
    if unknown:
        raise ModelError(f"parameter {name!r}: unknown attribute {unknown[0]!r}; give "
                         f"{', '.join(HINT_NAMES)}")
    param.set(**{key: attributes[key] for key in HINT_NAMES if key in attributes})


def _set_start(param: Parameter, value: Any, name: str) -> None:
    """Apply a start given as a number, a dict of attributes or a Parameter."""
    if isinstance(value, Parameter):
        _set_attributes(param, {"value": value.value, "vary": value.vary, "min": value.min,
                                "max": value.max, "expr": value.expr}, name)
    elif isinstance(value, Mapping):
        _set_attributes(param, value, name)
    elif _is_number(value):
        param.set(value=float(value))
    else:
        raise ModelError(f"start for parameter {name!r} must be a number, a dict of attributes "
                         f"(value, min, max, vary, expr) or a Parameter, not {value!r}")


def _as_number_array(value: Any) -> Any:
    """A list, tuple or array-like (pandas Series, ...) of numbers as a float or complex ndarray.

    Anything else (scalars, strings, booleans, ragged lists, other objects)
    comes back as given, for model functions that take such arguments.

    >>> _as_number_array([1, 2, 3])
    array([1., 2., 3.])
    >>> _as_number_array("linear")
    'linear'
    """
    if not isinstance(value, (list, tuple)) and not hasattr(value, "__array__"):
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged sequences and the like are the function's business
        return value
    if array.ndim == 0:
        return value
    if array.dtype.kind in "iuf":
        return np.asarray(array, dtype=float)
    if array.dtype.kind == "c":
        return np.asarray(array, dtype=complex)
    return value


def _omit(bad: np.ndarray, data: np.ndarray, weights: Optional[np.ndarray],
          independent: Dict[str, Any]) -> Tuple[np.ndarray, Optional[np.ndarray], Dict[str, Any]]:
    """Drop the data points marked ``bad``, and the same points of same-shaped arrays."""
    keep = ~bad
    shape = data.shape
    if weights is not None:
        weights = np.broadcast_to(weights, shape)[keep]
    trimmed = {}
    for key, value in independent.items():
        array = np.asarray(value) if not np.isscalar(value) else None
        trimmed[key] = array[keep] if array is not None and array.shape == shape else value
    return data[keep], weights, trimmed


class CompositeModel(Model):
    """Two models combined by an operator: ``left + right``, ``-``, ``*``, ``/``.

    Parameters of both are merged (give components different prefixes
    when they share names); independent variables are the union.

    >>> peaks = Model(gauss, prefix='g1_') + Model(gauss, prefix='g2_')   # doctest: +SKIP
    >>> peaks.param_names                                                # doctest: +SKIP
    ['g1_amp', 'g1_cen', 'g1_wid', 'g2_amp', 'g2_cen', 'g2_wid']
    """

    _OPERATORS = {operator.add: "+", operator.sub: "-", operator.mul: "*",
                  operator.truediv: "/"}

    def __init__(self, left: Model, right: Model, op: Callable[[Any, Any], Any],
                 nan_policy: Optional[str] = None, name: Optional[str] = None) -> None:
        if not isinstance(left, Model) or not isinstance(right, Model):
            raise ModelError("CompositeModel combines two Model objects")
        if not callable(op):
            raise ModelError(f"CompositeModel needs a callable operator, got {op!r}")
        self.left = left
        self.right = right
        self.op = op
        left_names = set(left._all_param_names())
        shared = [n for n in right._all_param_names() if n in left_names]
        if shared:
            raise ModelError(f"{left.name} and {right.name} both have a parameter named "
                             f"{shared[0]!r}; give the components different prefixes, e.g. "
                             f"Model(func, prefix='p1_')")
        self._prefix = ""
        self._name = name
        self.nan_policy = nan_policy or (left.nan_policy if left.nan_policy == right.nan_policy
                                         else "raise")
        self.param_hints = {}
        self.opts = {}
        self.def_vals = {}
        self.independent_vars = list(left.independent_vars) + [
            v for v in right.independent_vars if v not in left.independent_vars]
        self.independent_vars_defvals = dict(right.independent_vars_defvals)
        self.independent_vars_defvals.update(left.independent_vars_defvals)
        self._param_root_names = []
        self._func_allargs = []
        self._func_haskeywords = False

    def _reprstring(self, long: bool = True) -> str:
        symbol = self._OPERATORS.get(self.op, getattr(self.op, "__name__", "?"))
        if self._name:
            return self._name
        return f"({self.left._reprstring(long)} {symbol} {self.right._reprstring(long)})"

    def __repr__(self) -> str:
        return f"<lmfit_host.CompositeModel: {self._reprstring()}>"

    @property
    def param_names(self) -> List[str]:
        """Full parameter names of all components, left first."""
        return self.left.param_names + self.right.param_names

    @property
    def components(self) -> List[Model]:
        """The simple models, left to right."""
        return self.left.components + self.right.components

    def _all_param_names(self) -> List[str]:
        return self.left._all_param_names() + self.right._all_param_names()

    def set_param_hint(self, name: str, **hints: Any) -> None:
        """Set a hint on the component that owns the parameter ``name`` (full name)."""
        for component in self.components:
            if name in component._all_param_names():
                component.set_param_hint(name, **hints)
                return
        raise ModelError(f"{self.name}: no component has a parameter named {name!r}; for a new "
                         f"derived parameter set the hint on one component (with its prefix)")

    @property
    def param_hints(self) -> Dict[str, Dict[str, Any]]:  # type: ignore[override]
        """All components' hints by full parameter name."""
        merged: Dict[str, Dict[str, Any]] = {}
        for component in self.components:
            for root, hint in component.param_hints.items():
                merged[component.prefix + root] = dict(hint)
        return merged

    @param_hints.setter
    def param_hints(self, value: Dict[str, Dict[str, Any]]) -> None:
        if value:
            raise ModelError("set hints on a CompositeModel with set_param_hint()")

    def _check_independent(self, kwargs: Mapping[str, Any]) -> None:
        self.left._check_independent(kwargs)
        self.right._check_independent(kwargs)

    def _component_kwargs(self, model: Model, kwargs: Mapping[str, Any]) -> Dict[str, Any]:
        # a component sees the independent variables it takes and parameter keywords
        return {key: value for key, value in kwargs.items()
                if key not in self.independent_vars or key in model.independent_vars
                or model._func_haskeywords}

    def _eval(self, params: Optional[Parameters], kwargs: Mapping[str, Any]) -> Any:
        return self.op(self.left._eval(params, self._component_kwargs(self.left, kwargs)),
                       self.right._eval(params, self._component_kwargs(self.right, kwargs)))

    def _eval_components(self, params: Optional[Parameters], kwargs: Mapping[str, Any]
                         ) -> Dict[str, Any]:
        # each simple component's values, keyed by its prefix (or name)
        out = dict(self.left._eval_components(params, self._component_kwargs(self.left, kwargs)))
        out.update(self.right._eval_components(params,
                                               self._component_kwargs(self.right, kwargs)))
        return out

    def _make_evaluator(self, params: Parameters, kwargs: Mapping[str, Any]
                        ) -> Callable[[Parameters], Any]:
        left = self.left._make_evaluator(params, self._component_kwargs(self.left, kwargs))
        right = self.right._make_evaluator(params, self._component_kwargs(self.right, kwargs))
        op = self.op

        def evaluate(current: Parameters) -> Any:
            return op(left(current), right(current))

        return evaluate


class ExpressionModel(Model):
    """A model from a formula in the safe expression language, evaluated on numpy arrays.

    Parameters are the names the formula reads, less the independent
    variables and the names of the expression namespace (math functions,
    constants and function packs); a function's name that the formula
    reads as a value, not a call (``gamma*x``), is a parameter too. The formula is compiled once; each
    evaluation writes the parameter values and the independent variables
    into its interpreter's symtable and runs the compiled code.

    >>> model = ExpressionModel('amp*exp(-x/tau) + c')
    >>> model.param_names
    ['amp', 'tau', 'c']
    """

    def __init__(self, expr: str, independent_vars: Optional[Sequence[str]] = None,
                 nan_policy: str = "raise", prefix: str = "", name: Optional[str] = None,
                 **kws: Any) -> None:
        if not isinstance(expr, str) or not expr.strip():
            raise ModelError(f"ExpressionModel needs a formula such as 'a*exp(-x/tau)', got "
                             f"{expr!r}")
        if nan_policy not in NAN_POLICIES:
            raise ModelError(f"nan_policy={nan_policy!r} is not one of {', '.join(NAN_POLICIES)}")
        self.expr = expr.strip()
        self.interpreter = Interpreter(arrays=True)
        self._compiled = self.interpreter.compile_expression(self.expr,
                                                             owner="the model's formula")
        names, called = _ordered_names(ast.parse(self.expr, mode="eval"))
        namespace = self.interpreter.symtable
        for function in called:
            if function not in namespace:
                close = suggested_name(function, namespace)
                raise UnknownNameError(
                    f"ExpressionModel {self.expr!r}: the function {function!r} is not defined"
                    + (f" (did you mean {close}?)" if close else "")
                    + _missing_hint(function), self.expr, None, function)
        if isinstance(independent_vars, str):
            independent_vars = [independent_vars]
        declared = set(independent_vars or ())
        # a function name read as a value ('gamma*x') is a parameter that hides the function in
        # this model's own namespace; constants (pi, e) stay constants, unless declared an
        # independent variable (a data column named e)
        free = [n for n in names if n not in namespace
                or (n not in called and (callable(namespace[n]) or n in declared))]
        if independent_vars is None:
            if "x" not in free:
                raise ModelError(f"ExpressionModel {self.expr!r} does not use the independent "
                                 f"variable x; name the one it uses with independent_vars=['t']")
            independent_vars = ["x"]
        for var in independent_vars:
            if var not in free:
                raise ModelError(f"ExpressionModel {self.expr!r} does not use the independent "
                                 f"variable {var!r} (names it reads: {', '.join(free) or 'none'})")
        self.func = self._evaluate_formula
        self._prefix = prefix
        self.nan_policy = nan_policy
        self._name = name
        self.param_hints = {}
        self.opts = {}
        self.independent_vars_defvals = {}
        self.def_vals = {}
        self.independent_vars = list(independent_vars)
        self._param_root_names = [n for n in free if n not in self.independent_vars]
        self._func_allargs = list(self.independent_vars) + list(self._param_root_names)
        self._func_haskeywords = False
        for key, value in kws.items():
            if key not in self._param_root_names:
                raise ModelError(f"ExpressionModel {self.expr!r}: keyword {key!r} is not one of "
                                 f"its parameters ({', '.join(self._param_root_names)})")
            if isinstance(value, Mapping):
                self.set_param_hint(key, **value)
            else:
                self.set_param_hint(key, value=value)

    def _reprstring(self, long: bool = True) -> str:
        prefix = f", prefix={self._prefix!r}" if self._prefix and long else ""
        return self._name or f"Model({self.expr}{prefix})"

    def __repr__(self) -> str:
        return f"<lmfit_host.ExpressionModel('{self.expr}')>"

    def _func_name(self) -> str:
        return f"ExpressionModel({self.expr!r})"

    def _evaluate_formula(self, **values: Any) -> Any:
        for var in self.independent_vars:
            if var in values and isinstance(values[var], (list, tuple)):
                values[var] = np.asarray(values[var], dtype=float)
        symtable = self.interpreter.symtable
        symtable.update(values)
        return self._finish(self.interpreter.evaluate(self._compiled), values)

    def _finish(self, out: Any, values: Mapping[str, Any]) -> Any:
        # a formula that does not depend on x after all (a constant) still gives one value per point
        if np.ndim(out) == 0:
            shape = np.shape(values[self.independent_vars[0]])
            if shape:
                return np.full(shape, out, dtype=np.result_type(out, float))
        return out

    def _make_evaluator(self, params: Parameters, kwargs: Mapping[str, Any]
                        ) -> Callable[[Parameters], Any]:
        self._check_independent(kwargs)
        symtable = self.interpreter.symtable
        fixed = {var: (np.asarray(kwargs[var]) if not np.isscalar(kwargs[var]) else kwargs[var])
                 for var in self.independent_vars}
        pairs = [(root, self._prefix + root) for root in self._param_root_names]
        evaluate_compiled = self.interpreter.evaluate
        compiled = self._compiled
        finish = self._finish

        def evaluate(current: Parameters) -> Any:
            symtable.update(fixed)
            for root, full in pairs:
                symtable[root] = current[full].value
            return finish(evaluate_compiled(compiled), fixed)

        return evaluate


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ModelError("plotting needs matplotlib, which is not installed; install it with: "
                         "pip install 'lmfit-host[plot]'") from None
    return plt


def _missing_hint(name: str) -> str:
    try:
        from . import plugins
        hint = plugins._host.missing_name_hint(name)
    except Exception:  # the hint is a courtesy; never let it hide the real error
        hint = None
    return f"; {hint}" if hint else ""


def _plain(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def _json_number(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class ModelResult:
    """The outcome of :meth:`Model.fit`: best fit, band, report and every fit statistic.

    Attributes
    ----------
    model : Model
        The model that was fitted.
    params : Parameters
        Best-fit Parameters with ``stderr`` and ``correl``.
    init_params : Parameters
        The start Parameters.
    best_values, init_values : dict
        Best and start value of every parameter, by full name.
    best_fit, init_fit : ndarray
        The model at the best and at the start values.
    residual : ndarray
        ``(best_fit - data) * weights``, flattened, as the engine saw it.
    data, weights, userkws :
        What was fitted (after NaN points were dropped under ``'omit'``)
        and the independent variables.
    rsquared (alias r2) : float
        ``1 - sum((data - best_fit)**2) / sum((data - mean(data))**2)``,
        unweighted, as lmfit 1.x computes it.

    Every attribute of the :class:`~lmfit_host.MinimizerResult` is here
    too: ``nfev``, ``success``, ``aborted``, ``message``, ``chisqr``, ``redchi``,
    ``aic``, ``bic``, ``covar``, ``var_names``, ``nvarys``, ``ndata``, ``nfree``,
    ``errorbars``, ``errorbars_reason``, ``engine``, ``engine_version``,
    ``elapsed`` and the engine's own codes (``ier``, ...).
    """

    def __init__(self, model: Model, params: Parameters, data: Any = None, weights: Any = None,
                 userkws: Optional[Mapping[str, Any]] = None, engine: str = "leastsq",
                 method: Optional[str] = None, iter_cb: Optional[Callable[..., Any]] = None,
                 scale_covar: bool = True, nan_policy: str = "raise", calc_covar: bool = True,
                 max_nfev: Optional[int] = None,
                 fit_kws: Optional[Mapping[str, Any]] = None) -> None:
        self.model = model
        self.params = params
        self.init_params = params  # replaced by a copy when the fit starts
        self.data = data
        self.weights = weights
        self.userkws: Dict[str, Any] = dict(userkws or {})
        self._engine_name = method if method is not None else engine
        self.iter_cb = iter_cb
        self.scale_covar = scale_covar
        self.nan_policy = nan_policy
        self.calc_covar = calc_covar
        self.max_nfev = max_nfev
        self.fit_kws: Dict[str, Any] = dict(fit_kws or {})
        self.minimizer_result: Optional[MinimizerResult] = None
        self.dely: Optional[np.ndarray] = None

    # -- running ----------------------------------------------------------------------
    def fit(self, data: Any = None, params: Optional[Parameters] = None, weights: Any = None,
            engine: Optional[str] = None, method: Optional[str] = None,
            **fit_kws: Any) -> "ModelResult":
        """Run (or re-run) the fit; arguments given replace the stored ones.

        Returns this result, updated in place.
        """
        if data is not None:
            self.data = np.asarray(data)
        if weights is not None:
            self.weights = np.asarray(weights, dtype=float)
        if params is not None:
            self.params = params.copy()
        if engine is not None or method is not None:
            self._engine_name = method if method is not None else cast(str, engine)
        if fit_kws:
            self.fit_kws.update(fit_kws)
        self.init_params = self.params.copy()
        # before any fitting: a failing model or a shape that does not match the data is
        # reported in the model's terms (and the start curve is needed anyway)
        self.init_fit = self.model._start_values(self.init_params, self.userkws, self.data)
        residual = self.model._residual_function(self.params, self.userkws)
        minimizer = Minimizer(residual, self.params, fcn_args=(self.data, self.weights),
                              iter_cb=self.iter_cb, scale_covar=self.scale_covar,
                              nan_policy=self.nan_policy, max_nfev=self.max_nfev,
                              calc_covar=self.calc_covar)
        outcome = minimizer.minimize(self._engine_name, **self.fit_kws)
        self.minimizer_result = outcome
        self.params = outcome.params
        self.init_values = {name: _plain(p.value) for name, p in self.init_params.items()}
        self.best_values = {name: _plain(p.value) for name, p in self.params.items()}
        self.best_fit = self.model._eval(self.params, self.userkws)
        self.residual = outcome.residual
        self.rsquared = self._rsquared()
        self.dely = None
        return self

    def _rsquared(self) -> float:
        data = np.asarray(self.data)
        fit = np.asarray(self.best_fit)
        if data.size < 2 or fit.shape != data.shape or np.iscomplexobj(data):
            return math.nan
        total = float(((data - data.mean()) ** 2).sum())
        return 1.0 - float(((data - fit) ** 2).sum()) / max(total, np.finfo(float).tiny)

    def __getattr__(self, name: str) -> Any:
        # every statistic of the MinimizerResult, by delegation
        if name.startswith("__") or name == "minimizer_result":
            raise AttributeError(name)
        outcome = self.__dict__.get("minimizer_result")
        if outcome is not None and hasattr(outcome, name):
            return getattr(outcome, name)
        raise AttributeError(f"'ModelResult' object has no attribute {name!r}")

    @property
    def r2(self) -> float:
        """R-squared of the fit (same as ``rsquared``)."""
        return self.rsquared

    @property
    def method(self) -> str:
        """The engine's name, as lmfit 1.x calls it."""
        return self.engine

    @property
    def engine(self) -> str:
        """The name of the engine that ran the fit."""
        outcome = self.minimizer_result
        return outcome.engine if outcome is not None else self._engine_name

    @property
    def values(self) -> Dict[str, Any]:
        """The best values by name, as lmfit 1.x's ``ModelResult.values`` (``best_values``)."""
        return self.best_values

    # -- using the result ------------------------------------------------------------------
    def eval(self, params: Optional[Parameters] = None, **kwargs: Any) -> Any:
        """The model at ``params`` (default: best fit), with the fit's independent variables
        unless ``kwargs`` give others.

        >>> result.eval(x=np.linspace(0, 20, 201))     # doctest: +SKIP
        """
        self.model._check_keywords(kwargs, "ModelResult.eval")
        userkws = dict(self.userkws)
        userkws.update(kwargs)
        return self.model._eval(self.params if params is None else params, userkws)

    def eval_components(self, params: Optional[Parameters] = None, **kwargs: Any
                        ) -> Dict[str, Any]:
        """Each component's values at the best fit (or ``params``), keyed by prefix or name."""
        self.model._check_keywords(kwargs, "ModelResult.eval_components")
        userkws = dict(self.userkws)
        userkws.update(kwargs)
        return self.model._eval_components(self.params if params is None else params, userkws)

    def eval_uncertainty(self, params: Optional[Parameters] = None, sigma: float = 1,
                         dscale: Optional[float] = None, **kwargs: Any) -> np.ndarray:
        """The uncertainty band of the model, ``sigma`` standard deviations wide.

        Propagates the covariance of the varied parameters through the
        model: with ``J`` the gradient of the model with respect to them
        (central differences), the variance at each point is
        ``diag(J C J^T)``. As in lmfit 1.x, ``sigma`` is turned into a
        probability (``erf(sigma/sqrt(2))``; a value below 1 *is* the
        probability) and the band is scaled by the Student t quantile for
        ``nfree`` degrees of freedom, which tends to ``sigma`` for many points.
        The band is also kept as ``dely``. ``dscale`` sets the difference
        steps to ``dscale * stderr`` (lmfit 1.x's keyword; default 1e-3).
        ``kwargs`` are independent variables; any other keyword is an error.

        >>> band = result.eval_uncertainty(x=x_new)                       # doctest: +SKIP
        >>> plt.fill_between(x_new, fit - band, fit + band)                # doctest: +SKIP
        """
        from scipy.special import erf
        from scipy.stats import t as student_t

        self.model._check_keywords(kwargs, "ModelResult.eval_uncertainty", parameters=False)
        step_scale = 1e-3 if dscale is None else dscale
        if not (_is_number(step_scale) and math.isfinite(step_scale)
                and step_scale > 0):
            raise ModelError(f"eval_uncertainty: dscale must be a positive number, not {dscale!r}")
        outcome = self.minimizer_result
        if outcome is None:
            raise ModelError("eval_uncertainty needs a finished fit")
        covar = outcome.covar
        if covar is None:
            raise ModelError(f"no uncertainty band: the fit has no covariance "
                             f"({outcome.errorbars_reason or 'not estimated'})")
        # a parameter held at a bound for the error bars (NaN row and column) varies by
        # nothing here: the band of the others, as with it fixed
        covar = np.where(np.isnan(covar), 0.0, covar)
        base = self.params if params is None else params
        userkws = dict(self.userkws)
        userkws.update(kwargs)
        work = base.copy()
        names = list(outcome.var_names)
        center = np.asarray(self.model._eval(work, userkws))
        values = np.array([work[name].value for name in names], dtype=float)
        stderr = np.sqrt(np.abs(np.diag(covar)))
        floor = np.cbrt(np.finfo(float).eps) * np.maximum(np.abs(values), 1e-300)
        steps = np.where(stderr > 0, np.maximum(step_scale * stderr, floor), floor)
        gradient = np.empty((len(names),) + np.shape(center), dtype=np.result_type(center, float))
        # the fit's own fast path: no bound clamping, constraints recomputed
        for j in range(len(names)):
            shifted = values.copy()
            shifted[j] = values[j] + steps[j]
            work._set_values_fast(names, shifted.tolist())
            upper = np.asarray(self.model._eval(work, userkws))
            shifted[j] = values[j] - steps[j]
            work._set_values_fast(names, shifted.tolist())
            lower = np.asarray(self.model._eval(work, userkws))
            gradient[j] = (upper - lower) / (2.0 * steps[j])
        flat = gradient.reshape(len(names), -1)
        variance = np.einsum("ik,ij,jk->k", flat, covar, flat).real
        probability = sigma if sigma < 1 else float(erf(sigma / math.sqrt(2.0)))
        nfree = max(int(outcome.nfree), 1)
        scale = float(student_t.ppf((probability + 1.0) / 2.0, nfree))
        band = scale * np.sqrt(np.maximum(variance, 0.0)).reshape(np.shape(center))
        self.dely = band
        return band

    # -- plots (matplotlib, the optional extra lmfit-host[plot]) -----------------------------
    def _plot_x(self) -> Tuple[str, np.ndarray]:
        names = self.model.independent_vars
        if len(names) != 1:
            raise ModelError(f"plots need a model with one independent variable; "
                             f"{self.model.name} has {', '.join(names)}")
        x = self.userkws.get(names[0])
        if x is None or np.ndim(x) != 1 or np.shape(x) != np.shape(self.data):
            raise ModelError(f"plots need the independent variable {names[0]!r} as a 1-D array "
                             f"as long as the data")
        return names[0], np.asarray(x, dtype=float)

    def _yerr(self, yerr: Any) -> Optional[np.ndarray]:
        if yerr is not None:
            return np.asarray(yerr, dtype=float)
        if self.weights is not None:
            with np.errstate(divide="ignore"):
                return np.broadcast_to(1.0 / np.asarray(self.weights, dtype=float),
                                       np.shape(self.data))
        return None

    def plot_fit(self, ax: Any = None, datafmt: str = "o", fitfmt: str = "-",
                 initfmt: str = "--", xlabel: Optional[str] = None,
                 ylabel: Optional[str] = None, yerr: Any = None, numpoints: Optional[int] = None,
                 data_kws: Optional[Mapping[str, Any]] = None,
                 fit_kws: Optional[Mapping[str, Any]] = None,
                 init_kws: Optional[Mapping[str, Any]] = None,
                 ax_kws: Optional[Mapping[str, Any]] = None, show_init: bool = False,
                 title: Optional[str] = None, show_band: bool = True) -> Any:
        """Plot data, best fit (and the start curve, and the 1-sigma band) on a matplotlib axes.

        ``numpoints`` evaluates the model on that many evenly spaced points
        (a smooth curve); error bars come from ``yerr`` or ``1/weights``.
        Returns the axes. Needs matplotlib (``pip install 'lmfit-host[plot]'``).
        """
        plt = _pyplot()
        name, x = self._plot_x()
        if ax is None:
            ax = plt.figure().add_subplot(111, **dict(ax_kws or {}))
        order = np.argsort(x, kind="stable")
        xs = x[order]
        fine = np.linspace(xs[0], xs[-1], numpoints) if numpoints and xs.size > 1 else xs
        data = np.asarray(self.data)[order]
        errors = self._yerr(yerr)
        data_style = {"color": "0.25", "ms": 3, **dict(data_kws or {})}
        if errors is not None:
            ax.errorbar(xs, data, yerr=np.asarray(errors)[order], fmt=datafmt, lw=0.8,
                        label="data", **data_style)
        else:
            ax.plot(xs, data, datafmt, label="data", **data_style)
        at_fine: Dict[str, Any] = {name: fine}
        best = np.asarray(self.eval(**at_fine), dtype=float)
        if show_band and self.errorbars:
            band = self.eval_uncertainty(**at_fine)
            ax.fill_between(fine, best - band, best + band, color="tab:orange", alpha=0.3, lw=0,
                            label="1-sigma band")
        if show_init:
            start = np.asarray(self.eval(self.init_params, **{name: fine}), dtype=float)
            ax.plot(fine, start, initfmt, label="start", **dict(init_kws or {}))
        ax.plot(fine, best, fitfmt, label="best fit",
                **{"color": "tab:red", "lw": 1.5, **dict(fit_kws or {})})
        ax.set_xlabel(xlabel or name)
        ax.set_ylabel(ylabel or "y")
        ax.set_title(self.model.name if title is None else title, fontsize=9)
        ax.legend(fontsize=8)
        return ax

    def plot_residuals(self, ax: Any = None, datafmt: str = "o", yerr: Any = None,
                       data_kws: Optional[Mapping[str, Any]] = None,
                       ax_kws: Optional[Mapping[str, Any]] = None,
                       title: Optional[str] = None) -> Any:
        """Plot ``data - best_fit`` against the independent variable; returns the axes."""
        plt = _pyplot()
        name, x = self._plot_x()
        if ax is None:
            ax = plt.figure().add_subplot(111, **dict(ax_kws or {}))
        order = np.argsort(x, kind="stable")
        residual = (np.asarray(self.data) - np.asarray(self.best_fit))[order]
        errors = self._yerr(yerr)
        style = {"color": "0.25", "ms": 3, **dict(data_kws or {})}
        if errors is not None:
            ax.errorbar(x[order], residual, yerr=np.asarray(errors)[order], fmt=datafmt, lw=0.8,
                        **style)
        else:
            ax.plot(x[order], residual, datafmt, **style)
        ax.axhline(0.0, color="tab:red", lw=1)
        ax.set_ylabel("data - fit")
        if title:
            ax.set_title(title, fontsize=9)
        return ax

    def plot(self, datafmt: str = "o", fitfmt: str = "-", initfmt: str = "--",
             xlabel: Optional[str] = None, ylabel: Optional[str] = None, yerr: Any = None,
             numpoints: Optional[int] = None, fig: Any = None,
             data_kws: Optional[Mapping[str, Any]] = None,
             fit_kws: Optional[Mapping[str, Any]] = None,
             init_kws: Optional[Mapping[str, Any]] = None,
             fig_kws: Optional[Mapping[str, Any]] = None, show_init: bool = False,
             title: Optional[str] = None, show_band: bool = True) -> Any:
        """A figure with the fit (data, best fit, 1-sigma band) above the residuals.

        Returns the matplotlib Figure (``fig.savefig('fit.png')``).

        >>> result.plot(numpoints=500).savefig('fit.png')     # doctest: +SKIP
        """
        plt = _pyplot()
        if fig is None:
            fig = plt.figure(**{"figsize": (8, 6), **dict(fig_kws or {})})
        grid = fig.add_gridspec(2, 1, height_ratios=[3, 1])
        top = fig.add_subplot(grid[0])
        bottom = fig.add_subplot(grid[1], sharex=top)
        self.plot_fit(ax=top, datafmt=datafmt, fitfmt=fitfmt, initfmt=initfmt, ylabel=ylabel,
                      yerr=yerr, numpoints=numpoints, data_kws=data_kws, fit_kws=fit_kws,
                      init_kws=init_kws, show_init=show_init, title=title, show_band=show_band)
        top.set_xlabel("")
        top.tick_params(labelbottom=False)
        self.plot_residuals(ax=bottom, datafmt=datafmt, yerr=yerr, data_kws=data_kws)
        bottom.set_xlabel(xlabel or self.model.independent_vars[0])
        fig.tight_layout()
        return fig

    def fit_report(self, modelpars: Optional[Parameters] = None, show_correl: bool = True,
                   min_correl: float = 0.1, sort_pars: bool = False, **kws: Any) -> str:
        """The text report: the model, how the engine ended, statistics, parameters, correlations."""
        from .report import fit_report

        body = fit_report(self, modelpars=modelpars, show_correl=show_correl,
                          min_correl=min_correl, sort_pars=sort_pars, **kws)
        return f"Model: {self.model.name}\n{body}"

    def _repr_html_(self) -> str:
        import html

        from .report import fit_report_html

        return f"<p>Model: {html.escape(self.model.name)}</p>" + fit_report_html(self)

    def summary(self) -> Dict[str, Any]:
        """A dict of plain Python values: model, engine, statistics and every parameter.

        ``params`` maps each name to value, stderr, start value, bounds,
        vary, expr and its correlations; ``covar`` is a list of rows (or
        None; NaN in the row and column of a parameter held at a bound).
        Infinite bounds and NaN stay as they are; JSON writers must map them.
        """
        outcome = self.minimizer_result
        summary: Dict[str, Any] = {"model": self.model.name, "engine": self.engine,
                                   "method": self.engine}
        for attribute in ("engine_version", "engine_distribution", "success", "aborted",
                          "message", "errorbars", "errorbars_reason", "nfev", "ndata", "nvarys",
                          "nfree", "chisqr", "redchi", "aic", "bic", "elapsed", "nan_policy",
                          "scale_covar", "ier", "lmdif_message"):
            if outcome is not None and hasattr(outcome, attribute):
                summary[attribute] = _json_number(getattr(outcome, attribute)) if not isinstance(
                    getattr(outcome, attribute), str) else getattr(outcome, attribute)
        summary["rsquared"] = _json_number(self.rsquared)
        summary["var_names"] = list(getattr(outcome, "var_names", []))
        summary["init_values"] = {k: _json_number(v) for k, v in self.init_values.items()}
        summary["best_values"] = {k: _json_number(v) for k, v in self.best_values.items()}
        covar = getattr(outcome, "covar", None)
        summary["covar"] = None if covar is None else [[float(v) for v in row] for row in covar]
        params: Dict[str, Any] = {}
        for name, param in self.params.items():
            correl = getattr(param, "correl", None)
            params[name] = {
                "value": _json_number(param.value),
                "stderr": _json_number(param.stderr),
                "init_value": _json_number(self.init_values.get(name)),
                "min": _json_number(param.min),
                "max": _json_number(param.max),
                "vary": bool(param.vary),
                "expr": param.expr or None,
                "correl": {k: float(v) for k, v in correl.items()} if correl else {},
            }
        summary["params"] = params
        return summary

    def __repr__(self) -> str:
        state = ("not fitted" if self.minimizer_result is None else
                 "aborted" if self.aborted else "success" if self.success else "not converged")
        return f"<ModelResult {self.model.name}: {state}>"
