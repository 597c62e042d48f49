"""Benchmark: lmfit-host's ``anneal`` engine vs lmfit 1.3.4's ``dual_annealing``.

The same multimodal least-squares problems, started where Levenberg-Marquardt
stops in a wrong minimum, all parameters bounded (lmfit's dual_annealing
needs finite bounds), fitted by both libraries with the same seeds:

- with each side's defaults (lmfit: dual_annealing, maxiter=1000, L-BFGS-B
  local search; ours: schedule='fast' then a least-squares polish);
- ours with ``schedule='gsa'`` and lmfit's maxiter=1000 (the same SciPy
  global phase; our local search is least squares on the residual);
- with the same evaluation budget ``max_nfev`` for both.

For each row: median wall time per fit (the whole ``minimize`` call, ours
including the covariance the host computes; lmfit 1.3.4 skips it here
unless numdifftools is installed), median evaluations, median and best
chi-square, and how many runs reached the global minimum (chi-square within
1e-6 of MINPACK's fit started at the true values).

Run: ``python benchmarks/bench_anneal.py [--repeats 5]`` (lmfit is a
benchmark-only dependency: ``pip install 'lmfit==1.3.4'``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import lmfit
import numpy as np
from scipy.optimize import leastsq

import lmfit_host

Spec = Dict[str, Tuple[float, float, float]]  # name -> (start, min, max)


@dataclass
class Problem:
    """A residual ``f(params, x, data)`` usable by both libraries, its data and start."""

    name: str
    residual: Callable[..., np.ndarray]
    x: np.ndarray
    data: np.ndarray
    spec: Spec
    truth: Dict[str, float]

    def vector_residual(self, values: np.ndarray) -> np.ndarray:
        """The residual on a plain vector (for MINPACK's reference fit)."""
        return self.residual(_Values(dict(zip(self.spec, values))), self.x, self.data)

    def global_chisqr(self) -> float:
        """Chi-square of the global minimum: MINPACK started at the true values."""
        found = leastsq(self.vector_residual, np.array([self.truth[n] for n in self.spec]),
                        full_output=True)
        return float(np.sum(found[2]["fvec"] ** 2))

    def leastsq_chisqr(self) -> float:
        """Chi-square MINPACK reaches from the start values (a wrong minimum here)."""
        found = leastsq(self.vector_residual, np.array([s[0] for s in self.spec.values()]),
                        full_output=True)
        return float(np.sum(found[2]["fvec"] ** 2))


class _Param:
    def __init__(self, value: float) -> None:
        self.value = value


class _Values(dict):
    """Looks enough like Parameters for the residuals below."""

    def __init__(self, values: Dict[str, float]) -> None:
        super().__init__({k: _Param(v) for k, v in values.items()})


def damped_sine(pars: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The seed's example: amp*sin(shift + x/period)*exp(-x*x*decay*decay)."""
    amp = pars["amp"].value
    per = pars["period"].value
    shift = pars["shift"].value
    decay = pars["decay"].value
    return amp * np.sin(shift + x / per) * np.exp(-x * x * decay * decay) - data


def two_gaussians(pars: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Two Gaussian peaks; started with both centres between the true ones."""
    total = np.zeros_like(x)
    for i in (1, 2):
        a, c, w = pars[f"a{i}"].value, pars[f"c{i}"].value, pars[f"w{i}"].value
        total += a * np.exp(-(x - c) ** 2 / (2.0 * w * w))
    return total - data


def two_sines(pars: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Two sine waves of unknown frequencies."""
    total = np.zeros_like(x)
    for i in (1, 2):
        a, f, p = pars[f"a{i}"].value, pars[f"f{i}"].value, pars[f"p{i}"].value
        total += a * np.sin(f * x + p)
    return total - data


def make_problems() -> List[Problem]:
    """The benchmark problems, data with fixed noise."""
    problems = []
    x = np.linspace(0.0, 250.0, 2500)
    truth = {"amp": 14.0, "period": 5.33, "shift": 0.123, "decay": 0.010}
    data = damped_sine(_Values(truth), x, np.zeros_like(x))
    data += np.random.default_rng(7).normal(scale=0.7215, size=x.size)
    problems.append(Problem("damped sine (seed), 4 params", damped_sine, x, data,
                            {"amp": (13.0, -5.0, 40.0), "period": (1.0, 0.1, 7.0),
                             "shift": (0.0, -1.5, 1.5), "decay": (0.01, 0.0, 1.0)}, truth))

    x = np.linspace(0.0, 100.0, 501)
    truth = {"a1": 10.0, "c1": 25.0, "w1": 3.0, "a2": 6.0, "c2": 70.0, "w2": 5.0}
    data = two_gaussians(_Values(truth), x, np.zeros_like(x))
    data += np.random.default_rng(3).normal(scale=0.3, size=x.size)
    problems.append(Problem("two Gaussians, 6 params", two_gaussians, x, data,
                            {"a1": (5.0, 0.0, 20.0), "c1": (45.0, 0.0, 100.0),
                             "w1": (5.0, 0.5, 20.0), "a2": (5.0, 0.0, 20.0),
                             "c2": (55.0, 0.0, 100.0), "w2": (5.0, 0.5, 20.0)}, truth))

    truth = {"a1": 3.0, "f1": 0.31, "p1": 0.5, "a2": 2.0, "f2": 0.9, "p2": 1.0}
    data = two_sines(_Values(truth), x, np.zeros_like(x))
    data += np.random.default_rng(3).normal(scale=0.3, size=x.size)
    problems.append(Problem("two sines, 6 params", two_sines, x, data,
                            {"a1": (1.0, 0.0, 10.0), "f1": (0.5, 0.05, 1.5),
                             "p1": (0.0, -3.2, 3.2), "a2": (1.0, 0.0, 10.0),
                             "f2": (0.6, 0.05, 1.5), "p2": (0.0, -3.2, 3.2)}, truth))
    return problems


def _params(module: Any, spec: Spec) -> Any:
    params = module.Parameters()
    for name, (value, low, high) in spec.items():
        params.add(name, value=value, min=low, max=high)
    return params


def fit_ours(problem: Problem, seed: int, **options: Any) -> Tuple[float, int, float]:
    """One lmfit-host anneal fit: (seconds, evaluations, chi-square)."""
    params = _params(lmfit_host, problem.spec)
    started = time.perf_counter()
    result = lmfit_host.minimize(problem.residual, params, engine="anneal",
                                 args=(problem.x, problem.data), seed=seed, **options)
    return time.perf_counter() - started, int(result.nfev), float(result.chisqr)


def fit_lmfit(problem: Problem, seed: int, **options: Any) -> Tuple[float, int, float]:
    """One lmfit 1.3.4 dual_annealing fit: (seconds, evaluations, chi-square)."""
    params = _params(lmfit, problem.spec)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lmfit.minimize(problem.residual, params, method="dual_annealing",
                                args=(problem.x, problem.data), seed=seed, **options)
    return time.perf_counter() - started, int(result.nfev), float(result.chisqr)


@dataclass
class Row:
    """Summary of one configuration over all seeds."""

    label: str
    seconds: float
    nfev: float
    chisqr_median: float
    chisqr_best: float
    hits: int
    runs: int


Config = Tuple[str, Callable[..., Tuple[float, int, float]], Dict[str, Any]]


def measure(configs: List[Config], problem: Problem, seeds: List[int],
            target: float) -> List[Row]:
    """Run every configuration for every seed, seed by seed, and summarize each.

    Interleaving the configurations spreads any load on the machine over
    all of them alike, so the timings stay comparable.
    """
    samples: List[List[Tuple[float, int, float]]] = [[] for _ in configs]
    for seed in seeds:
        for outcome, (_, runner, options) in zip(samples, configs):
            outcome.append(runner(problem, seed, **options))
    rows = []
    for (label, _, _), outcome in zip(configs, samples):
        times, nfevs, chisqrs = zip(*outcome)
        hits = sum(c <= target * (1.0 + 1e-6) for c in chisqrs)
        rows.append(Row(label, statistics.median(times), statistics.median(nfevs),
                        statistics.median(chisqrs), min(chisqrs), hits, len(seeds)))
    return rows


def print_rows(rows: List[Row]) -> None:
    print(f"  {'configuration':44s} {'s/fit':>8s} {'nfev':>8s} {'median chi2':>14s} "
          f"{'best chi2':>14s} {'global':>7s}")
    for row in rows:
        print(f"  {row.label:44s} {row.seconds:8.3f} {row.nfev:8.0f} {row.chisqr_median:14.6g} "
              f"{row.chisqr_best:14.6g} {row.hits:>3d}/{row.runs:<3d}")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds per configuration")
    parser.add_argument("--budget", type=int, default=3000,
                        help="max_nfev of the equal-budget rows")
    args = parser.parse_args(argv)
    seeds = list(range(args.repeats))
    print(f"lmfit {lmfit.__version__} dual_annealing vs lmfit-host anneal; "
          f"{args.repeats} seeds per row, medians over seeds\n")
    verdicts = []
    for problem in make_problems():
        target = problem.global_chisqr()
        print(f"{problem.name}: global chi2 {target:.6g}, leastsq from the start "
              f"{problem.leastsq_chisqr():.6g}")
        budget = args.budget
        configs: List[Config] = [
            ("lmfit dual_annealing (defaults)", fit_lmfit, {}),
            ("ours anneal (defaults: fast + polish)", fit_ours, {}),
            ("ours anneal schedule='gsa', maxiter=1000", fit_ours,
             {"schedule": "gsa", "maxiter": 1000}),
            (f"lmfit dual_annealing, max_nfev={budget}", fit_lmfit, {"max_nfev": budget}),
            (f"ours anneal, max_nfev={budget}", fit_ours, {"max_nfev": budget}),
            (f"ours anneal schedule='gsa', max_nfev={budget}", fit_ours,
             {"schedule": "gsa", "max_nfev": budget}),
        ]
        rows = measure(configs, problem, seeds, target)
        print_rows(rows)
        theirs_default, ours_default, ours_gsa, theirs_budget, ours_budget, ours_gsa_budget = rows
        for ours, theirs in ((ours_default, theirs_default), (ours_gsa, theirs_default),
                             (ours_budget, theirs_budget), (ours_gsa_budget, theirs_budget)):
            faster = ours.seconds <= theirs.seconds
            as_good = ours.chisqr_median <= theirs.chisqr_median * (1.0 + 1e-6)
            verdicts.append(faster and as_good)
            print(f"    {ours.label} vs {theirs.label}: {theirs.seconds / ours.seconds:5.1f}x "
                  f"{'faster' if faster else 'SLOWER'}, chi2 "
                  f"{'as good or better' if as_good else 'WORSE'}")
        print()
    ok = all(verdicts)
    print("verdict:", "ours no slower and no worse in every comparison" if ok
          else "SOME COMPARISON LOST")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
