"""The README's promises: its set-up commands and its seed example run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_starts_with_the_two_setup_commands():
    first = _blocks("bash")[0].strip().splitlines()
    assert len(first) == 2
    assert first[0].endswith("lmfit-host demo")
    assert first[1].endswith("python3 -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    for command in _blocks("bash")[0].strip().splitlines():
        assert command in ci


def test_seed_example_runs_end_to_end(capsys):
    pytest.importorskip("lmfit_host_leastsq")
    namespace = {}
    exec(compile(_blocks("python")[0], str(README), "exec"), namespace)
    params = namespace["params"]
    assert params["period"].value == pytest.approx(5.46, rel=0.01)
    assert params["period"].stderr > 0
    assert "leastsq" in capsys.readouterr().out


def test_nist_claim_names_the_problems_whose_stderrs_the_report_excepts():
    report = (README.parent / "benchmarks" / "nist_report.py").read_text()
    excepted = re.search(r"STDERR_EXCEPTED = \{(.*?)\}", report).group(1)
    row = next(line for line in README.read_text().splitlines() if line.startswith("| NIST StRD"))
    for name in re.findall(r'"(\w+)"', excepted):
        assert f"{name}'s stderrs excepted" in row
