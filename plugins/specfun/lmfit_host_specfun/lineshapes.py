"""Line shapes for spectroscopy and diffraction: peaks, steps and their conventions.

Conventions shared by every peak here:

``amplitude``
    the area under the peak (the integral over x), except where a
    docstring says otherwise (``doniach``, whose tail is not integrable).
``center``
    the position of the maximum (of the symmetric part for skewed shapes).
``sigma``
    the width parameter, positive; each docstring says what it measures
    (standard deviation, half width at half maximum, ...). Give width
    parameters a positive lower bound in fits.

Steps (``step``, ``logistic``, ``rectangle``) have ``amplitude`` = height.

Every function takes Python floats and returns a Python float fast (the
constraint hot path: no numpy on that path), and takes numpy arrays (or
lists) for ``x`` and returns an array. Both paths give the same values.

>>> gaussian(0.0, amplitude=2.0, center=0.0, sigma=1.0) == 2 / math.sqrt(2 * math.pi)
True
>>> gaussian([0.0, 1.0]).shape
(2,)
"""

from __future__ import annotations

import math
from typing import Optional, Union

import numpy as np
import scipy.special as _ufuncs
from scipy.special import cython_special as _scalar

__all__ = [
    "doniach",
    "exp_gaussian",
    "gaussian",
    "logistic",
    "lorentzian",
    "moffat",
    "pearson7",
    "pseudo_voigt",
    "pvoigt",
    "rectangle",
    "skewed_gaussian",
    "split_lorentzian",
    "step",
    "students_t",
    "voigt",
]

#: A real number or an array of them.
ArrayOrFloat = Union[float, "np.ndarray"]

# Types that take the math-module path. numpy.float64 is a float subclass,
# so numpy scalars of that type take it too; arrays never do.
_SCALAR = (float, int)

_PI = math.pi
_SQRT2 = math.sqrt(2.0)
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LN2 = math.log(2.0)
#: FWHM of a Gaussian divided by its standard deviation, 2*sqrt(2*ln 2).
GAUSSIAN_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * _LN2)

_exp = math.exp
_erfc = math.erfc
_atan = math.atan
_cos = math.cos
_wofz = _scalar.wofz
# double specializations: calling a fused cython function costs a signature match
_erfcx = _scalar.erfcx["double"]
_gammaln = _scalar.gammaln
_gamma = _scalar.gamma["double"]
_EXP_LIMIT = math.log(1.7976931348623157e308)

STEP_FORMS = ("linear", "atan", "arctan", "erf", "logistic")


def _array(value: object) -> np.ndarray:
    return np.asarray(value, dtype=float)


def gaussian(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
             sigma: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Gaussian peak of area ``amplitude``; ``sigma`` is the standard deviation.

    ``amplitude / (sigma*sqrt(2*pi)) * exp(-(x - center)**2 / (2*sigma**2))``;
    FWHM = 2*sqrt(2*ln 2)*sigma (``fwhm_gaussian``), height =
    amplitude / (sigma*sqrt(2*pi)).

    >>> round(gaussian(1.0, 1.0, 0.0, 1.0), 12)
    0.241970724519
    """
    if isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR):
        z = (x - center) / sigma
        return amplitude * _exp(-0.5 * z * z) / (_SQRT_2PI * sigma)
    z = (_array(x) - center) / sigma
    return amplitude * np.exp(-0.5 * z * z) / (_SQRT_2PI * sigma)


def lorentzian(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
               sigma: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Lorentzian (Cauchy) peak of area ``amplitude``; ``sigma`` is the half width at half maximum.

    ``amplitude / pi * sigma / ((x - center)**2 + sigma**2)``;
    FWHM = 2*sigma (``fwhm_lorentzian``), height = amplitude / (pi*sigma).

    >>> lorentzian(0.0, 1.0, 0.0, 1.0) == 1 / math.pi
    True
    """
    # plain arithmetic: the same code serves floats and arrays
    z = ((x if isinstance(x, _SCALAR) else _array(x)) - center) / sigma
    return amplitude / (_PI * sigma * (1.0 + z * z))


def voigt(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
          sigma: ArrayOrFloat = 1.0, gamma: Optional[ArrayOrFloat] = None) -> ArrayOrFloat:
    """Voigt peak of area ``amplitude``: a Gaussian (std ``sigma``) convolved with a Lorentzian (HWHM ``gamma``).

    ``amplitude * Re[w(z)] / (sigma*sqrt(2*pi))`` with
    ``z = (x - center + 1j*gamma) / (sigma*sqrt(2))`` and ``w`` the Faddeeva
    function (:func:`~lmfit_host_specfun.special.wofz`). ``gamma`` defaults
    to ``sigma`` (lmfit's VoigtModel default). FWHM: ``fwhm_voigt(sigma,
    gamma)``; height: ``voigt(center, amplitude, center, sigma, gamma)``.
    gamma = 0 gives ``gaussian``; sigma -> 0 tends to ``lorentzian(..., gamma)``.

    >>> round(voigt(0.0, 1.0, 0.0, 1.0, 0.0), 12) == round(gaussian(0.0), 12)
    True
    """
    if gamma is None:
        gamma = sigma
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(gamma, _SCALAR)):
        scale = _SQRT2 * sigma
        return amplitude * _wofz(complex((x - center) / scale, gamma / scale)).real / (
            _SQRT_2PI * sigma)
    z = (_array(x) - center + 1j * np.asarray(gamma)) / (_SQRT2 * sigma)
    return amplitude * _ufuncs.wofz(z).real / (_SQRT_2PI * sigma)


