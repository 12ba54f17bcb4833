"""pipeline.quality.deferred: a deferred module runs once, on the first use of an attribute, and
every form of import binds it without running it."""

import importlib
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
