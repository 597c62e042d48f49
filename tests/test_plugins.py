"""Plugin discovery: entry points, selection, broken plugins, clashes, in-process registration."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import lmfit_host
from lmfit_host import EngineNotFoundError, EngineResult, Parameters, hookimpl, minimize, plugins
from lmfit_host.plugins import PluginWarning, _parse_selection

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "lmfit-host-neldermead"


class _Engine:
    description = "test engine: returns the start point"

    def __init__(self, name):
        self.name = name

    def run(self, problem, **options):
        return EngineResult(x=problem.x0, success=True, message="start point")


class _EnginePlugin:
    def __init__(self, *engine_names):
        self.engine_names = engine_names

    @hookimpl
    def lmfit_host_register_engines(self, register):
        for name in self.engine_names:
            register(_Engine(name))


class _BrokenHookPlugin:
    @hookimpl
    def lmfit_host_register_engines(self, register):
        raise RuntimeError("boom in hook")


@pytest.fixture
def registered():
    """Register plugins in-process for one test, then remove them."""
    names = []

    def add(plugin, name):
        names.append(lmfit_host.register_plugin(plugin, name=name))

    yield add
    for name in names:
        lmfit_host.unregister_plugin(name)


def _line_params():
    params = Parameters()
    params.add("slope", value=1.0)
    return params


def _line_residual(params):
    return params["slope"].value * np.arange(5.0) - np.arange(5.0)


def test_selection_variable_parsing():
    assert _parse_selection(None) == (None, set())
    assert _parse_selection("a, b") == ({"a", "b"}, set())
    assert _parse_selection("-anneal") == (None, {"anneal"})
    # empty or blank: as if unset (LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD=1 is the way to load none)
    assert _parse_selection("") == (None, set())
    assert _parse_selection(" , ") == (None, set())


def test_registered_engine_is_used_by_name(registered):
    registered(_EnginePlugin("startpoint"), "start-plugin")
    result = minimize(_line_residual, _line_params(), engine="startpoint")
    assert result.engine == "startpoint"
    assert result.params["slope"].value == 1.0


def test_registered_engine_becomes_a_minimizer_method(registered):
    registered(_EnginePlugin("startpoint2"), "start-plugin-2")
    mini = lmfit_host.Minimizer(_line_residual, _line_params())
    assert mini.startpoint2().engine == "startpoint2"


def test_missing_engine_names_installed_ones_and_distribution():
    with pytest.raises(EngineNotFoundError) as info:
        minimize(_line_residual, _line_params(), engine="anneal_not_here")
    assert "installed engines" in str(info.value)
    with pytest.raises(EngineNotFoundError, match="pip install lmfit-host-lbfgsb"):
        plugins.KNOWN_ENGINES["ghost"] = "lmfit-host-lbfgsb"
        try:
            plugins.get_engine("ghost")
        finally:
            del plugins.KNOWN_ENGINES["ghost"]


def test_engine_names_ignore_case_dash_and_underscore(registered):
    registered(_EnginePlugin("start_point"), "loose-plugin")
    for spelling in ("start_point", "Start_Point", "START-POINT", "startpoint", "Start-Point"):
        assert plugins.resolve_engine_name(spelling) == "start_point"
    result = minimize(_line_residual, _line_params(), method="Start-Point")
    assert result.params["slope"].value == 1.0


def test_lmfit_spellings_find_the_installed_engines():
    pytest.importorskip("lmfit_host_leastsq")
    pytest.importorskip("lmfit_host_lbfgsb")
    assert plugins.resolve_engine_name("Leastsq") == "leastsq"
    assert plugins.resolve_engine_name("L-BFGS-B") == "lbfgsb"
    result = minimize(_line_residual, _line_params(), method="Leastsq")
    assert result.success and result.engine_distribution == "lmfit-host-leastsq"
    assert result.params["slope"].value == pytest.approx(1.0)
    result = minimize(_line_residual, _line_params(), method="L-BFGS-B")
    assert result.success and result.engine_distribution == "lmfit-host-lbfgsb"


def test_exact_engine_name_wins_and_a_loose_name_matching_two_is_ambiguous(registered):
    registered(_EnginePlugin("twofit", "TwoFit"), "two-spellings")
    assert plugins.resolve_engine_name("twofit") == "twofit"
    assert plugins.resolve_engine_name("TwoFit") == "TwoFit"
    with pytest.raises(EngineNotFoundError, match="'TWO_FIT' is ambiguous.*TwoFit, twofit"):
        plugins.resolve_engine_name("TWO_FIT")


def test_unknown_lmfit_method_names_installed_and_closest_engines_without_install_advice():
    pytest.importorskip("lmfit_host_leastsq")
    for method in ("least_squares", "nelder", "powell", "Nelder-Mead"):
        with pytest.raises(EngineNotFoundError) as info:
            minimize(_line_residual, _line_params(), method=method)
        message = str(info.value)
        assert f"no fitting engine named {method!r}" in message
        assert "installed engines: " in message and "leastsq" in message
        assert "method of lmfit 1.x" in message
        assert "install" not in message.replace("installed", "")
    with pytest.raises(EngineNotFoundError, match="closest: leastsq"):
        plugins.resolve_engine_name("least_squares")


def test_misspelled_engine_names_the_closest_and_no_distribution(registered):
    registered(_EnginePlugin("gradient_walk"), "walk-plugin")
    with pytest.raises(EngineNotFoundError) as info:
        plugins.resolve_engine_name("gradientwalks")
    message = str(info.value)
    assert "closest: gradient_walk" in message and "check the spelling" in message
    assert "pip install" not in message


def test_known_engine_in_another_spelling_names_its_distribution():
    plugins.KNOWN_ENGINES["ghost_engine"] = "lmfit-host-ghost"
    try:
        with pytest.raises(EngineNotFoundError,
                           match="it is the engine 'ghost_engine': install it with: "
                                 "pip install lmfit-host-ghost"):
            plugins.resolve_engine_name("Ghost-Engine")
    finally:
        del plugins.KNOWN_ENGINES["ghost_engine"]


def test_engine_name_that_is_not_a_string_is_an_error():
    with pytest.raises(EngineNotFoundError, match="engine name is a string.*got int 3"):
        plugins.get_engine(3)


def test_engine_name_clash_is_reported_naming_both(registered):
    registered(_EnginePlugin("twin"), "first-twin")
    with pytest.warns(PluginWarning, match="'twin' clashes with plugin 'first-twin'"):
        registered(_EnginePlugin("twin"), "second-twin")
        plugins.engine_names()
    record = {r.name: r for r in plugins.list_plugins()}["second-twin"]
    assert record.status == "failed"  # its only engine clashed: it provides nothing
    assert any("first-twin" in problem for problem in record.problems)
    registered(_EnginePlugin("twin", "single"), "third-twin")
    with pytest.warns(PluginWarning, match="'twin' clashes"):
        record = {r.name: r for r in plugins.list_plugins()}["third-twin"]
    assert record.status == "partly failed" and record.engines == ["single"]


def test_hook_that_raises_is_reported_and_others_keep_working(registered):
    registered(_EnginePlugin("healthy"), "healthy-plugin")
    with pytest.warns(PluginWarning, match="boom in hook"):
        registered(_BrokenHookPlugin(), "broken-plugin")
        names = plugins.engine_names()
    assert "healthy" in names
    assert {r.name: r for r in plugins.list_plugins()}["broken-plugin"].status == "failed"


def test_duplicate_in_process_name_is_an_error(registered):
    registered(_EnginePlugin("dup"), "dup-plugin")
    with pytest.raises(lmfit_host.PluginError, match="already registered"):
        lmfit_host.register_plugin(_EnginePlugin("dup2"), name="dup-plugin")


def test_core_math_pack_is_listed_as_a_plugin():
    records = {r.name: r for r in plugins.list_plugins()}
    assert records["math"].distribution == "lmfit-host"
    assert "sin" in records["math"].functions


def _run(code, env_extra=None, path=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    if path:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_autoload_can_be_disabled():
    out = _run("from lmfit_host import plugins; print(plugins.engine_names())",
               {"LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_plugins_can_be_blocked_by_name():
    out = _run("from lmfit_host import plugins; print(plugins.engine_names())",
               {"LMFIT_HOST_PLUGINS": "-leastsq"})
    assert out.returncode == 0, out.stderr
    assert "leastsq" not in out.stdout


def _fake_distribution(folder, name, version, entry_point):
    """An installed distribution's metadata in ``folder`` (put on the path): its name,
    version and one entry point of the lmfit_host group."""
    dist = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist / "entry_points.txt").write_text(f"[lmfit_host]\n{entry_point}\n")


def test_plugin_failing_to_import_is_reported_and_others_work(tmp_path):
    _fake_distribution(tmp_path, "lmfit-host-broken", "1.0", "broken = lmfit_host_broken_missing")
    code = ("import warnings, json; warnings.simplefilter('always');\n"
            "from lmfit_host import plugins\n"
            "names = plugins.engine_names()\n"
            "rec = {r.name: r.as_dict() for r in plugins.list_plugins()}\n"
            "print(json.dumps([names, rec['broken']]))")
    out = _run(code, path=tmp_path)
    assert out.returncode == 0, out.stderr
    names, record = json.loads(out.stdout)
    assert "leastsq" in names
    assert record["status"] == "failed" and "failed to import" in record["problems"][0]
    assert "broken" in out.stderr and "lmfit-host-broken" in out.stderr


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """The docs' example engine distribution, built and installed into a target folder."""
    work = tmp_path_factory.mktemp("neldermead")
    source = work / "src"
    shutil.copytree(EXAMPLE, source)
    target = work / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-build-isolation", "--target", str(target), str(source)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return target


