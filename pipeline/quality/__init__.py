"""Data-quality validation with Great Expectations (suites in `expectations/`).

Public API (used by the CLI and the Dagster checks):

- `validate_inputs(con, list_year) -> QualityResult`: register tables the year needs, coverage,
  boundaries, history.
- `validate_outputs(areas, prev_areas) -> QualityResult`: the areas table of list year Y.
- `write_quality_report(results, out_dir) -> None`: `out_dir/index.html` (self-contained,
  renders offline) and `out_dir/summary.json`.
- `QualityResult.has_errors`, `QualityResult.error_line()`, `QualityResult.raise_for_errors()`.
"""

from pipeline.quality.report import write_quality_report
from pipeline.quality.result import ERROR, WARNING, Outcome, QualityResult
from pipeline.quality.validate import (
    validate_inputs,
    validate_list_year_inputs,
    validate_outputs,
    validate_register,
)

__all__ = [
    "ERROR",
    "WARNING",
    "Outcome",
    "QualityResult",
    "validate_inputs",
    "validate_list_year_inputs",
    "validate_outputs",
    "validate_register",
    "write_quality_report",
]
