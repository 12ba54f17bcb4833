"""Modules whose code runs on first use instead of at import (for the GX worker process only).

Great Expectations imports every one of its core expectations when it is imported, among them
`expect_column_kl_divergence_to_be_less_than`, which imports `scipy.stats` and `altair` at module
level (about 1.2 s of the worker's 3.5 s start) although only that expectation and the
Kolmogorov-Smirnov metrics use them; our suites use neither. `defer("scipy.stats")` puts a
placeholder in `sys.modules`: `import scipy.stats` and `from scipy import stats` bind it without
running the module, and the first attribute looked up on it (`stats.entropy`, or
`from scipy.stats import norm`) imports the real module and answers from it from then on. So
nothing is lost if a future GX uses them: it only pays the import when it does.

The standard `importlib.util.LazyLoader` cannot do this in Python 3.11: its module loads on any
attribute read, and `import` itself reads the module's `__spec__`
(importlib._bootstrap._find_and_load). The placeholder is a plain module that carries the real
spec, `__file__`, `__loader__`, `__package__` and, for a package, `__path__` (so `find_spec`,
`inspect` and the import of a submodule work without loading it), and loads on the first other
attribute. Meant for a process that imports from one thread (the GX worker).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()


class Deferred(types.ModuleType):
    """The placeholder of a module not yet run; see `defer`."""

    def __getattr__(self, attr: str) -> Any:  # called only for attributes the placeholder lacks
        if attr.startswith("_deferred_"):
            raise AttributeError(attr)
        return getattr(_real(self), attr)

    def __dir__(self) -> list[str]:
        return dir(_real(self))


def _real(mod: Deferred) -> types.ModuleType:
    with _lock:
        real = mod.__dict__.get("_deferred_real")
        if real is not None:
            return real
        name, spec = mod.__name__, mod.__dict__["_deferred_spec"]
        real = importlib.util.module_from_spec(spec)
        sys.modules[name] = real
        spec._initializing = True  # as importlib marks a module being run
        try:
            spec.loader.exec_module(real)
        except BaseException:
            sys.modules[name] = mod
            raise
        finally:
            spec._initializing = False
        mod.__dict__["_deferred_real"] = real
        # submodules imported while the placeholder stood in for the package stay reachable
        for key, value in mod.__dict__.items():
            if isinstance(value, types.ModuleType) and key not in real.__dict__:
                setattr(real, key, value)
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, real)
        return real


def defer(name: str) -> bool:
    """Put a placeholder for module `name` in sys.modules (its parent packages are imported now).
    False when the module is already imported or not installed: then nothing changes."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return False
    mod = Deferred(name)
    mod.__dict__["_deferred_spec"] = spec
    mod.__spec__ = spec
    mod.__loader__ = spec.loader
    mod.__file__ = spec.origin
    mod.__package__ = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
    if spec.submodule_search_locations is not None:
        mod.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = mod
    return True


def is_loaded(name: str) -> bool:
    """Whether module `name` has really run (imported and not a placeholder still waiting)."""
    mod = sys.modules.get(name)
    return mod is not None and (not isinstance(mod, Deferred) or "_deferred_real" in mod.__dict__)
