"""The ``lmfit-host`` command: fit a formula to a data file, run the demo, list plugins.

::

    lmfit-host fit DATA --model EXPR [-p NAME=VALUE[:min=..][:max=..][:vary=..][:expr=..]]...
                   [--x COL] [--y COL] [--sigma COL] [--engine NAME] [-o KEY=VALUE]...
                   [--nan-policy omit|raise|propagate] [--json] [--plot FILE.png]
    lmfit-host demo [--out DIR] [--engine NAME] [--json] [--plot FILE.png]
    lmfit-host plugins [--json]
    lmfit-host engines [--json]
    lmfit-host --version

Columns (``--x``, ``--y``, ``--sigma``) are header names or 1-based column
numbers; by default x is the column named ``x`` (else column 1) and y the
column named ``y`` (else column 2). The formula calls the independent
variable ``x``, or the x column's header name. Parameters not given with
``-p`` start at 1.

Exit codes: 0 the fit ran (the report says whether it converged), 2 a
user error (one line on stderr, no traceback), 130 interrupted by Ctrl-C
(the fit's best values so far are still printed).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import math
import os
import signal
import sys
import tempfile
import time
import warnings
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from .errors import FitAborted, FitError, LmfitHostError

__all__ = ["CliError", "main", "parse_param_spec"]

PROG = "lmfit-host"
EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

#: The seed's damped sine, fitted by ``lmfit-host demo``.
DEMO_MODEL = "amp*sin(shift + x/period)*exp(-x*x*decay*decay)"
DEMO_TRUE = {"amp": 14.0, "period": 5.46, "shift": 0.123, "decay": 0.032}
DEMO_STARTS = ("amp=10", "period=5.5:min=3:max=8", "shift=0.0:min=-1.5707963:max=1.5707963",
               "decay=0.02")
DEMO_NOISE = 0.4
DEMO_POINTS = 1001
DEMO_SEED = 2024

PLOT_INSTALL_HINT = ("--plot needs matplotlib, which is not installed; install it with: "
                     "pip install 'lmfit-host[plot]'")


class CliError(LmfitHostError, ValueError):
    """A command-line argument cannot be used; the message names it and says what to give."""


# -- small helpers -----------------------------------------------------------------------------


def _version() -> str:
    try:
        from importlib import metadata

        return metadata.version("lmfit-host")
    except Exception:  # running from a source tree that is not installed
        return "unknown"


def _json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, inf and NaN to null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


def _number(text: str, what: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CliError(f"-p {spec!r}: {what} {text!r} is not a number") from None


def parse_param_spec(spec: str) -> Tuple[str, Dict[str, Any]]:
    """Split ``NAME=VALUE[:min=..][:max=..][:vary=..][:expr=..]`` into a name and attributes.

    ``VALUE`` may be left out (``NAME:expr=2*a``); ``fixed`` is short for
    ``vary=no``. ``expr=`` takes the rest of the text, colons included.

    >>> parse_param_spec('tau=2.5:min=0:vary=yes')
    ('tau', {'value': 2.5, 'min': 0.0, 'vary': True})
    >>> parse_param_spec('c:expr=2*tau')
    ('c', {'expr': '2*tau'})
    """
    text = spec.strip()
    head, _, rest = text.partition(":")
    name, has_value, value_text = head.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise CliError(f"-p {spec!r}: {name!r} is not a parameter name; write "
                       f"NAME=VALUE[:min=..][:max=..][:vary=..][:expr=..]")
    attributes: Dict[str, Any] = {}
    if has_value:
        attributes["value"] = _number(value_text.strip(), "value", spec)
        if math.isnan(attributes["value"]):
            raise CliError(f"-p {spec!r}: the start value must be a number, not "
                           f"{value_text.strip()!r}")
    while rest:
        piece, _, remainder = rest.partition(":")
        key, has_eq, raw = piece.partition("=")
        key = key.strip().lower()
        if key == "expr" and has_eq:
            attributes["expr"] = (raw + (":" + remainder if remainder else "")).strip()
            break
        if key == "fixed" and not has_eq:
            attributes["vary"] = False
        elif key in ("min", "max") and has_eq:
            attributes[key] = _number(raw.strip(), key, spec)
        elif key == "vary" and has_eq:
            word = raw.strip().lower()
            if word not in _TRUE | _FALSE:
                raise CliError(f"-p {spec!r}: vary={raw!r} must be yes or no")
            attributes["vary"] = word in _TRUE
        else:
            raise CliError(f"-p {spec!r}: {piece!r} is not understood; after the name and value "
                           f"give min=.., max=.., vary=yes|no, fixed or expr=..")
        rest = remainder
    return name, attributes


def _engine_option(text: str) -> Tuple[str, Any]:
    key, has_eq, raw = text.partition("=")
    key = key.strip()
    if not has_eq or not key.isidentifier():
        raise CliError(f"-o {text!r}: write an engine option as KEY=VALUE (e.g. -o xtol=1e-10)")
    raw = raw.strip()
    try:
        return key, json.loads(raw)
    except ValueError:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return key, lowered == "true"
        if lowered in ("none", "null"):
            return key, None
        return key, raw


def _free_names(expression: str) -> Optional[List[str]]:
    """Names in the formula, or None when it does not parse (ExpressionModel then says where)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None
    return [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]


