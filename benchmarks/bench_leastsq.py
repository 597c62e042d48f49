"""Speed of the leastsq engine against raw ``scipy.optimize.leastsq`` (and lmfit 1.3.4).

Each scenario fits the same data from the same start three ways, measured
in one run, interleaved, repeated: raw ``scipy.optimize.leastsq`` on a plain
vector residual (``full_output=1``, as a user wanting error bars calls it),
``lmfit_host.minimize(..., engine='leastsq')`` on the same residual written
over Parameters, and lmfit 1.3.4's ``minimize(..., method='leastsq')`` (a
benchmark-only dependency; skipped when not installed). All three use
``xtol=ftol=1e-7`` and the evaluation budget ``1000*(nvarys+1)`` (our
default, passed explicitly to the other two; no fit reaches it). A fourth
runner, ours with ``polish=False``, shows what the engine's accuracy polish
costs; in S4 another reads each fit's values from ``result.params``, as
lmfit 1.x code does. The raw residual does the same arithmetic as the
Parameters-based one. Each runner is timed over a batch of calls lasting about 20 ms, so a
sub-millisecond fit is not timed one cold call at a time. The ratio is time
per call / raw time per call, from the minimum over the rounds (the median
beside it). Time is this process's CPU time by default
(``--clock cpu``): the machine is shared, and wall time then measures the
neighbours as much as the code; ``--clock wall`` gives wall time. BLAS runs
single-threaded (``OPENBLAS_NUM_THREADS=1`` unless set) for the same reason.

- S1 the seed's damped sine, 4 parameters, 1001 points        (target <= 1.25x)
- S2 ten Gaussians, widths tied by expressions, amplitudes
     bounded, 2000 points                                     (target <= 1.3x)
- S3 a cheap linear residual, 20 free and 20 expression
     parameters                                                (target <= 3x)
- S4 2000 small independent fits (3-parameter Gaussian, 64
     points) in a loop                                         (target <= 2.5x)

Run::

    python benchmarks/bench_leastsq.py              # all, 15 repeats
    python benchmarks/bench_leastsq.py S1 S4 -r 31  # some, more repeats
    python benchmarks/bench_leastsq.py --profile S1 # cProfile of ours
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.optimize import leastsq  # noqa: E402

import lmfit_host  # noqa: E402

try:  # benchmark-only dependency
    import lmfit
except ImportError:  # pragma: no cover
    lmfit = None

TOLERANCES = {"xtol": 1e-7, "ftol": 1e-7}


def budget(nvarys: int) -> int:
    """The evaluation budget every runner gets: lmfit-host's default for leastsq."""
    return 1000 * (nvarys + 1)


@dataclass
class Scenario:
    """One benchmark: three runners doing the same fit(s), and the target ratio."""

    name: str
    title: str
    target: float
    raw: Callable[[], Any]
    ours: Callable[..., Any]            # ours(polish=True)
    other: Optional[Callable[[], Any]]
    check: Callable[[], str] = lambda: ""
    times: Dict[str, List[float]] = field(default_factory=dict)
    batch: int = 1                      # raw's calls per timed batch (see measure)
    extras: Dict[str, Callable[[], Any]] = field(default_factory=dict)  # more rows of ours


def _params_ours(spec: Dict[str, Dict[str, Any]]) -> "lmfit_host.Parameters":
    params = lmfit_host.Parameters()
    for name, kw in spec.items():
        params.add(name, **kw)
    return params


def _params_lmfit(spec: Dict[str, Dict[str, Any]]) -> Any:
    params = lmfit.Parameters()
    for name, kw in spec.items():
        params.add(name, **kw)
    return params


def _one_fit(name: str, title: str, target: float, residual: Callable[..., Any],
             raw_residual: Callable[..., Any], x0: np.ndarray, args: tuple,
             spec: Dict[str, Dict[str, Any]]) -> Scenario:
    """A scenario of one fit: raw scipy, ours and lmfit, each from the spec's start values."""
    maxfev = budget(x0.size)
    starts = {key: kw["value"] for key, kw in spec.items() if "value" in kw}
    ours_params = _params_ours(spec)
    other_params = _params_lmfit(spec) if lmfit else None

    def raw() -> Any:
        return leastsq(raw_residual, x0, args=args, full_output=1, maxfev=maxfev,
                       **TOLERANCES)

    def ours(polish: bool = True) -> Any:
        for key, value in starts.items():
            ours_params[key].value = value
        return lmfit_host.minimize(residual, ours_params, args=args, maxfev=maxfev,
                                   polish=polish, **TOLERANCES)

    def other() -> Any:
        for key, value in starts.items():
            other_params[key].value = value
        return lmfit.minimize(residual, other_params, args=args, method="leastsq",
                              max_nfev=maxfev, **TOLERANCES)

    def check() -> str:
        out = raw()
        result = ours()
        return (f"nfev raw {out[2]['nfev']} ours {result.nfev} ({result.polish_status}); "
                f"chisqr raw {np.sum(out[2]['fvec'] ** 2):.10g} ours {result.chisqr:.10g}")

    return Scenario(name, title, target, raw, ours, other if lmfit else None, check)


