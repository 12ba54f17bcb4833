"""Data-quality validation with Great Expectations (suites in `expectations/`).

Public API (used by the CLI and the Dagster checks):

- `validate_inputs(con, list_year) -> QualityResult`: register tables the year needs, coverage,
  boundaries, history.
- `validate_outputs(areas, prev_areas, rules=None, prev_lists=None) -> QualityResult`: the areas
  table of list year Y, checked against the rule set it was classified with, and its list counts
  against last year's (`prev_lists`: the lists `prev_areas` holds, None: all).
- `write_quality_report(results, out_dir) -> None`: `out_dir/index.html` (self-contained,
  renders offline) and `out_dir/summary.json`.
- `QualityResult.has_errors`, `QualityResult.error_line()`, `QualityResult.raise_for_errors()`.
"""

from importlib import import_module
from typing import TYPE_CHECKING

# Imported on first use (PEP 562): the submodules pull in pandas and Jinja, and a process that only
# starts the GX worker (pipeline.quality.gx_runner) or reads a stored result should not pay for them.
_EXPORTS = {
    "write_quality_report": "pipeline.quality.report",
    "ERROR": "pipeline.quality.result",
    "WARNING": "pipeline.quality.result",
    "INGESTION_SUITE": "pipeline.quality.result",
    "Outcome": "pipeline.quality.result",
    "QualityResult": "pipeline.quality.result",
    "validate_inputs": "pipeline.quality.validate",
    "validate_list_year_inputs": "pipeline.quality.validate",
    "validate_outputs": "pipeline.quality.validate",
    "validate_register": "pipeline.quality.validate",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from pipeline.quality.report import write_quality_report
    from pipeline.quality.result import ERROR, INGESTION_SUITE, WARNING, Outcome, QualityResult
    from pipeline.quality.validate import (
        validate_inputs,
        validate_list_year_inputs,
        validate_outputs,
        validate_register,
    )


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
