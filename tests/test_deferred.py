"""pipeline.quality.deferred: a deferred module runs once, on the first use of an attribute, and
every form of import binds it without running it."""

import importlib
import importlib.util
import sys

import pytest

from pipeline.quality.deferred import defer, is_loaded

PACKAGE = "deferred_probe_pkg"


@pytest.fixture
def package(tmp_path, monkeypatch):
    root = tmp_path / PACKAGE
    root.mkdir()
    (root / "__init__.py").write_text("RUNS = []\n")
    (root / "heavy.py").write_text(
        f"import {PACKAGE}\n{PACKAGE}.RUNS.append('heavy')\nVALUE = 42\n\ndef double(x):\n    return 2 * x\n"
    )
    sub = root / "parts"  # a package with a submodule
    sub.mkdir()
    (sub / "__init__.py").write_text(f"import {PACKAGE}\n{PACKAGE}.RUNS.append('parts')\nfrom .leaf import LEAF\n")
    (sub / "leaf.py").write_text(f"import {PACKAGE}\n{PACKAGE}.RUNS.append('leaf')\nLEAF = 'leaf'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{PACKAGE}.heavy"
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_imports_bind_without_running_and_first_use_runs_once(package):
    assert defer(package)
    pkg = importlib.import_module(PACKAGE)
    import deferred_probe_pkg.heavy as heavy  # noqa: PLC0415
    from deferred_probe_pkg import heavy as heavy_too  # noqa: PLC0415

    assert pkg.RUNS == [] and not is_loaded(package)
    assert heavy.VALUE == 42 and heavy.double(4) == 8
    assert heavy_too.VALUE == 42
    from deferred_probe_pkg.heavy import double  # noqa: PLC0415

    assert double(5) == 10
    assert pkg.RUNS == ["heavy"] and is_loaded(package)  # ran exactly once
    assert sys.modules[package] is not heavy  # the real module took its place
    with pytest.raises(AttributeError):
        heavy.missing  # noqa: B018 - an unknown attribute is still an AttributeError


def test_nothing_changes_for_an_imported_or_missing_module(package):
    importlib.import_module(package)
    assert not defer(package)  # already imported: left as it is
    assert not defer(f"{PACKAGE}.not_there")
    assert is_loaded(package)


def test_spec_file_and_submodules_without_running_the_package(package):
    name = f"{PACKAGE}.parts"
    assert defer(name)
    pkg = importlib.import_module(PACKAGE)
    parts = sys.modules[name]
    assert importlib.util.find_spec(name) is parts.__spec__  # find_spec and __file__ answer at once
    assert parts.__file__.endswith("__init__.py") and pkg.RUNS == []
    leaf = importlib.import_module(f"{name}.leaf")  # a submodule first: runs once, the package not yet
    assert pkg.RUNS == ["leaf"] and leaf.LEAF == "leaf"
    assert parts.LEAF == "leaf"  # first use: the package runs, its submodule is not run again
    assert pkg.RUNS == ["leaf", "parts"] and sys.modules[f"{name}.leaf"] is leaf
    assert sys.modules[name].leaf is leaf
