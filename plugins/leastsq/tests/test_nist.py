"""NIST StRD certification of the leastsq engine, with its default settings.

All 19 nonlinear regression problems of lower and average difficulty, from
both official starting points (38 fits) through ``lmfit_host.minimize(...,
engine='leastsq')``: every parameter value must be correct to at least 6
significant digits and every standard error to at least 4 (Lanczos1's
standard errors excepted: its certified residual sum of squares, 1.4e-25,
is below what double precision can reproduce). The data and the reader
live in the repository's ``tests/`` (``tests/nist.py``, ``tests/data/nist``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lmfit_host import FitProblem, Parameters, minimize

_SUPPORT = Path(__file__).resolve().parents[3] / "tests" / "nist.py"
if not _SUPPORT.is_file():  # the plugin tested outside the repository
    pytest.skip("the NIST data and reader (tests/nist.py) are not here", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("lmfit_host_tests_nist", _SUPPORT)
nist: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = nist  # dataclasses look their module up there
_spec.loader.exec_module(nist)  # type: ignore[union-attr]

VALUE_DIGITS = 6
STDERR_DIGITS = 4
STDERR_EXCEPTED = {"Lanczos1"}

PROBLEMS = {problem.name: problem for problem in nist.load_all()}
CASES = [pytest.param(name, start, id=f"{name}-start{start + 1}")
         for name in nist.NIST_NAMES for start in (0, 1)]

# MGH17's first start sends MINPACK's first trial steps where exp() overflows. The
# engine refuses such steps, but only a host that hands non-finite trial residuals
# back (FitProblem.trial_residual) lets it: under nan_policy='raise' the host
# otherwise ends the fit at the first one.
_HOST_RAISES_ON_TRIALS = not hasattr(FitProblem, "trial_residual")


def fit(name: str, start: int) -> Any:
    problem = PROBLEMS[name]
    params = Parameters()
    for pname, value in zip(problem.param_names, problem.starts[start]):
        params.add(pname, value=float(value))
    with np.errstate(all="ignore"):  # wild trial steps overflow exp() in some models
        return minimize(problem.residual_function(), params, engine="leastsq")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, start", CASES)
def test_certified_values_and_standard_errors(name: str, start: int,
                                              request: pytest.FixtureRequest) -> None:
    if name == "MGH17" and start == 0 and _HOST_RAISES_ON_TRIALS:
        request.applymarker(pytest.mark.xfail(
            reason="the host raises on non-finite trial residuals (no FitProblem.trial_residual)",
            strict=True))
    problem = PROBLEMS[name]
    result = fit(name, start)
    values = np.array([result.params[p].value for p in problem.param_names])
    value_digits = nist.lre(values, problem.certified)
    assert value_digits.min() >= VALUE_DIGITS, (
        f"{name} from start {start + 1}: correct digits per value {np.round(value_digits, 2)}")
    if name in STDERR_EXCEPTED:
        return
    assert result.errorbars, result.errorbars_reason
    stderr = np.array([result.params[p].stderr for p in problem.param_names], dtype=float)
    stderr_digits = nist.lre(stderr, problem.certified_stderr)
    assert stderr_digits.min() >= STDERR_DIGITS, (
        f"{name} from start {start + 1}: correct digits per stderr {np.round(stderr_digits, 2)}")


def test_every_problem_is_read_with_its_certified_residual_sum_of_squares() -> None:
    assert len(PROBLEMS) == 19
    for name, problem in PROBLEMS.items():
        residual = problem.response - problem.model(problem.certified)
        if name not in STDERR_EXCEPTED:  # Lanczos1: below double precision
            assert nist.lre(residual.dot(residual), problem.certified_rss) >= 9, name
