"""Fit statistics and the covariance of the varied parameters, for every engine.

After an engine returns, the host owns the statistics: from the residual at
the solution come chi-square, reduced chi-square, AIC and BIC; from the
Jacobian at the solution (in the user's own parameter units) comes the
covariance, ``C = (J^T J)^-1``, scaled by reduced chi-square unless the
user's uncertainties are absolute (``scale_covar=False``). Standard errors
are ``sqrt(diag(C))``; the correlation of i and j is ``C_ij / (s_i s_j)``;
an expression parameter ``f`` gets ``sqrt(g^T C g)`` with ``g`` its
gradient with respect to the varied parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy.linalg import lapack

_TINY = float(np.finfo(float).tiny)
#: Squared column norms outside these bounds are rescaled before inverting (so that
#: the scale factors and their products stay far from underflow and overflow).
_SQUARE_MIN, _SQUARE_MAX = 1e-150, 1e150
#: Relative size below which a singular value of the column-scaled Jacobian counts as zero.
SINGULAR_TOLERANCE = 1e-7
#: Largest condition number of the scaled normal matrix inverted by Cholesky (cond(J) < 1e5).
_CHOLESKY_CONDITION = 1e10

__all__ = ["Covariance", "FitStatistics", "estimate_covariance", "fit_statistics",
           "propagate"]


@dataclass(frozen=True)
class FitStatistics:
    """Goodness of fit of a residual vector with ``nvarys`` free parameters."""

    ndata: int
    nvarys: int
    nfree: int
    chisqr: float
    redchi: float
    aic: float
    bic: float


def fit_statistics(residual: np.ndarray, nvarys: int) -> FitStatistics:
    """Chi-square, reduced chi-square and the information criteria of a residual.

    ``aic = n ln(chisqr/n) + 2 k`` and ``bic = n ln(chisqr/n) + k ln(n)``
    for ``n`` residuals and ``k`` varied parameters.

    >>> round(fit_statistics(np.array([1.0, -1.0, 2.0]), 1).redchi, 6)
    3.0
    """
    ndata = int(residual.size)
    chisqr = float(residual.dot(residual))
    nfree = ndata - nvarys
    redchi = chisqr / nfree if nfree > 0 else math.nan
    if not ndata:
        return FitStatistics(ndata, nvarys, nfree, chisqr, redchi, math.nan, math.nan)
    # a perfect fit has chisqr 0: keep the criteria finite and very negative
    safe = max(chisqr, _TINY) if chisqr == chisqr else chisqr  # NaN stays NaN
    neg2_log_likelihood = ndata * math.log(safe / ndata)
    aic = neg2_log_likelihood + 2.0 * nvarys
    bic = neg2_log_likelihood + math.log(ndata) * nvarys
    return FitStatistics(ndata, nvarys, nfree, chisqr, redchi, aic, bic)


@dataclass(frozen=True)
class Covariance:
    """The outcome of :func:`estimate_covariance`.

    ``matrix`` is None when the covariance cannot be estimated, and
    ``reason`` then says why in words a user can act on.
    """

    matrix: Optional[np.ndarray]
    reason: str = ""

    @property
    def stderr(self) -> Optional[np.ndarray]:
        """Standard errors, the square roots of the diagonal."""
        if self.matrix is None:
            return None
        return np.sqrt(np.abs(np.diag(self.matrix)))

    @property
    def correlation(self) -> Optional[np.ndarray]:
        """The correlation matrix."""
        err = self.stderr
        if err is None:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = self.matrix / np.outer(err, err)
        np.fill_diagonal(corr, 1.0)
        return corr


def estimate_covariance(jacobian: np.ndarray, names: Sequence[str], stats: FitStatistics,
                        scale_covar: bool = True) -> Covariance:
    """Covariance of the varied parameters from the Jacobian at the solution.

    With the columns scaled to unit length, ``C = (J^T J)^-1`` from the
    Cholesky factor of the small normal matrix when its condition number
    is below 1e10, else from the singular value decomposition ``J = U S V^T``
    as ``C = V S^-2 V^T``, which does not square the condition number. A
    Jacobian of lower rank than the number of parameters (a parameter with
    no effect, or two that act as one) gives no covariance, with the
    parameters involved named in ``reason``.
    """
    nvarys = len(names)
    if nvarys == 0:
        return Covariance(None, "no parameter is varied")
    if stats.nfree <= 0:
        return Covariance(None, f"too few data points: {stats.ndata} residuals for {nvarys} "
                                f"varied parameters leave no degree of freedom")
    if scale_covar and not stats.chisqr > 0.0:
        return Covariance(None, "the fit is exact (chi-square is 0), so scaling by reduced "
                                "chi-square leaves no uncertainty; pass scale_covar=False with "
                                "residuals divided by their uncertainties")
    jac = np.asarray(jacobian, dtype=float)
    # One pass over J forms the small normal matrix; column scaling (to unit
    # length) then happens on it, and makes the rank test unit-free. Its
    # diagonal holds the squared column norms: a NaN or infinity in J shows
    # there (off the diagonal |N_ij| <= sqrt(N_ii N_jj)), and so do columns too
    # small or too large to square safely.
    normal = jac.T.dot(jac)
    diagonal = normal.diagonal()
    column_scale = None
    if not (diagonal.min() > _SQUARE_MIN and diagonal.max() < _SQUARE_MAX):
        bad = [names[j] for j in range(nvarys) if not np.all(np.isfinite(jac[:, j]))]
        if bad:
            return Covariance(None, "the Jacobian is not finite with respect to " +
                                    ", ".join(bad))
        sizes = np.abs(jac).max(axis=0)
        dead = [names[j] for j in range(nvarys) if not sizes[j] >= _TINY]
        if dead:
            return Covariance(None, "the residual does not change with " + ", ".join(dead) +
                                    ": fix these parameters or check the model")
        # finite columns whose squares overflow or underflow: scale them first
        column_scale = 1.0 / sizes
        jac = jac * column_scale
        normal = jac.T.dot(jac)
        diagonal = normal.diagonal()
    unit = 1.0 / np.sqrt(diagonal)  # scales the columns of jac to unit length
    scaled = normal * (unit[:, None] * unit)
    # Well-conditioned problems (most) invert the scaled normal matrix by
    # Cholesky. Forming it squares the condition number of J, harmless while
    # that stays below 1e5 (relative error about 1e-6, far below the digits
    # a standard error has). The scaled matrix has a unit diagonal, so its
    # largest eigenvalue is at most nvarys and its condition number at most
    # nvarys * trace(inverse): that bound decides. LAPACK is called directly:
    # numpy's wrappers cost more in checks than the work on a small matrix.
    factor, info = lapack.dpotrf(scaled)
    inv_scaled = None
    if info == 0:
        upper, info = lapack.dpotri(factor, overwrite_c=1)  # the upper triangle; zeros below
        if info == 0 and nvarys * float(upper.diagonal().sum()) < _CHOLESKY_CONDITION:
            inv_scaled = upper + upper.T
            inv_scaled.flat[::nvarys + 1] *= 0.5
    if inv_scaled is None:
        _, singular, vt = np.linalg.svd(jac * unit, full_matrices=False)
        # Jacobians are usually differenced, good to ~1e-8 relative: a singular
        # value below ~1e-7 of the largest is noise, the direction undetermined
        tolerance = singular[0] * SINGULAR_TOLERANCE
        if singular[-1] <= tolerance:
            null = np.abs(vt[-1])
            involved = [names[j] for j in np.argsort(null)[::-1] if null[j] > 0.1]
            return Covariance(None, "the Jacobian is singular: the parameters " +
                                    ", ".join(involved) + " cannot be told apart by the data")
        inv_scaled = (vt.T / singular**2).dot(vt)
    if column_scale is not None:
        unit *= column_scale  # for the columns as given; the products may overflow
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            inv_scaled *= unit[:, None] * unit
    else:
        inv_scaled *= unit[:, None] * unit
    if scale_covar:
        inv_scaled *= stats.redchi
    variances = inv_scaled.diagonal()
    if not (variances.min() >= _TINY and variances.max() < math.inf):
        return Covariance(None, "the variances are beyond double precision (the residual "
                                "changes by orders of magnitude too much or too little with "
                                "some parameter); rescale the parameters")
    return Covariance(inv_scaled)


def propagate(gradients: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Standard errors of derived quantities: ``sqrt(g^T C g)`` per row ``g`` of ``gradients``."""
    g = np.atleast_2d(np.asarray(gradients, dtype=float))
    variances = (g.dot(covariance) * g).sum(axis=1)
    return np.sqrt(np.abs(variances))


def is_at_bound(x: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                names: Sequence[str], tolerance: float = 1e-12) -> Tuple[str, ...]:
    """Names of the parameters within ``tolerance`` (relative, at least absolute) of a bound."""
    span = np.maximum(np.abs(x), 1.0) * tolerance
    hits = (np.abs(x - lower) <= span) | (np.abs(upper - x) <= span)
    return tuple(name for name, hit in zip(names, hits) if hit)