def pvoigt(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
           sigma: ArrayOrFloat = 1.0, fraction: ArrayOrFloat = 0.5) -> ArrayOrFloat:
    """Pseudo-Voigt peak of area ``amplitude``: Lorentzian ``fraction`` plus Gaussian (1 - fraction).

    Both components share the FWHM = 2*sigma (``sigma`` is the half width at
    half maximum; lmfit's convention)::

        (1 - fraction) * gaussian(x, amplitude, center, sigma / sqrt(2*ln 2))
        + fraction * lorentzian(x, amplitude, center, sigma)

    fraction = 0 is a Gaussian, 1 a Lorentzian. For the pseudo-Voigt that
    approximates a given Voigt, see :func:`pseudo_voigt`.

    >>> pvoigt(0.0, 1.0, 0.0, 1.0, 1.0) == lorentzian(0.0)
    True
    """
    sigma_gauss = sigma / math.sqrt(2.0 * _LN2)
    return ((1.0 - fraction) * gaussian(x, amplitude, center, sigma_gauss)
            + fraction * lorentzian(x, amplitude, center, sigma))


def _tch_width_and_fraction(sigma: ArrayOrFloat, gamma: ArrayOrFloat) -> tuple:
    """Thompson-Cox-Hastings FWHM and Lorentzian fraction of voigt(sigma, gamma)."""
    fwhm_g = GAUSSIAN_FWHM_PER_SIGMA * sigma
    fwhm_l = 2.0 * gamma
    # the polynomials of P. Thompson, D. E. Cox, J. B. Hastings,
    # J. Appl. Cryst. 20 (1987) 79-83, eqs. (3)-(4); width within 0.024% of Voigt's
    g2 = fwhm_g * fwhm_g
    l2 = fwhm_l * fwhm_l
    fifth = (g2 * g2 * fwhm_g + 2.69269 * g2 * g2 * fwhm_l + 2.42843 * g2 * fwhm_g * l2
             + 4.47163 * g2 * l2 * fwhm_l + 0.07842 * fwhm_g * l2 * l2 + l2 * l2 * fwhm_l)
    width = fifth ** 0.2
    ratio = fwhm_l / width
    fraction = ratio * (1.36603 - ratio * (0.47719 - 0.11116 * ratio))
    return width, fraction


