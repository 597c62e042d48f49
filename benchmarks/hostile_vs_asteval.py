"""Run the hostile input set of tests/test_expr_hostile.py through lmfit-host and asteval 1.0.

Each input runs in its own subprocess, in an empty temporary directory,
with a 2 GiB address-space cap and a 5 s timeout, so that an evaluator that
lets an input through cannot harm the machine. An input counts as refused
when the evaluator reports an error within one second (imports and set-up not
counted), creates no file and the process survives; anything else counts as
let through.

Run: ``python benchmarks/hostile_vs_asteval.py`` (a few minutes;
asteval is a benchmark-only dependency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5.0
ADDRESS_SPACE = 2 * 2 ** 30

_CHILD = r"""
import json, os, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (%(limit)d, %(limit)d))
which, text = sys.argv[1], sys.stdin.read()
names = {"x": 1.5, "data": [1.0, 2.0]}
if which == "asteval":
    import asteval
    import io
    interp = asteval.Interpreter(user_symbols=names, writer=io.StringIO(), err_writer=io.StringIO())
    start = time.perf_counter()
    try:
        interp(text, show_errors=False)
        refused = bool(interp.error)
    except BaseException:
        refused = True
else:
    from lmfit_host.expr import Interpreter
    interp = Interpreter(names)
    start = time.perf_counter()
    try:
        interp(text)
        refused = False
    except BaseException:
        refused = True
elapsed = time.perf_counter() - start
print(json.dumps({"refused": refused, "seconds": elapsed, "files": os.listdir(".")}))
"""


def run_case(which: str, text: str) -> Tuple[bool, str]:
    """(refused?, why not) for one input under one evaluator."""
    code = _CHILD % {"limit": ADDRESS_SPACE}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            done = subprocess.run([sys.executable, "-c", code, which], input=text, text=True,
                                  capture_output=True, cwd=workdir, timeout=TIMEOUT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        except subprocess.TimeoutExpired:
            return False, "still running after %g s" % TIMEOUT
        if done.returncode != 0 or not done.stdout.strip():
            return False, "process died (exit code %d)" % done.returncode
        outcome: Dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        if outcome["files"]:
            return False, "created %s" % outcome["files"]
        if not outcome["refused"]:
            return False, "ran without an error"
        if float(outcome["seconds"]) >= 1.0:  # type: ignore[arg-type]
            return False, "refused only after %.1f s" % outcome["seconds"]
        return True, ""


def main() -> int:
    """Run every hostile input through both evaluators and print what each let through."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_expr_hostile import ESCAPES, EXHAUSTION

    cases: List[Tuple[str, str]] = [(case[0], case[1]) for case in ESCAPES + EXHAUSTION]
    through: Dict[str, List[str]] = {"lmfit-host": [], "asteval": []}
    for name, text in cases:
        for which, label in (("lmfit-host", "lmfit-host"), ("asteval", "asteval")):
            refused, why = run_case(which, text)
            if not refused:
                through[label].append("%s: %s" % (name, why))
    for label, items in through.items():
        print("%s let through %d of %d hostile inputs" % (label, len(items), len(cases)))
        for item in items:
            print("    " + item)
    return 0 if not through["lmfit-host"] else 1


if __name__ == "__main__":
    sys.exit(main())