# -- progress and Ctrl-C ---------------------------------------------------------------------


class Progress:
    """The fit's ``iter_cb``: progress on a terminal, and a clean stop on Ctrl-C.

    Shows evaluations and the best chi-square on one stderr line, at most
    ``rate`` times a second and only after ``delay`` seconds (short fits
    stay quiet). The first Ctrl-C stops the fit at the next evaluation
    with the best values so far; a second one interrupts at once.
    """

    def __init__(self, stream: TextIO, show: bool, rate: float = 4.0, delay: float = 0.5) -> None:
        self.stream = stream
        self.show = show
        self.interval = 1.0 / rate
        self.started = time.monotonic()
        self.next_update = self.started + delay
        self.best = math.inf
        self.nfev = 0
        self.shown = False
        self.interrupted = False
        self._previous_handler: Any = None

    def __call__(self, params: Any, nfev: int, resid: np.ndarray, *args: Any, **kws: Any) -> None:
        self.nfev = nfev
        if self.interrupted:
            raise FitAborted("interrupted by the user (Ctrl-C)")
        if self.show:
            chisqr = float(np.dot(resid, resid))
            if chisqr < self.best:
                self.best = chisqr
            now = time.monotonic()
            if now >= self.next_update:
                self.next_update = now + self.interval
                self.stream.write(f"\r\x1b[K  fitting: {nfev} evaluations, best chi-square "
                                  f"{self.best:.6g}  (Ctrl-C stops with the best values)")
                self.stream.flush()
                self.shown = True
        return None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True

    def __enter__(self) -> "Progress":
        try:
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: Ctrl-C keeps its default behaviour
            self._previous_handler = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# -- fit ---------------------------------------------------------------------------------------


def _check_plot_available() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CliError(PLOT_INSTALL_HINT) from None


def _independent_name(expression: str, x_header: Optional[str]) -> str:
    names = _free_names(expression)
    if names is None or "x" in names:
        return "x"
    if x_header and x_header.isidentifier() and x_header in names:
        from .model import Model

        if x_header in inspect.signature(Model.fit).parameters:
            raise CliError(f"--model {expression!r}: the x column's name {x_header!r} is also an "
                           f"argument of Model.fit; call the independent variable x instead")
        return x_header
    where = f" or {x_header!r}, the name of the x column" if x_header and x_header != "x" else ""
    raise CliError(f"--model {expression!r} does not use the independent variable x{where}; "
                   f"write the formula in terms of x")


def _build_params(model: Any, specs: Sequence[str], notes: List[str]) -> Any:
    params = model.make_params()
    given: Dict[str, Dict[str, Any]] = {}
    for spec in specs:
        name, attributes = parse_param_spec(spec)
        given.setdefault(name, {}).update(attributes)
    for name, attributes in given.items():
        if name in params:
            params[name].set(**attributes)
        elif attributes.get("expr"):
            params.add(name, expr=attributes["expr"])
        else:
            raise CliError(f"-p {name}: the model has no parameter {name!r} (parameters: "
                           f"{', '.join(model.param_names)}); a new derived parameter needs "
                           f"an expression: -p {name}:expr=...")
    unstarted = [name for name, p in params.items() if p.expr is None and p.value is None]
    for name in unstarted:
        params[name].set(value=1.0)
    if unstarted:
        notes.append(f"no start value for {', '.join(unstarted)}: starting at 1 (give starts "
                     f"with -p NAME=VALUE)")
    return params