def pseudo_voigt(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
                 sigma: ArrayOrFloat = 1.0, gamma: Optional[ArrayOrFloat] = None) -> ArrayOrFloat:
    """Thompson-Cox-Hastings pseudo-Voigt of area ``amplitude``: a fast stand-in for ``voigt``.

    Same parameters as :func:`voigt` (Gaussian std ``sigma``, Lorentzian
    HWHM ``gamma``, defaulting to ``sigma``). With fG = 2*sqrt(2 ln 2)*sigma
    and fL = 2*gamma, the common FWHM is
    ``f = (fG**5 + 2.69269 fG**4 fL + 2.42843 fG**3 fL**2 + 4.47163 fG**2 fL**3
    + 0.07842 fG fL**4 + fL**5) ** (1/5)`` (``fwhm_pseudo_voigt``) and the
    Lorentzian fraction ``eta = 1.36603 r - 0.47719 r**2 + 0.11116 r**3``,
    r = fL / f; the result is ``pvoigt(x, amplitude, center, f/2, eta)``.
    Thompson, Cox & Hastings, J. Appl. Cryst. 20 (1987) 79; the usual profile
    of Rietveld refinement. It differs from ``voigt`` by up to about 1.5% of
    the peak height (exact for a pure Gaussian or Lorentzian).

    >>> abs(pseudo_voigt(0.0) / voigt(0.0) - 1) < 0.01
    True
    """
    if gamma is None:
        gamma = sigma
    width, fraction = _tch_width_and_fraction(sigma, gamma)
    return pvoigt(x, amplitude, center, 0.5 * width, fraction)


def _peak_norm(expon: ArrayOrFloat) -> ArrayOrFloat:
    """gamma(m) / (sqrt(pi) * gamma(m - 1/2)): the area factor of (1 + u**2)**(-m); nan for m <= 1/2."""
    if isinstance(expon, _SCALAR):
        if not expon > 0.5:
            return math.nan
        return _exp(_gammaln(expon) - _gammaln(expon - 0.5)) / _SQRT_PI
    expon = _array(expon)
    with np.errstate(invalid="ignore"):
        norm = np.exp(_ufuncs.gammaln(expon) - _ufuncs.gammaln(expon - 0.5)) / _SQRT_PI
    return np.where(expon > 0.5, norm, np.nan)


def moffat(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
           sigma: ArrayOrFloat = 1.0, beta: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Moffat peak of area ``amplitude``; ``sigma`` is the core width, ``beta`` > 1/2 the tail exponent.

    ``amplitude * gamma(beta) / (sigma*sqrt(pi)*gamma(beta - 1/2))
    * (1 + ((x - center)/sigma)**2) ** -beta``;
    FWHM = 2*sigma*sqrt(2**(1/beta) - 1). beta = 1 is ``lorentzian`` with
    HWHM sigma. Unlike lmfit's ``moffat`` (amplitude = height), amplitude
    here is the area; nan for beta <= 1/2, where the area is infinite.

    >>> round(moffat(0.3, 1.0, 0.0, 2.0, 1.0), 12) == round(lorentzian(0.3, 1.0, 0.0, 2.0), 12)
    True
    """
    norm = _peak_norm(beta)
    if isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR):
        if norm != norm:  # beta <= 1/2 (or nan): the power below could overflow
            return math.nan
        z = (x - center) / sigma
        return amplitude * norm / sigma * (1.0 + z * z) ** -beta
    z = (_array(x) - center) / sigma
    return amplitude * norm / sigma * (1.0 + z * z) ** -np.asarray(beta)


def pearson7(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
             sigma: ArrayOrFloat = 1.0, expon: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Pearson VII peak of area ``amplitude``; ``sigma`` is the half width at half maximum for every ``expon``.

    With m = expon > 1/2 and k = 2**(1/m) - 1:
    ``amplitude * gamma(m)*sqrt(k) / (sigma*sqrt(pi)*gamma(m - 1/2))
    * (1 + k*((x - center)/sigma)**2) ** -m``; FWHM = 2*sigma.
    m = 1 is ``lorentzian(x, amplitude, center, sigma)``; m -> inf tends to
    the Gaussian of the same FWHM. nan for m <= 1/2. (lmfit's ``pearson7``
    takes the scale sigma/sqrt(k) as its sigma.)

    >>> round(pearson7(0.3, 1.0, 0.0, 2.0, 1.0), 12) == round(lorentzian(0.3, 1.0, 0.0, 2.0), 12)
    True
    """
    norm = _peak_norm(expon)
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(expon, _SCALAR)):
        if norm != norm:
            return math.nan
        k = 2.0 ** (1.0 / expon) - 1.0
        z = (x - center) / sigma
        return amplitude * norm * math.sqrt(k) / sigma * (1.0 + k * z * z) ** -expon
    expon = np.asarray(expon, dtype=float)
    k = 2.0 ** (1.0 / expon) - 1.0
    z = (_array(x) - center) / sigma
    return amplitude * norm * np.sqrt(k) / sigma * (1.0 + k * z * z) ** -expon


