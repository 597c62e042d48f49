"""Tests for the lmfit-host command: fit, demo, plugins, engines, errors, plot and Ctrl-C.

End-to-end behaviour runs the command as a subprocess on files the tests
write; option parsing and messages are checked in-process through main().
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lmfit_host.cli import CliError, main, parse_param_spec

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# NIST StRD Misra1a: data, and certified values and standard deviations
MISRA1A_Y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40,
             75.47, 81.78]
MISRA1A_X = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1,
             689.1, 760.0]
MISRA1A_VALUES = {"b1": 2.3894212918e02, "b2": 5.5015643181e-04}
MISRA1A_STDERR = {"b1": 2.7070075241e00, "b2": 7.2668688436e-06}


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmfit_host", *args], capture_output=True,
                          text=True, timeout=timeout)


def write_decay(folder: Path, name: str = "decay.csv", sep: str = ",",
                header: bool = True) -> Path:
    x = np.linspace(0.0, 10.0, 41)
    y = 3.0 * np.exp(-x / 2.0) + 0.5
    lines = [f"t{sep}counts"] if header else []
    lines += [f"{a:.10g}{sep}{b:.17g}" for a, b in zip(x, y)]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def digits(value: float, reference: float) -> float:
    if value == reference:
        return 15.0
    return -np.log10(abs(value - reference) / abs(reference))


# -- end to end, as a subprocess ---------------------------------------------------------------------


def test_fit_json_gives_the_known_exponential_decay(tmp_path):
    path = write_decay(tmp_path)
    done = run("fit", str(path), "--model", "amp*exp(-t/tau) + c", "-p", "amp=1",
               "-p", "tau=1:min=0", "-p", "c=0", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    params = result["params"]
    assert params["amp"]["value"] == pytest.approx(3.0, rel=1e-7)
    assert params["tau"]["value"] == pytest.approx(2.0, rel=1e-7)
    assert params["c"]["value"] == pytest.approx(0.5, abs=1e-7)
    assert params["tau"]["min"] == 0 and params["tau"]["max"] is None
    assert result["independent_variable"] == "t"
    assert result["engine"]["name"] == "leastsq"
    assert result["success"] is True and result["interrupted"] is False
    assert result["statistics"]["ndata"] == 41 and result["statistics"]["nvarys"] == 3
    assert result["data"]["x"] == "1 ('t')" and result["data"]["y"] == "2 ('counts')"


def test_fit_json_matches_nist_misra1a_certified_values(tmp_path):
    path = tmp_path / "misra1a.txt"
    path.write_text("".join(f"{y}  {x}\n" for y, x in zip(MISRA1A_Y, MISRA1A_X)))
    done = run("fit", str(path), "--x", "2", "--y", "1", "--model", "b1*(1-exp(-b2*x))",
               "-p", "b1=500", "-p", "b2=1e-4", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for name, certified in MISRA1A_VALUES.items():
        assert digits(result["params"][name]["value"], certified) >= 6, name
    for name, certified in MISRA1A_STDERR.items():
        assert digits(result["params"][name]["stderr"], certified) >= 4, name
    assert result["statistics"]["chisqr"] == pytest.approx(1.2455138894e-01, rel=1e-6)
    corr = result["correl"]["b1"]["b2"]
    assert result["correl"]["b2"]["b1"] == pytest.approx(corr) and -1 <= corr <= 1


def test_fit_prints_a_report_naming_data_model_and_engine(tmp_path):
    path = write_decay(tmp_path, "decay.tsv", sep="\t")
    done = run("fit", str(path), "-m", "amp*exp(-t/tau) + c", "-p", "amp=1", "-p", "tau=1",
               "-p", "c=0")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "decay.tsv (41 points" in out
    assert "Model(amp*exp(-t/tau) + c)" in out
    assert "engine leastsq" in out
    assert "tau" in out and "R-squared" in out


def test_demo_fits_the_damped_sine_and_names_the_engine(tmp_path):
    done = run("demo", "--out", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (tmp_path / "damped_sine.csv").is_file()
    values = {name: entry["value"] for name, entry in result["params"].items()}
    truth = {"amp": 14.0, "period": 5.46, "shift": 0.123, "decay": 0.032}
    for name, true in truth.items():
        stderr = result["params"][name]["stderr"]
        assert abs(values[name] - true) < 5 * stderr, name
    assert result["engine"]["name"] == "leastsq"


def test_demo_text_report_names_the_engine_and_its_version(tmp_path):
    done = run("demo", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "lmfit-host demo: data written to" in done.stdout
    first = next(line for line in done.stdout.splitlines() if line.startswith("Fit with engine"))
    assert "leastsq" in first


def test_bad_data_error_names_file_line_and_column_without_traceback(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n2,3\n3,oops\n4,5\n")
    done = run("fit", str(path), "--model", "a*x + b")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad.csv, line 4, column 2 ('y')" in done.stderr
    assert "'oops' is not a number" in done.stderr


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = write_decay(tmp_path)
    png = tmp_path / "fit.png"
    done = run("fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=2", "-p", "tau=1",
               "-p", "c=0", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    content = png.read_bytes()
    assert content[:8] == PNG_SIGNATURE
    assert len(content) > 1024


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path):
    path = write_decay(tmp_path)
    code = textwrap.dedent(f"""
        import sys
        sys.modules['matplotlib'] = None   # as if it were not installed
        from lmfit_host.cli import main
        sys.exit(main(['fit', {str(path)!r}, '--model', 'a*x + b', '--plot',
                       {str(tmp_path / 'x.png')!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "pip install 'lmfit-host[plot]'" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_plugins_json_lists_the_engines_with_versions():
    done = run("plugins", "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    by_name = {record["name"]: record for record in records}
    assert "math" in by_name and "exp" in by_name["math"]["functions"]
    engines = {engine: record for record in records for engine in record["engines"]}
    assert "leastsq" in engines
    for record in records:
        assert set(record) >= {"name", "distribution", "version", "engines", "functions",
                               "status", "problems"}


def test_version_is_printed():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("lmfit-host ")


def test_ctrl_c_stops_a_long_fit_with_the_best_values_so_far(tmp_path):
    # a function pack whose function is slow, so the fit runs long enough to be interrupted
    x = np.linspace(0.0, 20.0, 60)
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{a},{3 * np.sin(a / 2.0) + 0.1 * a}\n" for a in x))
    code = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import lmfit_host
        from lmfit_host import plugins
        from lmfit_host.hookspecs import hookimpl

        def slow(v):
            time.sleep(0.03)
            return v

        class SlowPack:
            @hookimpl
            def lmfit_host_register_functions(self, register):
                register("slow", slow)

        plugins.register_plugin(SlowPack(), name="slowpack")
        sys.exit(lmfit_host.cli.main(['fit', {str(path)!r}, '--model',
                                      'slow(a*sin(x/p) + b*x + c)', '-p', 'a=1', '-p', 'p=1.5',
                                      '-p', 'b=0', '-p', 'c=0', '--progress', 'always',
                                      '--max-nfev', '100000']))
    """)
    child = subprocess.Popen([sys.executable, "-c", "import lmfit_host.cli\n" + code],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + 30
    while b"fitting:" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([child.stderr], [], [], 0.2)
        if ready:
            chunk = os.read(child.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    assert b"fitting:" in seen, seen.decode(errors="replace")
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    err = (seen + err).decode(errors="replace")
    out = out.decode()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted by Ctrl-C" in err
    assert "aborted" in out and "interrupted by the user (Ctrl-C)" in out
    assert "Parameters" in out and "a " in out


# -- in-process: options and messages ---------------------------------------------------------------


def test_parse_param_spec_reads_value_bounds_vary_and_expr():
    assert parse_param_spec("tau=2.5:min=0:max=10:vary=no") == (
        "tau", {"value": 2.5, "min": 0.0, "max": 10.0, "vary": False})
    assert parse_param_spec("c:expr=a if a > 0 else 0") == ("c", {"expr": "a if a > 0 else 0"})
    assert parse_param_spec("c=1:fixed") == ("c", {"value": 1.0, "vary": False})
    assert parse_param_spec("d=-inf:max=inf") == ("d", {"value": -np.inf, "max": np.inf})


def test_parse_param_spec_keeps_colons_inside_expr():
    assert parse_param_spec("s:expr=[1, 2, 3][1:2][0]") == ("s", {"expr": "[1, 2, 3][1:2][0]"})


@pytest.mark.parametrize("spec, message", [
    ("1a=3", "not a parameter name"),
    ("a=three", "value 'three' is not a number"),
    ("a=1:min=x", "min 'x' is not a number"),
    ("a=1:vary=maybe", "vary='maybe' must be yes or no"),
    ("a=1:mn=0", "'mn=0' is not understood"),
])
def test_parse_param_spec_errors_name_the_spec(spec, message):
    with pytest.raises(CliError, match=message):
        parse_param_spec(spec)


def test_columns_by_header_name(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,time,signal,err\n" + "".join(
        f"0,{t},{2 * t + 1},0.1\n" for t in range(10)))
    code = main(["fit", str(path), "--x", "time", "--y", "signal", "--sigma", "err",
                 "--model", "m*x + q", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["params"]["m"]["value"] == pytest.approx(2.0)
    assert result["data"]["sigma"] == "4 ('err')"


def test_rows_with_missing_values_are_dropped_with_a_count(tmp_path, capsys):
    path = write_decay(tmp_path)
    lines = path.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ","
    lines[9] = lines[9].split(",")[0] + ",NA"
    path.write_text("\n".join(lines) + "\n")
    code = main(["fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=1",
                 "-p", "tau=1", "-p", "c=0", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert "dropped 2 rows with missing or infinite values (lines 6, 10)" in captured.err
    result = json.loads(captured.out)
    assert result["data"]["dropped"] == 2 and result["statistics"]["ndata"] == 39


def test_nan_policy_raise_makes_a_missing_value_an_error(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,1\n2,\n3,3\n4,4\n")
    assert main(["fit", str(path), "--model", "a*x", "--nan-policy", "raise"]) == 2
    assert "d.csv, line 3, column 2 ('y')" in capsys.readouterr().err


def test_all_nan_column_is_an_error(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y,s\n1,1,\n2,2,NA\n3,3,\n")
    assert main(["fit", str(path), "--model", "a*x", "--sigma", "s"]) == 2
    assert "column 3 ('s') (sigma): no numeric values" in capsys.readouterr().err


def test_fewer_points_than_free_parameters_is_an_error(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,1\n2,2\n")
    assert main(["fit", str(path), "--model", "a*x*x + b*x + c"]) == 2
    assert "2 data rows, but the model has 3 free parameters (a, b, c)" in \
        capsys.readouterr().err


def test_fixed_parameters_do_not_count_as_free(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,3\n2,5\n")
    assert main(["fit", str(path), "--model", "a*x*x + b*x + c", "-p", "a=0:fixed",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["statistics"]["nvarys"] == 2
    assert result["params"]["b"]["value"] == pytest.approx(2.0)


def test_unstarted_parameters_start_at_one_with_a_note(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("".join(f"{x} {2 * x + 1}\n" for x in range(6)))
    assert main(["fit", str(path), "--model", "a*x + b", "--json"]) == 0
    captured = capsys.readouterr()
    assert "no start value for a, b: starting at 1" in captured.err
    assert json.loads(captured.out)["params"]["a"]["init_value"] == 1.0


def test_derived_parameter_from_p_expr(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=1",
                 "-p", "tau=1", "-p", "c=0", "-p", "rate:expr=1/tau", "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["rate"]["value"] == pytest.approx(0.5, rel=1e-7)
    assert params["rate"]["stderr"] is not None


def test_formula_parameters_named_like_functions_are_fitted(tmp_path, capsys):
    # read as values, not called, the names of functions (a pack's step, the builtin sum)
    # are parameters of the formula, as in lmfit's ExpressionModel
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{x},{3 * x + 0.5}\n" for x in range(8)))
    assert main(["fit", str(path), "--model", "sum*x + max", "-p", "half:expr=sum/2",
                 "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["sum"]["value"] == pytest.approx(3.0)
    assert params["max"]["value"] == pytest.approx(0.5)
    assert params["half"]["value"] == pytest.approx(1.5)


def test_unknown_parameter_in_p_is_an_error(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x", "-p", "b=1"]) == 2
    assert "the model has no parameter 'b' (parameters: a)" in capsys.readouterr().err


def test_model_without_the_independent_variable_is_an_error(tmp_path, capsys):
    path = write_decay(tmp_path, header=False)
    assert main(["fit", str(path), "--model", "a*t + b"]) == 2
    assert "does not use the independent variable x" in capsys.readouterr().err


def test_model_syntax_error_is_one_line(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x +"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lmfit-host: error:") and err.count("\n") == 1


def test_unknown_engine_is_an_error_naming_the_installed_ones(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x", "--engine", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no fitting engine named 'nosuch'" in err and "leastsq" in err


def test_demo_with_an_unknown_engine_fails_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--engine", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no fitting engine named 'nosuch'" in captured.err
    assert not out.exists()


def test_fit_engine_is_checked_before_the_data_file(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "none.csv"), "--model", "a*x", "--engine", "nosuch"]) == 2
    assert "no fitting engine named 'nosuch'" in capsys.readouterr().err


def test_fit_engine_may_be_spelled_as_lmfit_does(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "amp*exp(-t/tau) + c", "--engine", "LeastSq",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"]["name"] == "leastsq"


def test_missing_data_file_is_an_error(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "none.csv"), "--model", "a*x"]) == 2
    assert "no such data file" in capsys.readouterr().err


def test_max_nfev_stops_the_fit_with_the_best_values(tmp_path, capsys):
    path = write_decay(tmp_path)
    code = main(["fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=1",
                 "-p", "tau=1", "-p", "c=0", "--max-nfev", "5", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["aborted"] is True and result["success"] is False


def test_engine_options_pass_through(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=1",
                 "-p", "tau=1", "-p", "c=0", "-o", "xtol=1e-12", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["success"] is True


def test_bad_engine_option_format_is_an_error(tmp_path, capsys):
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x", "-o", "xtol"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_plugins_text_listing(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "math: lmfit-host" in out and "engines: " in out


def test_engines_listing(capsys):
    assert main(["engines", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "leastsq" in [row["name"] for row in rows]


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "fit" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    assert main(["fit"]) == 2


def test_engines_and_plugins_name_installed_plugins_kept_from_loading():
    env = dict(os.environ, LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD="1")
    engines = subprocess.run([sys.executable, "-m", "lmfit_host", "engines"], capture_output=True,
                             text=True, timeout=60, env=env)
    assert engines.returncode == 0, engines.stderr
    assert "no engines loaded; installed, not loaded: LMFIT_HOST_DISABLE_PLUGIN_AUTOLOAD=1" \
        in engines.stdout and "leastsq (lmfit-host-leastsq)" in engines.stdout
    listing = subprocess.run([sys.executable, "-m", "lmfit_host", "plugins"], capture_output=True,
                             text=True, timeout=60, env=env)
    assert "leastsq: lmfit-host-leastsq" in listing.stdout and "[blocked]" in listing.stdout


def test_plot_without_a_suffix_writes_and_names_a_png(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    path = write_decay(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(path), "--model", "amp*exp(-x/tau) + c", "-p", "amp=2",
                 "--plot", "fitplot", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["plot"] == str(tmp_path / "fitplot.png")
    assert (tmp_path / "fitplot.png").read_bytes()[:8] == PNG_SIGNATURE
    assert not (tmp_path / "fitplot").exists()


@pytest.mark.parametrize("target, message", [
    ("fit.xyz", "matplotlib cannot write '.xyz' files; use one of"),
    (".", "is a folder; give a file name such as"),
])
def test_a_plot_file_that_cannot_be_written_is_refused_before_the_fit(
        tmp_path, capsys, target, message):
    pytest.importorskip("matplotlib")
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x + b", "--plot",
                 str(tmp_path / target)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_a_plot_that_fails_to_save_keeps_the_report(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    def refuse(self, *args, **kws):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Figure, "savefig", refuse)
    path = write_decay(tmp_path)
    assert main(["fit", str(path), "--model", "a*x + b", "--plot",
                 str(tmp_path / "fit.png")]) == 2
    captured = capsys.readouterr()
    assert "Parameters" in captured.out and "Plot:" not in captured.out
    assert "cannot write the plot: Permission denied; the results above are complete" \
        in captured.err


@pytest.mark.parametrize("options, message", [
    (["--seed", "-1"], "--seed -1: give a seed of 0 or more"),
    (["--out", "FILE"], "is a file; give a folder for the demo's data file"),
])
def test_demo_refuses_a_bad_seed_or_folder_in_one_line(tmp_path, capsys, options, message):
    afile = tmp_path / "afile"
    afile.write_text("")
    options = [str(afile) if item == "FILE" else item for item in options]
    assert main(["demo", *options]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err


def test_a_typo_in_the_plugin_selection_shows_in_the_listings():
    env = dict(os.environ, LMFIT_HOST_PLUGINS="leastsqq")
    for command in ("plugins", "engines"):
        done = subprocess.run([sys.executable, "-m", "lmfit_host", command],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0
        assert "LMFIT_HOST_PLUGINS names 'leastsqq', which no installed plugin is called" \
            in done.stderr
    assert "specfun" not in done.stdout  # a function pack is no engine left out


def test_an_empty_plugin_selection_is_as_if_unset():
    env = dict(os.environ, LMFIT_HOST_PLUGINS="")
    done = subprocess.run([sys.executable, "-m", "lmfit_host", "engines"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 0 and "leastsq:" in done.stdout
    assert "not loaded" not in done.stdout


@pytest.mark.parametrize("args, message", [
    (["--model", "sin(x)"], "has no parameters to fit"),
    (["--model", "a*x + b", "-p", "a=nan"], "-p 'a=nan': the start value must be a number"),
    (["--model", "a*exp(-x/tau)+"], "in the model's formula: invalid syntax (the text ends "
                                    "too early, on line 1)"),
])
def test_formula_and_start_mistakes_are_told_in_the_commands_terms(tmp_path, capsys, args,
                                                                    message):
    assert main(["fit", str(write_decay(tmp_path)), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_model_undefined_at_a_data_row_names_the_line(tmp_path, capsys):
    path = tmp_path / "power.csv"
    path.write_text("x,y\n0,0\n1,5\n2,1.77\n4,0.63\n")
    assert main(["fit", str(path), "--model", "A*x**k", "-p", "A=1", "-p", "k=-1"]) == 2
    err = capsys.readouterr().err
    assert "is NaN or infinite at the start values on" in err and "line 2 (x = 0)" in err
    assert "warning" not in err  # numpy's divide-by-zero warning is not shown


def test_a_data_column_named_like_a_constant_is_the_independent_variable(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_text("e,y\n0.1,1.7\n0.5,1.0\n1,0.5\n2,0.12\n")
    assert main(["fit", str(path), "--model", "a*exp(-e/k)", "-p", "a=1", "-p", "k=1",
                 "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["params"]) == {"a", "k"}


def test_the_data_may_come_on_the_standard_input(tmp_path):
    text = write_decay(tmp_path).read_text()
    done = subprocess.run([sys.executable, "-m", "lmfit_host", "fit", "-", "--model",
                           "amp*exp(-x/tau) + c", "-p", "amp=2", "-p", "tau=1", "--json"],
                          input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["params"]["tau"]["value"] == pytest.approx(2.0, rel=1e-6)