def _result_json(result: Any, data: Any, expression: str, xname: str) -> Dict[str, Any]:
    summary = result.summary()
    params = {}
    correl = {}
    for name, entry in summary["params"].items():
        correl_entry = entry.pop("correl", {})
        params[name] = entry
        if correl_entry:
            correl[name] = correl_entry
    covar = summary.get("covar")
    return {
        "lmfit_host_version": _version(),
        "data": {
            "file": data.path, "ndata": data.ndata, "dropped": data.dropped,
            "dropped_lines": data.dropped_lines, "delimiter": data.delimiter,
            "x": data.x_label, "y": data.y_label, "sigma": data.sigma_label,
        },
        "model": expression,
        "independent_variable": xname,
        "engine": {"name": summary["engine"], "version": summary.get("engine_version"),
                   "distribution": summary.get("engine_distribution")},
        "success": summary.get("success"),
        "aborted": summary.get("aborted"),
        "message": summary.get("message"),
        "errorbars": summary.get("errorbars"),
        "errorbars_reason": summary.get("errorbars_reason") or None,
        "statistics": {key: summary.get(key) for key in (
            "nfev", "ndata", "nvarys", "nfree", "chisqr", "redchi", "aic", "bic", "rsquared",
            "elapsed")},
        "params": params,
        "correl": correl,
        "covar": None if covar is None else {"names": summary["var_names"], "matrix": covar},
    }


def _plot_path(requested: str) -> str:
    """The file ``--plot`` will write, checked before any fitting: ``.png`` added to a name
    without a suffix; a suffix matplotlib cannot write, a folder, or a missing folder is an
    error now rather than after the fit."""
    _check_plot_available()
    if os.path.isdir(requested):
        raise CliError(f"--plot {requested}: is a folder; give a file name such as "
                       f"{os.path.join(requested, 'fit.png')}")
    root, suffix = os.path.splitext(requested)
    path = requested if suffix else requested + ".png"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"--plot {requested}: the folder {folder} does not exist")
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if suffix and suffix[1:].lower() not in formats:
        raise CliError(f"--plot {requested}: matplotlib cannot write {suffix!r} files; use one "
                       f"of {', '.join('.' + kind for kind in sorted(formats))}")
    return path