def split_lorentzian(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
                     sigma: ArrayOrFloat = 1.0, sigma_r: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Lorentzian of area ``amplitude`` with half widths ``sigma`` left and ``sigma_r`` right of ``center``.

    ``2*amplitude / (pi*(sigma + sigma_r)) * s**2 / ((x - center)**2 + s**2)``
    with s = sigma for x < center and s = sigma_r for x >= center; the two
    halves meet at the maximum 2*amplitude / (pi*(sigma + sigma_r)).
    FWHM = sigma + sigma_r.

    >>> split_lorentzian(0.5, 1.0, 0.0, 1.0, 1.0) == lorentzian(0.5)
    True
    """
    scale = 2.0 * amplitude / (_PI * (sigma + sigma_r))
    if isinstance(x, _SCALAR) and isinstance(center, _SCALAR):
        half = sigma if x < center else sigma_r
        z = (x - center) / half
        return scale / (1.0 + z * z)
    offset = _array(x) - center
    half = np.where(offset < 0, sigma, sigma_r)
    z = offset / half
    return scale / (1.0 + z * z)


def skewed_gaussian(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
                    sigma: ArrayOrFloat = 1.0, gamma: ArrayOrFloat = 0.0) -> ArrayOrFloat:
    """Skew-normal peak of area ``amplitude``; ``gamma`` sets the skew (0: ``gaussian``).

    ``gaussian(x, amplitude, center, sigma) * (1 + erf(gamma*(x - center) / (sigma*sqrt(2))))``
    (computed with erfc, accurate in the thin tail); gamma > 0 leans the tail to the right. ``center`` is the location of the
    symmetric Gaussian, not the maximum, when gamma != 0.

    >>> skewed_gaussian(0.5, 1.0, 0.0, 1.0, 0.0) == gaussian(0.5)
    True
    """
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(gamma, _SCALAR)):
        z = (x - center) / sigma
        return (amplitude * _exp(-0.5 * z * z) / (_SQRT_2PI * sigma)
                * _erfc(-gamma * z / _SQRT2))
    z = (_array(x) - center) / sigma
    return (amplitude * np.exp(-0.5 * z * z) / (_SQRT_2PI * sigma)
            * _ufuncs.erfc(-gamma * z / _SQRT2))


def exp_gaussian(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
                 sigma: ArrayOrFloat = 1.0, gamma: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Exponentially modified Gaussian of area ``amplitude``: a Gaussian convolved with a decay of rate ``gamma`` > 0.

    ``amplitude*gamma/2 * exp(gamma*(center - x + gamma*sigma**2/2))
    * erfc((center + gamma*sigma**2 - x) / (sigma*sqrt(2)))``, computed as
    ``amplitude*gamma/2 * exp(-(x - center)**2/(2 sigma**2)) * erfcx(u)``
    where u >= 0, so it never overflows (lmfit calls it ``expgaussian``).
    The mean is center + 1/gamma.

    >>> round(exp_gaussian(1.0, 1.0, 0.0, 1.0, 1.0), 12)
    0.303265329856
    """
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(gamma, _SCALAR)):
        shifted = center + gamma * sigma * sigma - x
        u = shifted / (_SQRT2 * sigma)
        if u >= 0.0:
            z = (x - center) / sigma
            return 0.5 * amplitude * gamma * _exp(-0.5 * z * z) * _erfcx(u)
        # negative for gamma > 0; guarded because Python floats raise on overflow
        exponent = gamma * (center - x + 0.5 * gamma * sigma * sigma)
        growth = _exp(exponent) if exponent < _EXP_LIMIT else math.inf
        return 0.5 * amplitude * gamma * growth * _erfc(u)
    x = _array(x)
    u = (center + gamma * sigma * sigma - x) / (_SQRT2 * sigma)
    z = (x - center) / sigma
    # both branches are computed everywhere; where() keeps the stable one, so
    # overflow in the discarded branch is expected and silenced
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = np.exp(-0.5 * z * z) * _ufuncs.erfcx(np.maximum(u, 0.0))
        direct = np.exp(gamma * (center - x + 0.5 * gamma * sigma * sigma)) * _ufuncs.erfc(u)
        return 0.5 * amplitude * gamma * np.where(u >= 0.0, scaled, direct)


