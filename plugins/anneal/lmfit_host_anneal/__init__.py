"""lmfit-host-anneal: the ``anneal`` engine, simulated annealing with a least-squares polish.

For fits where Levenberg-Marquardt stops in a local minimum. SciPy removed
``scipy.optimize.anneal`` in 0.16; this engine brings its own (the classic
'fast', 'cauchy' and 'boltzmann' schedules, with the seed-era keywords) and
also offers SciPy's generalized annealing (``schedule='gsa'``). Installed
next to ``lmfit-host``, it is found through the ``lmfit_host`` entry-point
group::

    from lmfit_host import Minimizer, minimize
    result = minimize(residual, params, args=(x, data), engine="anneal", seed=7)
    result = Minimizer(residual, params, fcn_args=(x, data)).anneal(schedule="gsa")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from lmfit_host import hookimpl

from .engine import DEFAULTS, OPTIONS, SCHEDULES, AnnealEngine

try:
    __version__ = version("lmfit-host-anneal")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["DEFAULTS", "OPTIONS", "SCHEDULES", "AnnealEngine", "__version__",
           "lmfit_host_register_engines"]


@hookimpl
def lmfit_host_register_engines(register: Callable[[Any], None]) -> None:
    """Register the ``anneal`` engine with the host."""
    register(AnnealEngine())
