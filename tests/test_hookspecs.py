"""The plugin contract: hook specifications and the Engine protocol."""

import inspect

import lmfit_host
from lmfit_host import hookspecs


def test_every_hook_is_documented_for_plugin_authors():
    hooks = [name for name in dir(hookspecs) if name.startswith("lmfit_host_")]
    assert set(hooks) == {"lmfit_host_register_engines", "lmfit_host_register_functions"}
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "register" in doc and "Called once" in doc


def test_engine_protocol_recognises_a_conforming_object():
    class Engine:
        name = "mine"
        description = "an engine"

        def run(self, problem, **options):
            raise NotImplementedError

    assert isinstance(Engine(), hookspecs.Engine)
    assert not isinstance(object(), hookspecs.Engine)


def test_public_names_for_plugin_authors_are_exported():
    for name in ("hookimpl", "Engine", "FitProblem", "EngineResult", "EngineOptionError",
                 "ProblemError", "FitAborted", "LmfitHostError", "register_plugin"):
        assert hasattr(lmfit_host, name), name


def test_every_public_name_has_a_docstring():
    for name in lmfit_host.__all__:
        if name.startswith("__"):
            continue
        assert inspect.getdoc(getattr(lmfit_host, name)), name


def test_package_ships_py_typed():
    from pathlib import Path

    assert (Path(lmfit_host.__file__).parent / "py.typed").exists()