def students_t(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
               sigma: ArrayOrFloat = 1.0, nu: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Student's t peak of area ``amplitude``; ``sigma`` is the scale, ``nu`` > 0 the degrees of freedom.

    ``amplitude * gamma((nu+1)/2) / (sigma*sqrt(nu*pi)*gamma(nu/2))
    * (1 + ((x - center)/sigma)**2/nu) ** (-(nu+1)/2)``.
    nu = 1 is ``lorentzian(x, amplitude, center, sigma)``; nu -> inf tends to
    ``gaussian(x, amplitude, center, sigma)``. (lmfit's ``students_t`` uses
    its ``sigma`` as the degrees of freedom; here they are separate.)

    >>> round(students_t(0.3, 1.0, 0.0, 2.0, 1.0), 12) == round(lorentzian(0.3, 1.0, 0.0, 2.0), 12)
    True
    """
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(nu, _SCALAR)):
        if not nu > 0.0:
            return math.nan
        half = 0.5 * (nu + 1.0)
        norm = _exp(_gammaln(half) - _gammaln(0.5 * nu)) / (sigma * math.sqrt(nu * _PI))
        z = (x - center) / sigma
        return amplitude * norm * (1.0 + z * z / nu) ** -half
    nu = np.asarray(nu, dtype=float)
    half = 0.5 * (nu + 1.0)
    with np.errstate(invalid="ignore"):
        norm = np.where(nu > 0.0, np.exp(_ufuncs.gammaln(half) - _ufuncs.gammaln(0.5 * nu))
                        / (sigma * np.sqrt(np.abs(nu) * _PI)), np.nan)
    z = (_array(x) - center) / sigma
    return amplitude * norm * (1.0 + z * z / nu) ** -half


def doniach(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
            sigma: ArrayOrFloat = 1.0, gamma: ArrayOrFloat = 0.0) -> ArrayOrFloat:
    """Doniach-Sunjic photoemission line: a Lorentzian (HWHM ``sigma``) with asymmetry 0 <= ``gamma`` < 1.

    ``amplitude * gamma_fn(1 - gamma) / (pi*sigma)
    * cos(pi*gamma/2 + (1 - gamma)*atan(z)) / (1 + z**2) ** ((1 - gamma)/2)``,
    z = (x - center)/sigma, gamma_fn the Gamma function. gamma = 0 is
    ``lorentzian(x, amplitude, center, sigma)``, so ``amplitude`` is the area
    there; for gamma > 0 the tail decays like ``|x|**(gamma - 1)`` and the
    area is infinite, so ``amplitude`` is a scale, not an area. The
    gamma_fn(1 - gamma)/(pi*sigma) prefactor differs from lmfit's
    (1/sigma**(1 - gamma)): amplitudes fitted with the two differ by that factor.

    >>> round(doniach(0.4, 1.0, 0.0, 1.0, 0.0), 12) == round(lorentzian(0.4), 12)
    True
    """
    if (isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR)
            and isinstance(gamma, _SCALAR)):
        z = (x - center) / sigma
        power = 1.0 - gamma
        scale = amplitude * _gamma(power) / (_PI * sigma)
        return scale * _cos(0.5 * _PI * gamma + power * _atan(z)) / (1.0 + z * z) ** (0.5 * power)
    gamma = np.asarray(gamma, dtype=float)
    z = (_array(x) - center) / sigma
    power = 1.0 - gamma
    scale = amplitude * _ufuncs.gamma(power) / (_PI * sigma)
    return scale * np.cos(0.5 * _PI * gamma + power * np.arctan(z)) / (1.0 + z * z) ** (0.5 * power)


def _logistic_unit(z: float) -> float:
    """1 / (1 + exp(-z)) without overflow for any float z."""
    if z >= 0.0:
        return 1.0 / (1.0 + _exp(-z))
    tail = _exp(z)
    return tail / (1.0 + tail)


def logistic(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
             sigma: ArrayOrFloat = 1.0) -> ArrayOrFloat:
    """Logistic (sigmoid) step of height ``amplitude``, half height at ``center``.

    ``amplitude / (1 + exp(-(x - center)/sigma))``, as lmfit's ``logistic``;
    the same as ``step(x, amplitude, center, sigma, 'logistic')``. Rises
    from 0 (x << center) to amplitude (x >> center); 10%-90% rise over
    2*ln(9)*sigma. Never overflows.

    >>> logistic(0.0, 2.0)
    1.0
    """
    if isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR):
        return amplitude * _logistic_unit((x - center) / sigma)
    return amplitude * _ufuncs.expit((_array(x) - center) / sigma)


def _step_unit_scalar(z: float, form: str) -> float:
    if form == "linear":
        return 0.0 if z <= -0.5 else 1.0 if z >= 0.5 else z + 0.5
    if form == "erf":
        return 0.5 * _erfc(-z / _SQRT2)
    if form == "logistic":
        return _logistic_unit(z)
    if form == "atan" or form == "arctan":
        return 0.5 + _atan(z) / _PI
    raise _bad_form(form)


def _step_unit_array(z: np.ndarray, form: str) -> np.ndarray:
    if form == "linear":
        return np.clip(z + 0.5, 0.0, 1.0)
    if form == "erf":
        return 0.5 * _ufuncs.erfc(-z / _SQRT2)
    if form == "logistic":
        return _ufuncs.expit(z)
    if form == "atan" or form == "arctan":
        return 0.5 + np.arctan(z) / _PI
    raise _bad_form(form)


def _bad_form(form: object) -> ValueError:
    return ValueError(f"step form {form!r} is not known; use one of "
                      f"{', '.join(repr(name) for name in STEP_FORMS)}")


def step(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center: ArrayOrFloat = 0.0,
         sigma: ArrayOrFloat = 1.0, form: str = "linear") -> ArrayOrFloat:
    """Step of height ``amplitude`` rising through ``amplitude/2`` at ``center``; ``form`` picks the shape.

    Each form is the running integral of the peak of area ``amplitude`` with
    the same ``center`` and ``sigma``, z = (x - center)/sigma:

    ``'linear'``    ramp, ``clip(z + 1/2, 0, 1)``: from center - sigma/2 to center + sigma/2
    ``'erf'``       ``(1 + erf(z/sqrt(2)))/2``, integral of ``gaussian``
    ``'atan'``      ``1/2 + atan(z)/pi``, integral of ``lorentzian`` (``'arctan'`` too)
    ``'logistic'``  ``1/(1 + exp(-z))``, as :func:`logistic`

    (lmfit's ``'erf'`` form uses erf(z) without the sqrt(2): its sigma is
    this sigma*sqrt(2); the other forms are lmfit's.) Unknown forms raise
    ValueError listing the valid ones.

    >>> step(0.0, 2.0, 0.0, 1.0, 'erf')
    1.0
    """
    if isinstance(x, _SCALAR) and isinstance(center, _SCALAR) and isinstance(sigma, _SCALAR):
        return amplitude * _step_unit_scalar((x - center) / sigma, form)
    return amplitude * _step_unit_array((_array(x) - center) / sigma, form)


def rectangle(x: ArrayOrFloat, amplitude: ArrayOrFloat = 1.0, center1: ArrayOrFloat = 0.0,
              sigma1: ArrayOrFloat = 1.0, center2: ArrayOrFloat = 1.0, sigma2: ArrayOrFloat = 1.0,
              form: str = "linear") -> ArrayOrFloat:
    """Plateau of height ``amplitude``: a step up at ``center1`` and a step down at ``center2``.

    ``step(x, amplitude, center1, sigma1, form) - step(x, amplitude, center2, sigma2, form)``,
    so the half heights sit at center1 and center2 and, for sharp edges, the
    area is amplitude*(center2 - center1). Forms as in :func:`step`.
    (lmfit's ``rectangle``: for ``'linear'`` its sigmas are these halved, as
    its ramps are twice as wide as its ``step``'s; for ``'erf'`` these times
    sqrt(2), as in :func:`step`.)

    >>> rectangle(0.5, 3.0, 0.0, 0.1, 1.0, 0.1)
    3.0
    """
    return (step(x, amplitude, center1, sigma1, form)
            - step(x, amplitude, center2, sigma2, form))