def _plot(path: str, result: Any, data: Any, expression: str, notes: List[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    if not result.errorbars:
        notes.append(f"plot: no uncertainty band ({result.errorbars_reason or 'no error bars'})")
    state = "aborted" if result.aborted else ("converged" if result.success
                                              else "did not converge")
    figure = result.plot(numpoints=max(500, 4 * data.ndata),
                         xlabel=data.x_name or f"column {data.x_label}",
                         ylabel=data.y_name or f"column {data.y_label}",
                         title=f"{expression}\nengine {result.engine}: {state}, reduced "
                               f"chi-square {result.redchi:.4g}")
    try:
        figure.savefig(path, dpi=100)
    except OSError as exc:
        raise CliError(f"--plot {path}: cannot write the plot: {exc.strerror or exc}; the "
                       f"results above are complete") from None
    except ValueError as exc:  # matplotlib refusing the format, say
        raise CliError(f"--plot {path}: cannot write the plot: {exc}; the results above are "
                       f"complete") from None
    finally:
        plt.close(figure)


def run_fit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``fit`` command on parsed arguments; shared by ``demo``."""
    from .datafile import DataFileError, read_data
    from .model import ExpressionModel
    from .plugins import resolve_engine_name

    plot_path = _plot_path(args.plot) if args.plot else None
    if args.max_nfev is not None and args.max_nfev < 1:
        raise CliError(f"--max-nfev {args.max_nfev}: give a positive number of evaluations")
    engine = resolve_engine_name(args.engine)  # before reading any data
    options = dict(_engine_option(text) for text in args.option or [])

    content = None
    if args.data == "-":  # the standard input, as command-line tools read it
        if sys.stdin is None:
            raise CliError("fit -: there is no standard input to read the data from")
        stdin = getattr(sys.stdin, "buffer", None)
        content = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
    try:
        data = read_data("<stdin>" if content is not None else args.data, x=args.x, y=args.y,
                         sigma=args.sigma, nan_policy=args.nan_policy, content=content)
    except DataFileError as exc:
        # the library's advice, in the command's terms
        raise CliError(str(exc).replace("nan_policy 'omit'", "--nan-policy omit")) from None
    notes: List[str] = [f"{data.path}: {note}".replace("(x=1, y=2)", "(--x 1 --y 2)")
                        for note in data.notes]
    if data.dropped:
        shown = ", ".join(str(n) for n in data.dropped_lines[:10])
        more = ", ..." if data.dropped > 10 else ""
        notes.append(f"{data.path}: dropped {data.dropped} row{'s' if data.dropped != 1 else ''} "
                     f"with missing or infinite values (line{'s' if data.dropped != 1 else ''} "
                     f"{shown}{more}); --nan-policy raise makes them errors")

    xname = _independent_name(args.model, data.x_name)
    model = ExpressionModel(args.model, independent_vars=[xname])
    params = _build_params(model, args.param or [], notes)
    free = [name for name, p in params.items() if p.vary and not p.expr]
    if not free:
        if not params:
            raise CliError(f"--model {args.model!r} has no parameters to fit: every name it "
                           f"reads is the independent variable or a function or constant")
        raise CliError("every parameter is fixed; let at least one vary (drop :vary=no or "
                       ":fixed)")
    data.check_enough_points(free)
    for note in notes:
        err.write(f"{PROG}: note: {note}\n")
    err.flush()

    show = args.progress == "always" or (args.progress == "auto" and err.isatty())
    independent: Dict[str, Any] = {xname: data.x}
    # numpy's warnings from trial steps (overflow in exp where the engine then steps back)
    # are noise on a terminal: what matters is reported below, or as an error
    with Progress(err, show) as progress, np.errstate(all="ignore"):
        try:
            result = model.fit(data.y, params, weights=data.weights, engine=engine,
                               fit_kws=options, max_nfev=args.max_nfev, iter_cb=progress,
                               nan_policy="propagate" if args.nan_policy == "propagate"
                               else "raise",
                               scale_covar=not args.absolute_sigma, **independent)
        except FitError as exc:
            index = getattr(exc, "index", None)
            if index is None or not 0 <= index < data.ndata:
                raise
            # the model is not finite at a row of the file: say which, in the command's terms
            raise CliError(
                f"the model {args.model!r} is NaN or infinite at the start values on "
                f"{data.path}, line {int(data.lines[index])} (x = {data.x[index]:g}); give "
                f"start values or bounds (-p NAME=VALUE:min=...:max=...) where it is finite, "
                f"or remove that row (--nan-policy omit only drops rows with missing values "
                f"in the file)") from None
    # a Ctrl-C after the engine finished changes nothing: the result is complete
    interrupted = bool(result.aborted) and (progress.interrupted
                                            or "Ctrl-C" in str(result.message))

    # the plot is drawn first (a failure is reported below the results, which are kept),
    # and its file named only once it is written
    plot_notes: List[str] = []
    plot_error: Optional[str] = None
    if plot_path is not None:
        try:
            _plot(plot_path, result, data, args.model, plot_notes)
        except CliError as exc:
            plot_error, plot_path = str(exc), None

    if args.json:
        document = _result_json(result, data, args.model, xname)
        document["interrupted"] = interrupted
        if args.plot:
            document["plot"] = None if plot_path is None else os.path.abspath(plot_path)
        out.write(json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n")
    else:
        sigma = f", sigma {data.sigma_label}" if data.sigma_label else ""
        dropped = f", {data.dropped} dropped" if data.dropped else ""
        out.write(f"Data: {data.path} ({data.ndata} points{dropped}; x {data.x_label}, "
                  f"y {data.y_label}{sigma})\n")
        out.write(result.fit_report() + "\n")
        if plot_path is not None:
            out.write(f"Plot: {plot_path}\n")
    out.flush()
    for note in plot_notes:
        err.write(f"{PROG}: note: {note}\n")
    if plot_error is not None:
        err.write(f"{PROG}: error: {plot_error}\n")
        return EXIT_USER_ERROR
    if interrupted:
        err.write(f"{PROG}: interrupted by Ctrl-C after {result.nfev} evaluations; the values "
                  f"above are the best found so far\n")
        return EXIT_INTERRUPTED
    return EXIT_OK


# -- demo --------------------------------------------------------------------------------------


def write_demo_data(folder: str, points: int = DEMO_POINTS, seed: int = DEMO_SEED) -> str:
    """Write the demo's damped sine with noise to ``folder/damped_sine.csv``; returns the path."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 250.0, points)
    p = DEMO_TRUE
    y = (p["amp"] * np.sin(p["shift"] + x / p["period"])
         * np.exp(-x * x * p["decay"] * p["decay"]))
    y = y + rng.normal(scale=DEMO_NOISE, size=x.size)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "damped_sine.csv")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# lmfit-host demo: the seed's damped sine "
                     f"{DEMO_MODEL} with {', '.join(f'{k}={v}' for k, v in p.items())}, "
                     f"noise sigma {DEMO_NOISE}, seed {seed}\n")
        handle.write("x,y\n")
        for xi, yi in zip(x.tolist(), y.tolist()):
            handle.write(f"{xi:.6f},{yi:.8g}\n")
    return path


