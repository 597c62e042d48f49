"""FitProblem and the MINUIT-style bounds transforms."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lmfit_host import FitAborted, FitError
from lmfit_host.problem import BoundsTransform, EngineResult, FitProblem

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def bounded_value(draw):
    """A (lower, upper, x) triple with lower <= x <= upper; each bound may be infinite."""
    kind = draw(st.sampled_from(["both", "lower", "upper", "none"]))
    a = draw(finite)
    width = draw(st.floats(min_value=1e-6, max_value=1e6))
    lower = a if kind in ("both", "lower") else -math.inf
    upper = a + width if kind in ("both", "upper") else math.inf
    if kind == "upper":
        x = upper - draw(st.floats(min_value=0, max_value=1e6))
    elif kind == "lower":
        x = lower + draw(st.floats(min_value=0, max_value=1e6))
    elif kind == "both":
        x = lower + width * draw(st.floats(min_value=0, max_value=1))
        x = min(max(x, lower), upper)
    else:
        x = draw(finite)
    return lower, upper, x


@settings(max_examples=300, deadline=None)
@given(bounded_value())
def test_transform_round_trip_returns_the_value(triple):
    lower, upper, x = triple
    t = BoundsTransform([lower], [upper])
    back = t.to_external(t.to_internal([x]))[0]
    span = (upper - lower) if math.isfinite(upper - lower) else max(abs(x), 1.0)
    # arcsin/sin and sqrt lose a few ulps of the range, never more
    assert abs(back - x) <= 1e-9 * max(span, abs(x), 1.0)


@settings(max_examples=300, deadline=None)
@given(bounded_value(), st.floats(min_value=-1e8, max_value=1e8))
def test_every_internal_value_maps_inside_the_bounds(triple, u):
    lower, upper, _ = triple
    t = BoundsTransform([lower], [upper])
    x = t.to_external([u])[0]
    assert lower <= x <= upper


@settings(max_examples=200, deadline=None)
@given(bounded_value(), st.floats(min_value=-50, max_value=50))
def test_transform_derivative_matches_differences(triple, u):
    lower, upper, _ = triple
    assume(not (math.isfinite(lower) and math.isfinite(upper) and upper - lower > 1e5))
    t = BoundsTransform([lower], [upper])
    h = 1e-6
    numeric = (t.to_external([u + h])[0] - t.to_external([u - h])[0]) / (2 * h)
    size = max(abs(t.to_external([u])[0]), 1.0)
    rounding = 8 * np.finfo(float).eps * size / h
    assert abs(t.derivative([u])[0] - numeric) <= 1e-5 * abs(numeric) + rounding


def test_unbounded_transform_is_identity():
    t = BoundsTransform([-np.inf, -np.inf], [np.inf, np.inf])
    assert t.is_identity
    assert np.array_equal(t.to_internal([1.5, -2.0]), [1.5, -2.0])


def _line_problem(**kw):
    x = np.linspace(0, 1, 11)
    y = 2.0 * x + 1.0

    def residual(p):
        return p[0] * x + p[1] - y

    return FitProblem(["slope", "offset"], [1.0, 0.0], [-np.inf, -np.inf], [np.inf, np.inf],
                      residual, 11, **kw)


def test_problem_counts_evaluations_and_tracks_the_best_point():
    problem = _line_problem()
    problem.residual(np.array([1.0, 0.0]))
    problem.residual(np.array([2.0, 1.0]))
    problem.residual(np.array([3.0, 0.0]))
    assert problem.nfev == 3
    assert np.array_equal(problem.best_x, [2.0, 1.0])
    assert problem.best_chisqr == 0.0


def test_budget_raises_fit_aborted_naming_max_nfev():
    problem = _line_problem(max_nfev=2)
    problem.residual(problem.x0)
    problem.residual(problem.x0)
    with pytest.raises(FitAborted, match="max_nfev=2"):
        problem.residual(problem.x0)
    assert problem.aborted


def test_callback_returning_true_aborts():
    problem = _line_problem(callback=lambda x, r, n: n >= 2)
    problem.residual(problem.x0)
    with pytest.raises(FitAborted, match="iter_cb"):
        problem.residual(problem.x0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_residual_raises_fit_error_naming_values():
    x = np.linspace(0, 1, 5)
    problem = FitProblem(["k"], [1.0], [-np.inf], [np.inf], lambda p: np.log(p[0] - x), 5)
    with pytest.raises(FitError, match="NaN or infinite.*k=0.5"):
        problem.residual(np.array([0.5]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_residual_passes_under_propagate():
    x = np.linspace(0, 1, 5)
    problem = FitProblem(["k"], [1.0], [-np.inf], [np.inf], lambda p: np.log(p[0] - x), 5,
                         nan_policy="propagate")
    assert np.isnan(problem.residual(np.array([0.5]))).any()


def test_gradient_is_twice_jacobian_transpose_residual():
    problem = _line_problem()
    value, grad = problem.gradient(np.array([1.0, 0.0]))
    x = np.linspace(0, 1, 11)
    r = x - 2.0 * x - 1.0
    assert value == pytest.approx(r.dot(r))
    assert grad == pytest.approx([2 * (x * r).sum(), 2 * r.sum()], rel=1e-6)


def test_central_difference_jacobian_of_a_line_is_exact():
    problem = _line_problem()
    jac = problem.difference_jacobian(np.array([1.3, 0.2]), central=True)
    x = np.linspace(0, 1, 11)
    assert jac[:, 0] == pytest.approx(x, abs=1e-9)
    assert jac[:, 1] == pytest.approx(np.ones(11), abs=1e-9)


def test_difference_jacobian_stays_inside_bounds():
    seen = []

    def residual(p):
        seen.append(p[0])
        return np.array([p[0] - 1.0, p[0] + 1.0])

    problem = FitProblem(["a"], [2.0], [0.0], [2.0], residual, 2)
    problem.difference_jacobian(np.array([2.0]), central=True)
    assert max(seen) <= 2.0



@pytest.mark.parametrize("central", [False, True])
@pytest.mark.parametrize("value", [0.0, 5e-7])
def test_a_value_far_below_its_scale_still_gets_its_column(value, central):
    # a background of 0 (or 5e-7) under counts of 1e9: a step relative to the value moves
    # the residual by less than its rounding, which gave a zero column (and L-BFGS-B a
    # zero gradient: it stopped with the background at 0, chi-square 5000x the minimum)
    x = np.linspace(0.0, 10.0, 21)
    data = 1e9 * np.exp(-x / 3.0) + 4e8

    def residual(p):
        return 1e9 * np.exp(-x / 3.0) + p[0] - data

    problem = FitProblem(["c"], [value], [-np.inf], [np.inf], residual, x.size)
    jac = problem.difference_jacobian(np.array([value]), central=central)
    assert jac[:, 0] == pytest.approx(np.ones(x.size), rel=1e-2)


def test_a_parameter_without_effect_gets_a_zero_column_after_three_tries():
    calls = []

    def residual(p):
        calls.append(p[1])
        return np.array([p[0] - 1.0, p[0] + 1.0, 2.0])

    problem = FitProblem(["a", "b"], [0.5, 0.0], [-np.inf, 0.0], [np.inf, 1e-3], residual, 3)
    jac = problem.difference_jacobian(np.array([0.5, 0.0]))
    assert jac[:, 1].tolist() == [0.0, 0.0, 0.0] and jac[:, 0].tolist() == [1.0, 1.0, 0.0]
    # and the wider steps stay inside b's narrow range
    assert 0.0 <= min(calls) and max(calls) <= 1e-3

def test_internal_space_residual_uses_external_values():
    problem = FitProblem(["a"], [0.5], [0.0], [1.0], lambda p: np.array([p[0]]), 1)
    u = problem.x0_internal
    assert problem.residual_internal(u)[0] == pytest.approx(0.5)


def test_engine_result_defaults():
    result = EngineResult(x=np.zeros(2), success=True, message="ok")
    assert result.codes == {} and result.jacobian is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_trial_residual_returns_nonfinite_instead_of_raising():
    x = np.linspace(0, 1, 5)
    problem = FitProblem(["k"], [1.0], [-np.inf], [np.inf], lambda p: np.log(p[0] - x), 5)
    assert np.isnan(problem.trial_residual(np.array([0.5]))).any()
    with pytest.raises(FitError):
        problem.residual(np.array([0.5]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_trial_objective_returns_nonfinite_instead_of_raising():
    x = np.linspace(0, 1, 5)
    problem = FitProblem(["k"], [1.0], [-np.inf], [np.inf], lambda p: np.log(p[0] - x), 5)
    assert not np.isfinite(problem.trial_objective(np.array([0.5])))


def test_differences_step_to_the_side_where_the_constraints_are_defined():
    from lmfit_host.errors import ExpressionRuntimeError
    from lmfit_host.problem import ConstraintFailure

    def residual(p):
        if p[0] < 0.0:  # as sqrt(v) of a constraint would be
            raise ConstraintFailure(ExpressionRuntimeError("sqrt(v) failed"))
        return np.array([2.0 * p[0], 1.0])

    problem = FitProblem(["v"], [0.0], [-np.inf], [np.inf], residual, 2)
    jac = problem.difference_jacobian(np.array([0.0]), central=True)
    assert jac[:, 0] == pytest.approx([2.0, 0.0])
    # at a trial point the problem reports NaN; where NaN is an error, the expression's
    # error, with the values
    assert np.isnan(problem.trial_residual(np.array([-1.0]))).all()
    with pytest.raises(ExpressionRuntimeError, match=r"sqrt\(v\) failed \(at evaluation \d+, "
                                                     r"with v=-1\)"):
        problem.residual(np.array([-1.0]))


def test_a_nan_on_one_side_of_the_first_column_leaves_the_others_their_slopes():
    # the rounding level was taken from the first column's first side: a NaN there made it
    # NaN, and every later column came out 0 ("does not change with ...")
    def residual(p):
        with np.errstate(invalid="ignore"):
            return np.array([np.sqrt(-p[0]) + p[1], 2.0 * p[1] + p[2], p[2]])

    for central in (True, False):
        problem = FitProblem(["v", "a", "b"], [0.0, 1.0, 1.0], [-np.inf] * 3, [np.inf] * 3,
                             residual, 3, nan_policy="propagate")
        jac = problem.difference_jacobian(np.array([0.0, 1.0, 1.0]), central=central)
        assert jac[:, 1] == pytest.approx([1.0, 2.0, 0.0], abs=1e-6)
        assert jac[:, 2] == pytest.approx([0.0, 1.0, 1.0], abs=1e-6)
        assert np.isfinite(jac[:, 0]).all()
