"""Fit statistics and covariance estimation."""

import numpy as np
import pytest

from lmfit_host.covariance import estimate_covariance, fit_statistics, is_at_bound, propagate


def test_statistics_of_a_known_residual():
    r = np.array([1.0, -2.0, 2.0, 0.0])
    stats = fit_statistics(r, 2)
    assert stats.chisqr == 9.0
    assert stats.nfree == 2 and stats.redchi == 4.5
    assert stats.aic == pytest.approx(4 * np.log(9 / 4) + 4)
    assert stats.bic == pytest.approx(4 * np.log(9 / 4) + 2 * np.log(4))


def test_covariance_of_straight_line_matches_textbook_formula():
    x = np.linspace(0, 9, 10)
    jac = np.column_stack([x, np.ones_like(x)])
    residual = np.array([0.1, -0.2, 0.05, 0.3, -0.1, 0.0, 0.2, -0.3, 0.1, -0.05])
    stats = fit_statistics(residual, 2)
    cov = estimate_covariance(jac, ["slope", "offset"], stats)
    expected = np.linalg.inv(jac.T @ jac) * stats.redchi
    assert cov.matrix == pytest.approx(expected, rel=1e-12)


def test_absolute_uncertainties_skip_scaling():
    jac = np.eye(3)[:, :2] + 0.1
    stats = fit_statistics(np.array([2.0, 2.0, 2.0]), 2)
    cov = estimate_covariance(jac, ["a", "b"], stats, scale_covar=False)
    assert cov.matrix == pytest.approx(np.linalg.inv(jac.T @ jac))


def test_dead_parameter_is_named():
    jac = np.column_stack([np.arange(5.0), np.zeros(5)])
    cov = estimate_covariance(jac, ["live", "dead"], fit_statistics(np.ones(5), 2))
    assert cov.matrix is None and "dead" in cov.reason


def test_degenerate_parameters_are_named():
    x = np.arange(6.0)
    jac = np.column_stack([x, 2 * x, np.ones(6)])
    cov = estimate_covariance(jac, ["a", "b", "c"], fit_statistics(np.ones(6), 3))
    assert cov.matrix is None
    assert "a" in cov.reason and "b" in cov.reason and "singular" in cov.reason


def test_too_few_points_gives_reason():
    cov = estimate_covariance(np.eye(2), ["a", "b"], fit_statistics(np.ones(2), 2))
    assert cov.matrix is None and "too few data points" in cov.reason


def test_correlation_has_unit_diagonal():
    x = np.linspace(0, 1, 20)
    jac = np.column_stack([x, np.ones_like(x)])
    cov = estimate_covariance(jac, ["a", "b"], fit_statistics(np.full(20, 0.1), 2))
    corr = cov.correlation
    assert np.diag(corr) == pytest.approx([1, 1])
    assert -1 < corr[0, 1] < 0


def test_propagation_of_a_sum_of_independent_parameters():
    cov = np.diag([4.0, 9.0])
    assert propagate(np.array([[1.0, 1.0]]), cov)[0] == pytest.approx(np.sqrt(13.0))


def test_is_at_bound_names_pinned_parameters():
    names = is_at_bound(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.0, -np.inf]),
                        np.array([1.0, 1.0, 1.0]), ["a", "b", "c"])
    assert names == ("a", "c")


def test_exact_fit_gives_a_reason_instead_of_zero_errors():
    cov = estimate_covariance(np.eye(3)[:, :2], ["a", "b"], fit_statistics(np.zeros(3), 2))
    assert cov.matrix is None and "exact" in cov.reason


