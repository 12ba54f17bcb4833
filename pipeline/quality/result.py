"""The outcome of a validation: one `Outcome` per expectation evaluated, gathered in a `QualityResult`.

Everything here is an aggregate (a count, a share, a number of areas) or a public identifier of a
housing area: no person-level value is ever stored in an outcome.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.errors import QualityError

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)
# the suite of a load stopped by its own check (columns, types, keys, codes) before any suite ran
INGESTION_SUITE = "ingestion"


@dataclass(frozen=True)
class Outcome:
    suite: str  # the suite file in expectations/ (without .json)
    check: str  # the expectation's id, unique within its suite
    expectation_type: str
    severity: str  # "error" | "warning"
    success: bool
    table: str  # the input or output table the rule is about (bef, parcels.csv, areas.csv, ...)
    column: str | None
    year: int | None  # the data year of a register, the list year otherwise
    description: str
    observed: dict[str, Any] = field(default_factory=dict)  # aggregates only
    areas: tuple[str, ...] = ()  # ids of the housing areas that fail a per-area rule (public ids)

    @property
    def check_name(self) -> str:
        """The expectation's name across suites, `<suite>_<check>` (its line in the Dagster check
        `gx_<suite>` is `<check>`)."""
        return f"{self.suite}_{self.check}"

    def observed_text(self) -> str:
        o = self.observed
        if "exception" in o:
            return f"could not be evaluated ({o['exception']})"
        if "observed_value" in o:
            v = o["observed_value"]
            return f"observed {format_number(v)}"
        if "unexpected_count" in o:
            return f"{o['unexpected_count']} of {o.get('element_count', '?')} rows fail"
        if "skipped" in o:
            return f"skipped: {o['skipped']}"
        return ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["areas"] = list(self.areas)
        return d


def format_number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if v == v else "NaN"
    return str(v)


@dataclass
class QualityResult:
    """The outcomes of one or more suites. `has_errors` decides whether a run may publish."""

    outcomes: list[Outcome] = field(default_factory=list)

    def __add__(self, other: "QualityResult") -> "QualityResult":
        return QualityResult([*self.outcomes, *other.outcomes])

    def extend(self, other: "QualityResult") -> None:
        self.outcomes.extend(other.outcomes)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == ERROR]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == WARNING]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings)

    def error_line(self) -> str:
        """One line naming the table, column and year of the first error (counts only); "" if none."""
        if not self.errors:
            return ""
        return str(self.to_error())

    def to_error(self) -> QualityError | None:
        """The first error as a `QualityError` (raise it to stop a run), None when there is none."""
        if not self.errors:
            return None
        o = self.errors[0]
        more = len(self.errors) - 1
        tail = f" (+{more} more error{'s' if more != 1 else ''}, see quality/summary.json)" if more else ""
        if o.suite == INGESTION_SUITE:
            # a load stopped by its own check: its description is already the one line (file,
            # column, year, problem) the command printed; said once, not wrapped in a second
            return QualityError(o.description + tail)
        problem = (
            f"data-quality error in table {o.table}: {o.description}: {o.observed_text()}"
            f" [check {o.suite}.{o.check}]{tail}"
        )
        return QualityError(problem, column=o.column, year=o.year)

    def raise_for_errors(self) -> None:
        err = self.to_error()
        if err is not None:
            raise err

    def summary(self) -> dict[str, int]:
        return {
            "checks": len(self.outcomes),
            "passed": sum(o.success for o in self.outcomes),
            "failed_errors": len(self.errors),
            "failed_warnings": len(self.warnings),
        }


def result_to_json(result: QualityResult) -> str:
    """A QualityResult as JSON (aggregates only), to keep it in the warehouse between steps."""
    import json

    return json.dumps([o.as_dict() for o in result.outcomes], sort_keys=True)


def result_from_json(text: str) -> QualityResult:
    import json

    outcomes = []
    for d in json.loads(text):
        d = dict(d)
        d["areas"] = tuple(d.get("areas", ()))
        outcomes.append(Outcome(**d))
    return QualityResult(outcomes)
