"""Benchmark: 40 constraint expressions updated per fit step, lmfit-host vs asteval 1.0.

lmfit re-evaluates each constrained parameter's parsed expression with
``asteval.Interpreter.run(ast_node)`` and stores the value back into the
symtable, one parameter at a time. lmfit-host compiles all constraints into
one code object (``Interpreter.compile_block``) and runs it with one exec.
Both sides get the same new varied values each step and must produce the
same constrained values.

Run: ``python benchmarks/bench_expr.py`` (asteval is a benchmark-only
dependency: ``pip install 'asteval==1.0.*'``).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Callable, Dict, List, Tuple

import asteval

from lmfit_host.expr import Interpreter

N_VARIED = 10
N_CONSTRAINTS = 40
TARGET_RATIO = 25.0

# Shapes of constraints as they appear in real fits: ratios, sums, shifted centers,
# widths from FWHM, amplitudes from areas, chained constraints.
_TEMPLATES = [
    "2*{a} + {b}",
    "{a} - 0.5*{b}",
    "sqrt({a}**2 + {b}**2)",
    "{a} * exp(-{b}/10)",
    "{a} / (1 + {b}**2)",
    "sin({a}) + cos({b})",
    "{a} + 2.3548200*{b}",
    "{a} if {a} > {b} else {b}",
    "log(1 + abs({a})) * {b}",
    "({a} + {b}) / 2",
]


def constraints() -> List[Tuple[str, str]]:
    """The 40 (name, expression) pairs; later ones also depend on earlier ones."""
    pairs = []
    for k in range(N_CONSTRAINTS):
        a = "p%d" % (k % N_VARIED)
        b = "c%d" % (k - 7) if k >= 7 and k % 3 == 0 else "p%d" % ((k + 3) % N_VARIED)
        pairs.append(("c%d" % k, _TEMPLATES[k % len(_TEMPLATES)].format(a=a, b=b)))
    return pairs


def varied_values(step: int) -> Dict[str, float]:
    """New values of the varied parameters for one step (all positive, all different)."""
    return {"p%d" % i: 1.0 + 0.1 * i + 1e-3 * (step % 97) for i in range(N_VARIED)}


def make_asteval() -> Callable[[Dict[str, float]], None]:
    """One step the way lmfit does it: per constrained parameter, run its parsed AST."""
    aeval = asteval.Interpreter()
    symtable = aeval.symtable
    parsed = [(name, aeval.parse(text)) for name, text in constraints()]
    run = aeval.run

    def step(values: Dict[str, float]) -> None:
        symtable.update(values)
        for name, node in parsed:
            symtable[name] = run(node)

    step.symtable = symtable  # type: ignore[attr-defined]
    return step


def make_lmfit_host() -> Callable[[Dict[str, float]], None]:
    """One step the lmfit-host way: one compiled block for all constraints."""
    interp = Interpreter()
    symtable = interp.symtable
    block = interp.compile_block([(name, interp.compile_expression(text, owner=name))
                                  for name, text in constraints()])

    def step(values: Dict[str, float]) -> None:
        symtable.update(values)
        block()

    step.symtable = symtable  # type: ignore[attr-defined]
    return step


def seconds_per_step(step: Callable[[Dict[str, float]], None], min_time: float = 1.0) -> float:
    """Best-of-5 mean time of one step, each repeat lasting about ``min_time / 5`` seconds."""
    values = [varied_values(k) for k in range(97)]
    step(values[0])
    count = 1
    while True:  # calibrate the number of steps per repeat
        start = time.perf_counter()
        for k in range(count):
            step(values[k % 97])
        elapsed = time.perf_counter() - start
        if elapsed > min_time / 5:
            break
        count *= 2
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        for k in range(count):
            step(values[k % 97])
        best = min(best, (time.perf_counter() - start) / count)
    return best


def main() -> int:
    """Check both evaluators agree, time them, print the ratio; exit 1 below the target."""
    ours, theirs = make_lmfit_host(), make_asteval()
    for k in (0, 5, 50):
        ours(varied_values(k))
        theirs(varied_values(k))
        for name, _ in constraints():
            a, b = ours.symtable[name], theirs.symtable[name]  # type: ignore[attr-defined]
            if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
                print("mismatch for %s: lmfit-host %r, asteval %r" % (name, a, b))
                return 1
    t_asteval = seconds_per_step(theirs)
    t_ours = seconds_per_step(ours)
    ratio = t_asteval / t_ours
    print("%d constraints per update, Python %s, asteval %s"
          % (N_CONSTRAINTS, sys.version.split()[0], asteval.__version__))
    print("  asteval 1.0 (lmfit's way, run(ast) per parameter): %8.2f us per update"
          % (t_asteval * 1e6))
    print("  lmfit-host compile_block (one exec):               %8.2f us per update"
          % (t_ours * 1e6))
    print("  ratio: %.1fx faster (target >= %.0fx)" % (ratio, TARGET_RATIO))
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
