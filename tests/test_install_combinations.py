"""Install combinations: the core with any subset of the engine distributions works on its own.

Each distribution (the core at the repository root, each engine under
``plugins/``) is built into a wheel once per test session. Every combination
gets a fresh virtual environment holding only those wheels; numpy, scipy and
pluggy come from the environment running the tests, linked in through a
``.pth`` file (no download, and none of this environment's lmfit-host
distributions leak in). In each environment a subprocess runs a small fit
with every installed engine, ``lmfit-host plugins --json`` must list exactly
the installed engines, and asking for an engine that is not installed must
name the installed ones and the distribution to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest

if sys.version_info >= (3, 10):
    from importlib import metadata as importlib_metadata
else:  # pragma: no cover - Python 3.9
    import importlib_metadata

REPO = Path(__file__).resolve().parent.parent
ENGINES = {"leastsq": "lmfit-host-leastsq", "lbfgsb": "lmfit-host-lbfgsb", "anneal": "lmfit-host-anneal"}
PRESENT = [name for name in ENGINES if (REPO / "plugins" / name / "pyproject.toml").exists()]
# third-party distributions the core and engines import; linked in from this environment
RUNTIME_DEPENDENCIES = ("numpy", "scipy", "pluggy", "threadpoolctl", "importlib-metadata", "zipp")
SOURCE_JUNK = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", "tests", ".*")


def _combinations() -> List[Tuple[str, ...]]:
    wanted = [("leastsq",), ("lbfgsb",), tuple(PRESENT)]
    seen, result = set(), []
    for combination in wanted:
        if combination and all(name in PRESENT for name in combination) and combination not in seen:
            seen.add(combination)
            result.append(combination)
    return result


def _clean_environment() -> Dict[str, str]:
    """The environment for subprocesses: nothing that reaches back into this one."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "LMFIT_HOST_", "PIP_", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(command: Sequence[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=str(cwd), env=_clean_environment(),
                          capture_output=True, text=True, timeout=timeout)


def _copy_source(name: str, destination: Path) -> Path:
    """Copy one distribution's sources, so builds leave nothing in the repository."""
    if name == "core":
        target = destination / "core"
        target.mkdir()
        for item in REPO.iterdir():
            if item.is_file() and item.suffix in ("", ".toml", ".md", ".txt", ".cfg", ".in") \
                    and not item.name.startswith("."):
                shutil.copy2(item, target / item.name)
        shutil.copytree(REPO / "lmfit_host", target / "lmfit_host", ignore=SOURCE_JUNK)
        return target
    target = destination / name
    shutil.copytree(REPO / "plugins" / name, target, ignore=SOURCE_JUNK)
    return target


def _build_wheel(source: Path, wheel_dir: Path) -> None:
    """pip wheel without build isolation when setuptools can, else with it (may download setuptools)."""
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheel_dir]
    first = _run(base + ["--no-build-isolation", source], cwd=source)
    if first.returncode == 0:
        return
    second = _run(base + [source], cwd=source)
    if second.returncode != 0:
        pytest.skip(f"cannot build a wheel of {source.name} here:\n{first.stderr[-800:]}\n"
                    f"{second.stderr[-800:]}")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Dict[str, Path]:
    """One wheel per distribution (core and each engine present), built once per session."""
    sources_dir = tmp_path_factory.mktemp("sources")
    wheel_dir = tmp_path_factory.mktemp("wheels")
    names = ["core"] + PRESENT
    sources = [_copy_source(name, sources_dir) for name in names]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda source: _build_wheel(source, wheel_dir), sources))
    found: Dict[str, Path] = {}
    for name in names:
        stem = "lmfit_host-" if name == "core" else f"lmfit_host_{name}-"
        matches = sorted(wheel_dir.glob(f"{stem}*.whl"))
        assert matches, f"no wheel of {name} in {sorted(p.name for p in wheel_dir.iterdir())}"
        found[name] = matches[-1]
    return found


