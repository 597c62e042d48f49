"""Special functions (error, gamma, Faddeeva, ...) for scalars and numpy arrays.

Every function takes Python floats and returns a Python float (or complex),
quickly, because constraint expressions call them on every fit step; given
numpy arrays (or lists) it returns numpy arrays. Values are SciPy's: a real
scalar goes straight to the C-level double version in
``scipy.special.cython_special`` (``math.erf``/``math.erfc`` for the error
functions; no array machinery, no fused-type dispatch), anything else to
the matching ``scipy.special`` ufunc, so both paths agree (to an ulp),
including at poles and overflow (``nan`` / ``inf``, never an exception).

>>> erf(0.5)
0.5204998778130465
>>> erf([0.0, 0.5]).tolist()
[0.0, 0.5204998778130465]
"""

from __future__ import annotations

import math
from typing import Any, Callable, Union

import numpy as np
import scipy.special as _ufuncs
from scipy.special import cython_special as _scalar

from ._fast import float_only

__all__ = [
    "beta_fn",
    "betaln",
    "dawsn",
    "digamma",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "expi",
    "expn",
    "gamma_fn",
    "gammaln",
    "sinc",
    "wofz",
]

#: A real (or complex) number or an array of them.
ArrayOrScalar = Union[float, complex, "np.ndarray"]


def _fallback(ufunc: Callable[..., Any], *args: Any) -> Any:
    """Evaluate ``ufunc`` where the float fast path refused the arguments.

    Reached for arrays and lists (the result stays an array) and for complex
    numbers where the float version takes none (the result becomes a Python
    complex, as the fast path returns Python scalars).
    """
    result = ufunc(*args)
    if isinstance(result, np.generic):
        return result.item()
    return result


def _double(function: Any) -> Callable[..., Any]:
    """The double-precision specialization of a cython_special function.

    Calling a fused cython function matches its signature on every call,
    which costs more than the function itself; the specialization does not.
    """
    signatures = getattr(function, "__signatures__", None)
    return float_only(function["double"] if signatures else function)


# Each function below tries one of these first: they take floats (and ints,
# and numpy scalars) and raise TypeError for arrays, lists and complex
# numbers, which then go to the ufunc. libm's erf/erfc (through math) agree
# with SciPy's to an ulp and cost a third of the cython versions.
_erf = float_only(math.erf)
_erfc = float_only(math.erfc)
_erfcx = _double(_scalar.erfcx)
_erfinv = _double(_scalar.erfinv)
_gamma = _double(_scalar.gamma)
_gammaln = _double(_scalar.gammaln)
_beta = _double(_scalar.beta)
_betaln = _double(_scalar.betaln)
_digamma = _double(_scalar.psi)
_wofz = float_only(_scalar.wofz)  # takes double complex: floats and complex numbers
_dawsn = _double(_scalar.dawsn)
_expi = _double(_scalar.expi)
_expn = _double(_scalar.expn)

def erf(x: ArrayOrScalar) -> ArrayOrScalar:
    """Error function, ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t**2) dt``.

    >>> erf(0.0), erf(float('inf'))
    (0.0, 1.0)
    """
    try:
        return _erf(x)
    except TypeError:
        return _fallback(_ufuncs.erf, x)


def erfc(x: ArrayOrScalar) -> ArrayOrScalar:
    """Complementary error function, ``erfc(x) = 1 - erf(x)``, accurate for large x.

    >>> erfc(0.0)
    1.0
    """
    try:
        return _erfc(x)
    except TypeError:
        return _fallback(_ufuncs.erfc, x)


def erfcx(x: ArrayOrScalar) -> ArrayOrScalar:
    """Scaled complementary error function, ``erfcx(x) = exp(x**2) * erfc(x)``.

    Finite where ``erfc`` underflows (large positive x), so products like
    ``exp(-x**2) * erfcx(x)`` stay accurate.

    >>> erfcx(0.0)
    1.0
    """
    try:
        return _erfcx(x)
    except TypeError:
        return _fallback(_ufuncs.erfcx, x)


def erfinv(y: ArrayOrScalar) -> ArrayOrScalar:
    """Inverse error function: the x with ``erf(x) == y``, for -1 <= y <= 1 (else nan).

    >>> erfinv(0.0)
    0.0
    """
    try:
        return _erfinv(y)
    except TypeError:
        return _fallback(_ufuncs.erfinv, y)