def test_ill_conditioned_jacobian_takes_the_svd_path_and_stays_accurate():
    x = np.linspace(1.0, 2.0, 40)
    # two nearly parallel columns: condition number of J about 1e6
    jac = np.column_stack([x, x * (1.0 + 1e-5 * x)])
    stats = fit_statistics(np.full(40, 0.1), 2)
    cov = estimate_covariance(jac, ["a", "b"], stats)
    u, s, vt = np.linalg.svd(jac, full_matrices=False)
    expected = (vt.T / s**2) @ vt * stats.redchi
    assert cov.matrix == pytest.approx(expected, rel=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("size, outcome", [
    (1e150, "ok"),                   # squares overflow: columns rescaled first, same answer
    (1e-100, "ok"),
    (1e160, "beyond double precision"),    # a variance of 1e-320 keeps too few digits
    (1e-156, "beyond double precision"),   # a variance of 1e312 cannot be held
    (1e180, "beyond double precision"),    # a variance of 1e-360 neither
    (1e-310, "does not change"),     # below the smallest normal number: no effect
])
def test_columns_of_extreme_size_give_the_right_errors_or_a_reason(size, outcome):
    rng = np.random.default_rng(1)
    jac = rng.standard_normal((50, 2))
    stats = fit_statistics(rng.standard_normal(50), 2)
    reference = np.linalg.inv(jac.T @ jac) * stats.redchi
    estimate = estimate_covariance(jac * np.array([size, 1.0]), ["a", "b"], stats)
    if outcome == "ok":
        assert estimate.matrix is not None
        assert np.sqrt(estimate.matrix[1, 1]) == pytest.approx(np.sqrt(reference[1, 1]),
                                                               rel=1e-9)
        assert np.sqrt(estimate.matrix[0, 0]) * size == pytest.approx(
            np.sqrt(reference[0, 0]), rel=1e-6)
    else:
        assert estimate.matrix is None and outcome in estimate.reason


# -- normal_inverse: the quick route, and an engine's inverse handed back -------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lmfit_host import normal_inverse  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nvarys=st.integers(1, 8),
       scales=st.lists(st.floats(1e-6, 1e6), min_size=8, max_size=8))
def test_normal_inverse_is_the_inverse_of_the_normal_matrix(seed, nvarys, scales):
    rng = np.random.default_rng(seed)
    jac = rng.standard_normal((3 * nvarys + 5, nvarys)) * np.array(scales[:nvarys])
    inverse = normal_inverse(jac)
    if inverse is None:  # declined: only for normal matrices too ill-conditioned for it
        unit = 1.0 / np.linalg.norm(jac, axis=0)
        assert np.linalg.cond(jac * unit) ** 2 > 1e9
        return
    assert np.array_equal(inverse, inverse.T)  # exactly symmetric
    expected = np.linalg.inv(jac.T @ jac)
    spread = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    assert np.max(np.abs(inverse - expected) / spread) < 1e-8


def test_normal_inverse_declines_what_needs_the_careful_route():
    good = np.column_stack([np.linspace(0.0, 1.0, 6), np.ones(6)])
    assert normal_inverse(good) is not None
    assert normal_inverse(np.column_stack([good, np.zeros(6)])) is None      # dead column
    assert normal_inverse(np.column_stack([good[:, 0], [np.nan] * 6])) is None
    assert normal_inverse(good * np.array([1e-80, 1.0])) is None             # squares underflow
    nearly = np.column_stack([good[:, 0], good[:, 0] + 1e-5 * good[:, 1]])
    assert normal_inverse(nearly) is None                                    # cond(J) ~ 1e6
    # the careful route then inverts through the SVD, without squaring the condition
    stats = fit_statistics(np.full(6, 0.1), 2)
    expected = np.linalg.inv(nearly.T @ nearly) * stats.redchi
    assert estimate_covariance(nearly, ["a", "b"], stats).matrix == \
        pytest.approx(expected, rel=1e-4)


def test_an_inverse_handed_in_is_scaled_not_recomputed_and_not_changed():
    jac = np.column_stack([np.linspace(0.0, 1.0, 8), np.ones(8)])
    stats = fit_statistics(np.linspace(-0.2, 0.2, 8), 2)
    computed = estimate_covariance(jac, ["a", "b"], stats)
    given_inverse = normal_inverse(jac)
    kept = given_inverse.copy()
    handed = estimate_covariance(jac, ["a", "b"], stats, inverse=given_inverse)
    assert np.array_equal(handed.matrix, computed.matrix)
    assert np.array_equal(given_inverse, kept)
    # the host trusts it: a different matrix shows through (the engine's contract)
    other = estimate_covariance(jac, ["a", "b"], stats, inverse=2.0 * given_inverse)
    assert other.matrix == pytest.approx(2.0 * computed.matrix, rel=1e-15)
    # unscaled, as given
    absolute = estimate_covariance(jac, ["a", "b"], stats, scale_covar=False,
                                   inverse=given_inverse)
    assert np.array_equal(absolute.matrix, given_inverse)