def run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``demo`` command: write the damped-sine data file, then fit it as ``fit`` would."""
    from .plugins import resolve_engine_name

    # an engine that is not installed is reported before anything is written
    engine = resolve_engine_name(args.engine)
    if args.seed < 0:
        raise CliError(f"--seed {args.seed}: give a seed of 0 or more")
    if args.out is not None and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CliError(f"--out {args.out}: is a file; give a folder for the demo's data file")
    if args.plot:
        _plot_path(args.plot)  # before the data is written
    folder = args.out or tempfile.mkdtemp(prefix="lmfit-host-demo-")
    try:
        path = write_demo_data(folder, points=args.points, seed=args.seed)
    except OSError as exc:
        raise CliError(f"--out {folder}: cannot write the demo's data file there: "
                       f"{exc.strerror or exc}") from None
    fit_argv = ["fit", path, "--model", DEMO_MODEL]
    for spec in DEMO_STARTS:
        fit_argv += ["-p", spec]
    if engine != "leastsq":
        fit_argv += ["--engine", engine]
    if args.json:
        fit_argv.append("--json")
    if args.plot:
        fit_argv += ["--plot", args.plot]
    if args.progress != "auto":
        fit_argv += ["--progress", args.progress]
    if not args.json:
        shown = " ".join(_quote(a) for a in fit_argv)
        out.write(f"lmfit-host demo: data written to {path}\n"
                  f"  true values: {', '.join(f'{k}={v}' for k, v in DEMO_TRUE.items())}\n"
                  f"  the same fit by hand: {PROG} {shown}\n\n")
    fit_args = build_parser().parse_args(fit_argv)
    return run_fit(fit_args, out, err)


def _quote(text: str) -> str:
    if text and all(c.isalnum() or c in "-_=.:/,+" for c in text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


# -- plugins and engines -------------------------------------------------------------------------


def run_plugins(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``plugins`` command: every plugin with its distribution, version, what it gives, status."""
    from .plugins import list_plugins, selection_problems

    with warnings.catch_warnings():
        # the listing shows each problem; do not print it twice as a warning
        warnings.simplefilter("ignore")
        records = list_plugins()
    for problem in selection_problems():
        err.write(f"{PROG}: warning: {problem}\n")
    if args.json:
        out.write(json.dumps([_json_safe(r.as_dict()) for r in records], indent=2) + "\n")
        return EXIT_OK
    if not records:
        out.write("no plugins\n")
        return EXIT_OK
    for record in records:
        version = f" {record.version}" if record.version else ""
        source = record.distribution or f"in-process ({record.module})"
        out.write(f"{record.name}: {source}{version} [{record.status}]\n")
        if record.engines:
            out.write(f"  engines: {', '.join(record.engines)}\n")
        if record.functions:
            names = record.functions
            listed = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12
                                              else "")
            out.write(f"  functions: {listed}\n")
        for problem in record.problems:
            out.write(f"  problem: {problem}\n")
    return EXIT_OK


