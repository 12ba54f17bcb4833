"""A function the GX worker process can import and run (a script's own functions cannot be sent
to a spawned process): the process state that tests/test_process.py compares."""

from __future__ import annotations

import gc
import os


def state() -> dict:
    return {
        "nice": os.nice(0),
        "gc": list(gc.get_threshold()),
        "frozen": gc.get_freeze_count(),
        "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