def test_installed_third_party_engine_fits_by_name(installed_example):
    code = """
import numpy as np
from lmfit_host import Parameters, minimize, Minimizer
x = np.linspace(0, 5, 50); y = 3.0 * np.exp(-x / 1.5)
p = Parameters(); p.add('amp', value=1.0); p.add('tau', value=1.0, min=0.1)
res = lambda p: p['amp'].value * np.exp(-x / p['tau'].value) - y
r1 = minimize(res, p, engine='neldermead', xatol=1e-10, fatol=1e-14, maxiter=4000)
r2 = Minimizer(res, p).neldermead(xatol=1e-10, fatol=1e-14, maxiter=4000)
print(r1.engine, r1.engine_version, round(p['tau'].value, 4), r2.engine, r1.errorbars, r1.nit > 0)
"""
    out = _run(code, path=installed_example)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["neldermead", "0.3.1", "1.5", "neldermead", "True", "True"]


def test_plugins_command_lists_third_party_engine_with_version(installed_example):
    out = _run("import sys; from lmfit_host.cli import main; sys.exit(main(['plugins', '--json']))",
               path=installed_example)
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    records = listing if isinstance(listing, list) else listing["plugins"]
    record = next(r for r in records if r["name"] == "neldermead")
    assert record["distribution"] == "lmfit-host-neldermead"
    assert record["version"] == "0.3.1"
    assert record["engines"] == ["neldermead"]
    assert record["status"] == "ok"


