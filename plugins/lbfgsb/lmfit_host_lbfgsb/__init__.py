"""lmfit-host-lbfgsb: the ``lbfgsb`` engine, L-BFGS-B (SciPy) with native parameter bounds.

Installed next to ``lmfit-host``, it is found through the ``lmfit_host``
entry-point group::

    from lmfit_host import minimize
    result = minimize(residual, params, args=(x, data), engine="lbfgsb")
    result = Minimizer(residual, params, fcn_args=(x, data)).lbfgsb(ftol=1e-12)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from lmfit_host import hookimpl

from .engine import DEFAULTS, OPTIONS, LbfgsbEngine

try:
    __version__ = version("lmfit-host-lbfgsb")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["DEFAULTS", "OPTIONS", "LbfgsbEngine", "__version__", "lmfit_host_register_engines"]


@hookimpl
def lmfit_host_register_engines(register: Callable[[Any], None]) -> None:
    """Register the ``lbfgsb`` engine with the host."""
    register(LbfgsbEngine())
