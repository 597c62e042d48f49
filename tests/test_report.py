"""fit_report as text and HTML."""

import numpy as np
import pytest

from lmfit_host import Parameters, fit_report, minimize
from lmfit_host.report import fit_report_html

pytest.importorskip("lmfit_host_leastsq")


@pytest.fixture
def result():
    x = np.linspace(0, 10, 100)
    y = 3.0 * np.exp(-x / 2.0) + 0.5 + np.random.default_rng(2).normal(0, 0.01, 100)
    params = Parameters()
    params.add("amp", value=1.0, min=0)
    params.add("tau", value=1.0, min=0.01, max=100)
    params.add("c", value=0.0)
    params.add("half_life", expr="tau * log(2)")
    return minimize(lambda p: p["amp"].value * np.exp(-x / p["tau"].value) + p["c"].value - y,
                    params)


def test_text_report_names_engine_statistics_and_parameters(result):
    text = fit_report(result)
    assert "leastsq" in text and "converged" in text
    assert "chi-square" in text and "AIC" in text and "BIC" in text
    for name in ("amp", "tau", "c", "half_life"):
        assert name in text
    assert "= tau * log(2)" in text
    assert "[0.01, 100]" in text
    assert "%" in text  # relative errors


def test_correlations_above_threshold_are_listed(result):
    text = fit_report(result, min_correl=0.1)
    assert "Correlations" in text and "~" in text
    assert "Correlations" not in fit_report(result, min_correl=1.01)


def test_report_of_parameters_alone():
    params = Parameters()
    params.add("a", value=1.5, vary=False)
    text = fit_report(params)
    assert "a" in text and "fixed" in text and "chi-square" not in text


def test_html_report_is_a_table(result):
    page = fit_report_html(result)
    assert page.startswith("<div") and "<table>" in page and "half_life" in page
    assert result._repr_html_() == page


def test_report_says_why_there_are_no_errorbars():
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=1.0)
    result = minimize(lambda p: np.array([p["a"].value - 1.0, p["b"].value - 2.0]), params)
    assert "no error bars: too few data points" in fit_report(result)