@pytest.fixture(scope="module")
def dependencies(tmp_path_factory) -> Path:
    """A folder of links to this environment's numpy, scipy, pluggy (and their metadata)."""
    folder = tmp_path_factory.mktemp("dependencies")
    for name in RUNTIME_DEPENDENCIES:
        try:
            distribution = importlib_metadata.distribution(name)
        except importlib_metadata.PackageNotFoundError:
            continue
        base = Path(str(distribution.locate_file("")))
        tops = {Path(str(entry)).parts[0] for entry in distribution.files or ()}
        for top in sorted(tops - {"..", "__pycache__"}):
            source = base / top
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source, target_is_directory=source.is_dir())
    return folder


def _site_packages(venv: Path) -> Path:
    scheme = "nt" if os.name == "nt" else "posix_prefix"
    return Path(sysconfig.get_path("purelib", scheme, vars={"base": str(venv), "platbase": str(venv)}))


def _bin(venv: Path, program: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / program


def _make_environment(root: Path, wheel_files: Sequence[Path], dependencies: Path) -> Path:
    venv = root / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    assert created.returncode == 0, created.stderr
    site = _site_packages(venv)
    site.mkdir(parents=True, exist_ok=True)
    (site / "_lmfit_host_test_dependencies.pth").write_text(str(dependencies) + "\n")
    python = _bin(venv, "python")
    # this environment's pip installs into the new one (pip >= 22.3 knows --python)
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                      "--no-index", "--quiet", *wheel_files], cwd=root)
    if installed.returncode != 0:  # an older pip: give the new environment a pip of its own
        ensured = _run([python, "-m", "ensurepip", "--default-pip"], cwd=root)
        assert ensured.returncode == 0, ensured.stderr
        installed = _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                          *wheel_files], cwd=root)
    assert installed.returncode == 0, installed.stderr
    return venv


FIT_SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import lmfit_host
    from lmfit_host import EngineNotFoundError, Minimizer, Parameters, minimize

    x = np.linspace(0.0, 10.0, 101)
    data = 3.0 * np.exp(-x / 2.5) + 0.01 * np.cos(7 * x)

    def residual(params, x, data):
        return params["amp"].value * np.exp(-x / params["tau"].value) - data

    report = {"fits": {}, "missing": {}, "origin": lmfit_host.__file__}
    for engine in json.loads(sys.argv[1]):
        params = Parameters()
        params.add("amp", value=1.0, min=0.0, max=10.0)
        params.add("tau", value=1.0, min=0.1, max=10.0)
        options = {"seed": 1} if engine == "anneal" else {}
        result = getattr(Minimizer(residual, params, fcn_args=(x, data)), engine)(**options)
        report["fits"][engine] = [result.success, params["amp"].value, params["tau"].value,
                                  result.engine, bool(result.errorbars)]
    for engine in json.loads(sys.argv[2]):
        try:
            minimize(residual, Parameters(), args=(x, data), engine=engine)
        except EngineNotFoundError as error:
            report["missing"][engine] = str(error)
    print(json.dumps(report))
''')


@pytest.mark.parametrize("combination", _combinations(), ids="+".join)
def test_core_with_these_engines_only(combination, wheels, dependencies, tmp_path):
    venv = _make_environment(tmp_path, [wheels["core"]] + [wheels[name] for name in combination],
                             dependencies)
    missing = sorted(set(ENGINES) - set(combination))

    listed = _run([_bin(venv, "lmfit-host"), "plugins", "--json"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    engines = sorted(engine for plugin in json.loads(listed.stdout) for engine in plugin["engines"])
    assert engines == sorted(combination)

    ran = _run([_bin(venv, "python"), "-c", FIT_SCRIPT, json.dumps(list(combination)),
                json.dumps(missing)], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    # the core that ran is the wheel installed in the new environment
    assert Path(report["origin"]).resolve().is_relative_to(venv.resolve())
    for engine in combination:
        success, amp, tau, used, errorbars = report["fits"][engine]
        assert success and used == engine and errorbars, report["fits"][engine]
        assert abs(amp - 3.0) < 0.01 and abs(tau - 2.5) < 0.01
    for engine in missing:
        message = report["missing"][engine]
        assert ENGINES[engine] in message  # the distribution to install
        for installed in combination:
            assert installed in message  # the engines that are there
