"""Publication outputs: the workbook (lists.xlsx), the HTML report (report.html) and the
comparison of two runs (`boliglister compare`).

The public functions are imported lazily (matplotlib and xlsxwriter load only when used)."""

from __future__ import annotations

import importlib

_WHERE = {
    "read_areas_csv": "pipeline.publish.common",
    "write_workbook": "pipeline.publish.workbook",
    "write_report": "pipeline.publish.report",
    "compare_runs": "pipeline.publish.compare",
    "write_compare": "pipeline.publish.compare",
    "format_compare": "pipeline.publish.compare",
    "run_compare": "pipeline.publish.compare",
    "default_compare_path": "pipeline.publish.compare",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pipeline.publish' has no attribute {name!r}")
