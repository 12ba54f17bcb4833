"""How often Python's cyclic garbage collector runs in the command's processes.

A run allocates millions of short-lived Python objects while it imports Dagster, pandas, GX and
matplotlib and while Dagster handles its events; with CPython 3.11's default threshold (a young
collection every 700 net allocations, and a full one whenever the old generation has grown by a
quarter) the collector walks the growing heap over and over. The data itself lives in DuckDB,
not in Python objects, so collecting less often frees the same cycles a little later and costs
only a few megabytes. Measured in docs/PERFORMANCE.md (eighteenth session).
"""

from __future__ import annotations

import gc

# a young collection every 50,000 net allocations instead of 700; the older generations after
# 50 and 100 younger collections instead of 10 and 10
THRESHOLDS = (50_000, 50, 100)


def collect_less_often() -> None:
    """Raise the collector's thresholds for this process (the command and the GX worker)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_imported() -> None:
    """Move every object alive now (modules, classes, functions just imported) out of the
    collector's reach: later full collections no longer walk them. For a process that has done
    its imports and keeps them to the end."""
    gc.collect()
    gc.freeze()