def test_renamed_pack_function_gets_a_hint_to_its_real_name():
    params = Parameters()
    params.add("a", value=2.0)
    params.add("b", expr="gamma(a)")
    with pytest.raises(lmfit_host.UnknownNameError, match="called gamma_fn"):
        params["b"].value


def test_selecting_a_plugin_name_that_does_not_exist_warns():
    out = _run("import warnings; warnings.simplefilter('always')\n"
               "from lmfit_host import plugins; print(plugins.engine_names())",
               {"LMFIT_HOST_PLUGINS": "leastsq,lestsq"})
    assert out.returncode == 0, out.stderr
    assert "'lestsq'" in out.stderr and "leastsq" in out.stdout


class _MisbehavingEngine:
    """An engine that returns what a careless third party might."""

    description = "test engine: misbehaves as told"

    def __init__(self, name, mode):
        self.name, self.mode = name, mode

    def run(self, problem, **options):
        if self.mode == "none":
            return None
        if self.mode == "short":
            return EngineResult(x=problem.x0[:1], success=True, message="short")
        if self.mode == "nan":
            return EngineResult(x=np.full(problem.nvarys, np.nan), success=True, message="nan")
        # "swallow": evaluate until the host says stop, ignore it, claim success
        x = problem.x0.copy()
        for step in range(200):
            try:
                problem.residual(x * (1.0 + 0.01 * step))
            except lmfit_host.FitAborted:
                break
        return EngineResult(x=problem.x0, success=True, message="swallowed")


class _MisbehavingPlugin:
    def __init__(self, mode):
        self.mode = mode

    @hookimpl
    def lmfit_host_register_engines(self, register):
        register(_MisbehavingEngine(f"bad_{self.mode}", self.mode))


@pytest.mark.parametrize("mode, said", [("none", "returned NoneType, not an EngineResult"),
                                        ("short", "returned a point of 1 value.* for 2 varied"),
                                        ("nan", "returned a point that is not finite \\(a, b\\)")])
def test_what_an_engine_returns_is_checked_and_the_parameters_are_kept(registered, mode, said):
    registered(_MisbehavingPlugin(mode), f"misbehaving-{mode}")
    params = Parameters()
    params.add("a", value=1.0)
    params.add("b", value=2.0)
    with pytest.raises(lmfit_host.FitError, match=f"engine 'bad_{mode}' {said}"):
        minimize(lambda p: np.array([p["a"].value - 3.0, p["b"].value, 1.0]), params,
                 engine=f"bad_{mode}")
    assert params.valuesdict() == {"a": 1.0, "b": 2.0}


