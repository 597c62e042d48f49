"""Benchmark: lmfit-host's ``lbfgsb`` engine vs lmfit 1.3.4's ``lbfgsb`` method.

The same residual functions, data, start values and evaluation budgets go to
``lmfit_host.minimize(..., engine='lbfgsb')`` and ``lmfit.minimize(...,
method='lbfgsb')``, interleaved so that both see the same machine load:

- S1: the seed's damped sine (4 parameters, 1001 points, no bounds), from the
  seed's start values;
- S2: the same with the seed's bounds on amp, period, shift and decay;
- S3: three Gaussians on a line, widths tied to one by expressions,
  amplitudes bounded (9 varied parameters, 2 constrained, 600 points);
- NIST: the 19 NIST StRD problems of lower and average difficulty from both
  official starts (38 fits), summed.

Each problem runs twice: with the budget lmfit 1.3.4 gives its scalar
methods by default (``max_nfev = 2000 * (nvarys + 1)`` residual evaluations)
for both libraries, and with a tight budget (``25 * (nvarys + 1)``) for
both. Each row shows the median wall time per fit (the whole ``minimize``
call; ours includes the error bars the host computes, lmfit 1.3.4 computes
none for lbfgsb without numdifftools), residual evaluations, the best
chi-square, and the correct digits of the worst parameter against the
reference (MINPACK from the true values for S1-S3, the certified values for
NIST).

Run: ``python benchmarks/bench_lbfgsb.py [--repeats 5] [--no-nist]`` (lmfit
is a benchmark-only dependency: ``pip install 'lmfit==1.3.4'``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from scipy.optimize import leastsq

import lmfit_host

try:
    import lmfit
except ImportError:  # pragma: no cover - benchmark-only dependency
    sys.exit("this benchmark compares with lmfit 1.3.4: pip install 'lmfit==1.3.4'")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import nist  # noqa: E402  (the repository's NIST StRD reader)

# name -> (start, min, max, expr); expr parameters are computed, not varied
Spec = Dict[str, Tuple[Optional[float], float, float, Optional[str]]]


@dataclass
class Case:
    """One fit: a residual ``fcn(params)`` both libraries call, its parameters and reference."""

    name: str
    fcn: Callable[[Any], np.ndarray]
    spec: Spec
    reference: Dict[str, float]
    canonical: Callable[[Dict[str, float]], Dict[str, float]] = lambda values: values

    @property
    def nvarys(self) -> int:
        return sum(1 for start, _, _, expr in self.spec.values() if expr is None)

    def params(self, module: Any) -> Any:
        """A fresh Parameters of ``module`` (lmfit_host or lmfit) for this case."""
        params = module.Parameters()
        for name, (start, low, high, expr) in self.spec.items():
            if expr is None:
                params.add(name, value=start, min=low, max=high)
        for name, (start, low, high, expr) in self.spec.items():
            if expr is not None:
                params.add(name, expr=expr)
        return params


# -- the problems ---------------------------------------------------------------------


def _sine_cases() -> List[Case]:
    x = np.linspace(0.0, 250.0, 1001)
    rng = np.random.default_rng(2024)

    def model(amp, period, shift, decay):
        return amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)

    data = model(14.0, 5.33, 0.123, 0.010) + rng.normal(scale=0.7215, size=x.size)

    def residual(params):
        return model(params["amp"].value, params["period"].value, params["shift"].value,
                     params["decay"].value) - data

    best, _ = leastsq(lambda p: model(*p) - data, [14.0, 5.33, 0.123, 0.010], xtol=1e-14, ftol=1e-14)
    reference = dict(zip(("amp", "period", "shift", "decay"), best))
    free = {"amp": (13.0, -math.inf, math.inf, None), "period": (2.0, -math.inf, math.inf, None),
            "shift": (0.0, -math.inf, math.inf, None), "decay": (0.02, -math.inf, math.inf, None)}
    boxed = {"amp": (13.0, 0.0, 20.0, None), "period": (2.0, -math.inf, 10.0, None),
             "shift": (0.0, -math.pi / 2, math.pi / 2, None), "decay": (0.02, 0.0, 0.1, None)}
    return [Case("S1 damped sine", residual, free, reference, _sine_canonical),
            Case("S2 damped sine, bounds", residual, boxed, reference, _sine_canonical)]


def _sine_canonical(values: Dict[str, float]) -> Dict[str, float]:
    """One representative of equivalent damped-sine minima (decay -> -decay, amp -> -amp)."""
    amp, shift = values["amp"], values["shift"]
    if amp < 0:
        amp, shift = -amp, shift + math.pi
    return {"amp": amp, "period": values["period"],
            "shift": (shift + math.pi) % (2 * math.pi) - math.pi, "decay": abs(values["decay"])}


def _gaussians_case() -> Case:
    x = np.linspace(0.0, 30.0, 600)
    centers, amplitudes, width = (6.0, 14.0, 23.0), (5.0, 3.0, 4.0), 1.2
    rng = np.random.default_rng(7)

    def model(values):
        out = values[0] + values[1] * x
        for k in range(3):
            a, c, s = values[2 + 3 * k: 5 + 3 * k]
            out = out + a * np.exp(-((x - c) ** 2) / (2 * s * s))
        return out

    truth = [0.5, 0.02]
    for a, c in zip(amplitudes, centers):
        truth += [a, c, width]
    data = model(np.array(truth)) + rng.normal(scale=0.05, size=x.size)
    names = ["bg", "slope"] + [f"{p}{k}" for k in range(3) for p in ("a", "c", "s")]

    def residual(params):
        return model(np.array([params[n].value for n in names])) - data

    def tied(values):  # the widths tied: s1 = s2 = s0
        full = np.array(values[:5].tolist() + values[5:7].tolist() + [values[4]]
                        + values[7:9].tolist() + [values[4]])
        return model(full) - data

    free_truth = np.array(truth[:5] + truth[5:7] + truth[8:10])
    best, _ = leastsq(tied, free_truth, xtol=1e-14, ftol=1e-14)
    reference = dict(zip(["bg", "slope", "a0", "c0", "s0", "a1", "c1", "a2", "c2"], best))
    spec: Spec = {"bg": (0.0, -math.inf, math.inf, None), "slope": (0.0, -math.inf, math.inf, None)}
    for k, (a, c) in enumerate(zip(amplitudes, centers)):
        spec[f"a{k}"] = (a * 0.6, 0.0, 50.0, None)
        spec[f"c{k}"] = (c + 0.4, -math.inf, math.inf, None)
        spec[f"s{k}"] = (1.0, 0.05, 10.0, None) if k == 0 else (None, -math.inf, math.inf, "s0")
    return Case("S3 3 Gaussians, tied widths", residual, spec, reference)


def _nist_cases() -> List[Case]:
    cases = []
    for problem in nist.load_all():
        reference = dict(zip(problem.param_names, problem.certified))
        for which, start in enumerate(problem.starts, 1):
            spec: Spec = {name: (float(value), -math.inf, math.inf, None)
                          for name, value in zip(problem.param_names, start)}
            cases.append(Case(f"{problem.name} start {which}", problem.residual_function(), spec,
                              reference))
    return cases


# -- running ----------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float
    nfev: int
    chisqr: float
    digits: float


def _digits(params: Any, case: Case) -> float:
    """Correct significant digits of the worst parameter (0 when a sign or more is wrong)."""
    found = case.canonical({name: params[name].value for name in case.reference})
    worst = math.inf
    for name, want in case.reference.items():
        got = found[name]
        error = abs(got - want) / abs(want) if want != 0 else abs(got)
        worst = min(worst, 15.0 if error == 0 else -math.log10(error))
    return max(worst, 0.0)


def _run_ours(case: Case, budget: int) -> Outcome:
    params = case.params(lmfit_host)
    started = time.perf_counter()
    result = lmfit_host.minimize(lambda p: case.fcn(p), params, engine="lbfgsb", max_nfev=budget,
                                 nan_policy="propagate")
    seconds = time.perf_counter() - started
    return Outcome(seconds, int(result.nfev), float(result.chisqr), _digits(result.params, case))


def _run_lmfit(case: Case, budget: int) -> Outcome:
    params = case.params(lmfit)
    started = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = lmfit.minimize(lambda p: case.fcn(p), params, method="lbfgsb", max_nfev=budget,
                                nan_policy="propagate")
    seconds = time.perf_counter() - started
    chisqr = float(result.chisqr) if np.isfinite(result.chisqr) else math.inf
    return Outcome(seconds, int(result.nfev), chisqr, _digits(result.params, case))


def _measure(case: Case, budget: int, repeats: int) -> Tuple[List[Outcome], List[Outcome]]:
    ours: List[Outcome] = []
    theirs: List[Outcome] = []
    for round_ in range(repeats):
        # alternate who goes first: neither side always meets a warm or a cold machine
        order = (_run_ours, _run_lmfit) if round_ % 2 == 0 else (_run_lmfit, _run_ours)
        for runner in order:
            (ours if runner is _run_ours else theirs).append(runner(case, budget))
    return ours, theirs


def _summary(outcomes: List[Outcome]) -> Outcome:
    return Outcome(statistics.median(o.seconds for o in outcomes),
                   int(statistics.median(o.nfev for o in outcomes)),
                   min(o.chisqr for o in outcomes), min(o.digits for o in outcomes))


HEADER = (f"{'problem':<30} {'budget':>7} | {'time ms ours':>12} {'lmfit':>9} {'ratio':>6} | "
          f"{'nfev ours':>9} {'lmfit':>6} | {'best chi-square ours':>20} {'lmfit':>18} | "
          f"{'digits ours':>11} {'lmfit':>5}")


def _row(label: str, budget: Any, ours: Outcome, theirs: Outcome) -> str:
    ratio = ours.seconds / theirs.seconds if theirs.seconds > 0 else math.inf
    return (f"{label:<30} {budget!s:>7} | {ours.seconds * 1e3:12.2f} {theirs.seconds * 1e3:9.2f} "
            f"{ratio:6.2f} | {ours.nfev:9d} {theirs.nfev:6d} | {ours.chisqr:20.13g} "
            f"{theirs.chisqr:18.13g} | {ours.digits:11.1f} {theirs.digits:5.1f}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fits per problem and library (S1-S3)")
    parser.add_argument("--no-nist", action="store_true", help="skip the 38 NIST StRD fits")
    args = parser.parse_args(argv)

    print(f"lmfit-host {lmfit_host.__dict__.get('__version__', '')} engine lbfgsb vs lmfit "
          f"{lmfit.__version__} method lbfgsb; median of {args.repeats} interleaved fits per row")
    print(HEADER)
    print("-" * len(HEADER))
    total_ours = total_theirs = 0.0
    for case in _sine_cases() + [_gaussians_case()]:
        for factor in (2000, 25):
            budget = factor * (case.nvarys + 1)
            ours, theirs = _measure(case, budget, args.repeats)
            ours_s, theirs_s = _summary(ours), _summary(theirs)
            total_ours += ours_s.seconds
            total_theirs += theirs_s.seconds
            print(_row(case.name, budget, ours_s, theirs_s))

    if not args.no_nist:
        for factor in (2000, 25):
            sums = {"ours": [0.0, 0, 0, 0], "lmfit": [0.0, 0, 0, 0]}
            for case in _nist_cases():
                ours, theirs = _measure(case, factor * (case.nvarys + 1), 1)
                for key, outcome in (("ours", ours[0]), ("lmfit", theirs[0])):
                    sums[key][0] += outcome.seconds
                    sums[key][1] += outcome.nfev
                    sums[key][2] += outcome.digits >= 6
                    sums[key][3] += outcome.digits >= 4
            total_ours += sums["ours"][0]
            total_theirs += sums["lmfit"][0]
            label = f"NIST 38 fits (sum), {factor}x"
            ratio = sums["ours"][0] / sums["lmfit"][0]
            print(f"{label:<30} {'':>7} | {sums['ours'][0] * 1e3:12.1f} {sums['lmfit'][0] * 1e3:9.1f} "
                  f"{ratio:6.2f} | {sums['ours'][1]:9d} {sums['lmfit'][1]:6d} | "
                  f"{'fits with >= 6 / >= 4 correct digits:':>38} | "
                  f"{sums['ours'][2]:>5}/{sums['ours'][3]:<5} {sums['lmfit'][2]:>2}/{sums['lmfit'][3]}")

    print("-" * len(HEADER))
    verdict = "no slower" if total_ours <= total_theirs else "SLOWER"
    print(f"total time, ours {total_ours:.3f} s vs lmfit {total_theirs:.3f} s "
          f"(ratio {total_ours / total_theirs:.2f}): ours is {verdict}")
    return 0 if total_ours <= total_theirs else 1


if __name__ == "__main__":
    sys.exit(main())
