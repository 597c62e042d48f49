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
           "normal_inverse", "propagate"]


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


def normal_inverse(jacobian: np.ndarray) -> Optional[np.ndarray]:
    """``(J^T J)^-1``, unscaled, when the quick route of :func:`estimate_covariance` applies.

    That route: every column of ``J`` finite with a squared norm in
    [1e-150, 1e150], and the normal matrix, its columns scaled to unit
    length, positive definite with a condition number below 1e10, inverted
    from its Cholesky factor. Anything else gives None, and
    :func:`estimate_covariance` then takes its careful route (rescaled
    columns, the singular value decomposition, a reason for a refusal).

    An engine that has this inverse anyway (for a Gauss-Newton step, say)
    may hand it back as ``EngineResult.normal_inverse`` together with the
    same ``jacobian``; the host then scales it instead of factorizing again.

    >>> np.round(normal_inverse(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 1.0]])), 12).tolist()
    [[0.25, 0.0], [0.0, 0.5]]
    """
    jac = np.asarray(jacobian, dtype=float)
    normal = jac.T.dot(jac)
    squares = normal.diagonal().tolist()
    # Python comparisons on the handful of squared column norms: a NaN fails them
    # (off the diagonal |N_ij| <= sqrt(N_ii N_jj), so a bad entry of J shows here)
    if not squares or not all([_SQUARE_MIN < square < _SQUARE_MAX for square in squares]):
        return None
    # Forming the normal matrix squares the condition number of J, harmless
    # while that stays below 1e5 (relative error about 1e-6, far below the
    # digits a standard error has). Cholesky's accuracy does not depend on
    # the scaling of the columns, so the matrix is factorized as it is; the
    # test is on the columns scaled to unit length, whose normal matrix has a
    # unit diagonal, so that its largest eigenvalue is at most n and its
    # condition number at most n * trace(its inverse) = n * sum(C_ii N_ii).
    # LAPACK is called directly: numpy's wrappers cost more in checks than
    # the work on a small matrix.
    factor, info = lapack.dpotrf(normal, overwrite_a=1)
    if info != 0:
        return None
    upper, info = lapack.dpotri(factor, overwrite_c=1)  # the upper triangle; zeros below
    variances = upper.diagonal().tolist()
    if info != 0 or not len(squares) * sum([variance * square for variance, square
                                            in zip(variances, squares)]) < _CHOLESKY_CONDITION:
        return None
    inverse = upper + upper.T
    inverse.flat[::len(squares) + 1] = variances
    return inverse


def estimate_covariance(jacobian: np.ndarray, names: Sequence[str], stats: FitStatistics,
                        scale_covar: bool = True,
                        inverse: Optional[np.ndarray] = None) -> Covariance:
    """Covariance of the varied parameters from the Jacobian at the solution.

    With the columns scaled to unit length, ``C = (J^T J)^-1`` from the
    Cholesky factor of the small normal matrix when its condition number
    is below 1e10 (:func:`normal_inverse`; ``inverse``, when given, is its
    result for this ``jacobian``), else from the singular value
    decomposition ``J = U S V^T`` as ``C = V S^-2 V^T``, which does not
    square the condition number. A Jacobian of lower rank than the number
    of parameters (a parameter with no effect, or two that act as one)
    gives no covariance, with the parameters involved named in ``reason``.
    """
    nvarys = len(names)
    if nvarys == 0:
        return Covariance(None, "no parameter is varied")
    if stats.nfree <= 0:
        return Covariance(None, f"too few data points: {stats.ndata} residuals for {nvarys} "
                                f"varied parameters leave no degree of freedom")
    if not math.isfinite(stats.chisqr):
        return Covariance(None, "chi-square is not finite (NaN or infinity in the residual, "
                                "let through by nan_policy='propagate')")
    if scale_covar and not stats.chisqr > 0.0:
        return Covariance(None, "the fit is exact (chi-square is 0), so scaling by reduced "
                                "chi-square leaves no uncertainty; pass scale_covar=False with "
                                "residuals divided by their uncertainties")
    if inverse is None:
        inverse = normal_inverse(jacobian)
    if inverse is None:
        inverse, reason = _careful_inverse(np.asarray(jacobian, dtype=float), names)
        if inverse is None:
            return Covariance(None, reason)
    if scale_covar:
        inverse = inverse * stats.redchi  # a new array: one handed in stays as it was
    variances = inverse.diagonal().tolist()
    if not all([_TINY <= variance < math.inf for variance in variances]):
        return Covariance(None, "the variances are beyond double precision (the residual "
                                "changes by orders of magnitude too much or too little with "
                                "some parameter); rescale the parameters")
    return Covariance(inverse)


def _careful_inverse(jac: np.ndarray, names: Sequence[str]
                     ) -> Tuple[Optional[np.ndarray], str]:
    """``(J^T J)^-1`` where :func:`normal_inverse` declines: (inverse, "") or (None, reason).

    A NaN, infinite or constant column is refused by name; columns whose
    squares would underflow or overflow are rescaled, and the quick route
    tried again; a normal matrix too ill-conditioned for Cholesky is inverted
    through the SVD of ``J``.
    """
    nvarys = len(names)
    squares = np.einsum("ij,ij->j", jac, jac)
    column_scale = None
    inverse = None
    if not (squares.min() > _SQUARE_MIN and squares.max() < _SQUARE_MAX):
        bad = [names[j] for j in range(nvarys) if not np.all(np.isfinite(jac[:, j]))]
        if bad:
            return None, "the Jacobian is not finite with respect to " + ", ".join(bad)
        sizes = np.abs(jac).max(axis=0)
        dead = [names[j] for j in range(nvarys) if not sizes[j] >= _TINY]
        if dead:
            return None, ("the residual does not change with " + ", ".join(dead) +
                          ": fix these parameters or check the model")
        # finite columns whose squared norms overflow or underflow: scale them first
        column_scale = 1.0 / sizes
        jac = jac * column_scale
        squares = np.einsum("ij,ij->j", jac, jac)
        inverse = normal_inverse(jac)
    if inverse is None:
        unit = 1.0 / np.sqrt(squares)
        _, singular, vt = np.linalg.svd(jac * unit, full_matrices=False)
        # Jacobians are usually differenced, good to ~1e-8 relative: a singular
        # value below ~1e-7 of the largest is noise, the direction undetermined
        tolerance = singular[0] * SINGULAR_TOLERANCE
        if singular[-1] <= tolerance:
            null = np.abs(vt[-1])
            involved = [names[j] for j in np.argsort(null)[::-1] if null[j] > 0.1]
            return None, ("the Jacobian is singular: the parameters " + ", ".join(involved) +
                          " cannot be told apart by the data")
        vt *= unit  # C = (V S^-2 V^T) scaled back to the columns of jac
        inverse = (vt.T / singular**2).dot(vt)
    if column_scale is not None:
        # for the columns as given; the products may overflow
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            inverse *= column_scale[:, None] * column_scale
    return inverse, ""


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