def run_engines(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The ``engines`` command: installed engines with description, distribution and version."""
    from .plugins import (blocked_plugins, engine_names, engine_source, get_engine,
                          selection_problems)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = engine_names()
    for problem in selection_problems():
        err.write(f"{PROG}: warning: {problem}\n")
    rows = []
    for name in names:
        engine = get_engine(name)
        distribution, version = engine_source(name)
        rows.append({"name": name, "description": getattr(engine, "description", ""),
                     "distribution": distribution, "version": version,
                     "options": dict(getattr(engine, "options", None) or {})})
    if args.json:
        out.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    if not rows:
        from .plugins import KNOWN_FUNCTION_PACKS

        # a known function pack provides no engine: it is not among the ones kept
        kept = [record for record in blocked_plugins()
                if record.distribution not in KNOWN_FUNCTION_PACKS]
        if kept:
            listed = ", ".join(f"{record.name} ({record.distribution or record.module})"
                               for record in kept)
            out.write(f"no engines loaded; {kept[0].problems[0]}: {listed}\n")
        else:
            out.write("no engines installed; install one with: pip install lmfit-host-leastsq\n")
        return EXIT_OK
    for row in rows:
        source = f"{row['distribution']} {row['version']}" if row["distribution"] else "in-process"
        out.write(f"{row['name']}: {row['description']} ({source})\n")
    return EXIT_OK


# -- the parser and main ---------------------------------------------------------------------


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default="leastsq", metavar="NAME",
                        help="fitting engine (default leastsq; see: lmfit-host engines)")
    parser.add_argument("--json", action="store_true",
                        help="print machine-readable results instead of the report")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw data, best fit, residuals and the 1-sigma band "
                             "(needs lmfit-host[plot])")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="show progress on stderr: auto (on a terminal), always, never")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lmfit-host`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Non-linear least-squares fitting with pluggable engines.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    fit = commands.add_parser(
        "fit", help="fit a formula to columns of a data file",
        description="Fit a formula to x, y (and sigma) columns of a CSV, TSV or "
                    "whitespace-separated text file, with or without a header.",
        epilog="Columns are header names or 1-based numbers. Parameters without -p start at 1. "
               "Example: lmfit-host fit decay.csv --model 'amp*exp(-x/tau) + c' "
               "-p amp=5 -p tau=2:min=0 -p c=0")
    fit.add_argument("data", help="data file (CSV, TSV or whitespace-separated); - reads "
                                  "the standard input")
    fit.add_argument("--model", "-m", required=True, metavar="EXPR",
                     help="the model formula in terms of x, e.g. 'amp*exp(-x/tau) + c'")
    fit.add_argument("-p", "--param", action="append", metavar="SPEC",
                     help="NAME=VALUE[:min=..][:max=..][:vary=yes|no][:expr=..] (repeatable)")
    fit.add_argument("--x", metavar="COL", help="x column: name or 1-based number")
    fit.add_argument("--y", metavar="COL", help="y column: name or 1-based number")
    fit.add_argument("--sigma", metavar="COL",
                     help="column of 1-sigma uncertainties of y (weights 1/sigma)")
    fit.add_argument("--absolute-sigma", action="store_true",
                     help="take sigma as absolute: do not scale the covariance by reduced "
                          "chi-square")
    fit.add_argument("--nan-policy", choices=("omit", "raise", "propagate"), default="omit",
                     help="rows with missing values: omit (drop and count, default), raise, "
                          "propagate (keep)")
    fit.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                     help="engine option, e.g. -o xtol=1e-10 (repeatable)")
    fit.add_argument("--max-nfev", type=int, metavar="N", help="evaluation budget")
    _add_output_options(fit)
    fit.set_defaults(handler=run_fit)

    demo = commands.add_parser(
        "demo", help="fit the seed's damped sine on a data file it writes",
        description="Write a noisy damped sine to a CSV file and fit it through 'fit'.")
    demo.add_argument("--out", metavar="DIR", help="folder for the data file (default: a new "
                                                   "temporary folder)")
    demo.add_argument("--points", type=int, default=DEMO_POINTS, help=argparse.SUPPRESS)
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help="seed of the noise")
    _add_output_options(demo)
    demo.set_defaults(handler=run_demo)

    plugins = commands.add_parser("plugins", help="list plugins: distribution, version, "
                                                  "engines, functions, status")
    plugins.add_argument("--json", action="store_true", help="machine-readable listing")
    plugins.set_defaults(handler=run_plugins)

    engines = commands.add_parser("engines", help="list installed engines")
    engines.add_argument("--json", action="store_true", help="machine-readable listing")
    engines.set_defaults(handler=run_engines)
    return parser


def _one_line_warning(message: Any, category: Any, filename: str, lineno: int,
                      line: Optional[str] = None) -> str:
    return f"{PROG}: warning: {message}\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``lmfit-host`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USER_ERROR
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    previous_format = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        return args.handler(args, sys.stdout, sys.stderr)
    except LmfitHostError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into head: not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    finally:
        warnings.formatwarning = previous_format


if __name__ == "__main__":
    sys.exit(main())