# -- S1: the seed's damped sine ------------------------------------------------------------

def damped_sine() -> Scenario:
    """S1: amp*sin(shift + x/period)*exp(-x*x*decay*decay), 4 free parameters, 1001 points."""
    rng = np.random.default_rng(2024)
    x = np.linspace(0.0, 250.0, 1001)
    amp, period, shift, decay = 14.0, 5.46, 0.123, 0.032
    data = amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay)
    data = data + rng.normal(scale=0.4, size=x.size)
    start = {"amp": 10.0, "period": 5.5, "shift": 0.0, "decay": 0.02}
    spec = {name: {"value": value} for name, value in start.items()}

    def residual(params: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        amp = params["amp"].value
        period = params["period"].value
        shift = params["shift"].value
        decay = params["decay"].value
        return amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay) - data

    def raw_residual(b: np.ndarray, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        amp, period, shift, decay = b
        return amp * np.sin(shift + x / period) * np.exp(-x * x * decay * decay) - data

    return _one_fit("S1", "damped sine, 4 params, 1001 points", 1.25, residual, raw_residual,
                    np.array(list(start.values())), (x, data), spec)


# -- S2: ten Gaussians, one shared width, bounded amplitudes ---------------------------------

def ten_gaussians() -> Scenario:
    """S2: 10 Gaussian peaks, amplitudes >= 0, every width tied to g0_sigma; 2000 points."""
    rng = np.random.default_rng(7)
    x = np.linspace(0.0, 100.0, 2000)
    centers = np.linspace(6.0, 94.0, 10)
    amps = 5.0 + 5.0 * rng.random(10)
    sigma = 1.7
    data = sum(a * np.exp(-((x - c) ** 2) / (2 * sigma**2)) for a, c in zip(amps, centers))
    data = data + rng.normal(scale=0.1, size=x.size)
    start_amps = amps * (1.0 + 0.2 * rng.standard_normal(10))
    start_cens = centers + 0.4 * rng.standard_normal(10)
    start_sigma = 2.0

    spec: Dict[str, Dict[str, Any]] = {}
    for i in range(10):
        spec[f"g{i}_amp"] = {"value": float(start_amps[i]), "min": 0.0}
        spec[f"g{i}_cen"] = {"value": float(start_cens[i])}
        spec[f"g{i}_sigma"] = {"value": start_sigma} if i == 0 else {"expr": "g0_sigma"}
    amp_names = [f"g{i}_amp" for i in range(10)]
    cen_names = [f"g{i}_cen" for i in range(10)]
    sig_names = [f"g{i}_sigma" for i in range(10)]

    def residual(params: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        model = np.zeros_like(x)
        for a, c, s in zip(amp_names, cen_names, sig_names):
            amp, cen, sig = params[a].value, params[c].value, params[s].value
            model += amp * np.exp(-((x - cen) ** 2) / (2.0 * sig * sig))
        return model - data

    def raw_residual(b: np.ndarray, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        model = np.zeros_like(x)
        sig = b[20]
        for i in range(10):
            model += b[i] * np.exp(-((x - b[10 + i]) ** 2) / (2.0 * sig * sig))
        return model - data

    x0 = np.concatenate([start_amps, start_cens, [start_sigma]])
    return _one_fit("S2", "10 Gaussians, tied widths, bounded amplitudes, 2000 points", 1.3,
                    residual, raw_residual, x0, (x, data), spec)


# -- S3: a cheap linear residual with 20 free and 20 expression parameters --------------------

def linear_with_expressions() -> Scenario:
    """S3: model = A a + B b on 100 points; a free (20), b_k = 0.5*a_k + 0.1 (20 expressions)."""
    rng = np.random.default_rng(11)
    npts, nfree = 100, 20
    basis_a = rng.standard_normal((npts, nfree))
    basis_b = rng.standard_normal((npts, nfree))
    a_true = rng.standard_normal(nfree)
    data = basis_a @ a_true + basis_b @ (0.5 * a_true + 0.1)
    data = data + 0.01 * rng.standard_normal(npts)
    a_names = [f"a{k}" for k in range(nfree)]
    b_names = [f"b{k}" for k in range(nfree)]
    spec: Dict[str, Dict[str, Any]] = {name: {"value": 0.0} for name in a_names}
    spec.update({b: {"expr": f"0.5*{a} + 0.1"} for a, b in zip(a_names, b_names)})

    def residual(params: Any, basis_a: np.ndarray, basis_b: np.ndarray,
                 data: np.ndarray) -> np.ndarray:
        # valuesdict(): the documented idiom for reading many parameters at once
        values = params.valuesdict()
        a = np.array([values[name] for name in a_names])
        b = np.array([values[name] for name in b_names])
        return basis_a @ a + basis_b @ b - data

    def raw_residual(a: np.ndarray, basis_a: np.ndarray, basis_b: np.ndarray,
                     data: np.ndarray) -> np.ndarray:
        return basis_a @ a + basis_b @ (0.5 * a + 0.1) - data

    return _one_fit("S3", "linear residual, 20 free + 20 expression params", 3.0, residual,
                    raw_residual, np.zeros(nfree), (basis_a, basis_b, data), spec)


# -- S4: many small fits in a loop ------------------------------------------------------------

def many_small_fits(count: int = 2000) -> Scenario:
    """S4: ``count`` independent 3-parameter Gaussian fits of 64 points each, in a loop."""
    rng = np.random.default_rng(3)
    x = np.linspace(-5.0, 5.0, 64)
    truths = np.column_stack([rng.uniform(2, 8, count), rng.uniform(-1, 1, count),
                              rng.uniform(0.6, 1.6, count)])
    datasets = [t[0] * np.exp(-((x - t[1]) ** 2) / (2 * t[2] ** 2))
                + rng.normal(scale=0.05, size=x.size) for t in truths]
    start = {"amp": 5.0, "cen": 0.0, "wid": 1.0}
    x0 = np.array(list(start.values()))
    maxfev = budget(x0.size)
    spec = {name: {"value": value} for name, value in start.items()}

    def residual(params: Any, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        amp = params["amp"].value
        cen = params["cen"].value
        wid = params["wid"].value
        return amp * np.exp(-((x - cen) ** 2) / (2.0 * wid * wid)) - data

    def raw_residual(b: np.ndarray, x: np.ndarray, data: np.ndarray) -> np.ndarray:
        amp, cen, wid = b
        return amp * np.exp(-((x - cen) ** 2) / (2.0 * wid * wid)) - data

    ours_params = _params_ours(spec)
    other_params = _params_lmfit(spec) if lmfit else None

    def raw() -> Any:
        for data in datasets:
            out = leastsq(raw_residual, x0, args=(x, data), full_output=1, maxfev=maxfev,
                          **TOLERANCES)
        return out

    def ours(polish: bool = True) -> Any:
        for data in datasets:
            for name, value in start.items():
                ours_params[name].value = value
            result = lmfit_host.minimize(residual, ours_params, args=(x, data), maxfev=maxfev,
                                         polish=polish, **TOLERANCES)
        return result

    def ours_reading_result_params() -> Any:
        # the lmfit 1.x idiom: each fit's values read from result.params
        found = []
        for data in datasets:
            for name, value in start.items():
                ours_params[name].value = value
            result = lmfit_host.minimize(residual, ours_params, args=(x, data), maxfev=maxfev,
                                         **TOLERANCES)
            found.append(result.params["amp"].value)
        return found

    def other() -> Any:
        for data in datasets:
            for name, value in start.items():
                other_params[name].value = value
            result = lmfit.minimize(residual, other_params, args=(x, data), method="leastsq",
                                    max_nfev=maxfev, **TOLERANCES)
        return result

    def check() -> str:
        nraw = nours = refined = 0
        for data in datasets[:200]:
            nraw += leastsq(raw_residual, x0, args=(x, data), full_output=1, maxfev=maxfev,
                            **TOLERANCES)[2]["nfev"]
            for name, value in start.items():
                ours_params[name].value = value
            result = lmfit_host.minimize(residual, ours_params, args=(x, data), maxfev=maxfev,
                                         **TOLERANCES)
            nours += result.nfev
            refined += result.polish_status != "passed"
        return (f"mean nfev over 200 fits: raw {nraw / 200:.1f} ours {nours / 200:.1f} "
                f"({refined} of 200 polished)")

    return Scenario("S4", f"{count} small fits (3-param Gaussian, 64 points)", 2.5, raw, ours,
                    other if lmfit else None, check,
                    extras={"+ result.params": ours_reading_result_params})


SCENARIOS: Dict[str, Callable[[], Scenario]] = {
    "S1": damped_sine,
    "S2": ten_gaussians,
    "S3": linear_with_expressions,
    "S4": many_small_fits,
}


#: Each runner is timed over a batch of calls lasting about this long (seconds) for
#: raw scipy, so that sub-millisecond fits are not measured one call at a time.
BATCH_SECONDS = 0.02


def measure(scenario: Scenario, repeat: int, clock: Callable[[], float]) -> None:
    """Time the runners interleaved, in a shuffled order each round.

    Each runner is timed over a batch of calls lasting about
    ``BATCH_SECONDS`` (its count fixed once, from one warm call): a single fit
    of a fraction of a millisecond, timed alone right after another runner
    has filled the caches, measures that cold start as much as the fit.
    Times are per call.
    """
    runners = {"raw": scenario.raw, "ours": scenario.ours,
               "ours_plain": lambda: scenario.ours(polish=False)}
    runners.update(scenario.extras)
    if scenario.other is not None:
        runners["lmfit"] = scenario.other
    batches = {}
    for key, runner in runners.items():  # warm caches, plugin loading, imports
        runner()
        started = clock()
        runner()
        batches[key] = max(1, int(round(BATCH_SECONDS / max(clock() - started, 1e-6))))
    scenario.batch = batches["raw"]
    scenario.times = {key: [] for key in runners}
    order = list(runners)
    for _ in range(repeat):
        random.shuffle(order)
        for key in order:
            runner, batch = runners[key], batches[key]
            started = clock()
            for _ in range(batch):
                runner()
            scenario.times[key].append((clock() - started) / batch)


def report(scenario: Scenario) -> str:
    """One block per scenario: times, ratios (min and median), the target."""
    times = scenario.times
    raw_min, raw_med = min(times["raw"]), statistics.median(times["raw"])
    ours_min, ours_med = min(times["ours"]), statistics.median(times["ours"])
    ratio = ours_min / raw_min
    verdict = "ok" if ratio <= scenario.target else "OVER TARGET"
    lines = [f"{scenario.name}  {scenario.title}"
             + (f" (per call; raw timed {scenario.batch} calls at a time)"
               if scenario.batch > 1 else ""),
             f"    raw scipy leastsq   {raw_min * 1e3:9.3f} ms (median {raw_med * 1e3:.3f})",
             f"    lmfit-host          {ours_min * 1e3:9.3f} ms (median {ours_med * 1e3:.3f})"
             f"   ratio {ratio:5.2f}x (median {ours_med / raw_med:.2f}x)"
             f"   target <= {scenario.target}x: {verdict}"]
    plain_min, plain_med = min(times["ours_plain"]), statistics.median(times["ours_plain"])
    lines.append(f"      polish=False      {plain_min * 1e3:9.3f} ms (median "
                 f"{plain_med * 1e3:.3f})   ratio {plain_min / raw_min:5.2f}x "
                 f"(median {plain_med / raw_med:.2f}x)")
    for label in scenario.extras:
        extra_min, extra_med = min(times[label]), statistics.median(times[label])
        lines.append(f"      {label:<18}{extra_min * 1e3:9.3f} ms (median "
                     f"{extra_med * 1e3:.3f})   ratio {extra_min / raw_min:5.2f}x "
                     f"(median {extra_med / raw_med:.2f}x)")
    if "lmfit" in times:
        other_min, other_med = min(times["lmfit"]), statistics.median(times["lmfit"])
        lines.append(f"    lmfit 1.3.4         {other_min * 1e3:9.3f} ms (median "
                     f"{other_med * 1e3:.3f})   ratio {other_min / raw_min:5.2f}x "
                     f"(median {other_med / raw_med:.2f}x)")
    lines.append(f"    {scenario.check()}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the chosen scenarios and print the ratios; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(SCENARIOS),
                        help="scenarios to run (S1 S2 S3 S4; default all)")
    parser.add_argument("-r", "--repeat", type=int, default=15,
                        help="rounds (default 15; S4, 2000 fits a round, a fifth of that)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="process CPU time (default) or wall time")
    parser.add_argument("--profile", action="store_true",
                        help="profile our runner instead of timing (cProfile, top 25)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"numpy {np.__version__}, lmfit-host {lmfit_host.__version__}, "
          f"lmfit {lmfit.__version__ if lmfit else 'not installed'}; {args.clock} time; ratios "
          f"are min time / raw min time over interleaved rounds")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for name in args.names:
        scenario = SCENARIOS[name.upper()]()
        if args.profile:
            scenario.ours()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(max(1, args.repeat)):
                scenario.ours()
            profiler.disable()
            print(f"== {scenario.name} ({args.repeat} runs)")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
            continue
        measure(scenario, max(3, args.repeat // 5) if scenario.name == "S4" else args.repeat,
                clock)
        print(report(scenario), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