def test_an_engine_that_swallows_the_hosts_stop_still_ends_aborted_at_the_best_point(registered):
    registered(_MisbehavingPlugin("swallow"), "misbehaving-swallow")
    params = Parameters()
    params.add("a", value=1.0)
    # the scaled points move a towards 3, so the best point is not the start
    result = minimize(lambda p: np.array([p["a"].value - 3.0, 0.5]), params, engine="bad_swallow",
                      max_nfev=50)
    assert result.aborted and not result.success and result.nfev == 50
    assert "max_nfev=50" in result.message and params["a"].value > 1.0


def test_installed_plugins_kept_from_loading_are_listed_and_named_in_errors():
    code = ("import lmfit_host, numpy as np\n"
            "from lmfit_host import plugins\n"
            "print([(r.name, r.status) for r in plugins.list_plugins() if r.name == 'leastsq'])\n"
            "p = lmfit_host.Parameters(); p.add('a', 1.0)\n"
            "try:\n"
            "    lmfit_host.minimize(lambda q: np.array([q['a'].value, 1.0]), p)\n"
            "except lmfit_host.EngineNotFoundError as exc:\n"
            "    print(exc)\n")
    for env in ({"LMFIT_HOST_PLUGINS": "-LeastSq"}, {"LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD": "1"}):
        out = _run(code, env)
        assert out.returncode == 0, out.stderr
        variable = next(iter(env))
        assert "[('leastsq', 'blocked')]" in out.stdout
        assert "lmfit-host-leastsq, which provides it, is installed, not loaded: " + variable \
            in out.stdout
        assert "pip install" not in out.stdout


def test_this_projects_engine_names_stay_with_their_distributions(tmp_path):
    # a third-party distribution whose plugin sorts first and registers 'leastsq' and 'anneal'
    (tmp_path / "impostor_engines.py").write_text(
        "from lmfit_host import EngineResult, hookimpl\n"
        "class Engine:\n"
        "    description = 'impostor'\n"
        "    def __init__(self, name): self.name = name\n"
        "    def run(self, problem, **options):\n"
        "        return EngineResult(x=problem.x0, success=True, message='IMPOSTOR')\n"
        "@hookimpl\n"
        "def lmfit_host_register_engines(register):\n"
        "    register(Engine('leastsq')); register(Engine('anneal'))\n")
    _fake_distribution(tmp_path, "lmfit-host-impostor", "2.0", "aaa = impostor_engines")
    code = ("import warnings, json; warnings.simplefilter('always')\n"
            "from lmfit_host import plugins\n"
            "print(json.dumps([plugins.engine_source('leastsq')[0],\n"
            "                  plugins.engine_source('anneal')[0],\n"
            "                  {r.name: r.problems for r in plugins.list_plugins()}['aaa']]))\n")
    out = _run(code, {"LMFIT_HOST_PLUGINS": "-anneal"}, path=tmp_path)
    assert out.returncode == 0, out.stderr
    leastsq_from, anneal_from, problems = json.loads(out.stdout)
    assert leastsq_from == "lmfit-host-leastsq"  # the rightful owner takes its name back
    assert any("belongs to lmfit-host-leastsq" in problem for problem in problems)
    # with lmfit-host-anneal not loaded the third party runs 'anneal', with a warning
    assert anneal_from == "lmfit-host-impostor"
    assert "registers the engine name 'anneal', which is lmfit-host-anneal's" in out.stderr


def test_engine_names_a_minimizer_already_uses_are_refused(registered):
    from lmfit_host import Minimizer, minimizer
    params = Parameters()
    params.add("a", value=1.0)
    mini = Minimizer(lambda p: np.array([p["a"].value, 1.0]), params)
    # every public attribute of a Minimizer but its engine methods, and the statistics
    used = {name for name in dir(mini) if not name.startswith("_")} - {"leastsq", "anneal",
                                                                          "lbfgsb"}
    assert used | set(minimizer._SEED_STATISTICS) == set(plugins.MINIMIZER_NAMES)
    with pytest.warns(PluginWarning, match="engine name 'prepare_fit' is refused"):
        registered(_EnginePlugin("prepare_fit", "fine_engine"), "clashing-names")
        names = plugins.engine_names()
    assert "prepare_fit" not in names and "fine_engine" in names


class _DoublingPack:
    @hookimpl
    def lmfit_host_register_functions(self, register):
        register("doubled_late", lambda v: 2.0 * v)


def test_functions_registered_in_process_reach_parameters_made_before(registered):
    params = Parameters()
    params.add("a", value=1.5)
    params.add("b", value=0.5)
    registered(_DoublingPack(), "doubling-pack")
    params.add("d", expr="doubled_late(a)")
    assert params["d"].value == 3.0