def gamma_fn(x: ArrayOrScalar) -> ArrayOrScalar:
    """Gamma function, ``gamma_fn(n) == (n - 1)!``; nan at the poles 0, -1, -2, ...

    Named ``gamma_fn`` (not ``gamma``) so that parameters can be called
    ``gamma``, as Voigt and Doniach widths usually are: a parameter may not
    share a name with a function of the expression namespace.

    >>> gamma_fn(5.0)
    24.0
    """
    try:
        return _gamma(x)
    except TypeError:
        return _fallback(_ufuncs.gamma, x)


def gammaln(x: ArrayOrScalar) -> ArrayOrScalar:
    """Natural logarithm of ``abs(gamma_fn(x))``; finite where the Gamma function overflows.

    >>> round(gammaln(5.0), 12) == round(math.log(24.0), 12)
    True
    """
    try:
        return _gammaln(x)
    except TypeError:
        return _fallback(_ufuncs.gammaln, x)


def beta_fn(a: ArrayOrScalar, b: ArrayOrScalar) -> ArrayOrScalar:
    """Beta function, ``beta_fn(a, b) = gamma_fn(a) * gamma_fn(b) / gamma_fn(a + b)``.

    Named ``beta_fn`` so that parameters can be called ``beta`` (see :func:`gamma_fn`).

    >>> beta_fn(2.0, 3.0)
    0.08333333333333333
    """
    try:
        return _beta(a, b)
    except TypeError:
        return _fallback(_ufuncs.beta, a, b)


def betaln(a: ArrayOrScalar, b: ArrayOrScalar) -> ArrayOrScalar:
    """Natural logarithm of ``abs(beta_fn(a, b))``.

    >>> round(betaln(2.0, 3.0), 12) == round(math.log(1 / 12), 12)
    True
    """
    try:
        return _betaln(a, b)
    except TypeError:
        return _fallback(_ufuncs.betaln, a, b)


def digamma(x: ArrayOrScalar) -> ArrayOrScalar:
    """Digamma function, the derivative of ``gammaln``: ``digamma(1) == -euler_gamma``.

    >>> digamma(1.0)
    -0.5772156649015329
    """
    try:
        return _digamma(x)
    except TypeError:
        return _fallback(_ufuncs.psi, x)


def wofz(z: ArrayOrScalar) -> ArrayOrScalar:
    """Faddeeva function ``w(z) = exp(-z**2) * erfc(-1j*z)``; complex result.

    The real part on the line ``z = (x + 1j*gamma) / (sigma*sqrt(2))`` is the
    Voigt profile (see :func:`lmfit_host_specfun.lineshapes.voigt`).

    >>> wofz(0.0)
    (1+0j)
    """
    try:
        return _wofz(z)
    except TypeError:
        return _fallback(_ufuncs.wofz, z)


def dawsn(x: ArrayOrScalar) -> ArrayOrScalar:
    """Dawson's integral, ``dawsn(x) = exp(-x**2) * integral_0^x exp(t**2) dt``.

    >>> dawsn(0.0)
    0.0
    """
    try:
        return _dawsn(x)
    except TypeError:
        return _fallback(_ufuncs.dawsn, x)


def expi(x: ArrayOrScalar) -> ArrayOrScalar:
    """Exponential integral ``Ei(x) = integral_-inf^x exp(t)/t dt`` (principal value).

    >>> round(expi(1.0), 12)
    1.895117816356
    """
    try:
        return _expi(x)
    except TypeError:
        return _fallback(_ufuncs.expi, x)


def expn(n: ArrayOrScalar, x: ArrayOrScalar) -> ArrayOrScalar:
    """Generalized exponential integral ``E_n(x) = integral_1^inf exp(-x*t)/t**n dt``.

    ``n`` is a non-negative integer (a float ``n`` is truncated, as SciPy does).

    >>> round(expn(1, 1.0), 12)
    0.219383934396
    """
    try:
        return _expn(n, x)
    except TypeError:
        return _fallback(_ufuncs.expn, n, x)


_PI = math.pi
_sin = math.sin


def sinc(x: ArrayOrScalar) -> ArrayOrScalar:
    """Normalized sinc, ``sin(pi*x) / (pi*x)`` and 1 at x = 0 (numpy's convention).

    Zero at every non-zero integer; integrates to 1 over the real line.

    >>> sinc(0.0), sinc(0.5) == 2 / math.pi
    (1.0, True)
    """
    if isinstance(x, (float, int)):
        if x == 0:
            return 1.0
        angle = _PI * x
        return _sin(angle) / angle
    result = np.sinc(x)
    if isinstance(result, np.generic):
        return result.item()
    return result
