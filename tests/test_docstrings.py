"""Every example in a docstring of the core and of the installed plugins is true (the
examples of datafile and report need a data file or a fit result and are skipped)."""

import doctest
import importlib

import pytest

MODULES = [
    "lmfit_host", "lmfit_host.cli", "lmfit_host.covariance",
    "lmfit_host.expr", "lmfit_host.mathpack", "lmfit_host.minimizer", "lmfit_host.model",
    "lmfit_host.parameter", "lmfit_host.plugins", "lmfit_host.problem",
    "lmfit_host_anneal.engine", "lmfit_host_anneal.schedules", "lmfit_host_anneal.search",
    "lmfit_host_lbfgsb.engine", "lmfit_host_leastsq.engine", "lmfit_host_leastsq.refine",
    "lmfit_host_specfun.lineshapes", "lmfit_host_specfun.special", "lmfit_host_specfun.widths",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_are_true(name):
    distribution = name.split(".")[0]
    if distribution != "lmfit_host":
        pytest.importorskip(distribution)  # a minimal install lacks some plugins
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example left: update MODULES"
    assert result.failed == 0
