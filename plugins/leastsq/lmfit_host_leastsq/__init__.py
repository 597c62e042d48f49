"""lmfit-host-leastsq: the ``leastsq`` engine, Levenberg-Marquardt through MINPACK.

Installed next to ``lmfit-host``, it is found through the ``lmfit_host``
entry-point group and is the host's default engine::

    from lmfit_host import minimize, Minimizer
    result = minimize(residual, params, args=(x, data))            # engine='leastsq'
    result = Minimizer(residual, params, fcn_args=(x, data)).leastsq(xtol=1e-9)
    result.ier, result.lmdif_message                                # MINPACK's verdict
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from lmfit_host import hookimpl

from .engine import DEFAULTS, OPTIONS, LeastsqEngine

try:
    __version__ = version("lmfit-host-leastsq")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["DEFAULTS", "OPTIONS", "LeastsqEngine", "__version__", "lmfit_host_register_engines"]


@hookimpl
def lmfit_host_register_engines(register: Callable[[Any], None]) -> None:
    """Register the ``leastsq`` engine with the host."""
    register(LeastsqEngine())
