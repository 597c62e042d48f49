"""lmfit-host-specfun: special functions and line shapes as an lmfit-host function pack.

Installed, every name in :data:`FUNCTIONS` is usable in every constraint
expression and in ``Minimizer(...).asteval``::

    params.add('fwhm', expr='fwhm_voigt(sigma, gamma)')
    params.add('frac', expr='erf(x0 / width)')

The functions are ordinary Python functions too: each takes floats
(returning a float, fast) and numpy arrays (returning arrays)::

    from lmfit_host_specfun import voigt
    model = voigt(x, amplitude=2.0, center=1.0, sigma=0.1, gamma=0.05)

Conventions (amplitude = area, center, sigma) are in
:mod:`lmfit_host_specfun.lineshapes`.
"""

from __future__ import annotations

import sys
from typing import Callable, Dict

from lmfit_host import hookimpl

from .lineshapes import (
    doniach,
    exp_gaussian,
    gaussian,
    logistic,
    lorentzian,
    moffat,
    pearson7,
    pseudo_voigt,
    pvoigt,
    rectangle,
    skewed_gaussian,
    split_lorentzian,
    step,
    students_t,
    voigt,
)
from .special import (
    beta_fn,
    betaln,
    dawsn,
    digamma,
    erf,
    erfc,
    erfcx,
    erfinv,
    expi,
    expn,
    gamma_fn,
    gammaln,
    sinc,
    wofz,
)
from .widths import fwhm_gaussian, fwhm_lorentzian, fwhm_pseudo_voigt, fwhm_pvoigt, fwhm_voigt

if sys.version_info >= (3, 10):
    from importlib import metadata as _metadata
else:  # pragma: no cover - Python 3.9
    import importlib_metadata as _metadata

DISTRIBUTION = "lmfit-host-specfun"

try:
    __version__ = _metadata.version(DISTRIBUTION)
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

#: Every name this pack puts into the expression namespace, in registration order.
FUNCTIONS: Dict[str, Callable[..., object]] = {
    function.__name__: function
    for function in (
        # special functions
        erf, erfc, erfcx, erfinv, gamma_fn, gammaln, beta_fn, betaln, digamma, wofz, dawsn,
        expi, expn, sinc,
        # line shapes
        gaussian, lorentzian, voigt, pvoigt, pseudo_voigt, moffat, pearson7,
        split_lorentzian, skewed_gaussian, exp_gaussian, students_t, doniach, logistic,
        step, rectangle,
        # widths
        fwhm_gaussian, fwhm_lorentzian, fwhm_voigt, fwhm_pvoigt, fwhm_pseudo_voigt,
    )
}


@hookimpl
def lmfit_host_register_functions(register: Callable[..., None]) -> None:
    """Register every function of :data:`FUNCTIONS` with the host (scalar and array in one)."""
    for name, function in FUNCTIONS.items():
        register(name, function)


__all__ = ["DISTRIBUTION", "FUNCTIONS", "__version__", "lmfit_host_register_functions",
           *FUNCTIONS]
