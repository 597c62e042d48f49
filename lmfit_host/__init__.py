"""lmfit-host: non-linear least-squares fitting over named Parameters, with pluggable engines.

>>> from lmfit_host import Parameters, minimize, fit_report
>>> params = Parameters()
>>> params.add('amp', value=10)
>>> params.add('decay', value=0.05, min=0)
>>> # result = minimize(residual, params, args=(x, data))
>>> # print(fit_report(result))

Engines (``leastsq``, ``anneal``, ``lbfgsb``, third-party ones) and
function packs are plugins, found through the ``lmfit_host`` entry-point
group; see :mod:`lmfit_host.hookspecs` for the contract.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 10):
    from importlib import metadata as _metadata
else:  # pragma: no cover - Python 3.9
    import importlib_metadata as _metadata

from .errors import (
    EngineNotFoundError,
    EngineOptionError,
    ExpressionCycleError,
    ExpressionError,
    ExpressionLimitError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    FitAborted,
    FitError,
    LmfitHostError,
    ParameterError,
    PluginError,
    ProblemError,
    UnknownNameError,
    UnsafeExpressionError,
)
from .expr import Interpreter
from .hookspecs import Engine, hookimpl
from .parameter import Parameter, Parameters, create_params
from .problem import BoundsTransform, EngineResult, FitProblem
from .covariance import normal_inverse
from .plugins import PluginWarning, engine_names, list_plugins, register_plugin, unregister_plugin
from .minimizer import Minimizer, MinimizerResult, minimize
from .report import fit_report, report_fit
from .model import CompositeModel, ExpressionModel, Model, ModelError, ModelResult
from .datafile import DataFileError

try:
    __version__ = _metadata.version("lmfit-host")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "BoundsTransform", "CompositeModel", "DataFileError", "Engine", "EngineNotFoundError", "EngineOptionError", "EngineResult",
    "ExpressionCycleError", "ExpressionError", "ExpressionLimitError", "ExpressionModel", "ExpressionRuntimeError",
    "ExpressionSyntaxError", "FitAborted", "FitError", "FitProblem", "Interpreter",
    "LmfitHostError", "Minimizer", "MinimizerResult", "Model", "ModelError", "ModelResult", "Parameter", "ParameterError",
    "Parameters", "PluginError", "PluginWarning", "ProblemError", "UnknownNameError",
    "UnsafeExpressionError", "__version__", "create_params", "engine_names", "fit_report",
    "hookimpl",
    "list_plugins", "minimize", "normal_inverse", "register_plugin", "report_fit", "unregister_plugin",
]
