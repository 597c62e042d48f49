"""NIST StRD accuracy: correct digits (LRE) of lmfit-host's leastsq engine and of lmfit 1.3.4.

Fits the 19 nonlinear regression problems of lower and average difficulty
from both official starting points (38 fits) with each library's DEFAULT
settings, and prints per fit the fewest correct significant digits over the
parameter values and over the standard errors, then how many fits reach 6
digits on every value and 4 on every standard error (Lanczos1's standard
errors are excepted from the latter: its certified residual is below
double precision). A fit that raises scores 0. For lmfit-host the last
column says how the engine's Gauss-Newton check ended: ``passed`` (MINPACK's
point needed nothing), ``refined`` (the accurate polish moved it; its
evaluations are in nfev), ``+restart`` when MINPACK was restarted.

Run::

    python benchmarks/nist_report.py            # both libraries
    python benchmarks/nist_report.py --no-lmfit # ours only
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

import lmfit_host

try:  # benchmark-only dependency
    import lmfit
except ImportError:  # pragma: no cover
    lmfit = None

_SUPPORT = Path(__file__).resolve().parents[1] / "tests" / "nist.py"
_spec = importlib.util.spec_from_file_location("lmfit_host_tests_nist", _SUPPORT)
nist: Any = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = nist
_spec.loader.exec_module(nist)  # type: ignore[union-attr]

VALUE_DIGITS = 6.0
STDERR_DIGITS = 4.0
STDERR_EXCEPTED = {"Lanczos1"}

Score = Tuple[float, float, int, str, str]   # value digits, stderr digits, nfev, note, polish


def score(problem: Any, start: int, params_class: Callable[[], Any],
          minimize: Callable[..., Any], **kws: Any) -> Score:
    """Fit one problem from one start; the fewest correct digits on values and on stderrs."""
    params = params_class()
    for name, value in zip(problem.param_names, problem.starts[start]):
        params.add(name, value=float(value))
    try:
        with np.errstate(all="ignore"):
            result = minimize(problem.residual_function(), params, **kws)
    except Exception as exc:  # a raising fit scores 0 and says why
        return 0.0, 0.0, 0, f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}", ""
    values = np.array([result.params[n].value for n in problem.param_names], dtype=float)
    stderr = np.array([np.nan if result.params[n].stderr is None else result.params[n].stderr
                       for n in problem.param_names], dtype=float)
    polish = str(getattr(result, "polish_status", ""))
    if getattr(result, "restarted", False):
        polish += "+restart"
    return (float(nist.lre(values, problem.certified).min()),
            float(nist.lre(stderr, problem.certified_stderr).min()), int(result.nfev), "",
            polish)


def reaches(problem_name: str, digits: Score) -> Tuple[bool, bool]:
    """Does a fit reach 6 digits on every value, and 4 on every stderr (Lanczos1 excepted)?"""
    return (digits[0] >= VALUE_DIGITS,
            problem_name in STDERR_EXCEPTED or digits[1] >= STDERR_DIGITS)


def main(argv: Optional[List[str]] = None) -> int:
    """Print the table and the counts; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lmfit", action="store_true", help="skip lmfit 1.3.4")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    others = lmfit is not None and not args.no_lmfit
    header = f"{'problem':10s} start | {'lmfit-host leastsq':^26s}"
    if others:
        header += f" | {'lmfit ' + lmfit.__version__ + ' leastsq':^26s}"
    print("correct significant digits (LRE), fewest over the parameters; "
          f"pass = {VALUE_DIGITS:g} on values, {STDERR_DIGITS:g} on stderr")
    print(header)
    print(f"{'':16s} | {'value':>6s} {'stderr':>6s} {'nfev':>6s} {'':4s} {'polish':15s}"
          + (f" | {'value':>6s} {'stderr':>6s} {'nfev':>6s}" if others else ""))
    ours_total = [0, 0, 0]
    other_total = [0, 0, 0]
    elapsed = [0.0, 0.0]
    polished = 0
    for problem in nist.load_all():
        for start in (0, 1):
            began = time.perf_counter()
            ours = score(problem, start, lmfit_host.Parameters, lmfit_host.minimize,
                         engine="leastsq")
            elapsed[0] += time.perf_counter() - began
            ok = reaches(problem.name, ours)
            ours_total[0] += ok[0]
            ours_total[1] += ok[1]
            ours_total[2] += ours[1] >= STDERR_DIGITS
            polished += ours[4].startswith("refined")
            line = (f"{problem.name:10s} {start + 1:5d} | {ours[0]:6.2f} {ours[1]:6.2f} "
                    f"{ours[2]:6d} {'' if all(ok) else 'FAIL':4s} {ours[4]:15s}")
            note = ours[3]
            if others:
                began = time.perf_counter()
                theirs = score(problem, start, lmfit.Parameters, lmfit.minimize,
                               method="leastsq")
                elapsed[1] += time.perf_counter() - began
                ok = reaches(problem.name, theirs)
                other_total[0] += ok[0]
                other_total[1] += ok[1]
                other_total[2] += theirs[1] >= STDERR_DIGITS
                line += (f" | {theirs[0]:6.2f} {theirs[1]:6.2f} {theirs[2]:6d} "
                         f"{'' if all(ok) else 'FAIL':4s}")
                if theirs[3]:
                    note = f"{note}; lmfit: {theirs[3]}" if note else f"lmfit: {theirs[3]}"
            print(line + (f"  {note}" if note else ""))
    print(f"\nlmfit-host leastsq: {ours_total[0]}/38 fits reach {VALUE_DIGITS:g} digits on every "
          f"value, {ours_total[1]}/38 reach {STDERR_DIGITS:g} on every stderr "
          f"({ours_total[2]}/38 counting Lanczos1 too) in {elapsed[0]:.2f} s; "
          f"{polished}/38 needed the accurate polish")
    if others:
        print(f"lmfit {lmfit.__version__}:      {other_total[0]}/38 fits reach {VALUE_DIGITS:g} "
              f"digits on every value, {other_total[1]}/38 reach {STDERR_DIGITS:g} on every "
              f"stderr ({other_total[2]}/38 counting Lanczos1 too) in {elapsed[1]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
