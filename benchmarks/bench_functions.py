"""Benchmark: a constraint calling a function-pack function vs the same call as a plain Python function.

A function pack's names sit in the expression namespace as the plain
function objects the pack registered, so a constraint that calls one should
cost exactly what it costs to call a function the user put in the symtable
himself. This measures the fit's hot path (``Parameters._set_values_fast``:
new varied values, then every constraint recomputed by the compiled block)
for constraints calling, in turn:

``pack``
    the pack's function under its pack name (``erf``, ``fwhm_voigt``, ``voigt``);
``same object``
    the very same function object, put in the symtable by the user under
    another name: the difference to ``pack`` is the host's overhead, if any;
``plain python``
    a plain Python function doing the same job on floats, the way a user
    would write it for constraints (``math.erf``, the formula, ``wofz`` from SciPy);
``scipy ufunc``
    the SciPy ufunc itself in the symtable, as lmfit 1.x provides ``erf`` and ``wofz``.

Each variant runs in the same process, interleaved round by round in a
shuffled order, timed in thread CPU time, and the best round counts (so a
shared, busy machine disturbs the comparison as little as possible); and the ratios against ``pack`` are printed. The claim
checked: ``pack`` costs no more than ``same object`` (ratio within noise of 1)
and no more than ``plain python``; the run exits non-zero if a pack function
costs more than ``TOLERANCE`` times the best plain alternative.

Run: ``python benchmarks/bench_functions.py`` (needs lmfit-host-specfun installed).
"""

from __future__ import annotations

import math
import random
import sys
import time
from typing import Callable, Dict, Tuple

import scipy.special

from lmfit_host import Parameters

try:
    import lmfit_host_specfun as specfun
except ImportError:  # pragma: no cover - the benchmark needs the pack
    sys.exit("install the pack first: pip install -e plugins/specfun")

N_VARIED = 5
N_CONSTRAINTS = 10
ROUNDS = 40
CALLS_PER_ROUND = 500
#: A pack call may cost at most this much more than the plain alternatives (timer noise).
TOLERANCE = 1.10

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_GAUSS_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def plain_erf(x):
    """erf as a user writes it for constraints."""
    return math.erf(x)


def plain_fwhm_voigt(sigma, gamma):
    """Olivero-Longbothum FWHM written out by hand."""
    fl = 2.0 * gamma
    fg = _GAUSS_FWHM * sigma
    return 0.5346 * fl + math.sqrt(0.2166 * fl * fl + fg * fg)


_scalar_wofz = scipy.special.wofz


def plain_voigt(x, amplitude, center, sigma, gamma):
    """The Voigt profile written by hand on top of SciPy's wofz."""
    z = complex(x - center, gamma) / (sigma * math.sqrt(2.0))
    return amplitude * _scalar_wofz(z).real / (sigma * _SQRT_2PI)


# function name in the pack -> (expression template taking {f}, plain python, scipy-ufunc version)
CASES: Dict[str, Tuple[str, Callable, object]] = {
    "erf": ("{f}(p{a} / (p{b} + 1.0))", plain_erf, scipy.special.erf),
    "fwhm_voigt": ("{f}(p{a}, p{b})", plain_fwhm_voigt, None),
    "voigt": ("{f}(0.1 * {k}, p{a}, 0.5, p{b}, p{a} * 0.3)", plain_voigt, None),
}


def make_params(template: str, function_name: str, function: Callable) -> Parameters:
    """Parameters with N_VARIED varied values and N_CONSTRAINTS constraints calling the function."""
    params = Parameters()
    for i in range(N_VARIED):
        params.add("p%d" % i, value=0.5 + 0.1 * i)
    if params.interpreter.symtable.get(function_name) is not function:
        params.interpreter.symtable[function_name] = function
    for k in range(N_CONSTRAINTS):
        text = template.format(f=function_name, a=k % N_VARIED, b=(k + 2) % N_VARIED, k=k)
        params.add("c%d" % k, expr=text)
    params.update_constraints()
    return params


def time_updates(params: Parameters) -> float:
    """Seconds per hot-path update (new varied values + all constraints) for one round."""
    names = ["p%d" % i for i in range(N_VARIED)]
    rows = [[0.5 + 0.1 * i + 1e-4 * (step % 89) for i in range(N_VARIED)]
            for step in range(CALLS_PER_ROUND)]
    update = params._set_values_fast
    # CPU time of this thread: time spent descheduled on a busy machine does not count
    start = time.thread_time()
    for row in rows:
        update(names, row)
    return (time.thread_time() - start) / CALLS_PER_ROUND


def time_baseline() -> float:
    """Per-update cost of constraints that call nothing (p_a / (p_b + 1)): the block's own work."""
    params = Parameters()
    for i in range(N_VARIED):
        params.add("p%d" % i, value=0.5 + 0.1 * i)
    for k in range(N_CONSTRAINTS):
        params.add("c%d" % k, expr="p%d / (p%d + 1.0)" % (k % N_VARIED, (k + 2) % N_VARIED))
    return min(time_updates(params) for _ in range(ROUNDS))


def run_case(name: str) -> Tuple[Dict[str, float], bool]:
    template, plain, ufunc = CASES[name]
    pack_function = specfun.FUNCTIONS[name]
    variants = {
        "pack": make_params(template, name, pack_function),
        "same object": make_params(template, "user_" + name, pack_function),
        "plain python": make_params(template, "user_" + name, plain),
    }
    if ufunc is not None:
        variants["scipy ufunc"] = make_params(template, "user_" + name, ufunc)
    # same values from every variant, or the comparison means nothing
    reference = variants["pack"].valuesdict()
    for label, params in variants.items():
        for key, value in params.valuesdict().items():
            assert math.isclose(value, reference[key], rel_tol=1e-12), (name, label, key)
    best = {label: math.inf for label in variants}
    order = list(variants)
    shuffle = random.Random(5).shuffle
    for _ in range(ROUNDS):  # interleaved in a new order each round: load hits all alike
        shuffle(order)
        for label in order:
            best[label] = min(best[label], time_updates(variants[label]))
    plain_best = min(best["same object"], best["plain python"])
    return best, best["pack"] <= TOLERANCE * plain_best


def main() -> int:
    baseline = time_baseline()
    print("constraint hot path: %d varied parameters, %d constraints, best of %d rounds of %d "
          "updates" % (N_VARIED, N_CONSTRAINTS, ROUNDS, CALLS_PER_ROUND))
    print("block without calls (p_a / (p_b + 1)): %.2f us per update" % (baseline * 1e6))
    print()
    print("%-12s %-14s %12s %14s %10s" % ("function", "variant", "us/update", "ns/call",
                                          "vs pack"))
    all_ok = True
    for name in CASES:
        best, ok = run_case(name)
        all_ok &= ok
        for label, seconds in best.items():
            per_call = (seconds - baseline) / N_CONSTRAINTS
            print("%-12s %-14s %12.2f %14.0f %10.2f" % (
                name, label, seconds * 1e6, per_call * 1e9, seconds / best["pack"]))
        print("%-12s pack / same object = %.3f, pack / plain python = %.3f -> %s" % (
            "", best["pack"] / best["same object"], best["pack"] / best["plain python"],
            "ok" if ok else "SLOWER"))
        print()
    print("ns/call = (update time - block without calls) / constraints: the cost of one call")
    print("result: pack functions cost %s the same call as a plain Python function (tolerance %.2f)"
          % ("no more than" if all_ok else "MORE than", TOLERANCE))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
